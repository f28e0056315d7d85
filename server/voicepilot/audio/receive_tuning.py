"""aiortc's audio receivers, tuned for speech: a low-latency receive buffer and decoding on the loop.

The choice of parts is made here; putting them in place is :mod:`voicepilot.audio.aiortc_hooks`'s,
which keeps aiortc's defaults (and says why) on a version it was not tested with. Call
:func:`tune_audio_receivers` right after ``setRemoteDescription`` (which creates the receiving
track) with no ``await`` in between: aiortc connects in a task started there, so that is before any
media flows, on the offering and on the answering side.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection

from voicepilot.audio.aiortc_hooks import FrameSink, HooksReport, replace_receiver_parts
from voicepilot.audio.inline_decode import InlineOpusDecoder
from voicepilot.audio.jitter import LowLatencyAudioBuffer


def tune_audio_receivers(
    pc: RTCPeerConnection, on_frame: FrameSink | None = None, version: str | None = None
) -> HooksReport:
    """Tune every receiving audio receiver of ``pc`` (``version``: aiortc's, the installed one by default).

    With ``on_frame``, decoded frames go to it rather than to the receiving track: keep draining the
    track all the same (:func:`voicepilot.audio.tracks.drain_track` with the same callback), for its
    end, and for the frames of a receiver that kept aiortc's decoder.
    """
    return replace_receiver_parts(pc, LowLatencyAudioBuffer, InlineOpusDecoder, on_frame, version)
