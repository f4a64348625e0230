"""Turning a proven conversion into file contents: each alpha document is replaced in its own
file by its new documents, every other byte kept; then shown as a diff or written atomically
(staged, fsynced, renamed), only when every file's new content is ready."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from migrate.convert.model import Conversion, NewResource
from migrate.errors import MigrateError
from migrate.findings import Finding, Location, Severity
from migrate.load import LoadedFile
from migrate.rewrite import Replacement, RewriteError, rewrite
from migrate.workspace import PolicyEntry, Workspace


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file's old and new text (new bytes include its BOM and encoding)."""

    loaded: LoadedFile
    old: str
    new: str

    @property
    def path(self) -> Path:
        """Where the file is on disk."""
        assert self.loaded.source.path is not None
        return self.loaded.source.path

    def diff(self) -> str:
        """A unified diff of the change, paths relative as the user gave them."""
        name = self.loaded.source.display
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )


def plan_changes(
    workspace: Workspace, conversion: Conversion
) -> tuple[list[FileChange], list[Finding]]:
    """The new text of every file holding a converted policy; files that cannot be rewritten
    exactly are reported and left alone (their resources can still be streamed with -o yaml)."""
    by_entry: dict[int, list[NewResource]] = defaultdict(list)
    for new in conversion.resources:
        by_entry[id(new.source)].append(new)
    by_file: dict[str, list[PolicyEntry]] = defaultdict(list)
    for entry in conversion.converted:
        by_file[entry.document.origin.path].append(entry)
    changes, findings = [], []
    for loaded in workspace.loaded.files:
        entries = by_file.get(loaded.source.display)
        if not entries:
            continue
        if loaded.source.path is None:
            findings.append(
                Finding(
                    "AM410",
                    Severity.NOTE,
                    "standard input is not rewritten; -o yaml prints the new resources",
                    Location("<stdin>"),
                )
            )
            continue
        try:
            changes.append(_change(loaded, entries, by_entry))
        except RewriteError as exc:
            findings.append(
                Finding(
                    "AM410",
                    Severity.ERROR,
                    f"cannot rewrite in place: {exc}",
                    Location(loaded.source.display),
                    hint="use -o yaml and edit the file by hand",
                )
            )
    return changes, findings


def _change(
    loaded: LoadedFile, entries: list[PolicyEntry], by_entry: dict[int, list[NewResource]]
) -> FileChange:
    if loaded.text is None or loaded.source.path is None:
        raise RewriteError("the input is not a file on disk")
    replacements = []
    for entry in entries:
        if entry.document.origin.item is not None:
            raise RewriteError(f"{entry.ref} is an item of a kind: List")
        made = by_entry.get(id(entry), [])
        replacements.append(
            Replacement(
                index=entry.document.origin.index,
                documents=tuple(new.data for new in made),
                moves=tuple(
                    (old, i, new_path) for i, new in enumerate(made) for old, new_path in new.moves
                ),
            )
        )
    new_text = rewrite(loaded.text, replacements)
    return FileChange(loaded, loaded.text.text, new_text)


class WriteFailed(MigrateError):
    """A file could not be written; nothing was renamed into place."""


def write_atomically(changes: list[FileChange], roots: list[Path]) -> None:
    """Stage every file next to its target, fsync, then rename them all into place.

    Nothing is written through a link leaving the given roots; if staging any file fails,
    no file is replaced."""
    staged: list[tuple[Path, Path]] = []
    try:
        for change in changes:
            target = _checked_target(change.path, roots)
            staged.append((_stage(change, target), target))
    except OSError as exc:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise WriteFailed(f"cannot stage a new version of a file: {exc}") from exc
    for temp, target in staged:
        os.replace(temp, target)
    for directory in {target.parent for _, target in staged}:
        _fsync_directory(directory)


def _checked_target(path: Path, roots: list[Path]) -> Path:
    real = path.resolve()
    if not any(real == r or r in real.parents for r in (root.resolve() for root in roots)):
        raise WriteFailed(f"{path} resolves outside the given paths; not written")
    return real


def _stage(change: FileChange, target: Path) -> Path:
    assert change.loaded.text is not None
    data = change.loaded.text.encode(change.new)
    mode = target.stat().st_mode & 0o7777
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".authn-migrate", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(name, mode)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _fsync_directory(directory: Path) -> None:
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
