"""The engine's voice: a frame source that plays synthesized speech, then silence."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, Pcm


class SpeechSource:
    """Queues PCM for the outgoing track and reports when playback drains.

    ``next_frame`` runs on the event loop (from the paced track's ``recv``), so the
    ``on_drained`` callback does too.
    """

    def __init__(self, on_drained: Callable[[], None]) -> None:
        self._frames: deque[Pcm] = deque()
        self._on_drained = on_drained
        self.playing = False
        self.frames_played = 0

    def play(self, samples: Pcm) -> None:
        pad = (-samples.size) % FRAME_SAMPLES
        padded = np.concatenate([samples, np.zeros(pad, dtype=np.int16)]) if pad else samples
        self._frames.extend(padded.reshape(-1, FRAME_SAMPLES))
        self.playing = True

    def clear(self) -> None:
        self._frames.clear()
        self.playing = False

    def next_frame(self) -> Pcm | None:
        if self._frames:
            self.frames_played += 1
            return self._frames.popleft()
        if self.playing:
            self.playing = False
            self._on_drained()
        return None
