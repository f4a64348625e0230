"""The v1alpha1 model: Policy and MeshPolicy in one canonical spelling, with source locations.

Semantics follow docs/semantics.md §A: the server mTLS mode comes from the first `mtls` peer
(null or empty means STRICT, no mtls peer means DISABLE), targets name Services and *service*
ports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from migrate.findings import Location
from migrate.load.documents import Document
from migrate.model.fields import Cursor, labels, root

GROUP = "authentication.istio.io"
KINDS = ("Policy", "MeshPolicy")


class MtlsMode(enum.Enum):
    """The server-side mTLS mode a policy gives (§A.3)."""

    STRICT = "STRICT"
    PERMISSIVE = "PERMISSIVE"
    DISABLE = "DISABLE"


class Scope(enum.Enum):
    """What a policy governs (§A.5): the mesh, a namespace, or named services."""

    MESH = "mesh"
    NAMESPACE = "namespace"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class PortSelector:
    """A service port, by number or by name (§A.2); both None when the selector is empty."""

    number: int | None
    name: str | None
    location: Location

    def __str__(self) -> str:
        return str(self.number) if self.number is not None else (self.name or "?")


@dataclass(frozen=True, slots=True)
class Target:
    """A Service named by short name, optionally restricted to some of its ports."""

    name: str
    ports: tuple[PortSelector, ...]
    labels: dict[str, str]
    location: Location


@dataclass(frozen=True, slots=True)
class Peer:
    """A peer authentication method: `mtls` (mode None when written as null) or `jwt`."""

    method: str
    mode: MtlsMode | None
    null: bool
    location: Location


@dataclass(frozen=True, slots=True)
class StringMatch:
    """One trigger-rule path condition: exact, prefix, suffix or regex ("" when empty)."""

    how: str
    value: str
    location: Location

    def __str__(self) -> str:
        return f"{self.how} {self.value}" if self.how else "(empty)"


@dataclass(frozen=True, slots=True)
class TriggerRule:
    """JWT applies on a path when no excluded entry matches and (no included or one matches)."""

    excluded: tuple[StringMatch, ...]
    included: tuple[StringMatch, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class Jwt:
    """An origin (or peer) JWT specification."""

    issuer: str
    audiences: tuple[str, ...]
    jwks_uri: str
    jwks: str
    jwt_headers: tuple[str, ...]
    jwt_params: tuple[str, ...]
    trigger_rules: tuple[TriggerRule, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class AlphaPolicy:
    """A Policy or MeshPolicy, every field in its canonical (camelCase) meaning."""

    kind: str
    name: str
    namespace: str
    targets: tuple[Target, ...]
    peers: tuple[Peer, ...]
    peer_is_optional: bool
    origins: tuple[Jwt, ...]
    origin_is_optional: bool
    principal_binding: str
    creation_timestamp: str
    document: Document

    @property
    def location(self) -> Location:
        """Where the policy document starts."""
        return self.document.origin.location

    @property
    def ref(self) -> str:
        """`Kind namespace/name` (MeshPolicy: `MeshPolicy name`)."""
        if self.kind == "MeshPolicy":
            return f"MeshPolicy {self.name}"
        return f"Policy {self.namespace}/{self.name}"

    @property
    def scope(self) -> Scope:
        """Mesh for MeshPolicy, service when there are targets, else namespace."""
        if self.kind == "MeshPolicy":
            return Scope.MESH
        return Scope.SERVICE if self.targets else Scope.NAMESPACE

    @property
    def mtls_peer(self) -> Peer | None:
        """The first `mtls` peer, the one Pilot reads (§A.3)."""
        return next((p for p in self.peers if p.method == "mtls"), None)

    @property
    def mtls_mode(self) -> MtlsMode:
        """The server mode: STRICT for a null or empty mtls, DISABLE without an mtls peer."""
        peer = self.mtls_peer
        if peer is None:
            return MtlsMode.DISABLE
        return peer.mode or MtlsMode.STRICT

    @property
    def issuers(self) -> tuple[str, ...]:
        """Issuers of the origin JWTs, in order."""
        return tuple(o.issuer for o in self.origins)

    def sort_key(self) -> tuple[str, str]:
        """Pilot's order among policies: creationTimestamp, then `name.namespace` (§A.5)."""
        return self.creation_timestamp, f"{self.name}.{self.namespace}"


