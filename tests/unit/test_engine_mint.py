"""The engine's key lifetimes, as the service's: GA 600 s unless ``expires_after`` says otherwise."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from voicepilot.engine.app import Engine, EngineSecrets

API_KEY = "unit-key-123456"


async def lifetime(engine: Engine, path: str, body: dict[str, Any]) -> float:
    async with TestClient(TestServer(engine.app())) as client:
        response = await client.post(path, json=body, headers={"api-key": API_KEY})
        assert response.status == 200, await response.text()
        answer = await response.json()
    expires_at = answer["expires_at"] if "expires_at" in answer else answer["client_secret"]["expires_at"]
    return float(expires_at) - time.time()


GA = "/openai/v1/realtime/client_secrets"
PREVIEW = "/openai/realtimeapi/sessions?api-version=2025-04-01-preview"


@pytest.mark.parametrize(
    ("cap", "path", "body", "expected"),
    [
        (None, GA, {"session": {"type": "realtime"}}, 600),
        (None, GA, {"expires_after": {"anchor": "created_at", "seconds": 120}, "session": {"type": "realtime"}}, 120),
        (None, PREVIEW, {"model": "gpt-realtime"}, 60),
        (3.0, GA, {"expires_after": {"anchor": "created_at", "seconds": 600}, "session": {"type": "realtime"}}, 3),
    ],
)
async def test_key_lifetimes(cap: float | None, path: str, body: dict[str, Any], expected: float) -> None:
    engine = Engine(EngineSecrets(API_KEY, None), key_ttl_s=cap, loopback=True)
    assert expected - 2 <= await lifetime(engine, path, body) <= expected + 1
