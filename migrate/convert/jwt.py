"""JWT: a RequestAuthentication per scope, and the DENY AuthorizationPolicy that keeps the
paths alpha protected closed to requests without a valid token (§D.5, §D.6, §D.9).

    origins: [{jwt: {issuer: i, jwksUri: u, jwtHeaders: [x-token],
                     triggerRules: [{excludedPaths: [{exact: /health}],
                                     includedPaths: [{prefix: /api/}]}]}}]
        ->  RequestAuthentication: jwtRules: [{issuer: i, jwksUri: u,
                                               fromHeaders: [{name: x-token}],
                                               forwardOriginalToken: true}]
        ->  AuthorizationPolicy (DENY): rules:
              - to: [{operation: {ports: ["80"], paths: ["/api/*"], notPaths: ["/health"]}}]
                when: [{key: request.auth.claims[iss], notValues: [i]}]

The condition is on the token's issuer claim, not on `requestPrincipals`, so a valid token
without `sub` passes as it did (§D.5a). The DENY is scoped to HTTP ports, since on a TCP port
its HTTP-only conditions would be dropped and it would deny everything (§D.5c, §B.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy, Jwt, StringMatch, TriggerRule
from migrate.semantics.decide import as_pattern, should_validate
from migrate.semantics.strings import UnsupportedPattern, as_literal, partition, stricter_cover


class NotExpressible(Exception):
    """The alpha JWT setup has no exact v1beta1 form (the message says why)."""


@dataclass(frozen=True, slots=True)
class PortScope:
    """Ports a DENY applies to (`ports`) or stays off (`not_ports`); both empty: all."""

    ports: tuple[int, ...] = ()
    not_ports: tuple[int, ...] = ()


def jwt_rules(policy: AlphaPolicy) -> list[dict[str, Any]]:
    """One jwtRule per origin that could verify a token; the token is forwarded, as alpha
    never stripped it (§D.9). An origin without keys verifies nothing (below) and gets none:
    from 1.5.1 a jwtRule without keys would fetch them by OpenID discovery (§B.3)."""
    return [jwt_rule(origin) for origin in policy.origins if not keyless(policy, origin)]


def keyless(policy: AlphaPolicy, origin: Jwt) -> bool:
    """True for an origin that never verified a token: a MeshPolicy origin without `jwks`
    or `jwksUri` (Pilot resolves keys by OpenID discovery for Policy only, §A.7). Where it
    triggers, alpha refused every request (401) unless another origin's token verified."""
    return policy.kind == "MeshPolicy" and not (origin.jwks_uri or origin.jwks)


def jwt_rule(origin: Jwt) -> dict[str, Any]:
    """The jwtRule of one origin."""
    rule: dict[str, Any] = {"issuer": origin.issuer}
    if origin.audiences:
        rule["audiences"] = list(origin.audiences)
    if origin.jwks:
        rule["jwks"] = origin.jwks
    if origin.jwks_uri:
        rule["jwksUri"] = origin.jwks_uri
    if origin.jwt_headers:
        rule["fromHeaders"] = [_header(h) for h in origin.jwt_headers]
    if origin.jwt_params:
        rule["fromParams"] = list(origin.jwt_params)
    rule["forwardOriginalToken"] = True
    return rule


def _header(name: str) -> dict[str, str]:
    if name.lower() == "ingress-authorization":
        return {"name": name, "prefix": "istio"}  # §A.7: the one header with a prefix
    return {"name": name}


def deny_rules(
    policy: AlphaPolicy, ports: PortScope, *, allow_stricter: bool, raw_query: bool = False
) -> list[dict[str, Any]]:
    """DENY rules for the paths where alpha required a token; [] when origins are optional."""
    if policy.origin_is_optional or not policy.origins:
        return []
    origins = policy.origins
    if len({_rules_key(o) for o in origins}) == 1:
        issuers = sorted({o.issuer for o in origins if not keyless(policy, o)})
        return _rules(origins[0].trigger_rules, issuers, ports, allow_stricter, raw_query)
    accepted = _issuers_where_triggered(origins, [keyless(policy, o) for o in origins])
    if accepted is None:
        raise NotExpressible(
            "origins with different trigger rules accept different sets of issuers on "
            "overlapping paths; that needs path regions AuthorizationPolicy cannot intersect"
        )
    # wherever an origin triggers, the same issuers satisfy alpha: one set of rules per origin
    return [
        r
        for o, issuers in zip(origins, accepted, strict=True)
        for r in _rules(o.trigger_rules, issuers, ports, allow_stricter, raw_query)
    ]


