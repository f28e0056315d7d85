"""Key renewal, session handover and recovery from faults, against the real engine on loopback."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from tests.integration.spoken import failing_then_ok_tool, gaps_at_switches, spoken_ms, spoken_session
from tests.integration.test_round_trip import ok_tool, start_params

pytestmark = pytest.mark.integration


async def talk(engine: EngineProcess, wav: Path, *args: str) -> list[dict[str, Any]]:
    """Run `voicepilot talk --json` against ``engine``; return its output lines, asserting exit 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicepilot",
        "talk",
        "--json",
        "--input",
        str(wav),
        "--endpoint",
        engine.url,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, VOICEPILOT_API_KEY=engine.api_key),
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    return [json.loads(line) for line in stdout.decode().splitlines()]


def user_transcripts(lines: list[dict[str, Any]]) -> list[str]:
    return [line["text"] for line in lines if line["type"] == "transcript" and line["role"] == "user" and line["final"]]


@pytest.mark.timing
async def test_key_renewal_keeps_a_valid_key_without_touching_the_audio(start_engine: Any, tmp_path: Path) -> None:
    engine: EngineProcess = await start_engine("--key-ttl", "3")
    wav = tmp_path / "twenty-seconds.wav"
    expected = spoken_session(wav, seconds=20)
    started = time.monotonic()
    lines = await talk(engine, wav, "--renew-interval", "2")
    elapsed = time.monotonic() - started

    renewals = [line for line in lines if line["type"] == "key_renewed"][1:]  # the first is the initial mint
    assert 0.5 * elapsed / 2 <= len(renewals) <= 1.5 * elapsed / 1.3, (len(renewals), elapsed)
    control = await engine.control()
    assert control["expiredKeyRejections"] == 0
    assert control["keysMinted"] == len(renewals) + 1
    (call,) = control["calls"]  # renewal never touches the connection
    assert user_transcripts(lines) == expected
    # No audio dropped: every 20 ms frame of the recording reached the engine's receiver.
    recording_frames = (wav.stat().st_size - 44) // 2 // 320
    assert len(call["soundArrivals"]) >= 0.99 * recording_frames
    # Late is not lost (a busy 2-core machine delays frames now and then), but a renewal must
    # never stall the stream.
    arrivals = call["soundArrivals"]
    assert max(b - a for a, b in itertools.pairwise(arrivals)) < 1.0


@pytest.mark.timing
async def test_handover_is_gap_free_and_transcribes_every_utterance_once(start_engine: Any, tmp_path: Path) -> None:
    engine: EngineProcess = await start_engine("--session-limit", "4")
    wav = tmp_path / "thirty-seconds.wav"
    expected = spoken_session(wav, seconds=30)
    lines = await talk(engine, wav)

    handovers = [line for line in lines if line["type"] == "handover"]
    assert len(handovers) >= 6
    # gapMs is the client's own view (two independently paced tracks); what counts is what the
    # engine's receiver heard, below.
    calls = (await engine.control())["calls"]
    assert len(calls) >= 7
    gaps = gaps_at_switches(calls)
    assert len(gaps) >= 6
    assert max(gaps) <= 0.040, [round(g * 1000) for g in gaps]
    assert user_transcripts(lines) == expected
    tool_lines = [line["arguments"]["line"] for line in lines if line["type"] == "tool_call"]
    assert tool_lines == [42 if "forty" in text else 12 for text in expected]


# ----------------------------------------------------------------------------- faults


async def connected_session(sidecar: SidecarClient, engine: EngineProcess, samples: Path) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    await sidecar.wait_state("connected")


def states_after(sidecar: SidecarClient, count: int) -> list[str]:
    return sidecar.states()[count:]


