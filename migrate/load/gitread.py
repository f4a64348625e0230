"""Reading the manifests of a git revision through git itself (no checkout), as sources."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from migrate.errors import MigrateError
from migrate.load.discover import MANIFEST_SUFFIXES, Source


class GitError(MigrateError):
    """git could not answer (not a repository, unknown revision, git missing)."""


def repository_root(start: Path) -> Path:
    """The top of the work tree that holds `start` (a path that does not exist is looked up
    from its nearest existing directory)."""
    where = start
    while not where.is_dir() and where != where.parent:
        where = where.parent
    try:
        out = _git(where, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(f"{start} is not in a git repository") from None
    return Path(out.decode().strip())


def sources_at(revision: str, paths: Sequence[str], *, cwd: Path | None = None) -> list[Source]:
    """The manifests under `paths` (files or directories, relative to `cwd`) as they are at
    `revision`, named by the same display paths as in the work tree. The repository is the
    one that holds the first path, wherever the command runs from."""
    cwd = (cwd or Path.cwd()).resolve()
    given = paths[0] if paths else "."
    try:
        root = repository_root((cwd / given).resolve())
    except GitError:
        raise GitError(f"{given} is not in a git repository") from None
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except GitError:
        raise GitError(f"unknown revision {revision!r} in {root.name}") from None
    prefixes = [_in_repo(Path(p), cwd, root) for p in paths or ["."]]
    listed = _git(root, "ls-tree", "-r", "-z", revision, "--", *[p or "." for p in prefixes])
    blobs = {}
    for entry in listed.decode().split("\0"):
        meta, _, name = entry.partition("\t")
        if name and meta.split(" ")[1:2] == ["blob"] and _is_manifest(name, prefixes):
            blobs[name] = meta.split(" ")[2]
    names = sorted(blobs)
    contents = _blobs(root, [blobs[n] for n in names])
    # `path` names where the file sits in the work tree, so kustomizations resolve; the bytes
    # come from the revision
    return [
        Source(display=_display(root / n, cwd), path=root / n, root=root, content=content)
        for n, content in zip(names, contents, strict=True)
    ]


def _blobs(root: Path, ids: list[str]) -> list[bytes]:
    """The contents of blobs, all through one `git cat-file --batch` (not a process each)."""
    if not ids:
        return []
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{i}\n" for i in ids).encode())
    contents, at = [], 0
    for _ in ids:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split(b" ")[2])
        contents.append(out[header_end + 1 : header_end + 1 + size])
        at = header_end + 1 + size + 1  # the content is followed by a newline
    return contents


def _is_manifest(name: str, prefixes: list[str]) -> bool:
    """Hidden entries are skipped and, under a directory, only YAML and JSON are read."""
    parts = PurePosixPath(name).parts
    if any(part.startswith(".") for part in parts):
        return False
    return name in prefixes or name.lower().endswith(MANIFEST_SUFFIXES)


def _in_repo(path: Path, cwd: Path, root: Path) -> str:
    absolute = (cwd / path).resolve()
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        raise GitError(f"{path} is outside the repository {root.name}") from None
    return "" if str(relative) == "." else relative.as_posix()


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def _git(where: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", "-C", str(where), *args],
            input=stdin,
            capture_output=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip() or f"git {args[0]} failed"
        raise GitError(message)
    return result.stdout
