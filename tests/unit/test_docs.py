"""The README stays a user's page, and the docs link only to what the repository holds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_docstrings import FOREIGN_NOTES

ROOT = Path(__file__).resolve().parents[2]
README_MAX_BYTES = 12_000
# A Markdown link or image whose target is not a URL or an anchor in the same page.
RELATIVE_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s]+)\)")


def pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def broken_links(page: Path, text: str) -> list[str]:
    found = []
    for target in RELATIVE_LINK.findall(text):
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists():
            found.append(f"{page.relative_to(ROOT)}: {target}")
    return found


def test_the_readme_is_12_kb_or_less() -> None:
    assert len((ROOT / "README.md").read_bytes()) <= README_MAX_BYTES


def test_every_relative_link_in_the_docs_resolves() -> None:
    assert len(pages()) > 5
    assert [link for page in pages() for link in broken_links(page, page.read_text())] == []


def test_a_broken_link_is_found() -> None:
    page = ROOT / "docs" / "example.md"
    text = "[ok](architecture.md#layout) [gone](missing.md) [web](https://example.org/x.md) [here](#top)"
    assert broken_links(page, text) == ["docs/example.md: missing.md"]


def test_no_page_cites_notes_outside_the_repository() -> None:
    cited = [
        f"{page.relative_to(ROOT)}: {word}"
        for page in pages()
        for word in FOREIGN_NOTES
        if word in page.read_text().lower()
    ]
    assert cited == []
