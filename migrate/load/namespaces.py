"""Which namespace a document belongs to when its metadata does not say.

Order, as the issue of record asks: `metadata.namespace`; else the `namespace:` of the
kustomization that lists the file (directly or through the directories it includes, the
outermost kustomization winning as kustomize's namespace transformer does); else the
`--namespace` option; else `default`. Every choice that was not written is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.findings import Finding, Location, Severity
from migrate.load.discover import Source, display_path
from migrate.load.documents import Document, LoadResult, Origin, load_source

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def is_namespace_name(value: object) -> bool:
    """True for a valid namespace name: a DNS-1123 label (at most 63 lowercase letters,
    digits and '-', starting and ending with a letter or digit)."""
    return isinstance(value, str) and _NAMESPACE.fullmatch(value) is not None


NAMESPACE_RULE = "a namespace is a DNS-1123 label: lowercase letters, digits and '-'"


@dataclass(frozen=True, slots=True)
class Assigned:
    """A file's namespace from a kustomization, and which kustomization said so."""

    namespace: str
    kustomization: str


def kustomization_namespaces(
    result: LoadResult, findings: list[Finding] | None = None
) -> dict[Path, Assigned]:
    """For every file a kustomization with `namespace:` lists, the namespace it gets; a
    `namespace:` that is not a namespace name is ignored, with a finding added to
    `findings`."""
    listed: dict[Path, list[tuple[int, Assigned]]] = {}
    walk = _Walk(findings if findings is not None else [])
    for loaded in result.files:
        path = loaded.source.path
        if path is None or path.name not in KUSTOMIZATION_NAMES:
            continue
        for doc in loaded.documents:
            walk.reported.add(path.resolve())
            _collect(
                path,
                doc,
                listed,
                depth=0,
                seen=set(),
                inherited=None,
                walk=walk,
            )
    # reached through more includes means listed by a kustomization further out: it wins
    return {path: max(options, key=lambda o: o[0])[1] for path, options in listed.items()}


@dataclass(slots=True)
class _Walk:
    """What one walk over the kustomizations reports: findings, once per file."""

    findings: list[Finding]
    reported: set[Path] = field(default_factory=set)
    deepest: dict[tuple[Path, Assigned | None], int] = field(default_factory=dict)
    """For each kustomization walked and the namespace it inherited, the deepest it was
    walked at: walking it again no deeper adds nothing, so each is walked a bounded number of
    times however many ways it is reached (directories listing the next ones several ways)."""
    read: dict[Path, Document] = field(default_factory=dict)

    def first_at(self, kustomization: Path, inherited: Assigned | None, depth: int) -> bool:
        """True when `kustomization`, inheriting `inherited`, was not yet walked this deep
        (and remember that it now is)."""
        key = (kustomization, inherited)
        if self.deepest.get(key, -1) >= depth:
            return False
        self.deepest[key] = depth
        return True


def _namespace(doc: Document, walk: _Walk, *, report: bool) -> str | None:
    """The kustomization's `namespace:` when it is a namespace name; else None (reported)."""
    namespace = doc.data.get("namespace")
    if namespace in (None, ""):
        return None
    if is_namespace_name(namespace):
        return str(namespace)
    if report:
        message = f"kustomization namespace {namespace!r} is ignored: {NAMESPACE_RULE}"
        walk.findings.append(Finding("AM018", Severity.ERROR, message, doc.locate(("namespace",))))
    return None


def _collect(
    kustomization: Path,
    doc: Document,
    listed: dict[Path, list[tuple[int, Assigned]]],
    *,
    depth: int,
    seen: set[Path],
    inherited: Assigned | None,
    walk: _Walk,
) -> None:
    data = doc.data
    namespace = _namespace(doc, walk, report=depth == 0 or kustomization not in walk.reported)
    walk.reported.add(kustomization)
    assigned = inherited or (Assigned(namespace, doc.origin.path) if namespace else None)
    base = kustomization.parent
    entries = [e for key in ("resources", "bases", "components") for e in _strings(data.get(key))]
    for entry in entries:
        target = (base / entry).resolve()
        if target.is_dir():
            nested = _find_kustomization(target)
            if (
                nested is not None
                and nested not in seen
                and walk.first_at(nested, assigned, depth + 1)
            ):
                if nested not in walk.read:
                    walk.read[nested] = _read_kustomization(nested)
                _collect(
                    nested,
                    walk.read[nested],
                    listed,
                    depth=depth + 1,
                    seen=seen | {nested},
                    inherited=assigned,
                    walk=walk,
                )
        elif assigned is not None:
            listed.setdefault(target, []).append((depth, assigned))


def _find_kustomization(directory: Path) -> Path | None:
    return next((directory / n for n in KUSTOMIZATION_NAMES if (directory / n).is_file()), None)


def _read_kustomization(path: Path) -> Document:
    """A kustomization outside the inputs, read as the inputs are (its first document; an
    empty one when it cannot be read)."""
    loaded, _ = load_source(Source(display=display_path(path), path=path, root=path.parent))
    if loaded.documents:
        return loaded.documents[0]
    return Document(Origin(display_path(path), 0, 1, 1), {})


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(slots=True)
class NamespaceResolver:
    """Assigns effective namespaces and remembers the findings about undeclared ones."""

    kustomized: dict[Path, Assigned]
    fallback: str | None
    findings: list[Finding]

    def namespace_of(self, doc: Document, path: Path | None, *, report: bool) -> str:
        """The document's namespace; a choice the document did not write is reported."""
        declared = doc.declared_namespace
        if declared is not None:
            return declared
        key = path.resolve() if path is not None else None
        assigned = self.kustomized.get(key) if key is not None else None
        if assigned is not None:
            namespace, why = assigned.namespace, f"from {assigned.kustomization}"
        elif self.fallback is not None:
            namespace, why = self.fallback, "from --namespace"
        else:
            namespace, why = "default", "the Kubernetes default"
        if report:
            self.findings.append(
                Finding(
                    "AM013",
                    Severity.NOTE,
                    f"{doc.kind} {doc.name!r} has no metadata.namespace; "
                    f"using {namespace!r} ({why})",
                    Location(doc.origin.path, doc.origin.line, doc.origin.column),
                )
            )
        return namespace
