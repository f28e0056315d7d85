"""Keyless authentication with Microsoft Entra ID (azure-identity's DefaultAzureCredential).

The token is fetched with bounded timeouts: with no identity configured, azure-identity fails in
about a second (the managed-identity probe), but once real credentials point at an unreachable
authority it can hang for minutes unless told otherwise. Tokens are cached until five minutes
before they expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from voicepilot.errors import VoicePilotError, auth_error, network_error
from voicepilot.logs import register_secret
from voicepilot.realtime.endpoints import AuthStyle
from voicepilot.tasks import TIMEOUT_ERRORS

log = logging.getLogger(__name__)

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
TOKEN_TIMEOUT_S = 10.0
REFRESH_MARGIN_S = 300.0
SIGN_IN_STEP = (
    "Sign in with the Azure CLI (az login) or the Azure account in VS Code, check that your account has the "
    "'Cognitive Services OpenAI User' role on the resource, or use an API key instead."
)


class AccessToken(Protocol):
    token: str
    expires_on: int


class AsyncTokenCredential(Protocol):
    async def get_token(self, *scopes: str) -> Any: ...

    async def close(self) -> None: ...


def default_azure_credential() -> AsyncTokenCredential:
    """azure-identity's chain, with every network step bounded so it fails fast offline."""
    from azure.identity.aio import DefaultAzureCredential

    credential: AsyncTokenCredential = DefaultAzureCredential(
        exclude_interactive_browser_credential=True,
        connection_timeout=2,
        retry_total=0,
        process_timeout=8,
    )
    return credential


@dataclass
class _Cached:
    token: str
    expires_on: float


class EntraCredential:
    """A :class:`voicepilot.realtime.keys.Credential` that presents an Entra bearer token."""

    def __init__(
        self,
        factory: Callable[[], AsyncTokenCredential] = default_azure_credential,
        scope: str = COGNITIVE_SERVICES_SCOPE,
        timeout_s: float = TOKEN_TIMEOUT_S,
    ) -> None:
        self._factory = factory
        self._scope = scope
        self._timeout_s = timeout_s
        self._credential: AsyncTokenCredential | None = None
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"EntraCredential(scope={self._scope!r})"

    async def auth_headers(self, style: AuthStyle) -> dict[str, str]:
        # Azure takes an Entra token as a bearer token on every endpoint, whatever the key style.
        return {"Authorization": f"Bearer {await self.token()}"}

    async def token(self) -> str:
        async with self._lock:
            cached = self._cached
            if cached is not None and cached.expires_on - time.time() > REFRESH_MARGIN_S:
                return cached.token
            self._cached = await self._fetch()
            return self._cached.token

    async def _fetch(self) -> _Cached:
        from azure.core.exceptions import ClientAuthenticationError

        if self._credential is None:
            self._credential = self._factory()
        started = time.perf_counter()
        try:
            access = await asyncio.wait_for(self._credential.get_token(self._scope), self._timeout_s)
        except TIMEOUT_ERRORS as exc:
            raise network_error(
                f"Microsoft Entra ID did not answer within {self._timeout_s:.0f} s.",
                "Check your network connection, or " + SIGN_IN_STEP[0].lower() + SIGN_IN_STEP[1:],
            ) from exc
        except ClientAuthenticationError as exc:
            raise auth_error("No Microsoft Entra ID sign-in is available for Azure OpenAI.", SIGN_IN_STEP) from exc
        except VoicePilotError:
            raise
        register_secret(access.token)
        log.info("Entra ID token acquired in %.0f ms", (time.perf_counter() - started) * 1000)
        return _Cached(access.token, float(access.expires_on))

    async def close(self) -> None:
        if self._credential is not None:
            await self._credential.close()
            self._credential = None
