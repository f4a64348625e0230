"""Kustomize repositories as they are: patch files read as patches, each overlay built with
the real kustomize before and after `convert` and proven, policies an overlay patches left
with the patch named, and the pre-commit hooks reading a staged file's whole Kustomize tree.

The tests that build need `kustomize` or `kubectl` on PATH: without either they are skipped
with the reason, except where the environment variable CI is set, where they fail."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from repo_kit import EXAMPLES, EXEC_GENERATOR, ROOT, run_cli, snapshot

from migrate.commands.convert import convert_paths
from migrate.commands.scan import scan
from migrate.load.kustomize_build import Engine, build, error_text, find_engine
from migrate.load.staged import kustomization_roots
from migrate.semantics.equivalence import Change

EXAMPLE = EXAMPLES / "kustomize-overlays"
OVERLAYS = ("overlays/prod", "overlays/staging")


def _engine() -> Engine:
    engine = find_engine()
    if engine is None:
        if os.environ.get("CI"):
            pytest.fail("neither kustomize nor kubectl is on PATH, and CI needs them")
        pytest.skip("neither kustomize nor kubectl is on PATH: overlays cannot be built")
    return engine


def _copy(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    shutil.copytree(EXAMPLE, work)
    return work


def _built(engine: Engine, overlay: Path) -> list[dict]:
    done = build(engine, overlay)
    assert done.text is not None, done.error
    return [d for d in yaml.safe_load_all(done.text) if d]


def _find(documents: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def test_patch_files_are_not_resources() -> None:
    """A JSON 6902 patch is no AM002, a strategic-merge patch of a Policy no misnamed policy
    (AM103) nor a second definition of the base's (AM214/AM215); the base's policies take
    their kustomizations' namespaces."""
    report = scan([str(EXAMPLE)])
    refs = sorted(p.entry.ref for p in report.policies)
    assert refs == ["Policy checkout/default", "Policy shop/default", "Policy shop/storefront-jwt"]
    codes = {f.code for f in report.findings}
    assert not codes & {"AM002", "AM103", "AM214", "AM215"}, report.findings
    assert not [f for f in report.findings if "'default' (the Kubernetes default)" in f.message]


def test_patches_of_a_converted_policy_become_patches_of_its_new_resources(
    tmp_path: Path,
) -> None:
    """The storefront's JWT policy, patched by prod (strategic merge: issuer and audience)
    and staging (JSON 6902: jwksUri), is converted: each overlay's patches of it become
    patches replacing the spec of the new resources that carry the patched fields, and the
    patch files listed nowhere else go."""
    _engine()
    work = _copy(tmp_path)
    result = convert_paths([str(work)])
    assert result.left == {}
    assert sorted(e.ref for e in result.conversion.converted) == [
        "Policy checkout/default",
        "Policy shop/default",
        "Policy shop/storefront-jwt",
    ]
    changed = {c.path.relative_to(work).as_posix(): c for c in result.changes}
    assert changed["overlays/prod/storefront-jwt.yaml"].new is None
    assert changed["overlays/staging/storefront-jwks.yaml"].new is None
    prod = yaml.safe_load(changed["overlays/prod/kustomization.yaml"].new or "")
    assert "patchesStrategicMerge" not in prod
    targets = {(p["target"]["kind"], p["target"]["name"]) for p in prod["patches"] if "patch" in p}
    assert targets == {
        ("RequestAuthentication", "storefront-jwt-storefront"),
        ("AuthorizationPolicy", "storefront-jwt-storefront-require-jwt"),
    }
    staging = yaml.safe_load(changed["overlays/staging/kustomization.yaml"].new or "")
    assert [p["target"]["name"] for p in staging["patchesJson6902"]] == ["storefront"]
    (jwks,) = [p for p in staging["patches"] if "target" in p]
    (operation,) = yaml.safe_load(jwks["patch"])
    assert (
        operation["value"]["jwtRules"][0]["jwksUri"] == "https://keys.staging.example.com/jwks.json"
    )


