"""The first spoken round trip: real sidecar process, real engine process, WebRTC on 127.0.0.1."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from voicepilot.contract.tools import EDITOR_TOOLS

pytestmark = pytest.mark.integration

TOOLS = [tool.wire() for tool in EDITOR_TOOLS]


def start_params(wav: Path, engine: EngineProcess | None = None, **connection: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"profile": "local", "input": {"kind": "file", "path": str(wav)}, "tools": TOOLS}
    if engine is not None:
        connection.setdefault("endpoint", engine.url)
    if connection:
        params["connection"] = connection
    return params


async def ok_tool(params: dict[str, Any]) -> dict[str, Any]:
    return {"output": json.dumps({"ok": True, "line": params["arguments"].get("line")})}


@pytest.mark.parametrize("flavor", ["ga", "preview"])
async def test_spoken_command_round_trip(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path, flavor: str
) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    result = await sidecar.request(
        "voicepilot/startSession", start_params(samples / "go_to_line_42.wav", engine, apiFlavor=flavor)
    )
    session_id = result["sessionId"]

    await sidecar.wait_for(lambda: sidecar.tool_requests)
    call = sidecar.tool_requests[0]
    assert call["name"] == "go_to_line"
    assert call["arguments"] == {"line": 42}
    assert call["sessionId"] == session_id

    # The reply after the tool result is spoken and transcribed.
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"))
    assert sidecar.final_transcripts("user") == ["go to line forty two"]
    assert "42" in sidecar.final_transcripts("assistant")[0]

    control = await engine.control()
    (call_record,) = control["calls"]
    assert call_record["flavor"] == flavor
    outputs = call_record["functionCallOutputs"]
    assert [o["call_id"] for o in outputs] == [call["callId"]]
    assert json.loads(outputs[0]["output"]) == {"ok": True, "line": 42}
    assert "response.create" in call_record["clientEvents"]
    # The silence after the command (once the encoder had settled) left in 60 ms packets, which the
    # engine took: each carried 40 ms more than a 20 ms packet would have.
    packets_of_60_ms = (call_record["rtpAudioMs"] - 20 * call_record["framesReceived"]) / 40
    assert packets_of_60_ms >= 5, (call_record["rtpAudioMs"], call_record["framesReceived"])

    assert (await sidecar.request("voicepilot/endSession", {"sessionId": session_id})) == {"ended": True}
    await sidecar.wait_state("closed")
    assert sidecar.states() == ["authenticating", "connecting", "connected", "closed"]
    states = sidecar.of("voicepilot/connectionState")
    assert [s["previous"] for s in states] == ["idle", "authenticating", "connecting", "connected"]
    assert all(s["sessionId"] == session_id for s in states)


async def test_local_profile_starts_its_own_engine_and_stdin_close_ends_everything(
    sidecar: SidecarClient, samples: Path
) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav"))
    await sidecar.wait_for(lambda: sidecar.tool_requests)
    assert sidecar.tool_requests[0]["arguments"] == {"line": 12}
    children = child_pids(sidecar.process.pid)
    assert children, "the sidecar should have started the local engine as a child"

    took = await sidecar.close_stdin_and_wait()
    assert took < 1.0
    assert sidecar.process.returncode == 0
    assert [pid for pid in children if pid_alive(pid)] == []


def child_pids(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
