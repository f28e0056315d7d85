"""No redirect carries a key to another host: the key mint, the SDP offer (ephemeral key) and the
WebSocket handshake (resource key) each meet a 307 to a second local server, which must never be
asked for anything. Each goes through the HTTP session the session manager uses."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from voicepilot.audio.tracks import PacedAudioTrack
from voicepilot.contract.models import ConnectionSettings
from voicepilot.errors import VoicePilotError
from voicepilot.realtime.endpoints import Endpoint, resolve_endpoint
from voicepilot.realtime.http import client_session
from voicepilot.realtime.keys import ApiKeyCredential, EphemeralKey, mint_ephemeral_key
from voicepilot.realtime.session_config import SessionConfig
from voicepilot.realtime.webrtc import TransportCallbacks, WebRTCTransport
from voicepilot.realtime.websocket import WebSocketTransport

KEY = "redirect-canary-" + "k" * 24


@dataclass
class Servers:
    endpoint: Endpoint
    redirector: list[web.Request] = field(default_factory=list)
    thief: list[web.Request] = field(default_factory=list)


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    thief_app = web.Application()
    seen = Servers(endpoint=resolve_endpoint("local", ConnectionSettings(endpoint="http://127.0.0.1:9")))

    async def steal(request: web.Request) -> web.Response:
        seen.thief.append(request)
        return web.json_response({"value": "stolen", "expires_at": time.time() + 60})

    thief_app.router.add_route("*", "/{tail:.*}", steal)
    async with TestServer(thief_app, host="127.0.0.1") as thief:
        redirect_app = web.Application()

        async def redirect(request: web.Request) -> web.Response:
            seen.redirector.append(request)
            raise web.HTTPTemporaryRedirect(str(thief.make_url(request.path_qs)))

        redirect_app.router.add_route("*", "/{tail:.*}", redirect)
        async with TestServer(redirect_app, host="127.0.0.1") as redirector:
            seen.endpoint = resolve_endpoint("local", ConnectionSettings(endpoint=str(redirector.make_url(""))))
            yield seen


def key_was_presented(request: web.Request) -> bool:
    return KEY in request.headers.get("api-key", "") + request.headers.get("Authorization", "")


async def test_key_mint_does_not_follow_a_redirect(servers: Servers) -> None:
    async with client_session() as http:
        with pytest.raises(VoicePilotError):
            await mint_ephemeral_key(http, servers.endpoint, ApiKeyCredential(KEY), SessionConfig())
    assert [key_was_presented(r) for r in servers.redirector] == [True]
    assert [key_was_presented(r) for r in servers.thief] == []
    assert servers.thief == []


async def test_sdp_offer_does_not_follow_a_redirect(servers: Servers) -> None:
    transport = WebRTCTransport(servers.endpoint, PacedAudioTrack(), TransportCallbacks(lambda _: None, lambda _: None))
    try:
        async with client_session() as http:
            with pytest.raises(VoicePilotError):
                await transport.connect(EphemeralKey(KEY, time.time() + 60), http)
    finally:
        await transport.close()
    assert [key_was_presented(r) for r in servers.redirector] == [True]
    assert [key_was_presented(r) for r in servers.thief] == []
    assert servers.thief == []


async def test_websocket_handshake_does_not_follow_a_redirect(servers: Servers) -> None:
    credential = ApiKeyCredential(KEY)
    callbacks = TransportCallbacks(lambda _: None, lambda _: None)
    transport = WebSocketTransport(servers.endpoint, PacedAudioTrack(), callbacks, credential)
    try:
        async with client_session() as http:
            with pytest.raises(VoicePilotError):
                await transport.connect(EphemeralKey("ek", time.time() + 60), http)
    finally:
        await transport.close()
    assert [key_was_presented(r) for r in servers.redirector] == [True]
    assert [key_was_presented(r) for r in servers.thief] == []
    assert servers.thief == []
