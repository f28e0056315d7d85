"""Content-Length framing with limits: bad frames are reported and skipped, never held whole."""

from __future__ import annotations

import asyncio
import json

import pytest

from voicepilot.logs import REDACTED, held
from voicepilot.sidecar.framing import (
    MAX_HEADER_LINE,
    MAX_MESSAGE_BYTES,
    Frame,
    FramedWriter,
    StreamTooLarge,
    read_frame,
)


def message(body: bytes, *headers: bytes) -> bytes:
    return b"".join(headers) + b"Content-Length: %d\r\n\r\n" % len(body) + body


def stream(*chunks: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    for chunk in chunks:
        reader.feed_data(chunk)
    if eof:
        reader.feed_eof()
    return reader


async def frames(reader: asyncio.StreamReader) -> list[Frame]:
    found = []
    while (frame := await read_frame(reader)) is not None:
        found.append(frame)
    return found


async def test_messages_in_a_row_with_other_headers_and_stray_blank_lines() -> None:
    reader = stream(
        message(b'{"a":1}', b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"),
        b"\r\n",
        message(b'{"b":2}'),
        b"content-length:3\n\n[1]",  # bare newlines and any case are accepted
    )
    assert await frames(reader) == [Frame(b'{"a":1}'), Frame(b'{"b":2}'), Frame(b"[1]")]


async def test_an_overlong_header_line_is_skipped_and_the_next_message_read() -> None:
    overlong = b"X-Junk: " + b"j" * (MAX_HEADER_LINE * 3) + b"\r\n"
    reader = stream(message(b'{"dropped":1}', overlong), message(b'{"next":1}'))
    found = await frames(reader)
    assert found[0].body is None
    assert "longer than" in (found[0].problem or "")
    assert found[1:] == [Frame(b'{"next":1}')]


async def test_a_message_without_a_length_is_reported() -> None:
    found = await frames(stream(b"Content-Type: x\r\n\r\n", message(b"{}")))
    assert found == [Frame(problem="A message without a Content-Length header."), Frame(b"{}")]


@pytest.mark.parametrize("declared", [MAX_MESSAGE_BYTES + 1, 2**31, 10**40])
async def test_a_message_over_the_limit_ends_the_stream_without_waiting_for_it(declared: int) -> None:
    reader = stream(b"Content-Length: %d\r\n\r\n{" % declared, eof=False)
    with pytest.raises(StreamTooLarge):
        await asyncio.wait_for(read_frame(reader), 1)


async def test_the_end_of_the_stream_mid_message_is_the_end() -> None:
    assert await frames(stream(b"Content-Length: 10\r\n\r\n{}")) == []
    assert await frames(stream(b"Content-Len")) == []


class Pipe:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


async def test_the_writer_frames_and_redacts_what_it_sends() -> None:
    key = "writer-key-" + "0123456789abcdef"
    held.register(key)
    pipe = Pipe()
    writer = FramedWriter(pipe)
    writer.send({"id": 1, "error": {"message": f"Incorrect API key provided: {key[:12]}...{key[-8:]}"}})
    writer.write(b'{"ok":true}')
    first, second = await frames(stream(pipe.written))
    assert json.loads(first.body or b"") == {
        "id": 1,
        "error": {"message": f"Incorrect API key provided: {REDACTED}...{REDACTED}"},
    }
    assert second.body == b'{"ok":true}'
