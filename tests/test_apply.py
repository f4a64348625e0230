"""Writing a conversion: atomic, mode bits kept, never through a link leaving the tree."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from migrate.convert.api import convert_paths
from migrate.convert.apply import WriteFailed, write_atomically

CASE = Path(__file__).resolve().parent / "cases" / "convert" / "namespace-strict.yaml"


def test_write_keeps_mode_bits_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The rewritten file keeps its permissions; no staging file is left behind."""
    work = tmp_path / "p.yaml"
    shutil.copy(CASE, work)
    work.chmod(0o640)
    result = convert_paths([str(tmp_path)])
    write_atomically(result.changes, [tmp_path])
    assert work.stat().st_mode & 0o777 == 0o640
    assert "PeerAuthentication" in work.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]


def test_link_leaving_the_roots_is_not_written(tmp_path: Path) -> None:
    """A file reached through a link that resolves outside the given paths is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(CASE, outside / "p.yaml")
    repo = tmp_path / "repo"
    repo.mkdir()
    result = convert_paths([str(outside / "p.yaml")])
    before = (outside / "p.yaml").read_bytes()
    with pytest.raises(WriteFailed, match="outside the given paths"):
        write_atomically(result.changes, [repo])
    assert (outside / "p.yaml").read_bytes() == before


def test_a_failed_staging_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If any file cannot be staged, no file is replaced and no staging file remains."""
    for name in ("a.yaml", "b.yaml"):
        shutil.copy(CASE, tmp_path / name)
    (tmp_path / "b.yaml").write_text(CASE.read_text().replace("shop", "other"))
    result = convert_paths([str(tmp_path)])
    assert len(result.changes) == 2
    originals = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteFailed, match="No space left"):
        write_atomically(result.changes, [tmp_path])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == originals
