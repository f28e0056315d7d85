"""Each framed message checked before pygls sees it: JSON, a JSON-RPC 2.0 shape, ``initialize`` first.

Bad input gets the JSON-RPC error it deserves (-32700 not JSON, -32600 not a request, -32002 a
request before ``initialize``; notifications before it are dropped, as LSP says) and the sidecar
goes on serving. ``exit`` ends the read loop here, which closes everything as a closed stdin does.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

from voicepilot.sidecar.framing import FramedWriter

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
SERVER_NOT_INITIALIZED = -32002

MsgId = str | int | None


def _is_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


class MessageGate:
    def __init__(self, protocol: JsonRPCProtocol, writer: FramedWriter) -> None:
        self._protocol = protocol
        self._writer = writer
        self.initialized = False
        self.exit_requested = False

    def reply_error(self, msg_id: MsgId, code: int, message: str) -> None:
        log.warning("answered JSON-RPC error %d: %s", code, message)
        self._writer.send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    def handle(self, body: bytes) -> None:
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            self.reply_error(None, PARSE_ERROR, "Parse error: the message is not valid JSON.")
            return
        message = self._checked(decoded)
        if message is None:
            return
        method = message.get("method")
        if method == types.EXIT:
            self.exit_requested = True
            return
        if not self.initialized and method not in (None, types.INITIALIZE):
            if "id" in message:
                self.reply_error(
                    message["id"], SERVER_NOT_INITIALIZED, f"Server not initialized: {method} before initialize."
                )
            return
        try:
            structured = self._protocol.structure_message(message)
        except JsonRpcException as exc:
            if method is not None and "id" in message:
                self.reply_error(message["id"], exc.code, exc.message or "Invalid request.")
            return
        if method == types.INITIALIZE:
            self.initialized = True
        try:
            self._protocol.handle_message(structured)
        except Exception:  # pygls answers handler errors itself; anything else must not end the loop
            log.exception("could not handle %s", method or "a response")

    def _checked(self, decoded: Any) -> dict[str, Any] | None:
        """The message with only its JSON-RPC members, or None once an error was answered."""
        if not isinstance(decoded, dict):
            self.reply_error(None, INVALID_REQUEST, "Invalid request: a message must be a JSON object (no batches).")
            return None
        msg_id = decoded.get("id")
        known_id = msg_id if _is_id(msg_id) else None
        if decoded.get("jsonrpc") != "2.0":
            self.reply_error(known_id, INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".')
            return None
        if "method" in decoded:
            method = decoded["method"]
            if not isinstance(method, str) or ("id" in decoded and not _is_id(msg_id)):
                self.reply_error(
                    known_id,
                    INVALID_REQUEST,
                    "Invalid request: the method must be a string, the id a string or number.",
                )
                return None
            message = {"jsonrpc": "2.0", "method": method, "params": decoded.get("params")}
            if "id" in decoded:
                message["id"] = msg_id
            return message
        # A response to one of our requests (voicepilot/runTool).
        for member in ("result", "error"):
            if member in decoded and (msg_id is None or _is_id(msg_id)):
                return {"jsonrpc": "2.0", "id": msg_id, member: decoded[member]}
        log.warning("dropped a message that is neither a request nor a response")
        return None
