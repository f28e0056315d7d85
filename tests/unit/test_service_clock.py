"""Key lifetimes and session ends on the service's clock, with this machine's clock 90 s ahead."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp import web

from voicepilot.realtime.endpoints import resolve_endpoint
from voicepilot.realtime.key_service import MIN_RENEWAL_DELAY_S, KeyService
from voicepilot.realtime.keys import ApiKeyCredential, EphemeralKey, mint_ephemeral_key, parse_mint_response
from voicepilot.realtime.service_clock import ServiceClock, backstop_end, parse_http_date
from voicepilot.realtime.session_config import SessionConfig

AHEAD_S = 90.0  # this machine's clock runs this far ahead of the service's
KEY_TTL_S = 60


def service_now() -> float:
    return time.time() - AHEAD_S


@pytest.fixture
async def skewed_service() -> AsyncIterator[str]:
    """A mint endpoint whose clock (its Date header and expires_at) is 90 s behind ours."""

    async def mint(request: web.Request) -> web.Response:
        now = service_now()
        body = {"value": "ek_skewed", "expires_at": int(now) + KEY_TTL_S, "session": {}}
        return web.json_response(body, headers={"Date": formatdate(now, usegmt=True)})

    app = web.Application()
    app.router.add_post("/openai/v1/realtime/client_secrets", mint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def test_http_dates_parse_or_are_ignored() -> None:
    assert parse_http_date("Tue, 08 Dec 2026 01:00:00 GMT") == 1796691600.0
    for bad in (None, "", "yesterday", "Tue, 99 Foo 2026"):
        assert parse_http_date(bad) is None


def test_the_offset_errs_towards_an_early_expiry() -> None:
    clock = ServiceClock()
    sent = time.time()
    clock.observe(formatdate(sent - AHEAD_S, usegmt=True), sent)
    assert clock.measured
    # Service time taken a second late: a service expiry converts to at most a second early.
    assert -AHEAD_S <= clock.offset_s <= -AHEAD_S + 1.0
    assert sent + 59.0 <= clock.to_local(sent - AHEAD_S + KEY_TTL_S) <= sent + 60.0
    clock.observe(None, sent)  # an answer without a Date keeps what was learnt
    assert -AHEAD_S <= clock.offset_s <= -AHEAD_S + 1.0


async def test_a_key_minted_with_the_clock_90_s_ahead_renews_on_schedule(skewed_service: str) -> None:
    endpoint = resolve_endpoint("local", None, local_url=skewed_service)
    clock = ServiceClock()
    async with aiohttp.ClientSession() as http:
        key = await mint_ephemeral_key(http, endpoint, ApiKeyCredential("k_test_123"), SessionConfig(), clock)

        assert 58.0 <= key.seconds_left() <= 60.5, key.seconds_left()
        credential = ApiKeyCredential("k_test_123")
        keys = KeyService(lambda: mint_ephemeral_key(http, endpoint, credential, SessionConfig(), clock))
        await keys.fresh_key()
        assert keys.mints == 1
        await keys.fresh_key()  # still good: no second mint
        assert keys.mints == 1
        # About 50 s, as for a 60-second key on an agreeing clock (the key's whole seconds cost up to 2).
        assert 48.0 <= keys._next_renewal_delay() <= 50.0
        await keys.close()
    # The service's session end, in local time: 30 minutes from the service's now.
    assert 1799.0 <= clock.to_local(service_now() + 1800) - time.time() <= 1800.5


async def test_without_the_service_clock_the_same_key_looks_expired_and_renewal_still_waits() -> None:
    """What the clock prevents: read on the local clock, the key has -30 s left; renewal must
    still never come sooner than every 5 s."""
    ga = resolve_endpoint("local", None, local_url="http://127.0.0.1:1")
    body = f'{{"value": "ek_naive", "expires_at": {int(service_now()) + KEY_TTL_S}}}'
    key = parse_mint_response(body, ga)
    assert key.seconds_left() < 0

    async def mint() -> EphemeralKey:
        return key

    keys = KeyService(mint)
    await keys.fresh_key()
    assert keys._next_renewal_delay() == MIN_RENEWAL_DELAY_S
    short = KeyService(mint, renew_interval_s=2.0)  # an interval asked for explicitly is kept
    await short.fresh_key()
    assert short._next_renewal_delay() == 2.0


def test_a_session_without_an_announced_end_is_given_its_profiles_length() -> None:
    assert backstop_end("azure", 1000.0) == 1000.0 + 30 * 60
    assert backstop_end("openai", 1000.0) == 1000.0 + 60 * 60
    assert backstop_end("local", 1000.0) is None  # the engine announces its limit when it has one
