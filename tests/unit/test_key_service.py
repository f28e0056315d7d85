from __future__ import annotations

import asyncio
import random
import time

import pytest

from voicepilot.errors import ErrorKind, VoicePilotError, auth_error, classify_http_status, network_error
from voicepilot.realtime.key_service import Backoff, KeyService
from voicepilot.realtime.keys import EphemeralKey

FAST = Backoff(base_s=0.001, cap_s=0.004, attempts=4)


class ScriptedMint:
    """Answers each mint from a script: an exception to raise, or a key lifetime in seconds."""

    def __init__(self, *script: float | tuple[float, float] | VoicePilotError) -> None:
        self.script = list(script)
        self.calls = 0

    async def __call__(self) -> EphemeralKey:
        self.calls += 1
        step = self.script.pop(0) if self.script else 60.0
        if isinstance(step, VoicePilotError):
            raise step
        lifetime, age = step if isinstance(step, tuple) else (step, 0.0)
        now = time.time()
        return EphemeralKey(f"ek_{self.calls}", now - age + lifetime, minted_at=now - age)


async def test_mints_once_and_reuses_a_fresh_key() -> None:
    mint = ScriptedMint(60.0)
    service = KeyService(mint, backoff=FAST)
    first = await service.fresh_key()
    assert await service.fresh_key() is first
    assert mint.calls == 1


async def test_a_key_without_enough_life_left_is_replaced() -> None:
    mint = ScriptedMint((30.0, 25.0), 60.0)  # a 30 s key with 5 s left: under the 10 s margin
    service = KeyService(mint, backoff=FAST)
    assert (await service.fresh_key()).value == "ek_1"
    assert (await service.fresh_key()).value == "ek_2"


async def test_transient_failures_are_retried() -> None:
    mint = ScriptedMint(network_error("down"), classify_http_status(500, "boom"), 60.0)
    service = KeyService(mint, backoff=FAST)
    assert (await service.fresh_key()).value == "ek_3"
    assert service.failures == 2


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_are_never_retried(status: int) -> None:
    mint = ScriptedMint(classify_http_status(status, "nope"), 60.0)
    service = KeyService(mint, backoff=FAST)
    with pytest.raises(VoicePilotError) as error:
        await service.fresh_key()
    assert error.value.kind is ErrorKind.AUTH
    assert mint.calls == 1


async def test_retry_after_is_honoured() -> None:
    limited = classify_http_status(429, "slow down", retry_after="0.05")
    assert limited.retry_after_s == 0.05
    mint = ScriptedMint(limited, 60.0)
    service = KeyService(mint, backoff=FAST)
    started = time.monotonic()
    await service.fresh_key()
    assert time.monotonic() - started >= 0.05


async def test_gives_up_after_the_last_attempt() -> None:
    mint = ScriptedMint(*[network_error("down")] * 10)
    service = KeyService(mint, backoff=FAST)
    with pytest.raises(VoicePilotError):
        await service.fresh_key()
    assert mint.calls == FAST.attempts


def test_backoff_is_capped_and_jittered() -> None:
    backoff = Backoff(base_s=0.25, cap_s=8.0, attempts=8)
    rng = random.Random(7)
    delays = [backoff.delay(n, rng) for n in range(8)]
    assert all(0.125 <= d <= 8.0 for d in delays)
    assert delays[-1] >= 4.0
    assert len({round(d, 6) for d in delays}) == len(delays)


async def test_background_renewal_keeps_minting() -> None:
    renewed: list[str] = []
    four = asyncio.Event()

    def on_renewed(key: EphemeralKey) -> None:
        renewed.append(key.value)
        if len(renewed) == 4:
            four.set()

    service = KeyService(ScriptedMint(*[60.0] * 10), renew_interval_s=0.01, backoff=FAST, on_renewed=on_renewed)
    await service.fresh_key()
    service.start()
    await asyncio.wait_for(four.wait(), 5)
    await service.close()
    assert renewed[:4] == ["ek_1", "ek_2", "ek_3", "ek_4"]


def test_auth_error_helper_is_fatal_kind() -> None:
    assert auth_error("x").kind is ErrorKind.AUTH
