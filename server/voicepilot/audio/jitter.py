"""A low-latency receive buffer for aiortc's audio, installed per receiver.

aiortc's audio receiver uses ``JitterBuffer(capacity=16, prefetch=4)``: a frame is handed to the
decoder only once four newer frames have arrived, which adds 60-80 ms to every hop (spike notes
§1.3: one way 88 ms, 28 ms with prefetch 0). It schedules nothing: frames leave it as packets
arrive, so prefetch buys no protection against timing jitter, only delay. Timing jitter is the
playout buffer's job (:class:`voicepilot.audio.playback.Speaker`: prefill, underrun recovery).

What a receive buffer must still do is put packets back in order and get past a lost one.
:class:`LowLatencyAudioBuffer` (a :class:`~aiortc.jitterbuffer.JitterBuffer` subclass, same
interface) does that with no added delay in the common case:

- the next packet in sequence is released at once (an Opus packet is a whole frame);
- a packet that arrives early (one before it is missing) is held; when the missing one arrives
  it is released, and the held ones follow, one per arriving packet (the interface returns one
  frame per packet); a backlog that remains is worked off by dropping *small* (silent) frames;
- once more than ``reorder_ms`` of audio is held without the missing packet, it is taken as lost and
  skipped (aiortc's buffer waits for 16 packets, 320 ms of silence, on one lost packet);
- late packets (already skipped) and duplicates are dropped; sequence numbers wrap at 2**16.

aiortc offers no public way to choose a receiver's buffer, so :func:`use_low_latency_buffer`
replaces it (see :mod:`voicepilot.audio.receive_tuning` for when). It checks that the private
attribute is there and leaves the default in place (with a warning) if a future aiortc changes it.

Packets may hold 20 ms (the service, this client) or more (other clients may send 40 ms and up), so
the window and what counts as a silent packet go by the audio a packet holds (its Opus TOC byte).
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

from voicepilot.audio.frames import FRAME_MS
from voicepilot.audio.opus import opus_packet_ms

log = logging.getLogger(__name__)

REORDER_MS = 60  # how much audio may arrive after a missing packet before it is taken as lost
# Opus codes 20 ms of silence in 3 bytes (CELT) or ~35 (SILK comfort noise, voice mode); speech takes 60+.
SILENT_BYTES_PER_FRAME = 40
RESET_JUMP = 100  # a jump this far ahead is a new stream (or a long outage): start over
_RECEIVER_ATTRIBUTE = "_RTCRtpReceiver__jitter_buffer"


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
        while ready is not None and self._next in self._held and _silent(ready._data):  # type: ignore[attr-defined]
            self.caught_up += 1
            ready = self._take()
        if ready is None:
            return False, None
        self.released += 1
        return False, JitterFrame(data=ready._data, timestamp=ready.timestamp)  # type: ignore[attr-defined]

    def _take(self) -> RtpPacket | None:
        assert self._next is not None
        packet = self._held.pop(self._next, None)
        if packet is not None:
            self._next = uint16_add(self._next, 1)
        return packet


def _held_ms(held: dict[int, RtpPacket]) -> float:
    data: list[bytes] = [packet._data for packet in held.values()]  # type: ignore[attr-defined]
    return sum(map(opus_packet_ms, data), 0.0)


def _silent(data: bytes) -> bool:
    return len(data) <= SILENT_BYTES_PER_FRAME * opus_packet_ms(data) / FRAME_MS


def use_low_latency_buffer(receiver: Any) -> bool:
    """Give ``receiver`` (an aiortc audio receiver) a :class:`LowLatencyAudioBuffer`; True if it now has one."""
    if isinstance(getattr(receiver, _RECEIVER_ATTRIBUTE, None), LowLatencyAudioBuffer):
        return True
    if not isinstance(getattr(receiver, _RECEIVER_ATTRIBUTE, None), JitterBuffer):
        log.warning("aiortc's receiver has no %s: keeping its default jitter buffer", _RECEIVER_ATTRIBUTE)
        return False
    setattr(receiver, _RECEIVER_ATTRIBUTE, LowLatencyAudioBuffer())
    return True
