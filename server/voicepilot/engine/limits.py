"""How much the engine holds and for how long: its caps and timeouts, their defaults and flags.

The defaults carry the integration tests, the soak and ``scripts/bench`` (20 concurrent sessions)
with room to spare; tests lower them through the flags to see each limit refuse or cut off.
docs/security.md ("The local engine") lists them with the test of each.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class EngineLimits:
    max_keys: int = 1000  # live ephemeral keys (429 too_many_keys)
    max_key_bytes: int = 16 << 20  # bytes of the mint bodies those keys keep (429 too_many_keys)
    expired_keys_kept: int = 1000  # expired keys still told "expired" rather than "unknown"...
    expired_keys_kept_s: float = 300.0  # ...for this long after they expired
    max_calls: int = 64  # live calls, WebRTC and WebSocket (503 too_many_calls)
    max_pending_calls: int = 32  # WebRTC calls answered but not connected yet (503 too_many_pending_calls)
    max_connections: int = 256  # open HTTP connections, WebSockets included (503, then closed)
    header_timeout_s: float = 10.0  # a new connection's first request head must be in by then
    idle_timeout_s: float = 30.0  # an idle keep-alive connection is closed after this (and a slow next head)
    body_timeout_s: float = 10.0  # a request body must be in by then (408)
    connect_timeout_s: float = 20.0  # a WebRTC call whose ICE/DTLS has not connected is closed
    ws_idle_timeout_s: float = 60.0  # a WebSocket call that sends nothing (not even a ping) is closed


_FLAGS: dict[str, tuple[str, str]] = {
    "max_keys": ("--max-keys", "live ephemeral keys"),
    "max_key_bytes": ("--max-key-bytes", "bytes of mint bodies kept by live keys"),
    "expired_keys_kept": ("--expired-keys-kept", "expired keys remembered, to answer 'expired'"),
    "expired_keys_kept_s": ("--expired-keys-kept-s", "seconds an expired key is remembered"),
    "max_calls": ("--max-calls", "live calls"),
    "max_pending_calls": ("--max-pending-calls", "WebRTC calls not connected yet"),
    "max_connections": ("--max-connections", "open HTTP connections"),
    "header_timeout_s": ("--header-timeout", "seconds for a new connection's first request head"),
    "idle_timeout_s": ("--idle-timeout", "seconds an idle keep-alive connection is kept"),
    "body_timeout_s": ("--body-timeout", "seconds for a request body"),
    "connect_timeout_s": ("--connect-timeout", "seconds for a WebRTC call to connect"),
    "ws_idle_timeout_s": ("--ws-idle-timeout", "seconds a WebSocket call may send nothing"),
}


def _positive(kind: type[Any]) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value

    return parse


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("limits (lower them to test them)")
    for item in fields(EngineLimits):
        flag, what = _FLAGS[item.name]
        kind = int if item.type in (int, "int") else float
        group.add_argument(
            flag,
            dest=item.name,
            type=_positive(kind),
            default=item.default,
            metavar="N" if kind is int else "S",
            help=f"{what} (default {item.default})",
        )


def limits_from_args(args: argparse.Namespace) -> EngineLimits:
    return EngineLimits(**{item.name: getattr(args, item.name) for item in fields(EngineLimits)})


@dataclass
class LimitCounters:
    """What the limits refused or cut off, for the control API."""

    keys_refused: int = 0
    calls_refused: int = 0
    connections_refused: int = 0
    header_timeouts: int = 0
    body_timeouts: int = 0
    connect_timeouts: int = 0
    ws_idle_timeouts: int = 0

    def ws_idle_timed_out(self) -> None:
        self.ws_idle_timeouts += 1

    def snapshot(self) -> dict[str, int]:
        return {
            "keysRefused": self.keys_refused,
            "callsRefused": self.calls_refused,
            "connectionsRefused": self.connections_refused,
            "headerTimeouts": self.header_timeouts,
            "bodyTimeouts": self.body_timeouts,
            "connectTimeouts": self.connect_timeouts,
            "wsIdleTimeouts": self.ws_idle_timeouts,
        }
