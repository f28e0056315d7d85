"""A conversation carried over a WebSocket: events both ways, audio inside them (PCM16, 24 kHz)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from typing import Literal

from aiohttp import WSCloseCode, WSMsgType, web

from voicepilot.audio.frames import SAMPLE_RATE, Pcm, Resampler, rms_dbfs
from voicepilot.engine.conversation import DEPARTURE_DBFS, Conversation
from voicepilot.engine.faults import Faults
from voicepilot.realtime import events as ev
from voicepilot.tasks import TIMEOUT_ERRORS, TaskGroup

DELTA_MS = 100  # the service sends its voice in chunks of about this size


class WebSocketCall:
    kind: Literal["webrtc", "websocket"] = "websocket"

    def __init__(
        self,
        call_id: str,
        conversation: Conversation,
        faults: Faults,
        idle_timeout_s: float | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.call_id = call_id
        self.conversation = conversation
        self._faults = faults
        self._idle_timeout_s = idle_timeout_s
        self._on_idle = on_idle
        # Any frame from the client restarts the idle timeout, its heartbeat pings included.
        self._ws = web.WebSocketResponse(heartbeat=None, max_msg_size=16 * 1024 * 1024, receive_timeout=idle_timeout_s)
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._down = Resampler(SAMPLE_RATE, ev.WEBSOCKET_PCM_RATE)
        self._tasks = TaskGroup(f"engine websocket {call_id}")
        self.closed = asyncio.Event()

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        await self._ws.prepare(request)
        writer = self._tasks.spawn(self._write())
        self.conversation.attach(self)
        try:
            async for message in self._ws:
                if message.type == WSMsgType.TEXT and not self._faults.stop_answering:
                    self.conversation.record.frames_received += 1
                    self.conversation.on_message(message.data)
        except TIMEOUT_ERRORS:
            if self._on_idle is not None:
                self._on_idle()
            reason = f"nothing received for {self._idle_timeout_s:g} s"
            await self._ws.close(code=WSCloseCode.POLICY_VIOLATION, message=reason.encode())
        finally:
            self._outbox.put_nowait(None)
            await writer
            await self.conversation.close()
            self.closed.set()
        return self._ws

    async def _write(self) -> None:
        while (payload := await self._outbox.get()) is not None:
            if not self._ws.closed:
                await self._ws.send_str(payload)

    # ------------------------------------------------------------------ Link

    def send(self, payload: str) -> None:
        if not self._faults.stop_answering:
            self._outbox.put_nowait(payload)

    def send_raw(self, payload: str) -> None:
        self._outbox.put_nowait(payload)

    def play(self, samples: Pcm, response_id: str, item_id: str) -> None:
        beta = self.conversation.flavor == "preview"
        pcm24 = self._down.resample(samples)
        step = ev.WEBSOCKET_PCM_RATE * DELTA_MS // 1000
        for start in range(0, pcm24.size, step):
            if rms_dbfs(pcm24[start : start + step]) > DEPARTURE_DBFS:
                self.conversation.record.sound_departures.append(time.monotonic())
            chunk = base64.b64encode(pcm24[start : start + step].astype("<i2").tobytes()).decode()
            self.send(ev.AudioDelta(response_id=response_id, item_id=item_id, delta=chunk).to_json(beta=beta))
        self.send(ev.AudioDone(response_id=response_id, item_id=item_id).to_json(beta=beta))
        # The client plays it; from the engine's side it is delivered.
        self.conversation.playback_drained()

    def clear_audio(self) -> bool:
        return False

    def hang_up(self) -> None:
        self._tasks.spawn(self.close())

    async def close(self) -> None:
        if not self._ws.closed:
            await self._ws.close(code=1001, message=b"session ended")
        self.closed.set()
