"""aiortc tracks: a paced outgoing track fed by a frame source, and a drain for remote tracks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voicepilot.audio.frames import FRAME_MS, FRAME_S, FRAME_SAMPLES, SILENCE, Pcm, make_frame
from voicepilot.tasks import await_until, settle

# A device that delivers no frame for this long has stalled (it normally delivers every 20 ms, give
# or take PulseAudio's bursts of two or three): the track then sends silence on its own timer.
DEVICE_STALL_S = 0.1

# A frame paced by the timer may leave up to this long before its time when the loop is awake anyway
# for the peer's audio (:meth:`PacedAudioTrack.ride_along`): two frames, so that only a peer frame over
# 20 ms late lets the timer fire first. The stream never runs further ahead than this and keeps its
# timestamps; the far end sees up to 40 ms of jitter once per pause (docs/performance.md).
RIDE_AHEAD_S = 0.04


class FrameSource(Protocol):
    def next_frame(self) -> Pcm | None:
        """The next 20 ms frame if one is ready, else None (the track then sends silence)."""


class FrameClock(Protocol):
    """A device that delivers frames on its own clock (:class:`voicepilot.audio.capture.Microphone`)."""

    async def wait_frame(self, timeout_s: float) -> bool:
        """Return once a captured frame is queued (True), or after ``timeout_s`` without one (False)."""


def device_clock(source: FrameSource | None) -> FrameClock | None:
    """The clock ``source`` delivers on right now, if it has one (``source.clock()``): sources
    without a device (files, silence) have no such method and are paced by the track's timer."""
    clock = getattr(source, "clock", None)
    return clock() if clock is not None else None


class PcmStream(Protocol):
    """Outgoing audio as samples on a clock: what an encoder needs, without an ``av.AudioFrame``
    made for each frame only to be read back (:class:`voicepilot.audio.opus.OpusEncodedTrack`)."""

    async def next_pcm(self) -> tuple[Pcm, int]:
        """The next 20 ms of 48 kHz mono samples, and the stream position of its first sample."""

    def stop(self) -> None: ...


_END: Pcm = np.zeros(0, dtype=np.int16)


class FileFrameSource:
    """Plays a file once, then reports ``finished`` after some trailing silence.

    ``frames`` may yield None while more are on their way (a file still being decoded): silence is
    sent meanwhile. The trailing silence lets the server's VAD see the end of the last utterance,
    and flushes the far end's jitter buffer before anything closes.
    """

    def __init__(self, frames: Iterable[Pcm | None], trailing_silence_ms: int = 1200) -> None:
        self._feed = frames
        self._frames: Iterator[Pcm | None] = iter(frames)
        self._trailing = trailing_silence_ms // FRAME_MS
        self.finished = asyncio.Event()

    async def close(self) -> None:
        """Stop reading: a stream's decoder ends and what it read ahead is let go."""
        self._frames = iter(())
        close = getattr(self._feed, "close", None)
        if close is not None:
            await close()

    def next_frame(self) -> Pcm | None:
        frame = next(self._frames, _END)
        if frame is not _END:
            return frame
        if self._trailing > 0:
            self._trailing -= 1
        else:
            self.finished.set()
        return None


class PacedAudioTrack(MediaStreamTrack):
    """Sends one 20 ms frame per 20 ms, with continuous timestamps.

    aiortc's sender calls ``recv`` in a loop and does not pace it; pacing here keeps the stream
    real-time. The source can be swapped (``source = ...``) without a break in timestamps.

    Two clocks: a source with a device clock (a microphone) paces the track itself: each frame goes
    out as soon as the device has delivered it. That saves the track's own timer (a second wake-up
    of the loop every 20 ms, besides the device's) and the wait for it (0-20 ms, 10 on average,
    between capture and the wire). A device that delivers nothing for ``stall_s`` is taken as
    stalled: silence is sent at the timer's pace until it delivers again, so the stream never stops.
    Other sources (a file, a standby connection's silence) are paced by wall time, riding on the
    loop's wake-ups for the peer's audio where they can (``RIDE_AHEAD_S``).
    """

    kind = "audio"

    def __init__(self, source: FrameSource | None = None, stall_s: float = DEVICE_STALL_S) -> None:
        super().__init__()
        self.source = source
        self.frames_sent = 0
        self.frames_device_clocked = 0
        self.device_stalls = 0
        self.frames_ridden = 0  # timer-paced frames sent on a wake-up for the peer's audio, not the timer's
        self._stall_s = stall_s
        self._start: float | None = None
        self._clocked = False
        self._stalled = False
        self._ride_until = 0.0
        # The due time of the frame waited for, and the waiter (not ``_waiting``: pyee's emitter has one).
        self._pending_frame: tuple[float, asyncio.Future[bool]] | None = None

    async def next_pcm(self) -> tuple[Pcm, int]:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        clock = device_clock(self.source)
        if clock is not None:
            self._clocked = True
            delivered = await clock.wait_frame(FRAME_S if self._stalled else self._stall_s)
            if delivered:
                self.frames_device_clocked += 1
            elif not self._stalled:
                self.device_stalls += 1
            self._stalled = not delivered
        else:
            if self._clocked:
                # Back on the timer: from now on, not on a schedule the device ran ahead of or behind.
                self._start = now - self.frames_sent * FRAME_S
                self._clocked = self._stalled = False
            due = self._start + self.frames_sent * FRAME_S
            if due > now:
                ridden = due <= self._ride_until or await self._wait_until(due)
                if ridden:
                    self.frames_ridden += 1
        samples = self.source.next_frame() if self.source else None
        pts = self.frames_sent * FRAME_SAMPLES
        self.frames_sent += 1
        return (SILENCE if samples is None else samples), pts

    def ride_along(self) -> None:
        """The peer's audio just woke the loop: a frame due within ``RIDE_AHEAD_S`` may go now."""
        now = time.monotonic()
        self._ride_until = now + RIDE_AHEAD_S
        pending = self._pending_frame
        if pending is not None and pending[0] <= self._ride_until:
            settle(pending[1], True)

    async def _wait_until(self, due: float) -> bool:
        """Wait until ``due`` (monotonic time), or until :meth:`ride_along` lets the frame go early
        (True: the ride released it, not the timer)."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[bool] = loop.create_future()
        self._pending_frame = (due, woken)
        try:
            return await await_until(woken, loop.time() + due - time.monotonic(), False)
        finally:
            self._pending_frame = None

    async def recv(self) -> av.AudioFrame:
        return make_frame(*await self.next_pcm())

    def stats(self) -> dict[str, float]:
        return {
            # Times the device delivered nothing for ``stall_s`` and silence went out on the timer.
            "micStalls": float(self.device_stalls),
            # Timer-paced frames that left on a wake-up for the peer's audio, not the timer's.
            "framesRidden": float(self.frames_ridden),
        }


async def drain_track(track: MediaStreamTrack, on_frame: Callable[[av.AudioFrame], None] | None = None) -> int:
    """Consume a remote track until it ends; returns the number of frames received.

    Always drain: aiortc queues undrained frames without bound (~70 MB per minute).
    """
    count = 0
    try:
        while True:
            frame = await track.recv()
            count += 1
            if on_frame is not None and isinstance(frame, av.AudioFrame):
                on_frame(frame)
    except MediaStreamError:
        return count
