from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.logs import redact
from voicepilot.realtime.entra import COGNITIVE_SERVICES_SCOPE, EntraCredential


@dataclass
class Token:
    token: str
    expires_on: int


class FakeTokenService:
    """Stands in for Entra ID's token service, which cannot be reached from here."""

    def __init__(self, *answers: Token | Exception | None) -> None:
        self.answers = list(answers)
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str) -> Any:
        self.scopes.append(scopes)
        answer = self.answers.pop(0)
        if answer is None:
            await asyncio.Event().wait()  # never answers
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        self.closed = True


async def test_bearer_header_with_the_cognitive_services_scope_and_cached_token() -> None:
    service = FakeTokenService(Token("tok-1234567", int(time.time()) + 3600))
    credential = EntraCredential(lambda: service)
    assert await credential.auth_headers("api-key") == {"Authorization": "Bearer tok-1234567"}
    assert await credential.auth_headers("bearer") == {"Authorization": "Bearer tok-1234567"}
    assert service.scopes == [(COGNITIVE_SERVICES_SCOPE,)]
    assert redact("token tok-1234567 leaked") == "token <redacted> leaked"
    await credential.close()
    assert service.closed


async def test_a_token_near_expiry_is_refreshed() -> None:
    service = FakeTokenService(
        Token("old-token-1", int(time.time()) + 60), Token("new-token-2", int(time.time()) + 3600)
    )
    credential = EntraCredential(lambda: service)
    assert await credential.token() == "old-token-1"
    assert await credential.token() == "new-token-2"


async def test_no_sign_in_is_an_auth_error_that_says_what_to_do() -> None:
    credential = EntraCredential(lambda: FakeTokenService(ClientAuthenticationError("nothing configured")))
    with pytest.raises(VoicePilotError) as error:
        await credential.token()
    assert error.value.kind is ErrorKind.AUTH
    assert "az login" in error.value.next_step


async def test_a_token_service_that_hangs_is_a_bounded_network_error() -> None:
    credential = EntraCredential(lambda: FakeTokenService(None), timeout_s=0.05)
    with pytest.raises(VoicePilotError) as error:
        await credential.token()
    assert error.value.kind is ErrorKind.NETWORK
    assert "did not answer" in error.value.message


async def test_the_real_chain_fails_fast_when_nothing_is_signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    credential = EntraCredential()
    started = time.monotonic()
    with pytest.raises(VoicePilotError) as error:
        await credential.token()
    await credential.close()
    assert error.value.kind in (ErrorKind.AUTH, ErrorKind.NETWORK)
    assert time.monotonic() - started < 10
