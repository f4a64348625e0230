"""What `convert` tells people besides the diff: the policies left, the proof, the count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from migrate.codes import CODES
from migrate.render.table import finding_text
from migrate.render.verify import headline, render_text

if TYPE_CHECKING:
    from migrate.commands.convert import ConvertResult


def render_summary(result: ConvertResult, console: Console) -> None:
    """The conversion's findings, the proof, what changes, and what is left and why."""
    conversion = result.conversion
    for finding in result.findings:
        console.print(finding_text(finding), soft_wrap=True)
    render_text(result.report, console)
    render_environments(result, console)
    left = result.left
    console.print(
        f"{len(conversion.converted)} polic{'y' if len(conversion.converted) == 1 else 'ies'} "
        f"converted into {len(conversion.resources)} resource(s) in {len(result.changes)} "
        "file(s)"
        + (f"; {len(left)} left as {'it is' if len(left) == 1 else 'they are'}:" if left else ""),
        style="bold",
        soft_wrap=True,
    )
    for ref, code in left.items():
        console.print(f"  {ref} ({code}: {CODES[code].title})", soft_wrap=True, markup=False)
    if left and result.proven and result.changes:
        console.print(
            "proven: the state these changes leave, with the policies left in force beside "
            "them (Istio 1.5 runs both APIs), is not looser than the start",
            style="bold",
            soft_wrap=True,
        )


def render_environments(result: ConvertResult, console: Console) -> None:
    """Each overlay's proof, the builds before and after compared (the causes shown for an
    environment that is looser or not proven)."""
    environments = result.environments
    for finding in environments.findings:
        console.print(finding_text(finding), soft_wrap=True)
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
            console.print(f"  {proof.overlay}: not proven (AM016 above)", markup=False)
            continue
        console.print(f"  {proof.overlay}: {headline(report)}", soft_wrap=True, markup=False)
        if proof.looser or not report.proven:
            render_text(report, console)
