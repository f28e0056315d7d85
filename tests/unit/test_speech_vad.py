import json
import wave
from importlib import resources

import numpy as np
import numpy.typing as npt
import pytest

from voicepilot.engine.speech.vad import ServerVad, SpeechStarted, SpeechStopped, VadEvent, speech_level_dbfs

RATE = 16_000
CHUNK = 320  # 20 ms, as the engine feeds it


def silence(ms: int) -> npt.NDArray[np.int16]:
    return np.zeros(ms * RATE // 1000, dtype=np.int16)


def tone(ms: int, level_dbfs: float = -20.0) -> npt.NDArray[np.int16]:
    t = np.arange(ms * RATE // 1000) / RATE
    amplitude = 32768 * 10 ** (level_dbfs / 20) * np.sqrt(2)  # RMS of a sine is amplitude / sqrt(2)
    samples: npt.NDArray[np.int16] = (np.sin(2 * np.pi * 440 * t) * amplitude).astype(np.int16)
    return samples


def run(vad: ServerVad, samples: npt.NDArray[np.int16], chunk: int = CHUNK) -> list[VadEvent]:
    events: list[VadEvent] = []
    for start in range(0, samples.size, chunk):
        events += vad.feed(samples[start : start + chunk])
    return events


def test_tone_bursts_give_one_utterance_each() -> None:
    stream = np.concatenate([silence(1000), tone(800), silence(1000), tone(400), silence(700)])
    events = run(ServerVad(), stream)
    assert [type(event) for event in events] == [SpeechStarted, SpeechStopped] * 2
    first_start, first_stop, second_start, second_stop = events
    assert isinstance(first_start, SpeechStarted)
    assert isinstance(second_start, SpeechStarted)
    assert isinstance(first_stop, SpeechStopped)
    assert isinstance(second_stop, SpeechStopped)
    # starts include the 300 ms prefix padding; stops come after 500 ms of silence
    assert first_start.audio_start_ms == pytest.approx(1000 - 300, abs=10)
    assert first_stop.audio_end_ms == pytest.approx(1800 + 500, abs=10)
    assert second_start.audio_start_ms == pytest.approx(2800 - 300, abs=10)
    assert second_stop.audio_end_ms == pytest.approx(3200 + 500, abs=10)


def test_utterance_audio_spans_prefix_padding_to_end_of_speech() -> None:
    burst = tone(600)
    stream = np.concatenate([silence(1000), burst, silence(1000)])
    events = run(ServerVad(prefix_padding_ms=250), stream)
    stop = events[-1]
    assert isinstance(stop, SpeechStopped)
    audio = np.frombuffer(stop.audio, dtype=np.int16)
    prefix = 250 * RATE // 1000
    assert not audio[:prefix].any()  # the padding is the silence before the speech
    assert np.array_equal(audio[prefix : prefix + burst.size], burst)
    trailing_ms = (audio.size - prefix - burst.size) * 1000 // RATE
    assert 0 < trailing_ms <= 250


def test_prefix_padding_cannot_reach_before_the_stream() -> None:
    events = run(ServerVad(prefix_padding_ms=300), np.concatenate([silence(100), tone(500), silence(600)]))
    start = events[0]
    assert isinstance(start, SpeechStarted)
    assert start.audio_start_ms == 0


@pytest.mark.parametrize("samples", [silence(3000), tone(50), np.concatenate([tone(50), silence(200), tone(50)])])
def test_silence_and_short_blips_give_nothing(samples: npt.NDArray[np.int16]) -> None:
    vad = ServerVad()
    assert run(vad, np.concatenate([silence(500), samples, silence(1000)])) == []
    assert vad.flush() == []


def test_a_short_dip_does_not_split_a_word() -> None:
    stream = np.concatenate([silence(500), tone(300), silence(30), tone(300), silence(800)])
    events = run(ServerVad(silence_duration_ms=200), stream)
    assert [type(event) for event in events] == [SpeechStarted, SpeechStopped]


def test_silence_duration_decides_where_utterances_split() -> None:
    stream = np.concatenate([silence(500), tone(400), silence(350), tone(400), silence(800)])
    assert len(run(ServerVad(silence_duration_ms=500), stream)) == 2
    assert len(run(ServerVad(silence_duration_ms=200), stream)) == 4


def test_threshold_sets_the_speech_level() -> None:
    quiet = np.concatenate([silence(500), tone(500, level_dbfs=-50.0), silence(800)])
    assert run(ServerVad(threshold=0.5), quiet) == []  # 0.5 means louder than -45 dBFS
    assert len(run(ServerVad(threshold=0.1), quiet)) == 2
    assert speech_level_dbfs(0.5) == pytest.approx(-45.0)
    assert speech_level_dbfs(0.9) > speech_level_dbfs(0.5) > speech_level_dbfs(0.1)
    with pytest.raises(ValueError, match="threshold"):
        ServerVad(threshold=1.5)


def test_chunk_size_does_not_change_the_result() -> None:
    stream = np.concatenate([silence(700), tone(500), silence(900)])
    expected = run(ServerVad(), stream, chunk=320)
    assert expected
    for chunk in (1, 77, 160, 4096, stream.size):
        assert run(ServerVad(), stream, chunk=chunk) == expected


def test_endless_speech_is_cut_into_bounded_utterances() -> None:
    events = run(ServerVad(), np.concatenate([silence(500), tone(31_000), silence(800)]))
    assert [type(event) for event in events] == [SpeechStarted, SpeechStopped] * 2
    first_stop = events[1]
    assert isinstance(first_stop, SpeechStopped)
    assert first_stop.audio_end_ms == 200 + 30_000
    assert len(first_stop.audio) == 30_000 * RATE // 1000 * 2


def test_flush_ends_the_utterance_in_progress() -> None:
    vad = ServerVad()
    events = run(vad, np.concatenate([silence(500), tone(400)]))
    assert [type(event) for event in events] == [SpeechStarted]
    (stop,) = vad.flush()
    assert isinstance(stop, SpeechStopped)
    assert stop.audio_end_ms == 900
    assert len(stop.audio) == (300 + 400) * RATE // 1000 * 2
    assert vad.flush() == []


def test_reset_drops_the_utterance_but_keeps_the_clock() -> None:
    vad = ServerVad()
    run(vad, np.concatenate([silence(500), tone(400)]))
    vad.reset()
    assert vad.flush() == []
    events = run(vad, np.concatenate([silence(1000), tone(400), silence(600)]))
    start = events[0]
    assert isinstance(start, SpeechStarted)
    assert start.audio_start_ms == pytest.approx(900 + 1000 - 300, abs=10)


def test_bundled_sample_has_four_utterances_where_listed() -> None:
    samples = resources.files("voicepilot") / "samples"
    listing = json.loads((samples / "commands.json").read_text(encoding="utf-8"))
    with wave.open(str(samples / "commands.wav")) as audio:
        assert audio.getframerate() == RATE
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16)
    events = run(ServerVad(), pcm)
    starts = [event for event in events if isinstance(event, SpeechStarted)]
    stops = [event for event in events if isinstance(event, SpeechStopped)]
    assert len(starts) == len(stops) == len(listing["utterances"]) == 4
    for start, stop, utterance in zip(starts, stops, listing["utterances"], strict=True):
        speech_from, speech_to = start.audio_start_ms + 300, stop.audio_end_ms - 500
        # the detected speech lies inside the synthesised clip and covers most of it
        assert utterance["start_ms"] <= speech_from < speech_to <= utterance["end_ms"]
        assert speech_to - speech_from > 0.6 * (utterance["end_ms"] - utterance["start_ms"])
