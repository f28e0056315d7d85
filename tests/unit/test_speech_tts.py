import shutil

import numpy as np
import pytest

from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.engine.speech import tts
from voicepilot.engine.speech.stt import Recognizer
from voicepilot.errors import ErrorKind, VoicePilotError


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer([tool.model_dump() for tool in EDITOR_TOOLS], sample_rate=48_000)


async def test_speech_at_48_khz() -> None:
    audio = await tts.synthesize("Done: go to line forty two.", 48_000)
    assert audio.dtype == np.int16
    assert audio.ndim == 1
    assert 1.2 < audio.size / 48_000 < 4.0  # six words
    assert np.abs(audio).max() > 3000


async def test_sample_rate_sets_the_length() -> None:
    at_16k = await tts.synthesize("save all files", 16_000)
    at_48k = await tts.synthesize("save all files", 48_000)
    assert at_48k.size == pytest.approx(3 * at_16k.size, rel=0.01)


async def test_blank_text_is_no_audio() -> None:
    assert (await tts.synthesize("  ")).size == 0


@pytest.mark.parametrize(
    ("voice", "flite_voice"),
    [(None, "slt"), ("marin", "slt"), ("cedar", "awb"), ("ash", "rms"), ("rms", "rms"), ("unknown", "slt")],
)
def test_realtime_voices_map_to_flite_voices(voice: str | None, flite_voice: str) -> None:
    assert tts.flite_voice(voice) == flite_voice


async def test_every_mapped_voice_speaks() -> None:
    for voice in set(tts.REALTIME_VOICES.values()):
        assert (await tts.synthesize("hello", 16_000, voice)).size > 0


async def test_missing_flite_is_a_media_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(VoicePilotError) as raised:
        await tts.synthesize("hello")
    assert raised.value.kind is ErrorKind.MEDIA
    assert raised.value.code == tts.FLITE_MISSING


@pytest.mark.parametrize(
    ("platform", "step"),
    [
        ("linux", "sudo apt-get install flite"),
        ("linux", "sudo dnf install flite"),
        ("darwin", "brew install flite"),
        ("win32", "put `flite.exe` on PATH"),
    ],
)
def test_the_flite_install_step_is_for_this_os(monkeypatch: pytest.MonkeyPatch, platform: str, step: str) -> None:
    monkeypatch.setattr("sys.platform", platform)
    assert step in tts.flite_install_step()
    assert "answers in text" in tts.flite_install_step()


async def test_speech_round_trips_through_the_recognizer(recognizer: Recognizer) -> None:
    recognition = recognizer.transcribe((await tts.synthesize("go to line twelve", 48_000)).tobytes())
    assert recognition.text == "go to line twelve"
    assert recognition.tool_call is not None
    assert (recognition.tool_call.name, recognition.tool_call.arguments) == ("go_to_line", {"line": 12})


@pytest.mark.parametrize("sentence", ["the weather is nice today", "what time is it"])
async def test_other_speech_is_not_forced_onto_a_command(recognizer: Recognizer, sentence: str) -> None:
    # The grammar alone hears these as "go to line ..."; the confidence check sends them to the
    # language model instead.
    recognition = recognizer.transcribe((await tts.synthesize(sentence, 48_000)).tobytes())
    assert recognition.tool_call is None
    assert recognition.source == "free"
    assert recognition.text == sentence


async def test_on_windows_flite_writes_through_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows has no /dev/stdout: the same flite, told to write a file, gives the same speech.
    on_posix = await tts.synthesize("hello", 16_000)
    flite = shutil.which("flite")
    monkeypatch.setattr("shutil.which", lambda name: flite)  # Windows' which looks for flite.exe
    monkeypatch.setattr("sys.platform", "win32")
    on_windows = await tts.synthesize("hello", 16_000)
    assert on_windows.size > 0
    assert abs(on_windows.size - on_posix.size) <= 160  # within 10 ms: the same sentence
