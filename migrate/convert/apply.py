"""Turning a proven conversion into file contents: each alpha document is replaced in its own
file by its new documents (or, with `split`, removed and its resources written to files of
their own, listed in the kustomization that listed the original), every other byte kept; then
shown as a diff or written atomically (staged, fsynced, renamed) once every file is ready."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from migrate import progress
from migrate.convert.journal import (
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
from migrate.convert.kustomize import list_files
from migrate.convert.model import Conversion, NewResource
from migrate.errors import MigrateError
from migrate.findings import Finding, Location, Severity
from migrate.load.documents import LoadedFile
from migrate.load.sourcefile import SourceText
from migrate.parallel import map_chunks
from migrate.rewrite import Replacement, RewriteError, detect_style, render_documents, rewrite
from migrate.workspace import PolicyEntry, Workspace


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
        """A unified diff of the change, paths as the user gave them."""
        return "".join(
            difflib.unified_diff(
                (self.old or "").splitlines(keepends=True),
                (self.new or "").splitlines(keepends=True),
                "/dev/null" if self.old is None else f"a/{self.display}",
                "/dev/null" if self.new is None else f"b/{self.display}",
            )
        )

    def data(self) -> bytes:
        """The new bytes, in the file's encoding and with its BOM."""
        return self.source.encode(self.new or "")


MIN_PARALLEL_FILES = 64
"""Files to rewrite before it pays to fork workers."""


def plan_changes(
    workspace: Workspace, conversion: Conversion, *, split: bool = False
) -> tuple[list[FileChange], list[Finding]]:
    """Every file change the conversion makes; a file that cannot be rewritten exactly is
    reported and left alone (its resources can still be streamed with -o yaml)."""
    by_entry: dict[int, list[NewResource]] = defaultdict(list)
    for new in conversion.resources:
        by_entry[id(new.source)].append(new)
    by_file: dict[str, list[PolicyEntry]] = defaultdict(list)
    for entry in conversion.converted:
        by_file[entry.document.origin.path].append(entry)
    findings: list[Finding] = []
    jobs: list[tuple[LoadedFile, list[PolicyEntry], list[Replacement]]] = []
    unreadable = _input_errors(workspace)
    for loaded in workspace.loaded.files:
        entries = by_file.get(loaded.source.display)
        if not entries:
            continue
        if loaded.source.path is None or loaded.text is None:
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
            _check_readable(unreadable, loaded)
            jobs.append((loaded, entries, _replacements(entries, by_entry, split=split)))
        except RewriteError as exc:
            findings.append(_not_rewritten(loaded, str(exc)))
    progress.phase("rewriting files", len(jobs))
    texts = [
        text
        for part in map_chunks(
            _rewrite_all, [(j[0].text, j[2]) for j in jobs], min_items=MIN_PARALLEL_FILES
        )
        for text in part
    ]
    changes: list[FileChange] = []
    shared = _Shared({}, {})
    for (loaded, entries, _), (ok, text) in zip(jobs, texts, strict=True):
        if not ok:
            findings.append(_not_rewritten(loaded, text))
            continue
        assert loaded.text is not None
        assert loaded.source.path is not None
        here = FileChange(
            loaded.source.path, loaded.source.display, loaded.text.text, text, loaded.text
        )
        if split:
            made = [new for entry in entries for new in by_entry.get(id(entry), [])]
            changes += _split(workspace, here, made, shared)
        else:
            changes.append(here)
    return _merge(changes), findings


def _input_errors(workspace: Workspace) -> dict[str, str]:
    """The first reading error (AM0xx) of each file that has one, by file."""
    found: dict[str, str] = {}
    for finding in workspace.findings:
        if finding.severity is Severity.ERROR and finding.code.startswith("AM0"):
            found.setdefault(finding.location.path, finding.code)
    return found


