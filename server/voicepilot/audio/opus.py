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
"""

from __future__ import annotations

from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from voicepilot.audio.frames import SAMPLE_RATE, TIME_BASE

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

    async def recv(self) -> av.Packet[Any]:
        while True:
            frame = await self._inner.recv()
            if self.readyState != "live":
                raise MediaStreamError
            assert isinstance(frame, av.AudioFrame)
            pts = frame.pts
            packets = self._codec.encode(frame)
            if packets:
                # One 20 ms frame in, one packet out (libopus frames are 20 ms here); its own pts
                # is shifted by the encoder's look-ahead, the frame's is the stream's clock.
                packet = packets[0]
                packet.pts = pts
                packet.time_base = TIME_BASE
                return packet

    def stop(self) -> None:
        super().stop()
        self._inner.stop()
