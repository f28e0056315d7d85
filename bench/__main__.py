"""``python -m bench [--quick] [--json PATH] [--markdown] [--from-json PATH]``: run every benchmark
(or read a saved run), print one table (Markdown with ``--markdown``, as in docs/benchmarks.md).

``scripts/bench`` sets the machine up first and then runs this.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import first_run, first_word, network, probe, reference_call, sidecar_runs
from bench.report import Values, markdown_table, text_table
from bench.signals import probe_recording
from bench.stats import percentile
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient
from tests.integration.spoken import SAMPLES


@dataclass(frozen=True)
class Plan:
    cold_starts: int
    connects: int
    mints: int
    streaming_s: float
    notifications: int
    handover_s: float
    handover_limit_s: float
    loss_levels: tuple[float, ...]
    loss_s: float
    soak_s: float
    soak_limit_s: float
    concurrent: int
    first_word_tries: int  # for each start time (bench/first_word.py)
    idle_s: float
    # Quick runs measure the loss levels at the same time (each in its own namespace): faster, noisier.
    loss_in_parallel: bool = False


# A 90 s service session limit makes the session manager hand over every 30 s (it starts a minute
# before the end). The soak runs alongside the other benchmarks (as a long editor session runs alongside other
# work). The full run's soak streams for 10 minutes, the length the memory goal names (issue #4), so the whole
# run takes a little more than that.
QUICK = Plan(5, 10, 20, 8, 10, 8, 3, (0, 5, 10), 6, 60, 10, 6, 2, 30, loss_in_parallel=True)
FULL = Plan(5, 30, 100, 30, 30, 30, 4, (0, 5, 10), 30, 600, 90, 20, 10, 120)


# Benchmarks that failed, and results that had no samples: the run then exits 1.
FAILED: list[str] = []


class Results:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}

    def put_flag(self, key: str, value: bool, note: str | None = None) -> None:
        """A yes/no result (``{"value": true}``); false counts as a failed benchmark."""
        if not value:
            FAILED.append(key)
        self.values[key] = {"value": value, "unit": "bool", **({"note": note} if note else {})}
        print(f"  {key:52} {str(value).lower():>10}", file=sys.stderr, flush=True)

    def put(self, key: str, value: float, unit: str, note: str | None = None) -> None:
        if math.isnan(value):
            FAILED.append(f"{key} (no samples)")
            return
        entry: dict[str, Any] = {"value": round(float(value), 2), "unit": unit}
        if note:
            entry["note"] = note
        self.values[key] = entry
        print(f"  {key:52} {entry['value']:>10g} {unit}", file=sys.stderr, flush=True)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


async def timed(name: str, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run one benchmark; a failure is reported at once and the others still run."""
    print(f"[bench] {name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        await step()
    except Exception:
        FAILED.append(name)
        print(f"[bench] {name} FAILED:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        return
    print(f"[bench] {name}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def engine_and_sidecar(workdir: Path, *engine_args: str) -> AsyncIterator[tuple[EngineProcess, SidecarClient]]:
    """An engine and a sidecar that holds its key, both stopped on the way out."""
    engine = await EngineProcess.start(workdir, *engine_args)
    try:
        sidecar = await SidecarClient.start(workdir)
        try:
            await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
            yield engine, sidecar
        finally:
            await sidecar.stop()
    finally:
        await engine.stop()


async def run(plan: Plan, workdir: Path, results: Results) -> None:
    put = results.put

    async def cold_start() -> None:
        times = await sidecar_runs.cold_starts(workdir, plan.cold_starts)
        note = f"p50 of {len(times)}, warm: spawn to initialize answer (goal 500 or less)"
        put("sidecar_cold_start_ms", percentile(times, 50), "ms", note)

    async def setup() -> None:
        seconds = await first_run.first_run_setup(workdir)
        put("first_run_setup_s", seconds, "s", "venv, hash-locked requirements and wheel with pip, as the extension")

    async def sidecar_and_engine() -> None:
        async with engine_and_sidecar(workdir) as (engine, sidecar):
            wav = SAMPLES / "go_to_line_12.wav"
            await sidecar_runs.connect_times(sidecar, engine, wav, 2, "webrtc")  # warm-up, not counted
            webrtc = await sidecar_runs.connect_times(sidecar, engine, wav, plan.connects, "webrtc")
            put("connect_ms_p50", percentile(webrtc, 50), "ms", "startSession to connected, WebRTC, key mint included")
            put("connect_ms_p95", percentile(webrtc, 95), "ms")
            ws = await sidecar_runs.connect_times(sidecar, engine, wav, plan.connects, "websocket")
            put("connect_ms_p50_websocket", percentile(ws, 50), "ms")
            put("connect_ratio_webrtc_to_websocket_p50", ratio(percentile(webrtc, 50), percentile(ws, 50)), "x")
            mints = await sidecar_runs.mint_times(engine, plan.mints)
            put("key_mint_ms_p50", percentile(mints, 50), "ms", f"p50 of {len(mints)}")
            put("key_mint_ms_p95", percentile(mints, 95), "ms")
            streaming = await sidecar_runs.streaming(sidecar, engine, workdir, plan.streaming_s, plan.notifications)
            put(
                "cpu_pct_one_core_full_duplex",
                streaming.cpu_pct,
                "% of one core",
                f"sidecar process over {streaming.streamed_s:.0f} s of WebRTC audio both ways with turns",
            )
            put("cpu_s_per_min_full_duplex", streaming.cpu_pct * 0.6, "CPU s per minute")
            put(
                "transcript_latency_ms_p50",
                percentile(streaming.transcript_ms, 50),
                "ms",
                "last audible frame of an utterance at the engine to the editor's final transcript "
                "(includes the 500 ms of silence server VAD waits for)",
            )
            put("transcripts_ok", streaming.transcribed, f"of {streaming.expected}")
            put("notification_latency_ms_p50", percentile(streaming.notification_ms, 50), "ms")
            put("notification_latency_ms_p95", percentile(streaming.notification_ms, 95), "ms")
            # The goal's reference, measured now: the machine's speed varies too much from hour to hour
            # for a figure from another day to compare with. Last, so a reference that fails loses no row.
            reference = await reference_call.measure(plan.streaming_s)
            put(
                "cpu_pct_one_core_aiortc_defaults",
                reference.cpu_pct,
                "% of one core",
                f"the reference: aiortc's defaults, a tone both ways, over {reference.seconds:.0f} s "
                f"({reference.frames_sent} frames sent, {reference.frames_received} received)",
            )
            put("cpu_ratio_full_duplex_to_aiortc_defaults", ratio(streaming.cpu_pct, reference.cpu_pct), "x")

    async def handover() -> None:
        async with engine_and_sidecar(workdir, "--session-limit", str(plan.handover_limit_s)) as (engine, sidecar):
            run = await sidecar_runs.handover(sidecar, engine, workdir, plan.handover_s)
        put("handover_gap_ms_max", max(run.engine_gaps_ms, default=float("nan")), "ms", "seen by the engine's receiver")
        put("handover_gap_client_ms_max", max(run.client_gaps_ms, default=float("nan")), "ms", "sidecar router")
        put("handovers", run.handovers, "count", f"every utterance transcribed exactly once: {run.transcripts_ok}")
        put("handover_replies", run.replies, f"of {run.expected}", "spoken replies that reached the editor")

    async def loss() -> None:
        def measure(level: float) -> Coroutine[Any, Any, dict[str, Any]]:
            return asyncio.to_thread(probe.latency_in_netns, level, plan.loss_s)

        if plan.loss_in_parallel:
            measured = await asyncio.gather(*(measure(level) for level in plan.loss_levels))
        else:
            measured = [await measure(level) for level in plan.loss_levels]
        for level, found in zip(plan.loss_levels, measured, strict=True):
            tag = f"loss{level:g}"
            for transport in ("webrtc", "websocket"):
                got = found[transport]
                if got["failure"]:
                    print(f"[bench] {transport} at {level}% loss: {got['failure']}", file=sys.stderr)
                for way in ("uplink", "downlink"):
                    samples = got[f"{way}Ms"]
                    put(f"oneway_{way}_ms_p50_{transport}_{tag}", percentile(samples, 50), "ms", f"n={len(samples)}")
                    put(f"oneway_{way}_ms_p95_{transport}_{tag}", percentile(samples, 95), "ms")
                put(f"transcripts_ok_{transport}_{tag}", got["transcribed"], f"of {found['expected']}")
                put(f"reconnects_{transport}_{tag}", got["reconnects"], "count")
            for way in ("uplink", "downlink"):
                for pct in (50, 95):
                    web = results.values[f"oneway_{way}_ms_p{pct}_webrtc_{tag}"]["value"]
                    sock = results.values[f"oneway_{way}_ms_p{pct}_websocket_{tag}"]["value"]
                    put(f"oneway_{way}_p{pct}_ratio_websocket_to_webrtc_{tag}", ratio(sock, web), "x")
            if level == 0:
                put(
                    "oneway_uplink_ms_p50", results.values["oneway_uplink_ms_p50_webrtc_loss0"]["value"], "ms", "WebRTC"
                )
                put(
                    "oneway_downlink_ms_p50",
                    results.values["oneway_downlink_ms_p50_webrtc_loss0"]["value"],
                    "ms",
                    "WebRTC",
                )

    async def soak() -> None:
        async with engine_and_sidecar(workdir, "--session-limit", str(plan.soak_limit_s)) as (engine, sidecar):
            report = await sidecar_runs.soak(sidecar, engine, workdir, plan.soak_s)
        note = f"{report.seconds:g} s, {report.renewals} key renewals, {report.handovers} handovers"
        put("rss_growth_mb_soak", report.rss_growth_mb, "MB", note)
        put("rss_max_mb_soak", max(report.rss_mb), "MB")
        put("soak_key_renewals", report.renewals, "count")
        put("soak_handovers", report.handovers, "count")
        put("soak_leaks", len(report.leaks()), "count", json.dumps(report.leaks()) if report.leaks() else None)

    async def turn_tcp() -> None:
        ok, took_ms = await network.turn_tcp_connect(workdir / "turn")
        results.put_flag("turn_tcp_connect_ok", ok, f"diagnostics probe through coturn over TCP in {took_ms:.0f} ms")

    async def concurrency() -> None:
        engine = await EngineProcess.start(workdir)
        try:
            wav = workdir / "concurrent.wav"
            (expected,) = probe_recording(wav, 1, clicks=0, gap_s=probe.RAMP_S * plan.concurrent + 2)
            found = await probe.concurrent(engine, plan.concurrent, wav, expected)
        finally:
            await engine.stop()
        for failure in found["failures"]:
            print(f"[bench] concurrent session failed: {failure}", file=sys.stderr)
        for heard in found["misheard"]:
            print(f"[bench] concurrent session transcribed {heard!r}, expected [{expected!r}]", file=sys.stderr)
        put("concurrent_sessions_ok", found["ok"], f"of {found['sessions']}", "connected and transcribed correctly")
        put("concurrent_sessions_peak", found["peak"], "sessions connected at once")
        put("concurrent_engine_cpu_pct_per_session", found["engineCpuPctPerSession"], "% of one core")
        put("concurrent_client_cpu_pct_per_session", found["clientCpuPctPerSession"], "% of one core")

    async def first_word_and_idle_devices() -> None:
        report = await first_word.measure(workdir, plan.first_word_tries, plan.idle_s)
        put(
            "first_word_ok_ratio",
            report.ok_ratio,
            "ratio",
            "a command said during connecting, 0, 300 and 1000 ms after connected, on a loaded machine: "
            + ", ".join(f"{start} {ok}" for start, ok in report.by_start().items()),
        )
        put("false_device_alarms", report.false_alarms, "count", f"idle session of {plan.idle_s:g} s, loaded machine")

    await timed("sidecar cold start", cold_start)  # alone: it is mostly imports, which contention slows
    await timed("first-run setup", setup)  # alone too: it is mostly unpacking and compiling
    soaking = asyncio.ensure_future(timed(f"soak ({plan.soak_s:g} s, alongside the rest)", soak))
    try:
        await timed("connect, key mint, streaming, transcripts, notifications", sidecar_and_engine)
        await timed("handover", handover)
        await timed("one-way latency at packet loss", loss)
        await timed("concurrent sessions", concurrency)
        await timed("TURN-TCP connect", turn_tcp)
    finally:
        await soaking
    # Last and alone: it loads the machine on purpose, which would skew every other figure.
    await timed("first word and idle devices on a loaded machine", first_word_and_idle_devices)


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about 4 minutes)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--from-json", type=Path, metavar="PATH", help="print a saved run's table (no run)")
    args = parser.parse_args()
    table = markdown_table if args.markdown else text_table
    if args.from_json:
        saved: Values = json.loads(args.from_json.read_text())
        print(table(saved))
        return 0
    plan = QUICK if args.quick else FULL
    results = Results()
    # Other work on the machine slows everything here; the number says how busy it was.
    results.put("machine_load_1min_at_start", os.getloadavg()[0], "runnable tasks (2 cores)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vp-bench-") as workdir:
        asyncio.run(run(plan, Path(workdir), results))
    took = time.monotonic() - started
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(
        f"\nVoicePilot bench ({'quick' if args.quick else 'full'}), {date}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {took:.0f} s\n"
    )
    print(table(results.values))
    if args.json:
        payload = dict(results.values)
        payload["bench_seconds"] = {"value": round(took, 1), "unit": "s", "note": f"{date}, quick={args.quick}"}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    if FAILED:
        print(f"\nFailed: {', '.join(FAILED)} (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
