"""What each kustomization lists beyond its resources: the patches of its overlays.

A patch file is not a resource: kustomize applies it to a resource of a base, it is never
applied to a cluster on its own. Three spellings list patches:

    patchesStrategicMerge: [file or inline YAML]          (the patch names its target)
    patchesJson6902: [{target: {...}, path: file}]        (`- op: replace` lists)
    patches: [{path: file | patch: inline, target: {...}}]

`patch_index` reads them from the kustomizations among the inputs, so that a patch file is
neither validated as a resource nor indexed as a policy, and so that `convert` knows which
policies an overlay patches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from migrate.findings import Location
from migrate.load.documents import Document, LoadResult
from migrate.load.namespaces import KUSTOMIZATION_NAMES
from migrate.load.yamlio import compose_documents

PATCH_KEYS = ("patchesStrategicMerge", "patchesJson6902", "patches")


@dataclass(frozen=True, slots=True)
class PatchTarget:
    """Which resources a patch applies to; a field left out matches any value, and the
    fields kustomize matches as regular expressions are kept as written."""

    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    group: str | None = None
    selects_by_labels: bool = False
    """A label or annotation selector also narrows it (not read: treated as matching)."""

    def matches(self, kind: str, name: str, namespace: str, group: str) -> bool:
        """True when the patch may apply to that resource (an unreadable pattern matches)."""
        wanted = ((self.kind, kind), (self.name, name), (self.namespace, namespace))
        if self.group is not None and self.group != group:
            return False
        return all(pattern is None or _full_match(pattern, value) for pattern, value in wanted)


@dataclass(frozen=True, slots=True)
class Patch:
    """One patch an overlay applies: where it is written, its file (None when inline) and
    the resources it targets."""

    style: str
    """`strategic merge` or `JSON 6902`."""
    location: Location
    kustomization: Path
    file: Path | None
    targets: tuple[PatchTarget, ...]
    entry: tuple[str, int] = ("patches", 0)
    """The kustomization's key that lists it, and its index there."""

    def patches(self, kind: str, name: str, namespace: str, group: str) -> bool:
        """True when this patch may change that resource."""
        return any(t.matches(kind, name, namespace, group) for t in self.targets)


@dataclass(frozen=True, slots=True)
class PatchIndex:
    """Every patch of the kustomizations read, and the files that are patches only."""

    patches: tuple[Patch, ...] = ()
    files: frozenset[Path] = frozenset()
    """Resolved paths of files listed as patches and never as resources."""

    def of(self, kind: str, name: str, namespace: str, group: str) -> list[Patch]:
        """The patches that may change that resource."""
        return [p for p in self.patches if p.patches(kind, name, namespace, group)]


def patch_index(result: LoadResult) -> PatchIndex:
    """The patches listed by the kustomizations among `result`'s files."""
    patches: list[Patch] = []
    resources: set[Path] = set()
    for loaded in result.files:
        path = loaded.source.path
        if path is None or path.name not in KUSTOMIZATION_NAMES:
            continue
        for doc in loaded.documents:
            resources.update(_resources(path.parent, doc.data))
            patches.extend(_patches(path, loaded.source.display, doc))
    files = {p.file.resolve() for p in patches if p.file is not None}
    return PatchIndex(tuple(patches), frozenset(files - resources))


def _resources(base: Path, data: dict[str, Any]) -> set[Path]:
    listed = [e for key in ("resources", "bases", "components") for e in _list(data.get(key))]
    return {(base / e).resolve() for e in listed if isinstance(e, str)}


def _patches(kustomization: Path, display: str, doc: Document) -> list[Patch]:
    base = kustomization.parent
    found: list[Patch] = []
    for key in PATCH_KEYS:
        for index, entry in enumerate(_list(doc.data.get(key))):
            where = doc.locate((key, index))
            location = Location(display, where.line, where.column)
            at = (key, index)
            if isinstance(entry, str):  # patchesStrategicMerge: a file, or the patch inline
                named = base / entry
                if "\n" not in entry and named.is_file():
                    found.append(
                        _smp(
                            location,
                            kustomization,
                            file=named,
                            text=_read(named),
                            given=(),
                            entry=at,
                        )
                    )
                else:
                    found.append(
                        _smp(location, kustomization, file=None, text=entry, given=(), entry=at)
                    )
                continue
            if not isinstance(entry, dict):
                continue
            target = _target(entry.get("target"))
            given = (target,) if target is not None else ()
            path = entry.get("path")
            file = base / path if isinstance(path, str) else None
            text = _read(file) if file is not None else str(entry.get("patch") or "")
            json6902 = key == "patchesJson6902" or text.lstrip().startswith(("-", "["))
            if json6902:
                found.append(Patch("JSON 6902", location, kustomization, file, given or _ANY, at))
            else:
                found.append(
                    _smp(location, kustomization, file=file, text=text, given=given, entry=at)
                )
    return found


_ANY = (PatchTarget(),)


def _smp(
    location: Location,
    kustomization: Path,
    *,
    file: Path | None,
    text: str,
    given: tuple[PatchTarget, ...],
    entry: tuple[str, int],
) -> Patch:
    """A strategic-merge patch: its target is given, else what its documents name."""
    targets = given or tuple(_named(text)) or _ANY
    return Patch("strategic merge", location, kustomization, file, targets, entry)


def _named(text: str) -> list[PatchTarget]:
    """The resources a strategic-merge patch's documents name (kind, name, namespace)."""
    named = []
    try:
        nodes = [n for n in compose_documents(text) if n is not None]
        values = [yaml.safe_load(yaml.serialize(n)) for n in nodes]
    except yaml.YAMLError:
        return []
    for value in values:
        if not isinstance(value, dict):
            continue
        metadata = value.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        api_version = value.get("apiVersion")

        def exactly(field: Any) -> str | None:
            return None if field is None else re.escape(str(field))

        named.append(
            PatchTarget(
                kind=exactly(value.get("kind")),
                name=exactly(metadata.get("name")),
                namespace=exactly(metadata.get("namespace")),
                group=api_version.rpartition("/")[0] if isinstance(api_version, str) else None,
            )
        )
    return named


def _target(value: Any) -> PatchTarget | None:
    if not isinstance(value, dict):
        return None

    def text(key: str) -> str | None:
        field = value.get(key)
        return None if field in (None, "") else str(field)

    return PatchTarget(
        kind=text("kind"),
        name=text("name"),
        namespace=text("namespace"),
        group=text("group"),
        selects_by_labels=bool(value.get("labelSelector") or value.get("annotationSelector")),
    )


def _full_match(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
