"""Discovery: turn the paths a user names into the list of files to read, with findings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate.findings import Finding, Location, Severity
from migrate.load.gitcmd import GitError, run_git
from migrate.load.regular import kernel_file_system

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


@dataclass(frozen=True, slots=True)
class Source:
    """One input to read: a file on disk, standard input when `path` is None, or bytes held
    in memory (`content`, e.g. a file at a git revision)."""

    display: str
    path: Path | None
    root: Path | None = None
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    """The files found under the given paths, and what could not be followed."""

    sources: tuple[Source, ...]
    findings: tuple[Finding, ...]


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when below it, led by
    `./` when it would start with a colon (a line of output must not start like a CI
    runner's `::command::`)."""
    try:
        shown = path.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        shown = path.as_posix()
    return f"./{shown}" if shown.startswith(":") else shown


def discover(paths: Sequence[str]) -> Discovery:
    """Expand files, directories (recursively) and `-` into sources, in a stable order."""
    sources: list[Source] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    for given in paths:
        if given == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                sources.append(Source(display="<stdin>", path=None))
            continue
        found, problems = _expand(Path(given))
        findings.extend(problems)
        for source in found:
            key = str(source.path.resolve()) if source.path else STDIN
            if key not in seen:
                seen.add(key)
                sources.append(source)
    return Discovery(tuple(sources), tuple(findings))


def _expand(path: Path) -> tuple[list[Source], list[Finding]]:
    """The sources one command-line path stands for."""
    kernel = kernel_file_system(path)
    if kernel is not None:
        return [], [_finding("AM006", f"{kernel} is a kernel file system; not read", path)]
    if not path.exists() and not path.is_symlink():
        return [], [_finding("AM011", f"no such file or directory: {path}", path)]
    if not is_utf8_name(path.name):
        return [], [_not_utf8(path)]
    if path.is_dir():
        return _walk(path)
    if path.is_symlink() and not path.exists():
        return [], [_finding("AM006", "broken symbolic link", path)]
    return [Source(display=display_path(path), path=path, root=path.parent)], []


def _walk(root: Path) -> tuple[list[Source], list[Finding]]:
    """Every manifest below `root`: hidden entries, links leaving the tree and git-ignored files
    are skipped; links are followed inside the tree, each real directory once."""
    real_root = root.resolve()
    found: list[Path] = []
    findings: list[Finding] = []
    visited: set[Path] = set()
    stack: list[Path] = [root]
    linked: list[Path] = []  # followed after the real directories, so files keep real paths
    while stack or linked:
        directory = stack.pop() if stack else linked.pop(0)
        real = directory.resolve()
        if real in visited:
            continue
        visited.add(real)
        kernel = kernel_file_system(real)
        if kernel is not None:
            message = f"{kernel} is a kernel file system; not read"
            findings.append(_finding("AM006", message, directory))
            continue
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            findings.append(_finding("AM006", f"cannot list directory: {exc.strerror}", directory))
            continue
        subdirs: list[Path] = []
        for entry in entries:
            kind, problem = _classify(entry, real_root)
            if problem is not None:
                findings.append(problem)
            elif kind == "dir":
                subdirs.append(Path(entry.path))
            elif kind == "linked-dir":
                linked.append(Path(entry.path))
            elif kind == "manifest":
                found.append(Path(entry.path))
        stack.extend(reversed(subdirs))
    ignored = listed_ignored(root, found)
    files = sorted((p for p in found if p not in ignored), key=lambda p: p.as_posix())
    return [Source(display=display_path(p), path=p, root=root) for p in files], findings


def _classify(entry: os.DirEntry[str], real_root: Path) -> tuple[str, Finding | None]:
    """What a directory entry is to the walk: "dir", "linked-dir", "manifest" or "" (skipped),
    or the finding that refuses it. Hidden entries are skipped; a name that is not UTF-8, or a
    link leaving the tree, is refused."""
    if entry.name.startswith("."):
        return "", None
    path = Path(entry.path)
    is_manifest = entry.name.lower().endswith(MANIFEST_SUFFIXES)
    if not is_utf8_name(entry.name):
        return "", _not_utf8(path) if is_manifest or entry.is_dir() else None
    if entry.is_symlink():
        problem = _check_link(path, real_root)
        if problem is not None:
            return "", problem
        return ("linked-dir" if entry.is_dir() else "manifest" if is_manifest else ""), None
    if entry.is_dir():
        return "dir", None
    return ("manifest" if is_manifest else ""), None


def _check_link(path: Path, real_root: Path) -> Finding | None:
    """A finding when a symbolic link is broken, loops, or points outside the tree."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return _finding("AM006", "broken or looping symbolic link", path)
    if target != real_root and real_root not in target.parents:
        return _finding(
            "AM007", f"symbolic link points outside {display_path(real_root)}: {target}", path
        )
    return None


def git_ignored(root: Path, files: list[Path]) -> set[Path]:
    """The files git ignores, when `root` is inside a work tree and git is installed."""
    if not files:
        return set()
    real = [p.resolve() for p in files]
    payload = b"\0".join(os.fsencode(p) for p in real) + b"\0"
    try:
        result = run_git(root, "check-ignore", "-z", "--stdin", stdin=payload, timeout=30)
    except GitError:
        return set()
    if result.returncode not in (0, 1):
        return set()
    ignored = {Path(os.fsdecode(p)) for p in result.stdout.split(b"\0") if p}
    return {p for p, resolved in zip(files, real, strict=True) if resolved in ignored}


def listed_ignored(root: Path, files: list[Path]) -> set[Path]:
    """`git_ignored` for files that exist below the directory `root` (as a walk finds them):
    what git lists as untracked and ignored below it, in one listing, instead of asking
    about each file (`git check-ignore` took git 0.17 ms a file: 3.6 s for 20,906). A folder
    listed whole (a repository nested in an ignored folder) ignores every file in it."""
    if not files:
        return set()
    try:
        result = run_git(
            root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", timeout=30
        )
    except GitError:
        return set()
    if result.returncode != 0:
        return set()
    base = root.resolve()
    listed = [os.fsdecode(p) for p in result.stdout.split(b"\0") if p]
    exact = {base / p for p in listed if not p.endswith("/")}
    folders = {base / p for p in listed if p.endswith("/")}
    found = set()
    for path in files:
        real = path.resolve()
        if real in exact or (folders and not folders.isdisjoint(real.parents)):
            found.add(path)
    return found


def is_utf8_name(name: str) -> bool:
    """True when a file name (as Python decodes it from the file system) is valid UTF-8."""
    return name.isascii() or not any(0xDC80 <= ord(char) <= 0xDCFF for char in name)


def _not_utf8(path: Path) -> Finding:
    return _finding("AM015", "file name is not valid UTF-8; not read", path)


def _finding(code: str, message: str, path: Path) -> Finding:
    return Finding(code, Severity.ERROR, message, Location(display_path(path)))
