"""Opus decoding on the event loop for aiortc's audio receivers, instead of its decoder thread.

aiortc's receiver hands each complete frame to a decoder thread through a ``queue.Queue``; the
thread decodes it and gives the audio back to the loop with ``asyncio.run_coroutine_threadsafe``,
which wakes the loop through its self-pipe and runs a new task for each frame. For audio that is a
thread hop there and back, 50 times a second, around 0.04 ms of decoding: measured, a fifth of the
sidecar's busy time while streaming went to the hop.

:class:`InlineOpusDecoder` stands in for that queue: Opus frames are decoded where they are put (on
the loop, in the receiver's packet handler) and the audio goes straight into the track's queue.
It decodes mono (all that is used here, and cheaper than aiortc's stereo). Anything else it is given
(another codec, or the ``None`` that stops the receiver) goes on to the original queue, which the
thread, otherwise idle, reads through :meth:`InlineOpusDecoder.get`, and does what it always did:
that is how the track still ends and the thread still stops on ``stop()``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from typing import Any

import av

from voicepilot.audio.frames import TIME_BASE
from voicepilot.audio.opus import voice_decoder

log = logging.getLogger(__name__)

_DECODER_QUEUE_ATTRIBUTE = "_RTCRtpReceiver__decoder_queue"

# What aiortc's receiver puts in its decoder queue: (codec parameters, JitterFrame), or None to stop.
DecodeTask = tuple[Any, Any] | None


class InlineOpusDecoder:
    """The receiver's decoder queue, decoding Opus as it is put (the same ``put`` interface)."""

    def __init__(self, thread_queue: queue.Queue[DecodeTask], output: asyncio.Queue[Any]) -> None:
        self._thread_queue = thread_queue
        self._output = output
        self._codec = voice_decoder()
        self.decoded = 0
        self.errors = 0
        self.empty = 0

    def get(self) -> DecodeTask:
        """The decoder thread's side (aiortc starts it with this object once media is set up)."""
        return self._thread_queue.get()

    def put(self, task: DecodeTask) -> None:
        if task is None or task[0].name != "opus":
            self._thread_queue.put(task)
            return
        _, encoded_frame = task
        if not encoded_frame.data:
            # An empty packet would flush the decoder, which then refuses every later one (EOF).
            self.empty += 1
            return
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = TIME_BASE
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError as exc:
            # Like aiortc: keep the decoder's state and go on with the next frame. Logged once: a
            # broken stream would otherwise log 50 lines a second (the rest are counted).
            self.errors += 1
            if self.errors == 1:
                log.warning("an Opus frame could not be decoded (later failures are only counted): %s", exc)
            return
        for frame in frames:
            self.decoded += 1
            self._output.put_nowait(frame)


def decode_on_the_loop(receiver: Any) -> bool:
    """Give ``receiver`` (an aiortc audio receiver) an :class:`InlineOpusDecoder`; True if it now has one."""
    current = getattr(receiver, _DECODER_QUEUE_ATTRIBUTE, None)
    if isinstance(current, InlineOpusDecoder):
        return True
    output = getattr(getattr(receiver, "_track", None), "_queue", None)
    if not isinstance(current, queue.Queue) or not isinstance(output, asyncio.Queue):
        log.warning("aiortc's receiver has no decoder queue or track queue: keeping its decoder thread")
        return False
    setattr(receiver, _DECODER_QUEUE_ATTRIBUTE, InlineOpusDecoder(current, output))
    return True
