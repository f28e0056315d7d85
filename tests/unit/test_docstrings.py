"""Module docstrings say what a module is for in 10 lines or fewer, and cite no notes outside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "voicepilot"
MAX_LINES = 10
# Measurements and rejected experiments belong in docs/, which anyone reading the code can open.
FOREIGN_NOTES = ("spike notes", "research notes", "§", "../shared", "/work/shared")


def problems(source: str, name: str) -> list[str]:
    """What is wrong with one module's prose: a long docstring, or a reference to notes elsewhere."""
    found = []
    docstring = ast.get_docstring(ast.parse(source, name))
    if docstring is not None and len(docstring.splitlines()) > MAX_LINES:
        found.append(f"{name}: module docstring of {len(docstring.splitlines())} lines (at most {MAX_LINES})")
    for number, line in enumerate(source.splitlines(), start=1):
        found.extend(f"{name}:{number}: cites {word!r}" for word in FOREIGN_NOTES if word in line.lower())
    return found


def test_module_docstrings_are_short_and_cite_nothing_outside_the_repository() -> None:
    modules = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
    assert len(modules) > 40
    found = [spot for path in modules for spot in problems(path.read_text(), path.relative_to(ROOT).as_posix())]
    assert found == []


def test_a_long_docstring_is_found() -> None:
    source = '"""Title.\n\n' + "a line\n" * MAX_LINES + '"""\n'
    assert problems(source, "long.py") == [f"long.py: module docstring of {MAX_LINES + 2} lines (at most 10)"]
    assert problems('"""Title.\n\n' + "a line\n" * (MAX_LINES - 2) + '"""\n', "short.py") == []


def test_a_reference_to_notes_elsewhere_is_found() -> None:
    source = '"""A module (spike notes, §3.2)."""\n\nX = 1  # as the Research Notes say\n'
    assert problems(source, "cites.py") == [
        "cites.py:1: cites 'spike notes'",
        "cites.py:1: cites '§'",
        "cites.py:3: cites 'research notes'",
    ]
