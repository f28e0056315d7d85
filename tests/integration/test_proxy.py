"""Minting, the SDP exchange and a WebSocket session through a real HTTP proxy (tests/fixtures),
against the real local engine: every request goes through the proxy, with its credentials."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fixtures.connect_proxy import ConnectProxy, TlsFront
from tests.fixtures.coturn import self_signed
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from voicepilot.contract.models import ConnectionSettings
from voicepilot.errors import VoicePilotError
from voicepilot.realtime import events as ev
from voicepilot.realtime.endpoints import resolve_endpoint
from voicepilot.realtime.keys import ApiKeyCredential
from voicepilot.realtime.proxy import proxy_from
from voicepilot.realtime.session import RealtimeSession, SessionOptions
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.sidecar.probe import QuietObserver, connection_checks

pytestmark = pytest.mark.integration


@pytest.fixture
async def proxy() -> AsyncIterator[ConnectProxy]:
    server = ConnectProxy("proxy-user", "proxy-pass-" + "9f3e2a1b")
    await server.start()
    yield server
    await server.stop()


async def connect_through(proxy_url: str, engine: EngineProcess, transport: str) -> RealtimeSession:
    # The engine is on loopback, which goes direct by default: this test asks for the proxy.
    route = proxy_from(proxy_url, {}, bypass_loopback=False)
    endpoint = resolve_endpoint("azure", ConnectionSettings(endpoint=engine.url), proxy=route)
    first_event = asyncio.Event()

    def on_event(event: ev.Event) -> None:
        first_event.set()

    session = RealtimeSession(
        "vp_proxy",
        endpoint,
        ApiKeyCredential(engine.api_key),
        SessionConfig(),
        QuietObserver(),
        None,
        SessionOptions(transport=transport),  # type: ignore[arg-type]
        on_event=on_event,
    )
    await session.start()
    await asyncio.wait_for(first_event.wait(), 10)
    return session


@pytest.mark.parametrize("transport", ["webrtc", "websocket"])
async def test_a_session_goes_through_the_proxy(
    proxy: ConnectProxy, engine: EngineProcess, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = await connect_through(proxy.url_with_credentials, engine, transport)
    try:
        checks = {check.name: check for check in await connection_checks(session)}
    finally:
        await session.close("done")
    assert all(check.ok for check in checks.values()), checks
    base = engine.url
    seen = [(r.method, r.target) for r in proxy.requests]
    assert ("POST", f"{base}/openai/v1/realtime/client_secrets") in seen
    if transport == "webrtc":
        assert ("POST", f"{base}/openai/v1/realtime/calls") in seen
        assert "from a host candidate" in checks["media path"].detail
    else:
        assert ("GET", f"ws{base[4:]}/openai/v1/realtime?model=gpt-realtime") in seen
        assert checks["media path"].detail == "Audio and events travel on the WebSocket (TCP)."
    assert all(r.authorized for r in proxy.requests)
    control = await engine.control()
    # Nothing went around the proxy: the engine saw exactly the mints the proxy carried.
    assert control["mintRequests"] == sum(1 for method, target in seen if target.endswith("/client_secrets"))
    assert proxy.password not in caplog.text
    assert proxy.password not in repr(session.endpoint)


async def test_wrong_proxy_credentials_fail_the_mint_as_a_network_error(
    proxy: ConnectProxy, engine: EngineProcess
) -> None:
    with pytest.raises(VoicePilotError) as raised:
        await connect_through(f"http://proxy-user:wrong-password@127.0.0.1:{proxy.port}", engine, "webrtc")
    assert "wrong-password" not in str(raised.value)
    assert [r.authorized for r in proxy.requests] == [False]
    assert (await engine.control())["mintRequests"] == 0


@pytest.mark.parametrize("transport", ["auto", "websocket"])
async def test_the_sidecar_reaches_an_https_service_only_through_the_proxy(
    proxy: ConnectProxy, engine: EngineProcess, tmp_path: Path, transport: str
) -> None:
    # The service's name resolves for the proxy only: there is no direct path to it. TLS ends in
    # front of the engine with a certificate the sidecar trusts, as it would a corporate CA.
    host = "vp-proxy-test.openai.azure.com"
    cert, key = self_signed(tmp_path, host, "service")
    front = TlsFront(cert, key, engine.port)
    await front.start()
    proxy.hosts[host] = "127.0.0.1"
    sidecar = await SidecarClient.start(tmp_path, {"SSL_CERT_FILE": str(cert), "HTTPS_PROXY": "http://unused:1"})
    try:
        await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
        connection = {
            "endpoint": f"https://{host}:{front.listening_port}",
            "proxy": proxy.url_with_credentials,  # http.proxy wins over the environment
            "transport": transport,
        }
        result = await sidecar.request(
            "voicepilot/runDiagnostics", {"profile": "azure", "connection": connection}, timeout=60
        )
    finally:
        await sidecar.stop()
        await front.stop()
    checks = {check["name"]: check for check in result["checks"]}
    assert all(checks[name]["ok"] for name in ("key minted", "SDP exchanged", "data channel open", "round trip"))
    # Only the proxy can resolve the host: whatever reached the engine came through its tunnels
    # (aiohttp keeps a tunnel open for the next request, so there may be fewer than requests).
    tunnels = [r for r in proxy.requests if r.method == "CONNECT"]
    assert tunnels
    assert {r.target for r in tunnels} == {f"{host}:{front.listening_port}"}
    assert all(r.authorized for r in proxy.requests)
    control = await engine.control()
    assert control["mintRequests"] == 1
    assert len(control["calls"]) == 1
    if transport == "websocket":
        assert checks["media path"]["detail"] == "Audio and events travel on the WebSocket (TCP)."
        assert control["callRequests"] == 0
    else:
        assert control["callRequests"] == 1  # the SDP offer
    stderr = (tmp_path / "sidecar.stderr.log").read_text()
    assert proxy.password not in stderr
