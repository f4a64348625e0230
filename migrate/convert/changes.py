"""Turning a proven conversion into file contents: each alpha document is replaced in its own
file by its new documents (or, with `split`, removed and its resources written to files of
their own, listed in the kustomization that listed the original), every other byte kept. The
changes are shown or written by `migrate.rewrite.files`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate import progress
from migrate.codes import Category
from migrate.convert.model import Conversion, NewResource
from migrate.findings import Finding, Location, Severity
from migrate.load.documents import LoadedFile
from migrate.load.sourcefile import SourceText
from migrate.parallel import background, map_chunks
from migrate.rewrite.documents import (
    Replacement,
    RewriteError,
    detect_style,
    render_documents,
    rewrite,
)
from migrate.rewrite.files import FileChange
from migrate.rewrite.kustomize import list_files
from migrate.workspace import PolicyEntry, Workspace

MIN_PARALLEL_FILES = 64
"""Files to rewrite before it pays to fork workers."""


def plan_changes(
    workspace: Workspace, conversion: Conversion, *, split: bool = False
) -> tuple[list[FileChange], list[Finding]]:
    """Every file change the conversion makes; a file that cannot be rewritten exactly is
    reported and left alone (its resources can still be streamed with -o yaml)."""
    return start_changes(workspace, conversion, split=split, early=False)()


def start_changes(
    workspace: Workspace, conversion: Conversion, *, split: bool = False, early: bool = True
) -> Callable[[], tuple[list[FileChange], list[Finding]]]:
    """`plan_changes`, begun now: with `early`, the files are rewritten in a process of
    their own while this one goes on (the proof needs nothing of them); the function
    returned gives the changes."""
    by_entry: dict[int, list[NewResource]] = defaultdict(list)
    for new in conversion.resources:
        by_entry[id(new.source)].append(new)
    by_file: dict[str, list[PolicyEntry]] = defaultdict(list)
    for entry in [*conversion.converted, *conversion.removed]:
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
    work = [(j[0].text, j[2]) for j in jobs]
    rewritten = background(lambda: _rewrite_spread(work)) if early else None

    def changes() -> tuple[list[FileChange], list[Finding]]:
        progress.phase("rewriting files", len(jobs))
        texts = _rewrite_spread(work) if rewritten is None else rewritten.result()
        return _changes(workspace, jobs, texts, by_entry, findings, split=split)

    return changes


def _rewrite_spread(
    work: Sequence[tuple[SourceText | None, list[Replacement]]],
) -> list[tuple[bool, str]]:
    return [
        text
        for part in map_chunks(_rewrite_all, work, min_items=MIN_PARALLEL_FILES)
        for text in part
    ]


def _changes(
    workspace: Workspace,
    jobs: list[tuple[LoadedFile, list[PolicyEntry], list[Replacement]]],
    texts: list[tuple[bool, str]],
    by_entry: dict[int, list[NewResource]],
    found: list[Finding],
    *,
    split: bool,
) -> tuple[list[FileChange], list[Finding]]:
    """The file changes from each file's new text (or why it cannot be rewritten)."""
    findings = list(found)
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
        if finding.severity is Severity.ERROR and finding.category is Category.READING:
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
