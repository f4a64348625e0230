"""Findings for CI systems: SARIF for GitHub code scanning, workflow commands, GitLab Code Quality.

Choices shared by every format:

- Paths. A finding's path is shown relative to `root` with forward slashes. An absolute path
  under `root` is made relative; a relative path is taken to be relative to `root` already
  (the CLI prints paths relative to the working directory, which is the repository in CI) and
  is only normalised (`./a.yaml` is `a.yaml`). A finding has *no file in the repository* when
  its path is empty, a pseudo-name such as `<stdin>`, absolute outside `root`, or relative but
  leading out of it (`../x.yaml`); such a finding keeps its location as the finding gives it in
  its message text instead of in a file field.
- Fingerprints. A finding's fingerprint hashes its code, its repository path, its resource and
  its message: not its line or column, so an alert survives lines moving above it, and not the
  machine's checkout folder, so it is the same on every runner. Findings that would share one
  (the same problem at two lines of one file) are told apart by their occurrence, counted in
  reading order: the first keeps the plain fingerprint.
- Text. A finding's text is its message, then its hint in parentheses, as on the terminal.
- Order. Output follows the findings sorted by shown path (repository files first), line,
  column, code and message, so it depends neither on the order they were found in nor on how
  their paths were written.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote, urlsplit

from migrate.codes import Code, code
from migrate.escape import valid_unicode
from migrate.findings import Finding, Location, Severity

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "authn-migrate"
SRCROOT = "%SRCROOT%"
"""The `uriBaseId` of every artifact: the repository root. The log does not define it with
`originalUriBaseIds` (GitHub ignores that property, and its value would be a machine path);
GitHub reads a relative `uri` as relative to the repository root."""

_FINGERPRINT_VERSION = "authn-migrate/1"
_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
_GITLAB_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.NOTE: "info"}


# --- paths, fingerprints, order ------------------------------------------------------------------


def repository_path(path: str, root: Path) -> str | None:
    """`path` relative to `root` with forward slashes, or None when it names no file under it."""
    if not path or (path.startswith("<") and path.endswith(">")):
        return None
    pure = PurePath(path)
    if pure.is_absolute():
        relative = _relative_to(path, root)
        if relative is None:
            return None
        text = relative.as_posix()
    else:
        text = posixpath.normpath(pure.as_posix())
    if text in ("", ".", "..") or text.startswith("../"):
        return None
    return text


def _relative_to(path: str, root: Path) -> PurePath | None:
    """The absolute `path` below `root`, compared as written and then with links resolved."""
    for resolve in (os.path.abspath, os.path.realpath):
        try:
            return PurePath(resolve(path)).relative_to(resolve(root))
        except ValueError:
            continue
    return None


def fingerprint(finding: Finding, *, root: Path, occurrence: int = 1) -> str:
    """A stable identity for `finding`: 32 hex digits from its code, repository path, resource
    and message (never its line), and its `occurrence` among findings that share those."""
    where = repository_path(finding.location.path, root)
    parts = [
        _FINGERPRINT_VERSION,
        finding.code,
        finding.location.path if where is None else where,
        finding.resource,
        finding.message,
    ]
    if occurrence > 1:
        parts.append(str(occurrence))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A finding with what every format derives from it."""

    finding: Finding
    path: str | None
    fingerprint: str

    @property
    def text(self) -> str:
        """The message and hint, led by the location when it names no repository file."""
        text = _text(self.finding)
        if self.path is None and self.finding.location.path:
            return f"{self.finding.location}: {text}"
        return text


def _text(finding: Finding) -> str:
    return f"{finding.message} ({finding.hint})" if finding.hint else finding.message


def _entries(findings: Sequence[Finding], root: Path) -> list[_Entry]:
    """The findings in reading order of their shown paths, each with its repository path and
    fingerprint."""
    placed = [(repository_path(f.location.path, root), f) for f in findings]
    placed.sort(
        key=lambda item: (
            item[0] is None,
            item[1].location.path if item[0] is None else item[0],
            item[1].location.line,
            item[1].location.column,
            item[1].code,
            item[1].message,
            _RANK[item[1].severity],
            item[1].hint,
            item[1].resource,
            item[1].related,
        )
    )
    seen: dict[str, int] = {}
    entries = []
    for path, finding in placed:
        first = fingerprint(finding, root=root)
        seen[first] = seen.get(first, 0) + 1
        entries.append(
            _Entry(finding, path, fingerprint(finding, root=root, occurrence=seen[first]))
        )
    return entries


# --- SARIF ---------------------------------------------------------------------------------------