def test_a_patch_that_cannot_be_translated_leaves_its_policy_naming_the_patch(
    tmp_path: Path,
) -> None:
    """A patch whose target is a pattern (it may change other resources too) is not
    translated: the policy is left as it is, AM413 at the patch naming every patch of it
    and why; the other policies convert and every overlay still builds."""
    engine = _engine()
    work = _copy(tmp_path)
    kustomization = work / "overlays/staging/kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("name: storefront-jwt", "name: storefront-.*")
    )
    result = convert_paths([str(work)])
    assert result.left["Policy shop/storefront-jwt"] == "AM413"
    (finding,) = [f for f in result.report.findings if f.code == "AM413"]
    assert finding.location.path.endswith("overlays/prod/storefront-jwt.yaml")
    assert "overlays/staging/storefront-jwks.yaml (JSON 6902)" in finding.message
    assert "may also change other resources" in finding.message
    assert [e.ref for e in result.conversion.converted] == ["Policy checkout/default"]
    done = run_cli("convert", "--write", ".", cwd=work)
    assert done.returncode == 2, done.stderr
    for overlay in OVERLAYS:
        _built(engine, work / overlay)


def test_without_kustomize_a_patched_policy_is_left_naming_the_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no engine to build the overlay, a patched policy is not converted (AM413)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = convert_paths([str(_copy(tmp_path))])
    assert result.left["Policy shop/storefront-jwt"] == "AM413"
    (finding,) = [f for f in result.report.findings if f.code == "AM413"]
    assert "neither kustomize nor kubectl is on PATH" in finding.message
    assert "Policy checkout/default" in [e.ref for e in result.conversion.converted]


def test_each_environment_builds_and_is_proven_before_and_after_write(tmp_path: Path) -> None:
    """Both overlays build before `convert --write` and after it; each environment's builds
    are compared and found no looser; prod keeps its patched issuer and audience, staging its
    key server, now on the new resources."""
    engine = _engine()
    work = _copy(tmp_path)
    for overlay in OVERLAYS:
        _built(engine, work / overlay)
    result = convert_paths([str(work)])
    assert result.environments.engine is not None
    assert "kustomize" in result.environments.engine
    assert [p.overlay.rsplit("/", 2)[-2:] for p in result.environments.proofs] == [
        ["overlays", "prod"],
        ["overlays", "staging"],
    ]
    for proof in result.environments.proofs:
        assert proof.report is not None
        assert proof.report.proven, proof.overlay
        assert not proof.looser, proof.overlay
    assert not result.blocked
    done = run_cli("convert", "--write", ".", cwd=work)
    assert done.returncode == 0, done.stderr
    assert b"rewrote 6 file(s)" in done.stderr
    assert b"overlays/prod: NOT EQUIVALENT: 26 stricter, 4 status-only" in done.stderr
    for overlay in OVERLAYS:
        built = _built(engine, work / overlay)
        assert not [d for d in built if d["apiVersion"].startswith("authentication.istio.io")]
        namespaces = {
            d["metadata"]["namespace"] for d in built if d["kind"] == "PeerAuthentication"
        }
        assert namespaces == {"checkout", "shop"}
    prod = _built(engine, work / "overlays/prod")
    (rule,) = _find(prod, "RequestAuthentication", "storefront-jwt-storefront")["spec"]["jwtRules"]
    assert (rule["issuer"], rule["audiences"]) == ("https://login.example.com/", ["storefront"])
    deny = _find(prod, "AuthorizationPolicy", "storefront-jwt-storefront-require-jwt")
    assert deny["spec"]["rules"][0]["when"][0]["notValues"] == ["https://login.example.com/"]
    staging = _built(engine, work / "overlays/staging")
    (rule,) = _find(staging, "RequestAuthentication", "storefront-jwt-storefront")["spec"][
        "jwtRules"
    ]
    assert rule["jwksUri"] == "https://keys.staging.example.com/jwks.json"
    again = convert_paths([str(work)])
    assert again.changes == []
    assert [p.report.causes for p in again.environments.proofs if p.report] == [[], []]


_PROD_SELECTOR = """\
- op: replace
  path: /spec/selector/app
  value: checkout-v2
"""
_PROD_PODS = """\
- op: replace
  path: /spec/selector/matchLabels/app
  value: checkout-v2
- op: replace
  path: /spec/template/metadata/labels/app
  value: checkout-v2
"""


