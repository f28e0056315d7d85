"""The low-latency receive buffer: in order at once, reordering repaired, losses skipped quickly."""

from __future__ import annotations

import av
import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from voicepilot.audio.jitter import LowLatencyAudioBuffer
from voicepilot.audio.opus import opus_packet_ms, voice_encoder

SILK_WB_20MS = 9 << 3  # an Opus TOC byte: SILK wideband, one 20 ms frame (RFC 6716 section 3.1)
SILK_WB_40MS = 10 << 3


def packet(seq: int, size: int = 80, toc: int = SILK_WB_20MS) -> RtpPacket:
    ms = opus_packet_ms(bytes([toc]))
    p = RtpPacket(payload_type=111, sequence_number=seq % 65536, timestamp=int(seq * ms * 48) % 2**32)
    p._data = bytes([toc]) + bytes([seq % 256]) * (size - 1)  # type: ignore[attr-defined]
    return p


def feed(buffer: LowLatencyAudioBuffer, *seqs: int, size: int = 80, toc: int = SILK_WB_20MS) -> list[int | None]:
    """Which sequence number comes out for each packet fed (None: nothing yet)."""
    out: list[int | None] = []
    for seq in seqs:
        _, frame = buffer.add(packet(seq, size, toc))
        out.append(None if frame is None else round(frame.timestamp / 48 / opus_packet_ms(bytes([toc]))))
    return out


def test_packets_in_order_are_released_at_once() -> None:
    buffer = LowLatencyAudioBuffer()
    assert feed(buffer, 10, 11, 12, 13) == [10, 11, 12, 13]
    assert buffer.released == 4


def test_a_swapped_pair_is_put_back_in_order() -> None:
    buffer = LowLatencyAudioBuffer()
    assert feed(buffer, 1, 3, 2, 4, 5) == [1, None, 2, 3, 4]  # 5 waits one packet behind
    assert buffer.lost == 0


@pytest.mark.parametrize("silence_bytes", [3, 35])  # Opus silence: CELT, and SILK's comfort noise (voice mode)
def test_a_backlog_is_worked_off_on_silent_frames(silence_bytes: int) -> None:
    buffer = LowLatencyAudioBuffer()
    feed(buffer, 1, 3, 2)  # 3 is now one frame behind
    assert feed(buffer, 4, size=silence_bytes) == [3]  # speech-sized 3 is kept...
    assert feed(buffer, 5, 6, size=silence_bytes) == [5, 6]  # ...the silent 4 is dropped to catch up
    assert buffer.caught_up == 1


def test_a_lost_packet_is_skipped_after_the_reorder_window() -> None:
    buffer = LowLatencyAudioBuffer(reorder_ms=60)
    assert feed(buffer, 1, 3, 4, 5, 6) == [1, None, None, None, 3]  # 80 ms held: more than 60
    assert buffer.lost == 1
    assert feed(buffer, 2) == [None]  # too late now
    assert buffer.late == 1


def test_sequence_numbers_wrap() -> None:
    buffer = LowLatencyAudioBuffer()
    assert feed(buffer, 65534, 65535, 65536, 65537) == [65534, 65535, 65536, 65537]


def test_duplicates_are_dropped_and_a_big_jump_starts_over() -> None:
    buffer = LowLatencyAudioBuffer()
    assert feed(buffer, 1, 1, 2) == [1, None, 2]
    assert feed(buffer, 5000, 5001) == [5000, 5001]


def test_40_ms_packets_wait_as_long_for_a_lost_one_and_their_silence_is_silent() -> None:
    buffer = LowLatencyAudioBuffer(reorder_ms=60)
    assert feed(buffer, 1, 3, 4, toc=SILK_WB_40MS, size=160) == [1, None, 3]  # 80 ms held: 2 is lost
    assert buffer.lost == 1
    buffer = LowLatencyAudioBuffer()
    feed(buffer, 1, 3, 2, toc=SILK_WB_40MS, size=160)  # 3 is one packet behind
    assert feed(buffer, 4, 5, toc=SILK_WB_40MS, size=71) == [3, 5]  # 71 bytes of 40 ms: silence, dropped
    assert buffer.caught_up == 1


@pytest.mark.parametrize(
    ("application", "frames_per_packet", "ms"),
    [("voip", 1, 20), ("voip", 2, 40), ("lowdelay", 1, 20), ("lowdelay", 2, 40)],
)
def test_the_audio_an_opus_packet_holds_is_read_from_its_toc(
    application: str, frames_per_packet: int, ms: float
) -> None:
    encoder = voice_encoder(frames_per_packet)
    encoder.options = dict(encoder.options, application=application)
    frame = av.AudioFrame(format="s16", layout="mono", samples=960 * frames_per_packet)
    frame.sample_rate = 48_000
    frame.planes[0].update(np.zeros(960 * frames_per_packet, dtype=np.int16))  # type: ignore[arg-type]
    (encoded,) = encoder.encode(frame)
    assert opus_packet_ms(bytes(encoded)) == ms


def test_an_empty_or_truncated_packet_counts_as_one_frame() -> None:
    assert opus_packet_ms(b"") == 20
    assert opus_packet_ms(bytes([(16 << 3) | 3])) == 20  # code 3 without its frame count byte
    assert opus_packet_ms(bytes([(16 << 3) | 3, 8])) == 8 * 2.5  # eight 2.5 ms CELT frames
