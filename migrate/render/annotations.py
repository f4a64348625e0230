"""GitHub annotations people read: one per policy with a difference (its worst cause, at the
resource that decided it), the errors and warnings about the inputs, and at most a handful
of each kind (GitHub shows about ten per kind and step); the job summary has the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from migrate.findings import Finding, Location, Severity
from migrate.render.summary import by_policy
from migrate.render.table import grouped
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import CHANGE_CODES, VerifyReport

PER_KIND = 10
"""Annotations of one kind (error, warning, notice) before the rest is counted in one."""

_SEVERITY = {Change.LOOSER: Severity.ERROR, Change.STRICTER: Severity.WARNING}


def policy_findings(report: VerifyReport, locations: Mapping[str, Location]) -> list[Finding]:
    """One finding per policy whose requests are treated differently (causes signed off with
    --accept aside): its summary line, at the resource that decided its worst cause."""
    found = []
    for policy in by_policy(report):
        causes = [c for c in policy.causes if not report.is_accepted(c)]
        if not causes:
            continue
        worst = causes[0]
        deciders = [*worst.after.decided_by, *worst.before.decided_by, policy.ref]
        where = next((locations[r] for r in deciders if r in locations), Location(""))
        severity = Severity.NOTE if worst.inherent else _SEVERITY.get(worst.change, Severity.NOTE)
        found.append(
            Finding(
                CHANGE_CODES[worst.change],
                severity,
                f"{policy.line()} ({len(causes)} cause(s); the job summary lists them)",
                where,
                hint=worst.inherent,
                resource=policy.ref,
            )
        )
    return found


def github_findings(findings: Sequence[Finding], per_kind: int = PER_KIND) -> list[Finding]:
    """`findings` folded (`grouped`) and cut to `per_kind` of each severity, the rest counted
    in one last notice."""
    kept: list[Finding] = []
    left: dict[Severity, int] = {}
    for finding in grouped(findings):
        if sum(1 for k in kept if k.severity is finding.severity) < per_kind:
            kept.append(finding)
        else:
            left[finding.severity] = left.get(finding.severity, 0) + 1
    if left:
        counts = ", ".join(f"{n} {severity.value}(s)" for severity, n in left.items())
        kept.append(
            Finding(
                "AM505",
                Severity.NOTE,
                f"{counts} more: see the job summary, or run with -o sarif or -o json",
                Location(""),
            )
        )
    return kept
