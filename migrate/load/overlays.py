"""Overlays: the kustomizations whose `kustomize build` is what an environment applies.

An overlay is a kustomization among the inputs that no other one includes and that builds on
something outside its own folder (`resources: [../../base]`) or patches what it includes.
Before one is built, every kustomization it reaches is read for entries kustomize would
fetch from the network (a URL, `git@...`, `github.com/...`) or find outside the tree being
proven: such an overlay is not built (`unbuildable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from migrate.load.documents import LoadResult
from migrate.load.kustomizations import PATCH_KEYS
from migrate.load.namespaces import KUSTOMIZATION_NAMES

_INCLUDING = ("resources", "bases", "components")
_FILE_KEYS = ("generators", "transformers", "validators", "crds", "configurations")
_REMOTE = ("://", "git@", "github.com/", "gitlab.com/", "bitbucket.org/")
_MAX_KUSTOMIZATIONS = 2_000


def find_overlays(result: LoadResult) -> list[Path]:
    """The folders of the overlays among the kustomizations read, in path order."""
    kustomizations = {
        loaded.source.path.resolve(): [d.data for d in loaded.documents]
        for loaded in result.files
        if loaded.source.path is not None and loaded.source.path.name in KUSTOMIZATION_NAMES
    }
    included: set[Path] = set()
    for path, documents in kustomizations.items():
        for data in documents:
            included.update(_included(path.parent, data))
    overlays = []
    for path, documents in kustomizations.items():
        if path.parent in included:
            continue
        outside = any(
            path.parent not in (p, *p.parents) for d in documents for p in _included(path.parent, d)
        )
        patches = any(d.get(key) for d in documents for key in PATCH_KEYS)
        if outside or patches:
            overlays.append(path.parent)
    return sorted(overlays)


def unbuildable(overlay: Path, tree: Path) -> str | None:
    """Why `overlay` is not built: an entry kustomize would fetch from the network, or a
    folder outside `tree`; None when every kustomization it reaches is local and inside."""
    seen: set[Path] = set()
    pending = [overlay.resolve()]
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        if len(seen) > _MAX_KUSTOMIZATIONS:
            return "it reaches too many kustomizations"
        if tree != directory and tree not in directory.parents:
            return f"it reaches {directory}, outside {tree}"
        data = read_kustomization(directory)
        for entry in _entries(data):
            if entry.startswith(_REMOTE) or "?ref=" in entry:
                return f"it lists the remote resource {entry!r}, which is not fetched"
            target = (directory / entry).resolve()
            if not target.exists():
                return f"it lists {entry!r}, which is not a file or folder of the tree"
            if target.is_dir():
                pending.append(target)
        if data.get("helmCharts") or data.get("helmChartInflationGenerator"):
            return "it inflates Helm charts, which are not rendered here"
    return None


def _entries(data: dict[str, Any]) -> list[str]:
    return [e for key in (*_INCLUDING, *_FILE_KEYS) for e in _strings(data.get(key))]


def _included(base: Path, data: dict[str, Any]) -> Iterable[Path]:
    for key in _INCLUDING:
        for entry in _strings(data.get(key)):
            target = (base / entry).resolve()
            if target.is_dir():
                yield target


def read_kustomization(directory: Path) -> dict[str, Any]:
    """The kustomization of `directory` as a mapping ({} when none or unreadable)."""
    for name in KUSTOMIZATION_NAMES:
        path = directory / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
