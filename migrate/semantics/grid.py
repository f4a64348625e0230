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

from migrate.semantics.authz import CellAuthorizer, Identity
from migrate.semantics.decide import (
    RBAC_DENIED,
    Applicable,
    in_force,
    jwt_filter,
    origin_checks,
    peer_check,
    transport_refusal,
)
from migrate.semantics.request import Claims, Outcome, Peer, Request, Token, Transport, Verdict
from migrate.semantics.side import Settings

Pair = tuple[Outcome, Outcome, Outcome | None]
"""A request's outcome before and after in one world, and its plaintext twin's before when
the old side failed it only for its transport and the new one lets it through."""


Verified = Outcome | tuple[dict[str, Claims], bool | None]
"""What jwt_authn makes of a token: a rejection, or the payloads by issuer and whether the
token is forwarded."""


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
    in `cells`, as requests without a token). Origin authentication reads only a cell's path
    and whether it is a CORS preflight: `kinds` numbers the cells by those, `kind_cells`
    holds the first cell of each kind."""

    peer: Peer
    tokens: Sequence[Token | None]
    cells: Sequence[Request]
    preflight: Sequence[bool]
    kinds: Sequence[int]
    kind_cells: Sequence[Request]
    kind_preflight: Sequence[bool]


Method = tuple[str, tuple[tuple[str, str], ...]]
"""A method with the headers sent with it."""


def blocks(
    peers: Sequence[Request],
    tokens: Sequence[Token | None],
    paths: Sequence[str],
    methods: Sequence[Method],
) -> list[Block]:
    """The block of each peer (a request standing for it: destination and peer), in the
    order of `space.requests`; the blocks share their tokens and their kinds of cell."""
    preflights = [
        Request(peers[0].destination, peers[0].peer, None, "/", method, headers).is_cors_preflight
        for method, headers in methods
    ]
    preflight = [flag for _ in paths for flag in preflights]
    numbers: dict[tuple[str, bool], int] = {}
    kinds = [
        numbers.setdefault((path, flag), len(numbers)) for path in paths for flag in preflights
    ]
    kind_preflight = [flag for _, flag in numbers]  # kinds are numbered in order
    found = []
    for peer in peers:
        cells = [
            Request(peer.destination, peer.peer, None, path, method, headers)
            for path, (method, headers) in product(paths, methods)
        ]
        firsts: dict[int, Request] = {}
        for cell, kind in zip(cells, kinds, strict=True):
            firsts.setdefault(kind, cell)
        kind_cells = list(firsts.values())
        found.append(Block(peer.peer, tokens, cells, preflight, kinds, kind_cells, kind_preflight))
    return found


def rows(
    applicable: Applicable,
    settings: Settings,
    where: Block,
    intern: Interner,
    *,
    verified: Sequence[Verified] | None = None,
    authorizers: dict[int, CellAuthorizer] | None = None,
) -> list[tuple[int, ...]]:
    """`decide` of every request of the block: for each token, its cells' outcome numbers
    (`verified`: what jwt_authn makes of each token, `jwt_results`, when known;
    `authorizers`: RBAC over another block of the same class, by policies, to reuse)."""
    applicable = in_force(applicable, settings)
    cells = where.cells
    first = cells[0]
    fixed = transport_refusal(applicable, first, settings)
    if fixed is not None:
        return [(intern(fixed),) * len(cells)] * len(where.tokens)
    rejected = peer_check(applicable, first)
    if verified is None:
        verified = jwt_results(applicable, settings, where.tokens)
    made: dict[tuple[object, ...], tuple[int, ...]] = {}
    rbac = _Rbac(applicable, where, intern, authorizers)
    found = []
    for token, result in zip(where.tokens, verified, strict=True):
        stop = result if isinstance(result, Outcome) else rejected
        if stop is not None:
            found.append((intern(stop),) * len(cells))
            continue
        assert not isinstance(result, Outcome)
        payloads, forwarded = result
        key = (tuple(payloads.items()), forwarded, token is None)
        row = made.get(key)
        if row is None:
            passed = intern(Outcome(Verdict.ALLOW, "", forwarded if token is not None else None))
            checked = origin_checks(
                applicable,
                where.kind_cells,
                where.kind_preflight,
                payloads,
                settings=settings,
                forwarded=forwarded,
            )
            row = made[key] = rbac.row(where, checked, passed)
        found.append(row)
    return found


def jwt_results(
    applicable: Applicable, settings: Settings, tokens: Sequence[Token | None]
) -> list[Verified]:
    """What jwt_authn makes of each token on one side (the same for every peer)."""
    applicable = in_force(applicable, settings)
    return [jwt_filter(applicable, token, settings) for token in tokens]


class _Rbac:
    """RBAC of one side over a block's cells, by the identity origin authentication leaves
    (tokens the JWT filters treat differently often leave the same one)."""

    def __init__(
        self,
        applicable: Applicable,
        where: Block,
        intern: Interner,
        shared: dict[int, CellAuthorizer] | None = None,
    ) -> None:
        self.authorizer = None
        if applicable.authz:
            key = id(applicable.authz)
            like = shared.get(key) if shared is not None else None
            self.authorizer = CellAuthorizer(applicable.authz, where.cells, like)
            if shared is not None:
                shared[key] = self.authorizer
        self.intern = intern
        self.identities: dict[Identity, list[int]] = {}
        """Per identity, each cell's outcome number when RBAC denies it, else -1."""

    def row(
        self,
        where: Block,
        checked: list[Outcome | tuple[Identity, bool | None]],
        passed: int,
    ) -> tuple[int, ...]:
        """A token's outcomes over the cells, from what origin authentication made of each
        kind of cell (`checked`) and the outcome of a request RBAC lets through (`passed`)."""
        intern = self.intern
        results: list[int | list[int]] = []
        for got in checked:
            if isinstance(got, Outcome):
                results.append(intern(got))
            elif self.authorizer is None:
                results.append(passed)
            else:
                results.append(self._denied(got[0]))
        if self.authorizer is None:
            return tuple(results[kind] for kind in where.kinds)  # type: ignore[misc]
        row = []
        for index, kind in enumerate(where.kinds):
            result = results[kind]
            if isinstance(result, list):
                denied = result[index]
                row.append(passed if denied < 0 else denied)
            else:
                row.append(result)
        return tuple(row)

    def _denied(self, identity: Identity) -> list[int]:
        denied = self.identities.get(identity)
        if denied is None:
            assert self.authorizer is not None
            by_refs: dict[tuple[str, ...], int] = {}
            denied = self.identities[identity] = [
                -1
                if allowed
                else by_refs.setdefault(
                    by, self.intern(Outcome(Verdict.DENY_403, RBAC_DENIED, None, by))
                )
                for allowed, by in self.authorizer.decisions(identity)
            ]
        return denied


