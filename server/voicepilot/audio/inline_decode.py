"""Opus decoding on the event loop for aiortc's audio receivers, instead of its decoder thread.

aiortc's decoder thread hands each frame back to the loop as a new task, a thread hop there and back
50 times a second for 0.04 ms of decoding. :class:`InlineOpusDecoder` decodes each frame where the
receiver's packet handler gives it (through :class:`voicepilot.audio.aiortc_hooks.DecoderQueue`) and
hands the audio straight to its consumer. It decodes mono. Silence that goes on is not decoded again:
in a quiet stretch, a packet already seen there to decode quietly gives a frame of digital silence;
the first packet after sound, and any packet not seen before, are always decoded. Measurements:
docs/performance.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import av
import numpy as np

from voicepilot.audio.frames import TIME_BASE, silent_frame
from voicepilot.audio.opus import voice_decoder

log = logging.getLogger(__name__)

FrameSink = Callable[[av.AudioFrame], None]

QUIET_PEAK = 2  # a decoded frame no louder than this (-84 dBFS) is silence: the decoder's own dither
SPOT_CHECK_STRIDE = 120  # samples between the few looked at first (eight in a 20 ms frame at 48 kHz)
QUIET_PACKETS_KEPT = 16  # the encoder's silence packets remembered (one to a handful at a time)


class InlineOpusDecoder:
    """Decodes Opus frames as they are given and delivers the audio to ``deliver``."""

    def __init__(self, deliver: FrameSink) -> None:
        self._on_frame = deliver
        self._codec = voice_decoder()
        self._quiet = False  # the last frame was silence (decoded quietly, or stood in for)
        # Packets that decoded quietly after silence, and how many samples each stands for.
        self._quiet_packets: dict[bytes, int] = {}
        self.decoded = 0
        self.silence_not_decoded = 0
        self.errors = 0
        self.empty = 0
        self.consumer_errors = 0

    def decode(self, data: bytes, timestamp: int) -> None:
        if not data:
            # An empty packet would flush the decoder, which then refuses every later one (EOF).
            self.empty += 1
            return
        if self._quiet and (samples := self._quiet_packets.get(data)) is not None:
            self.silence_not_decoded += 1
            self._deliver(silent_frame(samples, timestamp))
            return
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = TIME_BASE
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError as exc:
            # Like aiortc: keep the decoder's state and go on with the next frame. Logged once: a
            # broken stream would otherwise log 50 lines a second (the rest are counted).
            self.errors += 1
            self._quiet = False
            if self.errors == 1:
                log.warning("an Opus frame could not be decoded (later failures are only counted): %s", exc)
            return
        quiet = bool(frames) and all(_is_quiet(frame) for frame in frames)
        if quiet and self._quiet:
            if len(self._quiet_packets) >= QUIET_PACKETS_KEPT:
                self._quiet_packets.clear()  # an encoder that varies its silence: start over
            self._quiet_packets[data] = sum(frame.samples for frame in frames)  # what decoding it gives
        self._quiet = quiet
        for frame in frames:
            self.decoded += 1
            self._deliver(frame)

    def _deliver(self, frame: av.AudioFrame) -> None:
        # Called inside aiortc's packet handler: an exception would end its receive loop, and with
        # it the call. A consumer's failure is the consumer's: logged once, counted.
        try:
            self._on_frame(frame)
        except Exception:
            self.consumer_errors += 1
            if self.consumer_errors == 1:
                log.exception("the received audio's consumer failed (later failures are only counted)")


def _is_quiet(frame: av.AudioFrame) -> bool:
    if frame.format.name != "s16" or frame.layout.nb_channels != 1:  # (a count: no channel objects made)
        return False  # not what the decoder is set up to give: taken as sound, decoded every time
    count = frame.samples
    if count == 0:
        return True  # nothing to hear (and no plane to read)
    # Read in place (to_ndarray copies and costs three times as much).
    plane = memoryview(frame.planes[0])[: 2 * count]
    # Most frames decoded are sound, and eight samples spread over a 20 ms frame (one in
    # SPOT_CHECK_STRIDE) tell most of them apart without numpy: its two reductions cost 65 us a frame
    # in place (cold caches after each wake-up), a fifth of a received packet's whole trip. Quiet
    # still needs every sample.
    spread = plane.cast("h")
    for at in range(0, count, SPOT_CHECK_STRIDE):
        if not -QUIET_PEAK <= spread[at] <= QUIET_PEAK:
            return False
    samples = np.frombuffer(plane, dtype=np.int16)
    return int(samples.max()) <= QUIET_PEAK and int(samples.min()) >= -QUIET_PEAK