def test_environment_looser_after_the_conversion_blocks_the_write(tmp_path: Path) -> None:
    """Where prod's checkout Service selects other pods (app: checkout-v2), the STRICT
    PeerAuthentication converted from the base's files selects the base's labels and leaves
    prod's pods PERMISSIVE: the files alone prove the conversion, the prod build does not,
    and nothing is written (exit 3)."""
    engine = _engine()
    work = _copy(tmp_path)
    (work / "base/checkout/authn-policy.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n"
        "  name: default\nspec:\n  peers:\n  - mtls:\n      mode: PERMISSIVE\n---\n"
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n"
        "  name: checkout-strict\nspec:\n  targets:\n  - name: checkout\n"
        "  peers:\n  - mtls: {}\n"
    )
    prod = work / "overlays/prod"
    (prod / "checkout-selector.yaml").write_text(_PROD_SELECTOR)
    (prod / "checkout-pods.yaml").write_text(_PROD_PODS)
    kustomization = prod / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text()
        + "  - path: checkout-selector.yaml\n    target:\n      kind: Service\n"
        "      name: checkout\n"
        "  - path: checkout-pods.yaml\n    target:\n      kind: Deployment\n"
        "      name: checkout\n"
    )
    _built(engine, prod)
    before = snapshot(work)
    result = convert_paths([str(work)])
    assert result.report.proven
    assert result.whole is None
    assert result.report.count(Change.LOOSER) == 0
    looser = {p.overlay.rsplit("/", 1)[-1]: p.looser for p in result.environments.proofs}
    assert looser == {"prod": True, "staging": False}
    assert result.blocked
    assert int(result.exit_code()) == 3
    done = run_cli("convert", "--write", ".", cwd=work)
    assert done.returncode == 3, done.stderr
    assert b"nothing written" in done.stderr
    assert b"overlays/prod: NOT EQUIVALENT" in done.stderr
    assert snapshot(work) == before


def test_remote_resources_are_not_fetched(tmp_path: Path) -> None:
    """An overlay listing a remote resource is not built (AM020): its environment is not
    proven, and nothing is written."""
    _engine()
    work = _copy(tmp_path)
    kustomization = work / "overlays/staging/kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace(
            "  - ../../base\n",
            "  - ../../base\n  - https://github.com/example/infra//istio?ref=v1\n",
        )
    )
    result = convert_paths([str(work)])
    (finding,) = [f for f in result.environments.findings if f.code == "AM020"]
    assert "remote resource" in finding.message
    assert "overlays/staging" in finding.message
    assert result.blocked
    assert int(result.exit_code()) == 2


def test_without_kustomize_the_files_are_read_and_that_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No kustomize and no kubectl: one AM020 note naming the overlays, the files proof."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = convert_paths([str(_copy(tmp_path))])
    notes = [f for f in result.environments.findings if f.code == "AM020"]
    assert len(notes) == 1
    assert "overlays/prod" in notes[0].message
    assert "overlays/staging" in notes[0].message
    assert result.environments.proofs == []
    assert not result.blocked


def test_given_overlay_is_the_only_one_built(tmp_path: Path) -> None:
    """`--overlay DIR` builds that overlay alone."""
    _engine()
    work = _copy(tmp_path)
    done = run_cli("convert", ".", "--overlay", "overlays/staging", cwd=work)
    assert b"overlays/staging: NOT EQUIVALENT" in done.stderr
    assert b"overlays/prod:" not in done.stderr


def test_kustomization_roots_widen_a_staged_file_to_its_tree(tmp_path: Path) -> None:
    """A staged base file or overlay patch stands for the folder holding the base and every
    overlay that includes it; a file no kustomization lists stays as it is."""
    work = _copy(tmp_path)
    (work / "notes.yaml").write_text("a: 1\n")
    staged = ["base/checkout/authn-policy.yaml", "overlays/prod/storefront-jwt.yaml"]
    assert kustomization_roots([str(work / s) for s in staged], work) == [str(work)]
    assert kustomization_roots([str(work / "notes.yaml")], work) == [str(work / "notes.yaml")]


