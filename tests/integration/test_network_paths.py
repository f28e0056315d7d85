"""Calls through a real coturn (TURN over UDP, TCP and TLS) with direct paths refused by the relay
policy, or dropped by nftables in a private network namespace, and the diagnostics naming the path,
against the real sidecar and local engine."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.coturn import RELAY_PORTS, Coturn
from tests.integration.rpc import SidecarClient

pytestmark = pytest.mark.integration
WEBSOCKET_PATH = "Audio and events travel on the WebSocket (TCP)."


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    server = Coturn.start(tmp_path)
    yield server
    server.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_a_call_through_turn_with_the_relay_policy(coturn: Coturn, tmp_path: Path, transport: str) -> None:
    # The sidecar trusts the test's self-signed TURN certificate, as a user's would their CA's.
    sidecar = await SidecarClient.start(tmp_path, {"SSL_CERT_FILE": str(coturn.cert)})
    try:
        stored = await sidecar.request("voicepilot/setCredentials", {"apiKey": None, "turnCredential": coturn.password})
        assert stored == {"stored": False}  # no API key: the local engine brings its own
        connection = {
            "iceServers": [{"urls": [coturn.url(transport)], "username": coturn.username}],
            "iceTransportPolicy": "relay",
        }
        result = await sidecar.request(
            "voicepilot/runDiagnostics", {"profile": "local", "connection": connection}, timeout=60
        )
    finally:
        await sidecar.stop()
    checks = {check["name"]: check for check in result["checks"]}
    assert all(checks[name]["ok"] for name in ("key minted", "SDP exchanged", "data channel open", "round trip"))
    path = checks["media path"]
    assert path["ok"], path
    assert "from a relay candidate to a host candidate over UDP" in path["detail"]
    assert f"(reached over {transport.upper()})" in path["detail"]
    local_port = int(re.search(r"\(127\.0\.0\.1:(\d+) ->", path["detail"]).group(1))  # type: ignore[union-attr]
    assert RELAY_PORTS[0] <= local_port <= RELAY_PORTS[1]  # coturn's relay address carried the media
    stderr = (tmp_path / "sidecar.stderr.log").read_text()
    assert coturn.password not in stderr


@pytest.mark.parametrize("transport", ["webrtc", "auto"])
async def test_a_wrong_turn_password_fails_webrtc_or_falls_back(coturn: Coturn, tmp_path: Path, transport: str) -> None:
    sidecar = await SidecarClient.start(tmp_path)
    try:
        await sidecar.request("voicepilot/setCredentials", {"apiKey": None, "turnCredential": "not-the-password"})
        connection = {
            "iceServers": [{"urls": [coturn.url("udp")], "username": coturn.username}],
            "iceTransportPolicy": "relay",
            "transport": transport,
        }
        result = await sidecar.request(
            "voicepilot/runDiagnostics", {"profile": "local", "connection": connection}, timeout=60
        )
    finally:
        await sidecar.stop()
    checks = {check["name"]: check for check in result["checks"]}
    if transport == "webrtc":
        # No relay candidate (the allocation is refused) and no other kind allowed: no call.
        assert [name for name, check in checks.items() if not check["ok"]][-2:] == ["round trip", "media path"]
        assert not checks["media path"]["ok"]
    else:
        assert checks["media path"] == {"name": "media path", "ok": True, "detail": WEBSOCKET_PATH}


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_with_direct_udp_dropped_ice_finds_the_turn_relay(transport: str) -> None:
    # The policy is "all": ICE tries the direct pairs first, nftables drops them, the relay remains.
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "-n",
        sys.executable,
        "-m",
        "tests.integration.netns_turn",
        transport,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 150)
    assert process.returncode == 0, stderr.decode()[-3000:]
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    checks = {check["name"]: check for check in result["checks"]}
    assert all(check["ok"] for check in checks.values()), checks
    assert "from a relay candidate" in checks["media path"]["detail"]
    assert f"(reached over {transport.upper()})" in checks["media path"]["detail"]
    assert result["dropped"] > 0  # the direct attempts were made, and dropped
