"""Shared fixtures: parse text as a named file, and run the CLI in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from migrate.findings import Finding
from migrate.load.documents import Document, parse_text
from migrate.load.sourcefile import decode

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", deadline=None, max_examples=3_000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def parse(text: str, name: str = "x.yaml") -> tuple[list[Document], list[Finding], bool]:
    """Documents, findings and the skipped flag for `text` read as file `name`."""
    return parse_text(decode(name, text.encode("utf-8")), is_json=name.endswith(".json"))


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run the test with the working directory in a fresh folder, so paths print relative."""
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)
