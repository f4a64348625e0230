"""Progress of long runs: the library names its phases and counts its steps; whoever runs it
decides whether to show them (the CLI: a rich bar on standard error, on a terminal only).

Silent unless `showing` installs a display, so library callers and tests see nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID


class Display(Protocol):
    """Where progress goes."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase begins, with its number of steps if known."""

    def advance(self, steps: int) -> None:
        """Steps of the current phase are done."""

    def close(self) -> None:
        """The run is over: clear the display."""


class _Silent:
    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass

    def close(self) -> None:
        pass


_display: Display = _Silent()
_label = ""


def phase(name: str, total: int | None = None) -> None:
    """Report that a phase begins (within the current label, if any)."""
    _display.phase(f"{_label}: {name}" if _label else name, total)


def label(text: str) -> None:
    """Name the step the next phases belong to (e.g. a plan's stage); "" for none."""
    global _label  # noqa: PLW0603 (one display per process)
    _label = text


def advance(steps: int = 1) -> None:
    """Report steps of the current phase done."""
    _display.advance(steps)


def silence() -> None:
    """Stop reporting in this process (forked workers: only the parent draws)."""
    global _display  # noqa: PLW0603 (one display per process)
    _display = _Silent()


@contextmanager
def showing(display: Display | None) -> Iterator[None]:
    """Report to `display` (None: nowhere) while the block runs."""
    global _display  # noqa: PLW0603 (one display per process)
    previous, _display = _display, display or _Silent()
    try:
        yield
    finally:
        _display.close()
        _display = previous
        label("")


@contextmanager
def quiet() -> Iterator[None]:
    """Report nothing while the block runs; the display and label stay as they were."""
    global _display, _label  # one display per process
    previous, kept, _display = _display, _label, _Silent()
    try:
        yield
    finally:
        _display, _label = previous, kept


class TerminalDisplay:
    """A rich progress bar on standard error, redrawn at most ten times a second from the
    caller's thread (no refresh thread, so forking workers stays safe). It clears itself
    before the first byte the command writes to standard output or error, which then goes
    out untouched."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._streams = (sys.stdout, sys.stderr)
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: TaskID | None = None
        self._drawn = 0.0
        self._open = True
        self._progress.start()
        sys.stdout = _ClosingOnWrite(sys.stdout, self)
        sys.stderr = _ClosingOnWrite(sys.stderr, self)

    def phase(self, name: str, total: int | None) -> None:
        if not self._open:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(name, total=total)
        self._draw(force=True)

    def advance(self, steps: int) -> None:
        if self._open and self._task is not None:
            self._progress.advance(self._task, steps)
            self._draw()

    def close(self) -> None:
        if self._open:
            self._open = False
            sys.stdout, sys.stderr = self._streams
            self._progress.stop()

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn >= 0.1:
            self._drawn = now
            self._progress.refresh()


class _ClosingOnWrite:
    """A stream that clears the bar before its first write, then gets out of the way."""

    def __init__(self, stream: TextIO, display: TerminalDisplay) -> None:
        self._stream = stream
        self._display = display

    def write(self, text: str) -> int:
        self._display.close()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)
