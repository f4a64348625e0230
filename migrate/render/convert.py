"""What `convert` tells people besides the diff: the policies left, the proof, the count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from migrate.render.table import finding_lines
from migrate.render.verify import MAX_CAUSES, headline, render_text

if TYPE_CHECKING:
    from migrate.commands.convert import ConvertResult


def render_summary(
    result: ConvertResult, console: Console, *, every: bool = False, max_causes: int = MAX_CAUSES
) -> None:
    """The conversion's findings, the proof opening with one line per policy (what it became,
    or why it was left as it is), and what changes."""
    conversion = result.conversion
    for line in finding_lines(result.findings):
        console.print(line, soft_wrap=True)
    render_text(
        result.report, console, every=every, max_causes=max_causes, left=left_reasons(result)
    )
    render_environments(result, console, max_causes=max_causes)
    left = result.left
    console.print(
        f"{len(conversion.converted)} polic{'y' if len(conversion.converted) == 1 else 'ies'} "
        f"converted into {len(conversion.resources)} resource(s) in {len(result.changes)} "
        "file(s)"
        + (f"; {len(left)} left as {'it is' if len(left) == 1 else 'they are'}" if left else ""),
        style="bold",
        soft_wrap=True,
    )
    if left and result.proven and result.changes:
        console.print(
            "proven: the state these changes leave, with the policies left in force beside "
            "them (Istio 1.5 runs both APIs), is not looser than the start",
            style="bold",
            soft_wrap=True,
        )


def render_environments(
    result: ConvertResult, console: Console, *, max_causes: int = MAX_CAUSES
) -> None:
    """Each overlay's proof, the builds before and after compared (the causes shown for an
    environment that is looser or not proven)."""
    environments = result.environments
    for line in finding_lines(environments.findings):
        console.print(line, soft_wrap=True)
    if not environments.proofs:
        return
    console.print(
        f"environments: each overlay built with {environments.engine}, before and after",
        style="bold",
        soft_wrap=True,
        markup=False,
    )
    for proof in environments.proofs:
        report = proof.report
        if report is None:
            console.print(f"  {proof.overlay}: not proven (AM020 above)", markup=False)
            continue
        console.print(f"  {proof.overlay}: {headline(report)}", soft_wrap=True, markup=False)
        if proof.looser or not report.proven:
            render_text(report, console, max_causes=max_causes)


def left_reasons(result: ConvertResult) -> dict[str, str]:
    """Each policy left as it is, with its code and what its finding says (the policy's own
    name, which the summary line shows, taken off the front)."""
    reasons: dict[str, str] = {}
    left = result.left
    for finding in result.report.findings:
        ref = finding.resource
        if ref in left and ref not in reasons:
            message = finding.message
            for prefix in (f"{ref} is ", f"{ref} ", f"{ref}: ", "left as it is, and "):
                message = message.removeprefix(prefix)
            reasons[ref] = f"{finding.code}: {message}"
    return reasons
