"""How the service detects the end of a turn: the VAD settings the editor may tune.

The editor's ``vad`` settings default to these values; the session configuration sends them as its
``turn_detection`` (``None`` there means push-to-talk). ``server_vad`` ends a turn after a silence;
``semantic_vad`` when the model judges the user has finished (``eagerness``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

VadKind = Literal["server_vad", "semantic_vad"]
Eagerness = Literal["low", "medium", "high", "auto"]
# The service's bounds for server_vad's idle_timeout_ms (GA only).
IDLE_TIMEOUT_MS_RANGE = (5000, 30000)


@dataclass(frozen=True)
class TurnDetection:
    """VAD parameters; ``None`` in :class:`SessionConfig` means push-to-talk."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    kind: VadKind = "server_vad"
    eagerness: Eagerness = "auto"
    # server_vad: after this long without speech the service asks for a response (GA; None: never).
    idle_timeout_ms: int | None = None

    def to_wire(self, flavor: Literal["ga", "preview"] = "ga") -> dict[str, Any]:
        if self.kind == "semantic_vad":
            return {
                "type": "semantic_vad",
                "eagerness": self.eagerness,
                "create_response": self.create_response,
                "interrupt_response": self.interrupt_response,
            }
        wire: dict[str, Any] = {
            "type": "server_vad",
            "threshold": self.threshold,
            "prefix_padding_ms": self.prefix_padding_ms,
            "silence_duration_ms": self.silence_duration_ms,
            "create_response": self.create_response,
            "interrupt_response": self.interrupt_response,
        }
        if flavor == "ga" and self.idle_timeout_ms is not None:
            # The preview API has no idle timeout: the field would be refused there.
            wire["idle_timeout_ms"] = self.idle_timeout_ms
        return wire

    @classmethod
    def from_wire(cls, payload: dict[str, Any]) -> TurnDetection:
        defaults = cls()
        idle = payload.get("idle_timeout_ms")
        semantic = payload.get("type") == "semantic_vad"
        eagerness = payload.get("eagerness")
        return cls(
            threshold=float(payload.get("threshold", defaults.threshold)),
            prefix_padding_ms=int(payload.get("prefix_padding_ms", defaults.prefix_padding_ms)),
            silence_duration_ms=int(payload.get("silence_duration_ms", defaults.silence_duration_ms)),
            create_response=bool(payload.get("create_response", defaults.create_response)),
            interrupt_response=bool(payload.get("interrupt_response", defaults.interrupt_response)),
            kind="semantic_vad" if semantic else "server_vad",
            eagerness=eagerness if eagerness in ("low", "medium", "high") else "auto",
            idle_timeout_ms=int(idle) if isinstance(idle, int | float) else None,
        )