def to_sarif(
    findings: Sequence[Finding],
    *,
    root: Path,
    tool_version: str,
    automation_id: str,
    docs_url: str = "docs/findings.md",
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, as GitHub code scanning accepts it.

    Each finding in a repository file is a result, located by a `%SRCROOT%`-relative URI and,
    when its line is known, a region; its `related` locations become `relatedLocations`. GitHub
    rejects a whole upload if any result lacks a file, so a finding with no file in the
    repository (standard input, no path, a path outside `root`) is reported instead as a
    tool execution notification of the run's invocation, its location in its text.

    Rules describe the codes used, each with its documentation at `docs_url#<code>`; SARIF
    wants an absolute `helpUri`, so that property (and the driver's `informationUri`) is set
    only when `docs_url` is absolute, and the link is always in the rule's markdown help. A
    rule's default level is the most severe level it has in this log. `automation_id` is the
    run's `automationDetails.id`: GitHub takes the text before its last `/` as the category.
    """
    entries = _entries(findings, root)
    codes = sorted({e.finding.code for e in entries})
    index = {identifier: i for i, identifier in enumerate(codes)}
    driver: dict[str, Any] = {"name": TOOL_NAME, "version": tool_version}
    if _is_absolute_uri(docs_url):
        driver["informationUri"] = docs_url
    driver["rules"] = [
        _sarif_rule(
            code(identifier),
            docs_url,
            min((e.finding.severity for e in entries if e.finding.code == identifier), key=_rank),
        )
        for identifier in codes
    ]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": automation_id},
        "columnKind": "unicodeCodePoints",
        "results": [
            _sarif_result(e, e.path, index[e.finding.code], root)
            for e in entries
            if e.path is not None
        ],
    }
    notifications = [
        {
            "level": _SARIF_LEVEL[e.finding.severity],
            "message": {"text": e.text},
            "associatedRule": {"id": e.finding.code, "index": index[e.finding.code]},
        }
        for e in entries
        if e.path is None
    ]
    if notifications:
        run["invocations"] = [
            {"executionSuccessful": True, "toolExecutionNotifications": notifications}
        ]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def _rank(severity: Severity) -> int:
    return _RANK[severity]


def _is_absolute_uri(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.scheme and (parts.netloc or parts.path))


def _camel_case(title: str) -> str:
    """`invalid YAML` as `InvalidYAML`: a rule name of letters and digits only."""
    words = re.split(r"[^0-9A-Za-z]+", title)
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def _sarif_rule(rule: Code, docs_url: str, severity: Severity) -> dict[str, Any]:
    link = f"{docs_url}#{rule.id.lower()}"
    data: dict[str, Any] = {
        "id": rule.id,
        "name": _camel_case(rule.title),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.id}: {rule.title}."},
        "help": {
            "text": rule.fix,
            "markdown": f"{rule.fix}\n\nSee [{rule.id}]({link}) in the finding reference.",
        },
    }
    if _is_absolute_uri(docs_url):
        data["helpUri"] = link
    data["defaultConfiguration"] = {"level": _SARIF_LEVEL[severity]}
    return data


def _sarif_result(entry: _Entry, path: str, rule_index: int, root: Path) -> dict[str, Any]:
    finding = entry.finding
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": entry.text},
        "locations": [{"physicalLocation": _physical(path, finding.location)}],
    }
    related = [
        (where, place)
        for place in finding.related
        if (where := repository_path(place.path, root)) is not None
    ]
    if related:
        result["relatedLocations"] = [
            {"id": number, "physicalLocation": _physical(where, place)}
            for number, (where, place) in enumerate(related, start=1)
        ]
    result["partialFingerprints"] = {"primaryLocationLineHash": entry.fingerprint}
    if finding.resource:
        result["properties"] = {"resource": finding.resource}
    return result


def _physical(path: str, location: Location) -> dict[str, Any]:
    """A physical location: the file, and the line (and column) only when known; never 0."""
    data: dict[str, Any] = {
        "artifactLocation": {
            "uri": quote(path, safe="/", errors="surrogateescape"),
            "uriBaseId": SRCROOT,
        }
    }
    if location.line > 0:
        region = {"startLine": location.line}
        if location.column > 0:
            region["startColumn"] = location.column
        data["region"] = region
    return data


# --- GitHub workflow commands --------------------------------------------------------------------


def to_github(findings: Sequence[Finding], *, root: Path) -> str:
    """GitHub Actions workflow commands, one line per finding, each ending in a newline.

    `::error file=F,line=L,col=C,title=CODE title::text` (`warning` for warnings, `notice` for
    notes). `line` and `col` are left out when unknown, and all three when the finding has no
    file in the repository (its location then leads the text). Values are escaped as the runner
    reads them, so no text can end a command early or start another.
    """
    lines = []
    for entry in _entries(findings, root):
        finding = entry.finding
        properties: list[tuple[str, str]] = []
        if entry.path is not None:
            properties.append(("file", entry.path))
            if finding.location.line > 0:
                properties.append(("line", str(finding.location.line)))
                if finding.location.column > 0:
                    properties.append(("col", str(finding.location.column)))
        properties.append(("title", f"{finding.code} {code(finding.code).title}"))
        listed = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
        command = _GITHUB_COMMAND[finding.severity]
        lines.append(f"::{command} {listed}::{escape_data(entry.text)}\n")
    return "".join(lines)


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded (and a lone surrogate
    written as an escape, so that the line encodes)."""
    text = valid_unicode(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, and `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def append_step_summary(markdown: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Append `markdown` to the job summary file named by `GITHUB_STEP_SUMMARY`.

    A newline is added when the text does not end with one, so later summaries start on a line
    of their own. Returns True when the variable is set (and the text written), else False.
    """
    target = environ.get("GITHUB_STEP_SUMMARY", "")
    if not target:
        return False
    if markdown and not markdown.endswith("\n"):
        markdown += "\n"
    with open(target, "a", encoding="utf-8", newline="") as summary:
        summary.write(markdown)
    return True


# --- GitLab Code Quality -------------------------------------------------------------------------


def to_gitlab(findings: Sequence[Finding], *, root: Path) -> list[dict[str, Any]]:
    """A GitLab Code Quality report: one issue per finding, as the JSON list GitLab reads.

    Severity: errors are `critical`, warnings `major`, notes `info`. `location.path` is the
    repository path, or the path as the finding gives it when it names no repository file
    (`.` when it has none); `lines.begin` is the line, or 1 when unknown.
    """
    return [
        {
            "description": _text(entry.finding),
            "check_name": entry.finding.code,
            "fingerprint": entry.fingerprint,
            "severity": _GITLAB_SEVERITY[entry.finding.severity],
            "location": {
                "path": entry.path
                if entry.path is not None
                else (entry.finding.location.path or "."),
                "lines": {"begin": max(entry.finding.location.line, 1)},
            },
        }
        for entry in _entries(findings, root)
    ]
