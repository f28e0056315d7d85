"""The engine's HTTP connections, bounded: how many may be open, and how long each may dawdle.

A connection over the cap is answered 503 and closed before aiohttp sees it. A new connection must
send its first request head within the header timeout (a slowloris is cut off); later heads and
idle keep-alive connections are aiohttp's keepalive timeout's job; a request body must arrive
within the body timeout (408).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from voicepilot.engine.http_errors import error_response, raw_error
from voicepilot.engine.limits import EngineLimits, LimitCounters
from voicepilot.tasks import TIMEOUT_ERRORS

BUSY_LINGER_S = 1.0  # a refused client has this long to read the 503 before its connection is closed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BusyConnection(asyncio.Protocol):
    """Answers 503 at once, reads and drops what the client sends (so closing sends no reset that
    could overtake the answer), and closes on the client's EOF or after a short linger."""

    def __init__(self, answer: bytes, on_done: Callable[[], None]) -> None:
        self._answer = answer
        self._on_done = on_done
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self._answer)
        if transport.can_write_eof():
            transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(BUSY_LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._on_done()


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, seen by the guard: when it opens and when it closes."""

    def __init__(self, inner: RequestHandler, guard: HttpGuard) -> None:
        self.inner = inner
        self._guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._guard.opened(self)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> None:
        self.inner.eof_received()  # aiohttp's keeps nothing half-open: the transport closes

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.closed(self)
        self.inner.connection_lost(exc)


class HttpGuard:
    def __init__(self, limits: EngineLimits, counters: LimitCounters) -> None:
        self._limits = limits
        self._counters = counters
        self._server: web.Server | None = None
        self._open: set[GuardedConnection] = set()  # made by the factory and not lost yet
        # Connections whose first request head has not arrived yet, with their deadline's timer.
        self._awaiting_head: dict[RequestHandler, asyncio.TimerHandle] = {}
        self._busy = 0

    def runner_options(self) -> dict[str, Any]:
        """aiohttp's own timeouts, for :class:`web.AppRunner`."""
        # A refused body is read and dropped for at most this long, then the connection is closed.
        return {"keepalive_timeout": self._limits.idle_timeout_s, "lingering_time": 1.0}

    def protocol_factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        """For ``loop.create_server``, in place of aiohttp's ``server``."""
        self._server = server
        return self._connection

    def close(self) -> None:
        for timer in self._awaiting_head.values():
            timer.cancel()
        self._awaiting_head.clear()

    def _connection(self) -> asyncio.Protocol:
        assert self._server is not None
        # Counted from here, not from aiohttp's list: asyncio makes several protocols at once when
        # connections arrive together, before any of them is connected.
        if len(self._open) >= self._limits.max_connections:
            self._counters.connections_refused += 1
            return self._refuse()
        connection = GuardedConnection(self._server(), self)
        self._open.add(connection)
        return connection

    def opened(self, connection: GuardedConnection) -> None:
        timer = asyncio.get_running_loop().call_later(self._limits.header_timeout_s, self._head_late, connection)
        self._awaiting_head[connection.inner] = timer

    def closed(self, connection: GuardedConnection) -> None:
        self._open.discard(connection)
        if (timer := self._awaiting_head.pop(connection.inner, None)) is not None:
            timer.cancel()

    def _head_late(self, connection: GuardedConnection) -> None:
        if self._awaiting_head.pop(connection.inner, None) is not None:
            self._counters.header_timeouts += 1
            connection.inner.force_close()

    def _refuse(self) -> asyncio.Protocol:
        if self._busy >= self._limits.max_connections:
            return _Reset()  # not even a 503 for a flood: each answer holds a socket for a moment

        def done() -> None:
            self._busy -= 1

        self._busy += 1
        message = f"Too many open connections to the engine (at most {self._limits.max_connections})."
        return BusyConnection(raw_error(503, "Service Unavailable", "too_many_connections", message, 1), done)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The head is in; the body must follow within the body timeout."""
        if (timer := self._awaiting_head.pop(request.protocol, None)) is not None:
            timer.cancel()
        if request.body_exists:
            timeout = self._limits.body_timeout_s
            try:
                await asyncio.wait_for(request.read(), timeout)  # kept: json() and text() read it from there
            except TIMEOUT_ERRORS:
                self._counters.body_timeouts += 1
                response = error_response(
                    408, "request_timeout", f"The request body did not arrive within {timeout:g} s."
                )
                response.force_close()
                return response
            except web.HTTPRequestEntityTooLarge as exc:
                return error_response(413, "request_too_large", f"The request body is too large ({exc.text}).")
        return await handler(request)


class _Reset(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.abort()
