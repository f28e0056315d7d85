"""What the session manager tells its observer: its own types, which a front end translates.

The sidecar and ``voicepilot talk`` turn these into editor wire models
(:mod:`voicepilot.conversation.wire`); the session manager knows nothing of the editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from voicepilot.errors import ErrorKind

ConnectionState = Literal[
    "idle", "authenticating", "connecting", "connected", "renewing", "reconnecting", "failed", "closed"
]
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class StateChange:
    state: ConnectionState
    previous: ConnectionState
    session_id: str
    reason: str | None = None
    error_kind: ErrorKind | None = None


@dataclass(frozen=True)
class Transcript:
    role: Role
    item_id: str
    text: str
    final: bool
    session_id: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that changes no state (a fallback, a service error)."""

    session_id: str
    message: str
    error_kind: ErrorKind


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    session_id: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LifecycleEvent:
    kind: Literal["key_renewed", "handover", "reconnected"]
    fields: dict[str, float]


class SessionObserver(Protocol):
    def on_state(self, change: StateChange) -> None: ...

    def on_transcript(self, transcript: Transcript) -> None: ...

    def on_notice(self, notice: Notice) -> None: ...

    def on_lifecycle(self, event: LifecycleEvent) -> None: ...

    async def run_tool(self, call: ToolCall) -> str: ...