def _check_readable(unreadable: dict[str, str], loaded: LoadedFile) -> None:
    """A file with reading errors (a duplicate key, say) is not rewritten: its policies were
    read with a guess (the last value) that Kubernetes would not make."""
    code = unreadable.get(loaded.source.display)
    if code is not None:
        raise RewriteError(f"the file has input errors ({code}); fix them first")


def _not_rewritten(loaded: LoadedFile, reason: str) -> Finding:
    return Finding(
        "AM410",
        Severity.ERROR,
        f"cannot rewrite in place: {reason}",
        Location(loaded.source.display),
        hint="use -o yaml and edit the file by hand",
    )


def _rewrite_all(
    jobs: Sequence[tuple[SourceText | None, list[Replacement]]],
) -> list[tuple[bool, str]]:
    """Each file's new text, or why it cannot be rewritten (run in workers on large inputs:
    files are independent)."""
    done = []
    for text, replacements in jobs:
        assert text is not None
        try:
            done.append((True, rewrite(text, replacements)))
        except RewriteError as exc:
            done.append((False, str(exc)))
    return done


@dataclass(slots=True)
class _Shared:
    """What planning one file must know of the others: names taken per folder, and
    kustomization texts already edited."""

    taken: dict[Path, set[str]]
    texts: dict[Path, str]


def _replacements(
    entries: list[PolicyEntry], by_entry: dict[int, list[NewResource]], *, split: bool
) -> list[Replacement]:
    """What replaces each converted policy of one file (nothing here when `split`)."""
    replacements = []
    for entry in entries:
        if entry.document.origin.item is not None:
            raise RewriteError(f"{entry.ref} is an item of a kind: List")
        made = [] if split else by_entry.get(id(entry), [])
        replacements.append(
            Replacement(
                index=entry.document.origin.index,
                documents=tuple(new.data for new in made),
                moves=tuple(
                    (old, i, new_path) for i, new in enumerate(made) for old, new_path in new.moves
                ),
            )
        )
    return replacements


def _split(
    workspace: Workspace, here: FileChange, made: list[NewResource], shared: _Shared
) -> list[FileChange]:
    """New files beside the original, listed where the original is; an original left with
    only comments is removed and its comments open the first new file."""
    assert here.new is not None
    emptied = not any(
        line.strip() and not line.lstrip().startswith(("#", "---", "..."))
        for line in here.new.splitlines()
    )
    style = detect_style(here.source)
    folder = here.path.parent
    taken = shared.taken.setdefault(folder, {p.name for p in folder.iterdir()})
    files: list[FileChange] = []
    for new in made:
        name = _free_name(f"{new.data['kind'].lower()}-{new.data['metadata']['name']}", taken)
        text = render_documents([new.data], style=style).replace("\n", style.newline)
        path = here.path.parent / name
        display = str(Path(here.display).parent / name)
        files.append(FileChange(path, display, None, text, here.source))
    if emptied and files:
        header = "".join(
            line for line in here.new.splitlines(keepends=True) if line.lstrip().startswith("#")
        )
        first = files[0]
        files[0] = FileChange(
            first.path, first.display, None, header + (first.new or ""), first.source
        )
    listed = list_files(
        workspace, here.path, [f.path for f in files], remove=emptied, texts=shared.texts
    )
    original = FileChange(
        here.path, here.display, here.old, None if emptied else here.new, here.source
    )
    return [original, *files, *listed]


def _free_name(stem: str, taken: set[str]) -> str:
    name, counter = f"{stem}.yaml", 1
    while name in taken:
        counter += 1
        name = f"{stem}-{counter}.yaml"
    taken.add(name)
    return name


def _merge(changes: list[FileChange]) -> list[FileChange]:
    """One change per path: a kustomization edited for several originals keeps the last text
    (each edit started from the previous one)."""
    merged: dict[Path, FileChange] = {}
    for change in changes:
        earlier = merged.get(change.path)
        merged[change.path] = (
            change
            if earlier is None
            else FileChange(change.path, change.display, earlier.old, change.new, change.source)
        )
    return list(merged.values())


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
