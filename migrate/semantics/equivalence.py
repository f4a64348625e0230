"""Comparing two configurations request by request, and classifying every difference by its
security meaning (looser, stricter, status-only, compatible; inherent when no v1beta1
configuration can avoid it).

Each destination class is evaluated on every release pair (`World`) the comparison considers;
releases that behave alike for the class are evaluated once. A difference carries the worlds
it shows in, so a cause reads "looser on 1.5.1-1.5.10" when it does not show everywhere.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from migrate import progress
from migrate.model.releases import Release
from migrate.parallel import map_chunks
from migrate.semantics.decide import PEER_FAILED, Applicable, decide
from migrate.semantics.grid import Pair, cells
from migrate.semantics.request import (
    UNCONFIGURED_ISSUER,
    Outcome,
    Peer,
    Request,
    Signature,
    Transport,
    Verdict,
)
from migrate.semantics.side import Settings
from migrate.semantics.space import DestinationClass, rename, requests, shape_key, unchanged
from migrate.semantics.space import blocks as space_blocks
from migrate.semantics.worlds import World

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
    """One request the two configurations treat differently. `twin` is what the old
    configuration did with the same request in plaintext, for an mTLS request that failed
    only because the port was plaintext-only."""

    request: Request
    before: Outcome
    after: Outcome
    change: Change
    inherent: str = ""
    twin: Outcome | None = None


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
    twin: Outcome | None = None
    worlds: tuple[str, ...] = ()
    """The worlds (releases, and the order of duplicate documents) the cause shows in; empty
    when it shows in every world considered."""

    @property
    def key(self) -> str:
        """A stable text naming the cause, usable with --accept."""
        return f"{self.change.value}: {self.before} -> {self.after}"


def classify(
    before: Outcome, after: Outcome, request: Request, twin: Outcome | None = None
) -> Difference | None:
    """None when the outcomes are equal, else the difference with its change class.

    An mTLS request that failed only because the port was plaintext-only, and now succeeds,
    is compatible only when `twin`, the same request in plaintext, was allowed before: a
    client could always reach the same thing. Otherwise (or when `twin` is not known) it
    is looser."""
    if before == after:
        return None
    if before.verdict.denied and after.verdict.denied:
        return Difference(request, before, after, Change.STATUS_ONLY)
    if before.verdict.denied:
        if before.verdict is Verdict.MISMATCH:
            compatible = twin is not None and not twin.verdict.denied
            change = Change.COMPATIBLE if compatible else Change.LOOSER
            return Difference(request, before, after, change, twin=twin)
        return Difference(request, before, after, Change.LOOSER)
    if after.verdict.denied:
        return Difference(request, before, after, Change.STRICTER, _inherent(after, request))
    if before.token_forwarded and after.token_forwarded is False:
        return Difference(request, before, after, Change.STRICTER)
    return Difference(request, before, after, Change.COMPATIBLE)


def plaintext_twin(request: Request) -> Request:
    """The same request sent without mTLS."""
    return Request(
        request.destination,
        Peer(Transport.PLAINTEXT),
        request.token,
        request.path,
        request.method,
        request.headers,
    )


def differ(
    before: Applicable,
    after: Applicable,
    request: Request,
    before_settings: Settings,
    after_settings: Settings,
) -> Difference | None:
    """Decide the request on both sides and classify the difference (with the plaintext twin
    of an mTLS request the old side refused only for its transport)."""
    old = decide(before, request, before_settings)
    new = decide(after, request, after_settings)
    twin = None
    if old.verdict is Verdict.MISMATCH and not new.verdict.denied:
        twin = decide(before, plaintext_twin(request), before_settings)
    return classify(old, new, request, twin)


def _inherent(after: Outcome, request: Request) -> str:
    if request.peer.foreign and after.reason == PEER_FAILED:
        return (
            "peerIsOptional let a peer of another trust domain through; v1beta1 has no such "
            "setting (docs/semantics.md §D.12)"
        )
    if after.reason in JWT_REJECTIONS:
        return (
            "a RequestAuthentication rejects a bad token on every path and HTTP port of the "
            "workloads it selects; v1alpha1 ignored it where no origin was triggered "
            "(docs/semantics.md §D.7, §D.10)"
        )
    return ""


MIN_PARALLEL_CLASSES = 400
"""Classes to compare before it pays to fork workers (a class is 10 to 1,000 requests)."""


def compare(
    groups: Iterable[DestinationClass],
    worlds: Sequence[World],
    root_namespace: str,
    *,
    every: bool = False,
    label: str = "",
    all_worlds: Sequence[str] = (),
    share_shapes: bool = True,
    memo: ShapeMemo | None = None,
    by_blocks: bool = True,
) -> tuple[list[Cause], int]:
    """Every difference between the two sides in any of `worlds`, grouped by cause; and the
    requests evaluated (`every`: each cause keeps all its differing requests, not only its
    witness; `label`: a condition that holds for the whole comparison, such as which of two
    duplicate documents is in force; `all_worlds`: every world label of the run, so a cause
    seen in all of them carries none).

    Classes whose two sides apply the same resources are skipped. Classes of one shape (the
    same port and chain, and resources that say the same, whatever their names and
    namespaces: thousands of workloads repeat a few policies) are evaluated once, and each
    of them gets that evaluation's differences with its own destination and resource names;
    `memo` keeps those evaluations for the next comparisons of a run (plan's stages prove a
    namespace at a time, and namespaces repeat shapes). On large inputs the shapes are
    compared in parallel, with the result of a single process."""
    changed = [g for g in groups if not (unchanged(g) and _alike_everywhere(g, worlds))]
    shapes: dict[tuple[object, ...], list[DestinationClass]] = {}
    for index, group in enumerate(changed):
        shapes.setdefault(shape_key(group) if share_shapes else (index,), []).append(group)
    run: _Run = (tuple(worlds), root_namespace, every, label, by_blocks)
    known = memo if memo is not None and share_shapes else ShapeMemo()
    evaluated: dict[tuple[object, ...], tuple[DestinationClass, _Tally]] = {}
    todo = []
    for key in shapes:
        hit = known.get((*key, *run))
        if hit is None:
            todo.append(key)
        else:
            evaluated[key] = hit
    if known.collecting:  # only say what is to evaluate: `ShapeMemo.evaluate_pending`
        known.defer(run, {key: shapes[key][0] for key in todo})
        return [], 0
    progress.phase("comparing destination classes", len(todo))
    parts = _evaluate(run, [shapes[key][0] for key in todo])
    for key, tally in zip(todo, (t for part, _ in parts for t in part), strict=True):
        evaluated[key] = (shapes[key][0], tally)
        if share_shapes:
            known.put((*key, *run), evaluated[key])
    everywhere = set(all_worlds or (world_label(w, label) for w in worlds))
    causes: dict[tuple[object, ...], Cause] = {}
    for key, same in shapes.items():
        model, tally = evaluated[key]
        for group in same:
            names = rename(model, group)
            for found in tally.values():
                _record(causes, found, group, names, every=every)
    for cause in causes.values():
        if set(cause.worlds) >= everywhere:
            cause.worlds = ()
    return sorted(causes.values(), key=_order), sum(count for _, count in parts)


_Run = tuple[tuple[World, ...], str, bool, str, bool]
"""What a comparison evaluates under: its worlds, root namespace, `every`, label and whether
it decides by blocks."""


def _evaluate(run: _Run, models: list[DestinationClass]) -> list[tuple[list[_Tally], int]]:
    """`_tally` of each class, for one comparison's worlds, root namespace, `every`, label
    and way of deciding; in workers when there are many."""
    worlds, root, every, label, by_blocks = run
    return map_chunks(
        functools.partial(
            _tally, worlds=worlds, root=root, every=every, label=label, blocks=by_blocks
        ),
        models,
        min_items=MIN_PARALLEL_CLASSES,
    )


class ShapeMemo:
    """Evaluations of class shapes, kept across the comparisons of one run: a shape's
    differences depend on nothing but its key (`shape_key`, the worlds, the root namespace
    and what the comparison keeps), so the class evaluated first stands for the rest.

    While `collecting`, comparisons evaluate nothing: they leave the shapes they miss here,
    and `evaluate_pending` evaluates all of them at once, over every core (many small
    comparisons, such as a plan's stages, are each too small to spread)."""

    def __init__(self) -> None:
        self._evaluated: dict[tuple[object, ...], tuple[DestinationClass, _Tally]] = {}
        self._pending: dict[_Run, dict[tuple[object, ...], DestinationClass]] = {}
        self.collecting = False

    def defer(self, run: _Run, models: dict[tuple[object, ...], DestinationClass]) -> None:
        """Shapes a comparison would evaluate (`run`: its worlds, root namespace, `every`
        and label), each with the class that stands for it."""
        self._pending.setdefault(run, {}).update(models)

    def evaluate_pending(self) -> None:
        """Evaluate every shape left by `defer` and keep the results."""
        pending, self._pending = self._pending, {}
        for run, models in pending.items():
            keys = list(models)
            parts = _evaluate(run, [models[key] for key in keys])
            tallies = (t for part, _ in parts for t in part)
            for key, tally in zip(keys, tallies, strict=True):
                self.put((*key, *run), (models[key], tally))

    def get(self, key: tuple[object, ...]) -> tuple[DestinationClass, _Tally] | None:
        """The class evaluated for `key` and its differences by cause, if any was."""
        return self._evaluated.get(key)

    def put(self, key: tuple[object, ...], value: tuple[DestinationClass, _Tally]) -> None:
        """Keep an evaluation."""
        self._evaluated[key] = value

    def clear(self) -> None:
        """Forget every evaluation (and pending shape)."""
        self._evaluated.clear()
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._evaluated)


