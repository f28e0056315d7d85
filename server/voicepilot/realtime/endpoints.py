"""Where a profile's keys are minted and its calls are placed.

A profile plus the connection settings resolve to one :class:`Endpoint`. Validation happens here,
once: plain ``http`` only for loopback, host names that fit the profile, and a config error that
names the setting to fix.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlsplit

from voicepilot.contract.models import ConnectionSettings, Profile
from voicepilot.errors import config_error
from voicepilot.realtime.ice_servers import IceSettings
from voicepilot.realtime.session_config import Flavor

if TYPE_CHECKING:
    from voicepilot.realtime.proxy import Proxy

PREVIEW_API_VERSION = "2025-04-01-preview"
DEFAULT_PREVIEW_REGIONS = ("eastus2", "swedencentral")
OPENAI_BASE = "https://api.openai.com"
AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com")

AuthStyle = Literal["api-key", "bearer"]


@dataclass(frozen=True)
class Endpoint:
    profile: Profile
    flavor: Flavor
    mint_url: str
    calls_url: str
    # How the long-lived credential is presented when minting: Azure takes an ``api-key``
    # header (or a bearer Entra token), OpenAI a bearer key.
    auth_style: AuthStyle
    deployment: str
    # The WebSocket form of the same session (the fallback transport); authenticated with the
    # long-lived credential, as the services document.
    websocket_url: str = ""
    # How the media and the requests get there: STUN/TURN servers, and the HTTP proxy (if any).
    ice: IceSettings = field(default_factory=IceSettings)
    proxy: Proxy | None = None

    @property
    def loopback(self) -> bool:
        """True when both URLs point at this machine: the transport then stays on 127.0.0.1."""
        return is_loopback_url(self.mint_url) and is_loopback_url(self.calls_url)


def is_loopback_url(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return host == "localhost" or is_loopback_address(host)


def is_loopback_address(address: str) -> bool:
    """An IP address on this machine's loopback: 127/8, ::1, or 127/8 mapped into IPv6 (::ffff:127.x)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _base(url: str, setting: str) -> str:
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
    except ValueError:  # urlsplit refuses some malformed URLs (an unclosed IPv6 bracket) outright
        hostname = None
    if not hostname or parts.scheme not in ("http", "https"):
        raise config_error(
            f"The setting {setting} ('{url}') is not a URL.",
            f"Set {setting} to an https URL such as https://my-resource.openai.azure.com.",
        )
    if parts.scheme == "http" and not is_loopback_url(url):
        raise config_error(
            f"The setting {setting} uses plain http for a remote host ({parts.hostname}).",
            f"Use https in {setting}; plain http is only allowed for the local engine on loopback.",
        )
    return f"{parts.scheme}://{parts.netloc}"


def _require(value: str | None, setting: str, example: str) -> str:
    if not value:
        raise config_error(f"The setting {setting} is empty.", f"Set {setting}, for example to {example}.")
    return value


def resolve_endpoint(
    profile: Profile,
    settings: ConnectionSettings | None,
    local_url: str | None = None,
    *,
    ice: IceSettings | None = None,
    proxy: Proxy | None = None,
) -> Endpoint:
    """Resolve a profile and its settings to the URLs the client will use, and the way there."""
    endpoint = _resolve_urls(profile, settings, local_url)
    return dataclasses.replace(endpoint, ice=ice or IceSettings(), proxy=proxy)


def _resolve_urls(profile: Profile, settings: ConnectionSettings | None, local_url: str | None) -> Endpoint:
    settings = settings or ConnectionSettings()
    allowed_regions = tuple(_region(r) for r in settings.allowed_regions or DEFAULT_PREVIEW_REGIONS)
    flavor: Flavor = settings.api_flavor or "ga"
    deployment = settings.deployment or "gpt-realtime"
    if profile == "local":
        base = _base(
            _require(settings.endpoint or local_url, "voicepilot.local.url", "http://127.0.0.1:8787"),
            "voicepilot.local.url",
        )
        if not is_loopback_url(base):
            # The local profile presents the stored API key to whatever this points at.
            raise config_error(
                f"The setting voicepilot.local.url ('{base}') is not on this machine.",
                "The local engine runs on loopback: use http://127.0.0.1:<port>, or pick the azure or openai profile.",
            )
        return _azure_style(profile, base, flavor, deployment, settings, calls_base=base)
    if profile == "openai":
        base = _base(settings.endpoint or OPENAI_BASE, "voicepilot.openai.endpoint")
        websocket = f"{_ws(base)}/v1/realtime?model={quote(deployment)}"
        if flavor == "preview":
            return Endpoint(
                profile,
                "preview",
                f"{base}/v1/realtime/sessions",
                f"{base}/v1/realtime?model={quote(deployment)}",
                "bearer",
                deployment,
                websocket,
            )
        return Endpoint(
            profile,
            "ga",
            f"{base}/v1/realtime/client_secrets",
            f"{base}/v1/realtime/calls",
            "bearer",
            deployment,
            websocket,
        )
    endpoint = _require(settings.endpoint, "voicepilot.azure.endpoint", "https://my-resource.openai.azure.com")
    base = _base(endpoint, "voicepilot.azure.endpoint")
    host = urlsplit(base).hostname or ""
    if not is_loopback_url(base) and not host.endswith(AZURE_HOST_SUFFIXES):
        raise config_error(
            f"The setting voicepilot.azure.endpoint points at {host}, which is not an Azure OpenAI resource.",
            "Use your resource's endpoint, ending in .openai.azure.com or .cognitiveservices.azure.com.",
        )
    calls_base = base
    if flavor == "preview" and not is_loopback_url(base):
        region = _region(_require(settings.region, "voicepilot.azure.region", "eastus2"))
        if region not in allowed_regions:
            raise config_error(
                f"The setting voicepilot.azure.region ('{region}') is not one of {', '.join(allowed_regions)}.",
                "Pick a region where the realtime preview is offered, matching your resource's region, "
                "or add it to voicepilot.azure.allowedRegions.",
            )
        calls_base = f"https://{region}.realtimeapi-preview.ai.azure.com"
    return _azure_style(profile, base, flavor, deployment, settings, calls_base)


def _azure_style(
    profile: Profile,
    base: str,
    flavor: Flavor,
    deployment: str,
    settings: ConnectionSettings,
    calls_base: str,
) -> Endpoint:
    if flavor == "preview":
        version = settings.api_version or PREVIEW_API_VERSION
        return Endpoint(
            profile,
            "preview",
            f"{base}/openai/realtimeapi/sessions?api-version={quote(version)}",
            f"{calls_base}/v1/realtimertc?model={quote(deployment)}",
            "api-key",
            deployment,
            f"{_ws(base)}/openai/realtime?api-version={quote(version)}&deployment={quote(deployment)}",
        )
    return Endpoint(
        profile,
        "ga",
        f"{base}/openai/v1/realtime/client_secrets",
        f"{calls_base}/openai/v1/realtime/calls",
        "api-key",
        deployment,
        f"{_ws(base)}/openai/v1/realtime?model={quote(deployment)}",
    )


def _region(name: str) -> str:
    """'East US 2' and 'eastus2' are the same region."""
    return name.lower().replace(" ", "")


def _ws(base: str) -> str:
    return "ws" + base[len("http") :]
