"""A stand-in for the ``sounddevice`` module: streams whose callbacks the test drives.

Unit tests never import the real module (it loads PortAudio, and PortAudio enumerates devices
once per process: the integration tests' PulseAudio must be running before that happens).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Pcm


class PortAudioError(Exception):
    pass


@dataclass
class FakeStream:
    kind: str
    device: int
    samplerate: int
    channels: int
    dtype: str
    blocksize: int
    latency_request: Any
    callback: Any
    finished_callback: Any
    started: bool = False
    closed: bool = False
    latency: float = 0.01  # what PortAudio reports once the stream is open

    def start(self) -> None:
        self.started = True

    def close(self, ignore_errors: bool = False) -> None:
        self.closed = True
        self.finished_callback()

    # ------------------------------------------------------------------ driving it

    def capture(self, samples: np.ndarray[Any, Any], from_thread: bool = True) -> None:
        """Deliver one input block, from another thread as PortAudio does."""
        block = samples.astype(np.int16).reshape(-1, 1)

        def call() -> None:
            self.callback(block, block.shape[0], None, 0)

        if from_thread:
            thread = threading.Thread(target=call)
            thread.start()
            thread.join()
        else:
            call()

    def render(self, frames: int) -> np.ndarray[Any, Any]:
        """Ask an output stream for one block; returns what it wrote."""
        out = np.full((frames, 1), 12345, dtype=np.int16)
        self.callback(out, frames, None, 0)
        return out[:, 0].copy()

    def die(self) -> None:
        """The device ends the stream (as an unplugged ALSA device does)."""
        self.finished_callback()


@dataclass
class FakeSounddevice:
    devices: list[dict[str, Any]] = field(default_factory=list)
    default_device: list[int] = field(default_factory=lambda: [0, 1])
    streams: list[FakeStream] = field(default_factory=list)
    refuse: dict[str, Exception] = field(default_factory=dict)  # device name -> error on open
    PortAudioError: type[Exception] = PortAudioError

    @property
    def default(self) -> Any:
        return SimpleNamespace(device=self.default_device)

    def query_devices(self) -> list[dict[str, Any]]:
        return [dict(d, index=i) for i, d in enumerate(self.devices)]

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "ALSA"}]

    def _open(self, kind: str, **kwargs: Any) -> FakeStream:
        name = self.devices[kwargs["device"]]["name"]
        if name in self.refuse:
            raise self.refuse[name]
        kwargs["latency_request"] = kwargs.pop("latency")
        stream = FakeStream(kind, **kwargs)
        self.streams.append(stream)
        return stream

    def InputStream(self, **kwargs: Any) -> FakeStream:
        return self._open("input", **kwargs)

    def OutputStream(self, **kwargs: Any) -> FakeStream:
        return self._open("output", **kwargs)

    def last(self, kind: str) -> FakeStream:
        return [s for s in self.streams if s.kind == kind][-1]


def device(name: str, inputs: int = 1, outputs: int = 2, rate: float = 48_000.0) -> dict[str, Any]:
    return {
        "name": name,
        "hostapi": 0,
        "max_input_channels": inputs,
        "max_output_channels": outputs,
        "default_samplerate": rate,
    }


def tone(freq: float, samples: int, rate: int, amplitude: float = 0.3, start: int = 0) -> np.ndarray[Any, Any]:
    t = (np.arange(samples) + start) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


def dominant_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


class ToneSource:
    """A 440 Hz tone, one 20 ms frame per call."""

    def __init__(self) -> None:
        self.frames = 0

    def next_frame(self) -> Pcm:
        t = np.arange(self.frames * FRAME_SAMPLES, (self.frames + 1) * FRAME_SAMPLES) / SAMPLE_RATE
        self.frames += 1
        return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
