"""The command line, in-process: exit codes, messages with file:line:col, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from manifests import STRICT_POLICY
from typer.testing import CliRunner

from migrate.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()

POLICY = STRICT_POLICY


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


@pytest.mark.parametrize("example", ["bookinfo", "httpbin-jwt", "mesh-overrides"])
def test_scan_json_matches_its_schema(example: str) -> None:
    """`scan -o json` output validates against schemas/scan-report.schema.json."""
    schema = json.loads((EXAMPLES.parent / "schemas" / "scan-report.schema.json").read_text())
    result = runner.invoke(app, ["scan", str(EXAMPLES / example), "-o", "json"])
    jsonschema.validate(json.loads(result.stdout), schema)


def test_inventory_option_supplies_services(in_tmp: Path) -> None:
    """`--inventory` reads Services for resolution without scanning them for policies."""
    (in_tmp / "p.yaml").write_text(
        POLICY.replace("name: default", "name: web-policy").replace(
            "spec:\n", "spec:\n  targets: [{name: web}]\n"
        )
    )
    (in_tmp / "cluster.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n"
        "  metadata: {name: web, namespace: foo}\n  spec:\n    selector: {app: web}\n"
        "    ports: [{port: 80, targetPort: 8080}]\n"
    )
    without = json.loads(runner.invoke(app, ["scan", "p.yaml", "-o", "json"]).stdout)
    with_inventory = json.loads(
        runner.invoke(app, ["scan", "p.yaml", "--inventory", "cluster.yaml", "-o", "json"]).stdout
    )
    assert [t["found"] for t in without["policies"][0]["targets"]] == [False]
    assert with_inventory["policies"][0]["targets"][0]["ports"][0]["containerPorts"] == [8080]
    assert with_inventory["summary"]["files"] == 1


def test_python_dash_m_runs_the_cli(in_tmp: Path) -> None:
    """`python -m migrate` is the same command line."""
    (in_tmp / "p.yaml").write_text(POLICY)
    result = subprocess.run(
        [sys.executable, "-m", "migrate", "scan", "p.yaml", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["summary"]["policies"] == 1


def test_config_file_sets_options_and_the_command_line_wins(in_tmp: Path) -> None:
    """`.authn-migrate.yaml` supplies --namespace; a flag on the command line overrides it."""
    (in_tmp / ".git").mkdir()
    (in_tmp / ".authn-migrate.yaml").write_text("namespace: from-file\n")
    (in_tmp / "p.yaml").write_text(POLICY.replace("  namespace: foo\n", ""))
    from_file = json.loads(runner.invoke(app, ["scan", "p.yaml", "-o", "json"]).stdout)
    assert from_file["policies"][0]["namespace"] == "from-file"
    flag = json.loads(runner.invoke(app, ["scan", "p.yaml", "-o", "json", "-n", "cli"]).stdout)
    assert flag["policies"][0]["namespace"] == "cli"


def test_show_config_prints_values_and_sources(in_tmp: Path) -> None:
    """--show-config prints each effective value with where it came from, and exits 0;
    review reads the configuration at its base revision."""
    from repo_kit import git

    git(in_tmp, "init", "-q")
    (in_tmp / "pyproject.toml").write_text('[tool.authn-migrate]\nfail-on = "stricter"\n')
    git(in_tmp, "add", ".")
    git(in_tmp, "commit", "-qm", "config")
    result = runner.invoke(app, ["review", "--show-config"])
    assert result.exit_code == 0, result.output
    assert "fail-on: stricter  # pyproject.toml at HEAD" in result.output


def test_suppress_hides_findings_by_code_and_resource(in_tmp: Path) -> None:
    """A suppression in the config file and one on the command line both hide findings."""
    (in_tmp / ".git").mkdir()
    (in_tmp / ".authn-migrate.yaml").write_text("suppress: ['AM013']\n")
    (in_tmp / "p.yaml").write_text(
        POLICY.replace("  namespace: foo\n", "").replace(
            "spec:\n", "spec:\n  targets: [{name: x}]\n"
        )
    )
    codes = {
        f["code"]
        for f in json.loads(runner.invoke(app, ["scan", "p.yaml", "-o", "json"]).stdout)["findings"]
    }
    assert "AM013" not in codes
    assert "AM202" in codes
    quiet = json.loads(
        runner.invoke(
            app, ["scan", "p.yaml", "-o", "json", "--suppress", "AM202:Policy default/default"]
        ).stdout
    )
    assert "AM202" not in {f["code"] for f in quiet["findings"]}


def test_bad_config_file_is_an_input_error_with_its_location(in_tmp: Path) -> None:
    """An unknown key in the config file exits 2, naming the file, the line and a guess."""
    (in_tmp / ".git").mkdir()
    (in_tmp / ".authn-migrate.yaml").write_text("namespace: x\nfail_onn: any\n")
    result = runner.invoke(app, ["scan", "."])
    assert result.exit_code == 2
    assert ".authn-migrate.yaml:2" in result.output
    assert "did you mean 'fail-on'" in result.output


def test_a_boolean_flag_is_part_of_the_configuration_it_shows(tmp_path: Path) -> None:
    """`--expand-scopes --show-config` says the command line set it (it said `false #
    default`); the file's value holds where the flag is not given."""
    (tmp_path / "p.yaml").write_text(STRICT_POLICY)
    shown = runner.invoke(app, ["convert", str(tmp_path), "--expand-scopes", "--show-config"])
    assert "expand-scopes: true  # command line" in shown.output.splitlines()
    (tmp_path / ".authn-migrate.yaml").write_text("split: true\n")
    shown = runner.invoke(app, ["convert", str(tmp_path), "--show-config"])
    (line,) = [line for line in shown.output.splitlines() if line.startswith("split:")]
    assert line.startswith("split: true  # ")
    assert line.endswith(".authn-migrate.yaml")


def test_the_configured_output_is_each_command_s_default_where_it_has_that_format(
    tmp_path: Path,
) -> None:
    (tmp_path / "p.yaml").write_text(STRICT_POLICY)
    (tmp_path / ".authn-migrate.yaml").write_text("output: json\n")
    scanned = runner.invoke(app, ["scan", str(tmp_path)])
    assert json.loads(scanned.output)["version"] == 1
    table = runner.invoke(app, ["scan", str(tmp_path), "-o", "table"])
    assert table.output.startswith("POLICY")
    converted = runner.invoke(app, ["convert", str(tmp_path)])  # convert has no json: a diff
    assert converted.stdout.startswith("--- a/")


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        pytest.param(
            "scan", "Output format [default: table, or the configuration's output].", id="o"
        ),
        pytest.param("convert", "only the new resources [default: diff, or the", id="convert-o"),
        pytest.param("plan", "Istio's root namespace [default: istio-system]; a mesh", id="root"),
        pytest.param("verify", "listed by no kustomization [default: default].", id="namespace"),
        pytest.param("tls-check", "on or off [default: the mesh config in the inputs", id="auto"),
    ],
)
def test_help_shows_the_defaults_options_name(command: str, shown: str) -> None:
    """An option's `[default: ...]` is shown, not read as markup and dropped (`Output format
    .` was all -o said)."""
    assert shown in runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
