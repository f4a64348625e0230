"""Rendering a verification: a text summary for people, JSON for programs, markdown for PRs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from migrate.escape import code_span, terminal
from migrate.findings import Finding
from migrate.render.data import finding_data
from migrate.render.fold import Entry, fold, fold_head, unfolded
from migrate.render.summary import PolicySummary, by_policy
from migrate.render.table import finding_lines
from migrate.semantics.curl import request_text
from migrate.semantics.equivalence import Cause, Change
from migrate.semantics.proof import VerifyReport
from migrate.semantics.request import Outcome, Request

_STYLE = {
    Change.LOOSER: "bold red",
    Change.STRICTER: "yellow",
    Change.STATUS_ONLY: "cyan",
    Change.COMPATIBLE: "green",
}


def headline(report: VerifyReport) -> str:
    """One line: the verdict and the number of causes of each class. A proof that did not
    cover every input is never EQUIVALENT, whatever was hidden from the output."""
    counts = {c: sum(1 for x in report.causes if x.change is c) for c in Change}
    if not report.proven:
        reasons = len(report.unproven) or sum(1 for f in report.findings if f.leaves_unproven)
        found = f" ({', '.join(f'{n} {c.value}' for c, n in counts.items() if n)} found)"
        return f"NOT PROVED: {reasons} input error(s) kept the engine from comparing everything" + (
            found if report.causes else ""
        )
    if not report.causes:
        return "EQUIVALENT: every request is treated the same"
    parts = [f"{n} {c.value}" for c, n in counts.items() if n]
    inherent = sum(1 for c in report.causes if c.inherent)
    verdict = (
        "NOT EQUIVALENT"
        if counts[Change.LOOSER] or counts[Change.STRICTER]
        else ("EQUIVALENT up to status codes and compatible changes")
    )
    tail = f" ({inherent} inherent)" if inherent else ""
    return f"{verdict}: " + ", ".join(parts) + " cause(s)" + tail


MAX_CAUSES = 3
"""Causes shown per policy by default (`--max-causes`; `--all` and `-o json` show every one)."""


def render_text(
    report: VerifyReport,
    console: Console,
    *,
    every: bool = False,
    max_causes: int = MAX_CAUSES,
    left: Mapping[str, str] | None = None,
) -> None:
    """One line per policy and the verdict, findings, then each policy's causes (at most
    `max_causes` of them looser or stricter, every differing request with `every`), figures."""
    max_causes = max(max_causes, 0)
    policies = by_policy(report, left)
    for policy in policies:
        console.print(Text(terminal(policy.line()), style=_policy_style(policy)), soft_wrap=True)
    console.print(Text(headline(report), style="bold"), soft_wrap=True)
    if report.accepted:
        console.print(
            Text(terminal("accepted: " + ", ".join(sorted(report.accepted))), style="bold"),
            soft_wrap=True,
        )
    for line in finding_lines(report.findings):
        console.print(line, soft_wrap=True)
    minor: dict[tuple[str, str, str], int] = {}
    for policy in policies:
        major = []
        for cause in policy.causes:
            if not every and cause.change in (Change.STATUS_ONLY, Change.COMPATIBLE):
                key = (cause.change.value, cause.before.verdict.value, cause.after.verdict.value)
                minor[key] = minor.get(key, 0) + cause.requests
            else:
                major.append(cause)
        entries, sizes = (unfolded(major), []) if every else fold_head(major, max_causes)
        for entry in entries:
            console.print(_entry_text(report, entry), soft_wrap=True)
            for difference in entry.cause.differences[1:] if every else ():
                console.print(f"    also: {request_text(difference.request)}", soft_wrap=True)
        if len(sizes) > max_causes:
            more = _more(policy.ref, sizes[max_causes:])
            console.print(Text(more, style="dim"), soft_wrap=True)
    for (change, before, after), count in minor.items():
        console.print(
            Text(
                f"{change.upper()}  {count} request(s): {before} -> {after}"
                f"{' with another reason' if before == after else ''} (--all lists them)",
                style=_STYLE[Change(change)],
            ),
            soft_wrap=True,
        )
    console.print(
        f"{report.evaluated:,} requests evaluated over {report.destinations:,} destinations "
        f"({report.classes:,} classes, {report.workloads:,} workloads)",
        soft_wrap=True,
    )
    for assumed in assumptions(report):
        console.print(Text(terminal(assumed), style="dim"), soft_wrap=True)


def _policy_style(policy: PolicySummary) -> str:
    worst = policy.worst
    return _STYLE[worst] if worst is not None else ("dim" if policy.left else "")


def assumptions(report: VerifyReport) -> list[str]:
    """What the proof assumed, and what it left out: one line each."""
    return [f"assumed {line}" for line in report.environment.lines()] + [
        f"note: {note}" for note in report.notes
    ]


def _more(ref: str, hidden: list[int]) -> str:
    """`... and 2 more cause(s) of <ref>`, with the causes folded into them (`hidden`: the
    causes each entry not shown holds)."""
    causes = sum(hidden)
    folded = f"{causes} with their variants; " if causes != len(hidden) else ""
    return terminal(
        f"... and {len(hidden)} more cause(s) of {ref} ({folded}--max-causes N, --all, or "
        "-o json for every one)"
    )


def _entry_text(report: VerifyReport, entry: Entry) -> Text:
    cause = entry.cause
    text = Text()
    label = cause.change.value.upper() + (" (inherent)" if cause.inherent else "")
    label += " [accepted]" if report.is_accepted(cause) else ""
    text.append(label, style=_STYLE[cause.change])
    text.append(f"  {request_text(cause.witness)}\n")
    text.append(f"    before: {terminal(_outcome(cause.before))}\n")
    if cause.twin is not None:
        twin = terminal(_outcome(cause.twin))
        text.append(f"            the same request in plaintext: {twin}\n")
    text.append(f"    after:  {terminal(_outcome(cause.after))}\n")
    if cause.worlds:
        text.append(terminal(f"    only on: {'; '.join(cause.worlds)}") + "\n", style="dim")
    if cause.inherent:
        text.append(terminal(f"    why inherent: {cause.inherent}") + "\n", style="dim")
    variants = [line.removeprefix("also ") for line in entry.variant_lines()]
    if variants:  # one line for all of them: an entry is read, its variants skimmed
        text.append(terminal(f"    also {'; '.join(variants)}") + "\n")
    workloads = ", ".join(f"{ns}/{name}" for ns, name in sorted(entry.workloads)[:4])
    more = len(entry.workloads) - 4
    text.append(
        terminal(
            f"    {entry.requests} request(s) on {len(entry.workloads)} workload(s): {workloads}"
            + (f" and {more} more" if more > 0 else "")
        ),
        style="dim",
    )
    return text


def _outcome(outcome: Outcome) -> str:
    by = f" (decided by {', '.join(outcome.decided_by)})" if outcome.decided_by else ""
    return f"{outcome}{by}"


def verify_data(report: VerifyReport) -> dict[str, Any]:
    """The report as plain data for `-o json`."""
    return {
        "version": 1,
        "verdict": headline(report),
        "exitCode": int(report.exit_code),
        "summary": {c.value: sum(1 for x in report.causes if x.change is c) for c in Change},
        "figures": {
            "requests": report.evaluated,
            "destinations": report.destinations,
            "classes": report.classes,
            "workloads": report.workloads,
        },
        "causes": [_cause_data(report, c) for c in report.causes],
        "findings": [finding_data(f) for f in report.findings],
        "assumptions": {**report.environment.data(), "notes": list(report.notes)},
        "accepted": sorted(report.accepted),
        "proven": report.proven,
    }


def _cause_data(report: VerifyReport, cause: Cause) -> dict[str, Any]:
    return {
        "change": cause.change.value,
        "key": cause.key,
        "inherent": cause.inherent or None,
        "accepted": report.is_accepted(cause),
        "witness": _request_data(cause.witness),
        "before": _outcome_data(cause.before),
        "plaintextTwinBefore": None if cause.twin is None else _outcome_data(cause.twin),
        "after": _outcome_data(cause.after),
        "worlds": list(cause.worlds) or None,
        "requests": cause.requests,
        "workloads": [f"{ns}/{name}" for ns, name in sorted(cause.workloads)],
    }


def _request_data(request: Request) -> dict[str, Any]:
    destination = request.destination
    return {
        "text": str(request),
        "curl": request_text(request),
        "namespace": destination.namespace,
        "workload": destination.workload,
        "service": destination.service,
        "servicePort": destination.service_port,
        "containerPort": None if destination.spare else destination.port,
        "protocol": "HTTP" if destination.http else "TCP",
        "condition": destination.condition or None,
        "peer": str(request.peer),
        "token": str(request.token) if request.token else None,
        "path": request.path if destination.http else None,
        "method": request.method or None,
        "headers": dict(request.headers),
    }


def _outcome_data(outcome: Outcome) -> dict[str, Any]:
    return {
        "verdict": outcome.verdict.value,
        "reason": outcome.reason,
        "tokenForwarded": outcome.token_forwarded,
        "decidedBy": list(outcome.decided_by),
    }


def render_markdown(report: VerifyReport) -> str:
    """A pull-request comment: the verdict and a table of causes, details collapsed."""
    lines = [f"### authn-migrate verify: {headline(report)}", ""]
    if report.causes:
        lines += [
            "| change | request | before | after | requests |",
            "| --- | --- | --- | --- | --- |",
        ]
        for entry in fold(report.causes):
            cause = entry.cause
            change = cause.change.value + (" (inherent)" if cause.inherent else "")
            lines.append(
                f"| {change} | {request_cell(entry)} | "
                f"{code_span(_outcome(cause.before), in_table=True)} | "
                f"{code_span(_outcome(cause.after), in_table=True)} | {entry.requests} |"
            )
    lines += [markdown_finding(finding) for finding in report.findings]
    lines += [
        "",
        f"<details><summary>figures</summary>\n\n{report.evaluated:,} requests over "
        f"{report.destinations:,} destinations ({report.classes:,} classes)\n\n"
        + "\n".join(f"- {code_span(line)}" for line in assumptions(report))
        + "\n</details>",
    ]
    return "\n".join(lines) + "\n"


def request_cell(entry: Entry) -> str:
    """An entry's witness in a markdown table cell, a line for each variant folded into it."""
    lines = [code_span(request_text(entry.cause.witness), in_table=True)]
    lines += [code_span(line, in_table=True) for line in entry.variant_lines()]
    return "<br>".join(lines)


def markdown_finding(finding: Finding) -> str:
    """A finding as a markdown list item; its location and message render as literal text."""
    return f"- {code_span(str(finding.location))} **{finding.code}** {code_span(finding.message)}"
