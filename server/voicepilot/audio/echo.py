"""Acoustic echo cancellation: the assistant's voice taken back out of the microphone's signal.

Without a headset the speaker's sound reaches the microphone, and with barge-in on the service's VAD
would hear the assistant and interrupt it. :class:`EchoCanceller` removes what the speaker played from
each captured 20 ms, 48 kHz frame with pyaec (speex's adaptive filter), run at 16 kHz, followed by a
residual echo suppressor (:mod:`voicepilot.audio.echo_suppressor`). Both sides are put on one timeline
(``time.monotonic()``): the speaker reports each block with its DAC time (:meth:`EchoCanceller.played`,
PortAudio's thread), the microphone each frame with its ADC time (:meth:`EchoCanceller.process`, the
loop); a frame captured at ``t`` is cancelled against what played from ``t + AHEAD_MS`` on. While the
speaker plays nothing audible, frames pass untouched. Measurements and rejected settings: docs/performance.md.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from typing import Any, Protocol

import numpy as np

from voicepilot.audio.echo_suppressor import ResidualEchoSuppressor
from voicepilot.audio.frames import FRAME_MS, SAMPLE_RATE, Pcm, Resampler
from voicepilot.audio.pyaec_hooks import direct_canceller

FILTER_MS = 200
AEC_RATE = 16_000  # pyaec leaves speex at 8 kHz, which high-passes 48 kHz at 760 Hz (docs/performance.md)
PREPROCESS = False  # speex's residual-echo suppressor: costs the user 5 dB and 20 ms (docs/performance.md)
OUT_PRIME_MS = 2
AHEAD_MS = 20
RESYNC_MS = 30  # the microphone's stamps jitter by a few ms and wander by ~10 ms
FAR_RESYNC_MS = 5  # an output underrun shifts what plays by one block or more: follow it
HISTORY_MS = 1000  # how much played audio is kept on the timeline
PLAYED_QUEUE = 200  # blocks between PortAudio's thread and the loop (2 s of 10 ms blocks)
AUDIBLE_PEAK = 32  # a played block with a sample beyond this (about -60 dBFS) can be heard


def _audible(samples: Pcm) -> bool:
    return bool(samples.size) and (int(samples.max()) > AUDIBLE_PEAK or int(samples.min()) < -AUDIBLE_PEAK)


class EchoUnavailable(RuntimeError):
    """pyaec is not installed, or its compiled library does not load on this platform."""


class AecEngine(Protocol):
    def cancel(self, near: Pcm, far: Pcm) -> Pcm: ...


class PyAecEngine:
    """pyaec's canceller, fed 48 kHz frames and run at ``rate`` (docs/performance.md says why 16 kHz)."""

    def __init__(self, filter_ms: int = FILTER_MS, rate: int = AEC_RATE, preprocess: bool = PREPROCESS) -> None:
        try:
            # pyaec prints a failure to load its library to stdout, which is the editor's channel
            # in the sidecar: send that to stderr.
            with contextlib.redirect_stdout(sys.stderr):
                import pyaec
        except Exception as exc:  # ImportError, or AttributeError/OSError from a library that does not load
            raise EchoUnavailable(f"pyaec cannot be loaded: {exc}") from exc
        self.rate = rate
        self._size = rate * FRAME_MS // 1000
        try:
            self._aec: Any = pyaec.Aec(self._size, rate * filter_ms // 1000, rate, preprocess)
        except Exception as exc:
            raise EchoUnavailable(f"pyaec cannot create a canceller: {exc}") from exc
        # pyaec's own cancel_echo() converts to and from lists: called directly where the fence allows.
        self._direct, self.hooks = direct_canceller(pyaec, self._aec)
        resampled = rate != SAMPLE_RATE
        self._down = (Resampler(SAMPLE_RATE, rate), Resampler(SAMPLE_RATE, rate)) if resampled else None
        self._up = Resampler(rate, SAMPLE_RATE) if resampled else None
        self._near = self._far = np.zeros(0, dtype=np.int16)
        # What comes back up starts with a little silence, so a resampler that holds a few samples
        # back never leaves a frame short (it delays the processed signal by 2 ms).
        self._out = np.zeros(SAMPLE_RATE * OUT_PRIME_MS // 1000 if resampled else 0, dtype=np.int16)

    @property
    def direct(self) -> bool:
        return self._direct is not None

    def cancel(self, near: Pcm, far: Pcm) -> Pcm:
        if self._down is None or self._up is None:
            return self._cancel(near, far)
        self._near = np.concatenate([self._near, self._down[0].resample(near)])
        self._far = np.concatenate([self._far, self._down[1].resample(far)])
        size, parts = self._size, [self._out]
        while self._near.size >= size and self._far.size >= size:
            parts.append(self._up.resample(self._cancel(self._near[:size], self._far[:size])))
            self._near, self._far = self._near[size:], self._far[size:]
        out = np.concatenate(parts)
        if out.size < near.size:
            out = np.concatenate([out, np.zeros(near.size - out.size, dtype=np.int16)])
        self._out = out[near.size :]
        return out[: near.size]

    def _cancel(self, near: Pcm, far: Pcm) -> Pcm:
        if self._direct is None:
            return np.asarray(self._aec.cancel_echo(near.tolist(), far.tolist()), dtype=np.int16)
        return self._direct(near, far)


class EchoCanceller:
    """Cleans captured 48 kHz mono 20 ms frames of what the speaker played (module docstring)."""

    def __init__(
        self,
        filter_ms: int = FILTER_MS,
        ahead_ms: int = AHEAD_MS,
        engine: AecEngine | None = None,
        suppress: bool = True,
    ) -> None:
        self.filter_ms = filter_ms
        self.suppressor = ResidualEchoSuppressor() if suppress else None
        self._engine = engine if engine is not None else PyAecEngine(filter_ms)
        self._new_engine = engine is None
        self._filter = SAMPLE_RATE * filter_ms // 1000
        self._ahead = SAMPLE_RATE * ahead_ms // 1000
        self._resync = SAMPLE_RATE * RESYNC_MS // 1000
        self._far_resync = SAMPLE_RATE * FAR_RESYNC_MS // 1000
        self.frames_processed = 0
        self.frames_skipped = 0
        self.realigned = 0  # the microphone's stamps jumped: its frames were placed anew
        self.cpu_s = 0.0
        # PortAudio's thread appends, the loop pops: a deque is safe for that without a lock.
        self._played: deque[tuple[Pcm, int, float]] = deque(maxlen=PLAYED_QUEUE)
        self._history = np.zeros(SAMPLE_RATE * HISTORY_MS // 1000, dtype=np.int16)
        self._resampler: Resampler | None = None
        self._resampler_rate = SAMPLE_RATE
        self._far_end: int | None = None  # timeline index one past the last played sample
        self._audible_end: int | None = None  # ... one past the last audible played block
        self._near_next: int | None = None  # where the next microphone frame goes

    # ------------------------------------------------------------------ PortAudio's thread

    def played(self, samples: Pcm, rate: int, dac_time: float) -> None:
        """The speaker played ``samples`` (its rate), the first reaching the DAC at ``dac_time``."""
        self._played.append((samples, rate, dac_time))

    # ------------------------------------------------------------------ the loop

    def process(self, frame: Pcm, adc_time: float) -> Pcm:
        """The frame without the speaker's echo; ``adc_time``: when its first sample was captured."""
        self._take_played()
        start = round(adc_time * SAMPLE_RATE)
        if self._near_next is not None and abs(start - self._near_next) <= self._resync:
            start = self._near_next
        elif self._near_next is not None:
            self.realigned += 1
        self._near_next = start + frame.size
        if self._audible_end is None or start - self._audible_end > self._filter:
            self.frames_skipped += 1
            if self.suppressor is not None:
                self.suppressor.rest()
            return frame
        reference = self._reference(start + self._ahead, frame.size)
        began = time.thread_time()
        out = self._engine.cancel(frame, reference)
        if self.suppressor is not None:
            out = self.suppressor.process(frame, out, reference)
        self.cpu_s += time.thread_time() - began
        self.frames_processed += 1
        return out

    def reset(self) -> None:
        """Another microphone or speaker: what was learned about the room no longer holds."""
        self._played.clear()
        self._far_end = self._audible_end = self._near_next = None
        self._resampler = None
        if self.suppressor is not None:
            self.suppressor.reset()
        if self._new_engine:
            self._engine = PyAecEngine(self.filter_ms)

    def _take_played(self) -> None:
        while self._played:
            samples, rate, at = self._played.popleft()
            audible = _audible(samples)
            if not audible:
                # Silence (most blocks: the speaker plays all the time) is not worth resampling.
                samples = np.zeros(samples.size * SAMPLE_RATE // rate, dtype=np.int16)
            elif rate != SAMPLE_RATE:
                if self._resampler is None or self._resampler_rate != rate:
                    self._resampler, self._resampler_rate = Resampler(rate, SAMPLE_RATE), rate
                samples = self._resampler.resample(samples)
            self._lay(samples, round(at * SAMPLE_RATE), audible)

    def _lay(self, samples: Pcm, start: int, audible: bool) -> None:
        """Put played samples on the timeline at ``start``, or right after the last ones when close."""
        end = self._far_end
        if end is not None and abs(start - end) <= self._far_resync:
            start = end
        elif end is not None and start > end:
            self._write(end, np.zeros(min(start - end, self._history.size), dtype=np.int16))
        self._write(start, samples)
        self._far_end = start + samples.size
        if audible:
            self._audible_end = self._far_end

    def _write(self, start: int, samples: Pcm) -> None:
        size = self._history.size
        if samples.size > size:
            start, samples = start + samples.size - size, samples[-size:]
        at = start % size
        first = min(samples.size, size - at)
        self._history[at : at + first] = samples[:first]
        self._history[: samples.size - first] = samples[first:]

    def _reference(self, start: int, n: int) -> Pcm:
        """What was played from timeline index ``start`` on (silence where nothing is known)."""
        out = np.zeros(n, dtype=np.int16)
        if self._far_end is None:
            return out
        size = self._history.size
        index, end = max(start, self._far_end - size), min(start + n, self._far_end)
        while index < end:  # at most two runs: the ring wraps once
            at = index % size
            count = min(end - index, size - at)
            out[index - start : index - start + count] = self._history[at : at + count]
            index += count
        return out

    # ------------------------------------------------------------------ stats

    @property
    def hooks(self) -> str | None:
        """pyaec's fence ("active", or "fallback: <reason>"); None for an engine given by the caller."""
        return self._engine.hooks if isinstance(self._engine, PyAecEngine) else None

    def stats(self) -> dict[str, float]:
        return {
            "echoFramesProcessed": float(self.frames_processed),
            "echoFramesSkipped": float(self.frames_skipped),
            "echoCpuMs": round(self.cpu_s * 1000, 1),
            "echoRealigned": float(self.realigned),
            **(self.suppressor.stats() if self.suppressor is not None else {}),
        }
