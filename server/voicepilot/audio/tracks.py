"""aiortc tracks: a paced outgoing track fed by a frame source, and a drain for remote tracks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SILENCE, Pcm, make_frame


class FrameSource(Protocol):
    def next_frame(self) -> Pcm | None:
        """The next 20 ms frame if one is ready, else None (the track then sends silence)."""


class PcmStream(Protocol):
    """Outgoing audio as samples on a clock: what an encoder needs, without an ``av.AudioFrame``
    made for each frame only to be read back (:class:`voicepilot.audio.opus.OpusEncodedTrack`)."""

    @property
    def readyState(self) -> str: ...

    async def next_pcm(self) -> tuple[Pcm, int]:
        """The next 20 ms of 48 kHz mono samples, and the stream position of its first sample."""

    def stop(self) -> None: ...


class FileFrameSource:
    """Plays a decoded file once, then reports ``finished`` after some trailing silence.

    The trailing silence lets the server's VAD see the end of the last utterance, and flushes
    the far end's jitter buffer before anything closes.
    """

    def __init__(self, frames: Iterable[Pcm], trailing_silence_ms: int = 1200) -> None:
        self._frames: Iterator[Pcm] = iter(frames)
        self._trailing = trailing_silence_ms // FRAME_MS
        self.finished = asyncio.Event()

    def next_frame(self) -> Pcm | None:
        frame = next(self._frames, None)
        if frame is not None:
            return frame
        if self._trailing > 0:
            self._trailing -= 1
        else:
            self.finished.set()
        return None


class PacedAudioTrack(MediaStreamTrack):
    """Sends one 20 ms frame per 20 ms of wall time, with continuous timestamps.

    aiortc's sender calls ``recv`` in a loop and does not pace it; pacing here keeps the stream
    real-time. The source can be swapped (``source = ...``) without a break in timestamps.
    """

    kind = "audio"

    def __init__(self, source: FrameSource | None = None) -> None:
        super().__init__()
        self.source = source
        self.frames_sent = 0
        self._start: float | None = None

    async def next_pcm(self) -> tuple[Pcm, int]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.frames_sent * FRAME_MS / 1000
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        samples = self.source.next_frame() if self.source else None
        pts = self.frames_sent * FRAME_SAMPLES
        self.frames_sent += 1
        return (SILENCE if samples is None else samples), pts

    async def recv(self) -> av.AudioFrame:
        return make_frame(*await self.next_pcm())


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
