"""The speaker: the remote track's audio through a PortAudio output stream and a small ring buffer.

Frames arrive on the loop (``write``/``write_frame``), are resampled to the device's rate and put in a
ring that PortAudio's thread reads in its callback. The ring is the playout buffer: it starts once
``prefill_ms`` are buffered (and again after an underrun, counted), skips incoming silent frames while
above ``prefill_ms + trim_margin_ms`` so latency cannot creep up, never holds more than ``max_ms``, and
:meth:`flush` empties it at once for barge-in, then holds back what is still on its way until the
remote track is quiet (``QUIET_FRAMES``), a reply starts (:meth:`resume`) or ``SUPPRESS_MAX_S``.
Blocks are 10 ms (PortAudio's ALSA backend keeps two queued: the device adds 20 ms).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np

from voicepilot.audio.devices import Device
from voicepilot.audio.frames import SAMPLE_RATE, Pcm, Resampler, frame_to_mono
from voicepilot.audio.levels import LevelMeter
from voicepilot.audio.stream import DeviceStream

PREFILL_MS = 30
TRIM_MARGIN_MS = 20
MAX_MS = 1000
AUDIBLE_DBFS = -50.0  # a frame louder than this counts as the assistant speaking
QUIET_FRAMES = 3
SUPPRESS_MAX_S = 2.0
BLOCK_MS = 10


class Ring:
    """A bounded int16 FIFO shared by the loop (writer) and PortAudio's thread (reader)."""

    def __init__(self, capacity: int) -> None:
        self._data = np.zeros(capacity, dtype=np.int16)
        self._start = 0
        self.size = 0
        self.lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return int(self._data.size)

    def write(self, samples: Pcm) -> int:
        """Append (caller holds the lock); returns how many old samples were dropped to make room."""
        n = min(samples.size, self.capacity)
        too_big = samples.size - n
        samples = samples[too_big:]
        dropped = max(0, self.size + n - self.capacity)
        if dropped:
            self.skip(dropped)
        end = (self._start + self.size) % self.capacity
        first = min(n, self.capacity - end)
        self._data[end : end + first] = samples[:first]
        self._data[: n - first] = samples[first:]
        self.size += n
        return dropped + too_big

    def read(self, out: Any, n: int) -> int:
        """Copy up to ``n`` samples into ``out`` (caller holds the lock); returns the count."""
        n = min(n, self.size)
        first = min(n, self.capacity - self._start)
        out[:first] = self._data[self._start : self._start + first]
        out[first:n] = self._data[: n - first]
        self.skip(n)
        return n

    def skip(self, n: int) -> None:
        n = min(n, self.size)
        self._start = (self._start + n) % self.capacity
        self.size -= n

    def clear(self) -> None:
        self._start = 0
        self.size = 0


class Speaker(DeviceStream):
    block_ms = BLOCK_MS

    def __init__(
        self,
        device: Device,
        prefill_ms: int = PREFILL_MS,
        trim_margin_ms: int = TRIM_MARGIN_MS,
        max_ms: int = MAX_MS,
    ) -> None:
        super().__init__(device)
        self.level = LevelMeter()
        self.prefill_ms = prefill_ms
        self.trim_margin_ms = trim_margin_ms
        self.max_ms = max_ms
        self.underruns = 0
        self.samples_dropped = 0
        self.samples_trimmed = 0
        self.flushes = 0
        self.frames_written = 0
        # Monotonic time until which written audio is audible (end of the last loud frame's playout).
        self.audible_until = 0.0
        self.last_flush_at: float | None = None
        self._ring = Ring(1)
        self._playing = False
        self._suppress_until: float | None = None
        self._quiet_frames = 0
        self.frames_suppressed = 0
        self._resampler: Resampler | None = None
        # Called from PortAudio's thread with each block played (device rate), its rate and when it
        # reaches the DAC (echo cancellation's reference).
        self.on_played: Callable[[Pcm, int, float], None] | None = None
        self._resize()

    def _resize(self) -> None:
        self._ring = Ring(self.rate * self.max_ms // 1000)
        self._prefill = self.rate * self.prefill_ms // 1000
        self._high_water = self.rate * (self.prefill_ms + self.trim_margin_ms) // 1000
        self._resampler = Resampler(SAMPLE_RATE, self.rate) if self.rate != SAMPLE_RATE else None

    async def open(self) -> None:
        await super().open()
        with self._ring.lock:
            self._resize()

    def _stream_class(self, sd: Any) -> Any:
        return sd.OutputStream

    # ------------------------------------------------------------------ the loop

    def write_frame(self, frame: av.AudioFrame) -> None:
        self.write(frame_to_mono(frame))

    def write(self, samples: Pcm) -> None:
        """Queue 48 kHz mono samples for playout."""
        level = self.level.update(samples)
        self.frames_written += 1
        if self._resampler is not None:
            samples = self._resampler.resample(samples)
        now = time.monotonic()
        ring = self._ring
        audible = level > AUDIBLE_DBFS
        if self._suppress_until is not None:
            self._quiet_frames = 0 if audible else self._quiet_frames + 1
            if self._quiet_frames < QUIET_FRAMES and now < self._suppress_until:
                self.frames_suppressed += 1
                return
            self._suppress_until = None
        with ring.lock:
            if not audible and ring.size > self._high_water:
                self.samples_trimmed += samples.size
            else:
                self.samples_dropped += ring.write(samples)
            buffered = ring.size
        if audible:
            self.audible_until = now + buffered / self.rate + self.latency_s

    def flush(self) -> None:
        """Stop playing at once: what is buffered is dropped, and what is still on its way too."""
        with self._ring.lock:
            self._ring.clear()
            self._playing = False
        self.flushes += 1
        self.audible_until = 0.0
        self.last_flush_at = time.monotonic()
        self._suppress_until = self.last_flush_at + SUPPRESS_MAX_S
        self._quiet_frames = 0

    def resume(self) -> None:
        """A new reply is starting: play what arrives from now on."""
        self._suppress_until = None

    def audible(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) < self.audible_until

    @property
    def buffered_ms(self) -> float:
        return self._ring.size * 1000 / self.rate

    # ------------------------------------------------------------------ PortAudio's thread

    def _callback(self, data: Any, frames: int, time_info: Any, status: Any) -> None:
        out = data[:, 0]
        ring = self._ring
        with ring.lock:
            if not self._playing and ring.size >= min(self._prefill, ring.capacity):
                self._playing = True
            got = ring.read(out, frames) if self._playing else 0
            if self._playing and got < frames:
                self.underruns += 1
                self._playing = False
        if got < frames:
            out[got:] = 0
        if self.on_played is not None:  # every block, silence too: the reference must not skip time
            played_at = self.device_time(time_info, "outputBufferDacTime", self.latency_s)
            self.on_played(out.copy(), self.rate, played_at)

    def stats(self) -> dict[str, float]:
        return {
            "speakerCallbacks": float(self.callbacks),
            "speakerUnderruns": float(self.underruns),
            "speakerSamplesDropped": float(self.samples_dropped),
            "speakerSamplesTrimmed": float(self.samples_trimmed),
            "speakerBufferedMs": round(self.buffered_ms, 1),
            "speakerFramesSuppressed": float(self.frames_suppressed),
            "speakerStatusFlags": float(self.status_flags),
        }
