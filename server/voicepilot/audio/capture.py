"""The microphone: a PortAudio input stream as a :class:`~voicepilot.audio.tracks.FrameSource`.

PortAudio's callback copies each 10 ms block into a small bounded queue (full: the oldest is dropped,
counted) and, once a frame's worth has arrived, schedules one wake-up of the loop, where blocks are
resampled to 48 kHz and cut into 960-sample frames. The device's clock paces the track, so the queue
normally stays empty. After a late loop the backlog is sent at once (a catch-up, counted), never
trimmed; only a queue that stays deeper than ``target_frames`` for a second (the device slightly
fast) loses its oldest frame, and only a quiet one (``frames_trimmed``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from voicepilot.audio.devices import Device
from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm, Resampler, rms_dbfs
from voicepilot.audio.levels import LevelMeter
from voicepilot.audio.stream import DeviceStream
from voicepilot.tasks import await_until, settle

# Both queues ride out a stall of the event loop of well over half a second without losing speech
# (a loaded 2-core machine stalls for 100-500 ms now and then); the paced track catches up after
# a stall by sending the late frames at once, so a deep queue drains by itself.
BLOCK_QUEUE = 100  # 1 s of 10 ms blocks between PortAudio's thread and the loop
# What is said before the session connects waits here for the track (the oldest goes beyond it).
PRE_CONNECT_S = 3.0
MAX_FRAMES = int(PRE_CONNECT_S * 1000) // FRAME_MS
TARGET_FRAMES = 1  # the steady-state depth above which frames are stale
TRIM_AFTER = 50  # consecutive pulls (1 s) above the target before a quiet frame may be dropped
TRIM_QUIET_DBFS = -50.0  # only a frame this quiet is trimmed: speech is delayed, never cut
CATCH_UP_FRAMES = 4  # queued at a pull: the loop was late (PulseAudio alone bursts 2-3 frames)


class Microphone(DeviceStream):
    """Captured audio as 20 ms, 48 kHz mono frames. ``gate`` decides whether they are sent.

    ``next_frame`` returns None (the track sends silence) while the gate is closed: captured audio
    is discarded, never delayed, so opening the gate sends what is said from then on.
    """

    block_ms = 10  # two per frame: the device holds two blocks, so this adds 20 ms less than 20 ms blocks

    def __init__(
        self,
        device: Device,
        gate: Callable[[], bool] | None = None,
        max_frames: int = MAX_FRAMES,
        target_frames: int = TARGET_FRAMES,
    ) -> None:
        super().__init__(device)
        self.gate = gate
        self.level = LevelMeter()
        self.blocks_dropped = 0
        self.frames_dropped = 0
        self.frames_trimmed = 0
        self.frames_captured = 0
        self.frames_sent = 0  # frames handed to the track with the gate open
        self.catch_ups = 0  # times the track found a backlog (the loop was late) and sent it at once
        self.frames_caught_up = 0  # frames sent late, in those catch-ups
        self._catching_up = False
        self.on_frame: Callable[[Pcm], None] | None = None
        # Applied to each frame with the time its first sample was captured (echo cancellation).
        self.process: Callable[[Pcm, float], Pcm] | None = None
        self._blocks: deque[tuple[Pcm, float]] = deque(maxlen=BLOCK_QUEUE)
        self._wake_pending = False
        self._samples_captured = 0  # by PortAudio's thread, at the device's rate
        self._frames_announced = 0  # frame boundaries the loop was woken for
        self._frames: deque[Pcm] = deque(maxlen=max_frames)
        self._target = target_frames
        self._over_target = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._resampler: Resampler | None = None
        # The tracks waiting for the next frame: usually one, two while a handover switches tracks.
        self._frame_waiters: set[asyncio.Future[None]] = set()

    def _stream_class(self, sd: Any) -> Any:
        return sd.InputStream

    # ------------------------------------------------------------------ PortAudio's thread

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        blocks = self._blocks
        if len(blocks) == blocks.maxlen:
            self.blocks_dropped += 1
        captured_at = self.device_time(time_info, "inputBufferAdcTime", -self.latency_s - frames / self.rate)
        blocks.append((np.array(data[:, 0], dtype=np.int16), captured_at))
        # The loop is woken once per frame, when a block completes one, not per block: the frame
        # could not be sent sooner anyway, and each wake-up costs a self-pipe write and a loop
        # iteration. Counting boundaries (not samples since the last wake-up) keeps the wake-ups on
        # them after one was skipped: a wake-up a block after each frame is complete would add
        # 10 ms to every frame from then on.
        self._samples_captured += frames
        boundaries = self._samples_captured * 1000 // (self.rate * FRAME_MS)
        if not self._wake_pending and boundaries > self._frames_announced:
            self._wake_pending = True
            self._frames_announced = boundaries
            self.call_on_loop(self._take_blocks)

    # ------------------------------------------------------------------ the loop

    def _take_blocks(self) -> None:
        self._wake_pending = False
        while self._blocks:
            self.feed(*self._blocks.popleft())

    def feed(self, block: Pcm, captured_at: float | None = None) -> None:
        """Add captured samples at the stream's rate (the loop side of the callback)."""
        # When the first sample still pending was captured (the resampler's few samples aside).
        pending_at = (time.monotonic() if captured_at is None else captured_at) - self._pending.size / SAMPLE_RATE
        if self.rate != SAMPLE_RATE:
            if self._resampler is None:
                self._resampler = Resampler(self.rate, SAMPLE_RATE)
            block = self._resampler.resample(block)
        pending = np.concatenate([self._pending, block]) if self._pending.size else block
        whole = pending.size // FRAME_SAMPLES * FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            frame = pending[start : start + FRAME_SAMPLES]
            if self.process is not None:
                frame = self.process(frame, pending_at + start / SAMPLE_RATE)
            self.level.update(frame)
            self.frames_captured += 1
            if len(self._frames) == self._frames.maxlen:
                self.frames_dropped += 1
            self._frames.append(frame)
            if self.on_frame is not None:
                self.on_frame(frame)
        self._pending = pending[whole:]
        if self._frames:
            for waiter in self._frame_waiters:
                settle(waiter, None)

    # ------------------------------------------------------------------ the device's clock

    def clock(self) -> Microphone:
        """Frames go out as they are captured (:class:`~voicepilot.audio.tracks.PacedAudioTrack`)."""
        return self

    async def wait_frame(self, timeout_s: float) -> bool:
        if self._frames:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._frame_waiters.add(waiter)
        try:
            await await_until(waiter, loop.time() + timeout_s, None)
        finally:
            self._frame_waiters.discard(waiter)
        return bool(self._frames)

    def next_frame(self) -> Pcm | None:
        frames = self._frames
        if len(frames) >= CATCH_UP_FRAMES and not self._catching_up:
            self._catching_up = True
            self.catch_ups += 1
        if len(frames) > self._target:
            self._over_target += 1
            if self._catching_up:
                self.frames_caught_up += 1
            if self._over_target >= TRIM_AFTER and rms_dbfs(frames[0]) < TRIM_QUIET_DBFS:
                frames.popleft()
                self.frames_trimmed += 1
                self._over_target = 0
        else:
            self._over_target = 0
            self._catching_up = False
        if not frames:
            return None
        frame = frames.popleft()
        if self.gate is not None and not self.gate():
            return None
        self.frames_sent += 1
        return frame

    def discard(self) -> None:
        """Forget what is queued (before the gate opens: only what is said from now on is sent)."""
        self._frames.clear()

    @property
    def queued(self) -> int:
        return len(self._frames)

    def frames_in_flight(self) -> int:
        """Frames captured by now but not yet handed to the track: queued, still in the hand-off
        from PortAudio's thread, or still in the device (its input latency)."""
        handed_off = sum(block.size for block, _ in list(self._blocks)) * SAMPLE_RATE // self.rate
        waiting = self._pending.size + handed_off
        in_device = round(self.latency_s * SAMPLE_RATE)
        return self.queued + -(-(waiting + in_device) // FRAME_SAMPLES)

    def stats(self) -> dict[str, float]:
        return {
            "micCallbacks": float(self.callbacks),
            "micFramesCaptured": float(self.frames_captured),
            "micFramesSent": float(self.frames_sent),
            "micBlocksDropped": float(self.blocks_dropped),
            "micFramesDropped": float(self.frames_dropped),
            "micFramesTrimmed": float(self.frames_trimmed),
            "micCatchUps": float(self.catch_ups),
            "micFramesCaughtUp": float(self.frames_caught_up),
            "micStatusFlags": float(self.status_flags),
        }
