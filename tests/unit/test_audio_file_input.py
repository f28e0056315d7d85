"""Audio files: streamed a few seconds ahead, refused from the header when too long, closed cleanly."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from voicepilot.audio.file_input import PREFETCH_FRAMES, _frames, load_audio_file, open_audio_file
from voicepilot.audio.frames import FRAME_SAMPLES, Pcm
from voicepilot.errors import ErrorKind, VoicePilotError

SAMPLES = Path(__file__).resolve().parents[2] / "server" / "voicepilot" / "samples"


def decoder_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "voicepilot-file"]


def drain(frames: object, timeout_s: float = 10.0) -> list[Pcm]:
    """Every frame of a stream, as the track would take them (None: not decoded yet)."""
    found: list[Pcm] = []
    deadline = time.monotonic() + timeout_s
    for frame in frames:  # type: ignore[attr-defined]
        if frame is not None:
            found.append(frame)
        else:
            time.sleep(0.001)  # the track's clock: it asks again for the next frame, not in a busy loop
        assert time.monotonic() < deadline
    return found


async def test_a_streamed_file_gives_the_same_frames_as_decoding_it_whole() -> None:
    wav = SAMPLES / "commands.wav"  # 11 s: more than the read-ahead queue holds
    whole = await load_audio_file(wav)
    assert len(whole) > PREFETCH_FRAMES
    stream = await open_audio_file(wav, max_seconds=600)
    streamed = await asyncio.to_thread(drain, stream)
    await stream.close()
    assert len(streamed) == len(whole)
    assert all(np.array_equal(a, b) for a, b in zip(streamed, whole, strict=True))
    assert all(frame.shape == (FRAME_SAMPLES,) for frame in streamed)
    assert decoder_threads() == []


async def test_a_file_longer_than_its_limit_is_refused_from_its_header() -> None:
    with pytest.raises(VoicePilotError) as refused:
        await open_audio_file(SAMPLES / "go_to_line_42.wav", max_seconds=2)
    assert refused.value.kind is ErrorKind.CONFIG
    assert "3 s long; the limit is 2 s" in refused.value.message
    assert "voicepilot.input.maxFileSeconds" in refused.value.next_step
    assert decoder_threads() == []


def test_decoding_stops_at_the_limit_whatever_the_header_says() -> None:
    wav = SAMPLES / "go_to_line_42.wav"
    with av.open(str(wav)) as container:
        frames = list(_frames(container, wav, max_seconds=1.0))
    assert 50 <= len(frames) < 60  # 1 s is 50 frames; the check runs after each decoded packet


async def test_closing_mid_file_ends_the_decoder_and_drops_what_it_read_ahead() -> None:
    stream = await open_audio_file(SAMPLES / "commands.wav", max_seconds=600)
    assert len(decoder_threads()) == 1
    await stream.close()
    assert decoder_threads() == []
    assert len(stream._frames) == 0


@pytest.mark.parametrize(
    ("content", "kind", "text"),
    [(None, ErrorKind.CONFIG, "does not exist"), (b"RIFF....WAVEfmt junk" * 10, ErrorKind.MEDIA, "Could not read")],
)
async def test_missing_and_unreadable_files(tmp_path: Path, content: bytes | None, kind: ErrorKind, text: str) -> None:
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VoicePilotError) as refused:
        await open_audio_file(path, max_seconds=600)
    assert refused.value.kind is kind
    assert text in refused.value.message
    assert decoder_threads() == []