def test_pre_commit_hook_reads_the_staged_policy_with_its_kustomization(tmp_path: Path) -> None:
    """The check hook, given one staged policy file, reads it in its namespace (from its
    kustomization, not `default`) with its Service: the file would change (exit 1)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (check,) = [h for h in hooks if h["id"] == "authn-migrate-check"]
    assert check["pass_filenames"] is True
    work = _copy(tmp_path)
    entry = shlex.split(check["entry"])[1:]
    done = run_cli(*entry, "base/checkout/authn-policy.yaml", cwd=work)
    assert done.returncode in (1, 2), done.stderr
    out = done.stdout.decode()
    assert "+  namespace: checkout" in out, out
    assert b"the Kubernetes default" not in done.stderr
    assert b"not in the inputs" not in done.stderr


def test_an_overlay_cannot_run_its_own_programs(tmp_path: Path) -> None:
    """An overlay declaring an exec function as a generator does not run it: the engine
    keeps plugins and exec off, and the overlay is reported as not building (its
    environment not proven, AM020)."""
    _engine()
    work = _copy(tmp_path)
    staging = work / "overlays/staging"
    script = staging / "fire.sh"
    script.write_text(f"#!/bin/sh\ntouch {tmp_path / 'FIRED'}\n")
    script.chmod(0o755)
    (staging / "fire.yaml").write_text(EXEC_GENERATOR)
    kustomization = staging / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "\ngenerators:\n  - fire.yaml\n")
    done = run_cli("convert", ".", cwd=work)
    assert not (tmp_path / "FIRED").exists()
    assert b"AM020: overlay overlays/staging does not build before the conversion" in done.stderr
    assert b"overlays/prod: NOT EQUIVALENT" in done.stderr


def test_a_component_takes_the_namespace_of_the_kustomization_that_lists_it(
    tmp_path: Path,
) -> None:
    """A policy in a Kustomize component is in the namespace of the kustomization listing
    the component under `components:`."""
    (tmp_path / "auth").mkdir()
    (tmp_path / "kustomization.yaml").write_text("namespace: team-a\ncomponents:\n  - auth\n")
    (tmp_path / "auth/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "resources:\n  - policy.yaml\n"
    )
    (tmp_path / "auth/policy.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata:\n  name: default\nspec:\n  peers:\n  - mtls: {}\n"
    )
    report = scan([str(tmp_path)])
    assert [p.entry.ref for p in report.policies] == ["Policy team-a/default"]


def test_engine_errors_read_as_one_line_without_log_prefixes() -> None:
    """kubectl's log lines (quoted or as a block) and kustomize's `Error:` give the error
    alone: no timestamp, process id or warning, so messages are the same run to run."""
    quoted = (
        "# Warning: 'patchesJson6902' is deprecated.\n"
        'E1204 22:33:06.731981   22047 run.go:72] "command failed" '
        'err="accumulating resources: \\"x\\" not found"\n'
    )
    block = (
        'E1204 22:33:06.678980   22041 run.go:72] "command failed" err=<\n'
        "\ttrouble configuring builtin PatchTransformer with config: `\n"
        "\tpath: nothere.yaml\n\t`: no such file or directory\n >\n"
    )
    assert error_text(quoted) == 'accumulating resources: "x" not found'
    assert error_text(block) == (
        "trouble configuring builtin PatchTransformer with config: ` path: nothere.yaml `: "
        "no such file or directory"
    )
    assert error_text("Error: accumulating resources: boom\n") == "accumulating resources: boom"


def test_an_overlay_option_without_a_kustomization_is_a_usage_error(tmp_path: Path) -> None:
    """`--overlay DIR` names a folder holding a kustomization, else exit 2 at once."""
    work = _copy(tmp_path)
    done = run_cli("convert", ".", "--overlay", "base/nothing", cwd=work)
    assert done.returncode == 2
    assert b"no kustomization in that folder" in done.stderr


def test_port_level_mtls_is_written_so_kustomize_builds_it(tmp_path: Path) -> None:
    """portLevelMtls keys are written quoted (JSON object keys are strings): kustomize cannot
    build a map with integer keys, so a converted port-level policy used to break the build."""
    engine = _engine()
    work = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "mesh-overrides", work)
    done = run_cli("convert", "--write", ".", cwd=work)
    assert done.returncode == 0, done.stderr
    documents = _built(engine, work)
    (peer,) = [
        d
        for d in documents
        if d["kind"] == "PeerAuthentication" and "portLevelMtls" in d.get("spec", {})
    ]
    assert peer["spec"]["portLevelMtls"] == {
        "8080": {"mode": "STRICT"},
        "9091": {"mode": "PERMISSIVE"},
    }
    assert '    "8080":\n' in (work / "payments" / "authn-policies.yaml").read_text()
