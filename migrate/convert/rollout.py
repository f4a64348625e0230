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
hand-written and says the same). The proof is not changed by this: it still compares the tree
as it is (alpha and beta) with the tree after (beta, and whatever new resources are written).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from migrate.convert.model import PROVENANCE, Conversion, NewResource
from migrate.findings import Finding, Severity
from migrate.model.beta import KINDS, BetaResource
from migrate.workspace import Workspace

Convert = Callable[[Workspace], Conversion]


def convert_mid_rollout(workspace: Workspace, convert: Convert) -> Conversion:
    """`convert` (a conversion of a workspace) applied so that beta resources already in the
    workspace that a conversion would make again are recognised as the replacements: their
    policies are converted (their documents removed) and only the resources not yet there are
    new. Without such resources, or when a new resource would take the name of one kept, the
    plain conversion."""
    refs = {e.ref for e in workspace.policies}
    candidates = [r for r in workspace.beta if _may_replace(r, refs)]
    while candidates:
        conversion = convert(_without(workspace, candidates))
        matched = _matches(conversion.resources, candidates)
        if len(matched) == len(candidates):
            return _recognised(conversion, matched) or convert(workspace)
        kept = {id(r) for r in matched.values()}
        candidates = [r for r in candidates if id(r) in kept]
    return convert(workspace)


def _may_replace(resource: BetaResource, refs: set[str]) -> bool:
    """A security resource that names no provenance, or an alpha policy of the inputs."""
    if resource.meta.kind not in KINDS:
        return False
    annotations = resource.meta.document.metadata.get("annotations")
    source = annotations.get(PROVENANCE) if isinstance(annotations, dict) else None
    return source is None or source in refs


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


def _recognised(conversion: Conversion, matched: dict[int, BetaResource]) -> Conversion | None:
    """The conversion without the resources already present, with a note per policy whose
    replacements are found; None when a resource still to write would take a kept one's name."""
    kept = {(r.meta.kind, r.meta.namespace, r.meta.name) for r in matched.values()}
    new = [r for r in conversion.resources if id(r) not in matched]
    if any(
        (r.data["kind"], r.data["metadata"]["namespace"], r.data["metadata"]["name"]) in kept
        for r in new
    ):
        return None
    notes = []
    for entry in conversion.converted:
        present = [
            matched[id(r)] for r in conversion.resources if r.source is entry and id(r) in matched
        ]
        if present:
            names = ", ".join(r.meta.ref for r in present)
            notes.append(
                Finding(
                    "AM412",
                    Severity.NOTE,
                    f"{entry.ref} is already replaced by {names} in the inputs: only the policy "
                    "is removed",
                    entry.document.origin.location,
                    resource=entry.ref,
                )
            )
    return replace(conversion, resources=new, findings=[*conversion.findings, *notes])
