"""What `convert` tells people besides the diff: the policies left, the proof, the count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from migrate.render.table import finding_text
from migrate.render.verify import render_text

if TYPE_CHECKING:
    from migrate.commands.convert import ConvertResult


def render_summary(result: ConvertResult, console: Console) -> None:
    """The conversion's findings, the proof, and what changes."""
    conversion = result.conversion
    for finding in result.findings:
        console.print(finding_text(finding), soft_wrap=True)
    render_text(result.report, console)
    console.print(
        f"{len(conversion.converted)} polic{'y' if len(conversion.converted) == 1 else 'ies'} "
        f"converted into {len(conversion.resources)} resource(s) in {len(result.changes)} "
        "file(s)",
        style="bold",
    )
