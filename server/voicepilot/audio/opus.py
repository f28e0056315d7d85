"""Opus encoding on the event loop, handed to aiortc as ready packets.

Given PCM frames, aiortc's sender does two costly things per 20 ms frame (measured: about a
third of the sidecar's CPU while streaming): it computes the RFC 6465 audio level in a pure
Python loop over all 960 samples, and it sends each frame to a thread pool to be encoded (a
thread hop there and back, 50 times a second, for 0.2 ms of work). It also encodes stereo at
96 kbit/s, twice what speech needs.

A track may instead hand the sender encoded packets (``av.Packet``: aiortc's pass-through for
pre-encoded media, used by its media relay), which it only packetizes. :class:`OpusEncodedTrack`
wraps a PCM track that way: mono Opus tuned for voice, encoded inline (0.2 ms, less than the
thread hop costs), with the RTP timestamp taken from the frame's own sample count so handovers
and pauses keep a continuous clock.

Most of a conversation is silence in at least one direction (a closed push-to-talk gate, a muted
microphone, an assistant that is listening). Once the encoder has seen ``SILENT_RUN`` frames of
digital silence, its last packet (a valid comfort-silence frame) is sent again instead of encoding
the next silent frame: encoding is 0.2-0.3 ms a frame, and a 20-session engine spent most of its
loop there, encoding nothing.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voicepilot.audio.frames import SAMPLE_RATE, TIME_BASE

SILENT_RUN = 5  # silent frames the encoder sees before its silence packet is reused (it has settled)
BITRATE = 32_000  # wideband speech is transparent well below this; the service resamples to 24 kHz anyway


def voice_encoder() -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.bit_rate = BITRATE
    codec.format = "s16"
    codec.layout = "mono"
    codec.sample_rate = SAMPLE_RATE
    codec.time_base = TIME_BASE
    codec.options = {"application": "voip"}
    return codec


class OpusEncodedTrack(MediaStreamTrack):
    """The same audio as ``inner`` (48 kHz mono 20 ms frames), as Opus packets for aiortc's sender."""

    kind = "audio"

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self._inner = inner
        self._codec = voice_encoder()
        self._silent_frames = 0
        self._silence_packet: bytes | None = None
        self.frames_encoded = 0
        self.silent_frames_reused = 0

    async def recv(self) -> av.Packet[Any]:
        while True:
            frame = await self._inner.recv()
            if self.readyState != "live":
                raise MediaStreamError
            assert isinstance(frame, av.AudioFrame)
            pts = frame.pts
            silent = _is_digital_silence(frame)
            self._silent_frames = self._silent_frames + 1 if silent else 0
            if self._silent_frames > SILENT_RUN and self._silence_packet is not None:
                self.silent_frames_reused += 1
                return self._packet(av.Packet(self._silence_packet), pts)
            packets = self._codec.encode(frame)
            self.frames_encoded += 1
            if packets:
                # One 20 ms frame in, one packet out (libopus frames are 20 ms here).
                packet = packets[0]
                self._silence_packet = bytes(packet) if self._silent_frames >= SILENT_RUN else None
                return self._packet(packet, pts)

    @staticmethod
    def _packet(packet: av.Packet[Any], pts: int | None) -> av.Packet[Any]:
        # The encoder's own pts is shifted by its look-ahead; the frame's is the stream's clock.
        packet.pts = pts
        packet.time_base = TIME_BASE
        return packet

    def stop(self) -> None:
        super().stop()
        self._inner.stop()


def _is_digital_silence(frame: av.AudioFrame) -> bool:
    """All samples zero (s16 packed, as tracks here send), read in place: a few microseconds."""
    count = frame.samples * len(frame.layout.channels)
    return not np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16, count=count).any()
