"""`plan`: every stage no looser than the start, the last equal to the full conversion, and a
naive order refused with the reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from migrate.cli import app
from migrate.commands.plan import _Planner, plan
from migrate.convert.model import NewResource
from migrate.convert.prove import prove
from migrate.render.plan import plan_data, plan_markdown, write_plan
from migrate.rewrite.documents import render_documents
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import VerifyOptions, verify_sides
from migrate.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "plan"


def _causes(report: object) -> list[tuple[str, str, str]]:
    return sorted((c.change.value, str(c.before), str(c.after)) for c in report.causes)  # type: ignore[attr-defined]


def test_rollout_example_plan_is_proven_and_golden(tmp_path: Path) -> None:
    """The multi-namespace example plans with every stage no looser; PLAN.md and plan.json
    match their golden files and plan.json its schema."""
    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    result = plan(workspace)
    assert result.proven
    assert [s.name for s in result.stages] == ["legacy", "payments", "api", "mesh-wide", "cleanup"]
    write_plan(result, tmp_path)
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    Draft202012Validator(schema).validate(json.loads((tmp_path / "plan.json").read_text()))
    for name in ("PLAN.md", "plan.json"):
        golden = GOLDEN / f"rollout.{name}"
        text = (tmp_path / name).read_text()
        if os.environ.get("AUTHN_MIGRATE_REGEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert text == golden.read_text()
    assert (tmp_path / "02-payments" / "apply.yaml").exists()
    assert (
        "kubectl delete policy.authentication.istio.io payments-api-plaintext-metrics -n "
        "payments" in (tmp_path / "05-cleanup" / "delete.sh").read_text()
    )


def test_last_stage_equals_the_full_conversion() -> None:
    """After the cleanup, the state is exactly what `convert` proves."""
    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    result = plan(workspace)
    final = result.stages[-1].report
    assert _causes(final) == _causes(prove(workspace, result.conversion))


NAIVE = """\
apiVersion: authentication.istio.io/v1alpha1
kind: MeshPolicy
metadata: {name: default}
spec:
  peers: [{mtls: {mode: PERMISSIVE}}]
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: bank}
spec:
  peers: [{mtls: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: vault, namespace: bank}
spec: {selector: {app: vault}, ports: [{name: http, port: 80, targetPort: 8080}]}
"""


def test_naive_order_with_the_mesh_first_is_refused(tmp_path: Path) -> None:
    """The mesh-level PeerAuthentication first would override bank's STRICT alpha policy:
    refused, with a witness and the reason; the default order puts it last."""
    (tmp_path / "m.yaml").write_text(NAIVE)
    workspace = open_workspace([str(tmp_path)])
    refused = plan(workspace, order=["mesh"])
    assert not refused.proven
    assert "stage mesh cannot go here" in refused.refused
    assert "vault.bank:80" in refused.refused
    assert "must wait until every namespace has its own" in refused.refused
    assert "Refused" in plan_markdown(refused)
    assert [s.name for s in plan(workspace).stages] == ["bank", "mesh-wide", "cleanup"]


MODES = st.sampled_from(["", "  peers: [{mtls: {}}]\n", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"])


@st.composite
def meshes(draw: st.DrawFn) -> str:
    docs = []
    mesh = draw(MODES)
    if mesh:
        docs.append(
            "apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\n"
            f"metadata: {{name: default}}\nspec:\n{mesh}"
        )
    for ns in ("one", "two"):
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: {ns}}}\n"
            "spec: {selector: {app: web}, ports: [{name: http, port: 80, "
            "targetPort: 8080}, {name: tcp, port: 90, targetPort: 9090}]}"
        )
        spaced = draw(MODES)
        if spaced:
            docs.append(
                "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
                f"metadata: {{name: default, namespace: {ns}}}\nspec:\n{spaced}"
            )
        service = draw(MODES)
        if service:
            ports = draw(st.sampled_from(["", ", ports: [{number: 80}]"]))
            docs.append(
                "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
                f"metadata: {{name: web, namespace: {ns}}}\nspec:\n"
                f"  targets: [{{name: web{ports}}}]\n{service}"
            )
    return "---\n".join(d if d.endswith("\n") else d + "\n" for d in docs)


@settings(max_examples=60)
@given(text=meshes())
def test_every_emitted_stage_is_no_looser(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Random meshes: each stage of an emitted plan is no looser than the start, proven again
    over the whole mesh (not only the namespace the stage changes), and the last is the full
    conversion."""
    folder = tmp_path_factory.mktemp("mesh")
    (folder / "m.yaml").write_text(text)
    workspace = open_workspace([str(folder)])
    planner = _Planner(workspace, VerifyOptions())
    result = planner.run((), ())
    if result.refused:
        return
    assert all(s.report is not None and s.report.count(Change.LOOSER) == 0 for s in result.stages)
    applied: list[NewResource] = []
    for stage in result.stages:
        applied += stage.apply
        state = planner.state(applied, stage.delete)
        whole = verify_sides(planner.start, state, workspace.inventory)
        assert whole.count(Change.LOOSER) == 0, stage.name
    assert _causes(result.stages[-1].report) == _causes(prove(workspace, result.conversion))
    assert plan_data(result)["proven"]


def test_status_reports_the_stage_and_whether_it_is_proven(tmp_path: Path) -> None:
    """Mid-migration: after the first stage's files are added the repository is at stage 1
    and proven; with a hand-edited replacement that lets plaintext into api it is looser."""
    import shutil

    from migrate.commands.plan import status

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "rollout", repo)
    result = plan(open_workspace([str(repo)]))
    write_plan(result, tmp_path / "plan")
    shutil.copy(tmp_path / "plan" / "01-legacy" / "apply.yaml", repo / "stage-1.yaml")
    first = status(open_workspace([str(repo)]))
    assert (first.at, first.proven) == (1, True)
    (repo / "stage-x.yaml").write_text(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata:\n  name: orders\n  namespace: api\n  annotations:\n"
        "    authn-migrate.io/converted-from: Policy api/orders-jwt\n"
        "spec:\n  selector: {matchLabels: {app: orders}}\n  mtls: {mode: PERMISSIVE}\n"
    )
    early = status(open_workspace([str(repo)]))
    assert early.at == 1
    assert not early.proven


