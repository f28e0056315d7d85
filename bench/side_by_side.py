"""``python -m bench.side_by_side [--rounds N] [--seconds S] CHECKOUT...``: the sidecar's CPU, interleaved.

A full bench run cannot tell half a point of a core apart, since the machine's speed drifts from
minute to minute. This runs the streaming benchmark (:func:`bench.sidecar_runs.streaming`: a spoken
file through the sidecar over WebRTC to the local engine) for each checkout's ``server/`` in turn,
round after round, with this checkout's harness, and prints each run and a summary. Each measurement
is a process of its own with ``PYTHONPATH`` set to that checkout's server, so the sidecar and the
engine it spawns run that code. Used for the before/after tables in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import sidecar_runs
from tests.integration.engine_process import EngineProcess
from tests.integration.rpc import SidecarClient

ROOT = Path(__file__).resolve().parents[1]


async def measure(seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="vp-side-by-side-") as directory:
        workdir = Path(directory)
        engine = await EngineProcess.start(workdir)
        try:
            sidecar = await SidecarClient.start(workdir)
            try:
                await sidecar.request("voicepilot/setCredentials", {"apiKey": engine.api_key})
                run = await sidecar_runs.streaming(sidecar, engine, workdir, seconds, 5)
            finally:
                await sidecar.stop()
        finally:
            await engine.stop()
    return {"cpuPct": run.cpu_pct, "transcribed": run.transcribed, "expected": run.expected}


def run_in(checkout: Path, seconds: float) -> dict[str, float] | None:
    env = dict(os.environ, PYTHONPATH=str(checkout / "server"))
    command = [sys.executable, "-m", "bench.side_by_side", "--measure", str(seconds)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        print(f"[side-by-side] {checkout} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, float] = json.loads(lines[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.side_by_side", description=__doc__)
    parser.add_argument("checkouts", nargs="*", type=Path, help="repository checkouts to compare")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="spoken audio streamed per run")
    parser.add_argument("--measure", type=float, metavar="SECONDS", help=argparse.SUPPRESS)  # one run, here
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(asyncio.run(measure(args.measure))))
        return 0
    cpu: dict[Path, list[float]] = {checkout: [] for checkout in args.checkouts}
    for round_number in range(1, args.rounds + 1):
        for checkout in args.checkouts:
            load = os.getloadavg()[0]
            result = run_in(checkout.resolve(), args.seconds)
            if result is not None:
                cpu[checkout].append(result["cpuPct"])
                print(f"round {round_number}  {checkout}  {result['cpuPct']:.2f} % of a core  (load {load:.1f})")
    for checkout, values in cpu.items():
        if values:
            spread = f"{min(values):.2f}-{max(values):.2f}, mean {statistics.mean(values):.2f}"
            print(f"{checkout}: {spread} % of a core over {len(values)} runs")
    return 0 if all(cpu.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
