"""Bad input gets a clear error, and the sidecar keeps serving."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.sidecar_runs import runtime_counts
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import RpcError, SidecarClient
from tests.integration.test_round_trip import ok_tool, start_params
from voicepilot.audio.file_input import load_audio_file

pytestmark = pytest.mark.integration


async def still_serving(sidecar: SidecarClient) -> None:
    """A request with no side effects answers normally."""
    assert await sidecar.request("voicepilot/pushToTalk", {"pressed": False}) == {"accepted": False}


async def test_unknown_method(sidecar: SidecarClient) -> None:
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/doesNotExist", {})
    assert error.value.code == -32601
    assert "voicepilot/doesNotExist" in error.value.message
    await still_serving(sidecar)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"profile": "cloud"}, "profile"),
        ({"profile": "local", "input": {"kind": "file"}}, "input.file.path"),
        ({"profile": "local", "mode": "shouting"}, "mode"),
        ({"profile": "local", "unexpected": 1}, "unexpected"),
        ([1, 2], "params must be an object"),
    ],
)
async def test_wrong_params(sidecar: SidecarClient, params: object, expected: str) -> None:
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", params)
    assert error.value.code == -32602
    assert expected in error.value.message
    await still_serving(sidecar)


async def test_push_to_talk_needs_a_boolean(sidecar: SidecarClient) -> None:
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/pushToTalk", {"pressed": "maybe"})
    assert error.value.code == -32602
    assert "pressed" in error.value.message


async def test_missing_wav(sidecar: SidecarClient, tmp_path: Path) -> None:
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", start_params(tmp_path / "nope.wav"))
    assert error.value.data["errorKind"] == "config"
    assert "nope.wav does not exist" in error.value.message
    assert sidecar.states() == []
    await still_serving(sidecar)


async def test_unreadable_wav(sidecar: SidecarClient, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF....WAVEfmt this is not audio" * 10)
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", start_params(garbage))
    assert error.value.data["errorKind"] == "media"
    assert "garbage.wav" in error.value.message
    await still_serving(sidecar)


async def test_engine_not_running(sidecar: SidecarClient, samples: Path) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await sidecar.request("voicepilot/setCredentials", {"apiKey": "irrelevant-key"})
    await sidecar.request(
        "voicepilot/startSession", start_params(samples / "go_to_line_12.wav", endpoint=f"http://127.0.0.1:{port}")
    )
    failed = await sidecar.wait_state("failed")
    assert failed["errorKind"] == "network"
    assert f"127.0.0.1:{port}" in failed["reason"]
    assert sidecar.states() == ["authenticating", "failed"]
    await still_serving(sidecar)


async def test_wrong_api_key(sidecar: SidecarClient, engine: EngineProcess, samples: Path) -> None:
    await sidecar.request("voicepilot/setCredentials", {"apiKey": "wrong-key-123456"})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    failed = await sidecar.wait_state("failed")
    assert failed["errorKind"] == "auth"
    assert "401" in failed["reason"]
    assert "API key" in failed["reason"]
    assert "wrong-key-123456" not in sidecar.stderr_text()
    assert (await engine.control())["calls"] == []


async def test_expired_ephemeral_key(sidecar: SidecarClient, start_engine: object, samples: Path) -> None:
    engine: EngineProcess = await start_engine("--key-ttl", "0")  # type: ignore[operator]
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    failed = await sidecar.wait_state("failed")
    assert failed["errorKind"] == "auth"
    assert "expired" in failed["reason"]
    assert sidecar.states() == ["authenticating", "connecting", "failed"]


async def test_no_key_for_a_cloud_profile(sidecar: SidecarClient, samples: Path) -> None:
    params = start_params(samples / "go_to_line_12.wav")
    params.update(profile="azure", connection={"endpoint": "https://example-resource.openai.azure.com"})
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", params)
    assert error.value.data["errorKind"] == "auth"
    assert "Set API Key" in error.value.data["nextStep"]
    await still_serving(sidecar)


async def test_clearing_the_key_forgets_it(sidecar: SidecarClient, samples: Path) -> None:
    assert await sidecar.request("voicepilot/setCredentials", {"apiKey": "key-to-forget-123"}) == {"stored": True}
    assert await sidecar.request("voicepilot/setCredentials", {"apiKey": None}) == {"stored": False}
    params = start_params(samples / "go_to_line_12.wav")
    params.update(profile="azure", connection={"endpoint": "https://example-resource.openai.azure.com"})
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", params)
    assert error.value.data["errorKind"] == "auth"
    with pytest.raises(RpcError) as empty:
        await sidecar.request("voicepilot/setCredentials", {"apiKey": ""})
    assert empty.value.code == -32602


# ---------------------------------------------------------------------------- framing and limits


async def unmatched_error(sidecar: SidecarClient, count: int = 1) -> dict[str, Any]:
    await sidecar.wait_for(lambda: len(sidecar.unmatched) >= count, timeout=10)
    error: dict[str, Any] = sidecar.unmatched[count - 1]["error"]
    return error


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"jsonrpc": "2.0", "id": 9, "method": ', -32700),
        (b"\xff\xfe not utf-8", -32700),
        (b"[" * 100_000, -32700),
        (b'[{"jsonrpc": "2.0", "id": 9, "method": "voicepilot/pushToTalk"}]', -32600),
        (b'{"id": 9, "method": "voicepilot/pushToTalk"}', -32600),
        (b'{"jsonrpc": "2.0", "id": [9], "method": "voicepilot/pushToTalk"}', -32600),
    ],
)
async def test_a_message_that_is_not_a_request_gets_an_error_and_the_sidecar_serves_on(
    sidecar: SidecarClient, body: bytes, code: int
) -> None:
    await sidecar.write_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    error = await unmatched_error(sidecar)
    assert error["code"] == code
    await still_serving(sidecar)


async def test_requests_before_initialize_are_refused(tmp_path: Path) -> None:
    sidecar = await SidecarClient.start(tmp_path, initialize=False)
    try:
        with pytest.raises(RpcError) as error:
            await sidecar.request("voicepilot/setCredentials", {"apiKey": "too-early-key"})
        assert error.value.code == -32002
        await sidecar.notify("voicepilot/ignored", {})  # a notification is dropped, as LSP says
        await sidecar.initialize()
        assert await sidecar.request("voicepilot/setCredentials", {"apiKey": "in-time-key"}) == {"stored": True}
    finally:
        await sidecar.stop()


async def test_a_header_line_over_16_mib_is_skipped(sidecar: SidecarClient) -> None:
    rss_before, _ = sidecar.memory_kb()
    body = b'{"jsonrpc": "2.0", "id": 99, "method": "voicepilot/pushToTalk", "params": {"pressed": false}}'
    junk = b"X-Junk: " + b"j" * (17 * 2**20) + b"\r\n"
    await sidecar.write_raw(junk + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    error = await unmatched_error(sidecar)
    assert error["code"] == -32600
    assert "header line" in error["message"]
    await still_serving(sidecar)
    _, peak = sidecar.memory_kb()
    assert peak - rss_before < 20_000, (rss_before, peak)  # the line was never held whole


async def test_a_declared_2_gb_message_ends_the_sidecar_cleanly_at_once(sidecar: SidecarClient) -> None:
    started = time.monotonic()
    await sidecar.write_raw(b"Content-Length: 2147483648\r\n\r\n{")
    error = await unmatched_error(sidecar)
    assert error["code"] == -32600
    assert "2147483648 bytes exceeds the limit" in error["message"]
    assert await asyncio.wait_for(sidecar.process.wait(), 5) == 1
    assert time.monotonic() - started < 2.0


def wav_header(data_bytes: int, rate: int = 48_000) -> bytes:
    """A mono 16-bit PCM WAV header for ``data_bytes`` of samples."""
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", data_bytes)


async def test_a_2_gb_sparse_wav_is_refused_from_its_header(sidecar: SidecarClient, tmp_path: Path) -> None:
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as out:
        out.write(wav_header(2**31 - 44))
        out.truncate(2**31)  # sparse: no disk space used
    with pytest.raises(RpcError) as error:
        await sidecar.request("voicepilot/startSession", start_params(huge))
    assert error.value.data["errorKind"] == "config"
    assert "the limit is 600 s" in error.value.message
    assert "voicepilot.input.maxFileSeconds" in error.value.data["nextStep"]
    _, peak = sidecar.memory_kb()
    assert peak < 300_000, peak
    await still_serving(sidecar)


async def test_a_20_mb_wav_is_streamed_and_let_go_at_end_session(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path, tmp_path: Path
) -> None:
    speech = np.concatenate(await load_audio_file(samples / "go_to_line_42.wav"))
    big = tmp_path / "big.wav"
    with wave.open(str(big), "wb") as out:  # 48 kHz mono: 208 s, within the 600 s cap
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes(speech.tobytes() + bytes(20_000_000 - speech.nbytes))
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    before = await runtime_counts(sidecar)
    rss_before, _ = sidecar.memory_kb()
    result = await sidecar.request("voicepilot/startSession", start_params(big, engine))
    await sidecar.wait_for(lambda: sidecar.tool_requests, timeout=30)  # the speech at its start was heard
    assert sidecar.tool_requests[0]["arguments"] == {"line": 42}
    _, peak = sidecar.memory_kb()
    # Decoded whole, the file cost 86 MB more at its peak than a short one (which costs 12 MB).
    assert peak - rss_before < 40_000, (rss_before, peak)
    await sidecar.request("voicepilot/endSession", {"sessionId": result["sessionId"]})
    after = await runtime_counts(sidecar)
    assert after["threads"] <= before["threads"], (before, after)  # the decoder is gone


async def test_concurrent_start_sessions_leave_exactly_one_live(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    params = start_params(samples / "go_to_line_12.wav", engine)
    first, second = await asyncio.gather(
        sidecar.request("voicepilot/startSession", params), sidecar.request("voicepilot/startSession", params)
    )
    ids = [first["sessionId"], second["sessionId"]]

    def states_of(session_id: str) -> list[str]:
        return [s["state"] for s in sidecar.of("voicepilot/connectionState") if s.get("sessionId") == session_id]

    # The requests went one at a time: the second replaced the first, which never connected.
    await sidecar.wait_for(lambda: "closed" in states_of(ids[0]) and "connected" in states_of(ids[1]))
    assert "connected" not in states_of(ids[0])
    replaced = [s for s in sidecar.of("voicepilot/connectionState") if s.get("sessionId") == ids[0]][-1]
    assert replaced["reason"] == "a new session was started"
    assert states_of(ids[1])[-1] == "connected"
    assert (await runtime_counts(sidecar))["peerConnections"] == 1
