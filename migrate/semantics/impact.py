"""What a change between two trees can affect: the namespaces whose destinations it may decide
differently, so that a proof can leave the rest of the mesh alone.

A resource decides only destinations in its own namespace (§A.5, §B.1), except a MeshPolicy and
anything in the root namespace, which reach every namespace. A Service or workload places only
destinations of its own namespace. So the namespaces of the resources that differ between the
trees are all a change can affect, unless one of them is mesh-wide: then it is everything.

    base: Policy shop/default STRICT          head: PeerAuthentication shop/default STRICT
        ->  {"shop"}: only shop's destinations are compared
    head also changes MeshPolicy default      ->  every namespace
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from migrate.model.inventory import Inventory, data_key
from migrate.model.releases import Release
from migrate.semantics.side import Side
from migrate.semantics.worlds import World
from migrate.workspace import Workspace


def affected_namespaces(before: Workspace, after: Workspace) -> set[str] | None:
    """The namespaces a change from `before` to `after` can affect, or None when it reaches
    every namespace (a mesh-wide or root-namespace resource, or another root namespace)."""
    root = after.root_namespace
    if before.root_namespace != root or before.inventory.mesh != after.inventory.mesh:
        return None
    old, new = dict(_definitions(before)), dict(_definitions(after))
    found: set[str] = set()
    for key in old.keys() | new.keys():
        if old.get(key) == new.get(key):
            continue
        kind, namespace, _ = key
        if kind == "MeshPolicy" or not namespace or namespace == root:
            return None
        found.add(namespace)
    return found


def across_upgrades(
    scope: set[str] | None, pairs: Sequence[World], sides: Sequence[Side], root: str
) -> set[str] | None:
    """`scope` widened for the worlds in which the old configuration runs on one release and
    the new on a later one: there a resource both sides hold unchanged may decide otherwise
    (1.6 drops v1alpha1, 1.4.4 stops matching trigger rules against the query, 1.5.1
    discovers the keys of a jwtRule that has none), so its namespace is compared too; and
    after 1.4 even a namespace without any policy changes (no policy is plaintext-only on
    1.4, PERMISSIVE from 1.5), as does everything after a mesh-wide resource moves."""
    if scope is None:
        return None
    upgrades = [w for w in pairs if w.before != w.after]
    if any(w.before.beta != w.after.beta for w in upgrades):
        return None
    alpha_moves = any(_alpha_flags(w.before) != _alpha_flags(w.after) for w in upgrades)
    beta_moves = any(_beta_flags(w.before) != _beta_flags(w.after) for w in upgrades)
    widened = set(scope)
    for side in sides:
        namespaces = [p.namespace for p in side.alpha] if alpha_moves else []
        if alpha_moves and any(p.kind == "MeshPolicy" for p in side.alpha):
            return None
        namespaces += [r.meta.namespace for r in side.beta] if beta_moves else []
        if any(not n or n == root for n in namespaces):
            return None
        widened.update(namespaces)
    return widened


def _alpha_flags(release: Release) -> tuple[bool, ...]:
    return (release.alpha, release.port_precedence, release.cors_bypass, release.strip_query)


def _beta_flags(release: Release) -> tuple[bool, ...]:
    return (release.beta, release.beta_discovery)


def _definitions(workspace: Workspace) -> Iterator[tuple[tuple[str, str, str], tuple[str, ...]]]:
    """Every definition the proof reads, by kind, namespace and name: what each says (several
    when one object is defined more than once)."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for entry in workspace.policies:
        if entry.policy is not None and not entry.superseded:
            key = (entry.document.kind, entry.namespace, entry.document.name)
            grouped.setdefault(key, []).append(data_key(entry.document.data))
    for resource in workspace.beta:
        meta = resource.meta
        grouped.setdefault((meta.kind, meta.namespace, meta.name), []).append(
            data_key(meta.document.data)
        )
    inventory = workspace.inventory
    for (namespace, name), service in inventory.services.items():
        grouped.setdefault(("Service", namespace, name), []).append(
            data_key((service.selector, service.ports, service.creation_timestamp))
        )
    for workload in inventory.workloads:
        grouped.setdefault((workload.kind, workload.namespace, workload.name), []).append(
            data_key((workload.labels, workload.ports))
        )
    for group in inventory.ambiguous:
        grouped.setdefault(group.identity, []).append(f"open: {len(group.candidates)}")
    for key, values in grouped.items():
        yield key, tuple(sorted(values))


def scope_note(scope: set[str] | None, inventory: Inventory, root: str) -> list[str]:
    """What a report says about the namespaces it left alone."""
    if scope is None:
        return []
    every = inventory.all_namespaces | {root}
    shown = ", ".join(sorted(scope)) or "none"
    return [
        f"compared the namespaces the change can affect ({shown}); "
        f"{len(every - scope)} other namespace(s) hold no changed resource and were not compared"
    ]
