"""Lost packets filled on receive: FEC from the next packet, PLC for the rest, through the real
system libopus, and the playback-gap counts; without libopus, holes are skipped and counted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voicepilot.audio.frames import FRAME_SAMPLES, frame_to_mono, make_frame
from voicepilot.audio.inline_decode import MAX_CONCEAL_SAMPLES, InlineOpusDecoder
from voicepilot.audio.libopus import OpusDecoder, has_fec, load_problem
from voicepilot.audio.loss_policy import settings_for
from voicepilot.audio.opus import voice_encoder

pytestmark = pytest.mark.skipif(load_problem() is not None, reason=f"no libopus: {load_problem()}")


def voiced_packets(count: int, seed: int = 7) -> list[bytes]:
    """A voice-like signal whose pitch jumps every frame (PLC cannot guess it; FEC carries it),
    encoded with FEC for 20 % loss."""
    rng = np.random.default_rng(seed)
    encoder = voice_encoder(loss=settings_for(20))
    packets: list[bytes] = []
    phase = 0.0
    for index in range(count):
        pitch = rng.uniform(120, 400)
        steps = phase + np.arange(FRAME_SAMPLES) * 2 * np.pi * pitch / 48_000
        phase = float(steps[-1])
        samples = (np.sin(steps) * 6000 + np.sin(3 * steps) * 2000).astype(np.int16)
        packets += [bytes(p) for p in encoder.encode(make_frame(samples, index * FRAME_SAMPLES))]
    return packets


def decode_with_holes(packets: list[bytes], lost: set[int], use_libopus: bool = True) -> tuple[Any, list[Any]]:
    frames: list[Any] = []
    decoder = InlineOpusDecoder(frames.append, use_libopus=use_libopus)
    for index, packet in enumerate(packets):
        if index not in lost:
            decoder.decode(packet, index * FRAME_SAMPLES)
    return decoder, frames


def snr_db(reference: Any, other: Any) -> float:
    ref, out = reference.astype(np.float64), other.astype(np.float64)
    return float(10 * np.log10(np.dot(ref, ref) / max(np.dot(ref - out, ref - out), 1.0)))


def test_holes_are_filled_on_the_stream_clock_and_counted() -> None:
    packets = voiced_packets(60)
    lost = {10, 19, 20, 28, 29, 30}
    assert all(has_fec(packets[index]) for index in (11, 21, 31))  # what follows each hole carries FEC
    decoder, frames = decode_with_holes(packets, lost)
    assert decoder.concealment is None
    # Every sample of the stream is there, in order, each frame at its own pts.
    assert [f.pts for f in frames] == [i * FRAME_SAMPLES for i in range(60)]
    assert all(f.samples == FRAME_SAMPLES for f in frames)
    gaps = decoder.gaps
    assert gaps.holes == 3
    assert gaps.recovered_samples == 3 * FRAME_SAMPLES  # the last lost frame of each hole, from FEC
    assert gaps.concealed_samples == 3 * FRAME_SAMPLES  # 0 + 1 + 2 frames by PLC
    assert gaps.longest_gap_samples == 2 * FRAME_SAMPLES
    stats = gaps.stats()
    assert stats["playbackGapMsMax"] == 40
    assert stats["fecRecoveredMs"] == 60
    assert decoder.concealed == 6
    assert decoder.decoded == 54


def test_fec_recovers_a_lost_frame_better_than_plc() -> None:
    packets = voiced_packets(40)
    clean = OpusDecoder()
    reference = [clean.decode(p) for p in packets]
    _, frames = decode_with_holes(packets, {25})
    fec_snr = snr_db(reference[25], frame_to_mono(frames[25]))
    # PLC alone for the same frame: a decoder that never sees packet 26's FEC.
    plc = OpusDecoder()
    for packet in packets[:25]:
        plc.decode(packet)
    plc_snr = snr_db(reference[25], plc.conceal(FRAME_SAMPLES))
    assert fec_snr > 3  # close to what arrived
    assert fec_snr > plc_snr + 3


def test_a_packet_without_fec_after_a_hole_leaves_it_all_to_plc() -> None:
    encoder = voice_encoder()  # no loss settings: no FEC
    tone = (np.sin(np.arange(FRAME_SAMPLES * 20) / 9) * 8000).astype(np.int16)
    packets = [
        bytes(encoder.encode(make_frame(tone[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES], i * FRAME_SAMPLES))[0])
        for i in range(20)
    ]
    assert not any(has_fec(packet) for packet in packets)
    decoder, frames = decode_with_holes(packets, {8, 9})
    assert [f.pts for f in frames] == [i * FRAME_SAMPLES for i in range(20)]
    assert (decoder.gaps.recovered_samples, decoder.gaps.concealed_samples) == (0, 2 * FRAME_SAMPLES)
    assert decoder.gaps.stats()["playbackGapMsMax"] == 40


def test_without_libopus_holes_are_skipped_and_still_counted() -> None:
    packets = voiced_packets(30)
    decoder, frames = decode_with_holes(packets, {10, 11}, use_libopus=False)
    assert decoder.concealment == "libopus not used"
    assert len(frames) == 28  # skipped, as before
    assert decoder.gaps.skipped_samples == 2 * FRAME_SAMPLES
    assert decoder.gaps.stats()["playbackGapMsMax"] == 40


def test_a_long_silence_from_the_sender_is_not_filled() -> None:
    packets = voiced_packets(20)
    frames: list[Any] = []
    decoder = InlineOpusDecoder(frames.append)
    for index, packet in enumerate(packets[:10]):
        decoder.decode(packet, index * FRAME_SAMPLES)
    decoder.decode(packets[10], 10 * FRAME_SAMPLES + MAX_CONCEAL_SAMPLES + FRAME_SAMPLES)
    assert len(frames) == 11
    assert decoder.gaps.discontinuities == 1
    assert decoder.gaps.holes == 0


def test_silence_the_buffer_dropped_to_catch_up_is_not_concealed() -> None:
    packets = voiced_packets(20)
    frames: list[Any] = []
    decoder = InlineOpusDecoder(frames.append)
    for index in range(10):
        decoder.decode(packets[index], index * FRAME_SAMPLES)
    # 10 lost; 11 and 12 arrived behind it and were dropped by the buffer to work off the delay.
    decoder.dropped(2 * FRAME_SAMPLES)
    decoder.decode(packets[13], 13 * FRAME_SAMPLES)
    assert decoder.gaps.holes == 1
    assert decoder.gaps.concealed_samples + decoder.gaps.recovered_samples == FRAME_SAMPLES  # packet 10 only
    assert len(frames) == 12
