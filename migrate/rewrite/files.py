"""File changes: one file's old and new text, shown as a diff or written atomically (staged,
fsynced, renamed) once every file is ready."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from migrate.errors import MigrateError
from migrate.escape import terminal
from migrate.load.sourcefile import SourceText
from migrate.rewrite.journal import (
    STAGING_NAME,
    STAGING_SUFFIX,
    Entry,
    commit,
    digest,
    finish_interrupted,
    fsync_directory,
    inside,
    journal_folder,
    read_or_none,
)


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file's old and new text: `old` None for a new file, `new` None for a removed one.
    `source` gives the encoding, BOM and newline the file is written with."""

    path: Path
    display: str
    old: str | None
    new: str | None
    source: SourceText
    check_unchanged: bool = True
    """Refuse to write when the file on disk no longer holds `old` (a concurrent edit)."""

    def diff(self) -> str:
        """A unified diff of the change, paths as the user gave them (a character of the name
        that could end the header line or act on a terminal shown as an escape)."""
        shown = terminal(self.display)
        return "".join(
            difflib.unified_diff(
                (self.old or "").splitlines(keepends=True),
                (self.new or "").splitlines(keepends=True),
                "/dev/null" if self.old is None else f"a/{shown}",
                "/dev/null" if self.new is None else f"b/{shown}",
            )
        )

    def data(self) -> bytes:
        """The new bytes, in the file's encoding and with its BOM."""
        return self.source.encode(self.new or "")


class WriteFailed(MigrateError):
    """A file could not be written; nothing was renamed into place."""


def write_atomically(changes: list[FileChange], roots: list[Path]) -> None:
    """Stage every new content next to its target and fsync it; check that no target changed
    on disk since it was read; record the write in a journal (the commit point); then rename
    all into place, remove the files the conversion emptied, and drop the journal.

    Nothing is written through a link leaving the given roots. If staging fails, a target was
    edited meanwhile, or the process dies before the journal is recorded, no file is
    replaced; if it dies after, the next write completes the renames (`finish_interrupted`).
    Staging files of an interrupted run are removed from the folders written to."""
    targets = [(change, _checked_target(change.path, roots)) for change in changes]
    if not targets:
        return
    folder = journal_folder(roots)
    finish_interrupted(roots)
    for directory in sorted({folder} | {target.parent for _, target in targets}):
        remove_stale_staging(directory)
    staged: dict[Path, Path] = {}
    try:
        entries = [_staged_entry(change, target, staged) for change, target in targets]
        for directory in sorted({target.parent for _, target in targets}):
            fsync_directory(directory)
        journal = commit(entries, folder)
    except BaseException as exc:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise WriteFailed(f"cannot stage a new version of a file: {exc}") from exc
        raise
    for entry in entries:
        if entry.staged is None:
            entry.target.unlink(missing_ok=True)
        else:
            os.replace(entry.staged, entry.target)
    for directory in sorted({target.parent for _, target in targets}):
        fsync_directory(directory)
    journal.unlink(missing_ok=True)
    fsync_directory(folder)


def _staged_entry(change: FileChange, target: Path, staged: dict[Path, Path]) -> Entry:
    """Stage one change (a removal stages nothing) and check its target is as it was read."""
    if change.new is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged[target] = _stage(change, target)
    current = read_or_none(target)
    if change.check_unchanged:
        expected = None if change.old is None else change.source.encode(change.old)
        if current != expected:
            what = "was created" if change.old is None else "changed on disk"
            raise WriteFailed(f"{change.display} {what} since it was read; not overwritten")
    new = None if change.new is None else digest(change.data())
    return Entry(target, staged.get(target), digest(current), new)


def mirrored(changes: list[FileChange], out_dir: Path) -> list[FileChange]:
    """The changes redirected into a mirror tree under `out_dir` (files the conversion
    removes are left out). Paths shown relative keep their layout; a path with `..` or an
    absolute one is mirrored by its absolute location, so nothing lands outside `out_dir`."""
    return [
        replace(change, path=out_dir / _mirror_path(change), check_unchanged=False)
        for change in changes
        if change.new is not None
    ]


def _mirror_path(change: FileChange) -> Path:
    shown = PurePosixPath(change.display)
    if not shown.is_absolute() and ".." not in shown.parts:
        return Path(shown)
    return Path(*change.path.resolve().parts[1:])


def remove_stale_staging(directory: Path) -> list[Path]:
    """Remove the staging files an interrupted write left in `directory`; return them."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    stale = [
        Path(entry.path)
        for entry in entries
        if STAGING_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _checked_target(path: Path, roots: list[Path]) -> Path:
    real = path.resolve() if path.exists() else path.parent.resolve() / path.name
    if not inside(real, roots):
        raise WriteFailed(f"{path} resolves outside the given paths; not written")
    return real


def _stage(change: FileChange, target: Path) -> Path:
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=STAGING_SUFFIX, dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(change.data())
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(name, mode)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
