"""`tls-check --fix`: edit the DestinationRules behind each CONFLICT so that clients speak
what the server accepts, changing only the `tls.mode` value (every other byte, load balancer
and connection pool included, stays)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from migrate.findings import Finding, Location, Severity
from migrate.load.documents import Document
from migrate.rewrite.files import FileChange
from migrate.semantics.tls import Row, tls_check
from migrate.workspace import Workspace

_WANTED = {"STRICT": "ISTIO_MUTUAL", "PERMISSIVE": "ISTIO_MUTUAL", "DISABLE": "DISABLE"}


@dataclass(frozen=True, slots=True)
class Edit:
    """One scalar to replace: where it is and its new text."""

    document: Document
    path: tuple[str | int, ...]
    value: str


def fix(
    workspace: Workspace, *, auto_mtls: bool | None = None
) -> tuple[list[FileChange], list[Finding]]:
    """File changes that resolve the conflicts; findings for those left to a person."""
    rows = list(tls_check(workspace, auto_mtls=auto_mtls).conflicts())
    edits: dict[tuple[int, tuple[str | int, ...]], Edit] = {}
    findings: list[Finding] = []
    for row in rows:
        found = _edit_for(workspace, row)
        if isinstance(found, Finding):
            findings.append(found)
        else:
            previous = edits.setdefault((id(found.document), found.path), found)
            if previous.value != found.value:
                findings.append(_manual(row, "clients need different modes for it"))
    return _apply(workspace, list(edits.values())), findings


def _edit_for(workspace: Workspace, row: Row) -> Edit | Finding:
    name, _, namespace = row.rule.partition("/")
    doc = next(
        (
            p.document
            for p in workspace.inventory.destination_rules
            if p.document.name == name and p.namespace == namespace
        ),
        None,
    )
    if doc is None:
        return _manual(row, "no DestinationRule to edit")
    spec = doc.data.get("spec") or {}
    if str(spec.get("host", "")).startswith("*"):
        return _manual(
            row,
            f"{row.rule} is a wildcard rule; editing it would change other "
            "hosts, so add a rule for this host",
        )
    policy = spec.get("trafficPolicy") or {}
    wanted = _WANTED[row.server]
    for index, setting in enumerate(policy.get("portLevelSettings") or ()):
        if isinstance(setting, dict) and (setting.get("port") or {}).get("number") == row.port:
            return Edit(
                doc, ("spec", "trafficPolicy", "portLevelSettings", index, "tls", "mode"), wanted
            )
    return Edit(doc, ("spec", "trafficPolicy", "tls", "mode"), wanted)


def _manual(row: Row, why: str) -> Finding:
    return Finding(
        "AM601",
        Severity.WARNING,
        f"CONFLICT for {row.client} -> {row.host}:{row.port} is not fixed: {why}",
        Location(""),
        resource=row.rule,
    )


def _apply(workspace: Workspace, edits: list[Edit]) -> list[FileChange]:
    by_file: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_file[edit.document.origin.path].append(edit)
    changes = []
    for loaded in workspace.loaded.files:
        todo = by_file.get(loaded.source.display)
        if not todo or loaded.text is None or loaded.source.path is None:
            continue
        lines = loaded.text.text.splitlines(keepends=True)
        for edit in todo:
            where = edit.document.locate(edit.path)
            row = lines[where.line - 1]
            start = where.column - 1
            end = start
            while end < len(row) and row[end] not in " #\r\n,}":
                end += 1
            lines[where.line - 1] = row[:start] + edit.value + row[end:]
        changes.append(
            FileChange(
                loaded.source.path,
                loaded.source.display,
                loaded.text.text,
                "".join(lines),
                loaded.text,
            )
        )
    return changes
