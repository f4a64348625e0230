"""What a conversion produces: new resources with their source, and the options that shape them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from migrate.findings import Finding
from migrate.load.documents import PathKey
from migrate.workspace import PolicyEntry

DEFAULT_API_VERSION = "security.istio.io/v1beta1"


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    """Choices the user makes about the conversion."""

    api_version: str = DEFAULT_API_VERSION
    include_ignored: bool = False
    allow_stricter: bool = False
    expand_scopes: bool = False
    """Namespace- and mesh-wide JWT rules become per-Service resources from the inventory."""
    faithful_disable: bool = False
    """Alpha's DISABLE becomes DISABLE plus the client DestinationRule it then needs."""


@dataclass(frozen=True, slots=True)
class NewResource:
    """One generated resource, the alpha policy it replaces, and where commented fields went."""

    data: dict[str, Any]
    source: PolicyEntry
    moves: tuple[tuple[tuple[PathKey, ...], tuple[PathKey, ...]], ...] = ()

    @property
    def ref(self) -> str:
        """`Kind namespace/name` of the new resource."""
        meta = self.data["metadata"]
        return f"{self.data['kind']} {meta.get('namespace', '')}/{meta['name']}"


@dataclass(slots=True)
class Conversion:
    """Everything a conversion made, refused and noticed."""

    resources: list[NewResource] = field(default_factory=list)
    converted: list[PolicyEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    removed: list[PolicyEntry] = field(default_factory=list)
    """Earlier definitions a converted policy replaced in its own file: never applied, they
    go with the conversion."""

    def without(self, entries: Iterable[PolicyEntry]) -> Conversion:
        """The conversion with `entries` left as they are: their new resources, the earlier
        definitions they replaced (AM408) and the notes saying so go too."""
        gone = {id(e) for e in entries}
        refs = {e.ref for e in self.converted if id(e) in gone}
        kept = {identity(e) for e in self.converted if id(e) in gone}
        return Conversion(
            resources=[r for r in self.resources if id(r.source) not in gone],
            converted=[e for e in self.converted if id(e) not in gone],
            findings=[f for f in self.findings if not (f.code == "AM408" and f.resource in refs)],
            removed=[e for e in self.removed if identity(e) not in kept],
        )


def identity(entry: PolicyEntry) -> tuple[str, str, str]:
    """Kind, namespace and name: what makes two definitions one object."""
    return entry.document.kind, entry.namespace, entry.document.name
