"""Benchmarks that drive the real sidecar process over JSON-RPC, as the editor does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.signals import spoken_recording
from bench.stats import ProcSample, sample
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import Notification, SidecarClient
from tests.integration.spoken import gaps_at_switches, spoken_session
from voicepilot.contract.models import ConnectionSettings
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.realtime.endpoints import resolve_endpoint
from voicepilot.realtime.keys import ApiKeyCredential, mint_ephemeral_key
from voicepilot.realtime.session_config import SessionConfig

TOOLS = [tool.wire() for tool in EDITOR_TOOLS]


def session_params(wav: Path, engine: EngineProcess, **connection: Any) -> dict[str, Any]:
    return {
        "profile": "local",
        "input": {"kind": "file", "path": str(wav)},
        "tools": TOOLS,
        "connection": {"endpoint": engine.url, **connection},
    }


async def ok_tool(params: dict[str, Any]) -> dict[str, Any]:
    return {"output": json.dumps({"ok": True})}


def state_of(sidecar: SidecarClient, session_id: str, *states: str) -> Notification | None:
    return next(
        (
            n
            for n in sidecar.notifications
            if n.method == "voicepilot/connectionState"
            and n.params.get("sessionId") == session_id
            and n.params["state"] in states
        ),
        None,
    )


async def wait_state(sidecar: SidecarClient, session_id: str, *states: str, timeout: float = 30) -> Notification:
    found: Notification = await sidecar.wait_for(lambda: state_of(sidecar, session_id, *states), timeout)
    return found


async def end(sidecar: SidecarClient, session_id: str) -> None:
    await sidecar.request("voicepilot/endSession", {"sessionId": session_id})
    await wait_state(sidecar, session_id, "closed")


# ----------------------------------------------------------------------------- start-up


async def cold_starts(workdir: Path, runs: int) -> list[float]:
    """Spawn the sidecar and wait for its ``initialize`` answer, ``runs`` times (ms)."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        client = await SidecarClient.start(workdir)
        times.append(1000 * (time.monotonic() - started))
        await client.stop()
    return times


async def connect_times(
    sidecar: SidecarClient, engine: EngineProcess, wav: Path, runs: int, transport: str
) -> list[float]:
    """``startSession`` sent → ``connected`` notification received (ms), each session then ended."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        result = await sidecar.request("voicepilot/startSession", session_params(wav, engine, transport=transport))
        session_id = result["sessionId"]
        connected = await wait_state(sidecar, session_id, "connected", "failed")
        if connected.params["state"] != "connected":
            raise RuntimeError(f"session failed to connect: {connected.params}")
        times.append(1000 * (connected.at - started))
        await end(sidecar, session_id)
    return times


async def mint_times(engine: EngineProcess, runs: int) -> list[float]:
    """The client's own mint call (the one the key service makes), timed from this process (ms)."""
    endpoint = resolve_endpoint("local", ConnectionSettings(endpoint=engine.url))
    credential = ApiKeyCredential(engine.api_key)
    times = []
    async with aiohttp.ClientSession() as http:
        for _ in range(runs):
            started = time.monotonic()
            await mint_ephemeral_key(http, endpoint, credential, SessionConfig())
            times.append(1000 * (time.monotonic() - started))
    return times


# ----------------------------------------------------------------------------- one streaming session


@dataclass
class StreamingRun:
    cpu_pct: float
    streamed_s: float
    transcript_ms: list[float]
    notification_ms: list[float]
    transcribed: int
    expected: int


def utterance_ends(arrivals: list[float], gap_s: float = 0.8) -> list[float]:
    """The last audible frame of each utterance the engine heard (utterances end in silence)."""
    ordered = sorted(arrivals)
    return [t for i, t in enumerate(ordered) if i == len(ordered) - 1 or ordered[i + 1] - t > gap_s]


async def streaming(
    sidecar: SidecarClient, engine: EngineProcess, workdir: Path, seconds: float, notifications: int
) -> StreamingRun:
    """One WebRTC session through the sidecar: its CPU while streaming both ways, the latency from
    each utterance's end to the editor's final transcript, then the latency of notifications."""
    wav = workdir / f"streaming-{seconds:g}.wav"
    expected = spoken_recording(wav, seconds, gap_s=1.5)
    sidecar.tool_handler = ok_tool
    result = await sidecar.request("voicepilot/startSession", session_params(wav, engine, transport="webrtc"))
    session_id = result["sessionId"]
    await wait_state(sidecar, session_id, "connected")
    pid = sidecar.process.pid
    before, started = sample(pid), time.monotonic()

    def finals() -> list[Notification]:
        return [
            n
            for n in sidecar.notifications
            if n.method == "voicepilot/transcript" and n.params["role"] == "user" and n.params["final"]
        ]

    await sidecar.wait_for(lambda: len(finals()) >= len(expected), timeout=seconds * 3 + 30)
    after, streamed = sample(pid), time.monotonic() - started
    calls = (await engine.control())["calls"]
    ends = utterance_ends([t for call in calls for t in call["soundArrivals"]])
    transcripts = finals()
    transcript_ms = [1000 * (n.at - end_at) for n, end_at in zip(transcripts, ends, strict=False)]
    notification_ms = await notification_latencies(sidecar, engine, notifications)
    await end(sidecar, session_id)
    return StreamingRun(
        cpu_pct=100 * (after.cpu_s - before.cpu_s) / streamed,
        streamed_s=streamed,
        transcript_ms=transcript_ms,
        notification_ms=notification_ms,
        transcribed=sum(1 for n, text in zip(transcripts, expected, strict=False) if n.params["text"] == text),
        expected=len(expected),
    )


