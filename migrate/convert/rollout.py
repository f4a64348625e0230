"""Converting a tree in the middle of a rollout: the beta resources of an earlier conversion (or
of a `plan` stage) already sit beside the alpha policies they replace, so the conversion only
removes those policies instead of writing the resources a second time under `-2` names.

Before (one file each, both committed)::

    kind: Policy                          kind: PeerAuthentication
    metadata: {name: default,             metadata:
               namespace: shop}             name: default
    spec:                                   namespace: shop
      peers: [{mtls: {}}]                   annotations:
                                              authn-migrate.io/converted-from: Policy shop/default
                                          spec: {mtls: {mode: STRICT}}

After: the Policy's document is deleted; the PeerAuthentication stays as it is.

A beta resource replaces a policy when converting the tree without it makes a resource of the
same kind, namespace and spec (it says it came from an alpha policy of the inputs, or it is
hand-written and says the same) and every resource that conversion makes for the policy is
found. The other policies are converted with the tree as it is in view, replacements included
(a namespace's replacement PeerAuthentication also overrides its other policies' mTLS). The
proof is not changed by this: it still compares the tree as it is (alpha and beta) with the
tree after (beta, and whatever new resources are written).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from migrate.convert.model import Conversion, NewResource, identity
from migrate.findings import Finding, Severity
from migrate.model.beta import KINDS, BetaResource
from migrate.workspace import PolicyEntry, Workspace

Convert = Callable[[Workspace], Conversion]


def convert_mid_rollout(workspace: Workspace, convert: Convert) -> Conversion:
    """`convert` (a conversion of a workspace) of the workspace as it is, except for the
    policies whose replacements it already holds: those are removed with nothing new in their
    place (AM412), where `convert` would add copies of the replacements (`-2`) or leave the
    policy as it is because the replacements already override it (AM401).

    A policy's replacements are the resources that converting the workspace without them
    makes for it, every one found word for word (kind, namespace, spec) in the workspace.
    The rest of the conversion is `convert`'s own, made with every resource of the workspace
    in view (a replacement also overrides other policies' mTLS, for one)."""
    full = convert(workspace)
    refs = {e.ref for e in workspace.policies}
    candidates = [r for r in workspace.beta if _may_replace(r, refs)]
    while candidates:
        trial = convert(_without(workspace, candidates))
        matched = _matches(trial.resources, candidates)
        if len(matched) == len(candidates):
            return _recognised(full, trial, matched)
        kept = {id(r) for r in matched.values()}
        candidates = [r for r in candidates if id(r) in kept]
    return full


def _may_replace(resource: BetaResource, refs: set[str]) -> bool:
    """A security resource that names no provenance, or only alpha policies of the inputs."""
    named = resource.meta.converted_from
    return resource.meta.kind in KINDS and all(n in refs for n in named)


def _without(workspace: Workspace, resources: list[BetaResource]) -> Workspace:
    gone = {id(r) for r in resources}
    return replace(workspace, beta=[r for r in workspace.beta if id(r) not in gone])


def _matches(made: list[NewResource], present: list[BetaResource]) -> dict[int, BetaResource]:
    """Each new resource that a resource present says word for word (kind, namespace and
    spec), by the new resource's id; each present resource matches at most one."""
    free: dict[tuple[str, str, str], list[BetaResource]] = {}
    for resource in present:
        spec = resource.meta.document.data.get("spec")
        free.setdefault(_key(resource.meta.kind, resource.meta.namespace, spec), []).append(
            resource
        )
    found: dict[int, BetaResource] = {}
    for new in made:
        data = new.data
        same = free.get(_key(data["kind"], data["metadata"]["namespace"], data.get("spec")))
        if same:
            found[id(new)] = same.pop(0)
    return found


def _key(kind: str, namespace: str, spec: Any) -> tuple[str, str, str]:
    """Kind, namespace and spec as the API server stores them (JSON: integer keys as text)."""
    return kind, namespace, json.dumps(json.loads(json.dumps(spec)), sort_keys=True)


def _recognised(
    full: Conversion, trial: Conversion, matched: dict[int, BetaResource]
) -> Conversion:
    """`full` with each policy whose every resource in `trial` is `matched` removed and its
    resources (copies of what is there) left out, with a note naming its replacements. Only
    policies `full` converts, or leaves because something already overrides them (AM401),
    are taken: one it could not convert stays as it is."""
    made: dict[int, tuple[PolicyEntry, list[NewResource]]] = {}
    for new in trial.resources:
        made.setdefault(id(new.source), (new.source, []))[1].append(new)
    replaced = {
        key: (entry, [matched[id(n)] for n in news])
        for key, (entry, news) in made.items()
        if all(id(n) in matched for n in news)
    }
    converted = {id(e) for e in full.converted}
    taken = {
        key: value
        for key, value in replaced.items()
        if key in converted or _left_overridden(full, value[0])
    }
    if not taken:
        return full
    refs = {entry.ref for entry, _ in taken.values()}
    added = [entry for key, (entry, _) in taken.items() if key not in converted]
    shadowed = {identity(e) for e in added}
    return Conversion(
        resources=[r for r in full.resources if id(r.source) not in taken],
        converted=[*full.converted, *added],
        findings=[
            *(f for f in full.findings if not (f.code == "AM401" and f.resource in refs)),
            *(_note(entry, found) for entry, found in taken.values()),
        ],
        removed=[
            *full.removed,
            *(e for e in trial.removed if identity(e) in shadowed and e not in full.removed),
        ],
    )


def _left_overridden(full: Conversion, entry: PolicyEntry) -> bool:
    """True when `full` leaves the policy only because it has no effect (AM401)."""
    refusals = {f.code for f in full.findings if f.resource == entry.ref} & {"AM401", "AM402"}
    return refusals == {"AM401"}


def _note(entry: PolicyEntry, found: list[BetaResource]) -> Finding:
    """AM412: the policy's replacements are already there."""
    names = ", ".join(r.meta.ref for r in found)
    why = f"{entry.ref} is already replaced by {names} in the inputs: only the policy is removed"
    where = entry.document.origin.location
    return Finding("AM412", Severity.NOTE, why, where, resource=entry.ref)
