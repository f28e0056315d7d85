"""Run a blocking device call off the event loop, with a deadline.

Opening or closing a PortAudio stream normally takes milliseconds, but a wedged device can block for
ever (a capture thread that never closed has been seen). ``asyncio.to_thread`` would then hold a
worker thread that the interpreter joins at exit; a daemon thread does not hold up the exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def run_blocking(fn: Callable[[], T], timeout: float, name: str = "voicepilot-audio") -> T:
    """``fn()`` on a daemon thread; TimeoutError after ``timeout`` seconds (the thread is abandoned)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting task
            call_soon(loop, settle, None, exc)
        else:
            call_soon(loop, settle, result, None)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await asyncio.wait_for(future, timeout)


def call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: object) -> None:
    """From another thread: run ``fn(*args)`` on the loop; dropped if the loop is already closed."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)
