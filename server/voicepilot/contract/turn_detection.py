"""How the service detects the end of a turn: the server VAD settings the editor may tune.

The editor's ``vad`` settings default to these values; the session configuration sends them as its
``turn_detection`` (``None`` there means push-to-talk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TurnDetection:
    """server_vad parameters; ``None`` in :class:`SessionConfig` means push-to-talk."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "server_vad",
            "threshold": self.threshold,
            "prefix_padding_ms": self.prefix_padding_ms,
            "silence_duration_ms": self.silence_duration_ms,
            "create_response": self.create_response,
            "interrupt_response": self.interrupt_response,
        }

    @classmethod
    def from_wire(cls, payload: dict[str, Any]) -> TurnDetection:
        defaults = cls()
        return cls(
            threshold=float(payload.get("threshold", defaults.threshold)),
            prefix_padding_ms=int(payload.get("prefix_padding_ms", defaults.prefix_padding_ms)),
            silence_duration_ms=int(payload.get("silence_duration_ms", defaults.silence_duration_ms)),
            create_response=bool(payload.get("create_response", defaults.create_response)),
            interrupt_response=bool(payload.get("interrupt_response", defaults.interrupt_response)),
        )
