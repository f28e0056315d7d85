"""The HTTP(S) proxy that key minting, the SDP exchange and the WebSocket go through.

It comes from VS Code's ``http.proxy`` (in the session's connection settings), else from the
environment (HTTPS_PROXY, then HTTP_PROXY; NO_PROXY names the hosts that go direct). Loopback
endpoints (the local engine) go direct unless ``bypass_loopback`` is off. aiohttp is given the
proxy per request rather than ``trust_env``, which would pick WSS_PROXY for the WebSocket. A user
and password in the proxy URL become the ``Proxy-Authorization`` header and are registered as
secrets: the URL kept here, and every log line, carries neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import aiohttp

from voicepilot.errors import config_error
from voicepilot.logs import register_secret
from voicepilot.realtime.endpoints import is_loopback_url

SETTING = "http.proxy"


@dataclass(frozen=True)
class Proxy:
    url: str  # scheme://host:port, no credentials
    authorization: str | None = field(default=None, repr=False)  # the Proxy-Authorization value
    no_proxy: tuple[str, ...] = ()
    bypass_loopback: bool = True

    def for_url(self, url: str) -> str | None:
        """The proxy to reach ``url`` through, or None to go direct."""
        if self.bypass_loopback and is_loopback_url(url):
            return None
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return self.url
        return None if _excluded(host, self.no_proxy) else self.url


class Route(NamedTuple):
    """aiohttp's ``proxy`` and ``proxy_headers`` for a request, and headers to add to the request."""

    proxy: str | None
    proxy_headers: dict[str, str] | None
    headers: dict[str, str]


def route(proxy: Proxy | None, url: str) -> Route:
    """How a request to ``url`` goes: direct, or through the proxy with its credentials."""
    via = proxy.for_url(url) if proxy is not None else None
    if via is None or proxy is None or proxy.authorization is None:
        return Route(via, None, {})
    credentials = {"Proxy-Authorization": proxy.authorization}
    if urlsplit(url).scheme in ("http", "ws"):
        # Plain http is sent to the proxy itself, not tunnelled (aiohttp sends proxy_headers only
        # with CONNECT): the request carries the credentials. Never with https, which would hand
        # them to the service.
        return Route(via, None, credentials)
    return Route(via, credentials, {})


def proxy_from(setting: str | None, environ: Mapping[str, str], bypass_loopback: bool = True) -> Proxy | None:
    """The proxy from the editor's setting, else the environment; None when neither names one."""
    source = SETTING
    raw = (setting or "").strip()
    if not raw:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            if environ.get(name, "").strip():
                raw, source = environ[name].strip(), name
                break
    if not raw:
        return None
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme not in ("http", "https") or not host:
        # The message names the setting, never the value: it may hold a password.
        raise config_error(
            f"The proxy in {source} is not an http:// or https:// proxy URL.",
            f"Set {source} to http://host:port (VoicePilot speaks HTTP CONNECT to the proxy).",
        )
    authorization = None
    if parts.username is not None:
        user, password = unquote(parts.username), unquote(parts.password or "")
        authorization = aiohttp.encode_basic_auth(user, password)
        register_secret(password)
        register_secret(authorization.removeprefix("Basic "))
    netloc = f"[{host}]" if ":" in host else host
    url = f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")
    return Proxy(url, authorization, _no_proxy(environ), bypass_loopback)


def _no_proxy(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get("NO_PROXY", environ.get("no_proxy", ""))
    entries = (entry.strip().lower() for entry in raw.split(","))
    return tuple(entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry for entry in entries if entry)


def _excluded(host: str, no_proxy: tuple[str, ...]) -> bool:
    for entry in no_proxy:
        if entry == "*":
            return True
        bare = entry.lstrip(".")
        if host == bare or host.endswith("." + bare):
            return True
    return False
