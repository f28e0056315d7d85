"""Sessions run in this process with the sidecar's own session code, instrumented at both ends.

Uplink: from the microphone router handing a frame with sound to the outgoing track, to the engine's
receiver seeing it (``soundArrivals``). Downlink: from the engine's sender (``soundDepartures``) to
the session delivering the decoded frame to playback. Both processes read CLOCK_MONOTONIC.
``python -m bench.probe latency --loss PCT`` runs a WebRTC and a WebSocket session side by side in a
private network namespace where nftables drops PCT % of the packets on loopback (needs root).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av

from bench.signals import probe_recording
from bench.stats import one_way_latencies, sample
from tests.integration.engine_process import EngineProcess
from voicepilot.audio.frames import Pcm, frame_to_mono, rms_dbfs
from voicepilot.audio.tracks import FrameSource
from voicepilot.contract import models as contract
from voicepilot.contract.tools import EDITOR_TOOLS
from voicepilot.conversation.endpoint import resolve
from voicepilot.conversation.engine_process import LocalEngineProcess
from voicepilot.conversation.launch import close_input, open_input, session_config_for, session_options_for
from voicepilot.engine.conversation import DEPARTURE_DBFS, SOUND_FLOOR_DBFS
from voicepilot.realtime.observer import LifecycleEvent, Notice, StateChange, ToolCall, Transcript
from voicepilot.realtime.session import RealtimeSession
from voicepilot.tasks import wait_first

TOOL_OUTPUT = json.dumps({"ok": True})
RAMP_S = 0.5  # between the starts of concurrent sessions (each lasts longer than all the starts)


@dataclass
class ProbeObserver:
    states: list[str] = field(default_factory=list)
    user_transcripts: list[str] = field(default_factory=list)
    lifecycle: list[LifecycleEvent] = field(default_factory=list)

    def on_state(self, change: StateChange) -> None:
        self.states.append(change.state)

    def on_transcript(self, transcript: Transcript) -> None:
        if transcript.final and transcript.role == "user":
            self.user_transcripts.append(transcript.text)

    def on_notice(self, notice: Notice) -> None:
        pass

    def on_lifecycle(self, event: LifecycleEvent) -> None:
        self.lifecycle.append(event)

    async def run_tool(self, call: ToolCall) -> str:
        return TOOL_OUTPUT


class MarkedSource:
    """The session's file source, noting when each frame with sound is handed to a track."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.finished: asyncio.Event = inner.finished  # type: ignore[attr-defined]
        self.departures: list[float] = []

    def next_frame(self) -> Pcm | None:
        frame = self.inner.next_frame()
        if frame is not None and rms_dbfs(frame) > DEPARTURE_DBFS:
            self.departures.append(time.monotonic())
        return frame


