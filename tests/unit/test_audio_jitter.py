"""The low-latency receive buffer: in order at once, reordering repaired, losses skipped quickly."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtpPacket

from voicepilot.audio.jitter import LowLatencyAudioBuffer


def packet(seq: int, size: int = 80) -> RtpPacket:
    p = RtpPacket(payload_type=111, sequence_number=seq % 65536, timestamp=seq * 960 % 2**32)
    p._data = bytes([seq % 256]) * size  # type: ignore[attr-defined]
    return p


def feed(buffer: LowLatencyAudioBuffer, *seqs: int, size: int = 80) -> list[int | None]:
    """Which sequence number comes out for each packet fed (None: nothing yet)."""
    out: list[int | None] = []
    for seq in seqs:
        _, frame = buffer.add(packet(seq, size))
        out.append(None if frame is None else frame.timestamp // 960)
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
    buffer = LowLatencyAudioBuffer(reorder_frames=3)
    assert feed(buffer, 1, 3, 4, 5, 6) == [1, None, None, None, 3]
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
