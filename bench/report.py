"""The bench's results as tables: plain text for a terminal, Markdown for docs/benchmarks.md."""

from __future__ import annotations

from typing import Any

# A result: its value, its unit, and optionally a note on what was measured.
Values = dict[str, dict[str, Any]]


def text_table(values: Values) -> str:
    width = max((len(key) for key in values), default=6)
    rows = [f"{key:{width}}  {entry['value']:>10g}  {entry['unit']}" for key, entry in values.items()]
    return "\n".join([f"{'metric':{width}}  {'value':>10}  unit", *rows])


def markdown_table(values: Values) -> str:
    rows = [
        f"| `{key}` | {entry['value']:g} | {_cell(entry['unit'])} | {_cell(entry.get('note') or '')} |"
        for key, entry in values.items()
    ]
    return "\n".join(["| metric | value | unit | what |", "|---|---:|---|---|", *rows])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
