"""The engine's error answers, in the service's documented shape:
``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def error_body(
    code: str, message: str, kind: str = "invalid_request_error", param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(
    status: int,
    code: str,
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    retry_after_s: int | None = None,
) -> web.Response:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return web.json_response(error_body(code, message, kind, param), status=status, headers=headers)


def raw_error(status: int, reason: str, code: str, message: str, retry_after_s: int) -> bytes:
    """A whole HTTP/1.1 response, for a connection refused before aiohttp ever sees it."""
    body = json.dumps(error_body(code, message, "server_error")).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Retry-After: {retry_after_s}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body
