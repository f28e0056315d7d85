"""The bench's tables: ``scripts/bench --markdown`` turns a results dict into a Markdown table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.report import markdown_table, text_table

RESULTS = {
    "cpu_pct_one_core_full_duplex": {"value": 3.87, "unit": "% of one core", "note": "sidecar | WebRTC"},
    "handovers": {"value": 3, "unit": "count"},
}


def test_markdown_has_a_header_a_separator_and_one_row_per_result() -> None:
    lines = markdown_table(RESULTS).splitlines()
    assert lines[0] == "| metric | value | unit | what |"
    assert lines[1] == "|---|---:|---|---|"
    assert lines[2] == r"| `cpu_pct_one_core_full_duplex` | 3.87 | % of one core | sidecar \| WebRTC |"
    assert lines[3] == "| `handovers` | 3 | count |  |"
    assert len(lines) == 4
    # Every row has the header's four cells (an escaped | inside a note is not a cell boundary).
    assert all(line.replace(r"\|", "").count("|") == 5 for line in lines)


def test_the_text_table_aligns_values() -> None:
    lines = text_table(RESULTS).splitlines()
    assert lines[0].split() == ["metric", "value", "unit"]
    assert lines[1].split()[:2] == ["cpu_pct_one_core_full_duplex", "3.87"]
    assert lines[1].index("3.87") + len("3.87") == lines[2].index("3") + 1


def test_the_cli_prints_a_saved_run_as_markdown(tmp_path: Path) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(RESULTS))
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "bench", "--markdown", "--from-json", str(saved)]
    printed = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout
    assert printed.strip() == markdown_table(RESULTS)
