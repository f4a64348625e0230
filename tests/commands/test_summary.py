"""What the proving commands print first: one line per v1alpha1 policy (what it became, the
verdict for the requests it governs, its worst difference with a witness, or why it was left
as it is), then the total, then each policy's causes, capped."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from repo_kit import EXAMPLES
from typer.testing import CliRunner

from migrate.cli import app, run

runner = CliRunner()
HTTPBIN = EXAMPLES / "httpbin-jwt"


def _convert(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["convert", str(HTTPBIN), *args])
    return result.exit_code, result.stderr.splitlines()


def test_convert_opens_with_one_line_per_policy_then_the_total() -> None:
    code, lines = _convert()
    assert code == 0
    assert lines[0] == (
        "Policy foo/jwt-example -> PeerAuthentication foo/jwt-example-httpbin, "
        "RequestAuthentication foo/jwt-example-httpbin, "
        "AuthorizationPolicy foo/jwt-example-httpbin-require-jwt: STRICTER (21 stricter, "
        "6 status-only; 8 inherent): OPTIONS httpbin.foo:8000/admin "
        "-H 'access-control-request-method: x' -H 'origin: x' "
        "from mTLS peer cluster.local/ns/default/sa/default (HTTP, container port 80)"
    )
    assert lines[1] == "Policy foo/default -> PeerAuthentication foo/default: equivalent"
    assert lines[2] == "NOT EQUIVALENT: 21 stricter, 6 status-only cause(s) (8 inherent)"


def test_causes_are_capped_per_policy_and_all_lifts_the_cap() -> None:
    """The cap counts causes as shown, their variants folded in (21 causes make 7); --all
    shows every cause unfolded."""
    _, capped = _convert()
    blocks = [line for line in capped if re.match(r"STRICTER|LOOSER", line)]
    assert len(blocks) == 3
    assert (
        "... and 4 more cause(s) of Policy foo/jwt-example (8 with their variants; "
        "--max-causes N, --all, or -o json for every one)" in capped
    )
    _, none = _convert("--max-causes", "0")
    assert not [line for line in none if re.match(r"STRICTER|LOOSER", line)]
    assert any(line.startswith("... and 7 more cause(s)") for line in none)
    _, every = _convert("--all")
    assert len([line for line in every if re.match(r"STRICTER|LOOSER", line)]) == 21
    assert not any(line.startswith("... and") for line in every)


def test_a_port_no_service_declares_is_shown_as_such() -> None:
    """Not as the number standing for it (15000-15002 are Istio's own ports)."""
    _, lines = _convert("--all")
    text = "\n".join(lines)
    assert (
        "GET httpbin.foo:<port>/ from plaintext peer (HTTP, a port no Service declares, "
        "if inbound protocol sniffing is on)"
    ) in text
    assert not re.search(r"port 150\d\d", text)


def test_a_policy_left_as_it_is_says_why_in_its_summary_line(tmp_path: Path) -> None:
    shutil.copytree(HTTPBIN, tmp_path / "repo")
    (tmp_path / "repo" / "bar.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: httpbin, namespace: bar}\nspec:\n  targets: [{name: gone}]\n"
        "  peers: [{mtls: {}}]\n"
    )
    result = runner.invoke(app, ["convert", str(tmp_path / "repo")])
    assert result.exit_code == 2
    assert (
        "Policy bar/httpbin: left as it is (AM402: not converted: Service bar/gone is not in "
        "the inputs; add its manifest or pass it with --inventory)"
    ) in result.stderr.splitlines()


def test_write_and_check_together_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copytree(HTTPBIN, tmp_path / "repo")
    before = {p: p.read_bytes() for p in (tmp_path / "repo").rglob("*") if p.is_file()}
    result = runner.invoke(app, ["convert", str(tmp_path / "repo"), "--write", "--check"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "authn-migrate: --check only reports what would change; drop it, or --write"
    ]
    assert {p: p.read_bytes() for p in (tmp_path / "repo").rglob("*") if p.is_file()} == before


LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: authentication.istio.io/v1alpha1
  kind: Policy
  metadata: {name: default, namespace: ns}
  spec:
    peers: [{mtls: {}}]
"""


def test_yaml_output_is_not_held_back_by_a_file_that_cannot_be_rewritten(tmp_path: Path) -> None:
    """AM410 is about rewriting in place; `-o yaml` rewrites nothing, and is what AM410's
    hint recommends."""
    (tmp_path / "list.yaml").write_text(LIST)
    streamed = runner.invoke(app, ["convert", str(tmp_path), "-o", "yaml"])
    assert streamed.exit_code == 0, streamed.stderr
    assert "AM410" not in streamed.stderr
    assert "kind: PeerAuthentication" in streamed.stdout
    diffed = runner.invoke(app, ["convert", str(tmp_path)])
    assert diffed.exit_code == 2
    assert "error AM410: cannot rewrite in place: Policy ns/default is an item of a kind: List" in (
        diffed.stderr
    )


def test_check_reports_a_file_that_cannot_be_rewritten_whatever_the_output(
    tmp_path: Path,
) -> None:
    """`--check` asks whether the files can be brought up to date: a configuration file in the
    tree saying `output: yaml` cannot hide AM410 from it."""
    (tmp_path / "list.yaml").write_text(LIST)
    (tmp_path / ".authn-migrate.yaml").write_text("output: yaml\n")
    checked = runner.invoke(app, ["convert", "--check", str(tmp_path)])
    assert checked.exit_code == 2
    assert "error AM410: cannot rewrite in place" in checked.stderr


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: "web\n  namespace: x\nspec: {}\n'
    )
    (tmp_path / "flow.yaml").write_text("a: {x: 1\n")
    result = runner.invoke(app, ["scan", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'svc.yaml'}:4:9: error AM001: found unexpected end of stream" in (
        result.output
    )
    assert f"{tmp_path / 'flow.yaml'}:1:4: error AM001: did not find expected ',' or '}}'" in (
        result.output
    )


def test_a_command_line_mistake_is_one_line_then_where_help_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As git and kubectl say it: the error first, no usage block or box before it."""
    assert run(["convert", str(HTTPBIN), "--bogus"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "authn-migrate convert: error: No such option: --bogus",
        "Try 'authn-migrate convert -h' for help.",
    ]
    assert run(["frob"]) == 2
    assert (
        capsys.readouterr().err.splitlines()[0] == "authn-migrate: error: No such command 'frob'."
    )


def test_an_aborted_command_says_so_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    def abort(*_: object, **__: object) -> None:
        raise typer.Abort

    monkeypatch.setattr("migrate.cli.scan", abort)
    assert run(["scan", str(HTTPBIN)]) == 1
    assert capsys.readouterr().err == "Aborted!\n"
