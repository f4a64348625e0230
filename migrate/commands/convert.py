"""The `convert` job as a library call: convert, prove, plan the file changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from migrate.convert.changes import plan_changes
from migrate.convert.model import Conversion, ConvertOptions
from migrate.convert.prove import proof, states
from migrate.convert.run import convert_workspace
from migrate.exitcodes import ExitCode, exit_code
from migrate.findings import Finding, Severity, has_errors, sort_findings
from migrate.rewrite.files import FileChange
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import VerifyOptions, VerifyReport, with_facts
from migrate.semantics.tls import tls_regressions
from migrate.workspace import Workspace, WorkspaceOptions, open_workspace


@dataclass(slots=True)
class ConvertResult:
    """A conversion, its proof, and the file changes it would make."""

    workspace: Workspace
    conversion: Conversion
    report: VerifyReport
    changes: list[FileChange]
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """True when nothing may be written: a looser difference not accepted, no proof, or a
        file of the proven result that cannot be rewritten (writing the others would leave a
        state that was never proven)."""
        proof_failed = any(f.blocks_proof for f in self.report.findings)
        unwritable = any(f.severity is Severity.ERROR and f.code == "AM410" for f in self.findings)
        return proof_failed or unwritable or self.report.count(Change.LOOSER) > 0

    def exit_code(self, *, check: bool = False) -> ExitCode:
        """3 if looser, 2 on input errors or refused policies, 1 with --check when files
        would change, else 0 (`exit_code`)."""
        return exit_code(
            looser=self.report.count(Change.LOOSER) > 0,
            unproven=not self.report.proven
            or has_errors(self.report.findings)
            or has_errors(self.findings),
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
) -> ConvertResult:
    """Convert every alpha policy under `paths`, prove the result, and plan the rewrite
    (`split`: new resources in files of their own)."""
    workspace = open_workspace(paths, workspace_options, stdin=stdin)
    # the Istio the result must hold on: given, else what the repository says, else every
    # release and sniffing setting; the conversion and its proof assume the same
    verify_options, facts = with_facts(verify_options, [workspace.inventory])
    conversion = convert_workspace(workspace, options, verify_options.environment)
    before, after = states(workspace, conversion, verify_options)
    report = proof(before, after, workspace, conversion, verify_options)
    # what could not be read, parsed or validated: shown, and exit 2 (README, exit codes)
    problems = [f for f in workspace.findings if f.severity is not Severity.NOTE]
    report.findings = sort_findings(list(dict.fromkeys([*problems, *facts, *report.findings])))
    changes, findings = plan_changes(workspace, conversion, split=split)
    # client/server pairs the conversion turns from OK to CONFLICT (§E)
    findings += tls_regressions(workspace, workspace, before_side=before, after_side=after)
    return ConvertResult(workspace, conversion, report, changes, findings)
