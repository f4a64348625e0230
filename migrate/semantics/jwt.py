"""JWT extraction and verification as Envoy's jwt_authn filter does it, for both APIs.

Alpha (§A.6, §A.7): one provider per origin, requirement allow_missing_or_failed: the filter
never rejects, it only records verified payloads. Beta (§B.3): one provider per jwtRule of every
applicable RequestAuthentication; a token at a configured location must verify or the request
is rejected (401, or 403 for a wrong audience); a missing token passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.model.alpha import AlphaPolicy, Jwt
from migrate.model.beta import RequestAuthentication
from migrate.semantics.request import JWT_CHARS, JWT_TEXT, Claims, Signature, Token

TokenPlace = tuple[str, str, str]
"""(kind, name, prefix): a header with the text expected before the token, or a parameter."""
DEFAULT_LOCATIONS: tuple[TokenPlace, ...] = (
    ("header", "authorization", "Bearer "),
    ("param", "access_token", ""),
)


@dataclass(frozen=True, slots=True)
class Provider:
    """One issuer's verifier: where it reads tokens, which audiences it accepts, where its
    keys come from (`uri:<jwksUri>`, `jwks:<inline>`, `discovery:<issuer>`; "" when it has
    none and verifies no token), and whether a verified token is forwarded."""

    issuer: str
    audiences: tuple[str, ...]
    locations: tuple[TokenPlace, ...]
    keys: str
    forward: bool
    ref: str


def key_source(issuer: str, jwks_uri: str, jwks: str, *, discovery: bool) -> str:
    """Where a verifier's keys come from: inline `jwks` wins over `jwksUri` (§B.3); without
    either, OpenID discovery of the issuer where it runs (alpha Policy, beta from 1.5.1),
    else no keys at all."""
    if jwks:
        return "jwks:" + jwks
    if jwks_uri:
        return "uri:" + jwks_uri
    return "discovery:" + issuer if discovery else ""


@dataclass(frozen=True, slots=True)
class Verification:
    """The filter's result: a rejection (status and reason), or the verified claims."""

    status: int = 0
    reason: str = ""
    claims: Claims | None = None
    forwarded: bool = True
    by: str = ""


def alpha_providers(policy: AlphaPolicy) -> list[Provider]:
    """Providers of an alpha policy's origins and peer JWTs (§A.6)."""
    discovery = policy.kind == "Policy"  # §A.7: OIDC discovery for Policy, not MeshPolicy
    return [_alpha_provider(policy, jwt, discovery) for jwt in policy.origins]


def _alpha_provider(policy: AlphaPolicy, jwt: Jwt, discovery: bool) -> Provider:
    headers = tuple(
        ("header", h.lower(), "istio" if h.lower() == "ingress-authorization" else "")
        for h in jwt.jwt_headers
    )
    params = tuple(("param", p, "") for p in jwt.jwt_params)
    return Provider(
        issuer=jwt.issuer,
        audiences=jwt.audiences,
        locations=(headers + params) or DEFAULT_LOCATIONS,
        keys=key_source(jwt.issuer, jwt.jwks_uri, jwt.jwks, discovery=discovery),
        forward=True,
        ref=policy.ref,
    )


def beta_providers(resources: list[RequestAuthentication], *, discovery: bool) -> list[Provider]:
    """Providers of every jwtRule, sorted by issuer as Istio sorts them (§B.3)."""
    providers = []
    for resource in resources:
        for rule in resource.jwt_rules:
            headers = tuple(("header", n.lower(), p) for n, p in rule.from_headers)
            params = tuple(("param", p, "") for p in rule.from_params)
            providers.append(
                Provider(
                    issuer=rule.issuer,
                    audiences=rule.audiences,
                    locations=(headers + params) or DEFAULT_LOCATIONS,
                    keys=key_source(rule.issuer, rule.jwks_uri, rule.jwks, discovery=discovery),
                    forward=rule.forward_original_token,
                    ref=resource.meta.ref,
                )
            )
    return sorted(providers, key=lambda p: p.issuer)


def extract(token: Token | None, location: TokenPlace) -> str | None:
    """The token text a provider reads at `location`, None when it finds nothing there.

    A header needs the prefix somewhere in its value; then the first run of base64url
    characters after it is taken (Envoy's extractor)."""
    kind, name, prefix = location
    if token is None or token.kind != kind or token.name != name:
        return None
    value = token.value
    if kind == "header" and prefix:
        index = value.find(prefix)
        if index < 0:
            return None
        value = value[index + len(prefix) :]
    start = next((i for i, ch in enumerate(value) if ch in JWT_CHARS), len(value))
    end = next((i for i in range(start, len(value)) if value[i] not in JWT_CHARS), len(value))
    return value[start:end] or None


def _normalise(audience: str) -> str:
    """Audiences compare without an http(s):// prefix or a trailing slash (§A.7)."""
    for scheme in ("https://", "http://"):
        if audience.startswith(scheme):
            audience = audience[len(scheme) :]
    return audience.rstrip("/")


def check(provider: Provider, token: Token, text: str) -> tuple[int, str]:
    """(0, "") when `provider` accepts the token text, else (status, jwt_verify's message)."""
    if text != JWT_TEXT:
        return (
            401,
            "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
        )
    claims = token.claims
    if claims.issuer != provider.issuer:
        return 401, "Jwt issuer is not configured"
    if claims.signature is Signature.INVALID or not provider.keys:
        return 401, "Jwt verification fails"
    if claims.keys and provider.keys not in claims.keys:
        return 401, "Jwt verification fails"  # signed with a key this source does not hold
    wanted = {_normalise(a) for a in provider.audiences}
    if wanted and _normalise(claims.audience) not in wanted:
        return 403, "Audiences in Jwt are not allowed"
    return 0, ""


def verified_issuers(providers: list[Provider], token: Token | None) -> dict[str, Claims]:
    """Alpha (allow_missing_or_failed): payloads stored per issuer; nothing is rejected."""
    found: dict[str, Claims] = {}
    if token is None:
        return found
    for provider in providers:
        for location in provider.locations:
            text = extract(token, location)
            if text is not None and check(provider, token, text)[0] == 0:
                found.setdefault(provider.issuer, token.claims)
    return found


def verify_beta(providers: list[Provider], token: Token | None) -> Verification:
    """Beta: a token read by some provider must be accepted by one of them (§B.3)."""
    if token is None:
        return Verification()
    readers = [
        (p, text)
        for p in providers
        for location in p.locations
        if (text := extract(token, location)) is not None
    ]
    if not readers:
        return Verification()  # at no configured location: ignored, as if missing
    errors = []
    for provider, text in readers:
        status, reason = check(provider, token, text)
        if status == 0:
            return Verification(
                claims=token.claims,
                forwarded=provider.forward or token.kind == "param",
                by=provider.ref,
            )
        errors.append((provider.issuer == token.claims.issuer, status, reason, provider.ref))
    _, status, reason, ref = max(errors, key=lambda e: e[0])  # the issuer's own error first
    return Verification(status=status, reason=reason, by=ref)
