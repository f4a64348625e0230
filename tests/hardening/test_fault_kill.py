"""`convert --write` killed at random moments: after every kill each file holds its original
bytes or its complete new content, and running it again completes the migration.

The kills land anywhere in the run, right after the first staging file appears (the write
phase of an unmodified run lasts a few milliseconds), and inside a write phase widened by
slowing each rename down, so that many kills fall between two renames.
AUTHN_FAULT_KILLS sets the number of kills (CI: 50) and AUTHN_FAULT_NAMESPACES the size of
the generated repository."""

from __future__ import annotations

import collections
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from repo_kit import PEER_JWT, cli_command, generate_repo, snapshot
from typer.testing import CliRunner

from migrate.cli import app
from migrate.rewrite.journal import JOURNAL_NAME, STAGING_SUFFIX
from migrate.rewrite.lock import LOCK_NAME

KILLS = int(os.environ.get("AUTHN_FAULT_KILLS", "50"))
NAMESPACES = int(os.environ.get("AUTHN_FAULT_NAMESPACES", "4"))
WRITE_PHASE = "during the write phase"
SLOW_SECONDS = 0.01
"""Added before each rename in the widened runs."""
SLOWED = f"""\
import os, time
def slowed(*args, _real=os.replace):
    time.sleep({SLOW_SECONDS})
    return _real(*args)
os.replace = slowed
"""


@dataclass(frozen=True, slots=True)
class Reference:
    """The repository before, the tree one uninterrupted run makes of it, and timings."""

    original: dict[str, bytes]
    expected: dict[str, bytes]
    seconds: float
    first_staged: str
    """The folder the first staging file appears in."""
    write_seconds: dict[bool, float]
    """How long the write phase lasts, unmodified (False) and slowed (True)."""


def _command(*, slow: bool) -> list[str]:
    command = cli_command("convert", "--write", ".")
    if slow:
        command[2] = SLOWED + command[2]
    return command


def _reset(work: Path, source: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, symlinks=True)


def _staging(work: Path) -> list[Path]:
    return list(work.rglob(f".*{STAGING_SUFFIX}"))


def _wait_for_staging(process: subprocess.Popen[bytes], folder: Path) -> float | None:
    """Poll until a staging file appears in `folder`; the time it did, None if the run ended
    first."""
    while process.poll() is None:
        if any(name.endswith(STAGING_SUFFIX) for name in os.listdir(folder)):
            return time.monotonic()
        time.sleep(0.0002)
    return None


def _write_phase(source: Path, work: Path, folder: Path, *, slow: bool) -> float:
    """Seconds from the first staging file to the last rename, in one uninterrupted run."""
    _reset(work, source)
    process = subprocess.Popen(
        _command(slow=slow), cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    seen = _wait_for_staging(process, work / folder)
    seen_ns = time.time_ns()
    assert process.wait() == 0
    assert seen is not None, "the run staged nothing"
    renamed = max(p.stat().st_ctime_ns for p in (work / folder).parent.rglob("*.yaml"))
    return max((renamed - seen_ns) / 1e9, 0.002)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Reference]:
    """A generated repository and what `convert --write` makes of it when left alone."""
    base = tmp_path_factory.mktemp("fault")
    source = generate_repo(
        base / "source", namespaces=NAMESPACES, services=5, policies=NAMESPACES * 5 // 2
    )
    work = base / "work"
    _reset(work, source)
    started = time.monotonic()
    done = subprocess.run(_command(slow=False), cwd=work, capture_output=True, check=False)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()
    original, expected = snapshot(source), snapshot(work)
    changed = sorted(name for name in original if original[name] != expected[name])
    assert len(changed) >= 3, changed
    assert sorted(expected) == sorted(original)
    first = Path(changed[0]).parent
    timings = {slow: _write_phase(source, work, first, slow=slow) for slow in (False, True)}
    return source, Reference(original, expected, seconds, first.as_posix(), timings)


