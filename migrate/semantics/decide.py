"""The decision function: what one configuration does with one request.

Written as Istio 1.5 runs a workload with both APIs (§C): the inbound filter chain
(mTLS mode), then jwt_authn, then istio_authn (peer and origin authentication, §A.7), then
the RBAC filters (§B.4). With only alpha or only beta resources it reduces to §A or §B.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from migrate.memo import IdentityMemo
from migrate.model.alpha import AlphaPolicy, Jwt, MtlsMode, Peer, StringMatch
from migrate.model.beta import AuthorizationPolicy, PeerMode, RequestAuthentication
from migrate.semantics.authz import Identity, authorize
from migrate.semantics.jwt import (
    Provider,
    Verification,
    alpha_providers,
    beta_providers,
    verified_issuers,
    verify_beta,
)
from migrate.semantics.request import Claims, Outcome, Request, Token, Transport, Verdict
from migrate.semantics.side import PeerSetting, Settings
from migrate.semantics.strings import Pattern

PEER_FAILED = "Peer authentication failed."
ORIGIN_FAILED = "Origin authentication failed."
RBAC_DENIED = "RBAC: access denied"
RBAC_CLOSED = "RBAC: connection closed"
"""On a TCP port an RBAC denial closes the connection; there is no HTTP status."""


@dataclass(frozen=True, slots=True)
class Applicable:
    """What applies to one destination in one configuration: the alpha policy selected for its
    service port, the beta mTLS setting, RequestAuthentications and AuthorizationPolicies."""

    alpha: AlphaPolicy | None
    peer: PeerSetting | None
    request_auths: tuple[RequestAuthentication, ...]
    authz: tuple[AuthorizationPolicy, ...]


def decide(applicable: Applicable, request: Request, settings: Settings) -> Outcome:
    """The outcome of `request` under one configuration, on the release `settings` names
    (alpha policies are not enforced where it has no v1alpha1, beta resources where it has no
    v1beta1)."""
    applicable = in_force(applicable, settings)
    refused = transport_refusal(applicable, request, settings)
    if refused is not None:
        return refused
    identity = Identity(_peer_principal(request), None)
    forwarded: bool | None = None
    if request.destination.http:
        authn = _authenticate(applicable, request, settings)
        if isinstance(authn, Outcome):
            return authn
        identity, forwarded = authn
    allowed, by = authorize(applicable.authz, request, identity)
    if not allowed:
        reason = RBAC_DENIED if request.destination.http else RBAC_CLOSED
        return Outcome(Verdict.DENY_403, reason, None, by)
    return Outcome(Verdict.ALLOW, "", forwarded if request.token else None)


def in_force(applicable: Applicable, settings: Settings) -> Applicable:
    """What of `applicable` the release enforces."""
    release = settings.release
    if applicable.alpha is not None and not release.alpha:
        applicable = Applicable(None, applicable.peer, applicable.request_auths, applicable.authz)
    if not release.beta and (applicable.peer or applicable.request_auths or applicable.authz):
        applicable = Applicable(applicable.alpha, None, (), ())
    return applicable


def mtls_mode(
    applicable: Applicable, settings: Settings | None = None
) -> tuple[MtlsMode, tuple[str, ...]]:
    """Server mode: beta if any PeerAuthentication applies, else the alpha policy's, else
    PERMISSIVE (§C); the alpha policy is None on the passthrough chain. Before 1.5 a port no
    alpha policy governs had no TLS chain at all (DISABLE, §A.3)."""
    if applicable.peer is not None:
        mode = applicable.peer.mode
        if mode is PeerMode.STRICT:
            return MtlsMode.STRICT, applicable.peer.decided_by
        if mode is PeerMode.DISABLE:
            return MtlsMode.DISABLE, applicable.peer.decided_by
        return MtlsMode.PERMISSIVE, applicable.peer.decided_by
    if applicable.alpha is not None:
        return applicable.alpha.mtls_mode, (applicable.alpha.ref,)
    if settings is not None and not settings.release.beta:
        return MtlsMode.DISABLE, ()
    return MtlsMode.PERMISSIVE, ()


def transport_refusal(
    applicable: Applicable, request: Request, settings: Settings
) -> Outcome | None:
    """The inbound filter chain: the connection refused or failed for its transport, or None.
    It reads nothing of the request but its peer."""
    mode, by = mtls_mode(applicable, settings)
    mtls = request.peer.transport is Transport.MTLS
    if mode is MtlsMode.STRICT and not mtls:
        return Outcome(Verdict.REFUSED, "", None, by)
    if mode is MtlsMode.DISABLE and mtls:
        return Outcome(Verdict.MISMATCH, "", None, by)
    return None


def _peer_principal(request: Request) -> str:
    return request.peer.principal if request.peer.transport is Transport.MTLS else ""


def _authenticate(
    applicable: Applicable, request: Request, settings: Settings
) -> Outcome | tuple[Identity, bool | None]:
    """jwt_authn then istio_authn; an Outcome when the request is rejected."""
    verified = jwt_filter(applicable, request.token, settings)
    if isinstance(verified, Outcome):
        return verified
    rejected = peer_check(applicable, request)
    if rejected is not None:
        return rejected
    payloads, forwarded = verified
    return origin_check(applicable, request, payloads, settings, forwarded)


def jwt_filter(
    applicable: Applicable, token: Token | None, settings: Settings
) -> Outcome | tuple[dict[str, Claims], bool | None]:
    """What jwt_authn makes of the token: a rejection, or the verified payloads by issuer and
    whether the token goes on to the application. It reads nothing of the request but the
    token."""
    if applicable.request_auths:
        providers = _beta_providers(applicable, settings)
        verification = _by_token(providers, token, lambda: verify_beta(providers, token))
        if verification.status:
            status = Verdict.DENY_403 if verification.status == 403 else Verdict.DENY_401
            return Outcome(status, verification.reason, None, (verification.by,))
        return _beta_payloads(applicable.request_auths, verification), verification.forwarded
    alpha = applicable.alpha
    return (_alpha_payloads(alpha, token) if alpha else {}), True


_PROVIDERS: IdentityMemo[list[Provider]] = IdentityMemo(4096)
"""Providers by the object they come from and the discovery flag: every request of a class
asks for the same ones."""


def _cached(owner: object, discovery: bool, make: Callable[[], list[Provider]]) -> list[Provider]:
    return _PROVIDERS.get((owner,), make, discovery)


def _beta_providers(applicable: Applicable, settings: Settings) -> list[Provider]:
    resources = applicable.request_auths
    discovery = settings.release.beta_discovery
    return _cached(
        resources, discovery, lambda: beta_providers(list(resources), discovery=discovery)
    )


def _alpha_providers(policy: AlphaPolicy) -> list[Provider]:
    return _cached(policy, False, lambda: alpha_providers(policy))


def _alpha_payloads(policy: AlphaPolicy, token: Token | None) -> dict[str, Claims]:
    providers = _alpha_providers(policy)
    return _by_token(providers, token, lambda: verified_issuers(providers, token))  # type: ignore[no-any-return]


_VERIFIED: IdentityMemo[Any] = IdentityMemo(65536)
"""What the JWT filters make of a token, by verifier list and token: it depends on nothing
else, and a class sends each token with every path."""


def _by_token(providers: object, token: Token | None, make: Callable[[], object]) -> Any:
    return _VERIFIED.get((providers, token), make)


def _beta_payloads(
    resources: tuple[RequestAuthentication, ...], verification: Verification
) -> dict[str, Claims]:
    claims = verification.claims
    if claims is None:
        return {}
    issuers = {rule.issuer for r in resources for rule in r.jwt_rules}
    return {claims.issuer: claims} if claims.issuer in issuers else {}


def peer_check(applicable: Applicable, request: Request) -> Outcome | None:
    """istio_authn peer authentication (§A.7): beta replaces the alpha peers, keeps
    peerIsOptional (§C). It reads nothing of the request but its peer."""
    alpha = applicable.alpha
    optional = alpha.peer_is_optional if alpha else False
    mtls = request.peer.transport is Transport.MTLS
    foreign = request.peer.foreign
    if applicable.peer is not None:
        mode = applicable.peer.mode
        # DISABLE gives the filter no peer method; the mtls method refuses a certificate of
        # another trust domain, and accepts plaintext only when PERMISSIVE (§A.7, §B.2)
        peers_ok = mode is PeerMode.DISABLE or (
            not foreign if mtls else mode in (PeerMode.PERMISSIVE, PeerMode.UNSET)
        )
        if peers_ok or optional:
            return None
        return Outcome(Verdict.DENY_401, PEER_FAILED, None, applicable.peer.decided_by)
    if alpha is None or not alpha.peers:
        return None
    if any(_peer_ok(p, mtls, foreign) for p in alpha.peers) or optional:
        return None
    return Outcome(Verdict.DENY_401, PEER_FAILED, None, (alpha.ref,))


def _peer_ok(peer: Peer, mtls: bool, foreign: bool) -> bool:
    if peer.method == "mtls":
        return not foreign if mtls else peer.mode is MtlsMode.PERMISSIVE
    return False  # peer JWT was never available (§A.2); it never succeeds


def origin_check(
    applicable: Applicable,
    request: Request,
    payloads: dict[str, Claims],
    settings: Settings,
    forwarded: bool | None,
) -> Outcome | tuple[Identity, bool | None]:
    """istio_authn origin authentication (§A.7); a RequestAuthentication turns alpha's
    origins into optional issuer-only ones with USE_ORIGIN (§C). Of the request it reads the
    peer, the path and whether it is a CORS preflight, never the token (`payloads` and
    `forwarded` are what jwt_authn made of it)."""
    return origin_checks(
        applicable,
        (request,),
        (request.is_cors_preflight,),
        payloads,
        settings=settings,
        forwarded=forwarded,
    )[0]


def origin_checks(
    applicable: Applicable,
    requests: Sequence[Request],
    preflights: Sequence[bool],
    payloads: dict[str, Claims],
    *,
    settings: Settings,
    forwarded: bool | None,
) -> list[Outcome | tuple[Identity, bool | None]]:
    """`origin_check` of each request (`preflights`: whether each is a CORS preflight) with
    the same token: what depends only on the configuration and the token is found once, and
    requests with the same result share one object."""
    alpha = applicable.alpha
    origins, optional, binding = _origin_rules(applicable)
    by_origin = binding == "USE_ORIGIN"
    none_to_meet = not origins and by_origin
    bypass = settings.release.cors_bypass
    strip = settings.release.strip_query
    failed: Outcome | None = None
    made: dict[tuple[str, Claims | None], tuple[Identity, bool | None]] = {}
    found: list[Outcome | tuple[Identity, bool | None]] = []
    for request, preflight in zip(requests, preflights, strict=True):
        claims: Claims | None = None
        if none_to_meet:
            ok = False
        elif bypass and preflight:
            ok = True
        else:  # proxies from 1.4.4 drop the query before matching trigger rules (§A.7)
            path = request.path.split("?", 1)[0] if strip else request.path
            ok, claims = _meets(origins, path, payloads)
        if not ok and not optional:
            if failed is None:
                by = (alpha.ref,) if alpha is not None else ()
                failed = Outcome(Verdict.DENY_401, ORIGIN_FAILED, None, by)
            found.append(failed)
            continue
        principal = (claims.principal if claims else "") if by_origin else _peer_principal(request)
        passed = made.get((principal, claims))
        if passed is None:
            passed = made[principal, claims] = (Identity(principal, claims), forwarded)
        found.append(passed)
    return found


def _origin_rules(applicable: Applicable) -> tuple[list[Jwt], bool, str]:
    """The origins istio_authn checks, whether they are optional, and the principal binding."""
    alpha = applicable.alpha
    if applicable.request_auths:
        origins = _ISSUER_ONLY.get((applicable.request_auths,), lambda: _issuers_only(applicable))
        return origins, True, "USE_ORIGIN"
    if alpha is not None:
        return list(alpha.origins), alpha.origin_is_optional, alpha.principal_binding
    return [], False, "USE_PEER"


def _meets(
    origins: list[Jwt], path: str, payloads: dict[str, Claims]
) -> tuple[bool, Claims | None]:
    """Whether a request on `path` meets the origins (none triggered, or one triggered
    with a verified token of its issuer), and that token's claims."""
    triggered = False
    for origin in origins:
        if should_validate(path, origin):
            triggered = True
            claims = payloads.get(origin.issuer)
            if claims is not None:
                return True, claims
    return not triggered, None


