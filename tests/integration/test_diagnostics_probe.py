"""Run Connection Diagnostics' connection steps, probed against the real local engine."""

from __future__ import annotations

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from voicepilot.contract.models import ConnectionSettings, StartSessionParams
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.sidecar.probe import probe_connection

pytestmark = pytest.mark.integration


async def test_probe_passes_every_step_against_the_local_engine() -> None:
    engine = LocalEngineProcess()
    try:
        checks = await probe_connection(StartSessionParams(profile="local"), None, engine)
    finally:
        await engine.stop()
    assert [(c.name, c.ok) for c in checks] == [
        ("key minted", True),
        ("SDP exchanged", True),
        ("data channel open", True),
        ("round trip", True),
        ("media path", True),
    ]
    assert "events channel" in checks[3].detail
    assert checks[4].detail.startswith("The call goes from a host candidate to a host candidate over UDP")


async def test_probe_fails_at_the_first_step_with_its_next_step() -> None:
    engine = LocalEngineProcess()
    params = StartSessionParams(profile="azure", connection=ConnectionSettings(endpoint="https://example.com"))
    try:
        checks = await probe_connection(params, "not-a-key", engine)
    finally:
        await engine.stop()
    assert [(c.name, c.ok) for c in checks] == [
        ("key minted", False),
        ("SDP exchanged", False),
        ("data channel open", False),
        ("round trip", False),
        ("media path", False),
    ]
    assert "not an Azure OpenAI resource" in checks[0].detail
    assert checks[0].next_step
    assert checks[1].detail.startswith("Not tried")


async def test_run_diagnostics_probes_the_profile_the_editor_names(
    sidecar: SidecarClient, engine: EngineProcess
) -> None:
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    result = await sidecar.request(
        "voicepilot/runDiagnostics", {"profile": "azure", "connection": {"endpoint": engine.url}}
    )
    by_name = {check["name"]: check["ok"] for check in result["checks"]}
    assert by_name["key minted"] is True
    assert by_name["round trip"] is True
    assert (await engine.control())["mintRequests"] == 1  # the engine the editor named, not a local one
