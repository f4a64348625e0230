"""Comparing two configurations request by request, and classifying every difference by its
security meaning (looser, stricter, status-only, compatible; inherent when no v1beta1
configuration can avoid it)."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from migrate import progress
from migrate.parallel import map_chunks
from migrate.semantics.decide import decide
from migrate.semantics.request import (
    UNCONFIGURED_ISSUER,
    Outcome,
    Request,
    Signature,
    Verdict,
)
from migrate.semantics.side import Settings
from migrate.semantics.space import DestinationClass, requests, unchanged

JWT_REJECTIONS = frozenset(
    {
        "Jwt verification fails",
        "Jwt issuer is not configured",
        "Audiences in Jwt are not allowed",
        "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
    }
)


class Change(enum.Enum):
    """How a request's treatment changed, by security meaning."""

    LOOSER = "looser"
    STRICTER = "stricter"
    STATUS_ONLY = "status-only"
    COMPATIBLE = "compatible"


@dataclass(frozen=True, slots=True)
class Difference:
    """One request the two configurations treat differently."""

    request: Request
    before: Outcome
    after: Outcome
    change: Change
    inherent: str = ""


@dataclass(slots=True)
class Cause:
    """Differences that share their change, outcomes and deciding resources: one line for a
    reviewer, with a witness request and how many requests and workloads it stands for."""

    change: Change
    before: Outcome
    after: Outcome
    inherent: str
    witness: Request
    requests: int = 0
    workloads: set[tuple[str, str]] = field(default_factory=set)
    differences: list[Difference] = field(default_factory=list)

    @property
    def key(self) -> str:
        """A stable text naming the cause, usable with --accept."""
        return f"{self.change.value}: {self.before} -> {self.after}"


def classify(before: Outcome, after: Outcome, request: Request) -> Difference | None:
    """None when the outcomes are equal, else the difference with its change class."""
    if before == after:
        return None
    if before.verdict.denied and after.verdict.denied:
        return Difference(request, before, after, Change.STATUS_ONLY)
    if before.verdict.denied:
        change = Change.COMPATIBLE if before.verdict is Verdict.MISMATCH else Change.LOOSER
        return Difference(request, before, after, change)
    if after.verdict.denied:
        return Difference(request, before, after, Change.STRICTER, _inherent(after))
    if before.token_forwarded and after.token_forwarded is False:
        return Difference(request, before, after, Change.STRICTER)
    return Difference(request, before, after, Change.COMPATIBLE)


def _inherent(after: Outcome) -> str:
    if after.reason in JWT_REJECTIONS:
        return (
            "a RequestAuthentication rejects a bad token on every path and HTTP port of the "
            "workloads it selects; v1alpha1 ignored it where no origin was triggered "
            "(reference §D.7, §D.10)"
        )
    return ""


MIN_PARALLEL_CLASSES = 400
"""Classes to compare before it pays to fork workers (a class is 10 to 1,000 requests)."""


def compare(
    groups: Iterable[DestinationClass], settings: Settings, *, every: bool = False
) -> tuple[list[Cause], int]:
    """Every difference between the two sides, grouped by cause; and the requests evaluated
    (`every`: each cause keeps all its differing requests, not only its witness).
    Classes whose two sides apply the same resources are skipped; on large inputs the rest
    are compared in parallel, with the result of a single process."""
    changed = [g for g in groups if not unchanged(g)]
    progress.phase("comparing destination classes", len(changed))
    parts = map_chunks(
        functools.partial(_compare, settings=settings, every=every),
        changed,
        min_items=MIN_PARALLEL_CLASSES,
    )
    causes: dict[tuple[object, ...], Cause] = {}
    for part, _ in parts:
        for key, cause in part.items():
            known = causes.get(key)
            if known is None:
                causes[key] = cause
            else:
                known.requests += cause.requests
                known.workloads |= cause.workloads
                known.differences += cause.differences
    return sorted(causes.values(), key=_order), sum(count for _, count in parts)


def _compare(
    groups: Sequence[DestinationClass], settings: Settings, *, every: bool
) -> tuple[dict[tuple[object, ...], Cause], int]:
    causes: dict[tuple[object, ...], Cause] = {}
    evaluated = 0
    for group in groups:
        for request in requests(group, settings):
            evaluated += 1
            before = decide(group.before, request, settings)
            after = decide(group.after, request, settings)
            difference = classify(before, after, request)
            if difference is not None:
                _record(causes, difference, group, every=every)
    return causes, evaluated


def _record(
    causes: dict[tuple[object, ...], Cause],
    difference: Difference,
    group: DestinationClass,
    *,
    every: bool,
) -> None:
    before, after = difference.before, difference.after
    key = (
        difference.change,
        (before.verdict, before.reason, before.decided_by),
        (after.verdict, after.reason, after.decided_by),
        difference.inherent,
        features(difference.request),
    )
    cause = causes.get(key)
    if cause is None:
        cause = causes[key] = Cause(
            difference.change,
            difference.before,
            difference.after,
            difference.inherent,
            difference.request,
        )
    cause.requests += 1
    cause.workloads.update((s.namespace, s.name) for s in group.sites)
    if every or not cause.differences:
        cause.differences.append(difference)


def features(request: Request) -> tuple[object, ...]:
    """What kind of request this is, beyond its path: differences of one cause share it.

    Protocol, whether a Service declares the port, the token's kind (none, valid, valid
    without `sub`, bad: invalid or from an unconfigured issuer) and whether it is a CORS
    preflight."""
    token = request.token
    kind = "none"
    if token is not None:
        claims = token.claims
        bad = claims.signature is Signature.INVALID or claims.issuer == UNCONFIGURED_ISSUER
        kind = "bad" if bad else ("valid" if claims.has_sub else "no-sub")
    destination = request.destination
    return (destination.http, destination.service is None, kind, request.is_cors_preflight)


_RANK = {Change.LOOSER: 0, Change.STRICTER: 1, Change.STATUS_ONLY: 2, Change.COMPATIBLE: 3}


def _order(cause: Cause) -> tuple[object, ...]:
    return (_RANK[cause.change], bool(cause.inherent), str(cause.witness))