_ISSUER_ONLY: IdentityMemo[list[Jwt]] = IdentityMemo(4096)
"""The issuer-only origins a set of RequestAuthentications leaves istio_authn (§C)."""


def _issuers_only(applicable: Applicable) -> list[Jwt]:
    issuers = sorted({rule.issuer for r in applicable.request_auths for rule in r.jwt_rules})
    return [_issuer_only(i) for i in issuers]


def _issuer_only(issuer: str) -> Jwt:
    from migrate.findings import Location

    return Jwt(issuer, (), "", "", (), (), (), Location(""))


_TRIGGERED: IdentityMemo[bool] = IdentityMemo(65536)


def should_validate(path: str, jwt: Jwt) -> bool:
    """True when the path is empty, there are no trigger rules, or any rule matches: no
    excluded entry matches and (no included entry, or one matches) (§A.7)."""
    if not path or not jwt.trigger_rules:
        return True
    return _TRIGGERED.get((jwt,), lambda: _triggered(path, jwt), path)


def _triggered(path: str, jwt: Jwt) -> bool:
    return any(
        not any(matches(m, path) for m in rule.excluded)
        and (not rule.included or any(matches(m, path) for m in rule.included))
        for rule in jwt.trigger_rules
    )


def matches(match: StringMatch, path: str) -> bool:
    """A trigger-rule StringMatch on a concrete path; an empty one never matches (§A.7)."""
    pattern = as_pattern(match)
    return pattern is not None and pattern.matches(path)


@functools.lru_cache(maxsize=65536)
def as_pattern(match: StringMatch) -> Pattern | None:
    """The string pattern of a StringMatch (None for an empty one)."""
    if not match.how:
        return None
    return Pattern(match.how, match.value)
