"""Requests the mesh can receive and what happens to them: the vocabulary of both models."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

JWT_TEXT = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
"""The token string every modelled JWT carries; its claims are modelled separately."""
JWT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
UNCONFIGURED_ISSUER = "https://issuer.unconfigured.invalid"
UNLISTED_AUDIENCE = "audience.unlisted.invalid"
DEFAULT_PEER = "cluster.local/ns/default/sa/default"
FOREIGN_PEER = "other-domain.example/ns/default/sa/default"
"""An mTLS client whose certificate names another trust domain (a second mesh sharing the
root of trust): peer authentication refuses it unless peerIsOptional (§A.7, §D.12)."""


class Transport(enum.Enum):
    """How the client connects: plaintext, or mutual TLS with an Istio identity."""

    PLAINTEXT = "plaintext"
    MTLS = "mTLS"


@dataclass(frozen=True, slots=True)
class Peer:
    """The client side of the connection; `principal` and `namespace` only with mTLS;
    `foreign` when its certificate names another trust domain."""

    transport: Transport
    principal: str = ""
    namespace: str = ""
    foreign: bool = False

    def __str__(self) -> str:
        if self.transport is Transport.PLAINTEXT:
            return "plaintext peer"
        return f"mTLS peer {self.principal}" + (" of another trust domain" if self.foreign else "")


class Signature(enum.Enum):
    """Whether a token verifies (signature, expiry)."""

    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Claims:
    """What a token claims: issuer, whether it has `sub`, its audience, and its validity.

    `keys` are the key sources (`Provider.keys`) holding the key that signed it; empty means
    any source does. Two sources of one issuer (a `jwksUri` and the issuer's OpenID
    discovery, say) may or may not hold the same keys, so tokens signed under each are told
    apart."""

    issuer: str
    has_sub: bool
    audience: str
    signature: Signature
    keys: frozenset[str] = frozenset()

    @property
    def principal(self) -> str:
        """`iss/sub` as Istio builds it; empty without `sub` (§A.7)."""
        return f"{self.issuer}/subject" if self.has_sub else ""


@dataclass(frozen=True, slots=True)
class Token:
    """A token at one place in the request: a header (with the text before the token) or a
    query parameter."""

    kind: str
    name: str
    prefix: str
    claims: Claims

    @property
    def value(self) -> str:
        """The header or parameter value as sent."""
        return self.prefix + JWT_TEXT

    @property
    def description(self) -> str:
        """What the token is, without where it is sent: `valid token from iss, aud a`."""
        what = f"{self.claims.signature.value} token from {self.claims.issuer}"
        if self.claims.signature is Signature.VALID:
            what += "" if self.claims.has_sub else " without sub"
            what += f", aud {self.claims.audience}"
            if self.claims.keys:
                what += ", signed with a key of " + " and ".join(
                    key_source_text(k) for k in sorted(self.claims.keys)
                )
        return what

    def __str__(self) -> str:
        where = (
            f"header {self.name}: {self.prefix}<jwt>"
            if self.kind == "header"
            else f"?{self.name}=<jwt>"
        )
        return f"{self.description} in {where}"


def key_source_text(source: str) -> str:
    """A key source as people read it: `https://k/jwks.json`, `the issuer's OpenID discovery`."""
    kind, _, value = source.partition(":")
    if kind == "discovery":
        return f"OpenID discovery of {value}"
    if kind == "jwks":
        return "an inline jwks"
    return value


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the request lands: a workload's container port, whose listener a Service port
    built (None when no Service declares that port: Istio's passthrough chain), and the
    condition under which it is served this way ("" when always, §F)."""

    namespace: str
    workload: str
    port: int
    http: bool
    service: str | None = None
    service_port: int | None = None
    service_port_name: str = ""
    condition: str = ""
    sniffed: bool = False
    """HTTP only because sniffing found HTTP on a port that also serves TCP (the TCP
    destination of the same port is compared too)."""
    spare: bool = field(default=False, compare=False)
    """`port` stands for every container port no Service, workload or policy names."""

    def __str__(self) -> str:
        if self.service is not None:
            via = f"{self.service}.{self.namespace}:{self.service_port}"
        elif self.spare:
            via = f"{self.workload}.{self.namespace}, a port no Service declares"
        else:
            via = f"{self.workload}.{self.namespace} port {self.port} (no Service)"
        parts = ["HTTP" if self.http else "TCP"]
        parts += [] if self.spare else [f"container port {self.port}"]
        parts += [self.condition] if self.condition else []
        return f"{via} ({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class Request:
    """One request: destination, peer, token (or none), path, method and headers."""

    destination: Destination
    peer: Peer
    token: Token | None
    path: str
    method: str
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """A request header by lower-case name, None when absent."""
        return next((v for k, v in self.headers if k == name), None)

    @property
    def is_cors_preflight(self) -> bool:
        """OPTIONS with non-empty Origin and Access-Control-Request-Method (§A.7)."""
        return (
            self.method == "OPTIONS"
            and bool(self.header("origin"))
            and bool(self.header("access-control-request-method"))
        )

    def __str__(self) -> str:
        parts = [f"{self.method} {self.path}" if self.destination.http else "TCP connection"]
        parts.append(f"to {self.destination}")
        parts.append(str(self.peer))
        if self.destination.http:
            parts.append(str(self.token) if self.token else "no token")
            parts.extend(f"{k}: {v!r}" for k, v in self.headers)
        return ", ".join(parts)


class Verdict(enum.Enum):
    """What happened to a request."""

    ALLOW = "allowed"
    REFUSED = "connection refused (mTLS required)"
    MISMATCH = "connection failed (mTLS offered to a plaintext-only port)"
    DENY_401 = "401"
    DENY_403 = "403"

    @property
    def denied(self) -> bool:
        """True for every verdict but ALLOW."""
        return self is not Verdict.ALLOW


@dataclass(frozen=True, slots=True)
class Outcome:
    """A verdict with its reason, whether the token reached the application, and (not part
    of equality) the resources that decided it."""

    verdict: Verdict
    reason: str = ""
    token_forwarded: bool | None = None
    decided_by: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        text = self.verdict.value + (f" {self.reason!r}" if self.reason else "")
        if self.verdict is Verdict.ALLOW and self.token_forwarded is False:
            text += ", token removed before the application"
        return text
