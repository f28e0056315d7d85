"""Owned background tasks: every task has an owner that keeps it, cancels it and hears its failure."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a timeout raises. asyncio's own (asyncio.wait_for's, aiohttp's) is the built-in TimeoutError only
# from Python 3.11: on 3.10 it is a class of its own, which ``except TimeoutError`` lets through.
TIMEOUT_ERRORS: tuple[type[Exception], ...] = (TimeoutError, asyncio.TimeoutError)
_CLOCK_RESOLUTION_S = time.get_clock_info("monotonic").resolution  # what asyncio's loop uses

# A grid point due within this long (and within half its period) may be served early, in a
# wake-up the loop has anyway (:func:`ride_grid`): the service's audio wakes it every 20 ms, so with a
# little more than that one of its frames lands in the window before nearly every grid point.
GRID_RIDE_S = 0.025

# The grid sleepers now waiting: by waiter, the grid point it waits for and how early it may go.
_grid_sleepers: dict[asyncio.Future[None], tuple[float, float]] = {}


class TaskGroup:
    """A set of tasks that log unexpected failures and are cancelled together on close.

    (asyncio.TaskGroup would cancel every sibling when one fails, and needs Python 3.11.)
    """

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s: background task failed", self._owner, exc_info=error)

    async def close(self) -> None:
        """Cancel every task but the caller's own, and wait for them to end."""
        current = asyncio.current_task()
        owned = [task for task in self._tasks if task is not current]
        for task in owned:
            task.cancel()
        await asyncio.gather(*owned, return_exceptions=True)


async def wait_first(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Return when any of ``events`` is set (or after ``timeout``), leaving no waiter behind."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


def settle(waiter: asyncio.Future[T], result: T) -> None:
    """Resolve ``waiter`` with ``result`` unless something else already did (a timer and an event race)."""
    if not waiter.done():
        waiter.set_result(result)


async def await_until(waiter: asyncio.Future[T], when: float, on_time: T) -> T:
    """Await ``waiter``, settled with ``on_time`` at ``when`` (the loop's clock) if nothing settled it
    first. One timer handle, cancelled unfired when the waiter wins, and no task: unlike
    ``asyncio.wait_for``, cheap enough for the waits on the audio path, 50 a second."""
    timer = asyncio.get_running_loop().call_at(when, settle, waiter, on_time)
    try:
        return await waiter
    finally:
        timer.cancel()


async def sleep_on_grid(period_s: float) -> float:
    """Sleep until the next multiple of ``period_s`` on the loop's clock; returns that moment.

    Periodic tasks whose periods divide one another (the watchdog and the level reports at 100 ms,
    the stats at 1 s) then wake in the same turn of the loop instead of each on its own: every
    wake-up of an otherwise idle process costs about a quarter of a millisecond of CPU here.
    During a call they need no wake-up of their own at all: :func:`ride_grid` lets them go up to
    ``GRID_RIDE_S`` early, when the service's audio has woken the loop anyway.
    """
    loop = asyncio.get_running_loop()
    early_s = min(GRID_RIDE_S, period_s / 2)
    # asyncio runs a timer up to the clock's resolution early (15.6 ms on Windows before Python
    # 3.13), and ride_grid up to ``early_s``: counted from there, a woken task would find the same
    # grid point ahead of it again. So each grid point is served once, and never more than that early.
    now = loop.time() + max(_CLOCK_RESOLUTION_S, early_s)
    due = (math.floor(now / period_s) + 1) * period_s
    waiter: asyncio.Future[None] = loop.create_future()
    _grid_sleepers[waiter] = (due, early_s)
    try:
        await await_until(waiter, due, None)
    finally:
        del _grid_sleepers[waiter]
    return due


def ride_grid() -> None:
    """The loop is awake anyway (the service's audio arrived): wake the grid sleepers whose grid
    point is due within their window (``GRID_RIDE_S``, or half their period if that is shorter), in
    this turn of the loop rather than in one of their own."""
    if not _grid_sleepers:
        return
    loop = asyncio.get_running_loop()
    now = loop.time()
    # No copy needed: settling a waiter only schedules its task, which leaves the dict later.
    for waiter, (due, early_s) in _grid_sleepers.items():
        if due - early_s <= now and waiter.get_loop() is loop:
            settle(waiter, None)
