"""TLS verification is never turned off: no code in server/ disables it, and the HTTP session every
realtime request uses keeps aiohttp's default (verify certificates and host names)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from voicepilot.realtime.http import client_session

SERVER = Path(__file__).resolve().parents[2] / "server"
# Keyword arguments that switch verification off when False (aiohttp, requests/httpx style).
VERIFY_KEYWORDS = {"ssl", "verify_ssl", "verify", "ssl_verify", "check_hostname"}
INSECURE_NAMES = {"CERT_NONE", "_create_unverified_context", "_create_default_https_context"}


def insecure_spots(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.keyword) and node.arg in VERIFY_KEYWORDS:
            if isinstance(node.value, ast.Constant) and node.value.value in (False, None, 0):
                found.append(f"{where}: {node.arg}={node.value.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr in INSECURE_NAMES | {"check_hostname", "verify_mode"}:
            if node.attr in INSECURE_NAMES or isinstance(node.ctx, ast.Store):
                found.append(f"{where}: {node.attr}")
        elif isinstance(node, ast.Name) and node.id in INSECURE_NAMES:
            found.append(f"{where}: {node.id}")
    return found


def test_nothing_in_server_disables_tls_verification() -> None:
    files = sorted(SERVER.rglob("*.py"))
    assert len(files) > 20
    spots = [spot for path in files for spot in insecure_spots(path.read_text(), str(path.relative_to(SERVER)))]
    assert spots == []


@pytest.mark.parametrize(
    "snippet",
    [
        "session.post(url, ssl=False)",
        "aiohttp.TCPConnector(verify_ssl=False)",
        "httpx.Client(verify=False)",
        "ctx.check_hostname = False",
        "ctx.verify_mode = ssl.CERT_NONE",
        "ssl._create_unverified_context()",
    ],
)
def test_the_scan_finds_each_way_of_disabling_it(snippet: str) -> None:
    assert insecure_spots(snippet, "snippet.py")


async def test_the_realtime_http_session_verifies_certificates() -> None:
    async with client_session() as http:
        connector = http.connector
        assert connector is not None
        # aiohttp's default: True means "verify with the system's trust store"; anything else would
        # be an SSLContext or a fingerprint, which the product never sets.
        assert connector._ssl is True  # type: ignore[attr-defined]