@dataclass
class ProbeRun:
    transport: str
    observer: ProbeObserver
    source: MarkedSource
    arrivals: list[float] = field(default_factory=list)
    failure: str | None = None
    connected_at: float | None = None
    ended_at: float | None = None

    def latencies(self, calls: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
        """(uplink, downlink) one-way latencies in ms against this run's engine calls."""
        mine = [c for c in calls if c["transport"] == self.transport]
        engine_arrivals = [t for c in mine for t in c["soundArrivals"]]
        engine_departures = [t for c in mine for t in c["soundDepartures"]]
        up = one_way_latencies(self.source.departures, engine_arrivals)
        down = one_way_latencies(engine_departures, self.arrivals)
        return [1000 * x for x in up], [1000 * x for x in down]


async def run_session(engine: EngineProcess, wav: Path, transport: str, name: str = "probe") -> ProbeRun:
    """One session over ``transport`` from start until the recording has played and been answered."""
    params = contract.StartSessionParams(
        profile="local",
        input=contract.FileInput(kind="file", path=str(wav)),
        tools=list(EDITOR_TOOLS),
        connection=contract.ConnectionSettings(endpoint=engine.url, transport=transport),  # type: ignore[arg-type]
    )
    observer = ProbeObserver()
    source = await open_input(params)
    assert source is not None
    marked = MarkedSource(source)
    run = ProbeRun(transport, observer, marked)

    def heard(frame: av.AudioFrame) -> None:
        if rms_dbfs(frame_to_mono(frame)) > SOUND_FLOOR_DBFS:
            run.arrivals.append(time.monotonic())

    endpoint, credential = await resolve(params, engine.api_key, LocalEngineProcess())
    session = RealtimeSession(
        name,
        endpoint,
        credential,
        session_config_for(params),
        observer,
        marked,
        session_options_for(params),
        on_remote_frame=heard,
    )
    try:
        await session.start()
        run.connected_at = time.monotonic()
        await wait_first(marked.finished, session.ended)
        await wait_first(session.quiet, session.ended)
        if session.failure is not None:
            run.failure = session.failure.describe()
    except Exception as exc:  # a failed session is reported, not raised: the other one goes on
        run.failure = f"{exc.__class__.__name__}: {exc}"
    finally:
        run.ended_at = time.monotonic()
        await session.close()
        await close_input(source)
    return run


def peak_overlap(runs: list[ProbeRun]) -> int:
    """The most sessions that were connected at the same moment."""
    edges = sorted(
        (t, step)
        for run in runs
        if run.connected_at is not None and run.ended_at is not None
        for t, step in ((run.connected_at, 1), (run.ended_at, -1))
    )
    live = peak = 0
    for _, step in edges:
        live += step
        peak = max(peak, live)
    return peak


# ----------------------------------------------------------------------------- latency under loss


async def latency(loss_pct: float, seconds: float, workdir: Path) -> dict[str, Any]:
    wav = workdir / "probe.wav"
    expected = probe_recording(wav, seconds)
    engine = await EngineProcess.start(workdir)
    try:
        runs = await asyncio.gather(*(run_session(engine, wav, t, f"probe-{t}") for t in ("webrtc", "websocket")))
        calls = (await engine.control())["calls"]
    finally:
        await engine.stop()
    result: dict[str, Any] = {"lossPct": loss_pct, "expected": len(expected)}
    for run in runs:
        up, down = run.latencies(calls)
        result[run.transport] = {
            "uplinkMs": up,
            "downlinkMs": down,
            "transcribed": sum(1 for t in run.observer.user_transcripts if t in expected),
            "reconnects": sum(1 for e in run.observer.lifecycle if e.kind == "reconnected"),
            "failure": run.failure,
        }
    return result


def _netns_setup(loss_pct: float) -> None:
    """Inside a fresh network namespace: loopback up, and nftables dropping loss_pct % of packets."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    if loss_pct > 0:
        permille = round(loss_pct * 10)
        rules = (
            "table inet vpbench {\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    numgen random mod 1000 < {permille} drop\n"
            "  }\n"
            "}\n"
        )
        subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)


def latency_in_netns(loss_pct: float, seconds: float) -> dict[str, Any]:
    """Run :func:`latency` in a child process in its own network namespace (``unshare -n``)."""
    for tool in ("unshare", "ip", "nft"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: scripts/bench installs it (apt-get install nftables iproute2)")
    command = [
        "unshare",
        "-n",
        sys.executable,
        "-m",
        "bench.probe",
        "latency",
        "--inside-netns",
        "--loss",
        str(loss_pct),
        "--seconds",
        str(seconds),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 4 + 120)
    if done.returncode != 0:
        raise RuntimeError(f"latency probe at {loss_pct}% loss failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ----------------------------------------------------------------------------- concurrency


async def concurrent(engine: EngineProcess, sessions: int, wav: Path, expected: str) -> dict[str, Any]:
    """``sessions`` sessions at once from this process against one engine; CPU used by each side."""
    engine_before, own_before, started = sample(engine.process.pid), sample(os.getpid()), time.monotonic()

    async def user(i: int) -> ProbeRun:
        await asyncio.sleep(i * RAMP_S)  # people do not all press Start in the same millisecond
        return await run_session(engine, wav, "webrtc", f"load-{i}")

    runs = await asyncio.gather(*(user(i) for i in range(sessions)))
    wall = time.monotonic() - started
    engine_after, own_after = sample(engine.process.pid), sample(os.getpid())
    ok = sum(1 for run in runs if run.failure is None and run.observer.user_transcripts == [expected])
    return {
        "sessions": sessions,
        "ok": ok,
        "peak": peak_overlap(runs),
        "wallS": wall,
        "engineCpuPctPerSession": 100 * (engine_after.cpu_s - engine_before.cpu_s) / wall / sessions,
        "clientCpuPctPerSession": 100 * (own_after.cpu_s - own_before.cpu_s) / wall / sessions,
        "failures": [run.failure for run in runs if run.failure],
        # Sessions that connected but were not transcribed as expected: what the editor got instead.
        "misheard": [
            run.observer.user_transcripts
            for run in runs
            if run.failure is None and run.observer.user_transcripts != [expected]
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="WebRTC and WebSocket one-way latency at a packet loss rate")
    lat.add_argument("--loss", type=float, default=0.0, help="percent of packets dropped on loopback")
    lat.add_argument("--seconds", type=float, default=20.0)
    lat.add_argument("--inside-netns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.inside_netns:
        print(json.dumps(latency_in_netns(args.loss, args.seconds)))
        return 0
    _netns_setup(args.loss)
    with tempfile.TemporaryDirectory(prefix="vp-probe-") as workdir:
        print(json.dumps(asyncio.run(latency(args.loss, args.seconds, Path(workdir)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
