"""Ephemeral keys that really expire, as the service's do."""

from __future__ import annotations

import secrets
import time
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


class KeyStore:
    def __init__(self, default_ttl_s: float = 60.0, clock: Any = time.time) -> None:
        self.default_ttl_s = default_ttl_s
        self._clock = clock
        self._keys: dict[str, IssuedKey] = {}
        self.minted = 0

    def issue(self, flavor: Flavor, session: dict[str, Any], ttl_s: float | None = None) -> IssuedKey:
        self._forget_expired()
        ttl = self.default_ttl_s if ttl_s is None else ttl_s
        key = IssuedKey("ek_" + secrets.token_urlsafe(24), self._clock() + ttl, flavor, session)
        self._keys[key.value] = key
        self.minted += 1
        return key

    def check(self, value: str) -> tuple[KeyStatus, IssuedKey | None]:
        key = self._keys.get(value)
        if key is None:
            return "unknown", None
        if self._clock() >= key.expires_at:
            return "expired", key
        return "valid", key

    def _forget_expired(self) -> None:
        # Expired keys are kept a while so a late use gets "expired" rather than "unknown".
        horizon = self._clock() - 600
        for value in [v for v, k in self._keys.items() if k.expires_at < horizon]:
            del self._keys[value]