async def notification_latencies(sidecar: SidecarClient, engine: EngineProcess, count: int) -> list[float]:
    """A service event leaves the engine (control API), the editor gets its notification (ms).

    Each sample includes the control API's own loopback HTTP request (about a millisecond)."""
    times = []
    for i in range(count):
        marker = f"notification marker {i} {time.monotonic_ns()}"
        event = {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": f"item_bench_{i}",
            "content_index": 0,
            "transcript": marker,
        }
        started = time.monotonic()
        await engine.act(sendEvents=[json.dumps(event)])
        arrived: Notification = await sidecar.wait_for(
            lambda m=marker: next(  # type: ignore[misc]
                (n for n in sidecar.notifications if n.method == "voicepilot/transcript" and n.params["text"] == m),
                None,
            ),
            timeout=10,
        )
        times.append(1000 * (arrived.at - started))
    return times


# ----------------------------------------------------------------------------- handover


@dataclass
class HandoverRun:
    handovers: int
    client_gaps_ms: list[float]
    engine_gaps_ms: list[float]
    transcripts_ok: bool
    replies: int
    expected: int


async def handover(sidecar: SidecarClient, engine: EngineProcess, workdir: Path, seconds: float) -> HandoverRun:
    """A spoken session through the sidecar across several session-limit handovers (the engine must
    be started with ``--session-limit``): the gap the sidecar's router measured at each switch (its
    ``handover`` diagnostics), and the gap the engine's receiver saw (the control API)."""
    wav = workdir / f"handover-{seconds:g}.wav"
    expected = spoken_session(wav, seconds)
    sidecar.tool_handler = ok_tool
    first = len(sidecar.notifications)
    result = await sidecar.request("voicepilot/startSession", session_params(wav, engine))

    def mine(method: str) -> list[dict[str, Any]]:
        return [n.params for n in sidecar.notifications[first:] if n.method == method]

    def finals(role: str) -> int:
        return sum(1 for t in mine("voicepilot/transcript") if t["final"] and t["role"] == role)

    await sidecar.wait_for(lambda: finals("user") >= len(expected), timeout=seconds * 3 + 30)
    with contextlib.suppress(TimeoutError):  # a missing reply is reported (replies), not waited for
        await sidecar.wait_for(lambda: finals("assistant") >= len(expected), timeout=15)
    await end(sidecar, result["sessionId"])
    calls = (await engine.control())["calls"]
    switches = [d for d in mine("voicepilot/diagnostics") if d.get("message") == "handover"]
    user = [t["text"] for t in mine("voicepilot/transcript") if t["final"] and t["role"] == "user"]
    return HandoverRun(
        handovers=len(switches),
        client_gaps_ms=[float(d["stats"]["gapMs"]) for d in switches],
        engine_gaps_ms=[1000 * g for g in gaps_at_switches(calls)],
        transcripts_ok=user == expected,
        replies=finals("assistant"),
        expected=len(expected),
    )


# ----------------------------------------------------------------------------- soak


SOAK_SPEECH_MAX_S = 120.0
_COUNTS = re.compile(r"(\w+)=(-?\d+)")


async def runtime_counts(sidecar: SidecarClient) -> dict[str, int]:
    """The sidecar's own view of itself (runDiagnostics' ``runtime`` check)."""
    result = await sidecar.request("voicepilot/runDiagnostics", {})
    (check,) = [c for c in result["checks"] if c["name"] == "runtime"]
    return {name: int(value) for name, value in _COUNTS.findall(check["detail"])}


