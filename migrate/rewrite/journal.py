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
alone. Targets are accepted only below the given paths, and staging files only beside their
target under a name of ours, so a journal planted in a repository can move nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNAL_NAME = ".authn-migrate-journal.json"
STAGING_SUFFIX = ".authn-migrate"
STAGING_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}" + re.escape(STAGING_SUFFIX))
"""A staging file of ours: `tempfile.mkstemp(prefix=".NAME.", suffix=STAGING_SUFFIX)`."""
_MAX_JOURNAL_BYTES = 16 * 1024 * 1024


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


def commit(entries: Sequence[Entry], folder: Path) -> Path:
    """Record `entries` in `folder`, durably; from here on the write is completed even if the
    process dies."""
    record = {
        "version": 1,
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
    handle, name = tempfile.mkstemp(prefix=f".{JOURNAL_NAME}.", suffix=STAGING_SUFFIX, dir=folder)
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


def finish_interrupted(roots: Sequence[Path]) -> list[str]:
    """Complete the writes a killed run committed under `roots`; notes on what was done."""
    notes: list[str] = []
    folders = {journal_folder([root]) for root in roots}
    for folder in sorted(folders):
        journal = folder / JOURNAL_NAME
        if journal.is_file():
            notes += finish(journal, roots)
    return notes


def finish(journal: Path, roots: Sequence[Path]) -> list[str]:
    """Complete the renames `journal` records, then remove it; notes on what was done."""
    try:
        entries = _read(journal)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{journal}: not a write journal of authn-migrate ({exc}); left as it is"]
    notes: list[str] = []
    renamed = 0
    for entry in entries:
        problem = _finish_entry(entry, roots)
        if problem is None:
            renamed += 1
        elif problem:
            notes.append(problem)
    for folder in sorted({entry.target.parent for entry in entries}):
        fsync_directory(folder)
    journal.unlink(missing_ok=True)
    fsync_directory(journal.parent)
    return [f"completed an interrupted write: {renamed} more file(s) put in place", *notes]


def _finish_entry(entry: Entry, roots: Sequence[Path]) -> str | None:
    """Put one recorded file in place (None); "" when it already was, else why it cannot."""
    target = entry.target
    staged = entry.staged
    if not inside(target.resolve(), roots) or (
        staged is not None
        and not (staged.parent == target.parent and _staged_for(staged.name, target.name))
    ):
        return f"{target}: not below the given paths or not staged by authn-migrate; skipped"
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
        return None
    if digest(read_or_none(staged)) != entry.new:
        return f"{target}: its staged content is missing or damaged; left as it was"
    os.replace(staged, target)
    return None


def _staged_for(name: str, target_name: str) -> bool:
    match = STAGING_NAME.fullmatch(name)
    return match is not None and match["target"] == target_name


def _read(journal: Path) -> list[Entry]:
    if journal.stat().st_size > _MAX_JOURNAL_BYTES:
        raise ValueError("too large")
    record: Any = json.loads(journal.read_text(encoding="utf-8"))
    if record.get("version") != 1:
        raise ValueError(f"version {record.get('version')!r}")
    return [
        Entry(
            Path(_text(item["target"])),
            None if item["staged"] is None else Path(_text(item["staged"])),
            _hash(item["old"]),
            _hash(item["new"]),
        )
        for item in record["entries"]
    ]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not os.path.isabs(value):
        raise ValueError(f"not an absolute path: {value!r}")
    return value


def _hash(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value)):
        return value
    raise ValueError(f"not a SHA-256: {value!r}")


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
