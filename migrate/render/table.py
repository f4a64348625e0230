"""Terminal tables (rich) for people: the scan's policy list and its findings."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from migrate.commands.scan import PolicyScan, ScanReport
from migrate.escape import terminal
from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def render_scan_table(report: ScanReport, console: Console) -> None:
    """Print the policies, then the findings, then a one-line summary."""
    if report.policies:
        console.print(_policy_table(report))
    problems = [f for f in report.findings if f.code != "AM201"]
    for finding in problems:
        console.print(finding_text(finding), soft_wrap=True)
    console.print(_summary(report, problems))


def finding_text(finding: Finding) -> Text:
    """`path:line:col: severity CODE: message (hint)`, coloured by severity; what it quotes
    from the inputs is shown escaped."""
    text = Text(terminal(f"{finding.location}: "))
    text.append(f"{finding.severity.value} {finding.code}", style=_STYLES[finding.severity])
    text.append(terminal(f": {finding.message}"))
    if finding.hint:
        text.append(terminal(f" ({finding.hint})"), style="dim")
    return text


def _policy_table(report: ScanReport) -> Table:
    table = Table(title="v1alpha1 authentication policies", title_justify="left", expand=False)
    for column in ("POLICY", "FILE", "SCOPE", "MTLS"):
        table.add_column(column, no_wrap=True)
    for column in ("JWT", "AFFECTS", "PROBLEMS"):
        table.add_column(column, overflow="fold")
    for scanned in report.policies:
        table.add_row(*(terminal(cell) for cell in _row(scanned)))
    return table


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