def test_status_of_a_repository_without_alpha_policies_claims_no_stage(tmp_path: Path) -> None:
    """Once every alpha policy is gone there is no start to compare with: status says so and
    how to prove the whole migration, instead of "stage 0 of 0 ... proven"."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "httpbin-jwt", repo)
    assert CliRunner().invoke(app, ["convert", "--write", str(repo)]).exit_code == 0
    result = CliRunner().invoke(app, ["plan", "--status", str(repo)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "no v1alpha1 policy in the inputs: nothing left to stage. To prove the whole "
        "migration, compare with the revision before it: authn-migrate review --base REV"
    ]


def _waves(repo: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    """Each document's Argo CD sync wave and sync options, by kind, namespace and name."""
    import yaml

    found = {}
    for path in repo.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            metadata = (doc or {}).get("metadata") or {}
            annotations = metadata.get("annotations") or {}
            if "argocd.argoproj.io/sync-wave" in annotations:
                key = (doc["kind"], metadata.get("namespace", ""), metadata["name"])
                found[key] = (
                    annotations["argocd.argoproj.io/sync-wave"],
                    annotations.get("argocd.argoproj.io/sync-options", ""),
                )
    return found


def test_sync_waves_annotate_converted_resources_by_stage(tmp_path: Path) -> None:
    """--sync-waves writes the new resources in place with each one's stage as its Argo CD
    sync wave, and keeps every alpha policy in force, in the cleanup's wave and pruned last
    (Argo CD would otherwise prune a policy removed from git in wave 0, before its
    replacements apply); the guidance says so, for Flux too."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "rollout", repo)
    result = CliRunner().invoke(app, ["plan", str(repo), "--sync-waves"])
    assert result.exit_code == 0, result.output
    waves = _waves(repo)
    assert waves[("PeerAuthentication", "legacy", "default")] == ("1", "")
    assert waves[("PeerAuthentication", "payments", "ledger-permissive-ledger")] == ("2", "")
    assert waves[("RequestAuthentication", "api", "orders-jwt-orders")] == ("3", "")
    assert waves[("PeerAuthentication", "istio-system", "default")] == ("4", "")
    kept = {k: v for k, v in waves.items() if k[0] in ("Policy", "MeshPolicy")}
    assert kept == {
        ("MeshPolicy", "", "default"): ("5", "PruneLast=true"),
        ("Policy", "legacy", "default"): ("5", "PruneLast=true"),
        ("Policy", "payments", "payments-api-plaintext-metrics"): ("5", "PruneLast=true"),
        ("Policy", "payments", "ledger-permissive"): ("5", "PruneLast=true"),
        ("Policy", "api", "orders-jwt"): ("5", "PruneLast=true"),
    }
    assert "PAY-1432" in (repo / "payments" / "authn-policies.yaml").read_text()
    assert "set PruneLast=true in the Application's spec.syncPolicy.syncOptions" in result.output
    assert "chained with dependsOn" in result.output


def test_after_the_waves_convert_removes_only_the_alpha_policies(tmp_path: Path) -> None:
    """The commit after the waves: `convert --write` recognises every replacement the waves
    wrote and removes only the policies; the tree it leaves is proven against the original."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "rollout", repo)
    assert CliRunner().invoke(app, ["plan", str(repo), "--sync-waves"]).exit_code == 0
    waves = _waves(repo)
    result = CliRunner().invoke(app, ["convert", str(repo), "--write"])
    assert result.exit_code == 0, result.output
    assert result.output.count("AM412") == 5
    assert "5 policies converted into 0 resource(s)" in result.output
    assert _waves(repo) == {k: v for k, v in waves.items() if v[1] == ""}
    proof = CliRunner().invoke(app, ["verify", str(ROOT / "examples" / "rollout"), str(repo)])
    assert proof.exit_code in (0, 1), proof.output


