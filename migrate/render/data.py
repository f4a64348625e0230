"""Plain data (JSON-ready) for findings and scan reports; the JSON and YAML outputs share it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from migrate.commands.scan import PolicyScan, ScanReport
from migrate.escape import encodes, unicode_safe
from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy, Jwt
from migrate.model.targets import TargetResolution

REPORT_VERSION = 1


def finding_data(finding: Finding) -> dict[str, Any]:
    """A finding as a JSON object."""
    data: dict[str, Any] = {
        "code": finding.code,
        "severity": finding.severity.value,
        "message": finding.message,
        "file": finding.location.path,
        "line": finding.location.line,
        "column": finding.location.column,
    }
    if finding.hint:
        data["hint"] = finding.hint
    if finding.resource:
        data["resource"] = finding.resource
    return data


def scan_data(report: ScanReport) -> dict[str, Any]:
    """The whole scan report as plain data (see schemas/scan-report.schema.json)."""
    return {
        "version": REPORT_VERSION,
        "summary": {
            "files": report.files,
            "documents": report.documents,
            "policies": len(report.policies),
            "services": report.services,
            "workloads": report.workloads,
            "rootNamespace": report.root_namespace,
            "errors": _count(report.findings, Severity.ERROR),
            "warnings": _count(report.findings, Severity.WARNING),
            "exitCode": int(report.exit_code),
        },
        "policies": [_policy_data(p) for p in report.policies],
        "findings": [finding_data(f) for f in report.findings],
    }


def _count(findings: tuple[Finding, ...], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)


def _policy_data(scanned: PolicyScan) -> dict[str, Any]:
    entry = scanned.entry
    origin = entry.document.origin
    data: dict[str, Any] = {
        "kind": entry.document.kind,
        "name": entry.document.name,
        "namespace": entry.namespace,
        "file": origin.path,
        "line": origin.line,
        "column": origin.column,
        "valid": entry.policy is not None,
    }
    if entry.embedded_in is not None:
        data["embeddedIn"] = f"ConfigMap {entry.embedded_in.name}"
    if entry.policy is not None:
        data.update(_model_data(entry.policy))
        data["targets"] = [_target_data(t) for t in scanned.targets]
        data["affects"] = sorted(w.ref for w in scanned.workloads)
        data["overriddenBy"] = list(scanned.overridden_by)
        data["ignored"] = scanned.ignored
        data["superseded"] = entry.superseded
    data["findings"] = sorted({f.code for f in scanned.findings if f.code != "AM201"})
    return data


def _model_data(policy: AlphaPolicy) -> dict[str, Any]:
    return {
        "scope": policy.scope.value,
        "mtls": policy.mtls_mode.value,
        "peerIsOptional": policy.peer_is_optional,
        "originIsOptional": policy.origin_is_optional,
        "principalBinding": policy.principal_binding,
        "jwt": [_jwt_data(j) for j in policy.origins],
    }


def _jwt_data(jwt: Jwt) -> dict[str, Any]:
    return {
        "issuer": jwt.issuer,
        "audiences": list(jwt.audiences),
        "jwksUri": jwt.jwks_uri,
        "inlineJwks": bool(jwt.jwks),
        "headers": list(jwt.jwt_headers),
        "params": list(jwt.jwt_params),
        "triggerRules": [
            {"excluded": [str(m) for m in r.excluded], "included": [str(m) for m in r.included]}
            for r in jwt.trigger_rules
        ],
    }


def _target_data(target: TargetResolution) -> dict[str, Any]:
    return {
        "service": target.service,
        "found": target.found,
        "selector": target.selector,
        "allPorts": target.all_ports,
        "ports": [
            {
                "selector": p.selector,
                "servicePort": p.service_port,
                "name": p.service_port_name,
                "targetPort": p.target_port,
                "containerPorts": list(p.container_ports),
                "protocol": "HTTP" if p.http else "TCP",
            }
            for p in target.ports
        ],
        "workloads": sorted(w.ref for w in target.workloads),
    }


def dump_json(data: Any) -> str:
    """Stable, indented JSON with a final newline, valid UTF-8 whatever the strings hold (a
    lone surrogate is written as an escape)."""
    return "".join(json_pieces(data))


_BATCH = 8192
"""Pieces of the encoder joined into one piece of `json_pieces`."""


def json_pieces(data: Any) -> Iterator[str]:
    """`dump_json(data)` in pieces, to write as they come: with an indent, the encoder
    yields a few characters at a time, and a large report's text, or its pieces held at
    once, took hundreds of megabytes."""
    if not _encodable(data):
        data = unicode_safe(data)
    batch: list[str] = []
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(data):
        batch.append(piece)
        if len(batch) >= _BATCH:
            yield "".join(batch)
            batch.clear()
    batch.append("\n")
    yield "".join(batch)


def _encodable(data: Any) -> bool:
    """True when no string in `data` (key or value) holds a lone surrogate."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not encodes(value):
                return False
        elif isinstance(value, dict):
            stack += value.keys()
            stack += value.values()
        elif isinstance(value, (list, tuple)):
            stack += value
    return True


def dump_yaml(data: Any) -> str:
    """Block-style YAML in the data's own key order (lone surrogates written as escapes)."""
    return yaml.safe_dump(
        unicode_safe(data), sort_keys=False, default_flow_style=False, allow_unicode=True
    )