def merge_causes(parts: Sequence[list[Cause]], everywhere: Sequence[str]) -> list[Cause]:
    """Causes of several comparisons (one per arrangement of duplicate documents, each in
    the order `compare` gives) as one list in that order: a cause that shows in every world
    of the run (`everywhere`) carries no labels."""
    merged: dict[tuple[object, ...], Cause] = {}
    for part in parts:
        for cause in part:
            key = _cause_key(cause)
            known = merged.get(key)
            if known is None:
                merged[key] = cause
                continue
            known.requests += cause.requests
            known.workloads |= cause.workloads
            known.differences += cause.differences
            if not known.worlds or not cause.worlds:
                known.worlds = ()
            else:
                known.worlds = tuple(sorted({*known.worlds, *cause.worlds}))
                if set(known.worlds) >= set(everywhere):
                    known.worlds = ()
    if len(parts) == 1:  # already in order: a part is sorted, and merging keeps first places
        return list(merged.values())
    return sorted(merged.values(), key=_order)


def _cause_key(cause: Cause) -> tuple[object, ...]:
    witness = cause.witness
    return _cause_key_of(
        Difference(witness, cause.before, cause.after, cause.change, cause.inherent, cause.twin)
    )


def world_label(world: World, label: str = "") -> str:
    """A world as causes name it: its releases, and the arrangement of duplicates if any."""
    return f"{world.label}, {label}" if label else world.label


