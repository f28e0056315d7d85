"""The engine's control API (fault injection) refuses requests without its token, and answers
loopback clients only; the engine itself listens on loopback unless told otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.integration.engine_process import EngineProcess
from voicepilot.engine.app import Engine, EngineSecrets

pytestmark = pytest.mark.integration

CONTROL = [
    ("GET", "/control/calls", None),
    ("POST", "/control/faults", {"stopAnswering": True}),
    ("POST", "/control/actions", {"closePeers": True}),
]


async def test_the_engine_process_listens_on_loopback_and_refuses_control_without_its_token(
    engine: EngineProcess,
) -> None:
    async with aiohttp.ClientSession() as http:
        for method, path, body in CONTROL:
            for headers in ({}, {"X-VoicePilot-Control": "wrong"}, {"X-VoicePilot-Control": engine.control_token[:-1]}):
                async with http.request(method, engine.url + path, json=body, headers=headers) as response:
                    assert response.status == 401
                    assert (await response.json())["error"]["code"] == "invalid_control_token"
    # The faults were not applied.
    assert (await engine.control())["faults"]["stop_answering"] is False

    assert engine.url.startswith("http://127.0.0.1:")
    table = await asyncio.to_thread(Path("/proc/net/tcp").read_text)
    listening = [line.split() for line in table.splitlines()[1:]]
    ours = [fields[1] for fields in listening if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == engine.port]
    assert ours == [f"0100007F:{engine.port:04X}"]  # 127.0.0.1 only, in /proc's little-endian hex
    # Nor on IPv6 (not on ::, which would take every interface's IPv4 too on a dual-stack socket).
    table6 = await asyncio.to_thread(Path("/proc/net/tcp6").read_text)
    listening6 = [line.split() for line in table6.splitlines()[1:]]
    assert [f[1] for f in listening6 if f[3] == "0A" and int(f[1].split(":")[1], 16) == engine.port] == []


@web.middleware
async def remote_from_header(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Makes a request look as if it came from the address in ``X-Test-Remote``: how the control API
    is tested for non-loopback clients without sending a packet anywhere but loopback."""
    return await handler(request.clone(remote=request.headers["X-Test-Remote"]))


@pytest.fixture(scope="module")
def control_as() -> Iterator[Callable[[str, str | None], int]]:
    """One in-process engine (with that middleware) on its own loop, for every case in this module."""
    loop = asyncio.new_event_loop()
    app = Engine(EngineSecrets("resource-key-123456", "control-token-123456")).app()
    app.middlewares.append(remote_from_header)
    client: TestClient[Any, Any] = TestClient(TestServer(app), loop=loop)
    loop.run_until_complete(client.start_server())

    def request(remote: str, token: str | None) -> int:
        headers = {"X-Test-Remote": remote, **({"X-VoicePilot-Control": token} if token else {})}
        response = loop.run_until_complete(client.get("/control/calls", headers=headers))
        return response.status

    yield request
    loop.run_until_complete(client.close())
    loop.close()


@pytest.mark.parametrize("remote", ["192.0.2.10", "::ffff:192.0.2.10", "2001:db8::1", "", "localhost.evil.example"])
def test_control_refuses_clients_that_are_not_loopback_even_with_the_token(
    control_as: Callable[[str, str | None], int], remote: str
) -> None:
    assert control_as(remote, "control-token-123456") == 403


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_control_answers_loopback_clients_with_the_token(
    control_as: Callable[[str, str | None], int], remote: str
) -> None:
    assert control_as(remote, "control-token-123456") == 200
    assert control_as(remote, None) == 401
    assert control_as(remote, "control-token-12345") == 401


async def test_an_engine_without_a_control_token_has_no_control_api() -> None:
    engine = Engine(EngineSecrets("resource-key-123456", None))
    async with TestClient(TestServer(engine.app())) as client:
        for token in ("", "None", "null"):
            response = await client.get("/control/calls", headers={"X-VoicePilot-Control": token})
            assert response.status == 401
