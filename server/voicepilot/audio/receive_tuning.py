"""aiortc's audio receivers, tuned for speech: a low-latency receive buffer and decoding on the loop.

aiortc lets no one choose either, so both replace a private attribute of each audio receiver
(:mod:`voicepilot.audio.jitter`, :mod:`voicepilot.audio.inline_decode`; each checks the attribute
and keeps aiortc's default, with a warning, if a future version changes it).

When: :func:`tune_audio_receivers` needs the receiving track, which aiortc creates in
``setRemoteDescription``, and must come before any media flows. aiortc connects in a task it
starts there, so calling it right after ``setRemoteDescription`` returns (with no ``await`` in
between) is in time, on the offering and on the answering side.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection

from voicepilot.audio.inline_decode import FrameSink, decode_on_the_loop
from voicepilot.audio.jitter import use_low_latency_buffer


def tune_audio_receivers(pc: RTCPeerConnection, on_frame: FrameSink | None = None) -> int:
    """Tune every receiving audio receiver of ``pc``; returns how many have both the buffer and the decoder.

    With ``on_frame``, decoded frames go to it rather than to the receiving track: keep draining the
    track all the same (:func:`voicepilot.audio.tracks.drain_track` with the same callback), for its
    end, and for the frames of a receiver that kept aiortc's decoder.
    """
    tuned = 0
    for transceiver in pc.getTransceivers():
        receiver: Any = transceiver.receiver
        if transceiver.kind != "audio" or receiver is None or receiver.track is None:
            continue  # not audio, or not receiving (a send-only transceiver has no receiving track)
        buffered = use_low_latency_buffer(receiver)
        decoded = decode_on_the_loop(receiver, on_frame)
        tuned += buffered and decoded
    return tuned
