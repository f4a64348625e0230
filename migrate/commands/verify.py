"""`verify`: prove that two configurations enforce the same, or show every request where not."""

from __future__ import annotations

from collections.abc import Sequence

from migrate.semantics.impact import affected_namespaces
from migrate.semantics.proof import (
    VerifyOptions,
    VerifyReport,
    merge_inventories,
    side_settings,
    verify_sides,
    with_facts,
    workspace_locations,
)
from migrate.semantics.side import Side
from migrate.workspace import Workspace, WorkspaceOptions, open_workspace


def verify_paths(
    before: Sequence[str],
    after: Sequence[str],
    workspace_options: WorkspaceOptions | None = None,
    options: VerifyOptions | None = None,
    *,
    stdin: bytes | None = None,
) -> VerifyReport:
    """Compare the configuration in `before` with the one in `after` (each may mix APIs)."""
    first = open_workspace(before, workspace_options, stdin=stdin)
    second = open_workspace(after, workspace_options, stdin=stdin)
    return verify_workspaces(first, second, options)


def verify_workspaces(
    first: Workspace, second: Workspace, options: VerifyOptions | None = None
) -> VerifyReport:
    """Compare the configuration read into `first` with the one read into `second`."""
    # what the inputs say of the Istio running them narrows what the command line left open
    options, facts = with_facts(options, [first.inventory, second.inventory])
    settings = side_settings(options, second.root_namespace)
    inventory = merge_inventories(first.inventory, second.inventory)
    # only the namespaces the change can reach are compared (everything after a mesh-wide one)
    scope = None if not options.incremental else affected_namespaces(first, second)
    report = verify_sides(
        Side.build(settings, first.alpha, first.beta),
        Side.build(settings, second.alpha, second.beta),
        inventory,
        options,
        findings=[*first.findings, *second.findings, *facts],
        namespaces=scope,
    )
    report.locations = workspace_locations(first, second)
    report.settle()
    return report


def verify_tree(
    paths: Sequence[str],
    workspace_options: WorkspaceOptions | None = None,
    options: VerifyOptions | None = None,
    *,
    stdin: bytes | None = None,
) -> VerifyReport:
    """Compare the alpha policies of one tree with its beta resources (mid-migration)."""
    workspace = open_workspace(paths, workspace_options, stdin=stdin)
    options, facts = with_facts(options, [workspace.inventory])
    settings = side_settings(options, workspace.root_namespace)
    report = verify_sides(
        Side.build(settings, workspace.alpha, []),
        Side.build(settings, [], workspace.beta),
        workspace.inventory,
        options,
        findings=[*workspace.findings, *facts],
    )
    report.locations = workspace_locations(workspace)
    report.settle()
    return report


__all__ = ["verify_paths", "verify_tree", "verify_workspaces"]
