"""Every reach into aiortc's private internals, behind a check of the version they were tested with.

aiortc offers no way to choose an audio receiver's jitter buffer or decoder, so :func:`replace_receiver_parts`
replaces two private attributes of each receiver (what goes in is :mod:`voicepilot.audio.receive_tuning`'s
choice), :class:`DecoderQueue` speaks the decoder thread's private queue protocol, and
:func:`packet_payload` reads a received packet's private payload, :func:`nominated_pair` the ICE
pair aioice nominated. On an aiortc outside
``TESTED_AIORTC``, or a receiver whose private parts are not where they were, aiortc's stock
behaviour stays and the :class:`HooksReport` says why: the session's diagnostics carry it as ``aiortcHooks``.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import av
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

log = logging.getLogger(__name__)

# The minor release the hooks were written and tested against (pyproject.toml pins the same one).
TESTED_AIORTC = "1.16"
ACTIVE = "active"
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"

# What aiortc's receiver puts in its decoder queue: (codec parameters, JitterFrame), or None to stop.
DecodeTask = tuple[Any, Any] | None
FrameSink = Callable[[av.AudioFrame], None]


class FrameDecoder(Protocol):
    def decode(self, data: bytes, timestamp: int) -> None:
        """Decode one encoded frame (its RTP timestamp) and deliver what it gives."""


def installed_aiortc() -> str:
    return importlib.metadata.version("aiortc")


def version_problem(version: str, tested: str = TESTED_AIORTC) -> str | None:
    """Why aiortc ``version`` is not the tested minor release, or None if it is."""
    if version == tested or version.startswith(tested + "."):
        return None
    return f"aiortc {version} is not the tested {tested}"


def nominated_pair(ice_transport: Any) -> Any | None:
    """The candidate pair aioice nominated for component 1 of an RTCIceTransport, or None (not yet,
    or aioice keeps it elsewhere: then the diagnostics simply name no path)."""
    connection: Any = getattr(ice_transport.iceGatherer, "_connection", None)
    nominated: Any = getattr(connection, "_nominated", None)
    return nominated.get(1) if isinstance(nominated, dict) else None


def packet_payload(packet: RtpPacket) -> bytes:
    """The depayloaded media of a received packet (aiortc's receiver stores it in a private field)."""
    data: bytes = packet._data  # type: ignore[attr-defined]
    return data


class DecoderQueue:
    """Stands in for a receiver's decoder queue: Opus is decoded where it is put; anything else (another
    codec, or the ``None`` that stops the receiver) goes on to the original queue, which the idle
    decoder thread still reads through :meth:`get`: that is how the track ends on ``stop()``."""

    def __init__(self, thread_queue: queue.Queue[DecodeTask], decoder: FrameDecoder) -> None:
        self._thread_queue = thread_queue
        self.decoder = decoder

    def get(self) -> DecodeTask:
        """The decoder thread's side (aiortc starts it with this object once media is set up)."""
        return self._thread_queue.get()

    def put(self, task: DecodeTask) -> None:
        if task is None or task[0].name != "opus":
            self._thread_queue.put(task)
            return
        encoded_frame = task[1]
        self.decoder.decode(encoded_frame.data, encoded_frame.timestamp)


@dataclass
class HooksReport:
    """What :func:`tune_audio_receivers` did: receivers tuned, and why aiortc's defaults stayed, if they did."""

    tuned: int = 0
    fallback: str | None = None

    @property
    def status(self) -> str:
        return ACTIVE if self.fallback is None else f"fallback: {self.fallback}"


def replace_receiver_parts(
    pc: RTCPeerConnection,
    new_buffer: Callable[[], JitterBuffer],
    new_decoder: Callable[[FrameSink], FrameDecoder],
    on_frame: FrameSink | None = None,
    version: str | None = None,
) -> HooksReport:
    """Give every receiving audio receiver of ``pc`` a ``new_buffer()`` and a ``new_decoder(sink)`` fed
    on the loop, whose frames go to ``on_frame`` if given, else to the receiving track.
    ``version``: aiortc's (the installed one)."""
    report = HooksReport()
    receivers: list[Any] = [
        t.receiver
        for t in pc.getTransceivers()
        # Not audio, or not receiving (a send-only transceiver has no receiving track): nothing to tune.
        if t.kind == "audio" and t.receiver is not None and t.receiver.track is not None
    ]
    if not receivers:
        return report
    problem = version_problem(installed_aiortc() if version is None else version)
    if problem is not None:
        log.warning("%s: keeping its default jitter buffer and decoder thread", problem)
        report.fallback = problem
        return report
    for receiver in receivers:
        problem = _replace(receiver, new_buffer, new_decoder, on_frame)
        if problem is None:
            report.tuned += 1
        else:
            log.warning("aiortc's receiver %s: keeping its default jitter buffer and decoder thread", problem)
            report.fallback = f"the receiver {problem}"
    return report


def _replace(
    receiver: Any,
    new_buffer: Callable[[], JitterBuffer],
    new_decoder: Callable[[FrameSink], FrameDecoder],
    on_frame: FrameSink | None,
) -> str | None:
    buffer = getattr(receiver, _JITTER_BUFFER, None)
    current = getattr(receiver, _DECODER_QUEUE, None)
    if isinstance(current, DecoderQueue):
        return None  # done already
    output = getattr(getattr(receiver, "_track", None), "_queue", None)
    if not isinstance(buffer, JitterBuffer):
        return f"has no {_JITTER_BUFFER}"
    if not isinstance(current, queue.Queue) or not isinstance(output, asyncio.Queue):
        return "has no decoder queue or track queue"
    setattr(receiver, _JITTER_BUFFER, new_buffer())
    setattr(receiver, _DECODER_QUEUE, DecoderQueue(current, new_decoder(on_frame or output.put_nowait)))
    return None
