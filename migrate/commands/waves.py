"""`plan --sync-waves`: the plan written into the repository for Argo CD, one sync wave per
stage, with the alpha policies kept until every replacement is in force.

Argo CD applies a sync wave only once the waves before it are synced and healthy, and prunes
a resource removed from git in the wave of its live object (wave 0 for an alpha policy that
never had the annotation), before the later waves apply ("Sync Phases and Waves",
https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/). Converting in place would
remove the alpha policies in the same commit, so Argo CD would delete them before their
replacements. Instead each new resource gets its stage's wave and each alpha policy stays,
annotated with the cleanup's wave and `PruneLast=true` ("Prune Last": pruned as a final,
implicit wave once every other resource is synced and healthy,
https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/#prune-last). The state this
commit leaves is the plan's last stage before the cleanup, proven like the others. Removing the
policies is a later commit (`convert --write` recognises their replacements and removes only
them); Argo CD reads the annotation from the live object, so that commit must come after this
one is synced.

Before (a stage-2 namespace)::

    kind: Policy
    metadata: {name: default, namespace: payments}

After::

    kind: Policy
    metadata:
      name: default
      namespace: payments
      annotations:
        argocd.argoproj.io/sync-wave: "5"              # the cleanup's wave
        argocd.argoproj.io/sync-options: PruneLast=true
    ---
    kind: PeerAuthentication
    metadata:
      name: default
      namespace: payments
      annotations:
        authn-migrate.io/converted-from: Policy payments/default
        argocd.argoproj.io/sync-wave: "2"
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from migrate.commands.plan import Plan
from migrate.convert.changes import plan_changes
from migrate.convert.model import NewResource
from migrate.findings import Finding
from migrate.rewrite.files import FileChange
from migrate.workspace import PolicyEntry, Workspace

WAVE = "argocd.argoproj.io/sync-wave"
OPTIONS = "argocd.argoproj.io/sync-options"
PRUNE_LAST = "PruneLast=true"

GUIDANCE = (
    "Argo CD: each new resource carries its stage as {wave}; the alpha policies stay in force, "
    "annotated with the cleanup's wave ({cleanup}) and {options}: {prune_last}. Sync this "
    "commit first. Then remove them in a commit of its own (`authn-migrate convert --write` "
    "recognises their replacements and removes only the policies): Argo CD prunes them after "
    "every other resource is synced and healthy. Argo CD prunes a resource removed from git in "
    "the wave of its live object, wave 0 for a policy never synced with these annotations, "
    "before the waves that apply its replacements: do not push both commits before a sync, or "
    "set {prune_last} in the Application's spec.syncPolicy.syncOptions"
)
FLUX_NOTE = (
    "Flux has no sync waves: a Kustomization applies what it builds at once and prunes what "
    "left the source in the same reconciliation. Give each stage folder of `plan --out` a "
    "Kustomization of its own, chained with dependsOn (applied only once the ones it depends "
    "on are Ready), and the cleanup the last one"
)


def sync_wave_changes(plan: Plan, workspace: Workspace) -> tuple[list[FileChange], list[Finding]]:
    """The file changes of `plan` as sync waves: each stage's new resources annotated with its
    number, each alpha policy the cleanup deletes kept beside them with the cleanup's number
    and `PruneLast=true`. Plans that were refused have no cleanup and change nothing."""
    if plan.refused or not plan.stages:
        return [], []
    cleanup = plan.stages[-1]
    for stage in plan.stages:
        for new in stage.apply:
            _annotate(new.data, {WAVE: str(stage.number)})
    kept = [_kept(entry, cleanup.number) for entry in cleanup.delete]
    conversion = replace(plan.conversion, resources=[*kept, *plan.conversion.resources])
    return plan_changes(workspace, conversion)


def guidance(plan: Plan) -> list[str]:
    """What to do with the waves written, for Argo CD and for Flux."""
    cleanup = plan.stages[-1].number if plan.stages else 0
    text = GUIDANCE.format(wave=WAVE, cleanup=cleanup, options=OPTIONS, prune_last=PRUNE_LAST)
    return [text, FLUX_NOTE]


def _kept(entry: PolicyEntry, wave: int) -> NewResource:
    """The alpha policy as it is, to be pruned last: in the cleanup's wave, `PruneLast`."""
    data = copy.deepcopy(entry.document.data)
    options = _annotations(data).get(OPTIONS)
    listed = [o.strip() for o in str(options).split(",")] if options else []
    if PRUNE_LAST not in listed:
        listed.append(PRUNE_LAST)
    _annotate(data, {WAVE: str(wave), OPTIONS: ",".join(listed)})
    # its commented fields keep their comments where they are
    return NewResource(data, entry, tuple((path, path) for path in _paths(data)))


def _annotate(data: dict[str, Any], values: dict[str, str]) -> None:
    _annotations(data).update(values)


def _annotations(data: dict[str, Any]) -> dict[str, Any]:
    metadata = data.setdefault("metadata", {})
    found = metadata.get("annotations")
    if isinstance(found, dict):
        return found
    annotations: dict[str, Any] = {}
    metadata["annotations"] = annotations
    return annotations


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key and item path of a document."""
    if isinstance(node, dict):
        items: list[tuple[str | int, Any]] = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return []
    found = []
    for key, value in items:
        found.append((*prefix, key))
        found += _paths(value, (*prefix, key))
    return found
