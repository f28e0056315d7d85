"""The paced track on its timer, and riding on the loop's wake-ups for the peer's audio."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from voicepilot.audio.frames import FRAME_S, FRAME_SAMPLES
from voicepilot.audio.tracks import RIDE_AHEAD_S, FileFrameSource, PacedAudioTrack

# Two frames fit in the lead; the third would be more than RIDE_AHEAD_S early.
FRAMES_IN_LEAD = round(RIDE_AHEAD_S / FRAME_S)


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
    assert track.frames_ridden == 0


async def test_a_frame_due_within_the_lead_goes_with_the_peers_wake_up() -> None:
    track = PacedAudioTrack(FileFrameSource(numbered_frames(8)))
    started = time.monotonic()
    await track.next_pcm()  # the first frame is due at once
    track.ride_along()
    for _ in range(FRAMES_IN_LEAD):
        _, pts = await track.next_pcm()
    assert track.frames_ridden == FRAMES_IN_LEAD
    assert pts == FRAMES_IN_LEAD * FRAME_SAMPLES  # the stream's clock is untouched: only the departure moved
    # ...but no further: the next frame waits for its own time.
    await track.next_pcm()
    assert track.frames_ridden == FRAMES_IN_LEAD
    assert time.monotonic() - started >= (FRAMES_IN_LEAD + 1) * FRAME_S - 0.001


async def test_a_waiting_track_is_released_by_the_peers_frame_once_its_frame_is_within_the_lead() -> None:
    track = PacedAudioTrack(FileFrameSource(numbered_frames(8)))
    started = time.monotonic()
    await track.next_pcm()
    track.ride_along()
    for _ in range(FRAMES_IN_LEAD):
        await track.next_pcm()
    waiting = asyncio.ensure_future(track.next_pcm())  # due one frame after the lead ends
    await asyncio.sleep(0)  # now waiting for its time
    assert track._pending_frame is not None
    track.ride_along()  # a peer frame now: the waiting frame is still too far off to go
    await asyncio.sleep(0)
    assert not waiting.done()
    # The peer's next frame, a little over a frame later (the simulated peer's own clock): the waiting
    # frame is now within the lead and goes at once, well before its own time (two frames later).
    await asyncio.sleep(FRAME_S * 1.05)
    rode_at = time.monotonic()
    track.ride_along()
    await waiting
    due = started + (FRAMES_IN_LEAD + 1) * FRAME_S
    # Released by the ride, unless this machine stood still so long that the ride came after its time.
    assert track.frames_ridden == FRAMES_IN_LEAD + 1 or rode_at >= due


async def test_riding_never_changes_how_many_frames_leave_over_time() -> None:
    track = PacedAudioTrack(FileFrameSource(numbered_frames(100)))
    started = time.monotonic()
    sent = 0
    # A peer sending faster than real time cannot pull the stream more than the lead ahead.
    while time.monotonic() - started < 0.2:
        track.ride_along()
        await track.next_pcm()
        sent += 1
    elapsed = time.monotonic() - started
    assert sent <= elapsed / FRAME_S + FRAMES_IN_LEAD + 1
    assert track.frames_ridden >= FRAMES_IN_LEAD


async def test_on_the_device_clock_nothing_rides_and_back_on_the_timer_the_lead_still_holds() -> None:
    class Clocked:
        """A source on a device clock that has a frame ready each time it is asked."""

        def next_frame(self) -> np.ndarray:
            return np.ones(FRAME_SAMPLES, dtype=np.int16)

        def clock(self) -> Clocked:
            return self

        async def wait_frame(self, timeout_s: float) -> bool:
            return True

    track = PacedAudioTrack(Clocked())
    for _ in range(3):
        track.ride_along()
        await track.next_pcm()
    assert (track.frames_device_clocked, track.frames_ridden) == (3, 0)
    # Back on the timer (the device went away), with the last ride's lead still open: the first frame is
    # due at once, and no more than the lead's worth of frames may go before their time.
    track.source = FileFrameSource(numbered_frames(8))
    started = time.monotonic()
    at_once = 0
    for _ in range(FRAMES_IN_LEAD + 2):
        await track.next_pcm()
        at_once += time.monotonic() - started < FRAME_S / 2
    assert 1 <= at_once <= FRAMES_IN_LEAD + 1
    assert track.frames_ridden <= FRAMES_IN_LEAD
