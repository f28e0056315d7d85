"""Opus encoded on the loop: packets aiortc can send as they are, on the track's own clock, and cheap
frame helpers that give the same answers as the obvious numpy."""

from __future__ import annotations

import itertools

import av
import numpy as np
import pytest
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

from tests.unit.audio_fakes import ToneSource
from voicepilot.audio.frames import FRAME_SAMPLES, TIME_BASE, Pcm, frame_to_mono, make_frame, rms_dbfs
from voicepilot.audio.opus import (
    BITRATE,
    SILENT_RUN,
    OpusEncodedTrack,
    opus_packet_ms,
    repeated_frame,
    silence_packets_per_packet,
    voice_decoder,
    voice_encoder,
)
from voicepilot.audio.tracks import PacedAudioTrack


async def test_the_encoded_track_gives_one_packet_per_frame_on_the_frame_clock() -> None:
    inner = PacedAudioTrack(ToneSource())
    track = OpusEncodedTrack(inner)
    packets = [await track.recv() for _ in range(50)]
    assert all(isinstance(p, av.Packet) for p in packets)
    assert [p.pts for p in packets] == [i * FRAME_SAMPLES for i in range(50)]
    assert all(p.time_base == TIME_BASE for p in packets)
    # Mono voice at 32 kbit/s: about 80 bytes a packet (aiortc's own encoder: ~190, stereo 96 kbit/s).
    sizes = [len(bytes(p)) for p in packets[5:]]
    assert max(sizes) <= BITRATE / 8 * 0.02 * 1.5
    decoder = OpusDecoder()
    decoded = [frame_to_mono(f) for i, p in enumerate(packets) for f in decoder.decode(JitterFrame(bytes(p), i * 960))]  # type: ignore[arg-type]
    assert len(decoded) == 50
    assert rms_dbfs(np.concatenate(decoded[10:])) == pytest.approx(rms_dbfs(ToneSource().next_frame()), abs=1.5)


async def test_stopping_the_encoded_track_stops_the_inner_one_and_ends_recv() -> None:
    inner = PacedAudioTrack(ToneSource())
    track = OpusEncodedTrack(inner)
    await track.recv()
    track.stop()
    assert inner.readyState == "ended"
    with pytest.raises(MediaStreamError):
        await track.recv()


def test_frame_to_mono_averages_the_channels_without_overflow() -> None:
    stereo = np.array([[100, -100, 32767, 32767, -32768, -32768, 5, 8]], dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
    assert frame_to_mono(frame).tolist() == [0, 32767, -32768, 6]
    mono = make_frame(np.array([1, 2, 3], dtype=np.int16), 0)
    assert frame_to_mono(mono).tolist() == [1, 2, 3]


@pytest.mark.parametrize("amplitude", [1, 100, 16384, 32767])
def test_rms_dbfs_matches_the_definition(amplitude: int) -> None:
    samples = (np.sign(np.sin(np.arange(960))) * amplitude).astype(np.int16)
    expected = 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) / 32768)
    assert rms_dbfs(samples) == pytest.approx(expected, abs=0.01)
    assert rms_dbfs(np.zeros(0, dtype=np.int16)) == -120.0


class SpeechThenSilence:
    """A tone for ``speech`` frames, then silence (None: the paced track sends zeros), then a tone."""

    def __init__(self, speech: int, silence: int) -> None:
        self.tone = ToneSource()
        self.frames = 0
        self.speech = speech
        self.silence = silence

    def next_frame(self) -> Pcm | None:
        self.frames += 1
        if self.speech < self.frames <= self.speech + self.silence:
            return None
        return self.tone.next_frame()


