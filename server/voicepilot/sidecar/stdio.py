"""Serve the sidecar on stdio from our own event loop, with non-blocking pipes and bounded framing.

pygls's ``start_io`` writes stdout with blocking ``write()+flush()`` on the loop thread, so a
slow reader (a busy editor) would stall audio, and its read loop trusts every header. Here stdout
is an asyncio pipe transport and stdin an asyncio stream read by :mod:`voicepilot.sidecar.framing`
with size limits; each message is checked (:mod:`voicepilot.sidecar.messages`) and handed to
pygls's protocol. When stdin closes (the editor is gone), ``exit`` arrives or the framing breaks,
every session, task and child process is closed before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time

from voicepilot.event_loop import new_event_loop
from voicepilot.sidecar.framing import MAX_HEADER_LINE, FramedWriter, StreamTooLarge, read_frame
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


async def serve_stdio() -> int:
    """Serve until stdin closes or ``exit``; the process's exit status."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)  # for drain() at the end

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
        # Flush the last notifications (the final "closed" state) before the process goes: with a
        # zero high-water mark, drain() returns only once the pipe buffer is empty.
        transport.set_write_buffer_limits(high=0)
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(writer.drain(), 0.2)
        transport.close()
    return status


def main() -> int:
    loop = new_event_loop()
    status = loop.run_until_complete(serve_stdio())
    # Everything we own is closed. Skip asyncio's and the interpreter's teardown (joining worker
    # threads, unloading aiortc, numpy, PyAV): it can take longer than the editor's 1 s budget.
    sys.stderr.flush()
    os._exit(status)
