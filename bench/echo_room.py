"""A synthetic room for the echo canceller: a speech sample played, its echo captured, the user on top.

The unit tests (tests/unit/test_audio_echo.py) and ``scripts/bench-audio`` share it. The room is a
30 ms path to the microphone, the direct sound 10 dB down, then a 120 ms reverberant tail (30 % of
the direct sound's energy) decaying with a 30 ms time constant.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from voicepilot.audio.echo import EchoCanceller
from voicepilot.audio.file_input import load_audio_file
from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Pcm

SAMPLES = Path(__file__).resolve().parents[1] / "server" / "voicepilot" / "samples"
START = 5000.0  # the monotonic time a simulation starts at
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
LEAD_FRAMES = 3  # the speaker's callback runs ahead of its DAC by its output latency (60 ms here)
USER_AT_S = 6  # where the user speaks over the assistant: well after convergence

Signal = np.ndarray[Any, np.dtype[np.float64]]


@cache
def speech(name: str) -> Pcm:
    frames = asyncio.run(load_audio_file(SAMPLES / name))
    return np.concatenate(frames)


def room(delay_ms: float = 30.0) -> Signal:
    rng = np.random.default_rng(7)
    tail = int(0.12 * SAMPLE_RATE)
    t = np.arange(tail) / SAMPLE_RATE
    response = rng.standard_normal(tail) * np.exp(-t / 0.03)
    response *= np.sqrt(0.3 / np.sum(response * response))
    response[0] = 1.0
    out: Signal = np.concatenate([np.zeros(int(delay_ms * SAMPLE_RATE / 1000)), response]) * 0.3
    return out


def convolve(signal: Pcm, response: Signal) -> Signal:
    size = 1 << int(np.ceil(np.log2(signal.size + response.size)))
    out: Signal = np.fft.irfft(np.fft.rfft(signal.astype(np.float64), size) * np.fft.rfft(response, size), size)
    return out[: signal.size]


def pcm(signal: Signal | Pcm) -> Pcm:
    out: Pcm = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    return out


def db(signal: Signal | Pcm) -> float:
    x = signal.astype(np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1e-9))


def voice_band_db(signal: Signal | Pcm) -> float:
    """The level between 300 Hz and 8 kHz: what carries speech (pyaec high-passes below, see echo.py)."""
    spectrum = np.fft.rfft(signal.astype(np.float64))
    hz = np.fft.rfftfreq(signal.size, 1 / SAMPLE_RATE)
    band = spectrum[(hz >= 300) & (hz <= 8000)]
    return float(10 * np.log10(np.sum(np.abs(band) ** 2) / signal.size**2 + 1e-9))


def loudest_dbfs(signal: Pcm, ms: int = 10) -> float:
    """The loudest ``ms`` of ``signal`` in dBFS: what a level-based VAD (10 ms frames) compares with -45."""
    size = SAMPLE_RATE * ms // 1000
    frames = signal[: signal.size // size * size].astype(np.float64).reshape(-1, size)
    return float(10 * np.log10(np.max(np.mean(frames * frames, axis=1)) / 32768**2 + 1e-12))


def far_and_echo() -> tuple[Pcm, Pcm]:
    far = speech("commands.wav")
    return far, pcm(convolve(far, room()))


def user_over(echo: Pcm, gain: float = 0.5) -> tuple[Signal, slice]:
    """The user saying "go to line 42" over the echo, and where."""
    near = speech("go_to_line_42.wav")
    at = USER_AT_S * SAMPLE_RATE
    user = np.zeros(echo.size)
    user[at : at + near.size] = near * gain
    return user, slice(at, at + near.size)


def erle(echo: Pcm, out: Pcm, from_s: float = 3.0) -> float:
    """Echo return loss enhancement after ``from_s`` (the filter has converged by then)."""
    start = int(from_s * SAMPLE_RATE)
    return db(echo[start : out.size]) - db(out[start:])


@dataclass
class Run:
    out: Pcm
    canceller: EchoCanceller


def simulate(
    far: Pcm,
    mic: Pcm,
    stamp_error_s: float = 0.0,
    jitter_s: float = 0.0,
    canceller: EchoCanceller | None = None,
    start_frame: int = 0,
) -> Run:
    """Play ``far`` and capture ``mic`` frame by frame, as the speaker's and microphone's callbacks would.

    The speaker's blocks are stamped ``stamp_error_s`` later than they really reach the DAC, plus
    random ``jitter_s``; the microphone's stamps are right.
    """
    canceller = canceller or EchoCanceller()
    rng = np.random.default_rng(3)
    frames = min(far.size, mic.size) // FRAME_SAMPLES
    out: list[Pcm] = []
    for index in range(-LEAD_FRAMES, frames):
        ahead = index + LEAD_FRAMES
        if ahead < frames:
            block = far[ahead * FRAME_SAMPLES : (ahead + 1) * FRAME_SAMPLES].copy()
            jitter = rng.uniform(-jitter_s, jitter_s) if jitter_s else 0.0
            at = START + (start_frame + ahead) * FRAME_S
            canceller.played(block, SAMPLE_RATE, at + stamp_error_s + jitter)
        if index >= 0:
            frame = mic[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES].copy()
            out.append(canceller.process(frame, START + (start_frame + index) * FRAME_S))
    return Run(np.concatenate(out), canceller)
