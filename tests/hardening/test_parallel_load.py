"""Files read in forked workers give exactly what one process reads: the same documents,
findings, locations and output, a bad file reported where it is without losing the others."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from repo_kit import generate_repo, run_cli

from migrate import parallel
from migrate.load import documents as documents_module
from migrate.load.discover import Source
from migrate.load.documents import LoadedFile, load_paths
from migrate.workspace import PolicyEntry, check_document, open_workspace

COMMANDS = {
    "scan-json": ["scan", ".", "-o", "json"],
    "scan-text": ["scan", "."],
    "convert-check": ["convert", "--check", "."],
    "convert-yaml": ["convert", ".", "-o", "yaml"],
    "tls-check-json": ["tls-check", ".", "-o", "json"],
}
BROKEN_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: [unclosed\n"
BAD_POLICY = """\
# a policy whose peer method is misspelt
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: bad-peers
spec:
  targets:
  - name: web
  peers:
  - mtlss: {}
"""
LIST_OF_POLICIES = """\
apiVersion: v1
kind: List
items:
- apiVersion: authentication.istio.io/v1alpha1
  kind: Policy
  metadata:
    name: listed
  spec:
    targets:
    - name: worker
    peers:
    - mtls: {mode: STRICTER}
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated repository with more files than the loader reads in one process."""
    root = generate_repo(
        tmp_path_factory.mktemp("parallel-load") / "mesh", namespaces=30, services=2, policies=18
    )
    assert len(list(root.rglob("*.yaml"))) >= documents_module.MIN_PARALLEL_SOURCES
    return root


@pytest.fixture(scope="module")
def broken_repo(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same repository with a syntax error, a policy failing its schema, a file that is not
    UTF-8 and a `kind: List` policy (kept with its node tree) among its files."""
    root = tmp_path_factory.mktemp("parallel-broken") / "mesh"
    shutil.copytree(repo, root)
    namespaces = sorted(p for p in root.iterdir() if (p / "services.yaml").is_file())
    (namespaces[3] / "broken.yaml").write_text(BROKEN_YAML)
    (namespaces[11] / "bad-policy.yaml").write_text(BAD_POLICY)
    (namespaces[17] / "latin1.yaml").write_bytes(b"kind: ConfigMap\nname: caf\xe9\n")
    (namespaces[23] / "listed.yaml").write_text(LIST_OF_POLICIES)
    return root


def _outputs(root: Path, args: list[str], jobs: str) -> tuple[int, bytes, bytes]:
    done = run_cli(*args, cwd=root, env={parallel.JOBS_VARIABLE: jobs})
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_one_and_two_jobs_print_the_same(repo: Path, name: str) -> None:
    """Same exit code, same bytes on stdout and stderr, with one process or two."""
    alone = _outputs(repo, COMMANDS[name], "1")
    assert alone[1], "the command must print something for the test to mean something"
    assert _outputs(repo, COMMANDS[name], "2") == alone


def test_a_bad_file_among_many_is_reported_where_it_is(broken_repo: Path) -> None:
    """Each bad file is named with its line and column, with one process or two, and every
    other file is still read."""
    alone = _outputs(broken_repo, ["scan", ".", "-o", "json"], "1")
    assert _outputs(broken_repo, ["scan", ".", "-o", "json"], "2") == alone
    report = json.loads(alone[1])
    located = {(f["code"], f"{f['file']}:{f['line']}:{f['column']}") for f in report["findings"]}
    namespaces = sorted(p.name for p in broken_repo.iterdir() if (p / "services.yaml").is_file())
    assert ("AM001", f"{namespaces[3]}/broken.yaml:5:7") in located
    assert ("AM003", f"{namespaces[17]}/latin1.yaml:2:10") in located
    schema = {loc for code, loc in located if code == "AM101"}
    assert f"{namespaces[11]}/bad-policy.yaml:10:5" in schema
    assert f"{namespaces[23]}/listed.yaml:12:20" in schema
    files = len(list(broken_repo.rglob("*.yaml")))
    assert report["summary"]["files"] == files
    text = _outputs(broken_repo, ["scan", "."], "2")
    assert text == _outputs(broken_repo, ["scan", "."], "1")


def _read_in(monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
    """Record the process that reads each file."""
    read = documents_module.load_source

    def recording(source: Source, *, stdin: bytes | None = None) -> tuple[LoadedFile, list]:
        with record.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return read(source, stdin=stdin)

    monkeypatch.setattr(documents_module, "load_source", recording)


def test_files_are_read_in_workers_and_give_what_one_process_reads(
    broken_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two jobs the files are read by other processes; the documents, their values,
    origins and the locations of their fields, the checks and the findings are those one
    process reads."""
    record = tmp_path / "readers"
    _read_in(monkeypatch, record)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    alone = load_paths([str(broken_repo)], check=check_document)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    record.unlink()
    spread = load_paths([str(broken_repo)], check=check_document)
    readers = set(record.read_text().split())
    assert readers
    assert str(os.getpid()) not in readers
    assert spread.findings == alone.findings
    assert len(spread.files) == len(alone.files)
    for mine, theirs in zip(spread.files, alone.files, strict=True):
        assert mine.source == theirs.source
        assert mine.text == theirs.text
        assert mine.skipped == theirs.skipped
        assert mine.checks == theirs.checks
        assert [(d.origin, d.data) for d in mine.documents] == [
            (d.origin, d.data) for d in theirs.documents
        ]
        for doc, same in zip(mine.documents, theirs.documents, strict=True):
            for path in (("metadata", "name"), ("spec",), ("spec", "ports", 0), ("nowhere",)):
                assert doc.locate(path) == same.locate(path)
                assert doc.locate(path, at_key=True) == same.locate(path, at_key=True)


def test_a_workspace_read_by_workers_is_the_one_read_alone(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Policies, models, beta resources, inventory and findings are the same either way."""
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    alone = open_workspace([str(repo)])
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    spread = open_workspace([str(repo)])
    assert alone.policies
    assert [_policy(p) for p in spread.policies] == [_policy(p) for p in alone.policies]
    assert spread.sorted_findings() == alone.sorted_findings()
    assert spread.inventory.services == alone.inventory.services
    assert spread.inventory.workloads == alone.inventory.workloads


def _policy(entry: PolicyEntry) -> tuple[object, ...]:
    """What a policy entry says, its document by origin and value (a node tree compares by
    identity)."""
    policy = entry.policy
    assert policy is not None
    model = replace(policy, document=replace(policy.document, node=None, text=None))
    return entry.ref, model, entry.findings, entry.document.origin, entry.document.data


def test_small_inputs_are_read_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the threshold no worker is forked."""
    record = tmp_path / "readers"
    _read_in(monkeypatch, record)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "2")
    for index in range(5):
        (tmp_path / f"m{index}.yaml").write_text(f"kind: ConfigMap\nmetadata: {{name: m{index}}}\n")
    assert len(load_paths([str(tmp_path)]).files) == 5
    assert set(record.read_text().split()) == {str(os.getpid())}
