"""One service session on one transport, with what the manager needs to know about it."""

from __future__ import annotations

import time
from collections.abc import Callable

import aiohttp
import av

from voicepilot.audio.tracks import PacedAudioTrack
from voicepilot.realtime import events as ev
from voicepilot.realtime.endpoints import Endpoint
from voicepilot.realtime.heard import HeardAnswer
from voicepilot.realtime.keys import Credential, EphemeralKey
from voicepilot.realtime.responses import ResponseSequencer
from voicepilot.realtime.router import RoutedSource
from voicepilot.realtime.webrtc import TransportCallbacks, WebRTCTransport
from voicepilot.realtime.websocket import WebSocketTransport


class TurnTracker:
    """Knows when a connection is quiet: no speech, no pending reply, no tool in flight."""

    def __init__(self) -> None:
        self.speaking = False
        self.unanswered_commits = 0
        self.responses = ResponseSequencer()
        self.tools_in_flight = 0
        self.audio_playing = False

    @property
    def active_response(self) -> str | None:
        return self.responses.active

    @property
    def own_response_requests(self) -> int:
        return self.responses.own_requests

    @property
    def quiet(self) -> bool:
        return not (
            self.speaking
            or self.unanswered_commits > 0
            or self.responses.busy
            or self.tools_in_flight > 0
            or self.audio_playing
        )

    def on_response_created(self, response: ev.ResponseInfo) -> None:
        if not self.responses.on_response_created(response) and self.unanswered_commits > 0:
            self.unanswered_commits -= 1

    def on_error(self, error: ev.ErrorDetail) -> bool:
        """Whether the error was about an own response request (now accounted for)."""
        outcome = self.responses.on_error(error)
        if outcome == "misattributed" and self.unanswered_commits > 0:
            # The response taken for ours answered the user's turn after all.
            self.unanswered_commits -= 1
        return outcome != "other"


class Connection:
    def __init__(
        self,
        number: int,
        endpoint: Endpoint,
        track: PacedAudioTrack,
        routed: RoutedSource,
        on_message: Callable[[Connection, str], None],
        on_lost: Callable[[Connection, str], None],
        on_frame: Callable[[Connection, av.AudioFrame], None] | None = None,
        websocket_credential: Credential | None = None,
    ) -> None:
        self.number = number
        self.routed = routed
        self.track = track
        self.turns = TurnTracker()
        self.opened_at = time.monotonic()
        self.opened_unix = time.time()
        self.deactivated_at: float | None = None
        # Unix time when the service will end this session (session.created's expires_at).
        self.service_expires_at: float | None = None
        self.expired = False
        self.lost_reason: str | None = None
        # WebSocket only: what the user heard of the answer, for truncating an interrupted one.
        self.heard = HeardAnswer()
        callbacks = TransportCallbacks(
            on_message=lambda raw: on_message(self, raw),
            on_closed=lambda r: on_lost(self, r),
            on_remote_frame=(lambda frame: on_frame(self, frame)) if on_frame is not None else None,
        )
        # A credential means the WebSocket transport (it authenticates with the long-lived one).
        self.transport: WebRTCTransport | WebSocketTransport = (
            WebSocketTransport(endpoint, track, callbacks, websocket_credential)
            if websocket_credential is not None
            else WebRTCTransport(endpoint, track, callbacks)
        )

    async def open(self, key: EphemeralKey, http: aiohttp.ClientSession) -> None:
        await self.transport.connect(key, http)
        self.opened_at, self.opened_unix = time.monotonic(), time.time()

    def send(self, event: ev.Event, beta: bool) -> None:
        self.transport.send(event.to_json(beta=beta))

    def truncate_to_heard(self, beta: bool, response_active: bool) -> bool:
        """Over WebSocket: tell the model how much of the answer was heard (:mod:`.heard`). False
        when nothing was left to hear."""
        truncation = self.heard.truncation(response_active)
        if truncation is None:
            return False
        self.send(truncation, beta)
        return True

    @property
    def kind(self) -> str:
        return self.transport.kind

    def media_silent_for(self) -> float:
        """Seconds since the last remote audio frame (since opening, if none came yet)."""
        if isinstance(self.transport, WebSocketTransport):
            return self.transport.media_silent_for()
        last = self.transport.last_media_at or self.opened_at
        return time.monotonic() - last

    async def close(self) -> None:
        await self.transport.close()


def seconds_until(unix_time: float) -> float:
    return unix_time - time.time()
