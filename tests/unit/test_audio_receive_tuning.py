"""aiortc's audio receivers tuned: the low-latency buffer and Opus decoded on the loop, checked on a
real peer connection pair on loopback, and the decoder stand-in on its own."""

from __future__ import annotations

import asyncio
import queue
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

from tests.unit.audio_fakes import ToneSource
from voicepilot.audio import aiortc_hooks
from voicepilot.audio.aiortc_hooks import DecoderQueue
from voicepilot.audio.frames import (
    FRAME_SAMPLES,
    SILENCE,
    TIME_BASE,
    frame_to_mono,
    make_frame,
    rms_dbfs,
    silent_frame,
)
from voicepilot.audio.inline_decode import QUIET_PEAK, SPOT_CHECK_STRIDE, InlineOpusDecoder, _is_quiet
from voicepilot.audio.jitter import LowLatencyAudioBuffer
from voicepilot.audio.opus import OpusEncodedTrack, opus_packet_ms, repeated_frame, voice_encoder
from voicepilot.audio.receive_tuning import tune_audio_receivers
from voicepilot.audio.tracks import PacedAudioTrack
from voicepilot.realtime.ice import loopback_ice

OPUS = SimpleNamespace(name="opus")


def tone_packets(count: int) -> list[bytes]:
    encoder, tone = voice_encoder(), ToneSource()
    packets = [encoder.encode(make_frame(tone.next_frame(), i * FRAME_SAMPLES)) for i in range(count)]
    return [bytes(p[0]) for p in packets]


def tone_then_silence(tone_frames: int, silent_frames: int) -> list[bytes]:
    """What libopus itself sends for a tone that stops: its silence is a couple of packets, repeated."""
    encoder, tone = voice_encoder(), ToneSource()
    pcm = [tone.next_frame() for _ in range(tone_frames)] + [SILENCE] * silent_frames
    return [bytes(encoder.encode(make_frame(samples, i * FRAME_SAMPLES))[0]) for i, samples in enumerate(pcm)]


def decode_all(
    decoder: InlineOpusDecoder, packets: list[bytes], output: asyncio.Queue[Any], start: int = 0
) -> list[Any]:
    for i, packet in enumerate(packets, start):
        decoder.decode(packet, i * FRAME_SAMPLES)
    return [output.get_nowait() for _ in range(output.qsize())]


def test_silence_that_goes_on_is_not_decoded_again_and_sound_after_it_is() -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    decoder = InlineOpusDecoder(output.put_nowait)
    # A sender that repeats one silence packet, as the engine (and VoicePilot's own encoder) does.
    silence_packet = tone_then_silence(0, 12)[-1]
    frames = decode_all(decoder, tone_packets(20) + [silence_packet] * 30, output)
    # Every packet gave its frame, on the stream's clock, decoded or not.
    assert [f.pts for f in frames] == [i * FRAME_SAMPLES for i in range(50)]
    assert all(f.samples == FRAME_SAMPLES and f.layout.name == "mono" and f.format.name == "s16" for f in frames)
    # Only the first silence packets were decoded: the one after the tone, and until it was known quiet.
    assert decoder.silence_not_decoded >= 25
    assert decoder.decoded + decoder.silence_not_decoded == 50
    tail = np.concatenate([frame_to_mono(f) for f in frames[25:]])
    assert not np.count_nonzero(tail)  # silence stood in for is digital silence
    # Sound again: decoded, at its level, from its first packet on.
    decoded_before = decoder.decoded
    again = decode_all(decoder, tone_packets(20), output, start=50)
    assert decoder.decoded == decoded_before + 20
    tone_dbfs = rms_dbfs(ToneSource().next_frame())
    assert rms_dbfs(np.concatenate([frame_to_mono(f) for f in again[5:]])) == pytest.approx(tone_dbfs, abs=1.5)


