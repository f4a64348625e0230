"""AuthorizationPolicy evaluation (§B.4): DENY first, then ALLOW.

A rule is an OR over `from`, AND an OR over `to`, AND every `when`; within a source or an
operation the fields are ANDed, each an OR over its values, and a `not*` field negates. On a
TCP port the HTTP-only fields cannot be evaluated: an ALLOW rule using one is dropped, a DENY
rule ignores the field (so it denies more).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from migrate.errors import MigrateError
from migrate.model.beta import AuthorizationPolicy, Condition, Operation, Rule, Source
from migrate.semantics.request import Claims, Request, Transport
from migrate.semantics.strings import Pattern

HTTP_ONLY_FIELDS = frozenset(
    {
        "paths",
        "notPaths",
        "methods",
        "notMethods",
        "hosts",
        "notHosts",
        "requestPrincipals",
        "notRequestPrincipals",
    }
)
_UNMODELLED_FIELDS = frozenset(
    {"ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", "hosts", "notHosts"}
)


class Unmodelled(MigrateError):
    """A condition the engine cannot evaluate exactly; verification cannot prove anything."""

    def __init__(self, resource: str, what: str) -> None:
        super().__init__(f"{resource}: {what} is not modelled, so equivalence cannot be proved")
        self.resource = resource
        self.what = what


@dataclass(frozen=True, slots=True)
class Identity:
    """What authorization sees: the peer's identity, and the request's authenticated identity
    and claims (None when no token was verified)."""

    principal: str
    claims: Claims | None


def authorize(
    policies: Sequence[AuthorizationPolicy], request: Request, identity: Identity
) -> tuple[bool, tuple[str, ...]]:
    """(allowed, deciding resources): any matching DENY denies; then, if ALLOW policies apply,
    one must match."""
    http = request.destination.http
    for policy in policies:
        if policy.action == "DENY" and _any_rule(policy, request, identity, deny=True, http=http):
            return False, (policy.meta.ref,)
    allows = [p for p in policies if p.action == "ALLOW"]
    if not allows:
        return True, ()
    for policy in allows:
        if _any_rule(policy, request, identity, deny=False, http=http):
            return True, (policy.meta.ref,)
    return False, tuple(p.meta.ref for p in allows)


_IDENTITY_KEYS = frozenset({"request.auth.claims[iss]", "request.auth.principal"})
"""The conditions that read the request's identity; the others read the peer, the
destination or a header, never the identity."""
_NO_IDENTITY = Identity("", None)


class CellAuthorizer:
    """`authorize` of the requests one peer sends to one destination (`cells`, all alike but
    for path, method and headers), for any identity: a rule's operations and header
    conditions read only the cell, its sources and claim conditions only the identity and
    the peer, so each part is evaluated once per cell or once per identity, not for every
    pair."""

    def __init__(
        self,
        policies: Sequence[AuthorizationPolicy],
        cells: Sequence[Request],
        like: CellAuthorizer | None = None,
    ) -> None:
        """`like`: an authorizer of the same policies over the same cells sent by another
        peer; what it found of each cell is taken when no condition of theirs reads the
        peer."""
        self.policies = [p for p in policies if p.action in ("DENY", "ALLOW")]
        self.cells = cells
        self.http = cells[0].destination.http
        self.by_cell: list[list[list[bool]]]
        if (
            like is not None
            and _same_cells(like.cells, cells)
            and len(like.policies) == len(self.policies)
            and all(a is b for a, b in zip(like.policies, self.policies, strict=True))
            and not _reads_peer(self.policies)
        ):
            self.by_cell = like.by_cell
        else:
            self.by_cell = [
                [
                    [self._cell_part(rule, cell, deny=p.action == "DENY") for cell in cells]
                    for rule in p.rules or ()
                ]
                for p in self.policies
            ]
        self.allows = tuple(p.meta.ref for p in self.policies if p.action == "ALLOW")

    def decisions(self, identity: Identity) -> list[tuple[bool, tuple[str, ...]]]:
        """(allowed, deciding resources) of every cell with this identity, as `authorize`."""
        found: list[tuple[bool, tuple[str, ...]] | None] = [None] * len(self.cells)
        for action in ("DENY", "ALLOW"):
            for policy, rules in zip(self.policies, self.by_cell, strict=True):
                if policy.action != action:
                    continue
                verdict = (action == "ALLOW", (policy.meta.ref,))
                for rule, cellwise in zip(policy.rules or (), rules, strict=True):
                    if not self._identity_part(rule, identity, deny=action == "DENY"):
                        continue
                    for index, hit in enumerate(cellwise):
                        if hit and found[index] is None:
                            found[index] = verdict
        rest = (False, self.allows) if self.allows else (True, ())
        return [rest if f is None else f for f in found]

    def _cell_part(self, rule: Rule, cell: Request, *, deny: bool) -> bool:
        """The rule's operations and the conditions that do not read the identity."""
        conditions = [c for c in rule.conditions if c.key not in _IDENTITY_KEYS]
        return _matches(rule.operations, conditions, cell, _NO_IDENTITY, deny=deny, http=self.http)

    def _identity_part(self, rule: Rule, identity: Identity, *, deny: bool) -> bool:
        """The rule's sources and the conditions that read the identity."""
        conditions = [c for c in rule.conditions if c.key in _IDENTITY_KEYS]
        first = self.cells[0]
        return _matches(rule.sources, conditions, first, identity, deny=deny, http=self.http)


