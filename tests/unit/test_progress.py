"""The progress display: on standard error when it is a terminal, never in the output bytes,
and never with --quiet or without a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from migrate import progress

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rollout"
COMMAND = [sys.executable, "-m", "migrate", "convert", "-o", "yaml", str(EXAMPLE)]


def _run(*extra: str, terminal: bool) -> tuple[bytes, bytes]:
    """(stdout, stderr) of the command, stderr on a pseudo-terminal when `terminal`."""
    if not terminal:
        done = subprocess.run([*COMMAND, *extra], capture_output=True, check=False)
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm"}
    chunks: list[bytes] = []
    # the terminal is drained while the command runs: a pty holds a few kilobytes only, and a
    # command that fills it would wait for a reader forever
    reader = threading.Thread(target=_drain, args=(leader, chunks))
    reader.start()
    with subprocess.Popen(
        [*COMMAND, *extra], stdout=subprocess.PIPE, stderr=follower, env=env
    ) as child:
        os.close(follower)
        stdout = child.stdout.read() if child.stdout else b""
        child.wait()
    reader.join()
    os.close(leader)
    return stdout, b"".join(chunks)


def _drain(leader: int, chunks: list[bytes]) -> None:
    """Read the terminal until the command has closed it."""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)


def test_bar_on_a_terminal_leaves_the_output_bytes_alone() -> None:
    """With standard error on a terminal the bar is drawn there; standard output (a pipe) is
    byte for byte what it is without a terminal."""
    quiet_out, quiet_err = _run(terminal=False)
    out, err = _run(terminal=True)
    assert b"reading files" in err
    assert b"reading files" not in quiet_err
    assert out == quiet_out
    assert b"apiVersion: security.istio.io/v1beta1" in out


def test_quiet_draws_nothing_even_on_a_terminal() -> None:
    """--quiet: no bar, whatever standard error is."""
    _, err = _run("--quiet", terminal=True)
    assert b"reading files" not in err


def test_library_is_silent_unless_a_display_is_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Phases reported without `showing` go nowhere; with a display they reach it, labelled."""
    seen: list[tuple[str, int | None, int]] = []

    class Recorder:
        def phase(self, name: str, total: int | None) -> None:
            seen.append((name, total, 0))

        def advance(self, steps: int) -> None:
            name, total, done = seen[-1]
            seen[-1] = (name, total, done + steps)

        def close(self) -> None:
            seen.append(("closed", None, 0))

    progress.phase("unseen", 3)
    with progress.showing(Recorder()):
        progress.label("stage 1 of 2")
        progress.phase("comparing", 2)
        progress.advance(2)
    assert seen == [("stage 1 of 2: comparing", 2, 2), ("closed", None, 0)]
    assert capsys.readouterr() == ("", "")
