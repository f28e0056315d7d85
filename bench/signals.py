"""Recordings the benchmarks play: spoken commands with clicks between them, digital silence elsewhere.

Digital silence (not spoken.py's tone floor) lets each sound be told apart at both ends: a click
is one 20 ms burst of a 1 kHz tone at -20 dBFS, short enough for the engine's VAD to ignore
(it needs 100 ms of speech), so clicks measure latency without starting turns.
"""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import numpy as np

from tests.integration.spoken import RATE, SAMPLES, UTTERANCES, _read

CLICK_DBFS = -20.0


def click(ms: int = 20) -> np.ndarray:
    t = np.arange(RATE * ms // 1000) / RATE
    tone: np.ndarray = 32768 * 10 ** (CLICK_DBFS / 20) * np.sqrt(2) * np.sin(2 * np.pi * 1000 * t)
    return tone


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE))


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())


def probe_recording(path: Path, seconds: float, clicks: int = 2, gap_s: float = 1.0) -> list[str]:
    """Commands, each followed by a pause (the turn ends, the engine answers) with clicks in it.

    Returns the transcripts the engine should produce, in order."""
    pause = [silence(gap_s)]
    for _ in range(clicks):
        pause += [click(), silence(0.48)]
    pause.append(silence(0.3))
    pieces: list[np.ndarray] = []
    expected: list[str] = []
    for name, text in itertools.cycle(UTTERANCES.items()):
        if sum(piece.size for piece in pieces) >= seconds * RATE:
            break
        pieces += [_read(SAMPLES / name), *pause]
        expected.append(text)
    write_wav(path, np.concatenate(pieces))
    return expected


def spoken_recording(path: Path, seconds: float, gap_s: float = 3.0) -> list[str]:
    """Commands separated by ``gap_s`` of digital silence (for soaks: speech all along, light load)."""
    return probe_recording(path, seconds, clicks=0, gap_s=gap_s)
