"""Memoizing by identity: a value is made once for the very objects, never for equal ones."""

from __future__ import annotations

from migrate.memo import IdentityMemo


def test_take_keeps_a_value_for_one_more_ask_of_the_same_objects() -> None:
    """`take` makes a value and keeps it; the next ask with the same objects gets it and it
    is no longer kept; equal but distinct objects, or another extra, never share it."""
    memo: IdentityMemo[list[int]] = IdentityMemo(16)
    made: list[int] = []

    def make() -> list[int]:
        made.append(1)
        return [len(made)]

    first, twin = [1], [1]
    value = memo.take((first,), make, "x")
    assert memo.take((first,), make, "x") is value
    assert len(made) == 1
    assert memo.take((first,), make, "x") is not value, "dropped after its second ask"
    assert len(made) == 2
    memo.take((twin,), make, "x")
    memo.take((first,), make, "y")
    assert len(made) == 4
