"""Work spread over forked processes gives exactly the result of one process."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from migrate import parallel
from migrate.commands.convert import convert_paths
from migrate.convert import changes as changes_module
from migrate.convert.prove import prove
from migrate.convert.run import convert_workspace
from migrate.load.discover import Source
from migrate.load.documents import load_sources
from migrate.semantics import equivalence
from migrate.semantics.proof import VerifyReport
from migrate.semantics.regex import UnsupportedPattern
from migrate.validate import schema
from migrate.workspace import open_workspace

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _proof(folder: str) -> VerifyReport:
    workspace = open_workspace([str(EXAMPLES / folder)])
    return prove(workspace, convert_workspace(workspace))


def _summary(report: VerifyReport) -> list[tuple[object, ...]]:
    return [
        (c.key, c.inherent, str(c.witness), c.requests, sorted(c.workloads)) for c in report.causes
    ]


@pytest.mark.parametrize("folder", ["rollout", "httpbin-jwt", "mesh-overrides"])
def test_parallel_proof_equals_the_single_process_one(
    folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked workers over chunks of classes: same causes, witnesses, counts and order."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    alone = _proof(folder)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    monkeypatch.setattr(equivalence, "MIN_PARALLEL_CLASSES", 2)
    spread = _proof(folder)
    assert alone.causes, "the example must have differences for the test to mean something"
    assert _summary(spread) == _summary(alone)
    assert spread.evaluated == alone.evaluated


def test_map_chunks_keeps_input_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Results come back per chunk in input order, covering every item once."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    parts = parallel.map_chunks(list, list(range(37)), min_items=2)
    assert len(parts) > 1
    assert [x for part in parts for x in part] == list(range(37))


def test_small_inputs_and_one_job_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the threshold, or with one job, the function runs once over everything."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    assert parallel.map_chunks(list, [1, 2, 3], min_items=10) == [[1, 2, 3]]
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    assert parallel.map_chunks(list, list(range(50)), min_items=2) == [list(range(50))]


def test_parallel_rewrite_equals_the_single_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files rewritten in forked workers: the same changes, in the same order."""
    for name in ("rollout", "mesh-overrides"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)

    def changes() -> list[tuple[str, str | None]]:
        result = convert_paths([str(tmp_path)])
        return [(c.display, c.new) for c in result.changes]

    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    alone = changes()
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    monkeypatch.setattr(changes_module, "MIN_PARALLEL_FILES", 2)
    assert len(alone) > 2
    assert changes() == alone


def test_an_unsupported_regex_found_by_a_worker_reaches_the_parent() -> None:
    """The engine's refusal crosses the process boundary intact (pattern, position, reason)."""
    error = UnsupportedPattern("a(", 1, "unbalanced parenthesis")
    again = pickle.loads(pickle.dumps(error))
    assert (again.pattern, again.position, again.reason, str(again)) == (
        "a(",
        1,
        "unbalanced parenthesis",
        str(error),
    )


def test_documents_validated_in_workers_give_the_findings_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Findings per document, in input order, with their locations, whichever process
    validated them."""
    good = "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
    good += "metadata: {name: p, namespace: a}\nspec: {mtls: {mode: STRICT}}\n"
    bad = good.replace("STRICT", "STRICTEST").replace("name: p", "name: q")
    text = "---\n".join([good, bad] * 20)
    documents = load_sources([Source("many.yaml", None, content=text.encode())]).documents
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    alone = schema.validate_documents(documents)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    monkeypatch.setattr(schema, "MIN_PARALLEL_DOCUMENTS", 2)
    monkeypatch.setattr(schema, "_CLEAN_SHAPES", set())  # a new shape among the first two
    spread = schema.validate_documents(documents)
    assert spread == alone
    assert [bool(f) for f in alone] == [False, True] * 20
    assert (alone[1][0].location.line, alone[1][0].location.column) == (9, 21)


def test_documents_of_shapes_that_repeat_are_validated_here_the_others_in_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first documents decide: when their shapes repeat (names apart), forking costs
    more than validating the rest here; when each is new, the rest go to workers. Either
    way the findings are those of each document validated on its own."""
    head = "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
    alike = [
        head + f"metadata: {{name: p{i}, namespace: a}}\nspec: {{mtls: {{mode: STRICT}}}}\n"
        for i in range(600)
    ]
    distinct = [
        head + f"metadata: {{name: p{i}, namespace: a}}\nspec:\n  selector: {{matchLabels: "
        f"{{app: x}}}}\n  portLevelMtls: {{{1000 + i}: {{mode: STRICT}}}}\n"
        for i in range(600)
    ]
    distinct[450] = distinct[450].replace("mode: STRICT", "mode: STRICTEST")
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    spread: list[int] = []

    def spy(func: Callable[[Sequence[Any]], Any], items: Sequence[Any], **options: Any) -> Any:
        spread.append(len(items))
        return parallel.map_chunks(func, items, **options)

    monkeypatch.setattr(schema, "map_chunks", spy)
    for texts, forks in ((alike, False), (distinct, True)):
        content = "---\n".join(texts).encode()
        documents = load_sources([Source("many.yaml", None, content=content)]).documents
        monkeypatch.setattr(schema, "_CLEAN_SHAPES", set())
        spread.clear()
        found = schema.validate_documents(documents)
        assert spread == ([600 - schema.MIN_PARALLEL_DOCUMENTS] if forks else [])
        monkeypatch.setattr(schema, "_CLEAN_SHAPES", set())
        assert found == [schema.validate_document(d) for d in documents]
        assert [i for i, f in enumerate(found) if f] == ([450] if forks else [])


