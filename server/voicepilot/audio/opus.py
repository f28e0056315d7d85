"""Opus encoding on the event loop, handed to aiortc as ready packets.

aiortc's sender, given PCM, computes an audio level in pure Python and encodes stereo in a thread
pool, about a third of the sidecar's CPU. Given ``av.Packet`` objects it only packetizes them, so
:class:`OpusEncodedTrack` wraps a :class:`~voicepilot.audio.tracks.PcmStream` and encodes mono voice
Opus inline, the RTP timestamp taken from the stream's sample count. Once the encoder has settled on
digital silence (``SILENT_RUN`` frames), its last packet is sent again instead of encoding, and with
``silence_packet_ms`` several such frames leave in one packet (RFC 6716 code 3); sound is never held
back. Sound goes in 20 ms packets; a receiver must take longer ones (RFC 7587), and the tests send them.
Measurements and rejected choices: docs/performance.md.
"""

from __future__ import annotations

from typing import Any, Literal

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, SILENCE, TIME_BASE, Pcm
from voicepilot.audio.tracks import PcmStream

# libopus's complexity (0-10; ffmpeg's default is 10). 5 is WebRTC's own setting on mobile: measured
# on the bundled speech samples, 234 instead of 310 us a frame at the same size (82 bytes), and the
# tests' recogniser hears no difference.
COMPLEXITY = 5
SILENT_RUN = 5  # silent frames the encoder sees before its silence packet is reused (it has settled)
MAX_PACKET_MS = 120  # RFC 6716: the most audio one Opus packet may hold
BITRATE = 32_000  # wideband speech is transparent well below this; the service resamples to 24 kHz anyway


def _voice_codec(mode: Literal["r", "w"]) -> av.AudioCodecContext:
    """libopus on 48 kHz mono s16, the samples used everywhere here."""
    codec = av.CodecContext.create("libopus", mode)
    assert isinstance(codec, av.AudioCodecContext)
    codec.format = "s16"
    codec.layout = "mono"
    codec.sample_rate = SAMPLE_RATE
    return codec


def voice_encoder(frames_per_packet: int = 1) -> av.AudioCodecContext:
    """libopus for voice, one packet per ``frames_per_packet`` 20 ms frames (one frame of that many samples)."""
    codec = _voice_codec("w")
    codec.bit_rate = BITRATE
    codec.time_base = TIME_BASE
    codec.options = {
        "application": "voip",
        "compression_level": str(COMPLEXITY),
        "frame_duration": str(FRAME_MS * frames_per_packet),
    }
    return codec


def voice_decoder() -> av.AudioCodecContext:
    """Decodes mono whatever the sender encoded (aiortc's decoder gives stereo, which nothing here uses)."""
    return _voice_codec("r")