@dataclass
class SoakReport:
    seconds: float
    renewals: int
    handovers: int
    rss_mb: list[float]
    before: ProcSample
    after: ProcSample
    runtime_before: dict[str, int]
    runtime_after: dict[str, int]
    transcribed: int
    expected: int
    engine_calls: int
    engine_calls_open: int
    states: list[str] = field(default_factory=list)

    @property
    def rss_growth_mb(self) -> float:
        """From the settled start (the lowest sample of the first quarter: the first samples still hold
        start-up garbage, such as decoding the input file) to the end."""
        settled = min(self.rss_mb[: max(2, len(self.rss_mb) // 4)])
        return self.rss_mb[-1] - settled

    def leaks(self) -> dict[str, tuple[int, int]]:
        """Every count that is higher after the session than before it: (before, after)."""
        pools = ("executorThreads",)  # grows on demand up to a cap and stays: not a leak
        found = {
            name: (self.runtime_before[name], self.runtime_after[name])
            for name in self.runtime_before
            if name not in pools and self.runtime_after.get(name, 0) > self.runtime_before[name]
        }
        for name in ("fds", "sockets"):
            was, now = getattr(self.before, name), getattr(self.after, name)
            if now > was:
                found[f"proc {name}"] = (was, now)
        # /proc counts every thread, the executor's too.
        was = self.before.threads - self.runtime_before["executorThreads"]
        now = self.after.threads - self.runtime_after["executorThreads"]
        if now > was:
            found["proc threads"] = (was, now)
        return found


async def settled(sidecar: SidecarClient, baseline: dict[str, int], timeout_s: float = 10.0) -> dict[str, int]:
    """Runtime counts once they are back to ``baseline`` (closing peers takes a moment), or as
    they are when ``timeout_s`` runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = await runtime_counts(sidecar)
        done = all(counts[k] <= v for k, v in baseline.items() if k != "executorThreads")
        if done or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.25)  # bounded polling for convergence, not a stand-in for an event


async def calls_closed(engine: EngineProcess, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """The engine's calls once it has seen every one of them close (or as they are at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        calls: list[dict[str, Any]] = (await engine.control())["calls"]
        if all(call["closed"] for call in calls) or time.monotonic() > deadline:
            return calls
        await asyncio.sleep(0.25)  # bounded polling for convergence, not a stand-in for an event


async def soak(
    sidecar: SidecarClient, engine: EngineProcess, workdir: Path, seconds: float, sample_every_s: float = 5.0
) -> SoakReport:
    """A session of ``seconds`` with key renewal every 2 s and the engine's session limit forcing
    handovers; the sidecar's RSS sampled along the way, its resources counted before and after.

    A short warm-up session first, so lazily created pools (threads, codecs) are in the baseline."""
    wav = workdir / f"soak-{seconds:g}.wav"
    # Speech for at most two minutes (then the session streams silence): a longer recording is decoded
    # into memory up front, and the allocator gives that back at its own pace, which hides the trend.
    expected = spoken_recording(wav, min(SOAK_SPEECH_MAX_S, max(1.0, seconds - 8)))  # replies in before the end
    warm = workdir / "warm-up.wav"
    spoken_recording(warm, 1)
    sidecar.tool_handler = ok_tool
    result = await sidecar.request("voicepilot/startSession", session_params(warm, engine, renewIntervalS=2))
    await wait_state(sidecar, result["sessionId"], "connected")
    await end(sidecar, result["sessionId"])
    runtime_before = await runtime_counts(sidecar)
    before = sample(sidecar.process.pid)
    first = len(sidecar.notifications)

    result = await sidecar.request("voicepilot/startSession", session_params(wav, engine, renewIntervalS=2))
    session_id = result["sessionId"]
    await wait_state(sidecar, session_id, "connected")
    rss = [sample(sidecar.process.pid).rss_mb]
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 0:
        await asyncio.sleep(min(sample_every_s, left))  # the soak's length is wall time by definition
        rss.append(sample(sidecar.process.pid).rss_mb)
    messages = [n.params.get("message") for n in sidecar.notifications[first:] if n.method == "voicepilot/diagnostics"]
    transcripts = [
        n.params["text"]
        for n in sidecar.notifications[first:]
        if n.method == "voicepilot/transcript" and n.params["role"] == "user" and n.params["final"]
    ]
    states = [
        n.params["state"]
        for n in sidecar.notifications[first:]
        if n.method == "voicepilot/connectionState" and n.params.get("sessionId") == session_id
    ]
    await end(sidecar, session_id)
    runtime_after = await settled(sidecar, runtime_before)
    after = sample(sidecar.process.pid)
    calls = await calls_closed(engine)
    return SoakReport(
        seconds=seconds,
        renewals=messages.count("key_renewed"),
        handovers=messages.count("handover"),
        rss_mb=rss,
        before=before,
        after=after,
        runtime_before=runtime_before,
        runtime_after=runtime_after,
        transcribed=sum(1 for text in transcripts if text in expected),
        expected=len(expected),
        engine_calls=len(calls),
        engine_calls_open=sum(1 for c in calls if not c["closed"]),
        states=[*states, "closed"],
    )