def _slow_square(items: Sequence[int]) -> list[int]:
    time.sleep(0.2)
    return [i * i for i in items]


def test_meanwhile_work_runs_beside_the_workers_and_never_forks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Work handed to `meanwhile` runs in this process while the block's workers compute
    (before they are done), with its own `map_chunks` kept in process; the workers'
    results are those of one process."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    seen: dict[str, object] = {}

    def beside() -> str:
        seen["inner"] = parallel.map_chunks(list, list(range(10)), min_items=2)
        seen["pid"] = os.getpid()
        return "done"

    with parallel.meanwhile(beside) as task:
        assert "pid" not in seen
        parts = parallel.map_chunks(_slow_square, list(range(8)), min_items=2)
        assert seen["pid"] == os.getpid(), "ran before the workers' results were collected"
    assert [x for part in parts for x in part] == [i * i for i in range(8)]
    assert seen["inner"] == [list(range(10))]
    assert task.result() == "done"


def test_meanwhile_work_without_workers_runs_at_result_and_keeps_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When nothing in the block forks (one job, small input), the work runs when its result
    is asked for; its exception is raised there, not inside the block."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("from the meanwhile work")

    with parallel.meanwhile(failing) as task:
        assert parallel.map_chunks(list, [1, 2, 3], min_items=2) == [[1, 2, 3]]
    assert calls == []
    with pytest.raises(ValueError, match="from the meanwhile work"):
        task.result()
    with pytest.raises(ValueError, match="from the meanwhile work"):
        task.result()
    assert calls == [1], "runs once"

    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    with parallel.meanwhile(failing) as task:
        parallel.map_chunks(_slow_square, list(range(8)), min_items=2)  # not raised here
    assert calls == [1, 1]
    with pytest.raises(ValueError, match="from the meanwhile work"):
        task.result()


def _pid_and(value: object) -> tuple[int, object]:
    return os.getpid(), value


class _Unpicklable:
    def __reduce__(self) -> object:
        raise TypeError("not picklable")


def test_background_work_runs_in_another_process_and_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With two jobs the work runs in a forked process, its value pickled back; with one,
    here when the result is asked for; an error is raised at `result`, where it was due."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    task = parallel.background(lambda: _pid_and([1, 2, 3]))
    pid, value = task.result()
    assert pid != os.getpid()
    assert value == [1, 2, 3]

    def failing() -> None:
        raise ValueError("from the background")

    task_error = parallel.background(failing)
    with pytest.raises(ValueError, match="from the background"):
        task_error.result()

    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    pid, _ = parallel.background(lambda: _pid_and(None)).result()
    assert pid == os.getpid()


def _pids(items: Sequence[int]) -> list[int]:
    return [os.getpid() for _ in items]


def test_work_spread_inside_a_background_process_stays_in_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A background process forks no workers of its own: what its `map_chunks` computes
    would cross two process boundaries, on cores already taken."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    task = parallel.background(
        lambda: (os.getpid(), parallel.map_chunks(_pids, list(range(40)), min_items=2))
    )
    pid, parts = task.result()
    assert pid != os.getpid()
    assert parts == [[pid] * 40]
    spread = parallel.map_chunks(_pids, list(range(40)), min_items=2)
    assert len(spread) > 1
    assert os.getpid() not in {p for part in spread for p in part}


def test_background_work_that_cannot_come_back_is_done_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A value that does not pickle is computed again in this process; a result never asked
    for leaves no process behind."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    calls: list[int] = []

    def unpicklable() -> tuple[int, _Unpicklable]:
        calls.append(os.getpid())
        return os.getpid(), _Unpicklable()

    pid, _ = parallel.background(unpicklable).result()
    assert pid == os.getpid()
    assert calls == [os.getpid()], "the child's attempt is not seen here; this one is"
    task = parallel.background(lambda: _pid_and("x" * 1_000_000))  # more than a pipe holds
    child = task._child
    assert child is not None
    del task
    assert child[0].exitcode is not None, "ended and reaped"


def test_the_console_command_prints_what_the_library_does(tmp_path: Path) -> None:
    """The installed command leaves without tearing its heap down: its output, piped, is
    complete and its exit status is the command's."""
    from typer.testing import CliRunner

    from migrate.cli import app

    args = ["verify", "-o", "json", str(EXAMPLES / "httpbin-jwt")]
    inside = CliRunner().invoke(app, args)
    done = subprocess.run(
        [sys.executable, "-m", "migrate", *args], capture_output=True, text=True, check=False
    )
    assert done.stdout == inside.stdout
    assert done.returncode == inside.exit_code
    assert len(done.stdout) > 1000
    json.loads(done.stdout)
