"""Faults the engine injects on request, so tests can see the client survive what networks and
services really do. Set through the control API (``POST /control/faults``)."""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import Field

from voicepilot.contract.models import WireModel
from voicepilot.engine.responses import FailureKind


class FaultSettings(WireModel):
    """Every field optional: a POST changes only what it names."""

    reject_mints: int | None = Field(default=None, ge=0, description="refuse the next N key mints")
    reject_status: int | None = Field(default=None, ge=400, le=599)
    retry_after_s: float | None = Field(default=None, ge=0)
    reject_calls: int | None = Field(default=None, ge=0, description="refuse the next N SDP offers")
    reject_calls_status: int | None = Field(default=None, ge=400, le=599)
    inbound_loss: float | None = Field(default=None, ge=0, le=1, description="fraction of client audio dropped")
    outbound_loss: float | None = Field(default=None, ge=0, le=1, description="fraction of engine audio dropped")
    delay_outbound_ms: int | None = Field(default=None, ge=0, le=5000)
    delay_inbound_ms: int | None = Field(default=None, ge=0, le=5000)
    stop_answering: bool | None = Field(default=None, description="no events and no audio: a hung service")
    tamper_fingerprint: bool | None = Field(default=None, description="corrupt the DTLS fingerprint of answers")
    blackhole_ice: bool | None = Field(default=None, description="answer, then drop ICE: UDP as if blocked")
    echo_key: Literal["full", "truncated"] | None = Field(
        default=None, description="injected mint and call failures quote the key presented, as some services do"
    )
    fail_responses: int | None = Field(default=None, ge=0, description="end the next N responses failed")
    fail_kind: FailureKind | None = Field(default=None, description="how those responses fail")
    race_creates: int | None = Field(
        default=None,
        ge=0,
        description="refuse the next N response.create, starting a response of the engine's own as each arrives",
    )
    hold_response_done_ms: int | None = Field(
        default=None, ge=0, le=10000, description="hold each response.done this long after its last output item"
    )


class Faults:
    def __init__(self, rng: random.Random | None = None) -> None:
        self.reject_mints = 0
        self.reject_status = 500
        self.retry_after_s: float | None = None
        self.reject_calls = 0
        self.reject_calls_status = 401
        self.inbound_loss = 0.0
        self.outbound_loss = 0.0
        self.delay_outbound_ms = 0
        self.delay_inbound_ms = 0
        self.stop_answering = False
        self.tamper_fingerprint = False
        self.blackhole_ice = False
        self.echo_key: str | None = None
        self.fail_responses = 0
        self.fail_kind: FailureKind = "quota"
        self.hold_response_done_ms = 0
        self.race_creates = 0
        self._rng = rng or random.Random()

    def update(self, settings: FaultSettings) -> None:
        for name, value in settings.model_dump(exclude_none=True).items():
            setattr(self, name, value)

    def take_mint_rejection(self) -> tuple[int, float | None] | None:
        if self.reject_mints <= 0:
            return None
        self.reject_mints -= 1
        return self.reject_status, self.retry_after_s

    def take_call_rejection(self) -> int | None:
        if self.reject_calls <= 0:
            return None
        self.reject_calls -= 1
        return self.reject_calls_status

    def failure_message(self, status: int, presented: str | None) -> str:
        """An injected failure's message, quoting the presented key if told to (a canary test)."""
        message = f"Injected failure ({status})."
        if presented and self.echo_key == "full":
            return f"{message} Incorrect API key provided: {presented}."
        if presented and self.echo_key == "truncated":
            return f"{message} Incorrect API key provided: {presented[:12]}...{presented[-8:]}."
        return message

    def take_response_failure(self) -> FailureKind | None:
        if self.fail_responses <= 0:
            return None
        self.fail_responses -= 1
        return self.fail_kind

    def take_create_race(self) -> bool:
        if self.race_creates <= 0:
            return False
        self.race_creates -= 1
        return True

    def drop_inbound(self) -> bool:
        return self.stop_answering or (self.inbound_loss > 0 and self._rng.random() < self.inbound_loss)

    def drop_outbound(self) -> bool:
        return self.stop_answering or (self.outbound_loss > 0 and self._rng.random() < self.outbound_loss)

    def snapshot(self) -> dict[str, object]:
        return {name: value for name, value in vars(self).items() if not name.startswith("_")}


_FINGERPRINT = re.compile(r"^(a=fingerprint:\S+ )([0-9A-Fa-f]{2})", re.MULTILINE)


def tamper_fingerprint(sdp: str) -> str:
    """Flip the first byte of every DTLS fingerprint: the client must refuse the handshake."""

    def flip(match: re.Match[str]) -> str:
        return match.group(1) + f"{int(match.group(2), 16) ^ 0xFF:02X}"

    return _FINGERPRINT.sub(flip, sdp)
