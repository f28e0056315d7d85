"""ICE server settings and the proxy: validation, the choice aioice needs, bypasses, redaction."""

from __future__ import annotations

import pytest

from voicepilot.contract.models import ConnectionSettings, IceServerSetting
from voicepilot.errors import VoicePilotError
from voicepilot.logs import redact
from voicepilot.realtime.ice_servers import ice_settings, turn_transport
from voicepilot.realtime.proxy import proxy_from, route


def settings(*servers: IceServerSetting, policy: str | None = None) -> ConnectionSettings:
    return ConnectionSettings(ice_servers=list(servers), ice_transport_policy=policy)  # type: ignore[arg-type]


def test_first_stun_and_first_turn_url_are_used_with_the_stored_password() -> None:
    ice = ice_settings(
        settings(
            IceServerSetting(urls=["stun:stun.example.com", "stun:other.example.com"]),
            IceServerSetting(urls=["turns:turn.example.com", "turn:turn.example.com"], username="me"),
        ),
        "turn-password-1",
    )
    assert [server.url for server in ice.servers] == ["stun:stun.example.com", "turns:turn.example.com"]
    assert ice.turn is not None
    assert ice.turn.username == "me"
    assert ice.turn.credential == "turn-password-1"
    assert "turn-password-1" not in repr(ice)
    assert redact("the value turn-password-1 here") == "the value <redacted> here"
    config = ice.configuration()
    assert config.iceServers is not None
    assert len(config.iceServers) == 2
    assert config.iceTransportPolicy.value == "all"


@pytest.mark.parametrize(
    ("url", "transport"),
    [("turn:h", "udp"), ("turn:h?transport=tcp", "tcp"), ("turns:h:443?transport=tcp", "tls"), ("turns:h", "tls")],
)
def test_turn_transport(url: str, transport: str) -> None:
    assert turn_transport(url) == transport


@pytest.mark.parametrize("url", ["http://turn.example.com", "turn:h?transport=sctp", "turns:h?transport=udp", "x"])
def test_unusable_urls_are_a_config_error_naming_the_setting(url: str) -> None:
    with pytest.raises(VoicePilotError) as raised:
        ice_settings(settings(IceServerSetting(urls=[url], username="u")), "pw")
    assert raised.value.kind == "config"
    assert "voicepilot.connection.iceServers" in raised.value.message


def test_turn_without_password_and_relay_without_turn_are_config_errors() -> None:
    with pytest.raises(VoicePilotError, match="no user name or no password"):
        ice_settings(settings(IceServerSetting(urls=["turn:h"], username="u")), None)
    with pytest.raises(VoicePilotError, match="no TURN server"):
        ice_settings(settings(IceServerSetting(urls=["stun:h"]), policy="relay"), None)
    assert ice_settings(None, None).configuration().iceServers == []


def test_the_setting_wins_over_the_environment_and_credentials_leave_the_url() -> None:
    proxy = proxy_from("http://alice:s3cret-proxy@proxy.corp:3128", {"HTTPS_PROXY": "http://other:8080"})
    assert proxy is not None
    assert proxy.url == "http://proxy.corp:3128"
    assert "s3cret-proxy" not in repr(proxy)
    assert redact("Proxy-Authorization: " + str(proxy.authorization)) == "Proxy-Authorization: Basic <redacted>"
    https = route(proxy, "https://res.openai.azure.com/openai/v1/realtime/client_secrets")
    # Tunnelled: the credentials go to the proxy only, never in the request the service sees.
    assert https.proxy == proxy.url
    assert https.proxy_headers == {"Proxy-Authorization": proxy.authorization}
    assert https.headers == {}


def test_environment_no_proxy_and_loopback_bypass() -> None:
    environ = {"HTTPS_PROXY": "proxy.corp:3128", "NO_PROXY": "localhost, .internal.example,direct.example:443"}
    proxy = proxy_from(None, environ)
    assert proxy is not None
    assert proxy.url == "http://proxy.corp:3128"
    assert proxy.authorization is None
    assert route(proxy, "https://res.openai.azure.com/x").proxy == proxy.url
    assert route(proxy, "https://a.internal.example/x").proxy is None
    assert route(proxy, "https://direct.example/x").proxy is None
    assert route(proxy, "http://127.0.0.1:8787/x").proxy is None
    assert route(proxy_from(None, environ, bypass_loopback=False), "http://127.0.0.1:8787/x").proxy == proxy.url
    assert route(proxy_from(None, dict(environ, NO_PROXY="*")), "https://res.openai.azure.com").proxy is None
    assert proxy_from(None, {}) is None
    assert route(None, "https://res.openai.azure.com").proxy is None


def test_a_proxy_that_is_not_http_is_a_config_error_that_does_not_quote_it() -> None:
    with pytest.raises(VoicePilotError) as raised:
        proxy_from("socks5://bob:hunter2-secret@proxy:1080", {})
    assert "hunter2" not in raised.value.message
    assert "http.proxy" in raised.value.message
