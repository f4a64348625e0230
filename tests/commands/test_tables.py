"""Tables as kubectl prints them (plain columns, `--no-headers`, `-o wide`), `tls-check`
showing its conflicts first, notes folded, and GitHub annotations people can read."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from repo_kit import EXAMPLES
from typer.testing import CliRunner

from migrate.cli import app
from migrate.findings import Finding, Location, Severity
from migrate.render.annotations import github_findings

runner = CliRunner()
BOX = re.compile("[\u2500-\u257f]")


def test_scan_prints_plain_columns_and_wide_adds_workloads() -> None:
    plain = runner.invoke(app, ["scan", str(EXAMPLES / "httpbin-jwt")])
    assert not BOX.search(plain.output)
    lines = plain.output.splitlines()
    header = ["POLICY", "FILE", "SCOPE", "MTLS", "JWT", "AFFECTS", "PROBLEMS"]
    assert re.split(r"\s{3,}", lines[0]) == header
    first = re.split(r"\s{3,}", lines[1])
    assert first[0] == "Policy foo/jwt-example"
    assert first[1].endswith("examples/httpbin-jwt/foo/authn-httpbin-jwt.yaml:13:1")
    wide = runner.invoke(app, ["scan", "-o", "wide", "--no-headers", str(EXAMPLES / "httpbin-jwt")])
    rows = [re.split(r"\s{3,}", line) for line in wide.output.splitlines()[:2]]
    assert rows[0][0] == "Policy foo/jwt-example"
    assert rows[0][-2:] == ["foo/httpbin", "-"]
    assert rows[1][-2:] == ["foo/httpbin,foo/sleep", "Policy foo/jwt-example"]


def test_notes_saying_the_same_of_many_documents_are_folded_for_people_only() -> None:
    text = runner.invoke(app, ["scan", str(EXAMPLES / "httpbin-jwt")]).output
    folded = [line for line in text.splitlines() if "AM013" in line]
    assert len(folded) == 1
    assert folded[0].endswith(
        "note AM013: 4 documents have no metadata.namespace; using 'foo' "
        "(from examples/httpbin-jwt/foo/kustomization.yaml)"
    )
    data = json.loads(
        runner.invoke(app, ["scan", "-o", "json", str(EXAMPLES / "httpbin-jwt")]).output
    )
    assert sum(1 for f in data["findings"] if f["code"] == "AM013") == 4


def test_a_note_repeated_word_for_word_is_shown_once_with_a_count() -> None:
    """AM403 says the same of every USE_ORIGIN policy: one line, at the first, counting the
    others; a warning is never folded, and JSON keeps every note."""
    from migrate.findings import Finding, Location, Severity
    from migrate.render.table import grouped

    def note(line: int, severity: Severity = Severity.NOTE) -> Finding:
        return Finding(
            "AM403", severity, "principalBinding USE_ORIGIN: stays", Location("a.yaml", line, 1)
        )

    shown = grouped([note(3), note(9), note(20), note(30, Severity.WARNING)])
    assert [(f.location.line, f.message) for f in shown] == [
        (3, "principalBinding USE_ORIGIN: stays (here and at 2 more place(s))"),
        (30, "principalBinding USE_ORIGIN: stays"),
    ]
    assert grouped([note(3)]) == [note(3)]


def test_tls_check_shows_the_conflicts_and_counts_the_rest() -> None:
    result = runner.invoke(app, ["tls-check", str(EXAMPLES / "bookinfo")])
    assert result.exit_code == 1
    assert not BOX.search(result.output)
    lines = result.output.splitlines()
    assert re.split(r"\s{3,}", lines[0]) == [
        "CLIENT NAMESPACE",
        "HOST:PORT",
        "STATUS",
        "SERVER",
        "CLIENT",
        "AUTHN POLICY",
        "DESTINATION RULE",
    ]
    rows = [re.split(r"\s{3,}", line) for line in lines[1:-1]]
    assert rows
    assert all(row[2] == "CONFLICT" for row in rows)
    assert lines[-1] == (
        "36 client/port pair(s): 4 CONFLICT, 12 OK, 20 AUTO; 32 row(s) without a conflict not "
        "shown (--all lists them)"
    )
    every = runner.invoke(app, ["tls-check", "--all", "--no-headers", str(EXAMPLES / "bookinfo")])
    assert len(every.output.splitlines()) == 36 + 1
    assert not every.output.startswith("CLIENT NAMESPACE")


def _finding(severity: Severity, n: int) -> Finding:
    return Finding("AM201", severity, f"finding {n}", Location("a.yaml", n, 1))


def test_github_gets_a_handful_of_each_kind_and_a_count_of_the_rest() -> None:
    findings = [_finding(Severity.WARNING, n) for n in range(1, 26)]
    findings += [_finding(Severity.ERROR, n) for n in range(1, 4)]
    kept = github_findings(findings)
    assert [f.message for f in kept if f.severity is Severity.WARNING] == [
        f"finding {n}" for n in range(1, 11)
    ]
    assert sum(1 for f in kept if f.severity is Severity.ERROR) == 3
    assert kept[-1].code == "AM505"
    assert kept[-1].message.startswith("15 warning(s) more: see the job summary")


def test_review_annotates_each_policy_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(EXAMPLES / "httpbin-jwt", tmp_path / "repo")
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    assert runner.invoke(app, ["convert", "--write", str(repo)]).exit_code == 0
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["review", "--base", "HEAD", "-o", "github"])
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("::warning file=")
    assert "title=AM502 stricter difference::Policy foo/jwt-example -> " in lines[0]


WILDCARD = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: shop}
spec:
  peers: [{mtls: {}}]
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: everything, namespace: shop}
spec:
  host: "*.local"
  trafficPolicy: {tls: {mode: DISABLE}}
"""


def test_tls_fix_exits_1_while_a_conflict_it_cannot_fix_remains(tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(WILDCARD)
    for args in (["--fix"], ["--fix", "--write"]):
        result = runner.invoke(app, ["tls-check", str(tmp_path), *args])
        assert result.exit_code == 1, result.output
        manual = [line for line in result.stderr.splitlines() if "AM601" in line]
        assert manual
        assert all(line.startswith("warning AM601: CONFLICT for ") for line in manual)
    assert (tmp_path / "all.yaml").read_text() == WILDCARD
