"""Writing a conversion: atomic, mode bits kept, never through a link leaving the tree."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from repo_kit import write_killed_between_renames
from typer.testing import CliRunner

from migrate.cli import app
from migrate.commands.convert import convert_paths
from migrate.rewrite.files import WriteFailed, write_atomically
from migrate.rewrite.journal import JOURNAL_NAME, JournalError, finish_interrupted

CASE = Path(__file__).resolve().parents[1] / "cases" / "convert" / "namespace-strict.yaml"


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


def _two_files(folder: Path) -> list[Path]:
    """Two policy files in `folder` that both convert."""
    first, second = folder / "a.yaml", folder / "b.yaml"
    shutil.copy(CASE, first)
    second.write_text(CASE.read_text().replace("shop", "other"))
    return [first, second]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda p: p.write_text(p.read_text() + "# edited\n"), id="content-changed"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes().upper()), id="same-size-changed"),
        pytest.param(lambda p: p.unlink(), id="deleted"),
    ],
)
def test_a_file_edited_since_it_was_read_is_not_overwritten(
    tmp_path: Path, edit: Callable[[Path], object]
) -> None:
    """A concurrent edit of any target stops the write: no file is replaced, nothing staged."""
    first, second = _two_files(tmp_path)
    result = convert_paths([str(tmp_path)])
    edit(second)
    after_edit = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(WriteFailed, match=r"b\.yaml changed on disk since it was read"):
        write_atomically(result.changes, [tmp_path])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == after_edit
    assert first.read_bytes() == CASE.read_bytes()


def test_a_new_file_created_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    """With --split, a file that appeared where a new resource goes is left as it is."""
    shutil.copy(CASE, tmp_path / "p.yaml")
    result = convert_paths([str(tmp_path)], split=True)
    created = next(c.path for c in result.changes if c.old is None)
    created.write_text("# someone else's\n")
    with pytest.raises(WriteFailed, match="was created since it was read"):
        write_atomically(result.changes, [tmp_path])
    assert created.read_text() == "# someone else's\n"
    assert (tmp_path / "p.yaml").read_bytes() == CASE.read_bytes()


def test_stale_staging_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    """Staging files a killed run left are removed; other hidden files are kept."""
    shutil.copy(CASE, tmp_path / "p.yaml")
    leftovers = [
        ".p.yaml.0123456789abcdef.k3x_9a0b.authn-migrate",
        ".other.yaml.fedcba9876543210.abcdefgh.authn-migrate",
    ]
    for name in leftovers:
        (tmp_path / name).write_text("partial")
    kept = [".p.yaml.authn-migrate", ".notes", ".p.yaml.TOOLONG99.authn-migrate"]
    for name in kept:
        (tmp_path / name).write_text("mine")
    write_atomically(convert_paths([str(tmp_path)]).changes, [tmp_path])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.yaml", *kept])


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        pytest.param(OSError(28, "No space left on device"), WriteFailed, id="disk-full"),
        pytest.param(KeyboardInterrupt(), KeyboardInterrupt, id="interrupted"),
    ],
)
def test_a_failed_staging_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    raised: type[BaseException],
) -> None:
    """If staging the second file fails or is interrupted, no file is replaced and no staging
    file remains."""
    _two_files(tmp_path)
    result = convert_paths([str(tmp_path)])
    assert len(result.changes) == 2
    originals = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise failure
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(raised):
        write_atomically(result.changes, [tmp_path])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == originals


@pytest.mark.parametrize(
    ("given", "mirrored_at"),
    [
        pytest.param("repo", "repo/p.yaml", id="relative"),
        pytest.param("../outside/repo", "{tmp}/outside/repo/p.yaml", id="dot-dot"),
        pytest.param("{tmp}/outside/repo", "{tmp}/outside/repo/p.yaml", id="absolute"),
    ],
)
def test_out_dir_keeps_every_file_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, mirrored_at: str
) -> None:
    """--out-dir writes below the folder, whatever the path given, and leaves originals alone."""
    work = tmp_path / "work"
    for repo in (work / "repo", tmp_path / "outside" / "repo"):
        repo.mkdir(parents=True)
        shutil.copy(CASE, repo / "p.yaml")
    monkeypatch.chdir(work)
    result = CliRunner().invoke(app, ["convert", given.format(tmp=tmp_path), "--out-dir", "mirror"])
    assert result.exit_code == 0, result.output
    relative = mirrored_at.format(tmp=str(tmp_path).lstrip("/"))
    assert "PeerAuthentication" in (work / "mirror" / relative).read_text()
    written = [
        p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes() != CASE.read_bytes()
    ]
    assert written == [work / "mirror" / relative]


def _killed_between_renames(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Two files converted in `folder` by a write that dies after its first file is renamed
    (the first rename records the journal)."""
    files = _two_files(folder)
    write_killed_between_renames(folder, monkeypatch)
    assert "PeerAuthentication" in files[0].read_text()
    assert files[1].read_bytes() != files[0].read_bytes()
    assert (folder / JOURNAL_NAME).exists()
    return files


def test_a_rerun_completes_a_write_killed_between_renames(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """convert --write first puts the staged files of the killed write in place, so the
    half-migrated tree is never read as the starting point."""
    files = _killed_between_renames(in_tmp, monkeypatch)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 0, result.output
    assert "note: completed an interrupted write: 1 more file(s) put in place" in result.output
    assert "rewrote 0 file(s)" in result.output
    assert all("PeerAuthentication" in f.read_text() for f in files)
    assert sorted(p.name for p in in_tmp.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_file_edited_after_a_killed_write_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Completing a killed write skips a file edited since, says so, and removes the journal."""
    files = _killed_between_renames(tmp_path, monkeypatch)
    files[1].write_text("# my edit\n")
    notes = finish_interrupted([tmp_path])
    assert notes == [
        "completed an interrupted write: 0 more file(s) put in place",
        f"{files[1]} changed after the interrupted write; left as it is",
    ]
    assert files[1].read_text() == "# my edit\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


@pytest.mark.parametrize(
    ("journal", "reason"),
    [
        pytest.param(
            '{"version": 2, "run": "0123456789abcdef", "entries": [{"target": "{outside}", '
            '"staged": "{staged}", "old": null, "new": null}]}',
            "which is not below the given paths",
            id="target-outside",
        ),
        pytest.param("{not json", "not a write journal of", id="malformed"),
        pytest.param('{"version": 7}', "not a write journal of", id="version"),
    ],
)
def test_a_planted_journal_moves_nothing(tmp_path: Path, journal: str, reason: str) -> None:
    """A journal the repository brings cannot replace a file outside the given paths: it is
    refused, naming it, and nothing is done."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("mine\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    staged = repo / ".outside.yaml.0123456789abcdef.abcdefgh.authn-migrate"
    staged.write_text("theirs\n")
    (repo / JOURNAL_NAME).write_text(
        journal.replace("{outside}", str(outside)).replace("{staged}", str(staged))
    )
    with pytest.raises(JournalError, match=f"{JOURNAL_NAME}: .*{reason}"):
        finish_interrupted([repo])
    assert outside.read_text() == "mine\n"
