"""The `convert` job as a library call: convert, prove, plan the file changes.

When the conversion as a whole cannot be written (a conversion is looser, or a file cannot be
rewritten), the part that can is: the plan engine's per-namespace stages, each replacing its
alpha policies, in its order (`migrate.commands.plan.proven_stages`), and the state they leave
together, with every policy left in force (Istio 1.5 runs both APIs, docs/semantics.md §C),
proven once more as a whole against the start."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.commands.environments import (
    Environments,
    overlays_of,
    prove_environments,
    tree_of,
)
from migrate.commands.plan import proven_stages, stage_of
from migrate.convert.changes import start_changes
from migrate.convert.model import Conversion, ConvertOptions
from migrate.convert.overlay_patches import (
    PatchPlan,
    plan_translations,
    translation_changes,
)
from migrate.convert.prove import proof, states
from migrate.convert.rollout import convert_mid_rollout
from migrate.convert.run import convert_workspace
from migrate.exitcodes import ExitCode, exit_code
from migrate.findings import Finding, Severity, has_errors, sort_findings
from migrate.load.kustomize_build import Engine, find_engine
from migrate.parallel import meanwhile
from migrate.rewrite.files import FileChange
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import VerifyOptions, VerifyReport, with_facts
from migrate.semantics.tls import tls_regressions
from migrate.workspace import PolicyEntry, Workspace, WorkspaceOptions, open_workspace

LEFT_CODES = ("AM401", "AM402", "AM411", "AM413")
"""Findings that say why a policy was left as it is."""


@dataclass(slots=True)
class ConvertResult:
    """A conversion, its proof, and the file changes it would make."""

    workspace: Workspace
    conversion: Conversion
    """What is written: every conversion, or the part proven when the whole cannot be."""
    report: VerifyReport
    """The proof of the state `conversion` leaves, with every policy left in force."""
    changes: list[FileChange]
    findings: list[Finding] = field(default_factory=list)
    whole: VerifyReport | None = None
    """When only part is written: the proof of converting every policy, whose looser causes
    are why the rest was left (AM411)."""
    environments: Environments = field(default_factory=Environments)
    """Each overlay built with kustomize before and after the changes, and compared."""

    @property
    def blocked(self) -> bool:
        """True when nothing may be written: a looser difference not accepted, no proof, or a
        file of the proven result that cannot be rewritten (writing the others would leave a
        state that was never proven)."""
        proof_failed = any(f.blocks_proof for f in self.report.findings)
        conversion = self.conversion
        mine = {e.document.origin.path for e in [*conversion.converted, *conversion.removed]}
        unwritable = any(
            f.severity is Severity.ERROR and f.code == "AM410" and f.location.path in mine
            for f in self.findings
        )
        return (
            proof_failed
            or unwritable
            or self.report.count(Change.LOOSER) > 0
            or self.environments.blocked
        )

    @property
    def proven(self) -> bool:
        """True when the state the changes leave was compared in full and is not looser than
        the start (policies left as they are stay in force in it)."""
        return self.report.proven and self.report.count(Change.LOOSER) == 0

    @property
    def left(self) -> dict[str, str]:
        """Every policy left as it is, by reference, with the code saying why."""
        return {
            f.resource: f.code
            for f in sort_findings(self.report.findings)
            if f.code in LEFT_CODES and f.resource
        }

    def exit_code(self, *, check: bool = False) -> ExitCode:
        """3 if converting every policy would be looser (even when the rest is written), 2 on
        input errors, refused policies or files that cannot be rewritten, 1 with --check when
        files would change, else 0 (`exit_code`)."""
        whole = self.whole or self.report
        environments = self.environments
        return exit_code(
            looser=whole.count(Change.LOOSER) > 0 or environments.looser,
            unproven=not self.report.proven
            or has_errors(self.report.findings)
            or has_errors(self.findings)
            or (environments.blocked and not environments.looser),
            found=check and bool(self.changes),
        )


def convert_paths(
    paths: Sequence[str],
    workspace_options: WorkspaceOptions | None = None,
    options: ConvertOptions | None = None,
    verify_options: VerifyOptions | None = None,
    *,
    stdin: bytes | None = None,
    split: bool = False,
    all_or_nothing: bool = False,
    overlays: Sequence[str] = (),
    rewrite: bool = True,
) -> ConvertResult:
    """Convert every alpha policy under `paths`, prove the result, and plan the rewrite
    (`split`: new resources in files of their own). When the whole cannot be written, the
    part proven not looser is, the rest left with the reason (AM411); `all_or_nothing`: then
    nothing is. Each overlay (`overlays`, else those among the inputs) is built with the
    real kustomize before and after the changes, and the two builds compared: an
    environment looser, not proven or no longer building keeps everything from being
    written. `rewrite=False`: only the new resources are wanted (`-o yaml`), so a file
    that cannot be rewritten in place (AM410) holds nothing back."""
    workspace = open_workspace(paths, workspace_options, stdin=stdin)
    # the Istio the result must hold on: given, else what the repository says, else every
    # release and sniffing setting; the conversion and its proof assume the same
    verify_options, facts = with_facts(verify_options, [workspace.inventory])
    # what could not be read, parsed or validated: shown, and exit 2 (README, exit codes)
    problems = [f for f in workspace.findings if f.severity is not Severity.NOTE]
    shown = [*problems, *facts]
    directories = overlays_of(workspace, overlays)
    engine = find_engine() if directories or workspace.patches.patches else None
    tree = tree_of(workspace, directories)
    environment = verify_options.environment
    patched = {e.ref: None for e in workspace.policies if workspace.patches_of(e)}
    plan = PatchPlan()
    if patched:  # the policies overlays patch, converted with their patches translated
        everything = convert_mid_rollout(
            workspace,
            lambda tree: convert_workspace(tree, options, environment, translated=patched),
        )
        plan = plan_translations(
            workspace,
            everything,
            engine=engine,
            tree=tree,
            options=options or ConvertOptions(),
            environment=environment,
            workspace_options=workspace_options,
        )
    attempt = _Attempt(
        workspace, workspace_options, verify_options, shown, split, all_or_nothing, rewrite
    )
    result = attempt.run(options, plan, engine, directories)
    if result.environments.blocked and plan.translations:
        # a translation that an environment does not prove is not written: those policies
        # are left as they are, and the rest proven again
        why = "with them, an environment is not proven (AM020 or a looser build)"
        plan = PatchPlan(refused={**plan.refused, **dict.fromkeys(plan.translations, why)})
        result = attempt.run(options, plan, engine, directories)
    return result


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One conversion of the workspace, its proof, its file changes and each environment."""

    workspace: Workspace
    workspace_options: WorkspaceOptions | None
    verify_options: VerifyOptions
    shown: list[Finding]
    split: bool
    all_or_nothing: bool
    rewrite: bool

    def run(
        self,
        options: ConvertOptions | None,
        plan: PatchPlan,
        engine: Engine | None,
        overlays: list[Path],
    ) -> ConvertResult:
        workspace, verify_options = self.workspace, self.verify_options
        translated: dict[str, str | None] = {
            **dict.fromkeys(plan.translations),
            **plan.refused,
        }
        # a tree mid-rollout: beta resources already committed beside the policies they
        # replace are recognised, so only those policies are removed (the proof still starts
        # from both)
        environment = verify_options.environment
        conversion = convert_mid_rollout(
            workspace,
            lambda tree: convert_workspace(tree, options, environment, translated=translated),
        )
        result = _proven(workspace, conversion, verify_options, self.shown, split=self.split)
        if not self.rewrite:
            result.findings = [f for f in result.findings if f.code != "AM410"]
        if not (
            self.all_or_nothing
            or not result.blocked
            or any(f.blocks_proof for f in result.report.findings)
        ):
            result = _part(result, verify_options, self.shown, split=self.split)
        result.changes, problems = translation_changes(
            workspace, plan, result.conversion.converted, result.changes
        )
        result.findings += problems
        result.environments = prove_environments(
            workspace,
            result.changes,
            overlays,
            verify_options,
            self.workspace_options,
            engine=engine,
        )
        return result


