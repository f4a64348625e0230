"""`verify`: prove that two configurations enforce the same, or show every request where not."""

from __future__ import annotations

from collections.abc import Sequence

from migrate.semantics.proof import (
    VerifyOptions,
    VerifyReport,
    merge_inventories,
    verify_sides,
    workspace_locations,
)
from migrate.semantics.side import Settings, Side
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
    settings = _settings(options, second)
    report = verify_sides(
        Side.build(settings, first.alpha, first.beta),
        Side.build(settings, second.alpha, second.beta),
        merge_inventories(first.inventory, second.inventory),
        options,
        findings=[*first.findings, *second.findings],
    )
    report.locations = workspace_locations(first, second)
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
    settings = _settings(options, workspace)
    report = verify_sides(
        Side.build(settings, workspace.alpha, []),
        Side.build(settings, [], workspace.beta),
        workspace.inventory,
        options,
        findings=list(workspace.findings),
    )
    report.locations = workspace_locations(workspace)
    return report


def _settings(options: VerifyOptions | None, workspace: Workspace) -> Settings:
    version = options.version if options else VerifyOptions().version
    return Settings(version=version, root_namespace=workspace.root_namespace)


__all__ = ["verify_paths", "verify_tree"]
