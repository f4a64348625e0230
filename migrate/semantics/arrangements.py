"""Arrangements: which definition is in force where the inputs define one object in several
files and leave the apply order open (§F, duplicate documents).

Each arrangement picks one candidate per open object; the proof runs in every arrangement and
reports the worst. An object open on both sides with the same candidates is arranged alike
on both (the files are applied in one order), so an unchanged duplicate is no difference.

    after/a/pa.yaml: PeerAuthentication istio-system/default  STRICT
    after/b/pa.yaml: PeerAuthentication istio-system/default  PERMISSIVE
        ->  two arrangements: "with ... from after/a/pa.yaml", "with ... from after/b/pa.yaml"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product

from migrate.load.documents import Document
from migrate.model.alpha import AlphaPolicy
from migrate.model.beta import BetaResource
from migrate.model.inventory import Inventory, InventoryDuplicates
from migrate.semantics.side import Duplicates, Side

MAX_ARRANGEMENTS = 64
"""More arrangements than this are refused: remove duplicates, or narrow the inputs."""


class TooManyArrangements(Exception):
    """The open apply orders multiply past MAX_ARRANGEMENTS (the message says which)."""


@dataclass(frozen=True, slots=True)
class Arrangement:
    """One way the open duplicates may be applied, and the two sides and inventory under it
    (`label` is "" when nothing is open)."""

    label: str
    before: Side
    after: Side
    inventory: Inventory


@dataclass(frozen=True, slots=True)
class _Choice:
    """One open object: the sides (and inventory) it is open in, and its candidates' files.
    `twins` maps a pick on the old side to the same definition on the new side, when the
    object is open alike on both."""

    identity: tuple[str, str, str]
    ref: str
    paths: tuple[str, ...]
    before: bool
    after: bool
    inventory: bool
    twins: tuple[int, ...] = ()


def arrangements(before: Side, after: Side, inventory: Inventory) -> list[Arrangement]:
    """Every arrangement of the open duplicates (one when there are none)."""
    choices = _choices(before.ambiguous, after.ambiguous, inventory.ambiguous)
    if not choices:
        return [Arrangement("", before, after, inventory)]
    count = 1
    for choice in choices:
        count *= len(choice.paths)
    if count > MAX_ARRANGEMENTS:
        raise TooManyArrangements(
            f"{len(choices)} object(s) defined in several files give {count} possible apply "
            f"orders (at most {MAX_ARRANGEMENTS} are proven): "
            + ", ".join(c.ref for c in choices[:5])
        )
    found = []
    for picks in product(*(range(len(c.paths)) for c in choices)):
        old: dict[tuple[str, str, str], int] = {}
        new: dict[tuple[str, str, str], int] = {}
        stock: dict[tuple[str, str, str], int] = {}
        words = []
        for choice, pick in zip(choices, picks, strict=True):
            if choice.before:
                old[choice.identity] = pick
            if choice.after:
                new[choice.identity] = choice.twins[pick] if choice.twins else pick
            if choice.inventory:
                stock[choice.identity] = pick
            side = (
                "" if choice.before == choice.after else (" before" if choice.before else " after")
            )
            words.append(f"{choice.ref}{side} from {choice.paths[pick]}")
        found.append(
            Arrangement(
                "with " + " and ".join(words),
                before.choose(old),
                after.choose(new),
                inventory.choose(stock),
            )
        )
    return found


def _choices(
    before: tuple[Duplicates, ...],
    after: tuple[Duplicates, ...],
    inventory: list[InventoryDuplicates],
) -> list[_Choice]:
    """The open objects: one choice for an object open alike on both sides, else one per
    side."""
    found = []
    later = {d.identity: d for d in after}
    for group in before:
        twin = later.get(group.identity)
        twins: tuple[int, ...] = ()
        if twin is not None and sorted(_keys(twin)) == sorted(_keys(group)):
            later.pop(group.identity)
            theirs = _keys(twin)
            twins = tuple(theirs.index(key) for key in _keys(group))
        found.append(
            _Choice(
                group.identity, group.ref, tuple(group.paths()), True, bool(twins), False, twins
            )
        )
    found += [
        _Choice(g.identity, g.ref, tuple(g.paths()), False, True, False) for g in later.values()
    ]
    found += [_Choice(g.identity, g.ref, tuple(g.paths()), False, False, True) for g in inventory]
    return found


def _keys(group: Duplicates) -> list[str]:
    """What tells a group's candidates apart: their content (two trees compared hold the same
    files under different folders)."""
    return [json.dumps(_document(c).data, sort_keys=True, default=str) for c in group.candidates]


def _document(resource: AlphaPolicy | BetaResource) -> Document:
    if isinstance(resource, AlphaPolicy):
        return resource.document
    return resource.meta.document
