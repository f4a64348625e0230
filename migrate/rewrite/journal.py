"""The write journal: the commit point of a write that replaces several files, so that a run
killed between two renames is completed by the next one rather than left half-migrated.

`write_atomically` stages every file, records here which staging file replaces which target
(with the SHA-256 of the bytes before and after), and only then renames. A run killed before
the record has replaced nothing, and its staging files are removed as stale; a run killed
after it leaves the record, and `finish_interrupted` completes the renames before the next
write reads anything. A half-migrated tree must not be read as the starting point: it may be
stricter than the old configuration (a mesh-wide PeerAuthentication overrides every alpha
policy under Istio 1.5), and the migration from it would then be refused as looser.

A target whose bytes are neither the recorded old nor new ones was edited since, and is left
alone. A journal is bound to the run that wrote it: its random run id is in the name of every
staging file it names, each staged file must hold the recorded digest, and a target must be a
manifest the run could have read (a regular file below the given paths, not hidden, not under
`.git/`, not ignored by git). A journal tracked by git, or one that does not validate, is
refused with an error naming it: a journal planted in a repository can move nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from migrate.load.discover import MANIFEST_SUFFIXES, display_path, git_ignored
from migrate.load.gitcmd import GitError, run_git
from migrate.load.regular import read_regular

JOURNAL_NAME = ".authn-migrate-journal.json"
STAGING_SUFFIX = ".authn-migrate"
STAGING_NAME = re.compile(
    r"\.(?P<target>.+)\.(?P<run>[0-9a-f]{16})\.[a-z0-9_]{8}" + re.escape(STAGING_SUFFIX)
)
"""A staging file of ours: `tempfile.mkstemp(prefix=".NAME.RUN.", suffix=STAGING_SUFFIX)`."""
_RUN = re.compile(r"[0-9a-f]{16}")
_MAX_JOURNAL_BYTES = 16 * 1024 * 1024
VERSION = 2
REMOVE_IT = "remove it if no write of authn-migrate was interrupted here"


class JournalError(MigrateError):
    """A journal that is not one of ours, or that git tracks: nothing is done with it."""


def new_run() -> str:
    """A random id for one write, in its journal and in its staging files' names."""
    return secrets.token_hex(8)


