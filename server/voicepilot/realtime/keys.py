"""Credentials and ephemeral-key minting.

The long-lived credential (a resource API key) never leaves this module except as a request
header to the mint endpoint; its ``repr`` is redacted so it cannot reach a log line by accident.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import aiohttp

from voicepilot.errors import VoicePilotError, classify_http_status, network_error, protocol_error
from voicepilot.logs import register_secret
from voicepilot.realtime.endpoints import AuthStyle, Endpoint
from voicepilot.realtime.proxy import route
from voicepilot.realtime.service_clock import ServiceClock
from voicepilot.realtime.session_config import SessionConfig

MINT_TIMEOUT_S = 10.0


class Credential(Protocol):
    async def auth_headers(self, style: AuthStyle) -> dict[str, str]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class ApiKeyCredential:
    key: str = field(repr=False)

    async def auth_headers(self, style: AuthStyle) -> dict[str, str]:
        if style == "api-key":
            return {"api-key": self.key}
        return {"Authorization": f"Bearer {self.key}"}

    def __repr__(self) -> str:
        return "ApiKeyCredential(key=<redacted>)"

    async def close(self) -> None:
        """Nothing to release: the key is just a string."""


@dataclass(frozen=True)
class EphemeralKey:
    value: str = field(repr=False)
    expires_at: float
    session: dict[str, Any] = field(default_factory=dict, repr=False)
    minted_at: float = field(default_factory=time.time)

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)


def error_detail(body: str) -> str:
    """The service's error message from a JSON error body, or a short excerpt of the text."""
    try:
        payload = json.loads(body)
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or body[:200])
        return str(error)
    except ValueError:
        return body[:200] or "no detail"


def mint_body(endpoint: Endpoint, config: SessionConfig) -> dict[str, Any]:
    session = config.to_wire(endpoint.flavor)
    session["model"] = endpoint.deployment
    if endpoint.flavor == "preview":
        return session
    return {"session": session}


async def mint_ephemeral_key(
    http: aiohttp.ClientSession,
    endpoint: Endpoint,
    credential: Credential,
    config: SessionConfig,
    clock: ServiceClock | None = None,
) -> EphemeralKey:
    """POST the mint request and return the ephemeral key, or raise a classified error.

    With a ``clock``, the answer's ``Date`` header updates it and the key's ``expires_at`` is
    returned in local time."""
    headers = await credential.auth_headers(endpoint.auth_style)
    sent_at = time.time()
    via = route(endpoint.proxy, endpoint.mint_url)
    try:
        async with http.post(
            endpoint.mint_url,
            json=mint_body(endpoint, config),
            headers=headers | via.headers,
            proxy=via.proxy,
            proxy_headers=via.proxy_headers,
            timeout=aiohttp.ClientTimeout(total=MINT_TIMEOUT_S),
            # A redirect would resend the key to wherever it points: never follow one.
            allow_redirects=False,
        ) as response:
            body = await response.text()
            if clock is not None:
                clock.observe(response.headers.get("Date"), sent_at)
            if response.status != 200:
                raise classify_http_status(response.status, error_detail(body), response.headers.get("Retry-After"))
    except VoicePilotError:
        raise
    except (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError) as exc:
        raise network_error(
            f"Could not reach the key service at {endpoint.mint_url} ({exc.__class__.__name__})."
        ) from exc
    return parse_mint_response(body, endpoint, clock)


def parse_mint_response(body: str, endpoint: Endpoint, clock: ServiceClock | None = None) -> EphemeralKey:
    try:
        payload = json.loads(body)
        if endpoint.flavor == "preview":
            secret = payload["client_secret"]
            key = EphemeralKey(str(secret["value"]), float(secret["expires_at"]), payload)
        else:
            key = EphemeralKey(str(payload["value"]), float(payload["expires_at"]), payload.get("session") or {})
    except (ValueError, KeyError, TypeError):
        raise protocol_error("The key service answered without an ephemeral key.") from None
    register_secret(key.value, transient=True)
    if clock is not None:
        key = replace(key, expires_at=clock.to_local(key.expires_at))
    return key