def test_a_consumer_gets_a_frame_of_its_own_for_every_packet_sound_or_silence() -> None:
    seen: list[tuple[Any, int, int, int]] = []  # the frame, and its pts, length and loudest sample when delivered

    def consumer(frame: Any) -> None:
        seen.append((frame, frame.pts, frame.samples, int(np.abs(frame_to_mono(frame)).max())))

    decoder = InlineOpusDecoder(consumer)
    silence_packet = tone_then_silence(0, 12)[-1]
    sixty_ms = repeated_frame(silence_packet, 3)  # what VoicePilot's own sender makes of settled silence
    packets = [silence_packet] * 10 + [sixty_ms] * 6 + tone_packets(5) + [silence_packet] * 20
    clock = np.cumsum([0] + [opus_packet_ms(p) * 48 for p in packets[:-1]]).astype(int)
    for packet, pts in zip(packets, clock, strict=True):
        decoder.decode(packet, int(pts))
    # Every packet gave a frame of its own length, at its own pts, and the frames stay as delivered.
    assert [(f.pts, f.samples) for f, *_ in seen] == [
        (int(pts), int(opus_packet_ms(p) * 48)) for p, pts in zip(packets, clock, strict=True)
    ]
    assert len({id(frame) for frame, *_ in seen}) == len(seen)
    assert decoder.silence_not_decoded >= 20  # most of the silence, after each run's first packets
    assert decoder.decoded + decoder.silence_not_decoded == len(packets)
    assert all(loudest <= QUIET_PEAK for *_, loudest in seen[:16] + seen[22:])
    tone = seen[16:21]
    assert min(loudest for *_, loudest in tone) > 1000


def test_libopus_silence_is_skipped_once_it_settles_into_repeating_packets() -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    decoder = InlineOpusDecoder(output.put_nowait)
    # libopus itself, after a tone: its silence packets vary for a couple of seconds (its noise
    # estimate settles), then come back again and again.
    frames = decode_all(decoder, tone_then_silence(20, 200), output)
    assert len(frames) == 220
    assert decoder.silence_not_decoded >= 60
    assert all(rms_dbfs(frame_to_mono(f)) < -80 for f in frames[40:])


def test_a_known_silence_packet_right_after_sound_is_still_decoded() -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    decoder = InlineOpusDecoder(output.put_nowait)
    silence = tone_then_silence(0, 12)
    decode_all(decoder, silence, output)
    assert decoder.silence_not_decoded > 0  # the silence packets are known now
    decode_all(decoder, tone_packets(10), output, start=12)
    decoded_before = decoder.decoded
    decode_all(decoder, silence[-1:], output, start=22)  # the first after sound may carry its tail
    assert decoder.decoded == decoded_before + 1


def test_frames_go_to_the_consumer_when_there_is_one_and_its_failures_stop_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    received: list[Any] = []

    def consumer(frame: Any) -> None:
        received.append(frame)
        if len(received) in (3, 4):
            raise RuntimeError("a consumer bug")

    decoder = InlineOpusDecoder(consumer)
    with caplog.at_level("ERROR"):
        decode_all(decoder, tone_packets(10), output)
    assert [f.pts for f in received] == [i * FRAME_SAMPLES for i in range(10)]  # all of them, in order
    assert output.empty()  # none through the track's queue
    assert decoder.consumer_errors == 2
    assert len([r for r in caplog.records if "consumer failed" in r.getMessage()]) == 1  # logged once


