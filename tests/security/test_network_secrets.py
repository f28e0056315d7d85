"""A canary TURN password and a canary proxy password never show in any output of the sidecar.

The TURN password arrives by ``voicepilot/setCredentials`` and carries a relayed call through a real
coturn; the proxy password arrives in the session's connection settings (VS Code's ``http.proxy``)
and meets a proxy that is not there, a proxy URL VoicePilot cannot use, and a session start. Every
notification, answer, error and the DEBUG log are searched for either, and any 8 characters of it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.coturn import Coturn, free_port
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import RpcError, SidecarClient
from tests.security.test_secrets import leaks, proc_text

pytestmark = pytest.mark.integration


async def test_turn_and_proxy_passwords_never_appear_in_any_output(tmp_path: Path, engine: EngineProcess) -> None:
    turn_canary = "vpturncanary" + secrets.token_hex(12)
    proxy_canary = "vpproxycanary" + secrets.token_hex(12)
    turn = Coturn.start(tmp_path, password=turn_canary)
    sidecar = await SidecarClient.start(tmp_path, {"SSL_CERT_FILE": str(turn.cert)})
    outputs: list[Any] = []
    try:
        outputs.append(
            await sidecar.request(
                "voicepilot/setCredentials", {"apiKey": engine.api_key, "turnCredential": turn_canary}
            )
        )
        for name in ("cmdline", "environ"):
            assert leaks(turn_canary, proc_text(sidecar.process.pid, name)) == []

        # A relayed call: the password is used (coturn's long-term credential) and works.
        relayed = {
            "iceServers": [{"urls": [turn.url("tls")], "username": turn.username}],
            "iceTransportPolicy": "relay",
        }
        result = await sidecar.request(
            "voicepilot/runDiagnostics", {"profile": "local", "connection": relayed}, timeout=60
        )
        assert "from a relay candidate" in {c["name"]: c for c in result["checks"]}["media path"]["detail"]
        outputs.append(result)

        # The proxy's password: a proxy nobody listens on, and one VoicePilot cannot speak to.
        for proxy in (f"http://me:{proxy_canary}@127.0.0.1:{free_port()}", f"socks5://me:{proxy_canary}@proxy:1080"):
            connection = {"endpoint": "https://vp-canary.openai.azure.com", "proxy": proxy}
            outputs.append(
                await sidecar.request("voicepilot/runDiagnostics", {"profile": "azure", "connection": connection})
            )
            params = {
                "profile": "azure",
                "input": {"kind": "file", "path": "/nonexistent.wav"},
                "connection": connection,
            }
            with pytest.raises(RpcError) as error:
                await sidecar.request("voicepilot/startSession", params)
            outputs.append({"message": error.value.message, "data": error.value.data})
    finally:
        await sidecar.stop()
        turn.stop()

    everything = json.dumps([n.params for n in sidecar.notifications]) + json.dumps(outputs)
    log = sidecar.stderr_text()
    assert "DEBUG" in log
    for canary in (turn_canary, proxy_canary):
        assert leaks(canary, everything) == []
        assert leaks(canary, log) == []
    # The failures said what failed, without the secret.
    assert "not an http:// or https:// proxy URL" in everything
