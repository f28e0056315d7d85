"""Audio from a file: any format and rate PyAV can read, as 48 kHz mono 20 ms frames."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np

from voicepilot.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from voicepilot.errors import config_error, media_error


def _decode(path: Path) -> list[Pcm]:
    if not path.is_file():
        raise config_error(f"The input file {path} does not exist.", "Check the path of the audio file.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise media_error(f"{path} has no audio stream.", "Use a WAV file with speech in it.")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            chunks: list[Pcm] = []
            for frame in [*container.decode(audio=0), None]:
                chunks.extend(f.to_ndarray().reshape(-1).astype(np.int16) for f in resampler.resample(frame))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise media_error(
            f"Could not read {path} as audio ({exc.__class__.__name__}).",
            "Use a readable WAV file (any sample rate, mono or stereo).",
        ) from exc
    samples = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)
    if samples.size == 0:
        raise media_error(f"{path} contains no audio samples.", "Use a WAV file with speech in it.")
    pad = (-samples.size) % FRAME_SAMPLES
    samples = np.concatenate([samples, np.zeros(pad, dtype=np.int16)])
    return list(samples.reshape(-1, FRAME_SAMPLES))


async def load_audio_file(path: str | Path) -> list[Pcm]:
    """Decode and resample off the event loop; raises a classified error for bad input."""
    return await asyncio.to_thread(lambda: _decode(Path(path).expanduser()))
