"""A canary API key never shows: not in any output of the sidecar, nor in its argv or environment.

The key reaches the real sidecar process the only way it can (``voicepilot/setCredentials``); then
a session fails authentication, a session works against the engine (transcripts, a tool call,
stats, renewals), requests fail with classified errors and invalid params, diagnostics run. Every
byte the sidecar produced is searched: its DEBUG log, every notification, every answer and error,
for the key and for any 8 characters of it.

A second test sends the key in wrong fields before the sidecar knows it is a key (it must not be
quoted back), then has the service echo it, whole and truncated, in its error bodies: the resource
key from the mint endpoint, the ephemeral key from the SDP endpoint.

(A DTLS fingerprint that does not match is refused:
tests/integration/test_connection.py::test_tampered_dtls_fingerprint_is_refused.)
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.sidecar_runs import ok_tool, session_params, wait_state
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import RpcError, SidecarClient
from voicepilot.conversation.engine_process import PACKAGE_PARENT

pytestmark = pytest.mark.integration


def proc_text(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_bytes().replace(b"\0", b"\n").decode(errors="replace")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def leaks(canary: str, text: str) -> list[str]:
    """Where the canary, or any 8 characters of it, appears in ``text``."""
    needles = [canary[i : i + 8] for i in range(len(canary) - 7)]
    return [text[max(0, i - 60) : i + 60] for needle in needles if (i := text.find(needle)) >= 0]


async def test_canary_key_never_appears_in_any_output(tmp_path: Path, samples: Path) -> None:
    canary = "vpcanary" + secrets.token_hex(16)
    engine = await EngineProcess.start(tmp_path, "--key-ttl", "10", api_key=canary)
    other = await EngineProcess.start(tmp_path)  # holds a different key: the canary fails there
    sidecar = await SidecarClient.start(tmp_path)
    outputs: list[Any] = []
    try:
        sidecar.tool_handler = ok_tool
        outputs.append(await sidecar.request("voicepilot/setCredentials", {"apiKey": canary}))

        # The process that holds the key was not given it in its argv or environment.
        for name in ("cmdline", "environ"):
            assert leaks(canary, proc_text(sidecar.process.pid, name)) == []

        # 1. Authentication fails (401 from the service).
        failing = await sidecar.request("voicepilot/startSession", session_params(samples / "go_to_line_12.wav", other))
        failed = await wait_state(sidecar, failing["sessionId"], "failed")
        assert failed.params["errorKind"] == "auth"

        # 2. A session that works: renewals (the key presented every 2 s), a transcript, a tool call.
        working = await sidecar.request(
            "voicepilot/startSession", session_params(samples / "go_to_line_42.wav", engine, renewIntervalS=1)
        )
        await wait_state(sidecar, working["sessionId"], "connected")
        await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=30)
        await sidecar.wait_for(
            lambda: sum(1 for d in sidecar.of("voicepilot/diagnostics") if d.get("message") == "key_renewed") >= 2
        )
        outputs.append(await sidecar.request("voicepilot/runDiagnostics", {}))
        await sidecar.request("voicepilot/endSession", {"sessionId": working["sessionId"]})

        # 3. Errors: a classified one, invalid params that carry the key, a cloud profile.
        for method, params in [
            ("voicepilot/setCredentials", {"apiKey": canary, "unexpected": canary}),
            ("voicepilot/setCredentials", {"apiKey": [canary]}),
            ("voicepilot/startSession", {"profile": "azure", "connection": {"endpoint": "https://evil.example"}}),
            ("voicepilot/startSession", {"profile": "openai", "input": {"kind": "file", "path": "/nonexistent.wav"}}),
            ("voicepilot/startSession", {"profile": canary}),
        ]:
            with pytest.raises(RpcError) as error:
                await sidecar.request(method, params)
            outputs.append({"message": error.value.message, "data": error.value.data})
        outputs.append(await sidecar.request("voicepilot/runDiagnostics", {}))
    finally:
        await sidecar.stop()
        await engine.stop()
        await other.stop()

    # Requests that carried the canary in the wrong place get errors that do not echo it.
    everything = json.dumps([n.params for n in sidecar.notifications]) + json.dumps(outputs)
    assert leaks(canary, everything) == []
    log = sidecar.stderr_text()
    assert "key_renewed" in json.dumps([n.params for n in sidecar.notifications])
    assert "DEBUG" in log  # the log was as verbose as it gets
    assert leaks(canary, log) == []


async def test_a_key_in_wrong_fields_or_echoed_by_the_service_is_never_repeated(tmp_path: Path, samples: Path) -> None:
    canary = "vpcanary" + secrets.token_hex(16)
    engine = await EngineProcess.start(tmp_path, api_key=canary)
    sidecar = await SidecarClient.start(tmp_path)
    outputs: list[Any] = []
    wav = samples / "go_to_line_12.wav"
    try:
        # 1. Before the sidecar holds it, the key in the wrong place: a wrong type, a union's tag,
        # too long, an extra field. Validation errors name the field and never quote the value.
        for method, params in [
            ("voicepilot/startSession", {"profile": "local", "vad": canary}),
            ("voicepilot/startSession", {"profile": "local", "input": {"kind": canary}}),
            ("voicepilot/startSession", {"profile": "local", "tools": [{"name": canary * 3}]}),
            ("voicepilot/startSession", {"profile": "local", "unexpected": canary}),
            (
                "voicepilot/startSession",
                {"profile": "local", "input": {"kind": "file", "path": wav.as_posix(), "maxSeconds": canary}},
            ),
            ("voicepilot/setCredentials", {"apiKey": [canary]}),
        ]:
            with pytest.raises(RpcError) as error:
                await sidecar.request(method, params)
            assert error.value.code == -32602
            outputs.append({"message": error.value.message, "data": error.value.data})

        # 2. The service quotes the key it was given in its error body: whole, then truncated, from
        # the mint endpoint (the resource key), then truncated from the SDP endpoint (the ephemeral key).
        await sidecar.request("voicepilot/setCredentials", {"apiKey": canary})
        reasons = []
        for faults in (
            {"rejectMints": 1, "rejectStatus": 401, "echoKey": "full"},
            {"rejectMints": 1, "rejectStatus": 401, "echoKey": "truncated"},
            {"rejectCalls": 1, "rejectCallsStatus": 401, "echoKey": "truncated"},
        ):
            await engine.faults(**faults)
            started = await sidecar.request("voicepilot/startSession", session_params(wav, engine))
            failed = await wait_state(sidecar, started["sessionId"], "failed")
            reasons.append(failed.params["reason"])
        assert all("Incorrect API key provided: <redacted>" in reason for reason in reasons), reasons
        # The diagnostics' probe meets the same echo (the last error is reported beside it).
        await engine.faults(rejectMints=1, rejectStatus=401, echoKey="full")
        diagnostics = await sidecar.request("voicepilot/runDiagnostics", {})
        failing = [c for c in diagnostics["checks"] if not c["ok"]]
        assert any("Incorrect API key provided: <redacted>" in c["detail"] for c in failing), failing
        outputs.append(diagnostics)
    finally:
        await sidecar.stop()
        await engine.stop()

    everything = json.dumps([n.params for n in sidecar.notifications]) + json.dumps(outputs)
    assert leaks(canary, everything) == []
    assert leaks(canary, sidecar.stderr_text()) == []


async def test_the_engine_child_gets_its_key_on_stdin_only(sidecar: SidecarClient) -> None:
    """The local engine the sidecar starts: its argv holds only flags, its environment is the sidecar's
    (with PYTHONSAFEPATH), and it runs in the folder of the voicepilot package, not the sidecar's."""
    await sidecar.request("voicepilot/runDiagnostics", {})  # starts the local engine
    (child,) = children(sidecar.process.pid)
    argv = proc_text(child, "cmdline").split("\n")[:-1]
    known = {sys.executable, "-m", "voicepilot", "engine", "127.0.0.1", "DEBUG", "INFO", "WARNING", "ERROR"}
    for arg in argv:
        assert arg in known or arg.startswith("--") or arg.replace(".", "").isdigit(), argv
    assert "--secrets-stdin" in argv
    child_env = set(proc_text(child, "environ").split("\n"))
    assert "PYTHONSAFEPATH=1" in child_env
    assert child_env - {"PYTHONSAFEPATH=1"} <= set(proc_text(sidecar.process.pid, "environ").split("\n"))
    assert os.readlink(f"/proc/{child}/cwd") == str(PACKAGE_PARENT)
