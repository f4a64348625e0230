"""The finding-code registry: every code used is registered and documented."""

from __future__ import annotations

import re
from pathlib import Path

from migrate.codes import CODES, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_docs_page_is_current() -> None:
    """docs/findings.md is exactly what the registry generates."""
    assert (ROOT / "docs" / "findings.md").read_text() == markdown()


def test_every_code_in_the_source_is_registered() -> None:
    """No module reports a code that the registry (and so the docs) lacks."""
    used = {
        code
        for path in (ROOT / "migrate").rglob("*.py")
        if path.name != "codes.py"
        for code in re.findall(r'"(AM\d{3})"', path.read_text())
    }
    assert used - set(CODES) == set()


def test_codes_are_unique_and_well_formed() -> None:
    """Codes are AM plus three digits, keyed by themselves."""
    assert all(re.fullmatch(r"AM\d{3}", key) and c.id == key for key, c in CODES.items())
