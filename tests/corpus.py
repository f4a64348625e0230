"""Reading the shared corpora in place: the real-world scenarios and the spm converter cases.

The corpora live beside the clone in `../shared/corpus/` and are never copied into this
repository; tests that need them skip only when that folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The shared folder next to the repository (read-only reference data)."""

REAL = SHARED / "corpus" / "real"
SPM = SHARED / "corpus" / "spm"
SECTION_MARK = "#@@ "
"""A line starting with this opens a section of a `.case` file."""


def require_shared() -> None:
    """Skip the calling test (or module) when the shared folder is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared corpus folder not found: {SHARED}", allow_module_level=True)


def real_files() -> list[Path]:
    """The real scenarios `NN-*.yaml`, sorted by name (empty when the corpus is absent)."""
    return sorted(REAL.glob("[0-9][0-9]-*.yaml")) if REAL.is_dir() else []


def spm_cases() -> list[Path]:
    """The spm `.case` files of every group (unit, e2e, historical), sorted by path."""
    return sorted(SPM.glob("*/*.case")) if SPM.is_dir() else []


def case_id(path: Path) -> str:
    """A case's test id: its group and stem, e.g. `unit/success--port-level`."""
    return f"{path.parent.name}/{path.stem}"


def read_case(path: Path) -> dict[str, str]:
    """The sections of a `.case` file: name (first word after `#@@ `) to the text up to the next
    section line or the end; the header comments before the first section are dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith(SECTION_MARK):
            name = line[len(SECTION_MARK) :].split(maxsplit=1)[0]
            current = sections.setdefault(name, [])
        elif current is not None:
            current.append(line)
    return {name: "".join(lines) for name, lines in sections.items()}
