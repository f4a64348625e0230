"""Terminal tables for people: the scan's policy list and its findings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

from migrate.commands.scan import PolicyScan, ScanReport
from migrate.escape import terminal
from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy
from migrate.render.columns import columns

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def render_scan_table(
    report: ScanReport, console: Console, *, wide: bool = False, headers: bool = True
) -> None:
    """Print the policies (`wide`: with the workloads they govern and the narrower policies
    that take some of them), then the findings, then a one-line summary."""
    if report.policies:
        header = ["POLICY", "FILE", "SCOPE", "MTLS", "JWT", "AFFECTS", "PROBLEMS"]
        rows = [_row(scanned) for scanned in report.policies]
        if wide:
            header += ["WORKLOADS", "NARROWER POLICIES"]
            rows = [(*row, *_wide(s)) for row, s in zip(rows, report.policies, strict=True)]
        for line in columns(header, rows, headers=headers):
            console.print(line, soft_wrap=True, highlight=False)
    problems = [f for f in report.findings if f.code != "AM201"]
    for text in finding_lines(problems):
        console.print(text, soft_wrap=True)
    console.print(_summary(report, problems))


_GROUPED = {
    # the namespace every document of a kustomization without one takes: one line per source
    "AM013": re.compile(r"^(?P<what>.+?) has no metadata\.namespace; (?P<rest>using .+)$"),
}


def grouped(findings: Iterable[Finding]) -> list[Finding]:
    """`findings` with the notes that say the same of many documents (AM013: they take their
    namespace from one kustomization; any note repeated word for word, such as AM403 on
    every USE_ORIGIN policy) folded into one, at the first one's location and counting the
    rest. Machine formats keep every finding; this is for people."""
    found = list(findings)
    keys = [_group_key(finding) for finding in found]
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding, key in zip(found, keys, strict=True):
        if key is not None:
            groups.setdefault(key, []).append(finding)
    shown: list[Finding] = []
    for finding, key in zip(found, keys, strict=True):
        same = groups[key] if key is not None else []
        if len(same) < 2:
            shown.append(finding)
        elif same[0] is finding:
            if key is not None and key[0] == "pattern":
                message = f"{len(same)} documents have no metadata.namespace; {key[2]}"
            else:
                message = f"{finding.message} (here and at {len(same) - 1} more place(s))"
            shown.append(dataclasses.replace(finding, message=message, resource=""))
    return shown


def _group_key(finding: Finding) -> tuple[str, ...] | None:
    """What the notes folded with `finding` share: a pattern's common part, or the whole
    note; None for a warning or an error, never folded."""
    if finding.severity is not Severity.NOTE:
        return None
    pattern = _GROUPED.get(finding.code)
    match = pattern.match(finding.message) if pattern else None
    if match is not None:
        return ("pattern", finding.code, match["rest"])
    return ("note", finding.code, finding.message, finding.hint)


def finding_lines(findings: Iterable[Finding]) -> list[Text]:
    """Each finding as `finding_text` shows it, the notes that say the same folded."""
    return [finding_text(finding) for finding in grouped(findings)]


def finding_text(finding: Finding) -> Text:
    """`path:line:col: severity CODE: message (hint)`, coloured by severity; what it quotes
    from the inputs is shown escaped."""
    where = str(finding.location)
    text = Text(terminal(f"{where}: ") if where else "")
    text.append(f"{finding.severity.value} {finding.code}", style=_STYLES[finding.severity])
    text.append(terminal(f": {finding.message}"))
    if finding.hint:
        text.append(terminal(f" ({finding.hint})"), style="dim")
    return text


def _row(scanned: PolicyScan) -> tuple[str, ...]:
    entry = scanned.entry
    policy = entry.policy
    problems = ",".join(sorted({f.code for f in scanned.findings if f.code != "AM201"})) or "-"
    where = str(entry.document.origin.location)
    if policy is None:
        return entry.ref, where, "invalid", "-", "-", "-", problems
    return (
        entry.ref,
        where,
        _scope(scanned, policy),
        _mtls(policy),
        _jwt(policy),
        _affects(scanned),
        problems,
    )


def _wide(scanned: PolicyScan) -> tuple[str, str]:
    workloads = ",".join(f"{w.namespace}/{w.name}" for w in scanned.workloads)
    return workloads or "-", ",".join(scanned.overridden_by) or "-"


def _scope(scanned: PolicyScan, policy: AlphaPolicy) -> str:
    if scanned.entry.superseded:
        return "replaced by a later definition"
    if not scanned.targets:
        return policy.scope.value + (" (ignored)" if scanned.ignored else "")
    parts = []
    for target in scanned.targets:
        ports = (
            ""
            if target.all_ports
            else ":"
            + ",".join(
                f"{p.service_port}->{'/'.join(map(str, p.container_ports)) or p.target_port}"
                for p in target.ports
            )
        )
        parts.append(f"{target.service or '(labels)'}{ports}" + ("" if target.found else " ?"))
    return "service " + " ".join(parts)


def _mtls(policy: AlphaPolicy) -> str:
    mode = policy.mtls_mode.value
    return mode + (" (peer optional)" if policy.peer_is_optional else "")


def _jwt(policy: AlphaPolicy) -> str:
    if not policy.origins:
        return "-"
    parts = []
    for jwt in policy.origins:
        rules = f" [{len(jwt.trigger_rules)} trigger rule(s)]" if jwt.trigger_rules else ""
        parts.append(jwt.issuer + rules)
    optional = " (optional)" if policy.origin_is_optional else ""
    return "; ".join(parts) + optional


def _affects(scanned: PolicyScan) -> str:
    count = len(scanned.workloads)
    text = f"{count} workload{'s' if count != 1 else ''}"
    if scanned.overridden_by:
        text += f", except where {len(scanned.overridden_by)} narrower polic" + (
            "y applies" if len(scanned.overridden_by) == 1 else "ies apply"
        )
    return text


def _summary(report: ScanReport, problems: list[Finding]) -> Text:
    errors = sum(1 for f in problems if f.severity is Severity.ERROR)
    warnings = sum(1 for f in problems if f.severity is Severity.WARNING)
    return Text(
        f"{len(report.policies)} alpha polic{'y' if len(report.policies) == 1 else 'ies'} in "
        f"{report.files} file(s), {report.documents} document(s); {report.services} service(s), "
        f"{report.workloads} workload(s); {errors} error(s), {warnings} warning(s)",
        style="bold",
    )
