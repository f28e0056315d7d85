"""Ephemeral keys that really expire, as the service's do, in a store of bounded size.

Live keys are capped by count and by the bytes of the sessions they carry; a full store refuses
with the wait until its next key expires. An expired key is dropped at once but remembered (its
value only, for a while and up to a count) so that a late use is told "expired", not "unknown".
"""

from __future__ import annotations

import heapq
import math
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from voicepilot.realtime.session_config import Flavor

KeyStatus = Literal["valid", "expired", "unknown"]


@dataclass
class IssuedKey:
    value: str = field(repr=False)
    expires_at: float
    flavor: Flavor
    session: dict[str, Any]
    size: int = 0


class KeyStoreFull(Exception):
    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class KeyStore:
    def __init__(
        self,
        default_ttl_s: float = 60.0,
        clock: Any = time.time,
        max_keys: int = 1000,
        max_bytes: int = 16 << 20,
        expired_kept: int = 1000,
        expired_kept_s: float = 300.0,
    ) -> None:
        self.default_ttl_s = default_ttl_s
        self._clock = clock
        self.max_keys = max_keys
        self.max_bytes = max_bytes
        self.expired_kept = expired_kept
        self.expired_kept_s = expired_kept_s
        self._keys: dict[str, IssuedKey] = {}
        self._by_expiry: list[tuple[float, str]] = []  # a heap: keys leave only by expiring
        self._expired: OrderedDict[str, float] = OrderedDict()  # value -> when it expired, oldest first
        self.bytes = 0
        self.minted = 0

    def counts(self) -> tuple[int, int]:
        """(live keys, expired keys remembered), once what has expired is forgotten."""
        self._expire(self._clock())
        return len(self._keys), len(self._expired)

    def issue(self, flavor: Flavor, session: dict[str, Any], ttl_s: float | None = None, size: int = 0) -> IssuedKey:
        """Raises :class:`KeyStoreFull` when the live keys are at the count or byte cap."""
        now = self._clock()
        self._expire(now)
        if len(self._keys) >= self.max_keys or (self._keys and self.bytes + size > self.max_bytes):
            what = (
                f"{self.max_keys} keys" if len(self._keys) >= self.max_keys else f"{self.max_bytes} bytes of sessions"
            )
            retry = math.ceil(self._by_expiry[0][0] - now) if self._by_expiry else 1
            raise KeyStoreFull(f"Too many live ephemeral keys (at most {what}).", max(1, retry))
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        key = IssuedKey("ek_" + secrets.token_urlsafe(24), now + ttl, flavor, session, size)
        self._keys[key.value] = key
        heapq.heappush(self._by_expiry, (key.expires_at, key.value))
        self.bytes += size
        self.minted += 1
        return key

    def check(self, value: str) -> tuple[KeyStatus, IssuedKey | None]:
        self._expire(self._clock())
        key = self._keys.get(value)
        if key is not None:
            return "valid", key
        return ("expired" if value in self._expired else "unknown"), None

    def _expire(self, now: float) -> None:
        while self._by_expiry and self._by_expiry[0][0] <= now:
            expires_at, value = heapq.heappop(self._by_expiry)
            self.bytes -= self._keys.pop(value).size
            self._expired[value] = expires_at
        horizon = now - self.expired_kept_s
        while self._expired and (
            len(self._expired) > self.expired_kept or next(iter(self._expired.values())) < horizon
        ):
            self._expired.popitem(last=False)
