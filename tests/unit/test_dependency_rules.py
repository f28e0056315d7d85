"""The house's layout: which room may import which (pyproject's import-linter contracts), and which
modules may sit at the top of the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "voicepilot"
SHARED_BASE = {"__init__", "__main__", "cli", "errors", "logs", "tasks", "event_loop"}

LINT = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))\n"
)


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the ``voicepilot`` package found in ``package_parent``."""
    # Without coverage's subprocess hook: lint-imports only reads the code, and a measured run would
    # report every file of a planted copy as unexecuted source of the voicepilot package.
    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
    env["PYTHONPATH"] = str(package_parent)
    return subprocess.run(
        [sys.executable, "-c", LINT, str(ROOT / "pyproject.toml")],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_dependency_rule_is_kept() -> None:
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_its_rule(tmp_path: Path) -> None:
    copy = tmp_path / "voicepilot"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    frames = copy / "audio" / "frames.py"
    frames.write_text(frames.read_text() + "\nimport voicepilot.sidecar  # noqa: E402\n")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "audio knows neither the protocol nor the editor BROKEN" in result.stdout
    assert "voicepilot.audio.frames -> voicepilot.sidecar" in result.stdout


def test_the_top_of_the_package_holds_only_the_entry_point_and_the_shared_base() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "server/voicepilot/*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top_level = {Path(name).stem for name in listed if Path(name).parent == Path("server/voicepilot")}
    assert top_level == SHARED_BASE
