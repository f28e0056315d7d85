"""Owned tasks and the shared wake-up grid of periodic ones."""

from __future__ import annotations

import asyncio
import itertools
import math
import time

import pytest

from voicepilot import tasks
from voicepilot.tasks import TaskGroup, sleep_on_grid


async def test_periodic_tasks_on_one_grid_wake_in_the_same_turn_of_the_loop() -> None:
    loop = asyncio.get_running_loop()
    turn = 0

    def count_turn() -> None:  # one increment per turn of the loop, for as long as the test runs
        nonlocal turn
        turn += 1
        handle[0] = loop.call_soon(count_turn)

    handle = [loop.call_soon(count_turn)]

    async def wake_on(period_s: float, times: int) -> list[tuple[float, float, int]]:
        woken = []
        for _ in range(times):
            due = await sleep_on_grid(period_s)
            woken.append((due, loop.time(), turn))
        return woken

    try:
        # Six fast wake-ups span the slow task's two: a first sleep may skip a grid point that is
        # due sooner than the ride-along window (sleep_on_grid), a period's worth of each.
        fast, slow = await asyncio.gather(wake_on(0.02, 6), wake_on(0.04, 2))
    finally:
        handle[0].cancel()
    for due, at, _ in fast + slow:
        assert at >= due  # never early
    for period, wakes in ((0.02, fast), (0.04, slow)):
        dues = [due for due, _, _ in wakes]
        for due in dues:
            assert math.isclose(due / period, round(due / period), abs_tol=1e-6)  # on the grid
        # Each grid point once, in order (a loaded machine may skip one, never repeat one).
        assert all(round((b - a) / period) >= 1 for a, b in itertools.pairwise(dues))
    # Every wake-up of the slow task is one of the fast task's, in the same turn of the loop.
    fast_turns = [turn for _, _, turn in fast]
    assert all(turn in fast_turns for _, _, turn in slow)


async def test_a_task_that_fails_does_not_take_the_others_with_it_and_close_cancels_them() -> None:
    group = TaskGroup("test")
    forever = group.spawn(asyncio.Event().wait())

    async def fail() -> None:
        raise RuntimeError("boom")

    failed = group.spawn(fail())
    await asyncio.gather(failed, return_exceptions=True)
    assert not forever.done()
    await group.close()
    assert forever.cancelled()
    assert isinstance(failed.exception(), RuntimeError)


async def test_a_timer_fired_early_by_the_clocks_resolution_does_not_repeat_a_grid_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on Windows before Python 3.13: the clock moves in 15.6 ms steps and asyncio runs a timer
    # once it is less than a step away, so it can run before its time as the clock reads it.
    step = 0.0156
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: math.floor(time.monotonic() / step) * step)
    monkeypatch.setattr(loop, "_clock_resolution", step)
    monkeypatch.setattr(tasks, "_CLOCK_RESOLUTION_S", step)
    dues = [await sleep_on_grid(0.05) for _ in range(5)]
    assert all(round((b - a) / 0.05) >= 1 for a, b in itertools.pairwise(dues))


async def test_a_wake_up_the_loop_has_anyway_serves_the_grid_points_due_soon_each_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    now = [1000.05]  # the loop's clock, moved by hand: the timers never fire, only ride_grid wakes
    monkeypatch.setattr(loop, "time", lambda: now[0])
    sleeper = asyncio.ensure_future(sleep_on_grid(0.1))  # for the grid point at 1000.1
    other = asyncio.ensure_future(sleep_on_grid(1.0))  # for 1001.0
    await asyncio.sleep(0)
    tasks.ride_grid()  # 50 ms before the point: not within GRID_RIDE_S, so not yet
    await asyncio.sleep(0)
    assert not sleeper.done()
    now[0] = 1000.1 - tasks.GRID_RIDE_S + 0.001
    tasks.ride_grid()
    assert await sleeper == pytest.approx(1000.1)  # served early, in this wake-up
    assert not other.done()  # its point is far off
    # The point served early is not served again: the next sleep is for the one after it.
    again = asyncio.ensure_future(sleep_on_grid(0.1))
    await asyncio.sleep(0)
    tasks.ride_grid()
    await asyncio.sleep(0)
    assert not again.done()
    now[0] = 1000.2 - 0.01
    tasks.ride_grid()
    assert await again == pytest.approx(1000.2)
    other.cancel()
    await asyncio.gather(other, return_exceptions=True)
    assert tasks._grid_sleepers == {}  # a sleeper leaves no trace, served or cancelled
