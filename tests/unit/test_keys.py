from __future__ import annotations

import pytest

from voicepilot.engine.keys import KeyStore, KeyStoreFull
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


def test_engine_keys_are_capped_and_the_refusal_says_when_one_expires() -> None:
    clock = FakeClock()
    store = KeyStore(default_ttl_s=60, clock=clock, max_keys=3)
    first = store.issue("ga", {}, ttl_s=30)
    store.issue("ga", {})
    store.issue("ga", {})
    clock.now += 10
    with pytest.raises(KeyStoreFull) as full:
        store.issue("ga", {})
    assert full.value.retry_after_s == 20  # the first key expires 20 s from now
    assert "at most 3 keys" in full.value.reason
    assert (store.counts(), store.minted) == ((3, 0), 3)
    assert store.check(first.value)[0] == "valid"
    clock.now += 20
    assert store.issue("ga", {}).value  # the first key expired, which made room
    assert store.check(first.value) == ("expired", None)


def test_engine_keys_are_capped_by_the_bytes_of_their_sessions() -> None:
    clock = FakeClock()
    store = KeyStore(default_ttl_s=60, clock=clock, max_bytes=1000)
    store.issue("ga", {}, size=600)  # one key may be as large as the budget
    store.issue("ga", {}, size=400)
    with pytest.raises(KeyStoreFull) as full:
        store.issue("ga", {}, size=1)
    assert "1000 bytes" in full.value.reason
    assert full.value.retry_after_s == 60
    clock.now += 60
    store.issue("ga", {}, size=1000)
    assert (store.counts(), store.bytes) == ((1, 2), 1000)


def test_expired_keys_are_forgotten_at_once_and_remembered_by_value_for_a_bounded_time_and_count() -> None:
    clock = FakeClock()
    store = KeyStore(default_ttl_s=0, clock=clock, expired_kept=5, expired_kept_s=100)
    values = [store.issue("ga", {"instructions": "x" * 1000}, size=1000).value for _ in range(20)]
    assert store.check(values[-1]) == ("expired", None)
    assert (store.counts(), store.bytes) == ((0, 5), 0)  # the sessions are gone
    assert [store.check(v)[0] for v in values[-6:]] == ["unknown"] + ["expired"] * 5
    clock.now += 100.5
    assert store.check(values[-1])[0] == "unknown"
    assert store.counts() == (0, 0)


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
