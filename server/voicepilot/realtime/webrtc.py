"""The WebRTC transport: one peer connection carrying Opus both ways and the events channel.

Order follows the service's samples: add the mic track, create the data channel, make the offer
(aiortc gathers ICE inside setLocalDescription, so no trickle), POST it as application/sdp with
the ephemeral key, apply the answer, wait for the channel to open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from voicepilot.audio.opus import OpusEncodedTrack
from voicepilot.audio.receive_tuning import tune_audio_receivers
from voicepilot.audio.tracks import PacedAudioTrack, drain_track
from voicepilot.errors import VoicePilotError, classify_http_status, media_error, network_error
from voicepilot.realtime.endpoints import Endpoint
from voicepilot.realtime.ice import IcePath, ice_path, loopback_ice
from voicepilot.realtime.keys import EphemeralKey, error_detail
from voicepilot.realtime.proxy import route
from voicepilot.tasks import wait_first

log = logging.getLogger(__name__)

DATA_CHANNEL_LABEL = "oai-events"
SDP_TIMEOUT_S = 10.0
OPEN_TIMEOUT_S = 5.0  # a working path connects in well under a second; then fall back
# Digital silence (a closed push-to-talk gate, a muted or gated microphone) leaves in 60 ms packets
# once the encoder has settled, sound in 20 ms ones: a third of the packets while nobody speaks,
# and nothing added to the sound's latency (audio/opus.py). Silence that ends a turn can reach the
# service's VAD up to 40 ms later. 20 turns it off.
SILENCE_PACKET_MS = 60
HANDSHAKE_GRACE_S = 5.0  # more time for a handshake under way (ICE done): an overloaded service


@dataclass
class TransportCallbacks:
    on_message: Callable[[str], None]
    on_closed: Callable[[str], None]
    on_remote_frame: Callable[[av.AudioFrame], None] | None = None


class WebRTCTransport:
    kind = "webrtc"

    def __init__(self, endpoint: Endpoint, outgoing: PacedAudioTrack, callbacks: TransportCallbacks) -> None:
        self._endpoint = endpoint
        self._outgoing = outgoing
        self._callbacks = callbacks
        self._pc: RTCPeerConnection | None = None
        self._channel: object | None = None
        self._drains: set[asyncio.Task[int]] = set()
        self._closed = False
        self.call_id: str | None = None
        self.frames_received = 0
        self.last_media_at: float | None = None
        self._failed = asyncio.Event()
        self._bytes_sent_at: tuple[float, int] | None = None
        # The receivers with the low-latency buffer and Opus decoded on the loop (1), and "active" or
        # why aiortc's (slower) defaults stayed (audio/aiortc_hooks.py).
        self.receivers_tuned = 0
        self.hooks: str | None = None

    async def connect(self, key: EphemeralKey, http: aiohttp.ClientSession) -> None:
        pc = RTCPeerConnection(self._endpoint.ice.configuration())
        self._pc = pc
        # Encoded here, on the loop, rather than by aiortc (audio/opus.py: a third of the CPU).
        sending = OpusEncodedTrack(self._outgoing, silence_packet_ms=SILENCE_PACKET_MS)
        pc.addTrack(sending)
        channel = pc.createDataChannel(DATA_CHANNEL_LABEL, ordered=True)
        self._channel = channel
        opened = asyncio.Event()
        channel.on("open", opened.set)
        channel.on("message", self._on_message)
        channel.on("close", lambda: self._report_closed("the events channel closed"))
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_connection_state)

        with loopback_ice(self._endpoint.loopback):
            await pc.setLocalDescription(await pc.createOffer())
        answer = await self._exchange_sdp(pc.localDescription.sdp, key, http)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        except Exception as exc:  # aiortc's SDP parser raises ValueError, but also KeyError, AssertionError...
            raise media_error(f"The service's SDP answer was not usable ({exc.__class__.__name__}: {exc}).") from exc
        # A peer that takes no more than N ms of audio in a packet says so (RFC 4566 ``a=maxptime``).
        if (most_ms := audio_max_ptime_ms(answer)) is not None and most_ms < SILENCE_PACKET_MS:
            log.info("the service takes at most %g ms in a packet: silence is sent in packets that fit", most_ms)
            sending.silence_packet_ms = most_ms
        # aiortc's receive buffer delays every frame by 60-80 ms for nothing and its decoder thread
        # costs more than decoding: tuned now that the receiving track exists, before media flows
        # (audio/receive_tuning.py). Frames come straight here; the track's drain sees it end.
        tuning = tune_audio_receivers(pc, self._on_remote_frame)
        self.receivers_tuned, self.hooks = tuning.tuned, tuning.status
        await self._wait_open(opened)

    async def _wait_open(self, opened: asyncio.Event) -> None:
        """Wait for the events channel, failing fast when ICE or DTLS fails instead of timing out."""
        await wait_first(opened, self._failed, timeout=OPEN_TIMEOUT_S)
        pc = self._pc
        if not opened.is_set() and not self._failed.is_set() and pc is not None and _handshaking(pc):
            # ICE connected and the handshake is still going: a busy service answers late, it is
            # not unreachable. Give it longer before giving up (measured: 20 sessions starting at
            # once on a 2-core engine took up to 7 s).
            await wait_first(opened, self._failed, timeout=HANDSHAKE_GRACE_S)
        if opened.is_set():
            return
        if pc is not None and "failed" in _dtls_states(pc):
            # ICE worked and the secure handshake failed: never fall back from that silently.
            raise media_error(
                "The secure media handshake (DTLS) with the service failed: its certificate did not match "
                "the fingerprint in its answer.",
                "Do not retry on this network: something may be intercepting the connection.",
                code="dtls_failed",
            )
        if pc is not None and pc.iceConnectionState == "completed":
            # ICE worked and the handshake is still going: a slow or overloaded peer, not an attack.
            raise media_error(
                "The secure media handshake with the service did not finish within "
                f"{OPEN_TIMEOUT_S + HANDSHAKE_GRACE_S:.0f} s.",
                "Try again in a moment; the service may be overloaded.",
                code="handshake_timeout",
            )
        raise media_error(
            f"The media connection did not come up within {OPEN_TIMEOUT_S:.0f} s (ICE).",
            "Check that UDP traffic to the service is allowed, or use the WebSocket transport.",
            code="ice_failed",
        )

    async def _exchange_sdp(self, offer: str, key: EphemeralKey, http: aiohttp.ClientSession) -> str:
        headers = {"Authorization": f"Bearer {key.value}", "Content-Type": "application/sdp"}
        via = route(self._endpoint.proxy, self._endpoint.calls_url)
        try:
            async with http.post(
                self._endpoint.calls_url,
                data=offer.encode(),
                headers=headers | via.headers,
                proxy=via.proxy,
                proxy_headers=via.proxy_headers,
                timeout=aiohttp.ClientTimeout(total=SDP_TIMEOUT_S),
                allow_redirects=False,
            ) as response:
                body = await response.text()
                if not 200 <= response.status < 300:
                    raise classify_http_status(response.status, error_detail(body), response.headers.get("Retry-After"))
                location = response.headers.get("Location", "")
                self.call_id = location.rstrip("/").rsplit("/", 1)[-1] or None
                return body
        except VoicePilotError:
            raise
        except (aiohttp.ClientError, TimeoutError, asyncio.TimeoutError) as exc:
            raise network_error(
                f"Could not reach the realtime service at {self._endpoint.calls_url} ({exc.__class__.__name__})."
            ) from exc

    def ice_path(self) -> IcePath | None:
        """The candidate pair carrying the call (None before ICE chose one)."""
        return ice_path(self._pc) if self._pc is not None else None

    @property
    def channel_state(self) -> str:
        """The events data channel's ready state (``connecting``, ``open``, ``closing``, ``closed``)."""
        return str(getattr(self._channel, "readyState", "closed"))

    def send(self, payload: str) -> None:
        channel = self._channel
        if channel is None or self.channel_state != "open":
            raise media_error("The events channel is not open.")
        channel.send(payload)  # type: ignore[attr-defined]

    def _on_message(self, message: str | bytes) -> None:
        self._callbacks.on_message(message if isinstance(message, str) else message.decode("utf-8", "replace"))

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio":
            return
        task = asyncio.get_running_loop().create_task(drain_track(track, self._on_remote_frame))
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)

    def _on_remote_frame(self, frame: av.AudioFrame) -> None:
        self._outgoing.ride_along()
        self.frames_received += 1
        self.last_media_at = time.monotonic()
        if self._callbacks.on_remote_frame is not None:
            self._callbacks.on_remote_frame(frame)

    async def _on_connection_state(self) -> None:
        state = self._pc.connectionState if self._pc else "closed"
        log.debug("peer connection state: %s", state)
        if state in ("failed", "closed"):
            self._failed.set()
            self._report_closed(f"the peer connection {state}")

    def _report_closed(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self._callbacks.on_closed(reason)

    async def stats(self) -> dict[str, float]:
        """Round-trip time, jitter, loss and send bitrate from aiortc's getStats."""
        if self._pc is None:
            return {}
        report = await self._pc.getStats()
        stats: dict[str, float] = {"receiversTuned": float(self.receivers_tuned)}
        for entry in report.values():
            # Fields stay None until the first RTCP reports arrive.
            if entry.type == "remote-inbound-rtp" and entry.roundTripTime is not None:
                stats["rttMs"] = float(entry.roundTripTime) * 1000
                stats["fractionLost"] = float(entry.fractionLost or 0)
            elif entry.type == "inbound-rtp" and entry.packetsReceived is not None:
                stats["jitterMs"] = float(entry.jitter or 0) / 48  # RTP timestamp units at 48 kHz
                stats["packetsLost"] = float(entry.packetsLost or 0)
                stats["packetsReceived"] = float(entry.packetsReceived)
            elif entry.type == "outbound-rtp" and entry.bytesSent is not None:
                now = time.monotonic()
                if self._bytes_sent_at is not None and now > self._bytes_sent_at[0]:
                    elapsed = now - self._bytes_sent_at[0]
                    stats["bitrateKbps"] = (entry.bytesSent - self._bytes_sent_at[1]) * 8 / elapsed / 1000
                self._bytes_sent_at = (now, int(entry.bytesSent))
        return stats

    async def close(self) -> None:
        self._closed = True
        if self._pc is not None:
            try:
                await self._pc.close()
            except Exception:  # aiortc cannot close a peer whose answer was only half applied
                log.warning("the peer connection did not close cleanly", exc_info=True)
        # A remote track whose receiver never started (DTLS failed) never ends on its own.
        for drain in self._drains:
            drain.cancel()
        await asyncio.gather(*self._drains, return_exceptions=True)


def audio_max_ptime_ms(sdp: str) -> float | None:
    """The ``a=maxptime`` (ms) given in an audio section of ``sdp``, if there is one."""
    in_audio = False
    for line in sdp.splitlines():
        if line.startswith("m="):
            in_audio = line.startswith("m=audio ")
        elif in_audio and line.startswith("a=maxptime:"):
            try:
                return float(line.removeprefix("a=maxptime:").strip())
            except ValueError:
                return None
    return None


def _handshaking(pc: RTCPeerConnection) -> bool:
    """ICE is connected and the secure handshakes (DTLS, then SCTP for the channel) are under way."""
    return pc.iceConnectionState == "completed" and not _dtls_states(pc) & {"failed", "closed"}


def _dtls_states(pc: RTCPeerConnection) -> set[str]:
    """The DTLS transports' states: "failed" when the handshake failed (e.g. a fingerprint mismatch)."""
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    return {str(transport.state) for transport in transports if transport is not None}
