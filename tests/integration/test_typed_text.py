"""Typed text against the engine: `talk --text`, `voicepilot/sendText`, text-only sessions with no audio device."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import RpcError, SidecarClient
from tests.integration.test_round_trip import TOOLS, ok_tool, start_params

pytestmark = pytest.mark.integration


def no_sound(tmp_path: Path) -> dict[str, str]:
    """No sound server and no sound card: PortAudio finds no device at all."""
    return {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket", "XDG_RUNTIME_DIR": str(tmp_path)}


async def talk_text(engine: EngineProcess, text: str, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicepilot",
        "talk",
        "--json",
        "--text",
        text,
        "--endpoint",
        engine.url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, VOICEPILOT_API_KEY=engine.api_key, **env),
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    return [json.loads(line) for line in stdout.decode().splitlines()]


def finals(lines: list[dict[str, Any]], role: str) -> list[str]:
    return [line["text"] for line in lines if line["type"] == "transcript" and line["role"] == role and line["final"]]


@pytest.mark.parametrize("transport", ["webrtc", "websocket"])
@pytest.mark.parametrize("flavor", ["ga", "preview"])
async def test_talk_text_calls_the_tool_with_no_audio_device(
    engine: EngineProcess, tmp_path: Path, flavor: str, transport: str
) -> None:
    args = ("--api-flavor", flavor, "--transport", transport)
    lines = await talk_text(engine, "go to line 5", no_sound(tmp_path), *args)

    # The session settings in this flavour's and transport's shape: the strict engine took them.
    assert not [line for line in lines if line["type"] == "diagnostics"], lines

    (tool_call,) = [line for line in lines if line["type"] == "tool_call"]
    assert tool_call["name"] == "go_to_line"
    assert tool_call["arguments"] == {"line": 5}
    assert finals(lines, "user") == ["go to line 5"]
    assert finals(lines, "assistant") == ["Done: go to line 5."]
    (record,) = (await engine.control())["calls"]
    events = record["clientEvents"]
    # The typed turn, its reply request, the tool's output and the follow-up request, in that order.
    assert [e for e in events if e in ("conversation.item.create", "response.create")] == [
        "conversation.item.create",
        "response.create",
        "conversation.item.create",
        "response.create",
    ]
    assert record["turns"] == []  # nothing was heard: no audio turn at all


async def test_a_text_only_session_needs_no_audio_device_and_answers_in_text(
    engine: EngineProcess, tmp_path: Path
) -> None:
    sidecar = await SidecarClient.start(tmp_path, extra_env=no_sound(tmp_path))
    try:
        sidecar.tool_handler = ok_tool
        await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
        params = {"profile": "local", "modality": "text", "tools": TOOLS, "connection": {"endpoint": engine.url}}
        session_id = (await sidecar.request("voicepilot/startSession", params))["sessionId"]
        await sidecar.wait_state("connected")

        assert await sidecar.request("voicepilot/sendText", {"text": "Hello there"}) == {"accepted": True}
        await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"))
        assert sidecar.final_transcripts("user") == ["Hello there"]
        assert sidecar.final_transcripts("assistant") == ["You said: Hello there."]

        answer = await sidecar.request("voicepilot/sendText", {"text": "Go to line 5.", "sessionId": session_id})
        assert answer == {"accepted": True}
        await sidecar.wait_for(lambda: sidecar.tool_requests)
        assert sidecar.tool_requests[0]["arguments"] == {"line": 5}
        await sidecar.wait_for(lambda: len(sidecar.final_transcripts("assistant")) == 2)
        assert sidecar.final_transcripts("assistant")[1] == "Done: go to line 5."
        (record,) = (await engine.control())["calls"]
        assert record["functionCallOutputs"][0]["call_id"] == sidecar.tool_requests[0]["callId"]
    finally:
        await sidecar.stop()


async def test_send_text_into_a_voice_session_is_answered_in_it(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_42.wav", engine))
    await sidecar.wait_state("connected")
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=40)  # the spoken command's reply

    assert await sidecar.request("voicepilot/sendText", {"text": "go to line 7"}) == {"accepted": True}
    await sidecar.wait_for(lambda: len(sidecar.tool_requests) == 2, timeout=20)
    assert [call["arguments"] for call in sidecar.tool_requests] == [{"line": 42}, {"line": 7}]


async def test_send_text_without_a_session_or_without_text(sidecar: SidecarClient) -> None:
    assert await sidecar.request("voicepilot/sendText", {"text": "anyone there?"}) == {"accepted": False}
    with pytest.raises(RpcError) as raised:
        await sidecar.request("voicepilot/sendText", {"text": ""})
    assert raised.value.code == -32602
    assert sidecar.process.returncode is None


async def test_the_engine_without_flite_answers_in_text_and_says_how_to_install_it(
    tmp_path: Path, samples: Path
) -> None:
    assert shutil.which("flite") is not None  # else hiding it would prove nothing
    empty = tmp_path / "bin"
    empty.mkdir()
    # The sidecar and its local engine run from sys.executable: with this PATH, flite is gone.
    sidecar = await SidecarClient.start(tmp_path, extra_env={"PATH": str(empty)})
    try:
        sidecar.tool_handler = ok_tool
        await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav"))
        await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"))
        assert sidecar.tool_requests[0]["arguments"] == {"line": 12}
        assert "12" in sidecar.final_transcripts("assistant")[0]
        notices = [n for n in sidecar.of("voicepilot/diagnostics") if "flite" in str(n.get("message"))]
        assert len(notices) == 1, notices
        assert "sudo apt-get install flite" in notices[0]["message"]
    finally:
        await sidecar.stop()