_MODES = {
    "STRICT": MtlsMode.STRICT,
    "PERMISSIVE": MtlsMode.PERMISSIVE,
    0: MtlsMode.STRICT,
    1: MtlsMode.PERMISSIVE,
}
_BINDINGS = {"USE_PEER": "USE_PEER", "USE_ORIGIN": "USE_ORIGIN", 0: "USE_PEER", 1: "USE_ORIGIN"}


def is_alpha_policy(doc: Document) -> bool:
    """True for Policy and MeshPolicy of authentication.istio.io."""
    return doc.group == GROUP and doc.kind in KINDS


def build_alpha(doc: Document, namespace: str) -> AlphaPolicy:
    """The model of a validated alpha policy document; `namespace` is its effective namespace."""
    spec = root(doc, ("spec",))
    metadata = doc.metadata
    return AlphaPolicy(
        kind=doc.kind,
        name=doc.name,
        namespace="" if doc.kind == "MeshPolicy" else namespace,
        targets=tuple(_target(c) for c in spec.field("targets").items()),
        peers=tuple(_peer(c) for c in spec.field("peers").items()),
        peer_is_optional=spec.field("peerIsOptional", "peer_is_optional").flag(),
        origins=tuple(_jwt(c.field("jwt")) for c in spec.field("origins").items()),
        origin_is_optional=spec.field("originIsOptional", "origin_is_optional").flag(),
        principal_binding=_BINDINGS.get(
            spec.field("principalBinding", "principal_binding").value, "USE_PEER"
        ),
        creation_timestamp=str(metadata.get("creationTimestamp") or ""),
        document=doc,
    )


def _target(cursor: Cursor) -> Target:
    return Target(
        name=cursor.field("name").text(),
        ports=tuple(_port(c) for c in cursor.field("ports").items()),
        labels=labels(cursor.field("labels").value),
        location=cursor.location,
    )


def _port(cursor: Cursor) -> PortSelector:
    number = cursor.field("number").value
    name = cursor.field("name").value
    return PortSelector(
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        name=str(name) if name not in (None, "") else None,
        location=cursor.location,
    )


def _peer(cursor: Cursor) -> Peer:
    value = cursor.value if isinstance(cursor.value, dict) else {}
    if "mtls" in value:
        mtls = cursor.field("mtls")
        mode = (
            root(cursor.doc, (*mtls.path, "mode")).value if isinstance(mtls.value, dict) else None
        )
        return Peer(
            "mtls",
            _MODES.get(mode, MtlsMode.STRICT) if mtls.value is not None else None,
            mtls.value is None,
            cursor.location,
        )
    method = "jwt" if "jwt" in value else ""
    return Peer(method, None, False, cursor.location)


def _jwt(cursor: Cursor) -> Jwt:
    return Jwt(
        issuer=cursor.field("issuer").text(),
        audiences=cursor.field("audiences").strings(),
        jwks_uri=cursor.field("jwksUri", "jwks_uri").text(),
        jwks=cursor.field("jwks").text(),
        jwt_headers=cursor.field("jwtHeaders", "jwt_headers").strings(),
        jwt_params=cursor.field("jwtParams", "jwt_params").strings(),
        trigger_rules=tuple(
            _rule(c) for c in cursor.field("triggerRules", "trigger_rules").items()
        ),
        location=cursor.location,
    )


def _rule(cursor: Cursor) -> TriggerRule:
    return TriggerRule(
        excluded=tuple(_match(c) for c in cursor.field("excludedPaths", "excluded_paths").items()),
        included=tuple(_match(c) for c in cursor.field("includedPaths", "included_paths").items()),
        location=cursor.location,
    )


def _match(cursor: Cursor) -> StringMatch:
    value = cursor.value if isinstance(cursor.value, dict) else {}
    for how in ("exact", "prefix", "suffix", "regex"):
        if how in value and value[how] is not None:
            return StringMatch(how, str(value[how]), cursor.location)
    return StringMatch("", "", cursor.location)
