"""A low-latency receive buffer for aiortc's audio, installed per receiver.

aiortc's audio buffer releases a frame only once four newer ones have arrived (60-80 ms on every
hop) and schedules nothing, so that delay buys no protection against jitter: the speaker's playout
buffer does that. :class:`LowLatencyAudioBuffer` (same interface) releases the next packet in
sequence at once, holds early ones until the missing one arrives, takes a packet as lost once more
than ``reorder_ms`` of audio is held behind it, drops late packets and duplicates, and works off a
backlog by dropping silent frames. Packets may hold 20 ms or more: windows go by the audio a packet
holds (its Opus TOC byte). :mod:`voicepilot.audio.aiortc_hooks` puts it in place.
"""

from __future__ import annotations

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

from voicepilot.audio.aiortc_hooks import packet_payload
from voicepilot.audio.frames import FRAME_MS
from voicepilot.audio.opus import opus_packet_ms

REORDER_MS = 60  # how much audio may arrive after a missing packet before it is taken as lost
# Opus codes 20 ms of silence in 3 bytes (CELT) or ~35 (SILK comfort noise, voice mode); speech takes 60+.
SILENT_BYTES_PER_FRAME = 40
RESET_JUMP = 100  # a jump this far ahead is a new stream (or a long outage): start over


class LowLatencyAudioBuffer(JitterBuffer):
    def __init__(self, reorder_ms: float = REORDER_MS) -> None:
        super().__init__(capacity=16, prefetch=0)
        self.reorder_ms = reorder_ms
        self._held: dict[int, RtpPacket] = {}
        self._next: int | None = None
        self.released = 0
        self.lost = 0
        self.late = 0
        self.caught_up = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        seq = packet.sequence_number
        if self._next is None:
            self._next = seq
        ahead = uint16_add(seq, -self._next)
        if ahead >= 0x8000 or seq in self._held:
            self.late += 1  # behind what was already released or skipped, or a duplicate
            return False, None
        if ahead >= RESET_JUMP:
            self._held.clear()
            self._next = seq
        self._held[seq] = packet
        expected = self._next
        if expected not in self._held and _held_ms(self._held) > self.reorder_ms:
            oldest = min(self._held, key=lambda s: uint16_add(s, -expected))
            self.lost += uint16_add(oldest, -expected)
            self._next = oldest
        ready = self._take()
        # A backlog (packets that arrived after a gap) costs a frame of delay each: drop silent ones.
        while ready is not None and self._next in self._held and _silent(packet_payload(ready)):
            self.caught_up += 1
            ready = self._take()
        if ready is None:
            return False, None
        self.released += 1
        return False, JitterFrame(data=packet_payload(ready), timestamp=ready.timestamp)

    def _take(self) -> RtpPacket | None:
        assert self._next is not None
        packet = self._held.pop(self._next, None)
        if packet is not None:
            self._next = uint16_add(self._next, 1)
        return packet


def _held_ms(held: dict[int, RtpPacket]) -> float:
    return sum((opus_packet_ms(packet_payload(packet)) for packet in held.values()), 0.0)


def _silent(data: bytes) -> bool:
    return len(data) <= SILENT_BYTES_PER_FRAME * opus_packet_ms(data) / FRAME_MS
