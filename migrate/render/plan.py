"""Writing a plan: a folder per stage, PLAN.md for people and plan.json for machines."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from migrate.commands.plan import Plan, Stage, folder_name, write_stage_folder
from migrate.escape import code_span
from migrate.render.data import dump_json
from migrate.render.fold import fold
from migrate.render.verify import headline
from migrate.semantics.curl import request_text
from migrate.semantics.equivalence import Change

PREFLIGHT = """\
# Preflight: run before the first stage.
set -euo pipefail
# 1. The control plane must be Istio 1.5, the one release that runs both APIs.
istioctl version
# 2. Back up every v1alpha1 authentication object.
kubectl get policies.authentication.istio.io,meshpolicies.authentication.istio.io -A -o yaml \\
  > backup-v1alpha1.yaml
# 3. Dry-run every stage on the API server.
for stage in */apply.yaml; do kubectl apply --dry-run=server -f "$stage"; done
"""


def write_plan(plan: Plan, out: Path) -> None:
    """Stage folders (`apply.yaml`, `delete.sh`, `rollback.sh`), PLAN.md and plan.json. A
    stage's folder written beside the proofs (`plan(out=...)`) is moved into place when
    the stage is the one it was written for and `out` has no such folder yet."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "00-preflight").mkdir(exist_ok=True)
        (out / "00-preflight" / "preflight.sh").write_text(PREFLIGHT)
        for stage in plan.stages:
            folder = out / folder_name(stage)
            staged = plan.staged_folder(stage)
            if staged is not None and not folder.exists() and _moved(staged, folder):
                continue
            write_stage_folder(folder, stage, functools.partial(plan.apply_yaml, stage))
        (out / "PLAN.md").write_text(plan_markdown(plan))
        (out / "plan.json").write_text(dump_json(plan_data(plan)))
    finally:
        plan.discard_staging()


def _moved(staged: Path, folder: Path) -> bool:
    """Move a staged folder into place; False when it cannot be (written instead)."""
    try:
        staged.rename(folder)
    except OSError:
        return False
    return True


def plan_markdown(plan: Plan) -> str:
    """The plan for people: per stage what changes, the commands, what to watch, rollback."""
    lines = ["# Migration plan", ""]
    if plan.refused:
        return "\n".join([*lines, f"**Refused.** {code_span(plan.refused)}", ""])
    looser = [code_span(s.name) for s in plan.stages if s.looser]
    lines += [
        "Every stage below was proven no looser than the starting state under Istio "
        "1.5's mixed semantics (alpha and beta together)."
        if not looser
        else f"**Not proven.** The state after {', '.join(looser)} is looser than the start.",
        "",
    ]
    lines += [f"- {code_span(note)}" for note in plan.notes]
    lines += [
        "",
        "## 00 preflight",
        "",
        "Run `00-preflight/preflight.sh`: check the control "
        "plane is Istio 1.5, back up the alpha objects, dry-run every stage.",
        "",
    ]
    for stage in plan.stages:
        lines += _stage_markdown(stage)
    return "\n".join(lines) + "\n"


def _stage_markdown(stage: Stage) -> list[str]:
    folder = folder_name(stage)
    lines = [f"## {folder}", ""]
    if stage.apply:
        lines.append(
            f"Apply {len(stage.apply)} resource(s): `kubectl apply -f {folder}/apply.yaml`"
        )
        lines += [f"- {code_span(r.ref)}" for r in stage.apply]
    if stage.delete:
        lines.append(f"Delete {len(stage.delete)} alpha polic(ies): `sh {folder}/delete.sh`")
        lines += [f"- {code_span(e.ref)}" for e in stage.delete]
    if stage.report is not None:
        where = (
            f" in {code_span(stage.proven_in)} (the stage changes no other namespace; the "
            "others are as "
            "the stages before left them)"
            if stage.proven_in
            else ""
        )
        lines += ["", f"Enforcement against the start{where}: {headline(stage.report)}"]
        stricter = fold((c for c in stage.report.causes if c.change is Change.STRICTER), 5)
        lines += [
            f"- stricter: {code_span(request_text(e.cause.witness))} -> "
            f"{code_span(str(e.cause.after))}"
            + "".join(f"; {code_span(line)}" for line in e.variant_lines())
            for e in stricter
        ]
    if stage.notes:
        lines += ["", "Client conflicts this stage creates (fix before applying it):"]
        lines += [f"- {code_span(note)}" for note in stage.notes]
    lines += [
        "",
        "Watch: 401/403 rates of the affected workloads, `istioctl x describe pod "
        "<pod>` for the policies that apply, and the access log for `RBAC: access denied` "
        "and connection resets.",
        f"Rollback: `sh {folder}/rollback.sh`.",
        "",
    ]
    return lines


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan for machines (schemas/plan.schema.json)."""
    return {
        "version": 1,
        "proven": plan.proven,
        "refused": plan.refused or None,
        "notes": list(plan.notes),
        "stages": [
            {
                "number": s.number,
                "name": s.name,
                "folder": folder_name(s),
                "apply": [r.ref for r in s.apply],
                "delete": [e.ref for e in s.delete],
                "looser": s.looser,
                "stricter": s.report.count(Change.STRICTER) if s.report else 0,
                "proven_in": s.proven_in or None,
            }
            for s in plan.stages
        ],
    }