def test_opus_is_decoded_where_it_is_put_and_the_rest_goes_on_to_the_thread() -> None:
    thread_queue: queue.Queue[Any] = queue.Queue()
    output: asyncio.Queue[Any] = asyncio.Queue()
    decoder = InlineOpusDecoder(output.put_nowait)
    stand_in = DecoderQueue(thread_queue, decoder)
    for i, packet in enumerate(tone_packets(20)):
        stand_in.put((OPUS, JitterFrame(packet, timestamp=i * FRAME_SAMPLES)))
    frames = [output.get_nowait() for _ in range(output.qsize())]
    assert len(frames) == decoder.decoded == 20
    assert all(f.samples == FRAME_SAMPLES and f.layout.name == "mono" and f.time_base == TIME_BASE for f in frames)
    assert [f.pts for f in frames] == [i * FRAME_SAMPLES for i in range(20)]
    tone_dbfs = rms_dbfs(ToneSource().next_frame())
    assert rms_dbfs(np.concatenate([frame_to_mono(f) for f in frames[5:]])) == pytest.approx(tone_dbfs, abs=1.5)
    # Another codec, and the end of the stream, are the decoder thread's, as before.
    video = (SimpleNamespace(name="VP8"), JitterFrame(b"\x00", timestamp=0))
    stand_in.put(video)
    stand_in.put(None)
    assert [stand_in.get(), stand_in.get()] == [video, None]
    assert output.empty()


def test_a_bad_or_empty_frame_is_skipped_and_the_next_one_decodes() -> None:
    output: asyncio.Queue[Any] = asyncio.Queue()
    decoder = InlineOpusDecoder(output.put_nowait)
    good = tone_packets(2)
    decoder.decode(b"\xff\xff\xff\xff", 0)  # not Opus
    decoder.decode(b"", 960)  # would flush the decoder (EOF ever after)
    decoder.decode(good[0], 1920)
    decoder.decode(good[1], 2880)
    assert (decoder.errors, decoder.empty, decoder.decoded) == (1, 1, 2)
    assert [output.get_nowait().pts for _ in range(2)] == [1920, 2880]


async def test_tuned_receivers_on_a_real_pair_decode_on_the_loop_and_still_end_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(OpusEncodedTrack(PacedAudioTrack(ToneSource())))
    sender.addTransceiver("video")  # not audio: left alone
    with loopback_ice():
        await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    assert tune_audio_receivers(receiver).tuned == 1
    with loopback_ice():
        await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    # It only sends audio: nothing to tune, nothing to warn about.
    assert tune_audio_receivers(sender).status == "active"
    assert tune_audio_receivers(receiver).tuned == 1  # a second call changes nothing
    assert caplog.records == []
    audio: Any = next(t for t in receiver.getTransceivers() if t.kind == "audio").receiver
    stand_in = audio._RTCRtpReceiver__decoder_queue
    assert isinstance(stand_in, DecoderQueue)
    decoder = stand_in.decoder
    assert isinstance(decoder, InlineOpusDecoder)
    assert isinstance(audio._RTCRtpReceiver__jitter_buffer, LowLatencyAudioBuffer)
    frames: list[Any] = []
    try:
        while len(frames) < 25:
            frames.append(await asyncio.wait_for(audio.track.recv(), timeout=10))
        assert decoder.decoded >= 25
        assert all(f.layout.name == "mono" and f.samples == FRAME_SAMPLES for f in frames)
        assert rms_dbfs(frame_to_mono(frames[-1])) > -30  # the tone, not silence
    finally:
        await receiver.close()
        await sender.close()
    # Closing still ends the track and stops aiortc's (idle) decoder thread.
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(audio.track.recv(), timeout=5)
    assert audio._RTCRtpReceiver__decoder_thread is None


async def test_a_tuned_receiver_with_a_consumer_hands_it_every_frame_and_its_track_still_ends() -> None:
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(OpusEncodedTrack(PacedAudioTrack(ToneSource())))
    with loopback_ice():
        await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    received: list[Any] = []
    enough = asyncio.Event()

    def consumer(frame: Any) -> None:
        received.append(frame)
        if len(received) == 25:
            enough.set()

    assert tune_audio_receivers(receiver, consumer).tuned == 1
    with loopback_ice():
        await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    audio: Any = next(t for t in receiver.getTransceivers() if t.kind == "audio").receiver
    try:
        await asyncio.wait_for(enough.wait(), timeout=10)
        assert rms_dbfs(frame_to_mono(received[-1])) > -30  # the tone
        assert audio.track._queue.empty()  # straight to the consumer, not through the track
    finally:
        await receiver.close()
        await sender.close()
    with pytest.raises(MediaStreamError):  # what a drain of the track waits for
        await asyncio.wait_for(audio.track.recv(), timeout=5)


