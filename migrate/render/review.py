"""Rendering a review: text for a terminal, markdown for a pull-request comment, JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.text import Text

from migrate.commands.fields import FieldChange
from migrate.commands.review import ReviewReport
from migrate.escape import code_span, terminal
from migrate.render.data import finding_data
from migrate.render.fold import fold
from migrate.render.table import finding_lines
from migrate.render.verify import (
    MAX_CAUSES,
    headline,
    markdown_finding,
    render_text,
    request_cell,
    verify_data,
)

COMMENT_LIMIT = 65_536
"""GitHub's limit on one comment, in characters."""


def render_review_text(
    report: ReviewReport, console: Console, *, every: bool = False, max_causes: int = MAX_CAUSES
) -> None:
    """Per namespace what was removed and added, the pairings, findings, then the proof."""
    console.print(Text(terminal(f"review against {report.base}"), style="bold"))
    for namespace, change in report.namespaces.items():
        console.print(
            terminal(
                f"namespace {namespace}: removed {len(change['removed'])}, "
                f"added {len(change['added'])}"
            ),
            soft_wrap=True,
        )
    for edit in report.edits:
        console.print(terminal(f"edited: {edit.ref}"), soft_wrap=True)
        for field in edit.changes:
            console.print(terminal(f"  {field_line(field)}"), soft_wrap=True)
    for pairing in report.pairings:  # the summary lines below say what each became
        if not pairing.added:
            console.print(
                terminal(f"  {pairing.removed.ref}: no replacement found"), soft_wrap=True
            )
    for line in finding_lines(report.findings):
        console.print(line, soft_wrap=True)
    render_text(report.verify, console, every=every, max_causes=max_causes)


def review_markdown(report: ReviewReport, limit: int = COMMENT_LIMIT) -> str:
    """A PR comment: summary table first, then collapsible details, cut to `limit`."""
    head = [
        f"### authn-migrate review against {code_span(report.base)}",
        "",
        f"**{headline(report.verify)}**",
        "",
        "| namespace | removed | added |",
        "| --- | --- | --- |",
    ]
    head += [
        f"| {_cell([ns])} | {_cell(c['removed'])} | {_cell(c['added'])} |"
        for ns, c in report.namespaces.items()
    ]
    details = [
        "",
        "<details><summary>Differences</summary>",
        "",
        "| change | request | before | after | requests |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entry in fold(report.verify.causes):
        cause = entry.cause
        change = cause.change.value + (" (inherent)" if cause.inherent else "")
        before = f"{cause.before}{_where(report, cause.before.decided_by)}"
        after = f"{cause.after}{_where(report, cause.after.decided_by)}"
        details.append(
            f"| {change} | {request_cell(entry)} | "
            f"{code_span(before, in_table=True)} | {code_span(after, in_table=True)} | "
            f"{entry.requests} |"
        )
    if report.edits:
        details += ["", "</details>", "", "<details><summary>Edited resources</summary>", ""]
        details += [
            f"- {code_span(edit.ref)}: " + "; ".join(code_span(field_line(c)) for c in edit.changes)
            for edit in report.edits
        ]
    details += ["", "</details>", "", "<details><summary>Findings</summary>", ""]
    details += [markdown_finding(f) for f in report.findings + report.verify.findings]
    details += ["", "</details>"]
    return _fit(head, details, limit)


def _where(report: ReviewReport, refs: tuple[str, ...]) -> str:
    """` (Policy a/b at file:line, ...)` for the resources that decided an outcome."""
    if not refs:
        return ""
    places = [
        f"{r} at {report.locations[r]}" + (f" in {report.base}" if r in report.base_only else "")
        if r in report.locations
        else r
        for r in refs
    ]
    return " (" + ", ".join(places) + ")"


def _cell(names: list[str]) -> str:
    """Names from the inputs in a table cell, each rendering as literal text; `-` for none."""
    return ", ".join(code_span(name, in_table=True) for name in names) or "-"


def _fit(head: list[str], details: list[str], limit: int) -> str:
    """Whole if it fits; else details are cut, with a note, to stay under the limit."""
    text = "\n".join(head + details) + "\n"
    if len(text) <= limit:
        return text
    kept: list[str] = []
    budget = limit - len("\n".join(head)) - 400
    for line in details:
        if budget - len(line) - 1 < 0:
            break
        kept.append(line)
        budget -= len(line) + 1
    note = (
        f"\n\n_Truncated to fit a comment: {len(details) - len(kept)} more line(s); "
        "run `authn-migrate review -o text` for everything._\n\n</details>"
    )
    return "\n".join(head + kept) + note + "\n"


def review_data(report: ReviewReport) -> dict[str, Any]:
    """The review as plain data for `-o json` (schemas/review-report.schema.json)."""
    return {
        "version": 1,
        "base": report.base,
        "exitCode": int(report.exit_code()),
        "namespaces": report.namespaces,
        "pairings": [
            {
                "removed": p.removed.ref,
                "file": p.removed.document.origin.path,
                "line": p.removed.document.origin.line,
                "added": list(p.added),
                "pairedBy": p.how or None,
            }
            for p in report.pairings
        ],
        "verify": verify_data(report.verify),
        "findings": [finding_data(f) for f in report.findings],
        "edits": [
            {
                "resource": edit.ref,
                "changes": [
                    {"path": c.path, "change": c.change, "before": c.before, "after": c.after}
                    for c in edit.changes
                ],
            }
            for edit in report.edits
        ],
    }


def field_line(change: FieldChange) -> str:
    """`path: before -> after`, `path: added value`, `path: removed value` (values as JSON)."""
    if change.change == "added":
        return f"{change.path}: added {_value(change.after)}"
    if change.change == "removed":
        return f"{change.path}: removed {_value(change.before)}"
    return f"{change.path}: {_value(change.before)} -> {_value(change.after)}"


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