async def test_silence_is_encoded_until_the_encoder_settles_then_its_packet_is_reused() -> None:
    track = OpusEncodedTrack(PacedAudioTrack(SpeechThenSilence(speech=5, silence=20)))
    packets = [await track.recv() for _ in range(30)]
    assert track.frames_encoded == 5 + SILENT_RUN + 5  # the tone, the encoder settling, the tone again
    assert track.silent_frames_reused == 20 - SILENT_RUN
    reused = {bytes(p) for p in packets[5 + SILENT_RUN : 25]}
    assert len(reused) == 1  # the same comfort-silence packet
    assert [p.pts for p in packets] == [i * FRAME_SAMPLES for i in range(30)]  # the clock goes on
    decoder = OpusDecoder()
    decoded = [frame_to_mono(f) for i, p in enumerate(packets) for f in decoder.decode(JitterFrame(bytes(p), i * 960))]  # type: ignore[arg-type]
    assert max(int(np.abs(frame).max()) for frame in decoded[5 + SILENT_RUN + 2 : 25]) < 50  # silence, decoded
    assert rms_dbfs(np.concatenate(decoded[27:])) > -20  # and the tone after it is back


async def test_packets_of_two_frames_carry_40_ms_each_on_the_frame_clock() -> None:
    track = OpusEncodedTrack(PacedAudioTrack(ToneSource()), frames_per_packet=2)
    packets = [await track.recv() for _ in range(25)]
    assert [p.pts for p in packets] == [i * 2 * FRAME_SAMPLES for i in range(25)]
    assert track.frames_encoded == 50
    decoder = OpusDecoder()
    decoded = [frame_to_mono(f) for i, p in enumerate(packets) for f in decoder.decode(JitterFrame(bytes(p), i * 1920))]  # type: ignore[arg-type]
    assert [len(samples) for samples in decoded] == [2 * FRAME_SAMPLES] * 25  # one 40 ms Opus frame each
    assert rms_dbfs(np.concatenate(decoded[5:])) == pytest.approx(rms_dbfs(ToneSource().next_frame()), abs=1.5)


