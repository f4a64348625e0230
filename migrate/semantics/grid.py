"""Deciding a destination's requests a block at a time instead of one by one.

A class's HTTP requests are a product: peers x tokens x paths x (method, headers). The
decision reads each part at a different stage (§C): the filter chain reads only the peer,
jwt_authn only the token, origin authentication the path and whether the request is a CORS
preflight, RBAC everything. So each stage is computed once for what it reads and reused for
the rest: a token row (the outcomes of one peer and token over every path and method) is
computed once for every token the JWT filters treat alike, and the two configurations' rows
are compared once for every token whose rows are the same. `cells` yields, in the order
`space.requests` enumerates them, the requests on which the sides differ, each standing for
the requests that share its outcomes in every world and its kind (`features`); its counts
and witnesses are those of deciding every request one by one (a test holds them together).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import product

from migrate.semantics.authz import Identity, authorize
from migrate.semantics.decide import (
    RBAC_DENIED,
    Applicable,
    _jwt_filter,
    _origin_check,
    _peer_check,
    _transport,
    in_force,
)
from migrate.semantics.request import Claims, Outcome, Peer, Request, Token, Transport, Verdict
from migrate.semantics.side import Settings

Pair = tuple[Outcome, Outcome, Outcome | None]
"""A request's outcome before and after in one world, and its plaintext twin's before when
the old side failed it only for its transport and the new one lets it through."""


class Interner:
    """Outcomes as small integers: outcomes equal in everything, the deciding resources
    included, share one number (equality of Outcome ignores those resources)."""

    __slots__ = ("_index", "outcomes")

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._index: dict[tuple[object, ...], int] = {}

    def __call__(self, outcome: Outcome) -> int:
        key = (outcome.verdict, outcome.reason, outcome.token_forwarded, outcome.decided_by)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.outcomes)
            self.outcomes.append(outcome)
        return found


@dataclass(frozen=True, slots=True)
class Block:
    """The HTTP requests of one peer: each token with every cell (a path, method and headers,
    in `cells`, as requests without a token)."""

    peer: Peer
    tokens: Sequence[Token | None]
    cells: Sequence[Request]
    preflight: Sequence[bool]


Method = tuple[str, tuple[tuple[str, str], ...]]
"""A method with the headers sent with it."""


def block(
    peer: Request, tokens: Sequence[Token | None], paths: Sequence[str], methods: Sequence[Method]
) -> Block:
    """The block of `peer` (a request standing for it: destination and peer), in the order of
    `space.requests`."""
    cells = [
        Request(peer.destination, peer.peer, None, path, method, headers)
        for path, (method, headers) in product(paths, methods)
    ]
    return Block(peer.peer, tokens, cells, [c.is_cors_preflight for c in cells])


def rows(
    applicable: Applicable, settings: Settings, where: Block, intern: Interner
) -> list[tuple[int, ...]]:
    """`decide` of every request of the block: for each token, its cells' outcome numbers."""
    applicable = in_force(applicable, settings)
    cells = where.cells
    first = cells[0]
    fixed = _transport(applicable, first, settings)
    if fixed is not None:
        return [(intern(fixed),) * len(cells)] * len(where.tokens)
    rejected = _peer_check(applicable, first)
    made: dict[tuple[object, ...], tuple[int, ...]] = {}
    allowed: dict[tuple[Identity, int], tuple[bool, tuple[str, ...]]] = {}
    found = []
    for token in where.tokens:
        verified = _jwt_filter(applicable, token, settings)
        stop = verified if isinstance(verified, Outcome) else rejected
        if stop is not None:
            found.append((intern(stop),) * len(cells))
            continue
        assert not isinstance(verified, Outcome)
        payloads, forwarded = verified
        key = (tuple(payloads.items()), forwarded, token is None)
        row = made.get(key)
        if row is None:
            row = made[key] = _row(
                applicable,
                settings,
                where,
                payloads=payloads,
                forwarded=forwarded,
                token=token,
                intern=intern,
                allowed=allowed,
            )
        found.append(row)
    return found


