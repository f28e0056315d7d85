from __future__ import annotations

import pytest

from voicepilot.engine.keys import KeyStore
from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime.endpoints import Endpoint, resolve_endpoint
from voicepilot.realtime.keys import ApiKeyCredential, error_detail, parse_mint_response


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_engine_keys_expire() -> None:
    clock = FakeClock()
    store = KeyStore(default_ttl_s=3, clock=clock)
    key = store.issue("ga", {})
    assert store.check(key.value)[0] == "valid"
    clock.now += 2.999
    assert store.check(key.value)[0] == "valid"
    clock.now += 0.001
    assert store.check(key.value)[0] == "expired"
    assert store.check("ek_never_issued")[0] == "unknown"
    assert store.minted == 1


def test_credential_repr_hides_the_key() -> None:
    credential = ApiKeyCredential("super-secret-key-value")
    assert "super-secret" not in repr(credential)
    assert "super-secret" not in str(credential)


async def test_auth_header_styles() -> None:
    credential = ApiKeyCredential("k123456")
    assert await credential.auth_headers("api-key") == {"api-key": "k123456"}
    assert await credential.auth_headers("bearer") == {"Authorization": "Bearer k123456"}


def test_mint_responses_of_both_flavors() -> None:
    ga = resolve_endpoint("local", None, local_url="http://127.0.0.1:1")
    key = parse_mint_response('{"value": "ek_1", "expires_at": 5, "session": {"id": "s"}}', ga)
    assert (key.value, key.expires_at, key.session) == ("ek_1", 5.0, {"id": "s"})
    assert "ek_1" not in repr(key)
    preview = Endpoint("local", "preview", "http://127.0.0.1:1/m", "http://127.0.0.1:1/c", "api-key", "d")
    key = parse_mint_response('{"id": "s", "client_secret": {"value": "ek_2", "expires_at": 7}}', preview)
    assert (key.value, key.expires_at) == ("ek_2", 7.0)


def test_mint_response_without_a_key_is_a_protocol_error() -> None:
    ga = resolve_endpoint("local", None, local_url="http://127.0.0.1:1")
    with pytest.raises(VoicePilotError) as error:
        parse_mint_response('{"nothing": true}', ga)
    assert error.value.kind is ErrorKind.PROTOCOL


def test_error_detail_reads_the_documented_body() -> None:
    assert error_detail('{"error": {"message": "Incorrect API key provided.", "code": "x"}}') == (
        "Incorrect API key provided."
    )
    assert error_detail("plain text") == "plain text"
