"""The sidecar's pipes on each platform: POSIX's non-blocking pipes and Windows' threads."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

import pytest

from voicepilot.sidecar.framing import read_frame
from voicepilot.sidecar.stdio import open_stdio

MESSAGE = b'{"jsonrpc": "2.0", "method": "exit"}'


@pytest.fixture
def pipes() -> Iterator[tuple[int, int, int, int]]:
    """(editor writes, sidecar reads, sidecar writes, editor reads)."""
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    yield stdin_write, stdin_read, stdout_write, stdout_read
    for fd in (stdin_write, stdout_read):
        with contextlib.suppress(OSError):  # closed by the test
            os.close(fd)


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
async def test_a_message_goes_in_and_out_and_eof_ends_the_stream(
    pipes: tuple[int, int, int, int], platform: str
) -> None:
    editor_writes, sidecar_reads, sidecar_writes, editor_reads = pipes
    stdio = await open_stdio(os.fdopen(sidecar_reads, "rb"), os.fdopen(sidecar_writes, "wb"), platform)

    os.write(editor_writes, b"Content-Length: %d\r\n\r\n" % len(MESSAGE) + MESSAGE)
    frame = await asyncio.wait_for(read_frame(stdio.reader), 5)
    assert frame is not None
    assert frame.body == MESSAGE

    stdio.transport.write(b"first ")
    stdio.transport.write(b"second")
    await asyncio.wait_for(stdio.flush(), 5)
    assert await asyncio.to_thread(os.read, editor_reads, 100) == b"first second"

    os.close(editor_writes)
    assert await asyncio.wait_for(read_frame(stdio.reader), 5) is None
    stdio.transport.close()


async def test_windows_writes_after_the_editor_left_are_dropped(pipes: tuple[int, int, int, int]) -> None:
    _, sidecar_reads, sidecar_writes, editor_reads = pipes
    stdio = await open_stdio(os.fdopen(sidecar_reads, "rb"), os.fdopen(sidecar_writes, "wb"), "win32")
    os.close(editor_reads)
    stdio.transport.write(b"nobody reads this")
    await asyncio.wait_for(stdio.flush(), 5)  # no exception reaches the loop, and flush still resolves
    stdio.transport.close()