def _rules(
    triggers: tuple[TriggerRule, ...],
    issuers: list[str] | None,
    ports: PortScope,
    allow_stricter: bool,
    raw_query: bool = False,
) -> list[dict[str, Any]]:
    """DENY rules: on the trigger rules' paths (all paths without rules), a request whose
    verified token is from none of `issuers`; every request there when no token could ever
    verify (`[]`); none for an origin whose trigger rules no real path satisfies (None, such
    as `exact: a`: it demands nothing)."""
    if issuers is None:
        return []
    when = [{"key": "request.auth.claims[iss]", "notValues": issuers}] if issuers else []
    operations = (
        [_operation(r, ports, allow_stricter, raw_query) for r in triggers]
        if triggers
        else [_ports_only(ports)]
    )
    rules = []
    for operation in operations:
        if operation is None:
            continue  # a trigger rule no real path can satisfy
        rule: dict[str, Any] = {}
        if operation:
            rule["to"] = [{"operation": operation}]
        if when:
            rule["when"] = when
        rules.append(rule)
    return rules


def _issuers_where_triggered(
    origins: tuple[Jwt, ...], keyless: list[bool]
) -> list[list[str] | None] | None:
    """For each origin, the issuers alpha accepts wherever it triggers (the issuers of every
    origin triggered there that can verify a token), when that set is the same on all its
    paths (None for an origin no real path triggers); None when it is not. Checked exactly:
    one witness path per cell of all the trigger-rule conditions (§D.6)."""
    patterns = [
        p
        for o in origins
        for r in o.trigger_rules
        for m in (*r.excluded, *r.included)
        if (p := as_pattern(m)) is not None
    ]
    try:
        cells = partition(patterns)
    except UnsupportedPattern as exc:
        raise NotExpressible(f"regex {exc.pattern!r}: {exc.reason}") from None
    found: list[set[frozenset[str]]] = [set() for _ in origins]
    for cell in cells:
        triggered = [i for i, o in enumerate(origins) if should_validate(cell.witness, o)]
        issuers = frozenset(origins[i].issuer for i in triggered if not keyless[i])
        for i in triggered:
            found[i].add(issuers)
    if any(len(sets) > 1 for sets in found):
        return None
    return [sorted(next(iter(sets))) if sets else None for sets in found]


def _rules_key(origin: Jwt) -> tuple[object, ...]:
    return tuple(
        (tuple((m.how, m.value) for m in r.excluded), tuple((m.how, m.value) for m in r.included))
        for r in origin.trigger_rules
    )


def _ports_only(ports: PortScope) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if ports.ports:
        operation["ports"] = [str(p) for p in ports.ports]
    if ports.not_ports:
        operation["notPorts"] = [str(p) for p in ports.not_ports]
    return operation


def _operation(
    rule: TriggerRule, ports: PortScope, allow_stricter: bool, raw_query: bool
) -> dict[str, Any] | None:
    operation = _ports_only(ports)
    included = [
        v for m in rule.included if (v := _path(m, allow_stricter, cover=True, raw=raw_query))
    ]
    if rule.included and not included:
        return None
    excluded = [
        v for m in rule.excluded if (v := _path(m, allow_stricter, cover=False, raw=raw_query))
    ]
    if included:
        operation["paths"] = included
    if excluded:
        operation["notPaths"] = excluded
    return operation