def _variants(
    applicable: Applicable, releases: Iterable[Release], *, alpha_paths: bool
) -> dict[Release, tuple[object, ...]]:
    """For each release, the behaviours that matter to this side of the class: releases with
    equal keys decide every request alike, so one of them is evaluated for all."""
    keyless = any(
        not (rule.jwks or rule.jwks_uri) for r in applicable.request_auths for rule in r.jwt_rules
    )
    found = {}
    for release in releases:
        alpha = applicable.alpha is not None and release.alpha
        key: tuple[object, ...] = (
            release.alpha if applicable.alpha is not None else None,
            release.beta
            if (applicable.peer or applicable.request_auths or applicable.authz)
            else None,
            release.cors_bypass if alpha and applicable.alpha.origins else None,  # type: ignore[union-attr]
            release.strip_query if alpha and alpha_paths else None,
            release.beta_discovery if keyless and release.beta else None,
        )
        found[release] = key
    return found


def _alike_everywhere(group: DestinationClass, worlds: Sequence[World]) -> bool:
    """True when the class's resources behave alike on both releases of every world (a class
    whose two sides apply the same resources then needs no evaluation). Across an upgrade
    they may not: 1.6 drops v1alpha1, 1.5 stops matching trigger rules against the query,
    1.5.1 discovers the keys of a jwtRule that has none."""
    upgrades = [w for w in worlds if w.before != w.after]
    if not upgrades:
        return True
    paths = _has_trigger_rules(group.before.alpha)
    releases = {r for w in upgrades for r in (w.before, w.after)}
    keys = _variants(group.before, releases, alpha_paths=paths)
    return all(keys[w.before] == keys[w.after] for w in upgrades)