async def test_rate_limited_mint_waits_for_retry_after(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(rejectMints=1, rejectStatus=429, retryAfterS=0.3)
    started = time.monotonic()
    await connected_session(sidecar, engine, samples)
    assert time.monotonic() - started >= 0.3
    assert (await engine.control())["mintRequests"] == 2
    assert sidecar.states() == ["authenticating", "connecting", "connected"]


async def test_server_errors_on_mint_are_retried(sidecar: SidecarClient, engine: EngineProcess, samples: Path) -> None:
    await engine.faults(rejectMints=2, rejectStatus=500)
    await connected_session(sidecar, engine, samples)
    assert (await engine.control())["mintRequests"] == 3


async def test_auth_failure_on_mint_is_not_retried(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(rejectMints=5, rejectStatus=401)
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    failed = await sidecar.wait_state("failed")
    assert failed["errorKind"] == "auth"
    assert (await engine.control())["mintRequests"] == 1


async def test_a_401_on_reconnect_is_retried_once_then_fails(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await connected_session(sidecar, engine, samples)
    before = (await engine.control())["callRequests"]
    await engine.faults(rejectCalls=10, rejectCallsStatus=401)
    await engine.act(closePeers=True)
    failed = await sidecar.wait_state("failed")
    assert failed["errorKind"] == "auth"
    assert (await engine.control())["callRequests"] - before == 2
    assert sidecar.states() == ["authenticating", "connecting", "connected", "reconnecting", "failed"]


async def test_closed_peer_reconnects(sidecar: SidecarClient, engine: EngineProcess, samples: Path) -> None:
    await connected_session(sidecar, engine, samples)
    await engine.act(closePeers=True)
    await sidecar.wait_for(lambda: sidecar.states()[3:] == ["reconnecting", "connected"])
    calls = (await engine.control())["calls"]
    assert [c["closed"] for c in calls] == [True, False]


async def test_hung_service_is_detected_within_three_seconds(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await connected_session(sidecar, engine, samples)
    await engine.faults(stopAnswering=True)
    hung_at = time.monotonic()
    await sidecar.wait_state("reconnecting", timeout=10)
    detected = next(n.at for n in sidecar.notifications if n.params.get("state") == "reconnecting")
    assert detected - hung_at < 3.0
    await engine.faults(stopAnswering=False)
    await sidecar.wait_for(lambda: sidecar.states()[-1:] == ["connected"] and len(sidecar.states()) == 5)


async def test_killed_engine_is_detected_and_a_restarted_one_reconnects(
    sidecar: SidecarClient, start_engine: Any, samples: Path, tmp_path: Path
) -> None:
    engine: EngineProcess = await start_engine()
    await connected_session(sidecar, engine, samples)
    engine.kill()
    killed_at = time.monotonic()
    reconnecting = await sidecar.wait_state("reconnecting", timeout=10)
    detected = next(n.at for n in sidecar.notifications if n.params.get("state") == "reconnecting")
    assert detected - killed_at < 3.0
    assert reconnecting["errorKind"] == "network"
    restarted = await engine.restart(tmp_path)
    try:
        await sidecar.wait_for(lambda: sidecar.states()[-1:] == ["connected"] and len(sidecar.states()) == 5, 20)
        assert len((await restarted.control())["calls"]) == 1
    finally:
        await restarted.stop()


async def test_malformed_and_unknown_events_are_counted_and_ignored(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await connected_session(sidecar, engine, samples)
    await engine.act(sendEvents=["not json", '{"type": "error"}', '{"type": "brand.new.event"}', "[]"])

    def counted() -> dict[str, float] | None:
        for stats in (d.get("stats", {}) for d in sidecar.of("voicepilot/diagnostics")):
            if stats.get("protocol_errors", 0) >= 3 and stats.get("unknown_events", 0) >= 1:
                return stats
        return None

    stats = await sidecar.wait_for(counted, timeout=10)
    assert stats["protocol_errors"] == 3
    assert sidecar.states() == ["authenticating", "connecting", "connected"]


async def test_session_stats_arrive_about_once_a_second(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await connected_session(sidecar, engine, samples)

    def with_rtt() -> list[dict[str, Any]]:
        return [d for d in sidecar.of("voicepilot/diagnostics") if "rttMs" in d.get("stats", {})]

    diagnostics = (await sidecar.wait_for(lambda: len(with_rtt()) >= 2 and with_rtt(), timeout=15))[-1]
    stats = diagnostics["stats"]
    for key in ("rttMs", "jitterMs", "packetsLost", "keyExpiresInS", "sessionAgeS", "bitrateKbps", "micStalls"):
        assert key in stats
    assert 0 <= stats["rttMs"] < 200
    assert 0 < stats["keyExpiresInS"] <= 60
    assert stats["receiversTuned"] == 1  # the low-latency buffer and Opus decoded on the loop
    assert stats["framesRidden"] > 0  # a file's frames leave with the service's, not on a timer of their own
    assert diagnostics["aiortcHooks"] == "active"  # on the tested aiortc, the fence lets the hooks in


async def test_tampered_dtls_fingerprint_is_refused(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(tamperFingerprint=True)
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(samples / "go_to_line_12.wav", engine))
    failed = await sidecar.wait_state("failed", timeout=20)
    assert failed["errorKind"] == "media"
    assert "DTLS" in failed["reason"]
    assert sidecar.states() == ["authenticating", "connecting", "failed"]
    assert sidecar.tool_requests == []


# ----------------------------------------------------------------------------- WebSocket


async def test_websocket_transport_round_trip(engine: EngineProcess, samples: Path) -> None:
    lines = await talk(engine, samples / "go_to_line_42.wav", "--transport", "websocket")
    assert user_transcripts(lines) == ["go to line forty two"]
    assert [line["arguments"] for line in lines if line["type"] == "tool_call"] == [{"line": 42}]
    assert any(line["type"] == "transcript" and line["role"] == "assistant" and line["final"] for line in lines)
    (call,) = (await engine.control())["calls"]
    assert call["transport"] == "websocket"
    assert "input_audio_buffer.append" in call["clientEvents"]
    assert call["functionCallOutputs"]


async def test_falls_back_to_websocket_when_webrtc_cannot_connect(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(blackholeIce=True)
    await connected_session(sidecar, engine, samples)
    await sidecar.wait_for(lambda: sidecar.tool_requests, timeout=20)
    assert sidecar.tool_requests[0]["arguments"] == {"line": 12}
    calls = (await engine.control())["calls"]
    assert [(c["transport"], c["closed"]) for c in calls] == [("webrtc", True), ("websocket", False)]
    messages = [d.get("message", "") for d in sidecar.of("voicepilot/diagnostics")]
    assert any("using the WebSocket transport" in m for m in messages)
    assert sidecar.states() == ["authenticating", "connecting", "connected"]


async def test_websocket_barge_in_cancels_the_reply_and_truncates_it_to_what_was_heard(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path, tmp_path: Path
) -> None:
    """Over WebSocket the client plays the reply, so only it knows how much was heard: speaking over
    the reply makes it send ``conversation.item.truncate`` at that point, which the engine carries
    out as the service does (no error); a reply heard to its end is left alone."""

    wav = tmp_path / "over_the_reply.wav"
    # "go to line forty two", then 3 s later (the reply has begun) "go to line twelve", then quiet.
    assert spoken_session(wav, 7, gap_s=3.0) == ["go to line forty two", "go to line twelve"]
    sidecar.tool_handler = failing_then_ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    await sidecar.request("voicepilot/startSession", start_params(wav, engine, transport="websocket"))
    await sidecar.wait_for(lambda: len(sidecar.tool_requests) == 2, timeout=40)
    await sidecar.wait_for(lambda: len(sidecar.final_transcripts("assistant")) == 2, timeout=20)
    (call,) = (await engine.control())["calls"]
    assert call["transport"] == "websocket"
    assert call["transcripts"] == ["go to line forty two", "go to line twelve"]
    turns = call["turns"]
    assert [(turn["transcript"], turn["source"]) for turn in turns] == [
        ("go to line forty two", "grammar"),
        ("go to line twelve", "grammar"),
    ]
    assert all(turn["confidence"] >= 0.5 and 1000 < turn["audioMs"] < 4000 for turn in turns), turns
    # The first reply only, where "go to line twelve" began (3 s after the first command ended,
    # about 2 s into the reply); the second reply was heard to its end.
    (truncation,) = call["truncations"]
    reply_ms = await spoken_ms(sidecar.final_transcripts("assistant")[0])
    assert 1000 < truncation["audioEndMs"] < reply_ms - 2000, (truncation, reply_ms)
    assert call["clientEvents"].count("conversation.item.truncate") == 1
    assert not [d for d in sidecar.of("voicepilot/diagnostics") if d.get("errorKind")]
    assert sidecar.states() == ["authenticating", "connecting", "connected"]


async def test_websocket_dead_peer_is_detected_within_three_seconds(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    sidecar.tool_handler = ok_tool
    await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
    params = start_params(samples / "go_to_line_12.wav", engine, transport="websocket")
    await sidecar.request("voicepilot/startSession", params)
    await sidecar.wait_state("connected")
    engine.kill()
    killed_at = time.monotonic()
    await sidecar.wait_state("reconnecting", timeout=10)
    detected = next(n.at for n in sidecar.notifications if n.params.get("state") == "reconnecting")
    assert detected - killed_at < 3.0


async def test_delayed_audio_either_way_still_works(
    sidecar: SidecarClient, engine: EngineProcess, samples: Path
) -> None:
    await engine.faults(delayInboundMs=300, delayOutboundMs=300)
    await connected_session(sidecar, engine, samples)
    await sidecar.wait_for(lambda: sidecar.final_transcripts("assistant"), timeout=30)
    assert sidecar.final_transcripts("user") == ["go to line twelve"]
    assert sidecar.states() == ["authenticating", "connecting", "connected"]