CONFLICTING = """\
apiVersion: authentication.istio.io/v1alpha1
kind: MeshPolicy
metadata: {name: default}
spec:
  peers: [{mtls: {}}]
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: legacy}
spec:
  peers: [{mtls: {mode: PERMISSIVE}}]
---
apiVersion: v1
kind: Service
metadata: {name: billing, namespace: legacy}
spec: {selector: {app: billing}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: billing, namespace: legacy}
spec:
  host: billing
  trafficPolicy: {tls: {mode: DISABLE}}
"""


def test_stage_lists_the_client_conflicts_it_creates(tmp_path: Path) -> None:
    """The mesh-wide stage before legacy's own makes billing STRICT while its clients send
    plaintext: the stage says so with the fix; the default order avoids it."""
    (tmp_path / "m.yaml").write_text(CONFLICTING)
    workspace = open_workspace([str(tmp_path)])
    early = plan(workspace, order=["mesh", "legacy"])
    mesh = next(s for s in early.stages if s.name == "mesh-wide")
    assert any(
        "billing.legacy.svc.cluster.local:80 were OK and now CONFLICT" in n for n in mesh.notes
    )
    assert "Client conflicts this stage creates" in plan_markdown(early)
    assert all(not s.notes for s in plan(workspace).stages)


def test_input_errors_stop_the_plan(tmp_path: Path) -> None:
    """A policy that cannot be read is shown with its location and nothing is planned (exit
    2), rather than a plan that silently leaves it out."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: default, namespace: shop}\nspec:\n  peers: [{mtls: {mode: SOMETIMES}}]\n"
    )
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "p.yaml:5:" in result.output
    assert "no plan written" in result.output
    assert not (tmp_path / "out").exists()


def test_only_stays_inside_the_namespaces_named(tmp_path: Path) -> None:
    """--only payments plans payments and a cleanup deleting payments' policies alone: no
    mesh-wide stage, the alpha policies of api, legacy and the mesh stay in force, PLAN.md
    says so, and --sync-waves rewrites payments' files only."""
    import shutil

    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    result = plan(workspace, only=["payments"])
    assert result.proven
    assert [s.name for s in result.stages] == ["payments", "cleanup"]
    assert {e.ref for e in result.stages[-1].delete} == {
        "Policy payments/payments-api-plaintext-metrics",
        "Policy payments/ledger-permissive",
    }
    assert {e.namespace for e in result.conversion.converted} == {"payments"}
    text = plan_markdown(result)
    assert "stay in force and are not deleted: MeshPolicy default, Policy api/orders-jwt" in text
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "rollout", repo)
    outcome = CliRunner().invoke(app, ["plan", str(repo), "--only", "payments", "--sync-waves"])
    assert outcome.exit_code == 0, outcome.output
    for folder in ("api", "legacy", "istio-system"):
        for path in (ROOT / "examples" / "rollout" / folder).iterdir():
            assert (repo / folder / path.name).read_text() == path.read_text(), path.name
    assert "PeerAuthentication" in (repo / "payments" / "authn-policies.yaml").read_text()


