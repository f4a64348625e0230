"""Folding the variants of one cause for people to read: causes that share their change, both
outcomes (verdict, reason, deciding resources), the plaintext twin, the worlds and the kind of
destination, and differ only in being a CORS preflight, in the token sent, or in being
inherent, are one entry. Its witness is the plainest variant; each other variant is one line:

    STRICTER  OPTIONS httpbin.foo:8000/admin -H 'origin: x' ...
        ...
        also with an invalid token (24 request(s))

Machine outputs (JSON, SARIF, GitLab) carry every cause unfolded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from migrate.semantics.equivalence import Cause, Change
from migrate.semantics.request import UNCONFIGURED_ISSUER, Outcome, Request, Signature


@dataclass(frozen=True, slots=True)
class Entry:
    """One cause as people read it: `cause` (the plainest variant, whose witness stands for
    the entry) and the variants folded into it."""

    cause: Cause
    variants: tuple[Cause, ...] = ()

    @property
    def requests(self) -> int:
        """The requests of every variant."""
        return self.cause.requests + sum(v.requests for v in self.variants)

    @property
    def workloads(self) -> set[tuple[str, str]]:
        """The workloads of every variant."""
        return self.cause.workloads.union(*(v.workloads for v in self.variants))

    def variant_lines(self) -> list[str]:
        """One line per folded variant: how it differs, its requests, and whether (and why)
        it is inherent."""
        return [variant_text(v, self.cause) for v in self.variants]


def fold(causes: Iterable[Cause], first: int | None = None) -> list[Entry]:
    """`causes` folded into entries, in the order of each entry's first cause (`first`:
    only that many entries, the first ones)."""
    return fold_head(causes, first)[0]


def fold_head(causes: Iterable[Cause], first: int | None) -> tuple[list[Entry], list[int]]:
    """The first `first` entries of `fold(causes)`, and how many causes each entry of it
    holds (all of them): the entries left out need no witness chosen."""
    groups: dict[tuple[object, ...], list[Cause]] = {}
    for cause in causes:
        groups.setdefault(_fold_key(cause), []).append(cause)
    entries = []
    for members in itertools.islice(groups.values(), first):
        plainest, *others = sorted(members, key=_plainness)
        entries.append(Entry(plainest, tuple(others)))
    return entries, [len(members) for members in groups.values()]


def first_witness(causes: Sequence[Cause], change: Change) -> Request | None:
    """The witness of the first entry of `fold(causes)` whose change is `change` (None when
    no cause has it), without folding the others: an entry's causes share their change, so
    it is the entry of the first cause with that change, and its witness its plainest."""
    first = next((c for c in causes if c.change is change), None)
    if first is None:
        return None
    key = _fold_key(first)
    members = [c for c in causes if c.change is change and _fold_key(c) == key]
    return min(members, key=_plainness).witness


def unfolded(causes: Iterable[Cause]) -> list[Entry]:
    """One entry per cause."""
    return [Entry(cause) for cause in causes]


def _outcome_key(outcome: Outcome | None) -> tuple[object, ...] | None:
    """The outcome as an entry shows it (whether a token reached the application only where
    it shows: a request without one forwards none) and what decided it."""
    if outcome is None:
        return None
    return (str(outcome), outcome.decided_by)


def _fold_key(cause: Cause) -> tuple[object, ...]:
    destination = cause.witness.destination
    return (
        cause.change,
        _outcome_key(cause.before),
        _outcome_key(cause.after),
        _outcome_key(cause.twin),
        cause.worlds,
        destination.http,
        destination.service is None,
        destination.condition,
    )


_TOKENS = (
    "without a token",
    "with a valid token",
    "with a valid token without sub",
    "with a token from an issuer no rule configures",
    "with an invalid token",
)
"""The kinds of token a variant sends, plainest first."""


def token_words(request: Request) -> str:
    """The kind of token `request` sends, in words (one of `_TOKENS`)."""
    token = request.token
    if token is None:
        return _TOKENS[0]
    claims = token.claims
    if claims.signature is Signature.INVALID:
        return _TOKENS[4]
    if claims.issuer == UNCONFIGURED_ISSUER:
        return _TOKENS[3]
    return _TOKENS[1] if claims.has_sub else _TOKENS[2]


def _plainness(cause: Cause) -> tuple[bool, bool, int, str]:
    """Avoidable before inherent, then not a CORS preflight, then no token or a valid one
    before a bad one."""
    request = cause.witness
    return (
        bool(cause.inherent),
        request.is_cors_preflight,
        _TOKENS.index(token_words(request)),
        str(request),
    )


def variant_text(variant: Cause, plainest: Cause) -> str:
    """`also as a CORS preflight with an invalid token (24 request(s); inherent: why)`: how
    `variant` differs from the entry's witness (its inherent reason, when the witness has
    none or another one)."""
    request, witness = variant.witness, plainest.witness
    words = []
    if request.is_cors_preflight != witness.is_cors_preflight:
        preflight = request.is_cors_preflight
        words.append("as a CORS preflight" if preflight else "not as a CORS preflight")
    if token_words(request) != token_words(witness):
        words.append(token_words(request))
    how = " ".join(words) or "for other requests of the same kind"
    inherent = ""
    if variant.inherent and variant.inherent != plainest.inherent:
        # an inherent witness says why above, and avoidable variants come first (`fold`):
        # then every variant is inherent, and only another reason needs saying
        inherent = f"; inherent: {variant.inherent}"
    return f"also {how} ({variant.requests} request(s){inherent})"
