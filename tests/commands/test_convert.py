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
    inputs do not show lose the requirement, which the proof reports as looser, so the
    namespace is left as it is unless that is accepted."""
    from migrate.convert.model import ConvertOptions

    (tmp_path / "a.yaml").write_text(OVERRIDE)
    options = ConvertOptions(expand_scopes=True)
    left = convert_paths([str(tmp_path)], options=options)
    assert left.changes == []
    assert left.left == {"Policy ns/default": "AM411", "Policy ns/health": "AM411"}
    result = convert_paths([str(tmp_path)], options=options, all_or_nothing=True)
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
    result = convert_paths([str(work)], all_or_nothing=True)
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


# Writing what is proven: a policy that cannot be converted, or whose conversion is looser,
# is left as it is and the rest written, proven as one state (issue 16, item 2).

GHOST = """\
# the Service ghost lives in another repository
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: p, namespace: foo}
spec:
  targets: [{name: ghost}]
  peers: [{mtls: {}}]
"""


def _namespace_policy(namespace: str, peers: str) -> str:
    """A Service and its pods in `namespace`, and the namespace's policy with `peers`."""
    from manifests import app

    return (
        app(namespace)
        + "---\napiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        + f"metadata: {{name: default, namespace: {namespace}}}\nspec:\n  peers: {peers}\n"
    )


def _cli(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from migrate.cli import app

    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def _not_looser(original: Path, written: Path) -> None:
    """An independent `verify ORIGINAL WRITTEN` proves the written tree not looser."""
    from migrate.commands.verify import verify_paths

    code, output = _cli("verify", str(original), str(written))
    assert code in (0, 1), output
    assert "LOOSER" not in output
    assert "NOT PROVED" not in output
    report = verify_paths([str(original)], [str(written)])
    assert report.proven
    assert report.count(Change.LOOSER) == 0


def test_write_converts_the_rest_when_one_policy_cannot_be(tmp_path: Path) -> None:
    """One policy whose Service is not in the inputs is left as it is, with the reason; the
    three namespaces beside it are written, exit 2, and `verify` proves the written tree not
    looser than the original; a second run changes nothing more."""
    from repo_kit import snapshot

    original, work = tmp_path / "original", tmp_path / "work"
    original.mkdir()
    (original / "foo.yaml").write_text(GHOST)
    for namespace in ("one", "two", "three"):
        (original / f"{namespace}.yaml").write_text(_namespace_policy(namespace, "[{mtls: {}}]"))
    shutil.copytree(original, work)
    code, output = _cli("convert", str(work), "--write")
    assert code == 2, output
    assert (
        "error AM402: Policy foo/p not converted: Service foo/ghost is not in the inputs" in output
    )
    assert "3 policies converted into 3 resource(s) in 3 file(s); 1 left as it is\n" in output
    assert "\nPolicy foo/p: left as it is (AM402: not converted: " in output
    assert "proven: the state these changes leave, with the policies left in force" in output
    assert "NOT PROVED" not in output
    assert "rewrote 3 file(s)" in output
    assert (work / "foo.yaml").read_text() == GHOST
    for namespace in ("one", "two", "three"):
        text = (work / f"{namespace}.yaml").read_text()
        assert "kind: PeerAuthentication" in text
        assert "authentication.istio.io/v1alpha1" not in text
    _not_looser(original, work)
    written = snapshot(work)
    again, output = _cli("convert", str(work), "--write")
    assert again == 2, output
    assert snapshot(work) == written


def _mesh_and_bank(root: Path) -> None:
    """A STRICT MeshPolicy; bank's policy asks for a peer JWT, which Istio never honoured (it
    refused every request), so its conversion is looser; one's PERMISSIVE policy converts."""
    root.mkdir()
    (root / "mesh.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\n"
        "metadata: {name: default}\nspec:\n  peers: [{mtls: {}}]\n"
    )
    (root / "bank.yaml").write_text(_namespace_policy("bank", "[{jwt: {issuer: i}}]"))
    (root / "one.yaml").write_text(_namespace_policy("one", "[{mtls: {mode: PERMISSIVE}}]"))


def test_a_looser_conversion_is_left_out_and_the_mesh_waits_for_it(tmp_path: Path) -> None:
    """bank's conversion is looser, so bank stays as it is; the MeshPolicy's conversion is
    looser only together with that (a mesh-level PeerAuthentication would override bank's
    alpha mTLS), so it waits too; one is written. Exit 3, the written tree is proven not
    looser by `verify`, and a second run changes nothing more."""
    from repo_kit import snapshot

    original, work = tmp_path / "original", tmp_path / "work"
    _mesh_and_bank(original)
    shutil.copytree(original, work)
    whole = convert_paths([str(work)], all_or_nothing=True)
    looser = [c for c in whole.report.causes if c.change is Change.LOOSER]
    assert looser
    assert all(c.before.decided_by == ("Policy bank/default",) for c in looser)
    code, diff = _cli("convert", str(work))  # the diff shows what --write writes
    assert code == 3, diff
    assert [line.rsplit("/", 1)[-1] for line in diff.splitlines() if line.startswith("+++ ")] == [
        "one.yaml"
    ]
    code, output = _cli("convert", str(work), "--write")
    assert code == 3, output
    assert (
        "error AM411: Policy bank/default left as it is, and the rest written without it: "
        "converting namespace bank now would make a state looser than the start, e.g. GET "
        "web.bank:80/ from" in output
    )
    assert (
        "error AM411: MeshPolicy default left as it is, and the rest written without it: "
        "converting the MeshPolicy now would make a state looser than the start" in output
    )
    assert "it must wait until every namespace has its own" in output
    assert "1 policy converted into 1 resource(s) in 1 file(s); 2 left as they are\n" in output
    assert "\nMeshPolicy default: left as it is (AM411: the rest written without it: " in output
    assert "proven: the state these changes leave" in output
    assert "rewrote 1 file(s)" in output
    for name in ("mesh.yaml", "bank.yaml"):
        assert (work / name).read_bytes() == (original / name).read_bytes()
    assert "kind: PeerAuthentication" in (work / "one.yaml").read_text()
    _not_looser(original, work)
    written = snapshot(work)
    again, output = _cli("convert", str(work), "--write")
    assert again == 3, output
    assert "nothing written" in output
    assert snapshot(work) == written


def test_all_or_nothing_writes_nothing_when_a_conversion_is_looser(tmp_path: Path) -> None:
    """--all-or-nothing (or `all-or-nothing: true` in the configuration) keeps the whole
    conversion or nothing: with bank's looser conversion, nothing is written (exit 3)."""
    from repo_kit import snapshot

    work = tmp_path / "work"
    _mesh_and_bank(work)
    before = snapshot(work)
    code, output = _cli("convert", str(work), "--write", "--all-or-nothing")
    assert code == 3, output
    assert "nothing written" in output
    assert "AM411" not in output
    assert snapshot(work) == before
    (work / ".authn-migrate.yaml").write_text("all-or-nothing: true\n")
    before = snapshot(work)
    code, output = _cli("convert", str(work), "--write")
    assert code == 3, output
    assert "nothing written" in output
    assert snapshot(work) == before
