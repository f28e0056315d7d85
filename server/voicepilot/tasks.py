"""Owned background tasks (every task has an owner that keeps it, cancels it and hears its failure)
and the small waiting helpers the audio path and the periodic tasks share."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a timeout raises. asyncio's own (asyncio.wait_for's, aiohttp's) is the built-in TimeoutError only
# from Python 3.11: on 3.10 it is a class of its own, which ``except TimeoutError`` lets through.
TIMEOUT_ERRORS: tuple[type[Exception], ...] = (TimeoutError, asyncio.TimeoutError)


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


class Ticker:
    """A steady period for a periodic task: :meth:`tick` returns at ``start + n * period_s`` on the
    loop's clock, and a tick that a stalled loop missed is skipped, not run late in a burst."""

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._due: float | None = None

    async def tick(self) -> float:
        """Sleep until the next tick; returns the moment it was due (the caller can tell how late it woke)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = now + self.period_s if self._due is None else self._due + self.period_s
        if due <= now:
            due += (math.floor((now - due) / self.period_s) + 1) * self.period_s
        self._due = due
        await asyncio.sleep(due - now)
        return due
