"""Server-side voice activity detection with the service's ``server_vad`` parameters.

A 10 ms frame's speech probability is a logistic of its RMS level, centred on -45 dBFS with a
4 dB slope, so ``threshold`` 0.5 means louder than -45 dBFS and a higher one is less sensitive.
An utterance starts after 100 ms of speech (gaps of 50 ms or less bridged) and ends after
``silence_duration_ms`` without it; its audio runs from ``prefix_padding_ms`` before the first
speech frame to 200 ms after the last. Positions count from the VAD's creation, as the service
reports ``audio_start_ms`` and ``audio_end_ms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FRAME_MS = 10
SPEECH_MIDPOINT_DBFS = -45.0
SPEECH_SLOPE_DB = 4.0
MIN_SPEECH_MS = 100
MAX_ONSET_GAP_MS = 50
TRAILING_PAD_MS = 200
# An utterance longer than this is ended anyway, which bounds memory and transcription time
# when the input never falls silent (a noisy room, a threshold set too low).
MAX_UTTERANCE_MS = 30_000
_FULL_SCALE = 32768.0


@dataclass(frozen=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    audio_end_ms: int
    audio: bytes  # PCM16 mono at the VAD's sample rate


VadEvent = SpeechStarted | SpeechStopped


def frame_powers(samples: npt.NDArray[np.int16], frame: int) -> npt.NDArray[np.float32]:
    """Mean square of each whole ``frame``-sample frame (a trailing partial frame is ignored)."""
    usable = samples.size // frame * frame
    frames = samples[:usable].astype(np.float32).reshape(-1, frame)
    powers: npt.NDArray[np.float32] = np.einsum("ij,ij->i", frames, frames) / np.float32(frame)
    return powers


def dbfs_to_power(level_dbfs: float) -> float:
    """The mean square of a full-scale-relative RMS level, to compare with :func:`frame_powers`."""
    rms = 10 ** (level_dbfs / 20) * _FULL_SCALE
    return rms * rms


def speech_level_dbfs(threshold: float) -> float:
    """The frame level (dBFS) at which the speech probability equals ``threshold``."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
    clamped = min(max(threshold, 1e-6), 1 - 1e-6)  # 0 and 1 would be -inf / +inf dB
    return SPEECH_MIDPOINT_DBFS + SPEECH_SLOPE_DB * math.log(clamped / (1 - clamped))


class ServerVad:
    """Turns a stream of 16-bit mono samples into speech started / stopped events.

    ``feed`` takes chunks of any length and costs 10-20 microseconds per 20 ms chunk (one
    vectorised energy computation, then a step per 10 ms frame), so it runs on the event loop.
    Not thread-safe: feed it from one task.
    """

    def __init__(
        self,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        sample_rate: int = 16000,
    ) -> None:
        self._rate = sample_rate
        self._frame = sample_rate * FRAME_MS // 1000
        # Compare mean squares, not decibels: the same test without a log per frame.
        self._min_power = dbfs_to_power(speech_level_dbfs(threshold))
        self._prefix = self._samples(prefix_padding_ms)
        self._silence_frames = max(1, silence_duration_ms // FRAME_MS)
        self._min_speech_frames = MIN_SPEECH_MS // FRAME_MS
        self._max_gap_frames = MAX_ONSET_GAP_MS // FRAME_MS
        self._max_utterance = self._samples(MAX_UTTERANCE_MS)
        self._trailing_pad = self._samples(TRAILING_PAD_MS)
        self._audio = bytearray()  # retained input, starting at stream sample _audio_start
        self._audio_start = 0
        self._received = 0  # samples fed since creation
        self._frames_done = 0
        self._clear_utterance()

    def feed(self, samples: npt.NDArray[np.int16]) -> list[VadEvent]:
        self._audio += samples.astype(np.int16, copy=False).tobytes()
        self._received += samples.size
        first, last = self._frames_done, self._received // self._frame
        if last == first:
            return []
        loud = frame_powers(self._slice(first * self._frame, last * self._frame), self._frame) >= self._min_power
        events: list[VadEvent] = []
        for offset, is_speech in enumerate(loud.tolist()):
            event = self._step(first + offset, is_speech)
            if event is not None:
                events.append(event)
        self._frames_done = last
        self._forget_unneeded_audio()
        return events

    def flush(self) -> list[VadEvent]:
        """End the utterance in progress, if any (input ended or the buffer was committed)."""
        event = self._stop(self._received) if self._start is not None else None
        self._clear_utterance()
        self._forget_unneeded_audio()
        return [event] if event is not None else []

    def reset(self) -> None:
        """Drop any utterance in progress and the audio kept for it; stream positions keep counting."""
        self._clear_utterance()
        self._forget_unneeded_audio()

    # ------------------------------------------------------------------ frame state machine

    def _clear_utterance(self) -> None:
        self._onset: int | None = None  # first speech frame of a candidate utterance
        self._onset_speech = 0  # speech frames heard since the onset
        self._quiet = 0  # frames since the last speech frame
        self._start: int | None = None  # stream sample where a confirmed utterance's audio starts
        self._speech_end = 0  # stream sample after the last speech frame

    def _step(self, frame: int, is_speech: bool) -> VadEvent | None:
        if is_speech:
            self._quiet = 0
            self._speech_end = (frame + 1) * self._frame
        else:
            self._quiet += 1
        if self._start is not None:
            frame_end = (frame + 1) * self._frame
            if self._quiet >= self._silence_frames or frame_end - self._start >= self._max_utterance:
                event = self._stop(frame_end)
                self._clear_utterance()
                return event
            return None
        return self._step_onset(frame, is_speech)

    def _step_onset(self, frame: int, is_speech: bool) -> VadEvent | None:
        if not is_speech:
            if self._onset is not None and self._quiet > self._max_gap_frames:
                self._onset, self._onset_speech = None, 0
            return None
        if self._onset is None:
            self._onset = frame
        self._onset_speech += 1
        if self._onset_speech < self._min_speech_frames:
            return None
        self._start = max(0, self._onset * self._frame - self._prefix)
        return SpeechStarted(audio_start_ms=self._ms(self._start))

    def _stop(self, end: int) -> SpeechStopped:
        assert self._start is not None
        audio_end = min(end, self._speech_end + self._trailing_pad)
        audio = self._slice(self._start, audio_end).tobytes()
        return SpeechStopped(audio_end_ms=self._ms(end), audio=audio)

    # ------------------------------------------------------------------ audio retention

    def _forget_unneeded_audio(self) -> None:
        """Keep only what a future utterance can still use: its onset minus the prefix padding."""
        if self._start is not None:
            keep_from = self._start
        else:
            onset = self._onset if self._onset is not None else self._frames_done
            keep_from = max(0, onset * self._frame - self._prefix)
        if keep_from > self._audio_start:
            del self._audio[: (keep_from - self._audio_start) * 2]
            self._audio_start = keep_from

    def _slice(self, start: int, end: int) -> npt.NDArray[np.int16]:
        """Stream samples [start, end), copied out so the buffer stays resizable."""
        begin = (start - self._audio_start) * 2
        return np.frombuffer(self._audio[begin : begin + (end - start) * 2], dtype=np.int16)

    def _samples(self, ms: int) -> int:
        return ms * self._rate // 1000

    def _ms(self, sample: int) -> int:
        return sample * 1000 // self._rate
