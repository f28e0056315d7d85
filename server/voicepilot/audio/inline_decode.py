"""Opus decoding on the event loop for aiortc's audio receivers, instead of its decoder thread.

aiortc's decoder thread hands each frame back to the loop as a new task, a thread hop 50 times a
second for 0.04 ms of decoding. :class:`InlineOpusDecoder` decodes each frame where the receiver's
packet handler gives it (through :class:`voicepilot.audio.aiortc_hooks.DecoderQueue`), mono, and
skips re-decoding a quiet stretch it has seen. A hole in the RTP timestamps after sound is filled
with system libopus (audio/libopus.py): the last 20 ms from the next packet's FEC, the rest by PLC,
counted by :class:`PlaybackGaps`; without libopus, PyAV decodes and holes are skipped.
Measurements: docs/performance.md, docs/audio.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, TIME_BASE, Pcm, silent_frame
from voicepilot.audio.libopus import OpusDecoder, OpusError, has_fec, load_problem
from voicepilot.audio.opus import voice_decoder

log = logging.getLogger(__name__)

FrameSink = Callable[[av.AudioFrame], None]

QUIET_PEAK = 2  # a decoded frame no louder than this (-84 dBFS) is silence: the decoder's own dither
SPOT_CHECK_STRIDE = 120  # samples between the few looked at first (eight in a 20 ms frame at 48 kHz)
QUIET_PACKETS_KEPT = 16  # the encoder's silence packets remembered (one to a handful at a time)
# The longest hole filled: past this a sender paused or restarted, and made-up audio would only add
# delay (the receive buffer takes 60 ms held behind a hole as loss, so real holes are shorter).
MAX_CONCEAL_SAMPLES = SAMPLE_RATE * 200 // 1000
TIMESTAMP_MOD = 1 << 32


@dataclass
class PlaybackGaps:
    """Audio that did not arrive, after sound: recovered from FEC, concealed (PLC) or skipped (no
    libopus). A gap is one run of concealed or skipped audio; FEC's recovery is not one."""

    received_samples: int = 0
    recovered_samples: int = 0
    concealed_samples: int = 0
    skipped_samples: int = 0
    longest_gap_samples: int = 0
    holes: int = 0
    discontinuities: int = 0  # holes too long to fill (a paused or restarted sender)

    def gap(self, samples: int) -> None:
        self.longest_gap_samples = max(self.longest_gap_samples, samples)

    def stats(self) -> dict[str, float]:
        minutes = max(self.received_samples / SAMPLE_RATE / 60, 1 / 60)  # per minute, of at least a second
        gap_ms = (self.concealed_samples + self.skipped_samples) * 1000 / SAMPLE_RATE
        return {
            "playbackGapMsPerMin": gap_ms / minutes,
            "playbackGapMsMax": self.longest_gap_samples * 1000 / SAMPLE_RATE,
            "fecRecoveredMs": self.recovered_samples * 1000 / SAMPLE_RATE,
            "concealedMs": self.concealed_samples * 1000 / SAMPLE_RATE,
        }