def _path(
    match: StringMatch, allow_stricter: bool, *, cover: bool, raw: bool = False
) -> str | None:
    """A trigger-rule path as an AuthorizationPolicy path; None for one no path satisfies.

    Istio reads a leading "*" as a suffix match before a trailing one as a prefix match, and
    has no escape, so an exact path with a "*" at either end, or a prefix starting with one,
    cannot be written (§D.6). `raw`: the old proxies (1.4.0-1.4.3) matched the path with
    its query string, which AuthorizationPolicy never sees (§A.7)."""
    how, value = match.how, match.value
    if how == "regex":
        how, value = _literal_of_regex(match, allow_stricter, cover=cover)
    if raw and (how == "suffix" or (how == "exact" and not cover)):
        return _raw_query(match, allow_stricter, cover=cover)
    if how == "present" or (how in ("prefix", "suffix") and not value):
        return "*"
    if how == "exact" and not value:
        return None  # an empty exact path never matches a real request
    if (how == "exact" and (value.startswith("*") or value.endswith("*"))) or (
        how == "prefix" and value.startswith("*")
    ):
        raise NotExpressible(
            f"path {match} starts or ends with '*', which AuthorizationPolicy "
            "reads as a wildcard (docs/semantics.md §D.6)"
        )
    return {"exact": value, "prefix": value + "*", "suffix": "*" + value}.get(how)


def _raw_query(match: StringMatch, allow_stricter: bool, *, cover: bool) -> str | None:
    """Proxies 1.4.0-1.4.3 required the token when the path *with its query* matched: an
    included suffix then matches requests to any path, and an excluded exact or suffix path
    no longer excludes it once a query is added. AuthorizationPolicy matches the path without
    the query, so the closest form that is not looser requires the token on every path, or
    keeps requiring it on the excluded one (--allow-stricter)."""
    if not allow_stricter:
        where = "included" if cover else "excluded"
        raise NotExpressible(
            f"on Istio 1.4.0-1.4.3 the {where} path {match} was matched with the query "
            "string (before the CVE-2020-8595 fix), which AuthorizationPolicy never sees; "
            "--allow-stricter requires the token on "
            + ("every path" if cover else "that path too")
            + " instead, or give --istio-version 1.4.4 or later"
        )
    return "*" if cover else None


def covered_regexes(policy: AlphaPolicy) -> list[tuple[StringMatch, str]]:
    """Included regexes no literal expresses, with the wider path --allow-stricter writes."""
    found = []
    for origin in policy.origins:
        for rule in origin.trigger_rules:
            for match in rule.included:
                if match.how != "regex":
                    continue
                try:
                    if as_literal(match.value) is None:
                        found.append((match, str(stricter_cover(match.value))))
                except UnsupportedPattern:
                    continue
    return found


def _literal_of_regex(match: StringMatch, allow_stricter: bool, *, cover: bool) -> tuple[str, str]:
    try:
        literal = as_literal(match.value)
        if literal is not None:
            return literal.how, literal.value
        if allow_stricter and cover:
            wider = stricter_cover(match.value)
            return wider.how, wider.value
    except UnsupportedPattern as exc:
        raise NotExpressible(f"regex {match.value!r}: {exc.reason}") from None
    raise NotExpressible(
        f"regex {match.value!r} is not an exact, prefix or suffix match; AuthorizationPolicy "
        "has no regex (use --allow-stricter to require a token on a wider set of paths)"
        if cover
        else f"excluded regex {match.value!r} is not an exact, prefix or suffix match; "
        "AuthorizationPolicy has no regex"
    )


def trigger_rule_traps(policy: AlphaPolicy) -> list[Finding]:
    """Trigger rules that look like the well-known mistake, for every origin of a policy."""
    return [f for jwt in policy.origins for f in _trigger_rule_traps(policy, jwt)]


def _trigger_rule_traps(policy: AlphaPolicy, jwt: Jwt) -> list[Finding]:
    """An item with only excludedPaths beside one with only includedPaths (user pitfall 1)."""
    only_excluded = [i for i, r in enumerate(jwt.trigger_rules) if r.excluded and not r.included]
    only_included = [i for i, r in enumerate(jwt.trigger_rules) if r.included and not r.excluded]
    if not (only_excluded and only_included):
        return []
    return [
        Finding(
            "AM212",
            Severity.WARNING,
            f"triggerRules of issuer {jwt.issuer!r}: item {only_excluded[0] + 1} only excludes "
            f"and item {only_included[0] + 1} only includes; items are ORed, so JWT is required "
            "on every path except the excluded ones (put both lists in one item to exclude from "
            "the included paths)",
            jwt.trigger_rules[only_excluded[0]].location,
            resource=policy.ref,
        )
    ]
