"""The v1beta1 model: PeerAuthentication, RequestAuthentication and AuthorizationPolicy (§B)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from migrate.findings import Location
from migrate.load.documents import Document
from migrate.model.fields import Cursor, labels, root
from migrate.model.inventory import is_port_text

GROUP = "security.istio.io"
KINDS = ("PeerAuthentication", "RequestAuthentication", "AuthorizationPolicy")


class PeerMode(enum.Enum):
    """PeerAuthentication mTLS modes; UNSET inherits from the parent scope (§B.2)."""

    UNSET = "UNSET"
    DISABLE = "DISABLE"
    PERMISSIVE = "PERMISSIVE"
    STRICT = "STRICT"


PROVENANCE = "authn-migrate.io/converted-from"
"""The annotation naming the v1alpha1 policies a resource was converted from."""


@dataclass(frozen=True, slots=True)
class Meta:
    """What every beta resource has: identity, selector (None = whole scope), age, origin."""

    kind: str
    name: str
    namespace: str
    selector: dict[str, str] | None
    creation_timestamp: str
    document: Document

    @property
    def ref(self) -> str:
        """`Kind namespace/name`."""
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def location(self) -> Location:
        """Where the resource document starts."""
        return self.document.origin.location

    @property
    def converted_from(self) -> tuple[str, ...]:
        """The v1alpha1 policies its provenance annotation names (`Kind namespace/name`)."""
        annotations = self.document.metadata.get("annotations")
        value = annotations.get(PROVENANCE) if isinstance(annotations, dict) else None
        return tuple(v for v in str(value).split(", ") if v) if isinstance(value, str) else ()


@dataclass(frozen=True, slots=True)
class PeerAuthentication:
    """Workload mTLS mode and per-container-port overrides."""

    meta: Meta
    mode: PeerMode
    port_level: tuple[tuple[int, PeerMode], ...]


@dataclass(frozen=True, slots=True)
class JwtRule:
    """One issuer a RequestAuthentication accepts, and where its token is read from."""

    issuer: str
    audiences: tuple[str, ...]
    jwks_uri: str
    jwks: str
    from_headers: tuple[tuple[str, str], ...]
    from_params: tuple[str, ...]
    forward_original_token: bool
    output_payload_to_header: str


@dataclass(frozen=True, slots=True)
class RequestAuthentication:
    """Tokens a workload validates; never requires one (§B.3)."""

    meta: Meta
    jwt_rules: tuple[JwtRule, ...]


@dataclass(frozen=True, slots=True)
class Source:
    """`from.source`: each present field is a list, a `not*` field negates (§B.4)."""

    fields: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Operation:
    """`to.operation`: hosts, ports, methods, paths and their negations (§B.4)."""

    fields: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """`when`: a request attribute key with values or notValues."""

    key: str
    values: tuple[str, ...]
    not_values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """OR over `from`, AND OR over `to`, AND every `when` (an absent list matches any)."""

    sources: tuple[Source, ...] | None
    operations: tuple[Operation, ...] | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    """DENY is evaluated first, then ALLOW; `rules` None matches nothing (§B.4)."""

    meta: Meta
    action: str
    rules: tuple[Rule, ...] | None


BetaResource = PeerAuthentication | RequestAuthentication | AuthorizationPolicy

_SOURCE_FIELDS = (
    "principals",
    "notPrincipals",
    "requestPrincipals",
    "notRequestPrincipals",
    "namespaces",
    "notNamespaces",
    "ipBlocks",
    "notIpBlocks",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
)
_OPERATION_FIELDS = (
    "hosts",
    "notHosts",
    "ports",
    "notPorts",
    "methods",
    "notMethods",
    "paths",
    "notPaths",
)


def is_beta_resource(doc: Document) -> bool:
    """True for the three security.istio.io kinds (v1beta1 or v1)."""
    return doc.group == GROUP and doc.kind in KINDS


def build_beta(doc: Document, namespace: str) -> BetaResource:
    """The model of a validated beta resource; `namespace` is its effective namespace."""
    spec = root(doc, ("spec",))
    selector = spec.field("selector")
    meta = Meta(
        kind=doc.kind,
        name=doc.name,
        namespace=namespace,
        selector=None
        if selector.value is None
        else labels(selector.field("matchLabels", "match_labels").value),
        creation_timestamp=str(doc.metadata.get("creationTimestamp") or ""),
        document=doc,
    )
    if doc.kind == "PeerAuthentication":
        return _peer_authentication(meta, spec)
    if doc.kind == "RequestAuthentication":
        return RequestAuthentication(
            meta, tuple(_jwt_rule(c) for c in spec.field("jwtRules", "jwt_rules").items())
        )
    rules = spec.field("rules")
    return AuthorizationPolicy(
        meta,
        action=spec.field("action").text() or "ALLOW",
        rules=None if rules.value is None else tuple(_rule(c) for c in rules.items()),
    )


def _mode(cursor: Cursor) -> PeerMode:
    mode = cursor.field("mode").value
    return PeerMode(mode) if mode in PeerMode.__members__ else PeerMode.UNSET


def _peer_authentication(meta: Meta, spec: Cursor) -> PeerAuthentication:
    ports = spec.field("portLevelMtls", "port_level_mtls").value
    port_level = tuple(
        sorted(
            (int(port), _mode(Cursor(spec.doc, (), value)))
            for port, value in (ports.items() if isinstance(ports, dict) else ())
            if is_port_text(str(port))
        )
    )
    return PeerAuthentication(meta, _mode(spec.field("mtls")), port_level)


def _jwt_rule(cursor: Cursor) -> JwtRule:
    return JwtRule(
        issuer=cursor.field("issuer").text(),
        audiences=cursor.field("audiences").strings(),
        jwks_uri=cursor.field("jwksUri", "jwks_uri").text(),
        jwks=cursor.field("jwks").text(),
        from_headers=tuple(
            (c.field("name").text(), c.field("prefix").text())
            for c in cursor.field("fromHeaders", "from_headers").items()
        ),
        from_params=cursor.field("fromParams", "from_params").strings(),
        forward_original_token=cursor.field(
            "forwardOriginalToken", "forward_original_token"
        ).flag(),
        output_payload_to_header=cursor.field(
            "outputPayloadToHeader", "output_payload_to_header"
        ).text(),
    )


def _fields(cursor: Cursor, names: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((n, cursor.field(n).strings()) for n in names if cursor.field(n).value is not None)


def _rule(cursor: Cursor) -> Rule:
    froms = cursor.field("from")
    tos = cursor.field("to")
    return Rule(
        sources=None
        if froms.value is None
        else tuple(Source(_fields(c.field("source"), _SOURCE_FIELDS)) for c in froms.items()),
        operations=None
        if tos.value is None
        else tuple(
            Operation(_fields(c.field("operation"), _OPERATION_FIELDS)) for c in tos.items()
        ),
        conditions=tuple(
            Condition(
                c.field("key").text(), c.field("values").strings(), c.field("notValues").strings()
            )
            for c in cursor.field("when").items()
        ),
    )
