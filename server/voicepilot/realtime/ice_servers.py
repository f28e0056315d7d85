"""The peer connection's ICE configuration: STUN and TURN servers and the transport policy.

The editor's ``voicepilot.connection.iceServers`` names the servers and the TURN user; the TURN
password reaches the sidecar from the editor's secret storage (``setCredentials``), never in a
setting. aioice uses one STUN and one TURN server, so the first of each listed is the one used
(the list's order is the user's preference); a URL aioice cannot use is a config error here,
not a silent skip. ``relay`` keeps only relay candidates: every packet goes through TURN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcicetransport import parse_stun_turn_uri

from voicepilot.contract.models import ConnectionSettings, IcePolicy
from voicepilot.errors import config_error
from voicepilot.logs import register_secret

SETTING = "voicepilot.connection.iceServers"


@dataclass(frozen=True)
class IceServer:
    url: str
    username: str | None = None
    credential: str | None = field(default=None, repr=False)

    @property
    def turn(self) -> bool:
        return self.url.startswith("turn")


@dataclass(frozen=True)
class IceSettings:
    """The servers in use (at most one STUN and one TURN) and the policy."""

    servers: tuple[IceServer, ...] = ()
    policy: IcePolicy = "all"

    @property
    def turn(self) -> IceServer | None:
        return next((server for server in self.servers if server.turn), None)

    def configuration(self) -> RTCConfiguration:
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=server.url, username=server.username, credential=server.credential)
                for server in self.servers
            ],
            iceTransportPolicy=RTCIceTransportPolicy(self.policy),
        )


def ice_settings(settings: ConnectionSettings | None, turn_credential: str | None) -> IceSettings:
    """Validate the setting's servers and pick the first STUN and the first TURN URL."""
    chosen: dict[str, IceServer] = {}
    settings = settings or ConnectionSettings()
    for server in settings.ice_servers or []:
        username = server.username
        for url in server.urls:
            kind = _kind(url)
            if kind == "turn" and not (username and turn_credential):
                raise config_error(
                    f"The TURN server {url} in {SETTING} has no user name or no password.",
                    f"Give it a 'username' in {SETTING} and run 'VoicePilot: Set TURN Password'.",
                )
            chosen.setdefault(kind, IceServer(url, username if kind == "turn" else None, turn_credential))
    if turn_credential:
        register_secret(turn_credential)
    ice = IceSettings(tuple(chosen.values()), settings.ice_transport_policy or "all")
    if ice.policy == "relay" and ice.turn is None:
        raise config_error(
            "voicepilot.connection.iceTransportPolicy is relay, but no TURN server is set.",
            f"Add a turn: or turns: URL to {SETTING}, or set the policy to all.",
        )
    return ice


def _kind(url: str) -> Literal["stun", "turn"]:
    try:
        parsed = parse_stun_turn_uri(url)
    except ValueError:
        parsed = {}
    scheme = parsed.get("scheme")
    transport = parsed.get("transport")
    if scheme == "stun":
        return "stun"
    if (scheme == "turn" and transport in ("udp", "tcp")) or (scheme == "turns" and transport == "tcp"):
        return "turn"
    raise config_error(
        f"The ICE server URL '{url}' in {SETTING} is not one VoicePilot can use.",
        "Use stun:host[:port], turn:host[:port][?transport=udp|tcp] or turns:host[:port] (TLS over TCP).",
    )


def turn_transport(url: str) -> Literal["udp", "tcp", "tls"]:
    """How a TURN URL reaches its server: turns: is TLS over TCP."""
    parsed = parse_stun_turn_uri(url)
    if parsed["scheme"] == "turns":
        return "tls"
    return "tcp" if parsed["transport"] == "tcp" else "udp"
