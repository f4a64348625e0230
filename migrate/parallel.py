"""Spreading independent work over processes on large inputs.

Workers are forked: they inherit the parent's memory (the loaded repository, the indexes), so
nothing is pickled on the way in; only each chunk's result comes back, and results are
returned in input order so the outcome is the same as one process computing it all. Where
`fork` is not available, or there is one core, or the input is small, the work runs here.
`AUTHN_MIGRATE_JOBS` sets the number of processes (1: never fork).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast

from migrate import progress

T = TypeVar("T")
R = TypeVar("R")

JOBS_VARIABLE = "AUTHN_MIGRATE_JOBS"
CHUNKS_PER_JOB = 4
"""Chunks per process: small enough to even out the load, few enough to merge cheaply."""

_work: tuple[Callable[[Sequence[Any]], Any], Sequence[Any]] | None = None
_in_worker = False
_beside_workers = False
"""True while this process does its `meanwhile` work beside running workers: it forks no
more of them then (a fork beside the pool's threads is not safe, and the cores are busy)."""


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
    at least `min_items` and more than one job, else once over all of them here (also in a
    worker or a background process: the cores are taken by then, and what their own
    workers computed would cross two process boundaries instead of one)."""
    workers = jobs()
    if workers < 2 or len(items) < max(min_items, 2) or _beside_workers or _in_worker:
        return [func(items)]
    count = min(len(items), workers * CHUNKS_PER_JOB)
    bounds = [(len(items) * i // count, len(items) * (i + 1) // count) for i in range(count)]
    global _work  # noqa: PLW0603 (handed to the forked workers through their memory)
    _work = (func, items)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, count)) as pool:
            results = []
            running = pool.imap(_run, bounds)
            _do_meanwhile()
            for (start, end), result in zip(bounds, running, strict=True):
                results.append(result)
                progress.advance(end - start)
            return results
    finally:
        _work = None


class Meanwhile(Generic[R]):
    """Work this process does while forked workers compute something else (see
    `meanwhile`); its value, or its exception, comes out of `result`."""

    def __init__(self, func: Callable[[], R]) -> None:
        self._func = func
        self._done = False
        self._value: R | None = None
        self._error: Exception | None = None

    def run(self) -> None:
        """Do the work now, unless it was done (an exception is kept for `result`)."""
        if self._done:
            return
        self._done = True
        try:
            self._value = self._func()
        except Exception as exc:  # re-raised by `result`, where it was due
            self._error = exc

    def result(self) -> R:
        """The work's value (done now if no workers ran meanwhile); its exception, raised."""
        self.run()
        if self._error is not None:
            raise self._error
        return cast("R", self._value)  # set by `run`, as there was no error


_meanwhile: list[Meanwhile[Any]] = []


@contextmanager
def meanwhile(func: Callable[[], R]) -> Iterator[Meanwhile[R]]:
    """Hand `func` to the next `map_chunks` of the block that forks workers: this process
    runs it while they work, instead of waiting for them, so work that only one process
    can do overlaps with work spread over the others. If none forks, `result()` runs it
    after the block. `func` must not depend on what the block computes (it may run before
    or after it), and it never forks workers itself while they run."""
    task = Meanwhile(func)
    _meanwhile.append(task)
    try:
        yield task
    finally:
        if task in _meanwhile:
            _meanwhile.remove(task)


def _do_meanwhile() -> None:
    """Run the work handed to `meanwhile`, beside the workers just started."""
    global _beside_workers  # noqa: PLW0603 (one process's state)
    if _in_worker or _beside_workers:
        return
    tasks = list(_meanwhile)
    _meanwhile.clear()
    _beside_workers = True
    try:
        with progress.quiet():  # the workers' phase stays on the display
            for task in tasks:
                task.run()
    finally:
        _beside_workers = False


class Background(Generic[R]):
    """Work started in a forked process (see `background`); its value comes out of
    `result`."""

    def __init__(self, func: Callable[[], R]) -> None:
        self._func = func
        self._child: tuple[Any, Any] | None = None  # the process, the end its answer comes to
        if jobs() >= 2 and not (_in_worker or _beside_workers):
            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_answer, args=(func, send, receive))
            process.start()
            send.close()
            self._child = (process, receive)

    def __del__(self) -> None:
        """A result never asked for (an error came first): the process is stopped, not
        waited for to finish work nobody will read."""
        self.cancel()

    def cancel(self) -> None:
        """Stop the process (its work is not wanted), and wait until it has stopped."""
        child, self._child = self._child, None
        if child is not None:
            child[1].close()
            child[0].terminate()
            child[0].join()

    def result(self) -> R:
        """The work's value, as the process computed it (its exception raised here); done
        here now when no process was started, or the one started could not answer."""
        child, self._child = self._child, None
        if child is not None:
            process, receive = child
            try:
                kind, value = receive.recv()
            except Exception:  # no answer, or one that does not unpickle: computed here
                kind, value = "none", None
            finally:
                receive.close()
                process.join()
            if kind == "error":
                raise value
            if kind == "value":
                return cast("R", value)
        return self._func()


def background(func: Callable[[], R]) -> Background[R]:
    """Start `func` in a forked process now, to run beside what this process does next
    (steps that only one process can do); `result()` gets its value, sent back through a
    pipe. With one job, in a worker, or beside workers, `result()` runs it here instead.
    `func` must not depend on what this process does meanwhile; what it returns and raises
    must pickle (else it is computed again here)."""
    return Background(func)


def _answer(func: Callable[[], Any], send: Any, receive: Any) -> None:
    """In the forked process: compute, and send the value or the exception back (the
    parent's end is closed here, so that a parent gone away ends the sending)."""
    receive.close()
    global _in_worker  # noqa: PLW0603 (this process is a worker from now on)
    _in_worker = True
    progress.silence()
    try:
        answer: tuple[str, Any] = ("value", func())
    except Exception as exc:  # sent to the parent, raised by `result`
        answer = ("error", exc)
    try:
        send.send(answer)
    except Exception:  # an answer that does not pickle: the parent computes it
        with contextlib.suppress(Exception):  # unless it has gone away
            send.send(("none", None))
    finally:
        send.close()


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
