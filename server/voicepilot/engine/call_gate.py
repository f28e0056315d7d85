"""How many calls the engine carries at once, and how long a WebRTC call may take to connect.

Live calls (WebRTC and WebSocket) and WebRTC calls not connected yet (an answer being made counts)
are capped: over a cap a new call is refused with 503. A WebRTC call whose ICE/DTLS has not
connected within the connect timeout is closed and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from aiohttp import web

from voicepilot.engine.http_errors import error_response
from voicepilot.engine.limits import EngineLimits, LimitCounters
from voicepilot.tasks import TaskGroup, wait_first

log = logging.getLogger(__name__)


class Call(Protocol):
    call_id: str

    @property
    def closed(self) -> asyncio.Event: ...


class ConnectingCall(Call, Protocol):
    @property
    def connected(self) -> asyncio.Event: ...

    async def close(self) -> None: ...


class CallGate:
    def __init__(self, limits: EngineLimits, counters: LimitCounters) -> None:
        self._limits = limits
        self._counters = counters
        self._answering = 0
        self._watching: set[str] = set()  # WebRTC calls not connected (nor closed) yet
        self._tasks = TaskGroup("engine call gate")

    def refusal(self, calls: Iterable[Call], webrtc: bool) -> web.Response | None:
        """A 503 when a new call would go over a cap, else None."""
        limits = self._limits
        live = sum(1 for call in calls if not call.closed.is_set()) + self._answering
        pending = len(self._watching) + self._answering
        if live >= limits.max_calls:
            code, message = "too_many_calls", f"The engine carries at most {limits.max_calls} calls at once."
        elif webrtc and pending >= limits.max_pending_calls:
            code = "too_many_pending_calls"
            message = f"At most {limits.max_pending_calls} calls may be connecting at once."
        else:
            return None
        self._counters.calls_refused += 1
        return error_response(503, code, message + " Try again shortly.", kind="server_error", retry_after_s=1)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Counts an answer being made as a pending call, so concurrent offers cannot pass the cap."""
        self._answering += 1
        try:
            yield
        finally:
            self._answering -= 1

    def watch(self, call: ConnectingCall) -> None:
        """Close ``call`` unless it connects within the connect timeout."""
        self._watching.add(call.call_id)
        self._tasks.spawn(self._close_unless_connected(call))

    async def _close_unless_connected(self, call: ConnectingCall) -> None:
        timeout = self._limits.connect_timeout_s
        try:
            await wait_first(call.connected, call.closed, timeout=timeout)
            if not call.connected.is_set() and not call.closed.is_set():
                self._counters.connect_timeouts += 1
                log.info("call %s did not connect within %g s: closed", call.call_id, timeout)
                await call.close()
        finally:
            self._watching.discard(call.call_id)

    async def close(self) -> None:
        await self._tasks.close()
