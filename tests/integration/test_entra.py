"""Keyless sign-in end to end: the real sidecar, azure-identity and the engine; only Entra ID's token
service is a stand-in (a local server speaking the App Service managed-identity protocol)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from tests.integration.test_round_trip import ok_tool, start_params

pytestmark = pytest.mark.integration
IDENTITY_HEADER = "test-identity-header"


@pytest.fixture
async def token_service(engine: EngineProcess) -> AsyncIterator[tuple[str, list[str]]]:
    """Issues the engine's key as the 'Entra token', so the engine accepts it as a bearer token."""
    resources: list[str] = []

    async def token(request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return web.json_response({"error": "bad header"}, status=401)
        resources.append(request.query.get("resource", ""))
        return web.json_response(
            {
                "access_token": engine.api_key,
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query.get("resource"),
                "token_type": "Bearer",
            }
        )

    app = web.Application()
    app.router.add_get("/msi/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/msi/token", resources
    await runner.cleanup()


async def test_keyless_session_with_entra_id(
    engine: EngineProcess, token_service: tuple[str, list[str]], samples: Path, tmp_path: Path
) -> None:
    url, resources = token_service
    sidecar = await SidecarClient.start(tmp_path, {"IDENTITY_ENDPOINT": url, "IDENTITY_HEADER": IDENTITY_HEADER})
    try:
        sidecar.tool_handler = ok_tool
        params = start_params(samples / "go_to_line_42.wav", engine, auth="entra")
        params["profile"] = "azure"
        await sidecar.request("voicepilot/startSession", params)
        await sidecar.wait_for(lambda: sidecar.tool_requests, timeout=30)
        assert sidecar.tool_requests[0]["arguments"] == {"line": 42}
        assert resources == ["https://cognitiveservices.azure.com"]
        assert engine.api_key not in sidecar.stderr_text()
    finally:
        await sidecar.stop()
