"""Explicit loopback mode for ICE.

aioice never offers 127.0.0.1 as a host candidate, so two peers on one machine with no other
interface never connect, and on a machine that has one, test traffic would leave loopback.
In loopback mode the host candidates are exactly 127.0.0.1. The mode is a context variable,
so it applies only to the gathering done inside ``loopback_ice()`` (aiortc gathers inside
``setLocalDescription``) and never to a concurrent connection to a remote service.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import aioice.ice

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
