"""Audio from a file: any format and rate PyAV can read, as 48 kHz mono 20 ms frames, streamed.

A worker thread decodes a few seconds ahead of playback into a bounded queue, so a long file costs
no more memory than a short one. A file longer than its limit is refused from its header, before
any decoding; one whose header understates its length stops at the limit.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import av
import numpy as np

from voicepilot.audio.blocking import call_soon
from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voicepilot.errors import config_error, media_error
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

PREFETCH_FRAMES = 4000 // FRAME_MS  # 4 s of audio decoded ahead of playback (384 kB)
# The worker tops the queue up once it is half empty: a wake-up every 2 s, not one per frame.
REFILL_AT = PREFETCH_FRAMES // 2
OPEN_TIMEOUT_S = 10.0
_WAIT_S = 0.5  # a worker waiting for room looks again this often (close() wakes it at once)
_END = object()
READ_STEP = "Use a readable WAV file (any sample rate, mono or stereo)."


def _open(path: Path, max_seconds: float | None) -> av.container.InputContainer:
    path = path.expanduser()
    if not path.is_file():
        raise config_error(f"The input file {path} does not exist.", "Check the path of the audio file.")
    container = av.open(str(path))
    try:
        if not container.streams.audio:
            raise media_error(f"{path} has no audio stream.", "Use a WAV file with speech in it.")
        seconds = header_seconds(container)
        if max_seconds is not None and seconds is not None and seconds > max_seconds:
            raise config_error(
                f"{path} is {seconds:.0f} s long; the limit is {max_seconds:.0f} s.",
                "Use a shorter file, or raise voicepilot.input.maxFileSeconds.",
            )
    except BaseException:
        container.close()
        raise
    return container


def header_seconds(container: av.container.InputContainer) -> float | None:
    """The length the file's header declares (the stream's, else the container's), if any."""
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _frames(container: av.container.InputContainer, path: Path, max_seconds: float | None) -> Iterator[Pcm]:
    """20 ms frames of the first audio stream, resampled, the last one padded with silence."""
    limit = math.inf if max_seconds is None else max_seconds * SAMPLE_RATE
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    pending = np.zeros(0, dtype=np.int16)
    produced = 0
    for decoded in _with_flush(container):
        for out in resampler.resample(decoded):
            pending = np.concatenate([pending, out.to_ndarray().reshape(-1).astype(np.int16)])
            whole = pending.size - pending.size % FRAME_SAMPLES
            for start in range(0, whole, FRAME_SAMPLES):
                yield pending[start : start + FRAME_SAMPLES].copy()
            produced += whole
            pending = pending[whole:]
            if produced >= limit:
                log.warning("%s is longer than its header said: cut at %.0f s", path, produced / SAMPLE_RATE)
                return
    if pending.size:
        yield np.concatenate([pending, np.zeros(FRAME_SAMPLES - pending.size, dtype=np.int16)])


def _with_flush(container: av.container.InputContainer) -> Iterator[av.AudioFrame | None]:
    yield from container.decode(audio=0)
    yield None  # flushes the resampler


def _unreadable(path: Path, exc: Exception) -> Exception:
    return media_error(f"Could not read {path} as audio ({exc.__class__.__name__}).", READ_STEP)


class AudioFileStream:
    """A file's frames as they are decoded: iterate for a frame, None while the decoder is behind
    (the track sends silence meanwhile), then the end. :meth:`close` stops the worker and lets go
    of what it read ahead."""

    def __init__(self, path: Path, max_seconds: float | None) -> None:
        self.path = path
        self._max_seconds = max_seconds
        # A deque's append and popleft are atomic: the worker appends, the track's loop pops.
        self._frames: deque[object] = deque()
        self._room = threading.Event()  # set: the worker may add frames
        self._stop = threading.Event()
        self._ended = asyncio.Event()
        self._worker: threading.Thread | None = None

    async def start(self) -> None:
        """Open the file and decode its first frame; raises a classified error for bad input."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._worker = threading.Thread(target=self._work, args=(loop, ready), name="voicepilot-file", daemon=True)
        self._worker.start()
        try:
            await asyncio.wait_for(asyncio.shield(ready), OPEN_TIMEOUT_S)
        except TIMEOUT_ERRORS:
            await self.close()
            raise media_error(f"Reading {self.path} took longer than {OPEN_TIMEOUT_S:.0f} s.", READ_STEP) from None
        except BaseException:
            await self.close()
            raise

    def _work(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        def settle(error: BaseException | None) -> None:
            if not ready.done():
                ready.set_exception(error) if error is not None else ready.set_result(None)

        started = False
        try:
            with _open(self.path, self._max_seconds) as container:
                for frame in _frames(container, self.path, self._max_seconds):
                    if not self._put(frame):
                        return
                    if not started:
                        started = True
                        call_soon(loop, settle, None)
            if not started:
                raise media_error(f"{self.path} contains no audio samples.", "Use a WAV file with speech in it.")
            self._put(_END)
        except Exception as exc:
            error = _unreadable(self.path, exc) if isinstance(exc, (av.FFmpegError, OSError, ValueError)) else exc
            if started:
                log.warning("stopped reading %s: %s", self.path, error)
            call_soon(loop, settle, error)
            self._put(_END)
        finally:
            call_soon(loop, self._ended.set)

    def _put(self, item: object) -> bool:
        while len(self._frames) >= PREFETCH_FRAMES and not self._stop.is_set():
            self._room.clear()
            if len(self._frames) >= PREFETCH_FRAMES:  # looked at again: a pop may have come between
                self._room.wait(_WAIT_S)
        if self._stop.is_set():
            return False
        self._frames.append(item)
        return True

    def __iter__(self) -> Iterator[Pcm | None]:
        while True:
            try:
                item = self._frames.popleft()
            except IndexError:
                yield None
                continue
            if len(self._frames) < REFILL_AT and not self._room.is_set():
                self._room.set()
            if item is _END:
                return
            yield cast(Pcm, item)

    async def close(self) -> None:
        self._stop.set()
        self._room.set()
        self._frames.clear()
        if self._worker is None:
            return
        try:
            await asyncio.wait_for(self._ended.wait(), 1.0)
        except TIMEOUT_ERRORS:
            log.warning("the decoder of %s did not stop within 1 s", self.path)
            return
        self._worker.join(0.1)  # it has returned from its work: this only reaps it, in microseconds


async def open_audio_file(path: str | Path, max_seconds: float | None) -> AudioFileStream:
    """A running stream of ``path``; raises a classified error (missing, unreadable, too long)."""
    stream = AudioFileStream(Path(path), max_seconds)
    await stream.start()
    return stream


def _decode_all(path: Path) -> list[Pcm]:
    try:
        with _open(path, None) as container:
            frames = list(_frames(container, path, None))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    if not frames:
        raise media_error(f"{path} contains no audio samples.", "Use a WAV file with speech in it.")
    return frames


async def load_audio_file(path: str | Path) -> list[Pcm]:
    """The whole file decoded at once, off the event loop (for tests and tools, not sessions)."""
    return await asyncio.to_thread(lambda: _decode_all(Path(path)))
