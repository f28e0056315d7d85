"""The WebSocket transport: the same events, with audio carried inside them.

Used when WebRTC cannot connect (UDP blocked) or when the user asks for it. Microphone audio goes
up as base64 PCM16 at 24 kHz in ``input_audio_buffer.append``; the assistant's voice comes down in
``response.output_audio.delta`` and is turned into 48 kHz frames for the same playback path as
WebRTC. A dead peer is noticed by WebSocket heartbeats (aiortc's ICE would take ~30 s).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time

import aiohttp
import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Resampler, make_frame
from voicepilot.audio.tracks import PacedAudioTrack
from voicepilot.errors import VoicePilotError, classify_http_status, network_error
from voicepilot.realtime import events as ev
from voicepilot.realtime.endpoints import Endpoint
from voicepilot.realtime.keys import Credential, EphemeralKey
from voicepilot.realtime.proxy import route
from voicepilot.realtime.webrtc import TransportCallbacks
from voicepilot.tasks import TaskGroup

log = logging.getLogger(__name__)

HEARTBEAT_S = 1.0  # a missing pong closes the socket after HEARTBEAT_S / 2 more: dead peer in ~1.5 s
CONNECT_TIMEOUT_S = 10.0


class WebSocketTransport:
    kind = "websocket"

    def __init__(
        self, endpoint: Endpoint, outgoing: PacedAudioTrack, callbacks: TransportCallbacks, credential: Credential
    ) -> None:
        self._endpoint = endpoint
        self._outgoing = outgoing
        self._callbacks = callbacks
        self._credential = credential
        self._ws: aiohttp.ClientWebSocketResponse[bool] | None = None
        self._tasks = TaskGroup("websocket transport")
        self._up = Resampler(SAMPLE_RATE, ev.WEBSOCKET_PCM_RATE)
        self._down = Resampler(ev.WEBSOCKET_PCM_RATE, SAMPLE_RATE)
        self._down_pts = 0
        self._closed = False
        self.call_id: str | None = None
        self.frames_received = 0
        self.last_media_at: float | None = None
        self.bytes_sent = 0

    async def connect(self, key: EphemeralKey, http: aiohttp.ClientSession) -> None:
        headers = await self._credential.auth_headers(self._endpoint.auth_style)
        if self._endpoint.profile == "openai" and self._endpoint.flavor == "preview":
            headers["OpenAI-Beta"] = "realtime=v1"
        via = route(self._endpoint.proxy, self._endpoint.websocket_url)
        try:
            self._ws = await http.ws_connect(
                self._endpoint.websocket_url,
                headers=headers | via.headers,
                proxy=via.proxy,
                proxy_headers=via.proxy_headers,
                heartbeat=HEARTBEAT_S,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                max_msg_size=16 * 1024 * 1024,
                autoclose=True,
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise classify_http_status(exc.status, exc.message or "handshake refused") from exc
        except (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError) as exc:
            raise network_error(
                f"Could not open the WebSocket to {self._endpoint.websocket_url} ({exc.__class__.__name__})."
            ) from exc
        self.last_media_at = time.monotonic()
        self._tasks.spawn(self._receive())
        self._tasks.spawn(self._send_microphone())

    def send(self, payload: str) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise network_error("The WebSocket is not open.")
        self._tasks.spawn(ws.send_str(payload))

    async def _send_microphone(self) -> None:
        """Pace the routed microphone exactly as the WebRTC track is paced, and append it."""
        while not self._closed:
            samples, _ = await self._outgoing.next_pcm()
            pcm24 = self._up.resample(samples)
            if pcm24.size and self._ws is not None and not self._ws.closed:
                audio = base64.b64encode(pcm24.astype("<i2").tobytes()).decode()
                payload = ev.InputAudioBufferAppend(audio=audio).to_json()
                self.bytes_sent += len(payload)
                await self._ws.send_str(payload)

    async def _receive(self) -> None:
        assert self._ws is not None
        reason = "the service closed the WebSocket"
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                self.last_media_at = time.monotonic()
                self._play_if_audio(message.data)
                self._callbacks.on_message(message.data)
            if self._ws.close_code not in (None, 1000):
                reason = f"the WebSocket closed with code {self._ws.close_code}"
        except aiohttp.ClientError as exc:
            reason = f"the WebSocket failed ({exc.__class__.__name__})"
        if not self._closed:
            self._closed = True
            self._callbacks.on_closed(reason)

    def _play_if_audio(self, raw: str) -> None:
        # A cheap pre-check: audio deltas are most of the traffic and the session ignores them.
        if '"response.output_audio.delta"' not in raw and '"response.audio.delta"' not in raw:
            return
        try:
            event = ev.parse_server_event(raw)
        except VoicePilotError:
            return
        delta = getattr(event, "delta", "")
        pcm24 = np.frombuffer(base64.b64decode(delta), dtype="<i2").astype(np.int16)
        pcm48 = self._down.resample(pcm24)
        on_frame = self._callbacks.on_remote_frame
        for start in range(0, pcm48.size - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            self.frames_received += 1
            if on_frame is not None:
                on_frame(make_frame(pcm48[start : start + FRAME_SAMPLES], self._down_pts))
            self._down_pts += FRAME_SAMPLES

    def media_silent_for(self) -> float:
        # Audio only flows while someone speaks: liveness comes from heartbeats, which close the
        # socket (and report it) when the peer stops answering.
        return 0.0

    async def stats(self) -> dict[str, float]:
        return {"wsBytesSent": float(self.bytes_sent)}

    async def close(self) -> None:
        self._closed = True
        await self._tasks.close()
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
