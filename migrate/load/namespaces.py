"""Which namespace a document belongs to when its metadata does not say.

Order, as the issue of record asks: `metadata.namespace`; else the `namespace:` of the
kustomization that lists the file (directly or through the directories it includes, the
outermost kustomization winning as kustomize's namespace transformer does); else the
`--namespace` option; else `default`. Every choice that was not written is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.findings import Finding, Location, Severity
from migrate.load.discover import display_path
from migrate.load.documents import Document, LoadResult

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True, slots=True)
class Assigned:
    """A file's namespace from a kustomization, and which kustomization said so."""

    namespace: str
    kustomization: str


def kustomization_namespaces(result: LoadResult) -> dict[Path, Assigned]:
    """For every file a kustomization with `namespace:` lists, the namespace it gets."""
    listed: dict[Path, list[tuple[int, Assigned]]] = {}
    for loaded in result.files:
        path = loaded.source.path
        if path is None or path.name not in KUSTOMIZATION_NAMES:
            continue
        for doc in loaded.documents:
            _collect(
                path,
                doc.data,
                listed,
                depth=0,
                seen=set(),
                inherited=None,
                display=loaded.source.display,
            )
    # reached through more includes means listed by a kustomization further out: it wins
    return {path: max(options, key=lambda o: o[0])[1] for path, options in listed.items()}


def _collect(
    kustomization: Path,
    data: dict[str, Any],
    listed: dict[Path, list[tuple[int, Assigned]]],
    *,
    depth: int,
    seen: set[Path],
    inherited: Assigned | None,
    display: str,
) -> None:
    namespace = data.get("namespace")
    assigned = inherited or (Assigned(str(namespace), display) if namespace else None)
    base = kustomization.parent
    entries = [e for key in ("resources", "bases", "components") for e in _strings(data.get(key))]
    for entry in entries:
        target = (base / entry).resolve()
        if target.is_dir():
            nested = _find_kustomization(target)
            if nested is not None and nested not in seen:
                _collect(
                    nested,
                    _read_kustomization(nested),
                    listed,
                    depth=depth + 1,
                    seen=seen | {nested},
                    inherited=assigned,
                    display=display_path(nested),
                )
        elif assigned is not None:
            listed.setdefault(target, []).append((depth, assigned))


def _find_kustomization(directory: Path) -> Path | None:
    return next((directory / n for n in KUSTOMIZATION_NAMES if (directory / n).is_file()), None)


def _read_kustomization(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


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