class OpusEncodedTrack(MediaStreamTrack):
    """The audio of ``inner`` (48 kHz mono 20 ms frames), as Opus packets of ``frames_per_packet`` frames
    for aiortc's sender."""

    kind = "audio"

    def __init__(self, inner: PcmStream, frames_per_packet: int = 1, silence_packet_ms: float = 0) -> None:
        super().__init__()
        self._inner = inner
        self._frames_per_packet = frames_per_packet  # fixed: the encoder and its frame are sized for it
        # The most audio one packet of reused silence holds (0 or a frame's worth: one frame a packet).
        # Lowered when the peer's answer asks for shorter packets (``a=maxptime``).
        self.silence_packet_ms = silence_packet_ms
        self._codec = voice_encoder(frames_per_packet)
        samples = FRAME_SAMPLES * frames_per_packet
        # One frame, refilled for each encode: libopus has read it by the time ``encode`` returns
        # (a frame made per packet cost more than the encoder's own Python call).
        self._frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        self._frame.sample_rate = SAMPLE_RATE
        self._frame.time_base = TIME_BASE
        self._packet_pcm = np.zeros(samples, dtype=np.int16)  # a packet's frames, when it holds several
        self._silent_frames = 0
        self._silence_packet: bytes | None = None
        self._after_silence: av.Packet[Any] | None = None
        self.frames_encoded = 0
        self.silent_frames_reused = 0

    async def recv(self) -> av.Packet[Any]:
        if self._after_silence is not None:  # sound that ended held silence leaves in the same wake-up
            ready, self._after_silence = self._after_silence, None
            return ready
        # Reused silence frames not sent yet, where the first one starts, and how many fill a packet.
        held, held_pts, per_packet = 0, 0, 1
        while True:
            pcm, pts, silent = await self._next_packet_pcm()
            self._silent_frames = self._silent_frames + self._frames_per_packet if silent else 0
            if self._silent_frames > SILENT_RUN and self._silence_packet is not None:
                self.silent_frames_reused += self._frames_per_packet
                if not held:
                    held_pts = pts
                    per_packet = silence_packets_per_packet(self._silence_packet, self.silence_packet_ms)
                held += 1
                if held >= per_packet:
                    return self._held_silence(held, held_pts)
                continue
            if held:  # sound after held silence: the silence leaves first, the sound right after it
                silence = self._held_silence(held, held_pts)
                self._after_silence = self._encode(pcm, pts)
                return silence
            packet = self._encode(pcm, pts)
            if packet is not None:
                return packet

    async def _next_packet_pcm(self) -> tuple[Pcm, int, bool]:
        """A packet's samples (one frame as it came; several side by side), its pts, and whether all
        of it is digital silence."""
        pcm, pts = await self._next_samples()
        silent = _digital_silence(pcm)
        count = self._frames_per_packet
        if count > 1:  # the packet's frames side by side (one frame: encoded as it is, no copy)
            self._packet_pcm[:FRAME_SAMPLES] = pcm
            for index in range(1, count):
                samples, _ = await self._next_samples()
                silent = silent and _digital_silence(samples)
                self._packet_pcm[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES] = samples
            pcm = self._packet_pcm
        return pcm, pts, silent

    def _encode(self, pcm: Pcm, pts: int) -> av.Packet[Any] | None:
        self._frame.planes[0].update(pcm)  # type: ignore[arg-type]  # any buffer, not only bytes
        self._frame.pts = pts
        packets = self._codec.encode(self._frame)
        self.frames_encoded += self._frames_per_packet
        if not packets:
            return None
        # One packet per input frame: the input frame is exactly one Opus packet's duration.
        packet = packets[0]
        self._silence_packet = bytes(packet) if self._silent_frames >= SILENT_RUN else None
        return self._packet(packet, pts)

    def _held_silence(self, count: int, pts: int) -> av.Packet[Any]:
        assert self._silence_packet is not None
        return self._packet(av.Packet(repeated_frame(self._silence_packet, count)), pts)

    async def _next_samples(self) -> tuple[Pcm, int]:
        samples, pts = await self._inner.next_pcm()
        if self.readyState != "live":
            raise MediaStreamError
        return samples, pts

    @staticmethod
    def _packet(packet: av.Packet[Any], pts: int | None) -> av.Packet[Any]:
        # The encoder's own pts is shifted by its look-ahead; the frame's is the stream's clock.
        packet.pts = pts
        packet.time_base = TIME_BASE
        return packet

    def stop(self) -> None:
        super().stop()
        self._inner.stop()


def _digital_silence(samples: Pcm) -> bool:
    # count_nonzero: a third of what ``any`` costs (no ufunc reduction), 50 times a second.
    return samples is SILENCE or not np.count_nonzero(samples)


def silence_packets_per_packet(packet: bytes, most_ms: float) -> int:
    """How many copies of the one-frame ``packet`` leave as one packet of at most ``most_ms``."""
    if len(packet) < 2 or packet[0] & 0x3:
        return 1  # not a single frame (code 0): sent as it is
    return max(1, int(min(most_ms, MAX_PACKET_MS) // opus_packet_ms(packet)))


def repeated_frame(packet: bytes, count: int) -> bytes:
    """One Opus packet holding ``count`` copies of the single frame in ``packet`` (RFC 6716 section
    3.2.5: code 3, constant bit rate: the TOC byte, the frame count, then the frames end to end)."""
    if count == 1:
        return packet
    return bytes((packet[0] | 0x3, count)) + packet[1:] * count


def opus_packet_ms(data: bytes) -> float:
    """The audio an Opus packet holds, from its TOC byte (RFC 6716 section 3.1); a frame's worth for an
    empty packet or one too short to say."""
    if not data:
        return FRAME_MS
    config, code = data[0] >> 3, data[0] & 0x3
    if config < 12:  # SILK
        frame_ms = (10.0, 20.0, 40.0, 60.0)[config % 4]
    elif config < 16:  # hybrid
        frame_ms = (10.0, 20.0)[config % 2]
    else:  # CELT
        frame_ms = (2.5, 5.0, 10.0, 20.0)[config % 4]
    if code == 0:
        return frame_ms
    if code in (1, 2):
        return 2 * frame_ms
    return frame_ms * (data[1] & 0x3F) if len(data) > 1 else FRAME_MS
