"""Serve the sidecar on stdio from our own event loop, with non-blocking pipes.

pygls's ``start_io`` writes stdout with blocking ``write()+flush()`` on the loop thread, so a
slow reader (a busy editor) would stall audio. Here stdout is an asyncio pipe transport, stdin an
asyncio stream; when stdin closes (the editor is gone) the read loop ends and every session,
task and child process is closed before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time

from pygls.io_ import run_async

from voicepilot.event_loop import new_event_loop
from voicepilot.sidecar.server import VoicePilotServer
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 0.6  # the process must be gone within 1 s of stdin closing


async def serve_stdio() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    server = VoicePilotServer()
    server.protocol.set_writer(writer)
    stop = threading.Event()
    server._stop_event = stop  # pygls's exit handler sets it; run_async polls it
    try:
        await run_async(
            stop_event=stop, reader=reader, protocol=server.protocol, error_handler=server.report_server_error
        )
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


def main() -> int:
    loop = new_event_loop()
    loop.run_until_complete(serve_stdio())
    # Everything we own is closed. Skip asyncio's and the interpreter's teardown (joining worker
    # threads, unloading aiortc, numpy, PyAV): it can take longer than the editor's 1 s budget.
    sys.stderr.flush()
    os._exit(0)