def _proven(
    workspace: Workspace,
    conversion: Conversion,
    options: VerifyOptions,
    shown: list[Finding],
    *,
    split: bool,
) -> ConvertResult:
    """The conversion, the proof of the state it leaves, and its file changes."""
    # the files are rewritten in a process of their own while this one proves
    file_changes = start_changes(workspace, conversion, split=split)
    before, after = states(workspace, conversion, options)

    # client/server pairs the conversion turns from OK to CONFLICT (§E): they need nothing
    # of the proof, so this process finds them while the proof's workers compare classes
    clients = functools.partial(
        tls_regressions, workspace, workspace, before_side=before, after_side=after
    )
    with meanwhile(clients) as beside:
        report = proof(before, after, workspace, conversion, options)
    report.findings = sort_findings(list(dict.fromkeys([*shown, *report.findings])))
    changes, findings = file_changes()
    findings += beside.result()
    return ConvertResult(workspace, conversion, report, changes, findings)


def _part(
    whole: ConvertResult, options: VerifyOptions, shown: list[Finding], *, split: bool
) -> ConvertResult:
    """The largest part of the conversion proven writable, stage by stage as `plan` proves
    them (a namespace's stage goes whole or not at all; the mesh-wide one once nothing it
    would override stays alpha), then proven again as one state. Its result, or the whole
    (which writes nothing) if that last proof fails."""
    conversion = whole.conversion
    unwritable = {
        f.location.path: f
        for f in whole.findings
        if f.code == "AM410" and f.severity is Severity.ERROR
    }
    held = {
        stage_of(e): e.document.origin.path
        for e in [*conversion.converted, *conversion.removed]
        if e.document.origin.path in unwritable
    }
    stages, looser = proven_stages(whole.workspace, conversion, options, held)
    going = {s.namespace for s in stages}
    left = [e for e in conversion.converted if stage_of(e) not in going]
    part = conversion.without(left)
    # what the conversion of a policy left as it is did (AM403-AM409) is moot: AM411 says why
    gone = {e.ref for e in left}
    part.findings = [f for f in part.findings if f.resource not in gone]
    part.findings += [_left_out(e, held, looser) for e in left]
    result = _proven(whole.workspace, part, options, shown, split=split)
    if result.blocked:
        return whole
    result.findings = list(dict.fromkeys([*unwritable.values(), *result.findings]))
    result.whole = whole.report
    return result


def _left_out(entry: PolicyEntry, held: dict[str, str], looser: dict[str, str]) -> Finding:
    """AM411: why a policy that converts was left as it is."""
    stage = stage_of(entry)
    subject = f"namespace {entry.namespace}" if stage == entry.namespace else "the MeshPolicy"
    why = (
        f"{held[stage]} cannot be rewritten in place (AM410), and {subject} is converted "
        "whole or not at all"
        if stage in held
        else f"converting {subject} now would make a state looser than the start, " + looser[stage]
    )
    return Finding(
        "AM411",
        Severity.ERROR,
        f"{entry.ref} left as it is, and the rest written without it: {why}",
        entry.document.origin.location,
        resource=entry.ref,
    )
