"""Neither the workspace's code nor a hostile model gets anywhere through the processes.

The engine child starts outside the caller's working directory, so a folder holding ``uuid.py``
or a ``voicepilot`` package runs none of it; and the engine's control API can play a hostile
model, whose function call and the answer it gets are both visible to a test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from tests.integration.test_round_trip import start_params
from voicepilot.conversation.engine_process import LocalEngineProcess

pytestmark = pytest.mark.integration


def plant_hostile_modules(folder: Path) -> list[Path]:
    """Modules that leave a marker file when imported; returns the markers' paths."""
    markers = [folder / "uuid.marker", folder / "voicepilot.marker"]
    (folder / "uuid.py").write_text(f"open({str(markers[0])!r}, 'w').close()\n")
    (folder / "voicepilot").mkdir()
    (folder / "voicepilot" / "__init__.py").write_text(f"open({str(markers[1])!r}, 'w').close()\n")
    return markers


async def test_the_engine_child_runs_no_module_of_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markers = plant_hostile_modules(tmp_path)
    monkeypatch.chdir(tmp_path)
    engine = LocalEngineProcess()
    try:
        url, _credential = await engine.ensure_started()
        async with aiohttp.ClientSession() as http, http.post(f"{url}/openai/v1/realtime/client_secrets") as response:
            status = response.status
    finally:
        await engine.stop()
        assert [marker.name for marker in markers if marker.exists()] == []
    assert status == 401  # it answered: it started, on our code


async def test_a_call_tool_action_reaches_the_editor_and_its_output_comes_back(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    async def refuse(params: dict[str, Any]) -> dict[str, Any]:
        return {"output": json.dumps({"ok": False, "error": f"refused {params['name']}"})}

    sidecar.tool_handler = refuse
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    await sidecar.wait_state("connected", timeout=20)

    answer = await engine.act(callTool={"name": "open_file", "arguments": {"path": "../../outside.txt"}})
    assert answer["liveCalls"] == 1
    (call_id,) = answer["callIds"]

    def output_of_the_injected_call() -> list[dict[str, Any]]:
        return [r for r in sidecar.tool_requests if r["callId"] == call_id]

    (request,) = await sidecar.wait_for(output_of_the_injected_call, timeout=20)
    assert request["name"] == "open_file"
    assert request["arguments"] == {"path": "../../outside.txt"}

    # The engine answers the output it received, as a model would: the answer names the refusal.
    spoken = await sidecar.wait_for(
        lambda: [text for text in sidecar.final_transcripts("assistant") if "refused open_file" in text], timeout=20
    )
    assert spoken == ["Sorry, open file ../../outside.txt failed: refused open_file."]
    (call,) = (await engine.control())["calls"]
    outputs = [json.loads(o["output"]) for o in call["functionCallOutputs"] if o["call_id"] == call_id]
    assert outputs == [{"ok": False, "error": "refused open_file"}]


async def test_a_call_tool_action_needs_a_name_and_arguments(engine: EngineProcess) -> None:
    headers = {"X-VoicePilot-Control": engine.control_token}
    async with aiohttp.ClientSession() as http:
        for tool in ({"name": 3, "arguments": {}}, {"name": "open_file"}, "open_file"):
            async with http.post(f"{engine.url}/control/actions", json={"callTool": tool}, headers=headers) as response:
                assert response.status == 400
                assert (await response.json())["error"]["code"] == "invalid_value"