async def test_a_silent_run_in_two_frame_packets_reuses_one_packet_and_the_tone_comes_back() -> None:
    track = OpusEncodedTrack(PacedAudioTrack(SpeechThenSilence(speech=4, silence=24)), frames_per_packet=2)
    packets = [await track.recv() for _ in range(16)]  # 32 frames: 4 of tone, 24 silent, 4 of tone
    settled = -(-SILENT_RUN // 2)  # packets of silence encoded before the encoder has settled
    assert track.frames_encoded == 2 * (2 + settled + 2)
    assert track.silent_frames_reused == 24 - 2 * settled
    assert len({bytes(p) for p in packets[2 + settled : 14]}) == 1
    assert [p.pts for p in packets] == [i * 2 * FRAME_SAMPLES for i in range(16)]
    decoder = OpusDecoder()
    decoded = [frame_to_mono(f) for i, p in enumerate(packets) for f in decoder.decode(JitterFrame(bytes(p), i * 1920))]  # type: ignore[arg-type]
    assert rms_dbfs(np.concatenate(decoded[15:])) > -20


class ScriptedPcm:
    """Frames as fast as they are asked for: ``True`` for a frame of tone, ``False`` for digital silence."""

    def __init__(self, script: list[bool]) -> None:
        self.script = script
        self.tone = ToneSource()
        self.pulled = 0

    async def next_pcm(self) -> tuple[Pcm, int]:
        if self.pulled >= len(self.script):
            raise MediaStreamError
        sound = self.script[self.pulled]
        self.pulled += 1
        samples = self.tone.next_frame() if sound else np.zeros(FRAME_SAMPLES, dtype=np.int16)
        return samples, (self.pulled - 1) * FRAME_SAMPLES

    def stop(self) -> None:
        pass


def decoded_samples(packets: list[av.Packet]) -> list[np.ndarray]:
    decoder = voice_decoder()
    return [frame_to_mono(f) for p in packets for f in decoder.decode(av.Packet(bytes(p)))]


async def test_reused_silence_leaves_in_60_ms_packets_and_the_sound_after_it_at_once() -> None:
    # 4 frames of tone, 16 silent (5 encoded while the encoder settles, then 11 reused: 3 packets of
    # three frames and 2 frames held when the tone comes back), then 4 of tone.
    stream = ScriptedPcm([True] * 4 + [False] * 16 + [True] * 4)
    track = OpusEncodedTrack(stream, silence_packet_ms=60)
    packets = [await track.recv() for _ in range(4 + SILENT_RUN + 3)]
    assert stream.pulled == 4 + SILENT_RUN + 9
    reused = packets[4 + SILENT_RUN :]
    assert [opus_packet_ms(bytes(p)) for p in reused] == [60.0] * 3
    assert len({bytes(p) for p in reused}) == 1
    assert bytes(reused[0])[0] & 0x3 == 3  # code 3: several frames
    assert bytes(reused[0])[1] == 3  # three of them, of one size

    held = await track.recv()  # the tone's first frame ends the silence: the two held frames leave
    assert opus_packet_ms(bytes(held)) == 40.0
    pulled = stream.pulled
    with pytest.raises(StopIteration) as returned:
        track.recv().send(None)  # returns without awaiting anything: encoded when the silence left
    sound = returned.value.value
    assert stream.pulled == pulled
    packets += [held, sound] + [await track.recv() for _ in range(3)]
    assert [opus_packet_ms(bytes(p)) for p in packets[-4:]] == [20.0] * 4
    # The clock goes on across packets of any length, and the decoder gives back every sample.
    starts = list(itertools.accumulate((int(opus_packet_ms(bytes(p))) * 48 for p in packets[:-1]), initial=0))
    assert [p.pts for p in packets] == starts
    decoded = decoded_samples(packets)
    assert sum(frame.size for frame in decoded) == 24 * FRAME_SAMPLES
    assert max(int(np.abs(frame).max()) for frame in decoded[4 + SILENT_RUN + 2 : -4]) < 50
    assert rms_dbfs(np.concatenate(decoded[-3:])) > -20
    assert track.frames_encoded == 4 + SILENT_RUN + 4
    assert track.silent_frames_reused == 16 - SILENT_RUN


def test_a_repeated_frame_is_one_valid_opus_packet_of_that_many_frames() -> None:
    one = bytes(voice_encoder().encode(make_frame(np.zeros(FRAME_SAMPLES, dtype=np.int16), 0))[0])
    assert one[0] & 0x3 == 0
    for count in (1, 2, 3, 6):
        packet = repeated_frame(one, count)
        assert opus_packet_ms(packet) == 20.0 * count
        assert sum(f.samples for f in voice_decoder().decode(av.Packet(packet))) == count * FRAME_SAMPLES
    assert silence_packets_per_packet(one, 60) == 3
    assert silence_packets_per_packet(one, 500) == 6  # never past the 120 ms an Opus packet may hold
    assert silence_packets_per_packet(one, 0) == 1
    assert silence_packets_per_packet(repeated_frame(one, 2), 60) == 1  # already several frames
    assert silence_packets_per_packet(one[:1], 60) == 1  # no frame data to repeat


async def test_a_lower_limit_set_later_sends_each_silent_frame_in_its_own_packet() -> None:
    track = OpusEncodedTrack(ScriptedPcm([True] * 2 + [False] * 12), silence_packet_ms=60)
    track.silence_packet_ms = 20  # the service's answer said a=maxptime:20
    packets = [await track.recv() for _ in range(14)]
    assert [opus_packet_ms(bytes(p)) for p in packets] == [20.0] * 14
    assert track.silent_frames_reused == 12 - SILENT_RUN


async def test_lowering_the_limit_while_silence_is_reused_takes_effect_at_once() -> None:
    track = OpusEncodedTrack(ScriptedPcm([True] * 2 + [False] * 20), silence_packet_ms=60)
    packets = [await track.recv() for _ in range(2 + SILENT_RUN + 1)]
    assert opus_packet_ms(bytes(packets[-1])) == 60.0
    track.silence_packet_ms = 0
    packets = [await track.recv() for _ in range(4)]
    assert [opus_packet_ms(bytes(p)) for p in packets] == [20.0] * 4
