"""Conversion goldens: each `tests/cases/convert/<name>.yaml` is an input file; its expected
rewrite is `<name>.out.yaml` beside it. Refused inputs in `convert-refused/` start with an
`# expect:` line holding the message. Regenerate outputs with AUTHN_MIGRATE_REGEN=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from migrate.commands.convert import convert_paths
from migrate.semantics.equivalence import Change

CASES = Path(__file__).resolve().parents[1] / "cases"
CONVERTS = sorted(p for p in (CASES / "convert").glob("*.yaml") if not p.name.endswith(".out.yaml"))
REFUSED = sorted((CASES / "convert-refused").glob("*.yaml"))


@pytest.mark.parametrize("case", CONVERTS, ids=[p.stem for p in CONVERTS])
def test_conversion_golden(case: Path, tmp_path: Path) -> None:
    """The rewritten file equals the golden output, nothing is looser, and converting the
    output again changes nothing."""
    work = tmp_path / case.name
    shutil.copy(case, work)
    result = convert_paths([str(work)])
    assert result.report.count(Change.LOOSER) == 0, result.report.causes
    assert [f for f in result.report.findings if f.severity.value == "error"] == []
    (change,) = result.changes
    golden = case.with_suffix(".out.yaml")
    if os.environ.get("AUTHN_MIGRATE_REGEN"):
        golden.write_text(change.new)
    assert change.new == golden.read_text()
    work.write_text(change.new)
    assert convert_paths([str(work)]).changes == []


@pytest.mark.parametrize("case", REFUSED, ids=[p.stem for p in REFUSED])
def test_refused_conversion_says_why(case: Path, tmp_path: Path) -> None:
    """An input with no exact v1beta1 form is left unchanged with the expected message."""
    expected = case.read_text().splitlines()[0].removeprefix("# expect: ")
    work = tmp_path / case.name
    shutil.copy(case, work)
    result = convert_paths([str(work)])
    assert result.changes == []
    messages = [f.message for f in result.conversion.findings]
    assert any(expected in m for m in messages), messages
    assert int(result.exit_code()) == 2


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", ["bookinfo", "httpbin-jwt", "mesh-overrides"])
def test_examples_convert_with_write_and_stay_converted(example: str, tmp_path: Path) -> None:
    """`convert --write` rewrites each example; a second run changes nothing; no alpha left."""
    from typer.testing import CliRunner

    from migrate.cli import app
    from migrate.commands.scan import scan

    work = tmp_path / example
    shutil.copytree(EXAMPLES / example, work)
    first = CliRunner().invoke(app, ["convert", str(work), "--write"])
    assert first.exit_code == 0, first.output
    assert "rewrote" in first.output
    assert scan([str(work)]).policies == ()
    second = CliRunner().invoke(app, ["convert", str(work), "--check"])
    assert second.exit_code == 0, second.output


def test_check_exits_1_when_files_would_change(tmp_path: Path) -> None:
    """`--check` writes nothing and exits 1 when a conversion is pending."""
    from typer.testing import CliRunner

    from migrate.cli import app

    work = tmp_path / "case.yaml"
    shutil.copy(CASES / "convert" / "namespace-strict.yaml", work)
    before = work.read_bytes()
    result = CliRunner().invoke(app, ["convert", str(work), "--check"])
    assert result.exit_code == 1, result.output
    assert work.read_bytes() == before


def test_looser_result_is_never_written(tmp_path: Path) -> None:
    """A conversion the proof finds looser (a peer JWT Istio never honoured) writes nothing."""
    from typer.testing import CliRunner

    from migrate.cli import app

    work = tmp_path / "p.yaml"
    work.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\n"
        "spec: {selector: {app: web}, ports: [{name: http, port: 80}]}\n---\n"
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: p, namespace: ns}\n"
        "spec:\n  targets: [{name: web}]\n  peers: [{jwt: {issuer: i}}]\n"
    )
    before = work.read_bytes()
    result = CliRunner().invoke(app, ["convert", str(work), "--write"])
    assert result.exit_code == 3, result.output
    assert "nothing written" in result.output
    assert work.read_bytes() == before


def test_yaml_output_streams_only_new_resources(tmp_path: Path) -> None:
    """`-o yaml` prints the new resources as a YAML stream, for kubectl pipelines."""
    import yaml
    from typer.testing import CliRunner

    from migrate.cli import app

    result = CliRunner().invoke(
        app,
        ["convert", "-", "-o", "yaml"],
        input=(CASES / "convert" / "mesh-permissive.yaml").read_text(),
    )
    assert result.exit_code == 0, result.output
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert [d["kind"] for d in docs] == ["PeerAuthentication"]


def test_trigger_rule_trap_is_converted_faithfully_and_flagged(tmp_path: Path) -> None:
    """The exclude-in-its-own-item trap is converted as it behaves, with AM212 saying so."""
    work = tmp_path / "trap.yaml"
    shutil.copy(CASES / "convert" / "trigger-rule-trap.yaml", work)
    result = convert_paths([str(work)])
    assert [f.code for f in result.conversion.findings] == ["AM212", "AM403"]
    assert result.report.count(Change.LOOSER) == 0


OVERRIDE = """\
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: ns}
spec: {selector: {app: shop}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: health, namespace: ns}
spec: {selector: {app: health}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: ns}
spec:
  peers: [{mtls: {mode: PERMISSIVE}}]
  origins: [{jwt: {issuer: https://id.example, jwksUri: https://id.example/keys}}]
---
# health overrides the namespace policy: no JWT, plaintext only
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: health, namespace: ns}
spec:
  targets: [{name: health}]
"""


def _workloads_of(result: object, change: Change) -> set[str]:
    causes = result.report.causes  # type: ignore[attr-defined]
    return {
        name for c in causes if c.change is change and not c.inherent for _, name in c.workloads
    }


def test_namespace_jwt_stays_wide_by_default(tmp_path: Path) -> None:
    """§D.2: the namespace DENY also reaches the Service that overrode it: stricter, reported."""
    (tmp_path / "a.yaml").write_text(OVERRIDE)
    result = convert_paths([str(tmp_path)])
    assert result.report.count(Change.LOOSER) == 0
    assert "(pods of Service health)" in _workloads_of(result, Change.STRICTER)


def test_expand_scopes_is_exact_for_known_pods_and_looser_for_unseen_ones(tmp_path: Path) -> None:
    """--expand-scopes covers exactly the Services the namespace policy governs; pods the
    inputs do not show lose the requirement, which the proof reports as looser."""
    from migrate.convert.model import ConvertOptions

    (tmp_path / "a.yaml").write_text(OVERRIDE)
    result = convert_paths([str(tmp_path)], options=ConvertOptions(expand_scopes=True))
    assert "(pods of Service health)" not in _workloads_of(result, Change.STRICTER)
    assert _workloads_of(result, Change.LOOSER) == {"(any workload the inputs do not show)"}
    kinds = sorted(
        (r.data["kind"], r.data["metadata"]["name"]) for r in result.conversion.resources
    )
    assert ("AuthorizationPolicy", "default-shop-require-jwt") in kinds
    assert not any(name.startswith("default-health") for _, name in kinds)


def test_faithful_disable_keeps_disable_with_a_client_rule(tmp_path: Path) -> None:
    """--faithful-disable writes DISABLE and the DestinationRule clients need; no compatible
    difference remains."""
    from migrate.convert.model import ConvertOptions

    (tmp_path / "a.yaml").write_text(
        OVERRIDE.split("---\napiVersion: authentication", maxsplit=1)[0]
        + "---\n"
        + OVERRIDE.rsplit("---\n", maxsplit=1)[-1]
    )
    result = convert_paths([str(tmp_path)], options=ConvertOptions(faithful_disable=True))
    made = {r.data["kind"]: r.data["spec"] for r in result.conversion.resources}
    assert made["PeerAuthentication"]["mtls"] == {"mode": "DISABLE"}
    assert made["DestinationRule"] == {
        "host": "health.ns.svc.cluster.local",
        "trafficPolicy": {"tls": {"mode": "DISABLE"}},
    }
    assert result.report.count(Change.COMPATIBLE) == 0


def test_split_moves_resources_to_their_own_files_and_lists_them(tmp_path: Path) -> None:
    """--split: an emptied original is replaced in its kustomization by the new files, its
    comments opening the first; an original that keeps documents stays listed."""
    from typer.testing import CliRunner

    from migrate.cli import app
    from migrate.commands.scan import scan

    shutil.copytree(EXAMPLES / "bookinfo", tmp_path / "bookinfo")
    (tmp_path / "mixed").mkdir()
    shutil.copy(CASES / "convert" / "namespace-strict.yaml", tmp_path / "mixed" / "all.yaml")
    (tmp_path / "mixed" / "kustomization.yaml").write_text(
        "resources:\n  - all.yaml  # keeps the Service\n  - other.yaml\n"
    )
    (tmp_path / "mixed" / "other.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
    )
    result = CliRunner().invoke(app, ["convert", str(tmp_path), "--split", "--write"])
    assert result.exit_code == 0, result.output
    book = tmp_path / "bookinfo"
    assert not (book / "bookinfo" / "authn-policy.yaml").exists()
    split = (book / "bookinfo" / "peerauthentication-default.yaml").read_text()
    assert split.startswith("# Namespace-wide authentication policy for bookinfo.")
    assert (
        "  - bookinfo/peerauthentication-default.yaml\n"
        in (book / "kustomization.yaml").read_text()
    )
    assert "authn-policy.yaml" not in (book / "kustomization.yaml").read_text()
    assert (tmp_path / "mixed" / "kustomization.yaml").read_text() == (
        "resources:\n  - all.yaml  # keeps the Service\n  - peerauthentication-default.yaml\n"
        "  - other.yaml\n"
    )
    assert "kind: Service" in (tmp_path / "mixed" / "all.yaml").read_text()
    assert scan([str(tmp_path)]).policies == ()
    again = CliRunner().invoke(app, ["convert", str(tmp_path), "--split", "--check"])
    assert again.exit_code == 0, again.output


def test_principal_binding_names_the_policies_that_read_the_principal(tmp_path: Path) -> None:
    """§D.11: a USE_PEER policy with origins warns about AuthorizationPolicies reading
    request.auth.principal, whose meaning changes from the peer to the token."""
    work = tmp_path / "p.yaml"
    work.write_text(
        (CASES / "convert" / "jwt-optional.yaml").read_text()
        + "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
        "metadata: {name: admins, namespace: foo}\nspec:\n  rules:\n"
        "  - from: [{source: {requestPrincipals: ['https://accounts.example.com/*']}}]\n"
    )
    result = convert_paths([str(work)])
    (finding,) = [f for f in result.conversion.findings if f.code == "AM403"]
    assert finding.severity.value == "warning"
    assert "read by AuthorizationPolicy foo/admins" in finding.message


def test_allow_stricter_covers_a_regex_and_says_so(tmp_path: Path) -> None:
    """--allow-stricter writes a wider path for a regex, reports it, and stays never-looser."""
    from migrate.convert.model import ConvertOptions

    work = tmp_path / "r.yaml"
    work.write_text(
        "\n".join(
            (CASES / "convert-refused" / "regex-not-literal.yaml").read_text().splitlines()[1:]
        )
        + "\n"
    )
    result = convert_paths([str(work)], options=ConvertOptions(allow_stricter=True))
    (finding,) = [f for f in result.conversion.findings if f.code == "AM404"]
    assert "wider prefix /api/v" in finding.message
    assert result.report.count(Change.LOOSER) == 0
    assert result.report.count(Change.STRICTER) > 0


def test_peer_is_optional_keeps_the_mode_and_says_so(tmp_path: Path) -> None:
    """§D.12: peerIsOptional has no beta form; the mode stays and AM405 explains."""
    work = tmp_path / "m.yaml"
    work.write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\n"
        "metadata: {name: default}\nspec:\n  peers: [{mtls: {}}]\n"
        "  peer_is_optional: true\n"
    )
    result = convert_paths([str(work)])
    assert [f.code for f in result.conversion.findings] == ["AM405"]
    assert result.conversion.resources[0].data["spec"] == {"mtls": {"mode": "STRICT"}}


def test_an_origin_no_real_path_triggers_demands_no_token(tmp_path: Path) -> None:
    """An origin whose only trigger rule matches no request path (`exact: a`, no slash) adds
    no DENY rule (only iss-a tokens pass, as in alpha); it used to add one with an empty
    issuer list, an internal error."""
    (tmp_path / "p.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\n"
        "spec: {selector: {app: web}, ports: [{name: http, port: 80}]}\n---\n"
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: default, namespace: ns}\nspec:\n  origins:\n"
        "  - jwt: {issuer: iss-a, jwksUri: 'https://k/a'}\n"
        "  - jwt: {issuer: iss-b, jwksUri: 'https://k/b', triggerRules: "
        "[{includedPaths: [{exact: a}]}]}\n"
    )
    result = convert_paths([str(tmp_path)])
    assert result.report.count(Change.LOOSER) == 0
    deny = next(
        r.data for r in result.conversion.resources if r.data["kind"] == "AuthorizationPolicy"
    )
    assert [rule["when"] for rule in deny["spec"]["rules"]] == [
        [{"key": "request.auth.claims[iss]", "notValues": ["iss-a"]}]
    ]