def _kill(work: Path, ref: Reference, rng: random.Random, number: int) -> bool:
    """Start the run and SIGKILL it at a drawn moment; True if it ended before the kill."""
    mode = number % 5  # 0: anywhere, 1-2: after staging starts, 3-4: the same, slowed
    slow = mode >= 3
    process = subprocess.Popen(
        _command(slow=slow), cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if mode == 0:
        time.sleep(rng.uniform(0.02, 1.05) * ref.seconds)
    else:
        _wait_for_staging(process, work / ref.first_staged)
        time.sleep(rng.uniform(0, 1.2 * ref.write_seconds[slow]))
    finished = process.poll() is not None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return finished


def _phase(work: Path, ref: Reference, finished: bool) -> str:
    """Where the kill landed, judged from the files it left; asserts each file is whole."""
    found = snapshot(work)
    staged = _staging(work)
    journal = found.pop(JOURNAL_NAME, None) is not None
    lock = found.pop(LOCK_NAME, None)  # the killed run's, taken over by the next
    assert lock is None or lock.strip().isdigit(), lock
    for name in [n for n in found if n.startswith(f"{LOCK_NAME}.")]:  # killed taking it:
        aside = found.pop(name)  # removed by the next run (the rerun's tree is checked)
        assert aside.strip().isdigit() or not aside, aside
    for path in staged:
        assert path.parent.relative_to(work).as_posix() in {
            ".",
            *(Path(name).parent.as_posix() for name in ref.original),
        }
        del found[path.relative_to(work).as_posix()]
    assert sorted(found) == sorted(ref.original), "a file appeared or went missing"
    new = 0
    for name, data in found.items():
        assert data in (ref.original[name], ref.expected[name]), f"{name} is neither old nor new"
        new += data != ref.original[name]
    changed = sum(ref.original[n] != ref.expected[n] for n in ref.original)
    if finished:
        return "run had ended"
    if journal or 0 < new < changed:
        return WRITE_PHASE + ", committed"
    if staged:
        return WRITE_PHASE + ", staging"
    return "after the renames" if new else "before writing"


def test_kill_9_at_random_moments_loses_nothing(reference: tuple[Path, Reference]) -> None:
    """After every kill each file is whole, old or new, and a rerun gives the expected tree."""
    source, ref = reference
    work = source.parent / "killed"
    rng = random.Random(9)
    landed: collections.Counter[str] = collections.Counter()
    for number in range(KILLS):
        _reset(work, source)
        finished = _kill(work, ref, rng, number)
        landed[_phase(work, ref, finished)] += 1
        rerun = CliRunner().invoke(app, ["convert", "--write", str(work)])
        assert rerun.exit_code == 0, rerun.output
        assert snapshot(work) == ref.expected, f"kill {number}: the rerun did not complete"
    print(f"{KILLS} kills, {len(ref.original)} files checked after each: {dict(landed)}")
    assert sum(landed.values()) == KILLS
    assert sum(n for phase, n in landed.items() if phase.startswith(WRITE_PHASE)) >= KILLS // 5


@pytest.mark.parametrize("which", ["first", "middle", "last", "journal"])
def test_a_failure_while_staging_replaces_no_file(
    reference: tuple[Path, Reference],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
) -> None:
    """A full disk at the first, a middle or the last staging file, or at the journal, leaves
    the whole repository as it was, without staging files, and says nothing was written."""
    source, ref = reference
    work = tmp_path / "repo"
    _reset(work, source)
    changed = sum(ref.original[name] != ref.expected[name] for name in ref.original)
    failing = {"first": 1, "middle": changed // 2 + 1, "last": changed, "journal": changed + 1}[
        which
    ]
    real_mkstemp = tempfile.mkstemp
    calls = []

    def full_disk(*args: Any, **kwargs: Any) -> tuple[int, str]:
        calls.append(kwargs.get("dir"))
        if len(calls) == failing:
            raise OSError(28, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", full_disk)
    result = CliRunner().invoke(app, ["convert", "--write", str(work)])
    assert result.exit_code == 2, result.output
    assert "nothing written: cannot stage a new version of a file" in result.output
    assert snapshot(work) == ref.original
    assert len(calls) == failing


def test_a_looser_result_writes_nothing_anywhere(
    reference: tuple[Path, Reference], tmp_path: Path
) -> None:
    """With --all-or-nothing, one policy whose conversion would be looser keeps every file of
    the repository as it was, the files that would convert cleanly included; without it, the
    rest is written and the looser one's file is left as it was."""
    source, ref = reference
    work = tmp_path / "repo"
    _reset(work, source)
    (work / "zz-peer-jwt.yaml").write_text(PEER_JWT)
    result = CliRunner().invoke(app, ["convert", "--write", "--all-or-nothing", str(work)])
    assert result.exit_code == 3, result.output
    assert "nothing written" in result.output
    assert snapshot(work) == {**ref.original, "zz-peer-jwt.yaml": PEER_JWT.encode()}
    result = CliRunner().invoke(app, ["convert", "--write", str(work)])
    assert result.exit_code == 3, result.output
    assert "rewrote" in result.output
    written = snapshot(work)
    assert written["zz-peer-jwt.yaml"] == PEER_JWT.encode()
    assert written != {**ref.original, "zz-peer-jwt.yaml": PEER_JWT.encode()}
