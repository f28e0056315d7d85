"""JSON-RPC base-protocol framing (``Content-Length`` headers) with bounded memory.

Reading: a header line longer than ``MAX_HEADER_LINE`` is skipped without being held, and its
message answered as invalid; a message declared longer than ``MAX_MESSAGE_BYTES`` cannot be
skipped safely (its bytes may never come, and what follows would be read as its body), so it
ends the stream. Writing: each message is framed with its length after a last redaction pass.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from voicepilot.logs import held

MAX_MESSAGE_BYTES = 16 * 2**20
MAX_HEADER_LINE = 2**16  # real headers are a few dozen bytes
_CONTENT_LENGTH = re.compile(rb"content-length\s*:\s*(\d+)\s*", re.IGNORECASE)


class StreamTooLarge(Exception):
    """A message declared larger than the limit: the stream cannot be trusted any more."""

    def __init__(self, length: int) -> None:
        super().__init__(
            f"A message of {length} bytes exceeds the limit of {MAX_MESSAGE_BYTES} bytes; the stream cannot "
            "be resynchronised."
        )


@dataclass(frozen=True)
class Frame:
    """One message's body, or why the message was dropped (its body, if any, was skipped)."""

    body: bytes | None = None
    problem: str | None = None


async def _read_line(reader: asyncio.StreamReader) -> bytes | None:
    """The next line (with its newline; b"" at end of stream), or None for one over the limit,
    which is discarded as it is read. ``reader``'s limit must be ``MAX_HEADER_LINE``."""
    too_long = False
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            too_long = True
            await reader.readexactly(exc.consumed)  # drop what is buffered, keep looking for the newline
            continue
        except asyncio.IncompleteReadError:
            return b""
        return None if too_long else line


async def read_frame(reader: asyncio.StreamReader) -> Frame | None:
    """The next message, None once the stream ends. Raises :class:`StreamTooLarge`."""
    length: int | None = None
    problem: str | None = None
    seen_header = False
    while True:
        line = await _read_line(reader)
        if line == b"":
            return None
        if line is None:
            problem, seen_header = f"A header line is longer than {MAX_HEADER_LINE} bytes.", True
            continue
        if not line.strip():
            if seen_header:
                break
            continue  # stray blank lines between messages
        seen_header = True
        match = _CONTENT_LENGTH.fullmatch(line)
        if match:
            digits = match.group(1)
            length = int(digits) if len(digits) <= 12 else MAX_MESSAGE_BYTES + 1
    if length is None:
        return Frame(problem=problem or "A message without a Content-Length header.")
    if length > MAX_MESSAGE_BYTES:
        raise StreamTooLarge(length)
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    return Frame(problem=problem) if problem else Frame(body=body)


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class FramedWriter:
    """pygls's writer (set with ``include_headers=False``): frames each JSON body it is given.

    The body goes through :mod:`voicepilot.logs` first, as a last line for what pygls builds
    itself (error messages quoting an exception); a body that holds a secret is parsed and every
    string in it redacted, which keeps the JSON valid.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        if held.contains(text):
            data = json.dumps(held.redact_json(json.loads(text))).encode()
        self._transport.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)

    def send(self, message: dict[str, Any]) -> None:
        self.write(json.dumps(message).encode())

    def close(self) -> None:
        self._transport.close()