def _same_cells(old: Sequence[Request], new: Sequence[Request]) -> bool:
    """Whether two blocks hold the same cells (destination, path, method, headers), their
    peers aside."""
    return len(old) == len(new) and all(
        a.destination == b.destination
        and a.path == b.path
        and a.method == b.method
        and a.headers == b.headers
        for a, b in zip(old, new, strict=True)
    )


def _reads_peer(policies: Sequence[AuthorizationPolicy]) -> bool:
    """Whether a condition of the policies may read the peer: any but those known to read
    only the identity, the destination's port or a header (`CellAuthorizer` evaluates the
    others, and every operation, with the cell alone)."""
    return any(
        not (
            c.key in _IDENTITY_KEYS
            or c.key == "destination.port"
            or c.key.startswith("request.headers[")
        )
        for p in policies
        for rule in p.rules or ()
        for c in rule.conditions
    )


def check_supported(policy: AuthorizationPolicy) -> None:
    """Raise Unmodelled for an action or field the engine does not evaluate."""
    if policy.action not in ("ALLOW", "DENY", "AUDIT"):
        raise Unmodelled(policy.meta.ref, f"action {policy.action}")
    for rule in policy.rules or ():
        for part in _parts(rule):
            for name, _ in part.fields:
                if name in _UNMODELLED_FIELDS:
                    raise Unmodelled(policy.meta.ref, f"field {name}")
        for condition in rule.conditions:
            if _condition_reader(condition.key) is None:
                raise Unmodelled(policy.meta.ref, f"condition key {condition.key}")


def _any_rule(
    policy: AuthorizationPolicy, request: Request, identity: Identity, *, deny: bool, http: bool
) -> bool:
    return any(_rule(rule, request, identity, deny=deny, http=http) for rule in policy.rules or ())


def _rule(rule: Rule, request: Request, identity: Identity, *, deny: bool, http: bool) -> bool:
    return _matches(rule.sources, (), request, identity, deny=deny, http=http) and _matches(
        rule.operations, rule.conditions, request, identity, deny=deny, http=http
    )


def _matches(
    parts: Sequence[Source | Operation] | None,
    conditions: Sequence[Condition],
    request: Request,
    identity: Identity,
    *,
    deny: bool,
    http: bool,
) -> bool:
    """Any of `parts` (None: no list, which matches) and every condition."""

    def field_matches(name: str, values: tuple[str, ...]) -> bool | None:
        if not http and name in HTTP_ONLY_FIELDS:
            return None  # ignored in DENY, drops the rule in ALLOW
        return _field(name, values, request, identity)

    return (parts is None or any(_all_fields(p, field_matches, deny=deny) for p in parts)) and all(
        _condition(c, request, identity, deny=deny, http=http) for c in conditions
    )


def _all_fields(
    part: Source | Operation,
    field_matches: Callable[[str, tuple[str, ...]], bool | None],
    *,
    deny: bool,
) -> bool:
    for name, values in part.fields:
        result = field_matches(name, values)
        if result is None:
            if not deny:
                return False
            continue
        if not result:
            return False
    return True


def _field(name: str, values: tuple[str, ...], request: Request, identity: Identity) -> bool:
    negated = name.startswith("not")
    base = name[3].lower() + name[4:] if negated else name
    actual = _attribute(base, request, identity)
    hit = actual is not None and any(_istio_pattern(v).matches(actual) for v in values)
    return not hit if negated else hit


_istio_pattern = functools.lru_cache(maxsize=65536)(Pattern.from_istio)


def _attribute(name: str, request: Request, identity: Identity) -> str | None:
    if name == "paths":
        return request.path.split("?", 1)[0]
    if name == "ports":
        return str(request.destination.port)
    if name == "methods":
        return request.method
    if name == "requestPrincipals":
        return identity.principal or None
    peer = request.peer
    if peer.transport is not Transport.MTLS:
        return None
    return {"principals": peer.principal, "namespaces": peer.namespace}.get(name)


def _condition_reader(key: str) -> Callable[[Request, Identity], str | None] | None:
    readers: dict[str, Callable[[Request, Identity], str | None]] = {
        "request.auth.claims[iss]": lambda _r, i: i.claims.issuer if i.claims else None,
        "request.auth.principal": lambda _r, i: i.principal or None,
        "source.principal": lambda r, _i: _attribute("principals", r, _i),
        "source.namespace": lambda r, _i: _attribute("namespaces", r, _i),
        "destination.port": lambda r, _i: str(r.destination.port),
    }
    if key in readers:
        return readers[key]
    if key.startswith("request.headers[") and key.endswith("]"):
        header = key[len("request.headers[") : -1].lower()
        return lambda r, _i: r.header(header)
    return None


def _condition(
    condition: Condition, request: Request, identity: Identity, *, deny: bool, http: bool
) -> bool:
    if not http and condition.key.startswith("request."):
        return deny  # an HTTP-only condition: ignored by DENY, drops an ALLOW rule
    reader = _condition_reader(condition.key)
    if reader is None:
        raise Unmodelled("AuthorizationPolicy", f"condition key {condition.key}")
    actual = reader(request, identity)
    header = condition.key.startswith("request.headers[")

    def hit(values: tuple[str, ...]) -> bool:
        if actual is None:
            return False
        return any((v == "*" and header) or Pattern.from_istio(v).matches(actual) for v in values)

    return (not condition.values or hit(condition.values)) and not hit(condition.not_values)


def _parts(rule: Rule) -> tuple[Source | Operation, ...]:
    """The sources and operations of a rule."""
    return (*(rule.sources or ()), *(rule.operations or ()))
