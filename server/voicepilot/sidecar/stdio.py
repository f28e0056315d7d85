"""Serve the sidecar on stdio from our own event loop, with non-blocking pipes and bounded framing.

pygls's ``start_io`` writes stdout with blocking ``write()+flush()`` on the loop thread, so a
slow reader (a busy editor) would stall audio, and its read loop trusts every header. Here stdout
is an asyncio pipe transport and stdin an asyncio stream read by :mod:`voicepilot.sidecar.framing`
with size limits; each message is checked (:mod:`voicepilot.sidecar.messages`) and handed to
pygls's protocol. When stdin closes (the editor is gone), ``exit`` arrives or the framing breaks,
every session, task and child process is closed before the process exits. On Windows (whose
Proactor loop cannot connect anonymous pipes) a thread per pipe does the blocking I/O instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO

from voicepilot.event_loop import new_event_loop
from voicepilot.sidecar.framing import MAX_HEADER_LINE, FramedWriter, StreamTooLarge, Transport, read_frame
from voicepilot.sidecar.messages import INVALID_REQUEST, MessageGate
from voicepilot.sidecar.server import VoicePilotServer
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 0.6  # the process must be gone within 1 s of stdin closing


async def read_messages(reader: asyncio.StreamReader, gate: MessageGate) -> int:
    """Hand each message to ``gate`` until the stream ends (0), ``exit`` (0) or the framing breaks (1)."""
    while not gate.exit_requested:
        try:
            frame = await read_frame(reader)
        except StreamTooLarge as exc:
            gate.reply_error(None, INVALID_REQUEST, f"Invalid request: {exc}")
            return 1
        if frame is None:
            return 0
        if frame.body is None:
            gate.reply_error(None, INVALID_REQUEST, f"Invalid request: {frame.problem}")
            continue
        gate.handle(frame.body)
    return 0


@dataclass(frozen=True)
class Stdio:
    """The editor's pipes as the loop sees them."""

    reader: asyncio.StreamReader
    transport: Transport
    # Resolves once everything written so far has left this process.
    flush: Callable[[], Awaitable[None]]


async def open_stdio(stdin: BinaryIO, stdout: BinaryIO, platform: str | None = None) -> Stdio:
    """Non-blocking pipes on POSIX; on Windows (``platform``, ``sys.platform`` by default), threads."""
    if (platform or sys.platform) == "win32":
        return _threaded_stdio(stdin, stdout)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, stdout)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def flush() -> None:
        # With a zero high-water mark, drain() returns only once the pipe buffer is empty.
        transport.set_write_buffer_limits(high=0)
        await writer.drain()

    return Stdio(reader, transport, flush)


def _threaded_stdio(stdin: BinaryIO, stdout: BinaryIO) -> Stdio:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    writer = _ThreadedWriter(stdout, loop)
    threading.Thread(target=_read_into, args=(stdin, reader, loop), name="stdin", daemon=True).start()
    return Stdio(reader, writer, writer.flush)


def _read_into(stdin: BinaryIO, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
    """Blocking reads of ``stdin``, fed to ``reader`` on the loop; EOF (or a broken pipe) ends it."""
    read = getattr(stdin, "read1", stdin.read)
    try:
        while chunk := read(65536):
            loop.call_soon_threadsafe(reader.feed_data, chunk)
    except (OSError, ValueError):
        log.info("stdin broke", exc_info=True)
    with contextlib.suppress(RuntimeError):  # the loop is already closed
        loop.call_soon_threadsafe(reader.feed_eof)


class _ThreadedWriter:
    """A transport whose writes never block the loop: a thread writes them to ``stdout`` in order."""

    def __init__(self, stdout: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        self._stdout = stdout
        self._loop = loop
        self._queue: queue.SimpleQueue[bytes | asyncio.Future[None] | None] = queue.SimpleQueue()
        self._closed = False
        threading.Thread(target=self._run, name="stdout", daemon=True).start()

    def write(self, data: bytes) -> None:
        if not self._closed:
            self._queue.put(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)

    async def flush(self) -> None:
        done: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(done)
        await done

    def _run(self) -> None:
        broken = False
        while (item := self._queue.get()) is not None:
            if isinstance(item, asyncio.Future):
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(_resolve, item)
                continue
            if broken:
                continue
            try:
                self._stdout.write(item)
                self._stdout.flush()
            except (OSError, ValueError):  # the editor is gone: drop the rest
                broken = True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def serve_stdio() -> int:
    """Serve until stdin closes or ``exit``; the process's exit status."""
    stdio = await open_stdio(sys.stdin.buffer, sys.stdout.buffer)
    reader, transport = stdio.reader, stdio.transport

    server = VoicePilotServer()
    framed = FramedWriter(transport)
    server.protocol.set_writer(framed, include_headers=False)
    status = 1
    try:
        status = await read_messages(reader, MessageGate(server.protocol, framed))
    finally:
        log.info("stdin closed or exit requested: shutting down")
        started = time.perf_counter()
        try:
            await asyncio.wait_for(server.close(), SHUTDOWN_BUDGET_S)
        except TIMEOUT_ERRORS:
            log.warning("shutdown took longer than %.1f s; exiting anyway", SHUTDOWN_BUDGET_S)
            await server.engine.kill()
        log.info("shut down in %.0f ms", (time.perf_counter() - started) * 1000)
        # Flush the last notifications (the final "closed" state) before the process goes.
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(stdio.flush(), 0.2)
        transport.close()
    return status


def main() -> int:
    loop = new_event_loop()
    status = loop.run_until_complete(serve_stdio())
    # Everything we own is closed. Skip asyncio's and the interpreter's teardown (joining worker
    # threads, unloading aiortc, numpy, PyAV): it can take longer than the editor's 1 s budget.
    sys.stderr.flush()
    os._exit(status)
