"""Spreading independent work over processes on large inputs.

Workers are forked: they inherit the parent's memory (the loaded repository, the indexes), so
nothing is pickled on the way in; only each chunk's result comes back, and results are
returned in input order so the outcome is the same as one process computing it all. Where
`fork` is not available, or there is one core, or the input is small, the work runs here.
`AUTHN_MIGRATE_JOBS` sets the number of processes (1: never fork).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from migrate import progress

T = TypeVar("T")
R = TypeVar("R")

JOBS_VARIABLE = "AUTHN_MIGRATE_JOBS"
CHUNKS_PER_JOB = 4
"""Chunks per process: small enough to even out the load, few enough to merge cheaply."""

_work: tuple[Callable[[Sequence[Any]], Any], Sequence[Any]] | None = None
_in_worker = False


def jobs() -> int:
    """Processes to use: `AUTHN_MIGRATE_JOBS`, else the cores this process may run on."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = os.environ.get(JOBS_VARIABLE, "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def map_chunks(func: Callable[[Sequence[T]], R], items: Sequence[T], *, min_items: int) -> list[R]:
    """`func` over contiguous chunks of `items`, in order: in forked workers when there are
    at least `min_items` and more than one job, else once over all of them here."""
    workers = jobs()
    if workers < 2 or len(items) < max(min_items, 2):
        return [func(items)]
    count = min(len(items), workers * CHUNKS_PER_JOB)
    bounds = [(len(items) * i // count, len(items) * (i + 1) // count) for i in range(count)]
    global _work  # noqa: PLW0603 (handed to the forked workers through their memory)
    _work = (func, items)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, count)) as pool:
            results = []
            for (start, end), result in zip(bounds, pool.imap(_run, bounds), strict=True):
                results.append(result)
                progress.advance(end - start)
            return results
    finally:
        _work = None


def in_worker() -> bool:
    """True in a forked worker of `map_chunks`: what it returns is pickled back to the
    parent, so it may leave out what the parent can rebuild for less."""
    return _in_worker


def _run(bounds: tuple[int, int]) -> Any:
    assert _work is not None, "called outside map_chunks"
    global _in_worker  # noqa: PLW0603 (this process is a worker from now on)
    _in_worker = True
    progress.silence()  # the parent draws; a worker's copy of the display is not its own
    func, items = _work
    return func(items[bounds[0] : bounds[1]])