def test_a_receiver_without_the_expected_private_parts_keeps_aiortcs_defaults_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What a future aiortc might look like: neither attribute where this version keeps it.
    receiver = SimpleNamespace(track=SimpleNamespace(kind="audio"))
    transceiver = SimpleNamespace(kind="audio", receiver=receiver)
    pc: Any = SimpleNamespace(getTransceivers=lambda: [transceiver])
    with caplog.at_level("WARNING"):
        report = tune_audio_receivers(pc)
    assert report.tuned == 0  # reported as receiversTuned: 0
    assert report.status == "fallback: the receiver has no _RTCRtpReceiver__jitter_buffer"  # as aiortcHooks
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("jitter buffer" in w and "decoder thread" in w for w in warnings)
    assert vars(receiver).keys() == {"track"}  # nothing was put in place of what is not there


@pytest.mark.parametrize("version", ["1.17.0", "2.0.0", "1.15.2", "1.160.0"])
async def test_an_aiortc_outside_the_tested_minor_keeps_its_defaults_and_says_so(
    version: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(aiortc_hooks, "installed_aiortc", lambda: version)
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(OpusEncodedTrack(PacedAudioTrack(ToneSource())))
    try:
        with loopback_ice():
            await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        with caplog.at_level("WARNING"):
            report = tune_audio_receivers(receiver)
        assert report.tuned == 0
        assert report.status == f"fallback: aiortc {version} is not the tested {aiortc_hooks.TESTED_AIORTC}"
        assert any(version in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
        audio: Any = next(t for t in receiver.getTransceivers() if t.kind == "audio").receiver
        assert isinstance(audio._RTCRtpReceiver__decoder_queue, queue.Queue)  # aiortc's own, untouched
        assert not isinstance(audio._RTCRtpReceiver__jitter_buffer, LowLatencyAudioBuffer)
    finally:
        await receiver.close()
        await sender.close()


def test_the_tested_minor_release_passes_the_version_check_whatever_its_patch_level() -> None:
    assert aiortc_hooks.version_problem(aiortc_hooks.TESTED_AIORTC) is None
    assert aiortc_hooks.version_problem(aiortc_hooks.TESTED_AIORTC + ".9") is None
    assert aiortc_hooks.version_problem(aiortc_installed := aiortc_hooks.installed_aiortc()) is None, aiortc_installed


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("loud_at", [0, SPOT_CHECK_STRIDE, 1, SPOT_CHECK_STRIDE - 1, FRAME_SAMPLES - 1])
def test_one_sample_above_the_quiet_peak_makes_a_frame_sound_where_it_is(loud_at: int, sign: int) -> None:
    # Only every SPOT_CHECK_STRIDE-th sample is looked at first: one between them must still count.
    samples = np.tile(np.array([QUIET_PEAK, -QUIET_PEAK, 0, 1], dtype=np.int16), FRAME_SAMPLES // 4)
    assert _is_quiet(make_frame(samples, 0))

    samples[loud_at] = sign * (QUIET_PEAK + 1)
    assert not _is_quiet(make_frame(samples, 0))


@pytest.mark.parametrize("samples", [FRAME_SAMPLES, 3 * FRAME_SAMPLES, 1])
def test_a_silent_frame_is_what_make_frame_gives_for_zeros(samples: int) -> None:
    made, cheap = make_frame(np.zeros(samples, dtype=np.int16), 480), silent_frame(samples, 480)
    for frame in (made, cheap):
        assert (frame.samples, frame.pts, frame.sample_rate, frame.time_base) == (samples, 480, 48_000, TIME_BASE)
        assert (frame.format.name, frame.layout.name) == ("s16", "mono")
    assert np.array_equal(frame_to_mono(cheap), frame_to_mono(made))
    assert not np.count_nonzero(frame_to_mono(cheap))
