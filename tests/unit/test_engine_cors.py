"""Browser clients: the engine answers CORS preflights on the mint and call paths, as the service does."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from voicepilot.engine.app import Engine, EngineSecrets

API_KEY = "unit-key-123456"
PREFLIGHT = {
    "Origin": "http://localhost:5173",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.mark.parametrize(
    "path", ["/openai/v1/realtime/calls", "/openai/v1/realtime/client_secrets", "/v1/realtime/calls"]
)
async def test_preflight_is_answered(path: str) -> None:
    engine = Engine(EngineSecrets(API_KEY, "control-token-123456"), loopback=True)
    async with TestClient(TestServer(engine.app())) as client:
        response = await client.options(path, headers=PREFLIGHT)
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed
        assert "content-type" in allowed


async def test_the_answers_themselves_allow_the_origin_and_show_the_call_location() -> None:
    engine = Engine(EngineSecrets(API_KEY, "control-token-123456"), loopback=True)
    async with TestClient(TestServer(engine.app())) as client:
        minted = await client.post(
            "/openai/v1/realtime/client_secrets",
            json={"session": {"type": "realtime"}},
            headers={"api-key": API_KEY, "Origin": PREFLIGHT["Origin"]},
        )
        assert minted.status == 200
        assert minted.headers["Access-Control-Allow-Origin"] == "*"
        refused = await client.post(
            "/openai/v1/realtime/calls",
            data=b"v=0",
            headers={"Authorization": "Bearer ek_wrong", "Content-Type": "application/sdp"},
        )
        assert refused.status >= 400
        assert refused.headers["Access-Control-Allow-Origin"] == "*"  # a browser can read why
        assert refused.headers["Access-Control-Expose-Headers"] == "Location"


async def test_the_control_api_gets_no_cors() -> None:
    engine = Engine(EngineSecrets(API_KEY, "control-token-123456"), loopback=True)
    async with TestClient(TestServer(engine.app())) as client:
        response = await client.options("/control/faults", headers=PREFLIGHT)
        assert "Access-Control-Allow-Origin" not in response.headers
