"""Owned background tasks: every task has an owner that keeps it, cancels it and hears its failure."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


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


async def sleep_on_grid(period_s: float) -> float:
    """Sleep until the next multiple of ``period_s`` on the loop's clock; returns that moment.

    Periodic tasks whose periods divide one another (the watchdog and the level reports at 100 ms,
    the stats at 1 s) then wake in the same turn of the loop instead of each on its own: every
    wake-up of an otherwise idle process costs about a quarter of a millisecond of CPU here.
    """
    loop = asyncio.get_running_loop()
    due = (math.floor(loop.time() / period_s) + 1) * period_s
    woken: asyncio.Future[None] = loop.create_future()
    timer = loop.call_at(due, _wake, woken)
    try:
        await woken
    finally:
        timer.cancel()
    return due


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
