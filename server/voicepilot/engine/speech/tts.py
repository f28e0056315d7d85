"""Speech synthesis with Debian's flite, run as a subprocess so the event loop never waits on it.

flite writes a 16 kHz (8 kHz for ``kal``) mono WAV to its stdout; PyAV decodes and resamples it
to the rate the caller needs, in a worker thread. A short sentence takes 40-90 ms in all.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from voicepilot.errors import media_error

FLITE = "flite"
DEFAULT_VOICE = "slt"
# The realtime voices, by the closest flite voice in pitch and accent (Debian's flite ships slt,
# a US female voice, and rms, kal16 and awb, US and Scottish male voices).
REALTIME_VOICES = {
    "alloy": "slt",
    "coral": "slt",
    "marin": "slt",
    "sage": "slt",
    "shimmer": "slt",
    "ash": "rms",
    "verse": "rms",
    "echo": "kal16",
    "ballad": "awb",
    "cedar": "awb",
}
FLITE_VOICES = frozenset({"slt", "rms", "kal", "kal16", "awb"})
FLITE_MISSING = "flite_missing"


def flite_install_step(platform: str | None = None) -> str:
    """How to install flite on ``platform`` (``sys.platform`` by default)."""
    platform = platform or sys.platform
    if platform == "darwin":
        how = "Install it with Homebrew: `brew install flite`"
    elif platform == "win32":
        how = "flite has no Windows installer: build it from its source and put `flite.exe` on PATH"
    else:
        how = "Install it (Debian/Ubuntu: `sudo apt-get install flite`; Fedora: `sudo dnf install flite`)"
    return f"{how}, then start the conversation again. Until then the local engine answers in text."


def flite_voice(voice: str | None) -> str:
    """The flite voice for a realtime voice name (or a flite voice name); ``slt`` otherwise."""
    if voice in FLITE_VOICES:
        return voice
    return REALTIME_VOICES.get(voice or "", DEFAULT_VOICE)


async def synthesize(text: str, sample_rate: int = 48000, voice: str | None = None) -> npt.NDArray[np.int16]:
    """Mono int16 samples of ``text`` spoken at ``sample_rate``; empty for blank text.

    Raises a media ``VoicePilotError`` when flite fails, with the code ``FLITE_MISSING`` when it is
    not installed.
    """
    if not text.strip():
        return np.zeros(0, dtype=np.int16)
    executable = shutil.which(FLITE)
    if executable is None:
        raise media_error(
            "The local engine's voice needs flite, which is not installed.",
            flite_install_step(),
            code=FLITE_MISSING,
        )
    wav = await _run_flite(executable, flite_voice(voice), text)
    return await asyncio.to_thread(_decode_wav, wav, sample_rate)


async def _run_flite(executable: str, voice: str, text: str) -> bytes:
    """flite's WAV: through its stdout, or on Windows (no ``/dev/stdout``) through a temporary file."""
    if sys.platform != "win32":
        wav = await _flite(executable, voice, text, "/dev/stdout")
    else:
        with tempfile.TemporaryDirectory(prefix="voicepilot-tts-") as folder:
            output = Path(folder) / "speech.wav"
            await _flite(executable, voice, text, str(output))
            wav = await asyncio.to_thread(output.read_bytes)
    if not wav:
        raise media_error("flite could not synthesise speech: it wrote no audio")
    return wav


async def _flite(executable: str, voice: str, text: str, output: str) -> bytes:
    # "-t" makes flite read the next argument as text even if it looks like an option or a file.
    process = await asyncio.create_subprocess_exec(
        executable,
        "-voice",
        voice,
        "-t",
        text,
        "-o",
        output,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    wav, errors = await process.communicate()
    if process.returncode != 0:
        detail = errors.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise media_error(f"flite could not synthesise speech: {detail}")
    return wav


def _decode_wav(wav: bytes, sample_rate: int) -> npt.NDArray[np.int16]:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
    chunks: list[npt.NDArray[np.int16]] = []
    with av.open(io.BytesIO(wav), format="wav") as container:
        for frame in container.decode(audio=0):
            chunks += [_samples(out) for out in resampler.resample(frame)]
    chunks += [_samples(out) for out in resampler.resample(None)]  # drain the filter
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def _samples(frame: av.AudioFrame) -> npt.NDArray[np.int16]:
    return frame.to_ndarray().astype(np.int16, copy=False).reshape(-1)