def test_only_every_namespace_is_the_whole_mesh() -> None:
    """Naming every namespace covers the mesh: the mesh-wide stage follows and the cleanup
    deletes the MeshPolicy too, as without --only."""
    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    result = plan(workspace, only=["payments", "api", "legacy"])
    assert [s.name for s in result.stages] == [s.name for s in plan(workspace).stages]
    assert "MeshPolicy default" in {e.ref for e in result.stages[-1].delete}


def test_a_stage_that_waits_is_said_once_naming_every_stage_that_went_first(
    tmp_path: Path,
) -> None:
    """Namespace `a` carries a peer JWT (which Istio never enforced, so its conversion is
    looser) and sorts first: `b` and `c` go while it waits. The wait is one note naming both,
    printed with the refusal that follows (exit 3)."""
    from manifests import app as app_manifests

    peer_jwt = (
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: default, namespace: a}\n"
        "spec:\n  peers: [{jwt: {issuer: https://a.example, jwksUri: https://a.example/k}}]\n"
    )
    (tmp_path / "in").mkdir()
    for namespace in ("a", "b", "c"):
        policy = (
            peer_jwt
            if namespace == "a"
            else "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
            f"metadata: {{name: default, namespace: {namespace}}}\n"
            "spec:\n  peers: [{mtls: {}}]\n"
        )
        (tmp_path / "in" / f"{namespace}.yaml").write_text(
            app_manifests(namespace) + "---\n" + policy
        )
    result = plan(open_workspace([str(tmp_path / "in")]))
    waits = [n for n in result.notes if n.startswith("a waits")]
    assert waits == ["a waits: applying it now would be looser than the start; b and c go first"]
    assert [s.name for s in result.stages] == ["b", "c"]
    assert result.refused.startswith("stage a cannot go here")
    shown = CliRunner().invoke(app, ["plan", str(tmp_path / "in"), "--out", str(tmp_path / "o")])
    assert shown.exit_code == 3, shown.output
    assert shown.output.count("a waits") == 1
    assert "b and c go first" in shown.output


def test_plan_shows_the_notes_of_its_inputs_and_conversion_and_suppress_hides_them(
    tmp_path: Path,
) -> None:
    """The notes convert would show (here AM403, and AM013 folded per kustomization) are shown
    by plan too; --suppress hides them by code and says how many, the plan is unchanged."""
    source = ROOT / "examples" / "httpbin-jwt"
    shown = CliRunner().invoke(app, ["plan", str(source), "--out", str(tmp_path / "a")])
    assert shown.exit_code == 0, shown.output
    assert "note AM403: principalBinding USE_ORIGIN" in shown.output
    assert "4 documents have no metadata.namespace" in shown.output
    quiet = CliRunner().invoke(
        app, ["plan", str(source), "--out", str(tmp_path / "b"), "--suppress", "AM403"]
    )
    assert quiet.exit_code == 0, quiet.output
    assert "AM403" not in quiet.output
    assert "1 finding(s) suppressed" in quiet.output
    assert (tmp_path / "a" / "PLAN.md").read_text() == (tmp_path / "b" / "PLAN.md").read_text()


