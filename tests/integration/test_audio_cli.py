"""``voicepilot devices`` and ``voicepilot talk --mic`` on the virtual devices."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.pulse import MIC, PulseAudio
from tests.integration.engine_process import EngineProcess

pytestmark = pytest.mark.integration


async def test_devices_lists_microphones_and_speakers(pulse: PulseAudio) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicepilot", "devices", "--json", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    devices = [json.loads(line) for line in out.splitlines()]
    inputs = {d["name"]: d for d in devices if d["kind"] == "input"}
    outputs = {d["name"]: d for d in devices if d["kind"] == "output"}
    assert inputs["default"]["isDefault"]
    assert inputs[MIC]["hostApi"] == "PulseAudio"
    assert "speaker" in outputs


class Talk:
    """``voicepilot talk --mic --json`` as a child process, its output lines read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []

    async def wait_for(self, kind: str, timeout: float = 20, **fields: Any) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            assert self.process.stdout is not None
            for line in self.lines:
                if line["type"] == kind and all(line.get(k) == v for k, v in fields.items()):
                    return line
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"talk exited before a {kind} line; got {self.lines}")
                line = json.loads(raw)
                self.lines.append(line)
                if line["type"] == kind and all(line.get(k) == v for k, v in fields.items()):
                    return line

        return await asyncio.wait_for(read(), timeout)

    async def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        await self.process.stdin.drain()


async def test_talk_mic_push_to_talk_on_enter(
    pulse: PulseAudio, engine: EngineProcess, samples: Path, tmp_path: Path
) -> None:
    with (tmp_path / "talk.stderr").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voicepilot", "talk", "--mic", "--json", "--endpoint", engine.url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr,
            env=dict(os.environ, VOICEPILOT_API_KEY=engine.api_key),
        )  # fmt: skip
    talk = Talk(process)
    try:
        await talk.wait_for("state", state="connected")
        await talk.type("\n")  # press
        await pulse.say(samples / "go_to_line_42.wav")
        await talk.type("\n")  # release: the turn is sent
        call = await talk.wait_for("tool_call")
        assert (call["name"], call["arguments"]) == ("go_to_line", {"line": 42})
        user = await talk.wait_for("transcript", role="user", final=True)
        assert user["text"] == "go to line forty two"
        await talk.wait_for("transcript", role="assistant", final=True)
        await talk.type("q\n")
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    events = (await engine.control())["calls"][0]["clientEvents"]
    assert "input_audio_buffer.commit" in events
    assert "Press Enter to talk" in (tmp_path / "talk.stderr").read_text()


async def devices_text(env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicepilot", "devices", stdout=asyncio.subprocess.PIPE, env=env
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    return out.decode()


async def test_devices_in_a_terminal_marks_the_defaults(pulse: PulseAudio, tmp_path: Path) -> None:
    text = await devices_text()
    microphones, speakers = text.split("Speakers:\n")
    assert microphones.startswith("Microphones:\n  * default (ALSA, 32 ch, 48000 Hz)\n")
    assert f"    {MIC} - " in microphones
    assert "  * default (ALSA" in speakers
    # With no sound server (and no sound card) there is nothing to list, and it says so.
    nowhere = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path}/no-such-socket", XDG_RUNTIME_DIR=str(tmp_path))
    assert await devices_text(nowhere) == "Microphones:\n    (none)\nSpeakers:\n    (none)\n"
