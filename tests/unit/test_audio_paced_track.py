"""The paced track: on its timer, on a device's clock, and back on the timer."""

from __future__ import annotations

import time

import numpy as np

from voicepilot.audio.frames import FRAME_S, FRAME_SAMPLES
from voicepilot.audio.tracks import FileFrameSource, PacedAudioTrack


def numbered_frames(count: int) -> list[np.ndarray]:
    return [np.full(FRAME_SAMPLES, n + 1, dtype=np.int16) for n in range(count)]


async def test_on_its_own_the_track_sends_each_frame_at_its_time_and_none_early() -> None:
    track = PacedAudioTrack(FileFrameSource(numbered_frames(4)))
    started = time.monotonic()
    for n in range(4):
        samples, pts = await track.next_pcm()
        assert time.monotonic() >= started + n * FRAME_S - 0.001  # the timer's resolution
        assert pts == n * FRAME_SAMPLES
        assert samples[0] == n + 1


async def test_on_the_device_clock_frames_go_when_delivered_and_back_on_the_timer_none_early() -> None:
    class Clocked:
        """A source on a device clock that has a frame ready each time it is asked."""

        def next_frame(self) -> np.ndarray:
            return np.ones(FRAME_SAMPLES, dtype=np.int16)

        def clock(self) -> Clocked:
            return self

        async def wait_frame(self, timeout_s: float) -> bool:
            return True

    track = PacedAudioTrack(Clocked())
    started = time.monotonic()
    for _ in range(5):
        await track.next_pcm()
    assert track.frames_device_clocked == 5
    assert time.monotonic() - started < 2 * FRAME_S  # as fast as the device delivers, not the timer
    # Back on the timer (the device went away): the first frame is due at once, the rest at their time.
    track.source = FileFrameSource(numbered_frames(4))
    started = time.monotonic()
    for n in range(4):
        _, pts = await track.next_pcm()
        assert time.monotonic() >= started + n * FRAME_S - 0.001
        assert pts == (5 + n) * FRAME_SAMPLES  # the stream's clock goes on without a break