def test_stages_of_namespaces_alike_share_one_evaluation_and_the_same_verdicts(
    tmp_path: Path,
) -> None:
    """Three namespaces with the same app and policy: their classes are evaluated once for the
    whole plan (a third of the classes a plan sharing nothing evaluates), and every stage has
    the causes, in its own names, of a plan that shares nothing."""
    from manifests import app as app_manifests

    (tmp_path / "in").mkdir()
    for namespace in ("a", "b", "c"):
        (tmp_path / "in" / f"{namespace}.yaml").write_text(
            app_manifests(namespace)
            + "---\napiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
            f"metadata: {{name: default, namespace: {namespace}}}\n"
            "spec:\n  peers: [{mtls: {mode: PERMISSIVE}}]\n"
        )
    from migrate.semantics import equivalence

    workspace = open_workspace([str(tmp_path / "in")])
    tally = equivalence._tally
    evaluated: list[int] = []

    def counted(groups: list[object], **kwargs: object) -> object:
        evaluated.append(len(groups))
        return tally(groups, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(equivalence, "_tally", counted)
        shared = plan(workspace)
        classes_shared = sum(evaluated)
        evaluated.clear()
        alone = plan(workspace, options=VerifyOptions(share_shapes=False))
        classes_alone = sum(evaluated)
    names = [s.name for s in shared.stages]
    assert names == [s.name for s in alone.stages] == ["a", "b", "c", "cleanup"]
    # alone: each stage its classes, the cleanup all three namespaces' again; shared: the
    # shapes of one namespace, and the cleanup's new ones (alpha gone)
    assert classes_alone == 3 * classes_shared
    for one, other in zip(shared.stages, alone.stages, strict=True):
        assert _causes(one.report) == _causes(other.report)
        assert [str(c.witness) for c in one.report.causes] == [
            str(c.witness) for c in other.report.causes
        ]


def _tree(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_work_done_in_other_processes_writes_the_plan_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two jobs the stages' folders are written, and the cleanup proven, in other
    processes while the stages are proven: the plan written is byte for byte the one a
    single process writes, and the one written without staging; no staging folder stays."""
    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    write_plan(plan(workspace), tmp_path / "plain")
    written = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("AUTHN_MIGRATE_JOBS", jobs)
        result = plan(workspace, out=tmp_path / jobs)
        assert result.staging is not None
        assert result.staging.parent == tmp_path
        assert result.staged is not None
        assert (result.staged._child is not None) == (jobs == "2")  # in another process
        write_plan(result, tmp_path / jobs)
        assert result.staging is None
        written[jobs] = _tree(tmp_path / jobs)
    assert written["1"] == written["2"] == _tree(tmp_path / "plain")
    assert any(p.name == "apply.yaml" for p in written["2"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "plain"]


def test_a_stage_unlike_its_staged_folder_is_written_from_the_stage(tmp_path: Path) -> None:
    """A staged folder is used only for the very stage it was written for: a stage that
    applies other resources, goes under another number, or finds its folder already there,
    is written from what it is."""
    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    result = plan(workspace, out=tmp_path / "out")
    stage = next(s for s in result.stages if len(s.apply) > 1)
    stage.apply = stage.apply[:1]
    renumbered = next(s for s in result.stages if s is not stage and s.apply)
    renumbered.number += 10
    taken = next(s for s in result.stages if s not in (stage, renumbered) and s.apply)
    (tmp_path / "out" / f"{taken.number:02d}-{taken.name}").mkdir(parents=True)
    (tmp_path / "out" / f"{taken.number:02d}-{taken.name}" / "apply.yaml").write_text("old\n")
    write_plan(result, tmp_path / "out")
    folder = tmp_path / "out" / f"{stage.number:02d}-{stage.name}"
    assert (folder / "apply.yaml").read_text() == render_documents([stage.apply[0].data])
    assert (tmp_path / "out" / f"{renumbered.number:02d}-{renumbered.name}").is_dir()
    assert not (tmp_path / "out" / f"{renumbered.number - 10:02d}-{renumbered.name}").exists()
    again = tmp_path / "out" / f"{taken.number:02d}-{taken.name}" / "apply.yaml"
    assert again.read_text() == render_documents([r.data for r in taken.apply])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_that_could_not_be_staged_is_written_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage folder the staging process could not write (a full disk, the staging folder
    removed) is written by `write_plan` like any other: the same plan, nothing left over."""
    import migrate.commands.plan as planning

    workspace = open_workspace([str(ROOT / "examples" / "rollout")])
    write_plan(plan(workspace), tmp_path / "plain")
    real = planning.write_stage_folder

    def failing(folder: Path, stage: object, apply_yaml: object) -> None:
        if folder.name.endswith("-payments"):
            raise OSError(28, "No space left on device")
        real(folder, stage, apply_yaml)  # type: ignore[arg-type]

    monkeypatch.setenv("AUTHN_MIGRATE_JOBS", "1")
    monkeypatch.setattr(planning, "write_stage_folder", failing)
    result = plan(workspace, out=tmp_path / "out")
    write_plan(result, tmp_path / "out")  # the staging is done here, with one job
    assert _tree(tmp_path / "out") == _tree(tmp_path / "plain")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plain"]


def test_a_refused_plan_leaves_no_staged_folder(tmp_path: Path) -> None:
    """Nothing is written for a refused plan: its staging folder is gone when it returns."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.yaml").write_text(NAIVE)
    refused = plan(open_workspace([str(tmp_path / "in")]), order=["mesh"], out=tmp_path / "out")
    assert refused.refused
    assert refused.staging is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
