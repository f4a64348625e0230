"""Reading the manifests of a git revision through git itself (no checkout), as sources."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from migrate.findings import Finding, Location, Severity
from migrate.load.discover import MANIFEST_SUFFIXES, Discovery, Source, is_utf8_name
from migrate.load.gitcmd import GitError, git_output

__all__ = ["GitError", "repository_root", "sources_at"]


def repository_root(start: Path) -> Path:
    """The top of the work tree that holds `start` (a path that does not exist is looked up
    from its nearest existing directory)."""
    where = start
    while not where.is_dir() and where != where.parent:
        where = where.parent
    try:
        out = git_output(where, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(f"{start} is not in a git repository") from None
    return Path(os.fsdecode(out.strip()))


def sources_at(revision: str, paths: Sequence[str], *, cwd: Path | None = None) -> Discovery:
    """The manifests under `paths` (files or directories, relative to `cwd`) as they are at
    `revision`, named by the same display paths as in the work tree; a name that is not
    UTF-8 is a finding instead. The repository is the one that holds the first path,
    wherever the command runs from."""
    cwd = (cwd or Path.cwd()).resolve()
    given = paths[0] if paths else "."
    try:
        root = repository_root((cwd / given).resolve())
    except GitError:
        raise GitError(f"{given} is not in a git repository") from None
    try:
        git_output(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except GitError:
        raise GitError(f"unknown revision {revision!r} in {root.name}") from None
    prefixes = [_in_repo(Path(p), cwd, root) for p in paths or ["."]]
    listed = git_output(root, "ls-tree", "-r", "-z", revision, "--", *[p or "." for p in prefixes])
    blobs = {}
    findings = []
    for entry in listed.split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        name = os.fsdecode(raw)
        if not (name and meta.split(b" ")[1:2] == [b"blob"] and _is_manifest(name, prefixes)):
            continue
        if is_utf8_name(name):
            blobs[name] = meta.split(b" ")[2].decode()
        else:
            where = Location(f"{_display(root / name, cwd)} at {revision}")
            message = "file name is not valid UTF-8; not read"
            findings.append(Finding("AM015", Severity.ERROR, message, where))
    names = sorted(blobs)
    contents = _blobs(root, [blobs[n] for n in names])
    # `path` names where the file sits in the work tree, so kustomizations resolve; the bytes
    # come from the revision
    sources = [
        Source(display=_display(root / n, cwd), path=root / n, root=root, content=content)
        for n, content in zip(names, contents, strict=True)
    ]
    return Discovery(tuple(sources), tuple(findings))


def _blobs(root: Path, ids: list[str]) -> list[bytes]:
    """The contents of blobs, all through one `git cat-file --batch` (not a process each)."""
    if not ids:
        return []
    out = git_output(root, "cat-file", "--batch", stdin="".join(f"{i}\n" for i in ids).encode())
    contents, at = [], 0
    for ident in ids:
        header_end = out.find(b"\n", at)
        header = out[at:header_end].split(b" ")
        if header_end < 0 or len(header) != 3 or not header[2].isdigit():
            raise GitError(f"git cannot read object {ident} (missing from this clone?)")
        size = int(header[2])
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