def staging_prefix(target: Path, run: str) -> str:
    """The name a staging file for `target` starts with in run `run`."""
    return f".{target.name}.{run}."


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a write: `staged` replaces `target` (None: the target is removed); `old`
    and `new` are the SHA-256 of its bytes before and after (None: no file)."""

    target: Path
    staged: Path | None
    old: str | None
    new: str | None


def digest(data: bytes | None) -> str | None:
    """The SHA-256 of `data` in hex, None for no file."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def read_or_none(path: Path) -> bytes | None:
    """A file's bytes, None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def inside(path: Path, roots: Sequence[Path]) -> bool:
    """True when the resolved `path` is one of the roots or below one."""
    return any(path == r or r in path.parents for r in (root.resolve() for root in roots))


def journal_folder(roots: Sequence[Path]) -> Path:
    """Where the journal of a write under `roots` lives: the first root (its folder for a
    file; a root that does not exist yet is a folder to create), so that the same command
    finds it again."""
    first = roots[0]
    return (first.parent if first.is_file() else first).resolve()


def commit(entries: Sequence[Entry], folder: Path, run: str) -> Path:
    """Record `entries` of run `run` in `folder`, durably; from here on the write is completed
    even if the process dies."""
    record = {
        "version": VERSION,
        "run": run,
        "entries": [
            {
                "target": str(e.target),
                "staged": None if e.staged is None else str(e.staged),
                "old": e.old,
                "new": e.new,
            }
            for e in entries
        ],
    }
    journal = folder / JOURNAL_NAME
    handle, name = tempfile.mkstemp(
        prefix=staging_prefix(journal, run), suffix=STAGING_SUFFIX, dir=folder
    )
    temp = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(record, stream, indent=1)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, journal)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_directory(folder)
    return journal


def pending(roots: Sequence[Path]) -> list[Path]:
    """The journals of interrupted writes under `roots` (each root's folder)."""
    folders = sorted({journal_folder([root]) for root in roots})
    return [f / JOURNAL_NAME for f in folders if os.path.lexists(f / JOURNAL_NAME)]


def finish_interrupted(roots: Sequence[Path]) -> list[str]:
    """Complete the writes a killed run committed under `roots`; notes on what was done.
    Raises JournalError for a journal that is not one of ours (nothing is done then)."""
    notes: list[str] = []
    for journal in pending(roots):
        notes += finish(journal, roots)
    return notes


def finish(journal: Path, roots: Sequence[Path]) -> list[str]:
    """Complete the renames `journal` records, then remove it; notes on what was done.
    Raises JournalError when it does not validate or git tracks it."""
    run, entries = read_journal(journal)
    ignored = _ignored(entries, roots)
    for entry in entries:
        refused = _refused(entry, run, roots, ignored)
        if refused:
            raise JournalError(
                f"{display_path(journal)}: names {display_path(entry.target)}, {refused}; "
                f"nothing was done with it: {REMOVE_IT}"
            )
    notes: list[str] = []
    done = {"replaced": 0, "removed": 0}
    for entry in entries:
        problem = _finish_entry(entry)
        if problem in done:
            done[problem] += 1
        elif problem:
            notes.append(problem)
    for folder in sorted({entry.target.parent for entry in entries}):
        fsync_directory(folder)
    journal.unlink(missing_ok=True)
    fsync_directory(journal.parent)
    summary = f"completed an interrupted write: {done['replaced']} more file(s) put in place"
    if done["removed"]:
        summary += f", {done['removed']} removed"
    return [summary, *notes]


def _finish_entry(entry: Entry) -> str:
    """Put one recorded file in place ("replaced" or "removed"); "" when it already was,
    else why it cannot."""
    target = entry.target
    staged = entry.staged
    current = digest(read_or_none(target))
    if current == entry.new:
        if staged is not None:
            staged.unlink(missing_ok=True)
        return ""
    if current != entry.old:
        if staged is not None:
            staged.unlink(missing_ok=True)
        return f"{target} changed after the interrupted write; left as it is"
    if staged is None:
        target.unlink(missing_ok=True)
        return "removed"
    if digest(read_or_none(staged)) != entry.new:
        return f"{target}: its staged content is missing or damaged; left as it was"
    os.replace(staged, target)
    return "replaced"


def _refused(entry: Entry, run: str, roots: Sequence[Path], ignored: set[Path]) -> str:
    """Why an entry is not one this tool's run could have written ("" when it is)."""
    target, staged = entry.target, entry.staged
    if not inside(target.resolve(), roots):
        return "which is not below the given paths"
    if _hidden(target, roots) or target in ignored:
        return "a hidden or git-ignored path, which authn-migrate never writes"
    if not target.name.lower().endswith(MANIFEST_SUFFIXES) or not _regular_or_absent(target):
        return "which is not a manifest file authn-migrate reads"
    if staged is None:
        return "" if entry.old is not None else "with nothing to remove"
    match = STAGING_NAME.fullmatch(staged.name)
    if staged.parent != target.parent or match is None or match["target"] != target.name:
        return "with a file authn-migrate did not stage"
    if match["run"] != run or not _regular_or_absent(staged):
        return "with a file the interrupted run did not stage"
    return ""


def _hidden(target: Path, roots: Sequence[Path]) -> bool:
    """True when a part of `target` below its root starts with a dot (`.git/` included)."""
    for root in roots:
        base = root.resolve()
        base = base.parent if base.is_file() else base
        try:
            parts = target.resolve().relative_to(base).parts
        except ValueError:
            continue
        return any(part.startswith(".") for part in parts)
    return True


def _regular_or_absent(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _ignored(entries: Sequence[Entry], roots: Sequence[Path]) -> set[Path]:
    """The targets git ignores."""
    found: set[Path] = set()
    for root in roots:
        base = root if root.is_dir() else root.parent
        below = [e.target for e in entries if inside(e.target.resolve(), [base])]
        found |= git_ignored(base, below)
    return found


def read_journal(journal: Path) -> tuple[str, list[Entry]]:
    """The run id and entries of `journal`; raises JournalError, naming it, when it is not a
    journal of this tool or git tracks it."""
    shown = display_path(journal)
    try:
        if not stat.S_ISREG(journal.lstat().st_mode):
            raise ValueError("not a regular file")
        if _tracked(journal):
            raise ValueError("it is tracked by git, and a write journal is never committed")
        return _parse(read_regular(journal, _MAX_JOURNAL_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise JournalError(
            f"{shown}: not a write journal of an interrupted authn-migrate run ({exc}); "
            f"nothing was done with it: {REMOVE_IT}"
        ) from None


def _tracked(journal: Path) -> bool:
    try:
        listed = run_git(journal.parent, "ls-files", "-z", "--", journal.name, timeout=30)
    except GitError:
        return False
    return listed.returncode == 0 and bool(listed.stdout.strip(b"\0"))


def _parse(text: str) -> tuple[str, list[Entry]]:
    record: Any = json.loads(text)
    if not isinstance(record, dict) or record.get("version") != VERSION:
        version = record.get("version") if isinstance(record, dict) else None
        raise ValueError(f"version {version!r}, expected {VERSION}")
    run = record.get("run")
    items = record.get("entries")
    if not isinstance(run, str) or not _RUN.fullmatch(run) or not isinstance(items, list):
        raise ValueError("no run id or no entries")
    entries = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"target", "staged", "old", "new"}:
            raise ValueError(f"not an entry: {item!r:.80}")
        staged = item["staged"]
        entries.append(
            Entry(
                Path(_text(item["target"])),
                None if staged is None else Path(_text(staged)),
                _hash(item["old"]),
                _hash(item["new"]),
            )
        )
    return run, entries


def _text(value: Any) -> str:
    if not isinstance(value, str) or not os.path.isabs(value) or "\0" in value:
        raise ValueError(f"not an absolute path: {value!r:.80}")
    return value


def _hash(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value)):
        return value
    raise ValueError(f"not a SHA-256: {value!r:.80}")


def fsync_directory(directory: Path) -> None:
    """Make a folder's entries (renames, removals) durable; best effort."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
