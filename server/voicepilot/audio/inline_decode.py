"""Opus decoding on the event loop for aiortc's audio receivers, instead of its decoder thread.

aiortc's receiver hands each complete frame to a decoder thread through a ``queue.Queue``; the
thread decodes it and gives the audio back to the loop with ``asyncio.run_coroutine_threadsafe``,
which wakes the loop through its self-pipe and runs a new task for each frame. For audio that is a
thread hop there and back, 50 times a second, around 0.04 ms of decoding: measured, a fifth of the
sidecar's busy time while streaming went to the hop.

:class:`InlineOpusDecoder` stands in for that queue: Opus frames are decoded where they are put (on
the loop, in the receiver's packet handler) and the audio goes straight to whoever consumes it: a
callback when one is given (no queue, no task to wake: one turn of the loop less per packet), else the
track's queue. It decodes mono (all that is used here, and cheaper than aiortc's stereo).

Silence is not decoded over and over. An Opus encoder fed digital silence settles on a few small
packets and sends them again and again (the engine reuses one; libopus, once its noise estimate
has settled, cycles through a handful), and they decode to next to nothing (a peak of 1 in 32768).
Once the decoder is in such a quiet stretch, a packet already seen to decode quietly there gives a
frame of digital silence instead: a listening assistant's side of the call is mostly that. The
first packet after sound is always decoded (it may carry the sound's tail), and so is any packet
not seen before; nothing audible is lost, since decoding the packet again would give the same
near-zeros.

A consumer given frames directly gets one shared frame of silence for each packet length, with its
pts set anew each time. Made new for each packet, that frame cost 75 us of CPU in the sidecar here
(measured in place: 5-10 times a tight loop's figure, since the loop wakes with cold caches for
each packet), a fifth of a received packet's whole trip through the sidecar (350 us). Frames that
go through the track's queue wait there, so each of those is its own.

Anything else it is given (another codec, or the ``None`` that stops the receiver) goes on to the
original queue, which the thread, otherwise idle, reads through :meth:`InlineOpusDecoder.get`, and
does what it always did: that is how the track still ends and the thread still stops on ``stop()``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable
from typing import Any

import av
import numpy as np

from voicepilot.audio.frames import TIME_BASE, make_frame
from voicepilot.audio.opus import voice_decoder

log = logging.getLogger(__name__)

_DECODER_QUEUE_ATTRIBUTE = "_RTCRtpReceiver__decoder_queue"

# What aiortc's receiver puts in its decoder queue: (codec parameters, JitterFrame), or None to stop.
DecodeTask = tuple[Any, Any] | None
# A sink has the frame for the length of the call: it reads (or copies) what it needs and neither
# keeps nor changes the frame, since silence comes as one shared frame (module docstring).
FrameSink = Callable[[av.AudioFrame], None]

QUIET_PEAK = 2  # a decoded frame no louder than this (-84 dBFS) is silence: the decoder's own dither
SPOT_CHECK_STRIDE = 120  # samples between the few looked at first (eight in a 20 ms frame at 48 kHz)
QUIET_PACKETS_KEPT = 16  # the encoder's silence packets remembered (one to a handful at a time)


class InlineOpusDecoder:
    """The receiver's decoder queue, decoding Opus as it is put (the same ``put`` interface).

    Frames go to ``on_frame`` when given, else to ``output`` (the track's queue).
    """

    def __init__(
        self, thread_queue: queue.Queue[DecodeTask], output: asyncio.Queue[Any], on_frame: FrameSink | None = None
    ) -> None:
        self._thread_queue = thread_queue
        self._deliver: FrameSink = output.put_nowait if on_frame is None else self._to_consumer(on_frame)
        self._codec = voice_decoder()
        self._quiet = False  # the last frame was silence (decoded quietly, or stood in for)
        # Packets that decoded quietly after silence, and how many samples each stands for.
        self._quiet_packets: dict[bytes, int] = {}
        # The shared frames of silence, by length (None: the track's queue keeps frames, each is new).
        self._silences: dict[int, av.AudioFrame] | None = None if on_frame is None else {}
        self.decoded = 0
        self.silence_not_decoded = 0
        self.errors = 0
        self.empty = 0
        self.consumer_errors = 0

    def get(self) -> DecodeTask:
        """The decoder thread's side (aiortc starts it with this object once media is set up)."""
        return self._thread_queue.get()

    def put(self, task: DecodeTask) -> None:
        if task is None or task[0].name != "opus":
            self._thread_queue.put(task)
            return
        _, encoded_frame = task
        data: bytes = encoded_frame.data
        if not data:
            # An empty packet would flush the decoder, which then refuses every later one (EOF).
            self.empty += 1
            return
        if self._quiet and (samples := self._quiet_packets.get(data)) is not None:
            self.silence_not_decoded += 1
            self._deliver(self._silence(samples, encoded_frame.timestamp))
            return
        packet = av.Packet(data)
        packet.pts = encoded_frame.timestamp
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

    def _silence(self, samples: int, pts: int) -> av.AudioFrame:
        """A frame of ``samples`` of digital silence at ``pts``: the shared one for a consumer."""
        if self._silences is None:  # frames wait in the track's queue: each must be its own
            return make_frame(np.zeros(samples, dtype=np.int16), pts)
        frame = self._silences.get(samples)
        if frame is None:
            frame = self._silences[samples] = make_frame(np.zeros(samples, dtype=np.int16), pts)
        frame.pts = pts
        return frame

    def _to_consumer(self, on_frame: FrameSink) -> FrameSink:
        def deliver(frame: av.AudioFrame) -> None:
            # Called inside aiortc's packet handler: an exception would end its receive loop, and
            # with it the call. A consumer's failure is the consumer's: logged once, counted.
            try:
                on_frame(frame)
            except Exception:
                self.consumer_errors += 1
                if self.consumer_errors == 1:
                    log.exception("the received audio's consumer failed (later failures are only counted)")

        return deliver


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


def decode_on_the_loop(receiver: Any, on_frame: FrameSink | None = None) -> bool:
    """Give ``receiver`` (an aiortc audio receiver) an :class:`InlineOpusDecoder` (delivering to
    ``on_frame`` if given, else to its track); True if it now has one."""
    current = getattr(receiver, _DECODER_QUEUE_ATTRIBUTE, None)
    if isinstance(current, InlineOpusDecoder):
        return True
    output = getattr(getattr(receiver, "_track", None), "_queue", None)
    if not isinstance(current, queue.Queue) or not isinstance(output, asyncio.Queue):
        log.warning("aiortc's receiver has no decoder queue or track queue: keeping its decoder thread")
        return False
    setattr(receiver, _DECODER_QUEUE_ATTRIBUTE, InlineOpusDecoder(current, output, on_frame))
    return True
