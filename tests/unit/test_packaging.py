"""Packaging: a normal install ships every subpackage and the schemas."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = (ROOT / "pyproject.toml").read_text()


def test_every_subpackage_is_listed() -> None:
    """Each folder of migrate/ with Python modules is in pyproject's package list."""
    line = re.search(r"^packages = \[(.*?)\]$", PYPROJECT, re.MULTILINE | re.DOTALL)
    assert line is not None
    listed = set(re.findall(r'"([^"]+)"', line.group(1)))
    found = {"migrate"} | {
        "migrate." + p.parent.relative_to(ROOT / "migrate").as_posix().replace("/", ".")
        for p in (ROOT / "migrate").rglob("*.py")
        if p.parent != ROOT / "migrate" and "__pycache__" not in p.parts
    }
    assert found - listed == set()


def test_schemas_ship_as_package_data() -> None:
    """The top-level schemas/ folder is the migrate.schemas package's data."""
    assert '"migrate.schemas" = "schemas"' in PYPROJECT
    assert list((ROOT / "schemas").glob("*.json"))
