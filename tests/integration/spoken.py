"""Long spoken inputs for connection tests, built from the bundled samples.

A quiet tone floor (-60 dBFS: far below speech, far above Opus-coded digital silence) runs under
the whole recording, so the engine can tell routed microphone audio from a standby connection's
silence, and measure any gap at a key renewal or a handover.
"""

from __future__ import annotations

import itertools
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from voicepilot.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voicepilot.engine.speech import tts

RATE = 16_000
SAMPLES = Path(__file__).resolve().parents[2] / "server" / "voicepilot" / "samples"
UTTERANCES = {"go_to_line_42.wav": "go to line forty two", "go_to_line_12.wav": "go to line twelve"}


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == RATE
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)


def spoken_session(path: Path, seconds: float, gap_s: float = 1.0, floor_dbfs: float = -60.0) -> list[str]:
    """Write a recording of alternating commands lasting ``seconds``; return the expected transcripts."""
    names = list(UTTERANCES)
    pieces: list[np.ndarray] = []
    expected: list[str] = []
    total = 0
    while total < seconds * RATE:
        name = names[len(expected) % len(names)]
        clip = np.concatenate([_read(SAMPLES / name), np.zeros(int(gap_s * RATE))])
        pieces.append(clip)
        expected.append(UTTERANCES[name])
        total += clip.size
    audio = np.concatenate(pieces)
    t = np.arange(audio.size) / RATE
    audio += 32768 * 10 ** (floor_dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())
    return expected


def gaps_at_switches(calls: list[dict[str, object]]) -> list[float]:
    """For each handover, the silence the engine heard between the old call's last sound and the
    new call's first, beyond the nominal 20 ms frame spacing (negative: they overlapped)."""
    ordered = sorted((c for c in calls if c["soundArrivals"]), key=lambda c: c["soundArrivals"][0])  # type: ignore[index]
    gaps = []
    for old, new in itertools.pairwise(ordered):
        first_new = new["soundArrivals"][0]  # type: ignore[index]
        before = [t for t in old["soundArrivals"] if t <= first_new]  # type: ignore[attr-defined]
        if before:
            gaps.append(first_new - before[-1] - 0.020)
    return gaps


LOUD = 1000  # a 20 ms frame with a sample above this is heard


def loud_ms(frames: list[Pcm] | np.ndarray) -> int:
    """How much of ``frames`` (20 ms each) is heard."""
    return sum(FRAME_MS for frame in frames if int(np.abs(frame).max()) > LOUD)


async def spoken_ms(text: str) -> int:
    """How long the engine's voice takes to say ``text`` (the same synthesis the engine runs)."""
    audio = await tts.synthesize(text, SAMPLE_RATE, "marin")
    return loud_ms(audio[: audio.size // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES))


LONG_ERROR = (
    "the editor could not find that line because the file is shorter than that, "
    "so nothing was moved and the cursor stays where it was"
)


async def failing_then_ok_tool(params: dict[str, Any]) -> dict[str, Any]:
    """The first call ("line 42") fails with a long message: the engine reads it out (about 7 s to
    talk over)."""
    if params["arguments"] == {"line": 42}:
        return {"output": json.dumps({"ok": False, "error": LONG_ERROR})}
    return {"output": json.dumps({"ok": True})}
