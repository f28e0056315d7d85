"""``first_run_setup_s``: the voice engine's first-run setup, timed, as the extension does it with pip.

The steps are those of ``installSteps`` in extension/src/environment/pythonEnvironment.ts when uv is
not on PATH: a venv from the base Python, the hash-locked requirements for its version, then the
voicepilot wheel. Packages come from the index the user's pip configuration names, as in the editor.
The wheel is built first by scripts/build-wheel and not counted (the .vsix carries it).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIP = ("-I", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off")


async def _run(log: Path, *command: str | Path) -> None:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(*command, stdout=out, stderr=out)
        if await process.wait() != 0:
            raise RuntimeError(f"{' '.join(map(str, command))} exited with {process.returncode}; see {log}")


async def first_run_setup(workdir: Path) -> float:
    """Seconds from nothing to an environment that imports voicepilot."""
    log = workdir / "first-run.log"
    await _run(log, ROOT / "scripts" / "build-wheel")
    (wheel,) = (ROOT / "dist" / "python").glob("voicepilot-*.whl")
    base = Path(sys.base_prefix) / "bin" / f"python3.{sys.version_info.minor}"
    requirements = ROOT / "requirements" / f"py3.{sys.version_info.minor}.txt"
    folder = workdir / "voice-engine"
    python = folder / "bin" / "python"
    started = time.monotonic()
    await _run(log, base, "-I", "-m", "venv", folder)
    await _run(log, python, *PIP, "--require-hashes", "--only-binary", ":all:", "-r", requirements)
    await _run(log, python, *PIP, "--no-deps", "--no-index", wheel)
    took = time.monotonic() - started
    await _run(log, python, "-I", "-c", "import voicepilot.sidecar.stdio")
    return took
