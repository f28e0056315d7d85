"""Keeps a valid ephemeral key at hand for the whole conversation.

Mints at start, renews on an interval (50 s by default, under the service's one-minute TTL), and
answers :meth:`KeyService.fresh_key` with a key that still has a useful life left, minting on the
spot if the one at hand is too old. Transient failures are retried with capped exponential backoff
and jitter; a 429 waits at least its ``Retry-After``; 401/403 are fatal and never retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from voicepilot.errors import ErrorKind, VoicePilotError
from voicepilot.realtime.keys import EphemeralKey

log = logging.getLogger(__name__)

DEFAULT_RENEW_INTERVAL_S = 50.0
DEFAULT_MIN_REMAINING_S = 10.0
# Renewal never comes sooner than this (unless the interval asked for is shorter): a key that
# looks short-lived, whatever the reason, must not make the service mint in a tight loop.
MIN_RENEWAL_DELAY_S = 5.0
FATAL_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.CONFIG, ErrorKind.PROTOCOL})


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter between ``floor`` and the exponential step."""

    base_s: float = 0.25
    cap_s: float = 8.0
    attempts: int = 6

    def delay(self, attempt: int, rng: random.Random) -> float:
        step = min(self.cap_s, self.base_s * (2**attempt))
        return float(rng.uniform(step / 2, step))


Mint = Callable[[], Awaitable[EphemeralKey]]


class KeyService:
    def __init__(
        self,
        mint: Mint,
        renew_interval_s: float = DEFAULT_RENEW_INTERVAL_S,
        min_remaining_s: float = DEFAULT_MIN_REMAINING_S,
        backoff: Backoff | None = None,
        on_renewed: Callable[[EphemeralKey], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._mint = mint
        self.renew_interval_s = renew_interval_s
        self.min_remaining_s = min_remaining_s
        self._backoff = backoff or Backoff()
        self._on_renewed = on_renewed
        self._rng = rng or random.Random()
        self._key: EphemeralKey | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.mints = 0
        self.failures = 0
        self.last_mint_ms: float | None = None

    @property
    def current(self) -> EphemeralKey | None:
        return self._key

    def _usable(self, key: EphemeralKey | None) -> bool:
        if key is None:
            return False
        # A short-lived key (a test's 3 s TTL) can never have 10 s left: ask for a third of its life.
        lifetime = max(0.0, key.expires_at - key.minted_at)
        return key.seconds_left() >= min(self.min_remaining_s, lifetime / 3)

    def discard(self) -> None:
        """Forget the key at hand (the service refused it): the next request mints a new one."""
        self._key = None

    async def fresh_key(self) -> EphemeralKey:
        """A key with enough life left to connect with; mints (with retries) when needed."""
        async with self._lock:
            if not self._usable(self._key):
                await self._mint_with_retries()
            assert self._key is not None
            return self._key

    async def _mint_with_retries(self) -> None:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                key = await self._mint()
            except VoicePilotError as exc:
                self.failures += 1
                if exc.kind in FATAL_KINDS or attempt + 1 >= self._backoff.attempts:
                    raise
                delay = self._backoff.delay(attempt, self._rng)
                if exc.retry_after_s is not None:
                    delay = max(delay, exc.retry_after_s)
                log.warning("key mint failed (%s); retrying in %.2f s", exc.kind.value, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            self.last_mint_ms = (time.perf_counter() - started) * 1000
            self.mints += 1
            self._key = key
            if self._on_renewed is not None:
                self._on_renewed(key)
            return

    def start(self) -> None:
        """Begin renewing in the background (after the first key has been minted)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._next_renewal_delay())
            try:
                async with self._lock:
                    await self._mint_with_retries()
            except VoicePilotError as exc:
                # The key at hand may still be good for a while; the next connect will retry
                # and report the error if it is not.
                log.warning("key renewal failed: %s", exc.message)

    def _next_renewal_delay(self) -> float:
        delay = self.renew_interval_s
        if self._key is not None:
            lifetime = self._key.expires_at - self._key.minted_at
            margin = min(self.min_remaining_s, lifetime / 3)
            # Never let the key at hand fall below its margin, whatever the interval says.
            delay = min(delay, max(0.0, self._key.seconds_left() - margin))
        return max(delay, min(MIN_RENEWAL_DELAY_S, self.renew_interval_s))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
