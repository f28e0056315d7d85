"""The speaker's ring buffer and playout rules, without a sound card."""

from __future__ import annotations

import av
import numpy as np
import pytest

from tests.unit.audio_fakes import FakeSounddevice, device, dominant_hz, tone
from voicepilot.audio import playback
from voicepilot.audio.devices import find_device
from voicepilot.audio.frames import FRAME_SAMPLES
from voicepilot.audio.playback import Ring, Speaker


def test_ring_wraps_around_and_drops_the_oldest_when_full() -> None:
    ring = Ring(10)
    assert ring.write(np.arange(6, dtype=np.int16)) == 0
    out = np.zeros(4, dtype=np.int16)
    assert ring.read(out, 4) == 4
    assert list(out) == [0, 1, 2, 3]
    assert ring.write(np.arange(6, 14, dtype=np.int16)) == 0  # wraps
    assert ring.write(np.arange(14, 17, dtype=np.int16)) == 3  # full: 3 oldest dropped
    out = np.zeros(10, dtype=np.int16)
    assert ring.read(out, 20) == 10
    assert list(out) == list(range(7, 17))
    assert ring.write(np.arange(25, dtype=np.int16)) == 15  # larger than the ring: only the newest fit


async def open_speaker(fake: FakeSounddevice, rate: float = 48_000.0, **options: int) -> Speaker:
    fake.devices[1] = device("Speakers", 0, 2, rate)
    speaker = Speaker(find_device("output", None), **options)
    await speaker.open()
    return speaker


async def test_waits_for_the_prefill_then_plays_then_counts_an_underrun(fake_sd: FakeSounddevice) -> None:
    speaker = await open_speaker(fake_sd, prefill_ms=30)
    stream = fake_sd.last("output")
    assert (stream.samplerate, stream.channels, stream.blocksize) == (48_000, 1, 480)  # 10 ms blocks
    speaker.write(np.full(FRAME_SAMPLES, 1000, dtype=np.int16))  # 20 ms: below the 30 ms prefill
    assert not stream.render(960).any()
    speaker.write(np.full(FRAME_SAMPLES, 1000, dtype=np.int16))  # 40 ms buffered
    assert (stream.render(960) == 1000).all()
    assert speaker.underruns == 0
    played = stream.render(960)  # 20 ms left, then dry
    assert (played == 1000).all()
    short = stream.render(960)
    assert not short.any()
    assert speaker.underruns == 1
    await speaker.close()


async def test_flush_stops_playback_within_one_callback(fake_sd: FakeSounddevice) -> None:
    speaker = await open_speaker(fake_sd)
    stream = fake_sd.last("output")
    for _ in range(10):
        speaker.write(tone(440, FRAME_SAMPLES, 48_000))
    assert stream.render(960).any()
    assert speaker.audible()
    speaker.flush()
    assert not stream.render(960).any()
    assert speaker.buffered_ms == 0
    assert not speaker.audible()
    assert speaker.underruns == 0  # a flush is not an underrun
    await speaker.close()


async def test_after_a_flush_audio_still_on_its_way_is_held_back_until_the_remote_is_quiet(
    fake_sd: FakeSounddevice,
) -> None:
    speaker = await open_speaker(fake_sd)
    speech = tone(300, FRAME_SAMPLES, 48_000)
    speaker.write(speech)
    speaker.flush()
    for _ in range(4):  # the reply's last frames, sent before the service cleared its buffer
        speaker.write(speech)
    assert speaker.buffered_ms == 0
    assert speaker.frames_suppressed == 4
    for _ in range(playback.QUIET_FRAMES):  # then the remote track goes quiet
        speaker.write(np.zeros(FRAME_SAMPLES, dtype=np.int16))
    speaker.write(speech)  # and what comes next is played
    assert speaker.buffered_ms == 40  # the quiet frame that ended the hold, and the speech
    speaker.flush()
    speaker.write(speech)
    assert speaker.buffered_ms == 0
    speaker.resume()  # a new reply starts
    speaker.write(speech)
    assert speaker.buffered_ms == 20
    await speaker.close()


async def test_excess_latency_goes_at_the_next_pause_and_no_speech_is_cut(fake_sd: FakeSounddevice) -> None:
    speaker = await open_speaker(fake_sd, prefill_ms=30, trim_margin_ms=60)
    speech = tone(300, FRAME_SAMPLES, 48_000)
    for _ in range(6):  # a burst: 120 ms of speech at once, above the 90 ms high-water mark
        speaker.write(speech)
    assert speaker.buffered_ms == 120  # all of it is kept
    speaker.write(np.zeros(FRAME_SAMPLES, dtype=np.int16))  # a pause: skipped while over the mark
    assert speaker.buffered_ms == 120
    assert speaker.samples_trimmed == FRAME_SAMPLES
    fake_sd.last("output").render(960 * 2)  # 40 ms played: 80 ms left, under the mark
    speaker.write(np.zeros(FRAME_SAMPLES, dtype=np.int16))  # silence is kept again
    assert speaker.buffered_ms == 100
    await speaker.close()


async def test_never_holds_more_than_max_ms(fake_sd: FakeSounddevice) -> None:
    speaker = await open_speaker(fake_sd, max_ms=100)
    for _ in range(8):
        speaker.write(tone(300, FRAME_SAMPLES, 48_000))
    assert speaker.buffered_ms == 100
    assert speaker.samples_dropped == 60 * 48
    await speaker.close()


async def test_remote_stereo_frames_are_mixed_down_and_resampled_to_the_device_rate(
    fake_sd: FakeSounddevice,
) -> None:
    speaker = await open_speaker(fake_sd, 44_100.0, prefill_ms=0)
    stream = fake_sd.last("output")
    assert stream.blocksize == 441
    mono = tone(660, 48_000, 48_000)
    for i in range(50):  # what aiortc delivers: s16 packed stereo, 960 samples
        chunk = mono[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
        stereo = np.repeat(chunk, 2).reshape(1, -1)
        speaker.write_frame(av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo"))
    out = np.concatenate([stream.render(882) for _ in range(45)])
    assert dominant_hz(out, 44_100) == pytest.approx(660, abs=2)
    await speaker.close()
