"""File arguments widened to the Kustomize trees that hold them.

A pre-commit hook passes the names of the staged files. In a Kustomize repository, a file
alone says neither its namespace (its kustomization does) nor its Services (their files do),
nor which overlays patch it. `kustomization_roots` replaces each file that a kustomization
lists with the smallest folder holding every root kustomization that reaches it and
everything those reach, so the run reads what a full run would read there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migrate.load.discover import display_path
from migrate.load.namespaces import KUSTOMIZATION_NAMES
from migrate.load.overlays import read_kustomization

_LISTING = ("resources", "bases", "components", "patchesStrategicMerge")


def kustomization_roots(paths: Sequence[str], top: Path | None = None) -> list[str]:
    """`paths` with each file a kustomization below `top` (default: the working directory)
    lists replaced by the folder holding its whole Kustomize tree; folders and `-` unchanged."""
    top = (top or Path.cwd()).resolve()
    lists = _listings(top)
    listed_by: dict[Path, set[Path]] = {}
    for folder, entries in lists.items():
        for entry in entries:
            listed_by.setdefault(entry, set()).add(folder)
    widened: list[Path | str] = []
    for given in paths:
        path = Path(given)
        if given == "-" or not path.is_file():
            widened.append(given)
            continue
        real = path.resolve()
        roots = _roots(real, listed_by)
        if not roots:
            widened.append(given)
            continue
        reached = {d for root in roots for d in _reached(root, lists)}
        widened.append(Path(os.path.commonpath([real, *reached])))
    folders = {p for p in widened if isinstance(p, Path)}
    result: list[str] = []
    for item in widened:
        if isinstance(item, str):
            result.append(item)
        elif not any(other != item and other in item.parents for other in folders):
            shown = display_path(item)
            if shown not in result:
                result.append(shown)
    return result


def _roots(file: Path, listed_by: dict[Path, set[Path]]) -> set[Path]:
    """The kustomization folders that reach `file` and that no other one lists."""
    roots: set[Path] = set()
    seen: set[Path] = set()
    pending = list(listed_by.get(file, ()))
    while pending:
        folder = pending.pop()
        if folder in seen:
            continue
        seen.add(folder)
        outer = listed_by.get(folder)
        if outer:
            pending.extend(outer)
        else:
            roots.add(folder)
    return roots


def _reached(root: Path, lists: dict[Path, set[Path]]) -> set[Path]:
    """`root` and every folder and file its kustomization reaches."""
    reached: set[Path] = set()
    pending = [root]
    while pending:
        item = pending.pop()
        if item in reached:
            continue
        reached.add(item)
        pending.extend(lists.get(item, ()))
    return reached


def _listings(top: Path) -> dict[Path, set[Path]]:
    """For each folder below `top` with a kustomization, the local paths it lists."""
    lists: dict[Path, set[Path]] = {}
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        if not any(n in files for n in KUSTOMIZATION_NAMES):
            continue
        base = Path(folder)
        data = read_kustomization(base)
        entries = [e for key in _LISTING for e in _strings(data.get(key))]
        entries += [
            e["path"]
            for key in ("patches", "patchesJson6902")
            for e in _list(data.get(key))
            if isinstance(e, dict) and isinstance(e.get("path"), str)
        ]
        listed = {(base / e).resolve() for e in entries if "\n" not in e}
        lists[base.resolve()] = {p for p in listed if p.exists()}
    return lists


def _strings(value: Any) -> list[str]:
    return [v for v in _list(value) if isinstance(v, str)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
