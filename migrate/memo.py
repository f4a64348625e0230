"""Memoizing by object identity, for values computed from objects that are costly to hash
(frozen models holding dicts, schema trees) and asked about again and again.

An entry keeps its objects alive, so an id is never reused while the entry holds it; the
cache clears itself when it grows past its limit.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """Values by the identity of some objects (and an optional hashable extra)."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int) -> None:
        self._entries: dict[tuple[object, ...], tuple[tuple[object, ...], V]] = {}
        self._limit = limit

    def get(self, objects: tuple[object, ...], make: Callable[[], V], extra: Hashable = None) -> V:
        """The value for these very objects (and `extra`), made once."""
        key = (*map(id, objects), extra)
        entry = self._entries.get(key)
        if entry is None or not all(map(operator.is_, entry[0], objects)):
            if len(self._entries) > self._limit:
                self._entries.clear()
            entry = self._entries[key] = (objects, make())
        return entry[1]

    def take(self, objects: tuple[object, ...], make: Callable[[], V], extra: Hashable = None) -> V:
        """The value for these very objects (and `extra`) if one is kept, no longer kept;
        else made now and kept for the next ask (a value asked for twice, then dropped)."""
        key = (*map(id, objects), extra)
        entry = self._entries.pop(key, None)
        if entry is not None and all(map(operator.is_, entry[0], objects)):
            return entry[1]
        if len(self._entries) > self._limit:
            self._entries.clear()
        value = make()
        self._entries[key] = (objects, value)
        return value