@dataclass(slots=True)
class _Found:
    """Differences of one class that would make one cause: the first, how many, all of them
    (with `every`), and the worlds they show in."""

    first: Difference
    worlds: tuple[str, ...]
    count: int = 0
    all: list[Difference] = field(default_factory=list)


def _tally(
    groups: Sequence[DestinationClass],
    worlds: tuple[World, ...],
    root: str,
    *,
    every: bool,
    label: str,
    blocks: bool = True,
) -> tuple[list[dict[tuple[object, ...], _Found]], int]:
    """For each class, its differences by cause (run in workers on large inputs). `blocks`:
    decide an HTTP destination's requests a block at a time (`migrate.semantics.grid`),
    with the counts and witnesses of deciding them one by one; not with `every`, which keeps
    each differing request."""
    tallies = []
    evaluated = 0
    before_releases = sorted({w.before for w in worlds})
    after_releases = sorted({w.after for w in worlds})
    raw = any(not r.strip_query for r in before_releases)
    for group in groups:
        tally: dict[tuple[object, ...], _Found] = {}
        paths = _has_trigger_rules(group.before.alpha) or _has_trigger_rules(group.after.alpha)
        old_keys = _variants(group.before, before_releases, alpha_paths=paths)
        new_keys = _variants(group.after, after_releases, alpha_paths=paths)
        old_settings = {k: Settings(r, root) for r, k in reversed(old_keys.items())}
        new_settings = {k: Settings(r, root) for r, k in reversed(new_keys.items())}
        pairs: dict[tuple[tuple[object, ...], tuple[object, ...]], list[World]] = {}
        for world in worlds:
            pairs.setdefault((old_keys[world.before], new_keys[world.after]), []).append(world)
        labels = {w: world_label(w, label) for w in worlds}
        pair_worlds = list(pairs.values())
        settings = [(old_settings[ko], new_settings[kn]) for ko, kn in pairs]
        shown_in: dict[tuple[int, ...], tuple[str, ...]] = {}
        count_of = [0]
        if blocks and not every and group.destination.http:
            parts = space_blocks(group, raw=raw)
            found_cells = cells(parts, group.before, group.after, settings)
            count_of[0] = sum(len(b.tokens) * len(b.cells) for b in parts)
        else:
            found_cells = _one_by_one(group, settings, count_of, raw=raw)
        for request, count, differing in found_cells:
            found: dict[tuple[object, ...], tuple[Difference, list[int]]] = {}
            for index, outcomes in enumerate(differing):
                if outcomes is None:
                    continue
                before, after, twin = outcomes
                difference = classify(before, after, request, twin)
                if difference is None:
                    continue
                key = (
                    difference.change,
                    difference.before,
                    difference.after,
                    difference.inherent,
                    difference.twin,
                )
                entry = found.setdefault(key, (difference, []))
                entry[1].append(index)
            for difference, seen in found.values():
                shown = shown_in.get(tuple(seen))
                if shown is None:
                    shown = shown_in[tuple(seen)] = tuple(
                        sorted({labels[w] for i in seen for w in pair_worlds[i]})
                    )
                cause = _cause_key_of(difference, shown)
                one = tally.get(cause)
                if one is None:
                    one = tally[cause] = _Found(difference, shown)
                one.count += count
                if every:
                    one.all.append(difference)
        evaluated += count_of[0]
        tallies.append(tally)
    return tallies, evaluated


