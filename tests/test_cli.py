"""The command line, in-process: exit codes, messages with file:line:col, output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from migrate.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

POLICY = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: default
  namespace: foo
spec:
  peers:
  - mtls: {}
"""


def test_scan_exits_1_when_alpha_policies_exist(in_tmp: Path) -> None:
    """Alpha policies found: exit 1, and the table names the policy and its file."""
    (in_tmp / "p.yaml").write_text(POLICY)
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 1, result.output
    assert "Policy foo/default" in result.output
    assert "p.yaml:1:1" in result.output


def test_scan_exits_0_when_nothing_to_migrate(in_tmp: Path) -> None:
    """No alpha policy: exit 0."""
    (in_tmp / "s.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 0, result.output
    assert "0 alpha policies in 1 file(s)" in result.output


def test_scan_exits_2_on_bad_input_and_still_reports_the_rest(in_tmp: Path) -> None:
    """A broken file gives exit 2 with its location, and the good file is still scanned."""
    (in_tmp / "bad.yaml").write_text("a: [\n")
    (in_tmp / "good.yaml").write_text(POLICY)
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 2, result.output
    assert "bad.yaml:2:1: error AM001:" in result.output
    assert "Policy foo/default" in result.output


def test_scan_json_is_machine_readable(in_tmp: Path) -> None:
    """`-o json` prints the report as JSON with the policy's location and model."""
    (in_tmp / "p.yaml").write_text(POLICY)
    result = runner.invoke(app, ["scan", ".", "-o", "json"])
    data = json.loads(result.stdout)
    assert data["summary"]["policies"] == 1
    assert data["summary"]["exitCode"] == 1
    policy = data["policies"][0]
    assert (policy["file"], policy["line"], policy["scope"], policy["mtls"]) == (
        "p.yaml",
        1,
        "namespace",
        "STRICT",
    )


def test_scan_yaml_matches_json(in_tmp: Path) -> None:
    """`-o yaml` carries the same data as `-o json`."""
    (in_tmp / "p.yaml").write_text(POLICY)
    as_json = json.loads(runner.invoke(app, ["scan", ".", "-o", "json"]).stdout)
    as_yaml = yaml.safe_load(runner.invoke(app, ["scan", ".", "-o", "yaml"]).stdout)
    assert as_yaml == as_json


def test_scan_reads_stdin() -> None:
    """`-` reads manifests from standard input, as piped from kubectl."""
    result = runner.invoke(app, ["scan", "-", "-o", "json"], input=POLICY)
    assert json.loads(result.stdout)["policies"][0]["file"] == "<stdin>"


def test_unknown_option_is_a_usage_error() -> None:
    """A usage error exits 2."""
    result = runner.invoke(app, ["scan", "--bogus", "."])
    assert result.exit_code == 2


def test_internal_errors_are_labelled(monkeypatch: pytest.MonkeyPatch, in_tmp: Path) -> None:
    """An unexpected exception exits 4 with a message that calls it an internal error."""

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("migrate.cli.scan", explode)
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 4
    assert "internal error: RuntimeError: boom" in result.output


def test_version() -> None:
    """`--version` prints the version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("authn-migrate ")


@pytest.mark.parametrize("example", ["bookinfo", "httpbin-jwt", "mesh-overrides"])
def test_examples_scan_cleanly(example: str) -> None:
    """Every bundled example scans with policies found and no error or warning."""
    result = runner.invoke(app, ["scan", str(EXAMPLES / example), "-o", "json"])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["errors"], summary["warnings"]) == (0, 0)
