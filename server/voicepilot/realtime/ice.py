"""Explicit loopback mode for ICE, and which candidate pair carries a call.

aioice never offers 127.0.0.1 as a host candidate, so two peers on one machine with no other
interface never connect, and on a machine that has one, test traffic would leave loopback.
In loopback mode the host candidates are exactly 127.0.0.1. The mode is a context variable,
so it applies only to the gathering done inside ``loopback_ice()`` (aiortc gathers inside
``setLocalDescription``) and never to a concurrent connection to a remote service.
aiortc says nothing of the pair ICE nominated: :func:`ice_path` reads it from aioice, and says
None if a newer release moved it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCPeerConnection

from voicepilot.audio.aiortc_hooks import nominated_pair

_loopback_only: contextvars.ContextVar[bool] = contextvars.ContextVar("voicepilot_loopback_ice", default=False)
_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if _loopback_only.get():
            return ["127.0.0.1"] if use_ipv4 else []
        return original(use_ipv4, use_ipv6)

    aioice.ice.get_host_addresses = get_host_addresses
    _installed = True


@contextlib.contextmanager
def loopback_ice(enabled: bool = True) -> Iterator[None]:
    """Within this block, ICE gathers only the 127.0.0.1 host candidate (when ``enabled``)."""
    _install()
    token = _loopback_only.set(enabled)
    try:
        yield
    finally:
        _loopback_only.reset(token)


@dataclass(frozen=True)
class IcePath:
    """The nominated candidate pair: each side's candidate type (host, srflx, prflx, relay) and
    the pair's protocol (udp, tcp)."""

    local_type: str
    remote_type: str
    protocol: str
    local: str
    remote: str


def ice_path(pc: RTCPeerConnection) -> IcePath | None:
    """The pair carrying the call's media (the bundled transport's), or None before ICE nominated one."""
    sctp = pc.sctp
    transports = [sctp.transport.transport] if sctp is not None else []
    transports += [t.sender.transport.transport for t in pc.getTransceivers()]
    for ice in transports:
        pair = nominated_pair(ice)
        if pair is None:
            continue
        local, remote = pair.local_candidate, pair.remote_candidate
        return IcePath(
            str(local.type),
            str(remote.type),
            str(local.transport).lower(),
            f"{local.host}:{local.port}",
            f"{remote.host}:{remote.port}",
        )
    return None