def cells(
    parts: Sequence[Block],
    before: Applicable,
    after: Applicable,
    pairs: Sequence[tuple[Settings, Settings]],
) -> Iterator[tuple[Request, int, tuple[Pair | None, ...]]]:
    """The requests of a class's blocks (`parts`, from `blocks`) on which the sides differ
    in some world (`pairs`: each world's settings before and after), in enumeration order:
    a witness, how many requests it stands for, and per world its outcomes (None where
    they are equal)."""
    intern = Interner()
    outcomes = intern.outcomes
    plain: dict[int, list[tuple[int, ...]]] = {}
    differs: dict[tuple[int, ...], bool] = {}
    compared: dict[tuple[object, ...], list[tuple[int, int, tuple[Pair | None, ...]]]] = {}
    tokens = parts[0].tokens if parts else ()
    jwt = {("old", id(s)): jwt_results(before, s, tokens) for s, _ in pairs}
    jwt.update({("new", id(s)): jwt_results(after, s, tokens) for _, s in pairs})
    shared: dict[int, CellAuthorizer] = {}  # RBAC of each side's policies, over the cells
    for where in parts:
        old = {
            id(s): rows(before, s, where, intern, verified=jwt["old", id(s)], authorizers=shared)
            for s, _ in pairs
        }
        new = {
            id(s): rows(after, s, where, intern, verified=jwt["new", id(s)], authorizers=shared)
            for _, s in pairs
        }
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
                found = compared[(key, twins)] = _groups(
                    key, twins, where.preflight, outcomes, differs
                )
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
    differs: dict[tuple[int, ...], bool],
) -> list[tuple[int, int, tuple[Pair | None, ...]]]:
    """The cells of one token where the sides differ, grouped by their outcomes in every
    world and by being a preflight: (first cell, cells, per world the outcomes or None).
    `differs`: whether the outcomes of a cell (before and after in each world, in turn)
    differ anywhere, kept across calls."""
    columns = zip(*(row for pair in key for row in pair), strict=True)
    twinned = [t for t in twins if t is not None]
    twin_columns = zip(*twinned, strict=True) if twinned else None
    groups: dict[tuple[tuple[int, ...], tuple[int, ...] | None, bool], list[int]] = {}
    for index, column in enumerate(columns):
        twin = next(twin_columns) if twin_columns is not None else None
        differ = differs.get(column)
        if differ is None:
            differ = differs[column] = any(
                outcomes[column[i]] != outcomes[column[i + 1]] for i in range(0, len(column), 2)
            )
        if not differ:
            continue
        entry = groups.setdefault((column, twin, preflight[index]), [index, 0])
        entry[1] += 1
    found = []
    for (column, twin, _), (first, count) in groups.items():
        twin_of = iter(twin or ())
        differing: list[Pair | None] = []
        for (o, n), t in zip(zip(column[::2], column[1::2], strict=True), twins, strict=True):
            tw = next(twin_of) if t is not None else None
            before, after = outcomes[o], outcomes[n]
            if before == after:
                differing.append(None)
                continue
            needs_twin = before.verdict is Verdict.MISMATCH and not after.verdict.denied
            differing.append(
                (before, after, outcomes[tw] if needs_twin and tw is not None else None)
            )
        found.append((first, count, tuple(differing)))
    found.sort(key=lambda g: g[0])
    return found
