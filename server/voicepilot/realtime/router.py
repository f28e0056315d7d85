"""One microphone, several connections: the router behind make-before-break handover.

Every connection sends its own paced track (a track cannot be shared between peer connections:
each sender would get every other frame, and closing one connection stops the track). Each
source frame goes to exactly one track, the active one; the others send silence, which keeps
them warm so a switch costs no time (measured 0 ms with warm standby against 100 ms cold).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from voicepilot.audio.frames import FRAME_MS, Pcm, rms_dbfs
from voicepilot.audio.tracks import FrameClock, FrameSource, PacedAudioTrack, device_clock
from voicepilot.tasks import TIMEOUT_ERRORS

# The input counts as quiet when the last QUIET_FRAMES frames were all below QUIET_DBFS: a switch
# then cannot cut an utterance in two.
QUIET_DBFS = -45.0
QUIET_FRAMES = 15  # 300 ms


class RoutedSource:
    """The per-connection face of the router."""

    def __init__(self, router: MicRouter) -> None:
        self._router = router

    def next_frame(self) -> Pcm | None:
        return self._router.next_frame_for(self)

    def clock(self) -> FrameClock | None:
        return self._router.clock_for(self)


class MicRouter:
    def __init__(self, source: FrameSource | None, on_switched: Callable[[float], None] | None = None) -> None:
        self.source = source
        self._active: RoutedSource | None = None
        # The last frames routed; their levels are computed only when someone asks whether the
        # input is quiet (a handover waiting for a pause), not for every frame of the call.
        self._recent_frames: deque[Pcm | None] = deque(maxlen=QUIET_FRAMES)
        self._changed = asyncio.Event()
        self._on_switched = on_switched
        self._last_frame_at: float | None = None
        self._switched_at_frame: float | None = None
        self.frames_routed = 0

    def new_track(self) -> tuple[PacedAudioTrack, RoutedSource]:
        routed = RoutedSource(self)
        return PacedAudioTrack(routed), routed

    def activate(self, routed: RoutedSource) -> None:
        if self._active is not None and self._active is not routed:
            self._switched_at_frame = self._last_frame_at
        self._active = routed

    def clock_for(self, routed: RoutedSource) -> FrameClock | None:
        """The active connection runs on the source's device clock; the others send silence on their timers."""
        return device_clock(self.source) if routed is self._active else None

    def next_frame_for(self, routed: RoutedSource) -> Pcm | None:
        if routed is not self._active or self.source is None:
            return None
        frame = self.source.next_frame()
        now = time.monotonic()
        if self._switched_at_frame is not None:
            # The first frame on the new connection: how long after the last one on the old?
            gap_ms = max(0.0, (now - self._switched_at_frame) * 1000 - FRAME_MS)
            self._switched_at_frame = None
            if self._on_switched is not None:
                self._on_switched(gap_ms)
        self._last_frame_at = now
        self.frames_routed += 1
        self._recent_frames.append(frame)
        self._changed.set()
        return frame

    @property
    def quiet(self) -> bool:
        frames = self._recent_frames
        return len(frames) == QUIET_FRAMES and all(f is None or rms_dbfs(f) < QUIET_DBFS for f in frames)

    async def wait_quiet(self, timeout_s: float) -> bool:
        """Wait (at most ``timeout_s``) until the input is quiet; True if it is."""
        deadline = time.monotonic() + timeout_s
        while not self.quiet:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TIMEOUT_ERRORS:
                return self.quiet
        return True