def _row(
    applicable: Applicable,
    settings: Settings,
    where: Block,
    *,
    payloads: dict[str, Claims],
    forwarded: bool | None,
    token: Token | None,
    intern: Interner,
    allowed: dict[tuple[Identity, int], tuple[bool, tuple[str, ...]]],
) -> tuple[int, ...]:
    """One token's outcomes over the cells, once jwt_authn and peer authentication let it
    through: origin authentication reads the path and whether the request is a preflight,
    RBAC the identity and the cell."""
    origins: dict[tuple[str, bool], Outcome | tuple[Identity, bool | None]] = {}
    authz = applicable.authz
    row = []
    for index, (cell, preflight) in enumerate(zip(where.cells, where.preflight, strict=True)):
        key = (cell.path, preflight)
        checked = origins.get(key)
        if checked is None:
            checked = origins[key] = _origin_check(applicable, cell, payloads, settings, forwarded)
        if isinstance(checked, Outcome):
            row.append(intern(checked))
            continue
        identity, passed = checked
        if authz:
            verdict = allowed.get((identity, index))
            if verdict is None:
                verdict = allowed[(identity, index)] = authorize(authz, cell, identity)
            if not verdict[0]:
                row.append(intern(Outcome(Verdict.DENY_403, RBAC_DENIED, None, verdict[1])))
                continue
        row.append(intern(Outcome(Verdict.ALLOW, "", passed if token is not None else None)))
    return tuple(row)


def cells(
    blocks: Sequence[Block],
    before: Applicable,
    after: Applicable,
    pairs: Sequence[tuple[Settings, Settings]],
) -> Iterator[tuple[Request, int, tuple[Pair | None, ...]]]:
    """The requests of the blocks on which the sides differ in some world (`pairs`: each
    world's settings before and after), in enumeration order: a witness, how many requests
    it stands for, and per world its outcomes (None where they are equal)."""
    intern = Interner()
    outcomes = intern.outcomes
    plain: dict[int, list[tuple[int, ...]]] = {}
    compared: dict[tuple[object, ...], list[tuple[int, int, tuple[Pair | None, ...]]]] = {}
    for where in blocks:
        old = {id(s): rows(before, s, where, intern) for s, _ in pairs}
        new = {id(s): rows(after, s, where, intern) for _, s in pairs}
        if where.peer.transport is Transport.PLAINTEXT and not where.peer.foreign:
            plain = old
        for t, token in enumerate(where.tokens):
            key = tuple((old[id(b)][t], new[id(a)][t]) for b, a in pairs)
            if all(o == n for o, n in key):
                continue
            # an old row failing on transport alone fails every cell alike
            twins = tuple(
                plain[id(b)][t] if outcomes[o[0]].verdict is Verdict.MISMATCH and plain else None
                for (b, _), (o, _) in zip(pairs, key, strict=True)
            )
            found = compared.get((key, twins))
            if found is None:
                found = compared[(key, twins)] = _groups(key, twins, where.preflight, outcomes)
            for first, count, differing in found:
                cell = where.cells[first]
                request = Request(
                    cell.destination, cell.peer, token, cell.path, cell.method, cell.headers
                )
                yield request, count, differing


def _groups(
    key: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...],
    twins: tuple[tuple[int, ...] | None, ...],
    preflight: Sequence[bool],
    outcomes: list[Outcome],
) -> list[tuple[int, int, tuple[Pair | None, ...]]]:
    """The cells of one token where the sides differ, grouped by their outcomes in every
    world and by being a preflight: (first cell, cells, per world the outcomes or None)."""
    Cell = tuple[tuple[tuple[int, int], ...], tuple[int | None, ...], bool]
    groups: dict[Cell, list[int]] = {}
    for index in range(len(preflight)):
        cell = tuple((o[index], n[index]) for o, n in key)
        if all(outcomes[o] == outcomes[n] for o, n in cell):
            continue
        twin = tuple(None if t is None else t[index] for t in twins)
        entry = groups.setdefault((cell, twin, preflight[index]), [index, 0])
        entry[1] += 1
    found = []
    for (cell, twin, _), (first, count) in groups.items():
        differing: list[Pair | None] = []
        for (o, n), t in zip(cell, twin, strict=True):
            before, after = outcomes[o], outcomes[n]
            if before == after:
                differing.append(None)
                continue
            needs_twin = before.verdict is Verdict.MISMATCH and not after.verdict.denied
            differing.append((before, after, outcomes[t] if needs_twin and t is not None else None))
        found.append((first, count, tuple(differing)))
    found.sort(key=lambda g: g[0])
    return found
