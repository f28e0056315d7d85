"""The bench's network rows: a call that only TURN over TCP can carry."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.fixtures.coturn import Coturn
from tests.integration.rpc import SidecarClient


async def turn_tcp_connect(workdir: Path) -> tuple[bool, float]:
    """Probe the local engine through coturn over TCP with the relay policy (so no direct path
    counts); True when every check passed and the media path is coturn's relay reached over TCP.
    Also returns how long the probe took (ms)."""
    # Off the loop: starting coturn blocks until it listens, and the soak runs beside this.
    turn = await asyncio.to_thread(_start_coturn, workdir)
    try:
        sidecar = await SidecarClient.start(workdir)
        try:
            await sidecar.request("voicepilot/setCredentials", {"apiKey": None, "turnCredential": turn.password})
            connection = {
                "iceServers": [{"urls": [turn.url("tcp")], "username": turn.username}],
                "iceTransportPolicy": "relay",
                "transport": "webrtc",
            }
            started = time.monotonic()
            result = await sidecar.request(
                "voicepilot/runDiagnostics", {"profile": "local", "connection": connection}, timeout=60
            )
            took_ms = (time.monotonic() - started) * 1000
        finally:
            await sidecar.stop()
    finally:
        await asyncio.to_thread(turn.stop)
    checks = {check["name"]: check for check in result["checks"]}
    detail = checks.get("media path", {}).get("detail", "")
    ok = all(check["ok"] for name, check in checks.items() if name != "last error")
    return ok and "from a relay candidate" in detail and "(reached over TCP)" in detail, took_ms


def _start_coturn(workdir: Path) -> Coturn:
    workdir.mkdir(parents=True, exist_ok=True)
    return Coturn.start(workdir)
