"""Owned tasks and the steady ticker of periodic ones."""

from __future__ import annotations

import asyncio
import itertools
import math
import time

import pytest

from voicepilot import tasks
from voicepilot.tasks import TaskGroup, Ticker


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


async def test_a_ticker_keeps_its_period_and_skips_the_ticks_a_stalled_loop_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    now = [1000.0]  # the loop's clock, moved by hand; each sleep moves it to the end of the sleep
    monkeypatch.setattr(loop, "time", lambda: now[0])
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)
        now[0] += delay

    monkeypatch.setattr(tasks.asyncio, "sleep", sleep)
    ticker = Ticker(0.1)
    dues = [await ticker.tick() for _ in range(3)]
    assert dues == pytest.approx([1000.1, 1000.2, 1000.3])
    now[0] += 0.02  # work between ticks does not move the schedule
    assert await ticker.tick() == pytest.approx(1000.4)
    assert slept[-1] == pytest.approx(0.08)
    now[0] += 0.55  # the loop stood still past five ticks: the next one is the first still ahead
    assert await ticker.tick() == pytest.approx(1001.0)
    assert await ticker.tick() == pytest.approx(1001.1)


async def test_a_ticker_fired_early_by_the_clocks_resolution_does_not_repeat_a_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on Windows before Python 3.13: the clock moves in 15.6 ms steps and asyncio runs a timer
    # once it is less than a step away, so it can run before its time as the clock reads it.
    step = 0.0156
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: math.floor(time.monotonic() / step) * step)
    monkeypatch.setattr(loop, "_clock_resolution", step)
    ticker = Ticker(0.05)
    dues = [await ticker.tick() for _ in range(5)]
    assert all(b - a == pytest.approx(0.05) for a, b in itertools.pairwise(dues))
