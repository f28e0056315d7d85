"""The hash-locked requirements the extension installs match pyproject.toml's dependencies."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lock_script() -> ModuleType:
    path = ROOT / "scripts" / "lock-requirements"
    loader = importlib.machinery.SourceFileLoader("lock_requirements", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


LOCK = lock_script()


@pytest.mark.parametrize("python_version", LOCK.PYTHON_VERSIONS)
def test_lock_file_records_the_current_dependency_list(python_version: str) -> None:
    expected = LOCK.dependencies_hash((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock_text = LOCK.lock_file(python_version).read_text(encoding="utf-8")

    assert LOCK.recorded_hash(lock_text) == expected, (
        f"requirements/py{python_version}.txt is stale: run scripts/lock-requirements"
    )


@pytest.mark.parametrize("python_version", LOCK.PYTHON_VERSIONS)
def test_every_pin_has_a_hash_and_voicepilot_is_not_pinned(python_version: str) -> None:
    lock_text = LOCK.lock_file(python_version).read_text(encoding="utf-8")
    pins = [line for line in lock_text.splitlines() if "==" in line and not line.startswith((" ", "#"))]

    assert pins
    assert all(line.rstrip().endswith("\\") for line in pins), "a pin without --hash lines"
    assert not any(line.startswith("voicepilot") for line in pins)


def test_the_hash_ignores_everything_but_the_dependency_list() -> None:
    base = '[project]\nname = "x"\ndependencies = ["a>=1"]\n'

    assert LOCK.dependencies_hash(base) == LOCK.dependencies_hash(base + "[tool.ruff]\nline-length = 1\n")
    assert LOCK.dependencies_hash(base) != LOCK.dependencies_hash(base.replace("a>=1", "a>=2"))
