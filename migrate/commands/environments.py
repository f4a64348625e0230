"""Each environment proven: what an environment applies is `kustomize build` of its overlay,
so each overlay is built with the real engine before the conversion and again on a copy of
the tree with the conversion's file changes, and the two builds are compared with the engine
of `verify`. An overlay that built before must build after, and be no looser.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.commands.verify import verify_workspaces
from migrate.findings import Finding, Location, Severity
from migrate.load.discover import Source, display_path
from migrate.load.documents import load_sources
from migrate.load.kustomize_build import Engine, build, find_engine
from migrate.load.overlays import find_overlays, unbuildable
from migrate.rewrite.files import FileChange
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import VerifyOptions, VerifyReport
from migrate.workspace import Workspace, WorkspaceOptions, workspace_of


@dataclass(slots=True)
class EnvironmentProof:
    """One overlay: the comparison of its builds, or why there is none."""

    overlay: str
    report: VerifyReport | None = None
    built_before: bool = True

    @property
    def looser(self) -> bool:
        """True when the build after the conversion allows a request the one before denied."""
        return self.report is not None and self.report.count(Change.LOOSER) > 0


@dataclass(slots=True)
class Environments:
    """Every overlay's proof, the engine that built them, and what kept one from a proof."""

    engine: str | None = None
    proofs: list[EnvironmentProof] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """True when an environment is looser after the conversion, was not proven, or does
        not build any more: nothing may be written."""
        return any(
            p.looser or (p.built_before and (p.report is None or not p.report.proven))
            for p in self.proofs
        ) or any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def looser(self) -> bool:
        """True when some environment is looser after the conversion."""
        return any(p.looser for p in self.proofs)


def overlays_of(workspace: Workspace, given: Sequence[str]) -> list[Path]:
    """The overlays to build: those given, else every overlay among the inputs."""
    if given:
        return [Path(d).resolve() for d in given]
    return find_overlays(workspace.loaded)


def prove_environments(
    workspace: Workspace,
    changes: list[FileChange],
    overlays: list[Path],
    options: VerifyOptions,
    workspace_options: WorkspaceOptions | None = None,
    *,
    engine: Engine | None = None,
) -> Environments:
    """Build each overlay before and after `changes` and compare the two builds."""
    result = Environments()
    if not overlays:
        return result
    engine = engine or find_engine()
    if engine is None:
        names = ", ".join(display_path(o) for o in overlays)
        result.findings.append(
            Finding(
                "AM020",
                Severity.NOTE,
                f"neither kustomize nor kubectl is on PATH: the overlays {names} are not built, "
                "their files are read as they are",
                Location(display_path(overlays[0])),
            )
        )
        return result
    result.engine = engine.name
    tree = tree_of(workspace, overlays)
    with tempfile.TemporaryDirectory(prefix="authn-migrate-") as scratch:
        copy = Path(scratch) / "tree"
        misplaced = _copy_with_changes(tree, copy, changes)
        if misplaced:
            result.findings.append(
                _not_built(
                    ", ".join(display_path(o) for o in overlays),
                    f"not built after the conversion: {misplaced} is reached through a link",
                    Severity.ERROR,
                )
            )
            return result
        for overlay in overlays:
            result.proofs.append(
                _prove(
                    engine,
                    overlay,
                    tree=tree,
                    copy=copy,
                    options=options,
                    workspace_options=workspace_options,
                    findings=result.findings,
                )
            )
    return result


def _prove(
    engine: Engine,
    overlay: Path,
    *,
    tree: Path,
    copy: Path,
    options: VerifyOptions,
    workspace_options: WorkspaceOptions | None,
    findings: list[Finding],
) -> EnvironmentProof:
    shown = display_path(overlay)
    proof = EnvironmentProof(shown)
    refused = unbuildable(overlay, tree)
    if refused is not None:
        findings.append(_not_built(shown, f"not built: {refused}", Severity.ERROR))
        return proof
    before = build(engine, overlay)
    if before.text is None:
        proof.built_before = False
        findings.append(
            _not_built(
                shown,
                f"does not build before the conversion ({before.error}): its environment is "
                "not proven",
                Severity.WARNING,
            )
        )
        return proof
    after = build(engine, copy / overlay.relative_to(tree))
    if after.text is None:
        findings.append(
            _not_built(
                shown,
                "would no longer build after the conversion: "
                + str(after.error).replace(str(copy), str(tree)),
                Severity.ERROR,
            )
        )
        return proof
    first = _built_workspace(f"{shown} (built before)", before.text, workspace_options)
    second = _built_workspace(f"{shown} (built after)", after.text, workspace_options)
    proof.report = verify_workspaces(first, second, options)
    proof.report.settle()
    return proof


def _built_workspace(display: str, text: str, options: WorkspaceOptions | None) -> Workspace:
    source = Source(display=display, path=None, content=text.encode("utf-8"))
    return workspace_of(load_sources([source]), options)


def tree_of(workspace: Workspace, overlays: list[Path]) -> Path:
    """The folder holding every input and overlay: what is copied to build after."""
    roots = [
        (f.source.root or f.source.path.parent).resolve()
        for f in workspace.loaded.files
        if f.source.path is not None
    ]
    every = [*roots, *overlays]
    return Path(os.path.commonpath(every)) if every else Path.cwd()


def _copy_with_changes(tree: Path, copy: Path, changes: list[FileChange]) -> str | None:
    """`tree` copied (links kept as links, `.git` left out), then `changes` made in the copy;
    the file a change would write through a link (out of the copy), if any, is not changed
    and is returned."""
    shutil.copytree(tree, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for change in changes:
        try:
            target = copy / change.path.resolve().relative_to(tree)
        except ValueError:
            continue  # outside the tree: no overlay reaches it (unbuildable says so)
        real, parent = copy.resolve(), target.parent.resolve()
        if target.is_symlink() or not (parent == real or real in parent.parents):
            return change.display
        if change.new is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(change.data())
    return None


def _not_built(overlay: str, message: str, severity: Severity) -> Finding:
    return Finding("AM020", severity, f"overlay {overlay} {message}", Location(overlay))
