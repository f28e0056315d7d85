"""Consent freshness for a WebRTC call: the sign of life a quiet service must still give.

Audio flows only while the service speaks, but a peer must answer ICE binding requests for as
long as the call lasts (RFC 7675). aioice checks consent every 5 s and gives up after six misses
(~30 s); this probe asks every half second without retransmitting and remembers the last answer,
so the session's watchdog can call a peer dead within 3 s and never for a pause between turns.
aioice keeps its connection and nominated pair in private fields: if a newer release moves them
the probe is ``available`` False and liveness rests on the channel, DTLS and aioice's own check.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aioice import stun

from voicepilot.tasks import TIMEOUT_ERRORS

# A lost answer, an unreachable address, a transport already closed.
MISSES: tuple[type[BaseException], ...] = (stun.TransactionError, ConnectionError, OSError, *TIMEOUT_ERRORS)

PROBE_EVERY_S = 0.5


def ice_connection(ice_transport: Any) -> Any | None:
    """The aioice Connection behind an aiortc RTCIceTransport (None if aioice moved it)."""
    gatherer = getattr(ice_transport, "iceGatherer", None)
    connection = getattr(gatherer, "_connection", None)
    return connection if hasattr(connection, "build_request") else None


class ConsentProbe:
    """Asks the nominated pair's peer for consent every ``every_s``; ``last_answer_at`` is the
    monotonic time of the latest answer (None before the first)."""

    def __init__(self, ice_transport: Any, every_s: float = PROBE_EVERY_S) -> None:
        self._connection = ice_connection(ice_transport)
        self._every_s = every_s
        self.last_answer_at: float | None = None
        self.probes = 0
        self.misses = 0

    @property
    def available(self) -> bool:
        return self._connection is not None

    async def run(self) -> None:
        while True:
            await self.probe_once()
            await asyncio.sleep(self._every_s)

    async def probe_once(self) -> bool:
        """One binding request on the nominated pair; True when the peer answered it."""
        connection = self._connection
        nominated = getattr(connection, "_nominated", None)
        pair = nominated.get(1) if isinstance(nominated, dict) else None
        password = getattr(connection, "remote_password", None)
        if connection is None or pair is None or not password:
            return False
        self.probes += 1
        request = connection.build_request(pair, nominate=False)
        try:
            # Never longer than the probe period: a lost answer is a miss, not a stall.
            await asyncio.wait_for(
                pair.protocol.request(request, pair.remote_addr, integrity_key=password.encode(), retransmissions=0),
                timeout=2 * self._every_s,
            )
        except MISSES:
            self.misses += 1
            return False
        self.last_answer_at = time.monotonic()
        return True
