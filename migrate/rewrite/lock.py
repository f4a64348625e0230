"""One writer at a time: a lock file, holding the writer's process id, in the folder where the
write journal lives. A lock whose process no longer runs is stale and is taken over."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from migrate.errors import MigrateError
from migrate.load.discover import display_path
from migrate.rewrite.journal import JOURNAL_NAME, journal_folder

LOCK_NAME = ".authn-migrate.lock"


class LockHeld(MigrateError):
    """Another run is writing under the same paths."""


@contextlib.contextmanager
def write_lock(roots: Sequence[Path]) -> Iterator[list[str]]:
    """Hold the write lock of `roots` while the block runs; yields notes (a stale lock taken
    over). Raises LockHeld, naming the holder, when another running process holds it."""
    path = journal_folder(roots) / LOCK_NAME
    notes: list[str] = []
    for _ in range(3):
        try:
            _create(path)
        except FileExistsError:
            holder = _holder(path)
            if holder is not None and holder != os.getpid() and _running(holder):
                raise LockHeld(
                    f"another authn-migrate run (process {holder}) is writing under "
                    f"{display_path(path.parent)}; wait for it to end (if no run is, remove "
                    f"{display_path(path)})"
                ) from None
            notes.append(f"removed a stale lock left by {_who(holder)}")
            path.unlink(missing_ok=True)
            continue
        break
    else:
        raise LockHeld(f"cannot take the write lock {display_path(path)}")
    notes += _sweep_aside(path)
    try:
        yield notes
    finally:
        if _holder(path) == os.getpid():
            path.unlink(missing_ok=True)


def _create(path: Path) -> None:
    """Create the lock file holding our process id, whole or not at all (another run never
    reads it empty): written aside, then linked into place; FileExistsError when it exists."""
    aside = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    handle = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(f"{os.getpid()}\n")
        os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_ASIDE = re.compile(re.escape(LOCK_NAME) + r"\.([0-9]+)\.[0-9a-f]{8}")
"""The name `_create` writes a lock under before linking it into place."""


def _sweep_aside(path: Path) -> list[str]:
    """Remove the lock files a run killed while taking the lock left beside it (written
    aside, never linked, so never a lock), and say so; those of running processes stay."""
    notes = []
    for entry in sorted(path.parent.glob(f"{LOCK_NAME}.*")):
        match = _ASIDE.fullmatch(entry.name)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        pid = int(match[1])
        if pid != os.getpid() and not _running(pid):
            entry.unlink(missing_ok=True)
            notes.append(f"removed {entry.name}, left by {_who(pid)} while taking the lock")
    return notes


def _holder(path: Path) -> int | None:
    """The process id a lock file names, None when it names none."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")[:32].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _who(holder: int | None) -> str:
    return f"process {holder}, which no longer runs" if holder else "an unknown process"


def pending_writes(roots: Sequence[Path]) -> list[Path]:
    """The journals of interrupted writes at or below `roots` (hidden folders skipped)."""
    found: list[Path] = []
    seen: set[Path] = set()
    for root in roots:
        top = root if root.is_dir() else root.parent
        for folder, subfolders, names in os.walk(top):
            real = Path(folder).resolve()
            if real in seen:
                subfolders[:] = []
                continue
            seen.add(real)
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            if JOURNAL_NAME in names or os.path.lexists(Path(folder) / JOURNAL_NAME):
                found.append(Path(folder) / JOURNAL_NAME)
    return sorted(set(found))
