"""A conversation carried over WebRTC: one aiortc peer, Opus both ways and the events channel."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, SILENCE, Pcm, Resampler, frame_to_mono, rms_dbfs
from voicepilot.audio.opus import OpusEncodedTrack
from voicepilot.audio.receive_tuning import tune_audio_receivers
from voicepilot.audio.tracks import PacedAudioTrack, drain_track
from voicepilot.engine.conversation import DEPARTURE_DBFS, SOUND_FLOOR_DBFS, CallRecord, Conversation
from voicepilot.engine.faults import Faults, tamper_fingerprint
from voicepilot.engine.recognizers import STT_RATE
from voicepilot.engine.speaker import SpeechSource
from voicepilot.realtime.ice import loopback_ice
from voicepilot.tasks import TaskGroup

log = logging.getLogger(__name__)


class FaultyOutgoingAudio:
    """The engine's outgoing audio (a :class:`PcmStream`), through the injected faults (loss, delay,
    a hung service), on its own clock, as the real service sends whatever the caller sends: it never
    rides on the caller's frames (``PacedAudioTrack.ride_along``), or two peers would race each other."""

    def __init__(self, inner: PacedAudioTrack, faults: Faults, record: CallRecord | None = None) -> None:
        self._inner = inner
        self._faults = faults
        self._record = record
        self._started: float | None = None

    async def next_pcm(self) -> tuple[Pcm, int]:
        while True:
            samples, pts = await self._inner.next_pcm()
            if self._started is None:
                self._started = time.monotonic()
            if self._faults.delay_outbound_ms:
                # Release each frame a fixed time after it was due: a constant added latency.
                due = self._started + pts / SAMPLE_RATE + self._faults.delay_outbound_ms / 1000
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not self._faults.drop_outbound():
                if self._record is not None and samples is not SILENCE and rms_dbfs(samples) > DEPARTURE_DBFS:
                    self._record.sound_departures.append(time.monotonic())
                return samples, pts

    def stop(self) -> None:
        self._inner.stop()


class WebRTCCall:
    kind: Literal["webrtc", "websocket"] = "webrtc"

    def __init__(self, call_id: str, conversation: Conversation, loopback: bool, faults: Faults) -> None:
        self.call_id = call_id
        self.conversation = conversation
        self._loopback = loopback
        self._faults = faults
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._channel: Any = None
        self._speech = SpeechSource(on_drained=conversation.playback_drained)
        self._outgoing = FaultyOutgoingAudio(PacedAudioTrack(self._speech), faults, conversation.record)
        self._resampler = Resampler(SAMPLE_RATE, STT_RATE)
        self._tasks = TaskGroup(f"engine call {call_id}")
        self._closing = False
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()

    async def answer(self, offer_sdp: str) -> str:
        pc = self._pc
        pc.addTrack(OpusEncodedTrack(self._outgoing))
        pc.on("datachannel", self._on_datachannel)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_connection_state)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        # The recogniser needs no playout schedule, only ordered frames: aiortc's default buffer
        # would hold each one back 60-80 ms and wait 320 ms on a lost packet; its decoder thread
        # costs more than decoding (audio/receive_tuning.py). Frames come straight to ``_on_frame``.
        tune_audio_receivers(pc, self._on_frame)
        with loopback_ice(self._loopback):
            await pc.setLocalDescription(await pc.createAnswer())
        answer = str(pc.localDescription.sdp)
        if self._faults.blackhole_ice:
            # Answer, then drop our ICE agent: the client's checks go nowhere, as if UDP were blocked.
            await pc.close()
        return tamper_fingerprint(answer) if self._faults.tamper_fingerprint else answer

    # ------------------------------------------------------------------ Link

    def send(self, payload: str) -> None:
        if self._faults.stop_answering:
            return
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(payload)

    def send_raw(self, payload: str) -> None:
        """For injected malformed or unknown events: bypasses nothing but the conversation."""
        if self._channel is not None and self._channel.readyState == "open":
            self._channel.send(payload)

    def play(self, samples: Pcm, response_id: str, item_id: str) -> None:
        self._speech.play(samples)

    def clear_audio(self) -> bool:
        playing = self._speech.playing
        self._speech.clear()
        return playing

    def hang_up(self) -> None:
        self._tasks.spawn(self.close())

    # ------------------------------------------------------------------ peer events

    def _on_datachannel(self, channel: Any) -> None:
        self._channel = channel
        channel.on("message", self.conversation.on_message)
        self.conversation.attach(self)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._tasks.spawn(drain_track(track, self._on_frame))

    def _on_frame(self, frame: av.AudioFrame) -> None:
        record = self.conversation.record
        record.frames_received += 1
        record.rtp_audio_ms += 1000 * frame.samples / frame.sample_rate
        if self._faults.drop_inbound():
            return
        mono = frame_to_mono(frame)
        if self._faults.delay_inbound_ms:
            # Hand the frame over later, in order: a constant added latency on the way in.
            asyncio.get_running_loop().call_later(self._faults.delay_inbound_ms / 1000, self._hear, mono)
        else:
            self._hear(mono)

    def _hear(self, mono: Pcm) -> None:
        if self._closing:
            return
        # One arrival per 20 ms frame with sound, whatever the packet carried (clients may send 40 ms
        # packets): the record counts and times audio, not packets.
        arrived = time.monotonic()
        for start in range(0, mono.size, FRAME_SAMPLES):
            if rms_dbfs(mono[start : start + FRAME_SAMPLES]) > SOUND_FLOOR_DBFS:
                self.conversation.record.sound_arrivals.append(arrived)
        self.conversation.feed_audio(self._resampler.resample(mono))

    def _on_connection_state(self) -> None:
        if self._pc.connectionState == "connected":
            self.connected.set()
        elif self._pc.connectionState in ("failed", "closed"):
            self.hang_up()

    # ------------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        """Idempotent; safe from any task, including one this call owns."""
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        await self.conversation.close()
        await self._tasks.close()
        try:
            await self._pc.close()
        except Exception:  # aiortc cannot close a peer whose offer was only half applied
            log.warning("call %s: the peer connection did not close cleanly", self.call_id, exc_info=True)
        self.closed.set()