def _one_by_one(
    group: DestinationClass,
    settings: Sequence[tuple[Settings, Settings]],
    seen: list[int],
    *,
    raw: bool,
) -> Iterator[tuple[Request, int, tuple[Pair | None, ...]]]:
    """Every request of the class decided on its own: (request, 1, per world its outcomes
    or None where they are equal), counted in `seen`."""
    olds = {id(b): b for b, _ in settings}
    news = {id(a): a for _, a in settings}
    for request in requests(group, raw=raw):
        seen[0] += 1
        old = {k: decide(group.before, request, s) for k, s in olds.items()}
        new = {k: decide(group.after, request, s) for k, s in news.items()}
        differing: list[Pair | None] = []
        for b, a in settings:
            before, after = old[id(b)], new[id(a)]
            if before == after:
                differing.append(None)
                continue
            twin = None
            if before.verdict is Verdict.MISMATCH and not after.verdict.denied:
                twin = decide(group.before, plaintext_twin(request), b)
            differing.append((before, after, twin))
        yield request, 1, tuple(differing)


_Tally = dict[tuple[object, ...], _Found]


def _has_trigger_rules(policy: object) -> bool:
    origins = getattr(policy, "origins", ())
    return any(o.trigger_rules for o in origins)


def _cause_key_of(difference: Difference, worlds: tuple[str, ...] = ()) -> tuple[object, ...]:
    """What differences of one cause share (`worlds`: and the worlds they show in, while
    one comparison runs; causes of several are merged whatever their worlds)."""
    before, after = difference.before, difference.after
    return (
        difference.change,
        (before.verdict, before.reason, before.decided_by),
        (after.verdict, after.reason, after.decided_by),
        difference.inherent,
        None if difference.twin is None else difference.twin.verdict,
        features(difference.request),
        worlds,
    )


def _record(
    causes: dict[tuple[object, ...], Cause],
    found: _Found,
    group: DestinationClass,
    names: dict[str, str],
    *,
    every: bool,
) -> None:
    """Add a class's differences of one cause, in that class's names (`names`: from the
    class of its shape that was evaluated to this one's resources)."""
    first = _renamed(found.first, group, names)
    key = _cause_key_of(first, found.worlds)
    cause = causes.get(key)
    if cause is None:
        cause = causes[key] = Cause(
            first.change,
            first.before,
            first.after,
            first.inherent,
            first.request,
            twin=first.twin,
            worlds=found.worlds,
        )
    cause.requests += found.count
    cause.workloads.update((s.namespace, s.name) for s in group.sites)
    if every:
        cause.differences += [_renamed(d, group, names) for d in found.all]
    elif not cause.differences:
        cause.differences.append(first)


def _renamed(difference: Difference, group: DestinationClass, names: dict[str, str]) -> Difference:
    """The difference as the class `group` has it: its destination, its resources' names."""
    if not names and difference.request.destination is group.destination:
        return difference
    request = difference.request
    return Difference(
        Request(
            group.destination,
            request.peer,
            request.token,
            request.path,
            request.method,
            request.headers,
        ),
        _outcome_renamed(difference.before, names),
        _outcome_renamed(difference.after, names),
        difference.change,
        difference.inherent,
        None if difference.twin is None else _outcome_renamed(difference.twin, names),
    )


def _outcome_renamed(outcome: Outcome, names: dict[str, str]) -> Outcome:
    if not names or not outcome.decided_by:
        return outcome
    return Outcome(
        outcome.verdict,
        outcome.reason,
        outcome.token_forwarded,
        tuple(names.get(ref, ref) for ref in outcome.decided_by),
    )


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
    return (
        destination.http,
        destination.service is None,
        destination.condition,
        kind,
        request.is_cors_preflight,
    )


_RANK = {Change.LOOSER: 0, Change.STRICTER: 1, Change.STATUS_ONLY: 2, Change.COMPATIBLE: 3}


def _order(cause: Cause) -> tuple[object, ...]:
    return (_RANK[cause.change], bool(cause.inherent), str(cause.witness))
