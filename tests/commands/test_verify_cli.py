"""`authn-migrate verify` in-process: exit codes by class, formats, accepting, tree mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app

runner = CliRunner()
APP = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  selector: {app: web}
  ports: [{name: http, port: 8000, targetPort: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, ports: [{containerPort: 80}]}]
"""
ALPHA_PERMISSIVE = """\
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: ns}
spec:
  peers: [{mtls: {mode: PERMISSIVE}}]
"""
ALPHA_STRICT = ALPHA_PERMISSIVE.replace("{mode: PERMISSIVE}", "{}")


def _beta(mode: str) -> str:
    return (
        "---\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        f"metadata: {{name: default, namespace: ns}}\nspec:\n  mtls: {{mode: {mode}}}\n"
    )


def _run(tmp_path: Path, before: str, after: str, *args: str) -> tuple[int, str]:
    (tmp_path / "before.yaml").write_text(APP + before)
    (tmp_path / "after.yaml").write_text(APP + after)
    result = runner.invoke(
        app, ["verify", str(tmp_path / "before.yaml"), str(tmp_path / "after.yaml"), *args]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("before", "after", "code", "words"),
    [
        pytest.param(ALPHA_PERMISSIVE, _beta("PERMISSIVE"), 0, "EQUIVALENT", id="equivalent"),
        pytest.param(ALPHA_PERMISSIVE, _beta("STRICT"), 1, "STRICTER", id="stricter"),
        pytest.param(ALPHA_STRICT, _beta("PERMISSIVE"), 3, "LOOSER", id="looser"),
    ],
)
def test_exit_code_says_the_class(
    tmp_path: Path, before: str, after: str, code: int, words: str
) -> None:
    """0 equivalent, 1 only stricter, 3 anything looser, with the class in the text."""
    exit_code, output = _run(tmp_path, before, after)
    assert exit_code == code, output
    assert words in output


def test_looser_difference_names_the_request_and_the_resources(tmp_path: Path) -> None:
    """A looser cause shows a concrete request and the resource that decided each side."""
    _, output = _run(tmp_path, ALPHA_STRICT, _beta("PERMISSIVE"))
    assert "plaintext peer" in output
    assert "web.ns:8000" in output
    assert "decided by Policy ns/default" in output


def test_accepting_a_class_signs_it_off(tmp_path: Path) -> None:
    """`--accept looser` turns a reviewed looser result into success."""
    exit_code, output = _run(tmp_path, ALPHA_STRICT, _beta("PERMISSIVE"), "--accept", "looser")
    assert exit_code == 0, output
    assert "[accepted]" in output


def test_json_output(tmp_path: Path) -> None:
    """`-o json` gives the verdict, the figures and each cause with its witness."""
    exit_code, output = _run(tmp_path, ALPHA_STRICT, _beta("PERMISSIVE"), "-o", "json")
    data = json.loads(output)
    assert (exit_code, data["exitCode"]) == (3, 3)
    assert data["summary"]["looser"] >= 1
    cause = data["causes"][0]
    assert cause["change"] == "looser"
    assert cause["witness"]["peer"] == "plaintext peer"
    assert cause["before"]["verdict"].startswith("connection refused")
    assert data["figures"]["requests"] > 0


def test_markdown_output(tmp_path: Path) -> None:
    """`-o markdown` gives a PR comment with a table of causes."""
    _, output = _run(tmp_path, ALPHA_STRICT, _beta("PERMISSIVE"), "-o", "markdown")
    assert output.startswith("### authn-migrate verify: NOT EQUIVALENT")
    assert "| looser |" in output


def test_tree_mode_compares_alpha_with_beta_in_one_tree(tmp_path: Path) -> None:
    """With one path, the tree's alpha policies are compared with its beta resources."""
    (tmp_path / "all.yaml").write_text(APP + ALPHA_PERMISSIVE + _beta("PERMISSIVE"))
    result = runner.invoke(app, ["verify", str(tmp_path / "all.yaml")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("version", "message"),
    [
        pytest.param("one.five", "expected a version such as", id="unparsable"),
        pytest.param("9.9", "Istio 9.9 is not modelled", id="unknown-release"),
        pytest.param("1.4.11", "Istio 1.4.11 is not modelled", id="unknown-patch"),
        pytest.param("1.4,1.5", "choose among alpha policies differently", id="mixed-rules"),
    ],
)
def test_bad_istio_version_is_a_usage_error(tmp_path: Path, version: str, message: str) -> None:
    """An --istio-version the engine does not model exits 2 with a message."""
    exit_code, output = _run(tmp_path, "", "", "--istio-version", version)
    assert exit_code == 2
    assert message in output


def test_unmodelled_condition_refuses_to_prove(tmp_path: Path) -> None:
    """A condition the engine does not model gives exit 2 and AM301, never a verdict."""
    after = (
        "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
        "metadata: {name: ip, namespace: ns}\nspec:\n  rules:\n"
        "  - from: [{source: {ipBlocks: [10.0.0.0/8]}}]\n"
    )
    exit_code, output = _run(tmp_path, "", after)
    assert exit_code == 2
    assert "AM301" in output
    assert "ipBlocks" in output


@pytest.mark.parametrize("output", ["sarif", "github", "gitlab"])
def test_ci_formats_carry_each_difference(
    tmp_path: Path, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify -o sarif|github|gitlab reports the looser cause as an error at the deciding
    policy's file and line; the SARIF validates against the OASIS schema."""
    import jsonschema.validators

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    exit_code, output_text = _run(tmp_path, ALPHA_STRICT, _beta("PERMISSIVE"), "-o", output)
    assert exit_code == 3
    if output == "sarif":
        log = json.loads(output_text)
        schema_path = Path(__file__).resolve().parents[2] / "schemas" / "external"
        schema = json.loads((schema_path / "sarif-2.1.0.schema.json").read_text())
        jsonschema.validators.validator_for(schema)(schema).validate(log)
        results = log["runs"][0]["results"]
        assert any(r["ruleId"] == "AM501" and r["level"] == "error" for r in results)
    elif output == "github":
        assert "::error file=before.yaml,line=17,col=1,title=AM501 looser difference::" in (
            output_text
        )
    else:
        issues = json.loads(output_text)
        assert any(i["check_name"] == "AM501" and i["severity"] == "critical" for i in issues)


def test_scan_sarif_lists_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """scan -o sarif reports each finding with its rule."""
    from migrate.cli import app as cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(ALPHA_STRICT.replace("spec:", "spec:\n  targets: [{name: x}]"))
    result = runner.invoke(cli, ["scan", "p.yaml", "-o", "sarif"])
    rules = {r["ruleId"] for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert "AM202" in rules


def test_a_selector_matching_pods_of_another_namespace_only_stands_for_unseen_pods(
    tmp_path: Path,
) -> None:
    """A PeerAuthentication in namespace `other` whose selector matches only the pods of
    namespace `ns` selects nothing the inputs show in `other`: verify warns (AM303) and
    verifies unseen pods there, rather than counting the pods of `ns` as seen."""
    (tmp_path / "app.yaml").write_text(
        APP + "---\napiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata: {name: web, namespace: other}\n"
        "spec: {selector: {matchLabels: {app: web}}, mtls: {mode: STRICT}}\n"
    )
    result = runner.invoke(app, ["verify", str(tmp_path), "-o", "json"])
    data = json.loads(result.stdout)
    warnings = [f for f in data["findings"] if f["code"] == "AM303"]
    assert len(warnings) == 1, result.stdout
    assert "namespace other" in warnings[0]["message"]
