"""`review`: what a migration pull request changes in enforcement, paired the way a reviewer
reads it — each removed alpha policy with the beta resources that replace it."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrate.commands.fields import ResourceEdit, resource_edits
from migrate.exitcodes import ExitCode, exit_code
from migrate.findings import Finding, Location, Severity, has_errors, sort_findings
from migrate.load.documents import load_found
from migrate.load.gitread import sources_at
from migrate.model.alpha import AlphaPolicy, Scope
from migrate.model.beta import PROVENANCE, BetaResource, PeerAuthentication
from migrate.model.inventory import Inventory, Workload
from migrate.parallel import meanwhile
from migrate.semantics.equivalence import Change
from migrate.semantics.impact import affected_namespaces
from migrate.semantics.proof import (
    VerifyOptions,
    VerifyReport,
    difference_findings,
    merge_inventories,
    side_settings,
    verify_sides,
    with_facts,
)
from migrate.semantics.side import Side
from migrate.semantics.tls import rules_moved, tls_regressions
from migrate.workspace import (
    PolicyEntry,
    Workspace,
    WorkspaceOptions,
    check_document,
    open_workspace,
    workspace_of,
)


class FailOn(enum.Enum):
    """What makes `review` fail a CI job."""

    LOOSER = "looser"
    STRICTER = "stricter"
    ANY = "any"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class Pairing:
    """A removed alpha policy and the added beta resources that replace it (`how`: by the
    provenance annotation, by scope and selector, or not found)."""

    removed: PolicyEntry
    added: tuple[str, ...]
    how: str


@dataclass(slots=True)
class ReviewReport:
    """The review of base against head."""

    base: str
    verify: VerifyReport
    pairings: list[Pairing]
    namespaces: dict[str, dict[str, list[str]]]
    findings: list[Finding]
    locations: dict[str, Location] = field(default_factory=dict)
    """Where each resource is written: in the work tree, else at the base revision."""
    base_only: set[str] = field(default_factory=set)
    """Resources that exist only at the base revision (their locations are there)."""
    edits: list[ResourceEdit] = field(default_factory=list)
    """Resources both revisions define, with what changed in each, field by field."""

    def difference_findings(self) -> list[Finding]:
        """One finding per cause, at the resource that decided the new outcome."""
        return difference_findings(self.verify, self.locations)

    def all_findings(self) -> list[Finding]:
        """Findings about the inputs and the new resources, then one per difference."""
        return sort_findings([*self.findings, *self.verify.findings, *self.difference_findings()])

    def exit_code(self, fail_on: FailOn = FailOn.LOOSER) -> ExitCode:
        """Shared with verify: 3 looser, 2 on errors, 1 stricter (`exit_code`); `fail_on`
        chooses which differences fail (never: only errors)."""
        unproven = not self.verify.proven or has_errors(self.findings)
        if fail_on is FailOn.NEVER:
            return exit_code(unproven=unproven)
        stricter = self.verify.count(Change.STRICTER) > 0
        others = self.verify.count(Change.STATUS_ONLY) + self.verify.count(Change.COMPATIBLE) > 0
        return exit_code(
            looser=self.verify.count(Change.LOOSER) > 0,
            unproven=unproven,
            found=(fail_on in (FailOn.STRICTER, FailOn.ANY) and stricter)
            or (fail_on is FailOn.ANY and others),
        )


def review(
    base: str,
    paths: Sequence[str],
    workspace_options: WorkspaceOptions | None = None,
    options: VerifyOptions | None = None,
    *,
    cwd: Path | None = None,
) -> ReviewReport:
    """Compare `paths` at git revision `base` with the work tree."""
    head = open_workspace(list(paths) or ["."], workspace_options)
    # a file the change left alone is the work tree's, not parsed a second time
    base_files = load_found(
        sources_at(base, list(paths), cwd=cwd), check=check_document, known=head.loaded
    )
    before = workspace_of(base_files, workspace_options)
    # the base revision is trusted, the head under review is not: only the base's facts
    # (an IstioOperator, istiod's image) narrow the releases and sniffing considered
    options, facts = with_facts(options, [before.inventory])
    settings = side_settings(options, head.root_namespace)
    inventory = merge_inventories(before.inventory, head.inventory)
    # only the namespaces the change can reach are compared (everything after a mesh-wide one)
    scope = None if not options.incremental else affected_namespaces(before, head)
    # a server's mode depends on its namespace's resources (and the mesh's and root's, which
    # widen `scope` to None); a client's rules may name any host, so moving one compares all
    tls_scope = None if scope is None or rules_moved(before, head) else scope
    # the client check needs nothing of the proof: done while the proof's workers compare
    with meanwhile(lambda: tls_regressions(before, head, namespaces=tls_scope)) as clients:
        report = verify_sides(
            Side.build(settings, before.alpha, before.beta),
            Side.build(settings, head.alpha, head.beta),
            inventory,
            options,
            findings=[*_input_errors(before, head), *facts],
            namespaces=scope,
        )
    report.settle()
    removed = _removed(before, head)
    added = _added(before, head)
    pairings = _pairings(removed, added, head.root_namespace)
    for pairing in pairings:  # the summary lists each cause under the policy it replaces
        for ref in pairing.added:
            report.origins.setdefault(ref, (pairing.removed.ref,))
    findings = _new_resource_findings(added, head, inventory, pairings)
    findings += clients.result()
    head_refs = {e.ref for e in head.policies} | {r.meta.ref for r in head.beta}
    base_refs = {e.ref for e in before.policies} | {r.meta.ref for r in before.beta}
    return ReviewReport(
        base,
        report,
        pairings,
        _by_namespace(removed, added),
        findings,
        _locations(before, head),
        base_refs - head_refs,
        resource_edits(_documents(before), _documents(head)),
    )


def _documents(workspace: Workspace) -> dict[str, Any]:
    """Every policy and beta resource by `Kind namespace/name`, as written."""
    found: dict[str, Any] = {e.ref: e.document.data for e in workspace.policies}
    found.update({r.meta.ref: r.meta.document.data for r in workspace.beta})
    return found


def _input_errors(before: Workspace, head: Workspace) -> list[Finding]:
    return [f for f in head.findings if f.severity is Severity.ERROR] + [
        f for f in before.findings if f.severity is Severity.ERROR
    ]


def _removed(before: Workspace, head: Workspace) -> list[PolicyEntry]:
    kept = {e.ref for e in head.policies}
    return [e for e in before.policies if e.ref not in kept]


def _added(before: Workspace, head: Workspace) -> list[BetaResource]:
    old = {r.meta.ref: r.meta.document.data for r in before.beta}
    return [r for r in head.beta if old.get(r.meta.ref) != r.meta.document.data]


def _pairings(removed: list[PolicyEntry], added: list[BetaResource], root: str) -> list[Pairing]:
    """Each removed policy with the new resources that replace it: by provenance annotation,
    else by scope (indexed once: a large migration removes thousands and adds thousands)."""
    by_origin: dict[str, list[str]] = defaultdict(list)
    by_namespace: dict[str, list[BetaResource]] = defaultdict(list)
    for resource in added:
        annotations = resource.meta.document.metadata.get("annotations") or {}
        origins = annotations.get(PROVENANCE, "") if isinstance(annotations, dict) else ""
        for origin in str(origins).split(", "):
            by_origin[origin].append(resource.meta.ref)
        by_namespace[resource.meta.namespace].append(resource)
    return [_pair(entry, by_origin, by_namespace, root) for entry in removed]


def _pair(
    entry: PolicyEntry,
    by_origin: dict[str, list[str]],
    by_namespace: dict[str, list[BetaResource]],
    root: str,
) -> Pairing:
    by_annotation = tuple(by_origin.get(entry.ref, ()))
    if by_annotation:
        return Pairing(entry, by_annotation, "annotation")
    policy = entry.policy
    if policy is None:
        return Pairing(entry, (), "")
    namespace = root if policy.scope is Scope.MESH else policy.namespace
    by_scope = tuple(
        r.meta.ref
        for r in by_namespace.get(namespace, ())
        if (policy.scope is not Scope.SERVICE and not r.meta.selector)
        or (policy.scope is Scope.SERVICE and bool(r.meta.selector))
    )
    return Pairing(entry, by_scope, "scope" if by_scope else "")


def _by_namespace(
    removed: list[PolicyEntry], added: list[BetaResource]
) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"removed": [], "added": []})
    for entry in removed:
        found[entry.namespace or "(mesh)"]["removed"].append(entry.ref)
    for resource in added:
        found[resource.meta.namespace]["added"].append(resource.meta.ref)
    return {k: found[k] for k in sorted(found)}


def _locations(before: Workspace, head: Workspace) -> dict[str, Location]:
    found = {e.ref: e.document.origin.location for e in before.policies}
    found.update({r.meta.ref: r.meta.location for r in before.beta})
    found.update({e.ref: e.document.origin.location for e in head.policies})
    found.update({r.meta.ref: r.meta.location for r in head.beta})
    return found


def _new_resource_findings(
    added: list[BetaResource],
    head: Workspace,
    inventory: Inventory,
    pairings: list[Pairing],
) -> list[Finding]:
    refs = {r.meta.ref for r in added}
    found = [f for f in head.findings if f.resource in refs and f.severity is not Severity.NOTE]
    found += _collisions(head)
    found += _root_namespace_quirks(added, head.root_namespace)
    found += _wider_scopes(pairings, added, inventory, head.root_namespace)
    return found


def _collisions(head: Workspace) -> list[Finding]:
    seen: dict[str, BetaResource] = {}
    found = []
    for resource in head.beta:
        first = seen.setdefault(resource.meta.ref, resource)
        if first is not resource:
            found.append(
                Finding(
                    "AM511",
                    Severity.ERROR,
                    f"{resource.meta.ref} is defined twice; the later definition "
                    "replaces the earlier",
                    resource.meta.location,
                    resource=resource.meta.ref,
                    related=(first.meta.location,),
                )
            )
    return found


def _root_namespace_quirks(added: list[BetaResource], root: str) -> list[Finding]:
    found = []
    for resource in added:
        meta = resource.meta
        if meta.namespace != root:
            continue
        if isinstance(resource, PeerAuthentication) and meta.selector:
            found.append(
                Finding(
                    "AM512",
                    Severity.ERROR,
                    f"{meta.ref} has a selector in the root namespace {root!r}: Istio ignores it",
                    meta.location,
                    resource=meta.ref,
                )
            )
        elif not isinstance(resource, PeerAuthentication):
            reach = "matching pods of every namespace" if meta.selector else "every workload"
            found.append(
                Finding(
                    "AM513",
                    Severity.NOTE,
                    f"{meta.ref} is in the root namespace {root!r}: it applies to {reach}",
                    meta.location,
                    resource=meta.ref,
                )
            )
    return found


def _wider_scopes(
    pairings: list[Pairing], added: list[BetaResource], inventory: Inventory, root: str
) -> list[Finding]:
    by_ref = {r.meta.ref: r for r in added}
    found = []
    for pairing in pairings:
        policy = pairing.removed.policy
        if policy is None:
            continue
        before = {w.ref for w in _alpha_reach(policy, inventory)}
        for ref in pairing.added:
            resource = by_ref[ref]
            extra = sorted({w.ref for w in _beta_reach(resource, inventory, root)} - before)
            if extra:
                found.append(
                    Finding(
                        "AM514",
                        Severity.WARNING,
                        f"{ref} reaches workloads {pairing.removed.ref} did not: "
                        + ", ".join(extra[:5])
                        + (f" and {len(extra) - 5} more" if len(extra) > 5 else ""),
                        resource.meta.location,
                        resource=ref,
                    )
                )
    return found


def _alpha_reach(policy: AlphaPolicy, inventory: Inventory) -> list[Workload]:
    if policy.scope is Scope.MESH:
        return list(inventory.workloads)
    if policy.scope is Scope.NAMESPACE:
        return inventory.workloads_in(policy.namespace)
    found: list[Workload] = []
    for target in policy.targets:
        service = inventory.service(policy.namespace, target.name)
        if service is not None and service.selector:
            found += inventory.selected(policy.namespace, service.selector)
    return found


def _beta_reach(resource: BetaResource, inventory: Inventory, root: str) -> list[Workload]:
    meta = resource.meta
    namespace = None if meta.namespace == root else meta.namespace
    workloads = inventory.workloads_in(namespace)
    return [
        w for w in workloads if all(w.labels.get(k) == v for k, v in (meta.selector or {}).items())
    ]