class InlineOpusDecoder:
    """Decodes Opus frames as they are given and delivers the audio to ``deliver``."""

    def __init__(self, deliver: FrameSink, use_libopus: bool = True) -> None:
        self._on_frame = deliver
        # Why holes are skipped rather than filled, or None when they are filled.
        self.concealment: str | None = load_problem() if use_libopus else "libopus not used"
        self._libopus = OpusDecoder() if self.concealment is None else None
        self._codec = voice_decoder() if self._libopus is None else None  # the fallback
        self._next_timestamp: int | None = None  # where the audio delivered last ends
        self.gaps = PlaybackGaps()
        self._quiet = False  # the last frame was silence (decoded quietly, or stood in for)
        # Packets that decoded quietly after silence, and how many samples each stands for.
        self._quiet_packets: dict[bytes, int] = {}
        self.decoded = 0
        self.silence_not_decoded = 0
        self.errors = 0
        self.empty = 0
        self.consumer_errors = 0
        self.concealed = 0  # frames made up for lost packets (FEC or PLC)

    def decode(self, data: bytes, timestamp: int) -> None:
        if not data:
            # An empty packet would flush the decoder, which then refuses every later one (EOF).
            self.empty += 1
            return
        if self._quiet and (samples := self._quiet_packets.get(data)) is not None:
            self.silence_not_decoded += 1
            self._ends_at(timestamp, samples)
            self._deliver(silent_frame(samples, timestamp))
            return
        hole = self._hole(timestamp)
        try:
            if hole and not self._quiet:
                self._fill(hole, data, timestamp)
            frames = self._decode(data, timestamp)
        except (av.FFmpegError, OpusError) as exc:
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
        self._ends_at(timestamp, sum(frame.samples for frame in frames))
        for frame in frames:
            self.decoded += 1
            self._deliver(frame)

    def dropped(self, samples: int) -> None:
        """The receive buffer dropped ``samples`` of silence on purpose (working off a backlog): not a
        hole to fill."""
        if self._next_timestamp is not None:
            self._next_timestamp = (self._next_timestamp + samples) % TIMESTAMP_MOD

    def _decode(self, data: bytes, timestamp: int) -> list[av.AudioFrame]:
        if self._libopus is not None:
            return [_pcm_frame(self._libopus.decode(data), timestamp)]
        assert self._codec is not None
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = TIME_BASE
        return self._codec.decode(packet)

    def _hole(self, timestamp: int) -> int:
        """Samples missing before ``timestamp`` (0: none, or too many to fill)."""
        if self._next_timestamp is None:
            return 0
        missing = (timestamp - self._next_timestamp) % TIMESTAMP_MOD
        if missing == 0 or missing >= TIMESTAMP_MOD // 2:
            return 0  # in sequence (or behind: the receive buffer lets no late packet through)
        if missing > MAX_CONCEAL_SAMPLES:
            self.gaps.discontinuities += 1
            return 0
        return missing

    def _fill(self, missing: int, data: bytes, timestamp: int) -> None:
        """Deliver ``missing`` samples before ``data``: PLC, then the last frame's worth from its FEC."""
        gaps = self.gaps
        gaps.holes += 1
        if self._libopus is None:
            gaps.skipped_samples += missing
            gaps.gap(missing)
            return
        start = timestamp - missing
        # The last lost frame from the next packet's FEC, when it carries one; all the rest by PLC.
        recovered = min(missing, FRAME_SAMPLES) if has_fec(data) else 0
        concealed = missing - recovered
        at = 0
        while at < concealed:  # PLC, a frame at most at a time (libopus conceals up to one packet's worth)
            pcm = self._libopus.conceal(min(FRAME_SAMPLES, concealed - at))
            self.concealed += 1
            self._deliver(_pcm_frame(pcm, (start + at) % TIMESTAMP_MOD))
            at += pcm.size
        if recovered:
            pcm = self._libopus.decode_fec(data, recovered)
            self.concealed += 1
            self._deliver(_pcm_frame(pcm, (start + at) % TIMESTAMP_MOD))
        gaps.concealed_samples += concealed
        gaps.recovered_samples += recovered
        gaps.gap(concealed)

    def _ends_at(self, timestamp: int, samples: int) -> None:
        self._next_timestamp = (timestamp + samples) % TIMESTAMP_MOD
        self.gaps.received_samples += samples

    def _deliver(self, frame: av.AudioFrame) -> None:
        # Called inside aiortc's packet handler: an exception would end its receive loop, and with
        # it the call. A consumer's failure is the consumer's: logged once, counted.
        try:
            self._on_frame(frame)
        except Exception:
            self.consumer_errors += 1
            if self.consumer_errors == 1:
                log.exception("the received audio's consumer failed (later failures are only counted)")


def _pcm_frame(pcm: Pcm, pts: int) -> av.AudioFrame:
    """A mono s16 frame of ``pcm``, filled in place (``from_ndarray`` costs more than decoding)."""
    frame = av.AudioFrame(format="s16", layout="mono", samples=pcm.size)
    if pcm.size:
        frame.planes[0].update(pcm)  # type: ignore[arg-type]  # any buffer, not only bytes
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


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
