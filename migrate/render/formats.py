"""The output-format registry: for each format (`migrate.outputs`), the commands that write it
and how each does. A command's `-o` choices, its default and its dispatch all come from here,
so a format is added to a command in one place."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from migrate.commands.convert import ConvertResult
from migrate.commands.review import ReviewReport
from migrate.commands.scan import ScanReport
from migrate.findings import Finding, sort_findings
from migrate.outputs import (
    DIFF,
    FORMATS,
    GITHUB,
    GITLAB,
    JSON,
    MARKDOWN,
    SARIF,
    TABLE,
    TEXT,
    WIDE,
    YAML,
    Format,
    named,
)
from migrate.render import ci
from migrate.render.annotations import github_findings, policy_findings
from migrate.render.data import dump_json, dump_yaml, json_pieces, scan_data
from migrate.render.review import render_review_text, review_data, review_markdown
from migrate.render.table import render_scan_table
from migrate.render.tls import render_tls_table, tls_data, tls_markdown
from migrate.render.verify import MAX_CAUSES, render_markdown, render_text, verify_data
from migrate.rewrite.documents import render_documents
from migrate.semantics.proof import VerifyReport, difference_findings


@dataclass(frozen=True, slots=True)
class View:
    """How a report is shown besides its format: the command line's presentation options."""

    console: Console
    """Where the formats for people draw; a recording console gives back what was drawn (for
    --output-file), any other is the terminal and they give back nothing."""
    version: str = ""
    """The tool's version, which SARIF names."""
    every: bool = False
    max_causes: int = MAX_CAUSES
    headers: bool = True
    written: bool = False
    """convert: the files are rewritten, so their diff is not shown."""


Renderer = Callable[[Any, View], str]
"""A command's report in one format: the text for standard output (or --output-file)."""


def _drawn(draw: Callable[[Any, View], None]) -> Renderer:
    """A renderer for people that draws on the view's console."""

    def render(report: Any, view: View) -> str:
        draw(report, view)
        return view.console.export_text() if view.console.record else ""

    return render


def _sarif(findings: Callable[[Any], Sequence[Finding]], run: Callable[[Any], str]) -> Renderer:
    """SARIF of `findings(report)`, the run identified as `run(report)`."""

    def render(report: Any, view: View) -> str:
        log = ci.to_sarif(
            findings(report),
            root=Path.cwd(),
            tool_version=view.version,
            automation_id=f"authn-migrate/{run(report)}",
        )
        return dump_json(log)

    return render


def _json(data: Callable[[Any], Any]) -> Renderer:
    return lambda report, _: dump_json(data(report))


def _gitlab(findings: Callable[[Any], Sequence[Finding]]) -> Renderer:
    return lambda report, _: dump_json(ci.to_gitlab(findings(report), root=Path.cwd()))


def _github(
    annotated: Callable[[Any], Sequence[Finding]], summary: Callable[[Any], str] | None = None
) -> Renderer:
    """Annotations for the findings people read, at most a handful of each kind; with
    `summary`, the whole report goes to the job summary."""

    def render(report: Any, _: View) -> str:
        if summary is not None:
            ci.append_step_summary(summary(report))
        return ci.to_github(github_findings(annotated(report)), root=Path.cwd())

    return render


def _verify_findings(report: VerifyReport) -> list[Finding]:
    return [*report.findings, *difference_findings(report, report.locations)]


def _verify_annotated(report: VerifyReport) -> list[Finding]:
    return [*report.findings, *policy_findings(report, report.locations)]


def _review_annotated(report: ReviewReport) -> list[Finding]:
    annotated = [*report.findings, *report.verify.findings]
    annotated += policy_findings(report.verify, report.locations)
    return sort_findings(annotated)


def _scan_findings(report: ScanReport) -> list[Finding]:
    return list(report.findings)


def _diff(result: ConvertResult, view: View) -> str:
    return "" if view.written else "".join(change.diff() for change in result.changes)


DATA: Mapping[str, Callable[[Any], Any]] = {
    "scan": scan_data,
    "verify": verify_data,
    "review": review_data,
    "tls-check": tls_data,
}
"""The plain data `-o json` writes, by command."""

RENDERERS: Mapping[Format, Mapping[str, Renderer]] = {
    TABLE: {
        "scan": _drawn(
            lambda report, view: render_scan_table(report, view.console, headers=view.headers)
        ),
        "tls-check": _drawn(
            lambda check, view: render_tls_table(
                check, view.console, every=view.every, headers=view.headers
            )
        ),
    },
    WIDE: {
        "scan": _drawn(
            lambda report, view: render_scan_table(
                report, view.console, wide=True, headers=view.headers
            )
        ),
    },
    TEXT: {
        "verify": _drawn(
            lambda report, view: render_text(
                report, view.console, every=view.every, max_causes=view.max_causes
            )
        ),
        "review": _drawn(
            lambda report, view: render_review_text(
                report, view.console, every=view.every, max_causes=view.max_causes
            )
        ),
    },
    DIFF: {"convert": _diff},
    JSON: {command: _json(data) for command, data in DATA.items()},
    YAML: {
        "scan": lambda report, _: dump_yaml(scan_data(report)),
        "convert": lambda result, _: render_documents(
            [r.data for r in result.conversion.resources]
        ),
    },
    MARKDOWN: {
        "verify": lambda report, _: render_markdown(report),
        "review": lambda report, _: review_markdown(report),
        "tls-check": lambda check, _: tls_markdown(check),
    },
    SARIF: {
        "scan": _sarif(_scan_findings, lambda _: "scan"),
        "verify": _sarif(_verify_findings, lambda _: "verify"),
        "review": _sarif(ReviewReport.all_findings, lambda report: f"review/{report.base}"),
    },
    GITHUB: {
        "scan": _github(_scan_findings),
        "verify": _github(_verify_annotated, render_markdown),
        "review": _github(_review_annotated, review_markdown),
    },
    GITLAB: {
        "scan": _gitlab(_scan_findings),
        "verify": _gitlab(_verify_findings),
        "review": _gitlab(ReviewReport.all_findings),
    },
}
"""Per format, the commands that write it and how."""

DEFAULTS: Mapping[str, Format] = {
    "scan": TABLE,
    "verify": TEXT,
    "convert": DIFF,
    "review": TEXT,
    "tls-check": TABLE,
}
"""Each command's format when neither -o nor the configuration's `output` chooses one."""


def offered(command: str) -> tuple[Format, ...]:
    """The formats `command` writes, in the order its --help lists them."""
    return tuple(f for f in FORMATS if command in RENDERERS.get(f, {}))


def choices(command: str) -> type[enum.Enum]:
    """The `-o` choices of `command` as the string Enum typer reads them from."""
    names = [f.name for f in offered(command)]
    title = "".join(part.title() for part in command.split("-"))
    return enum.Enum(f"{title}Format", [(n, n) for n in names], type=str)  # type: ignore[return-value]


def chosen(command: str, given: str | None, configured: str | None) -> Format:
    """The format `command` writes: `given` on the command line, else the configuration's
    when the command has that format (`output: json` sets scan's, verify's, review's and
    tls-check's), else the command's default."""
    if given is not None:
        return named(str(given.value if isinstance(given, enum.Enum) else given))
    if configured is not None and command in RENDERERS.get(named(configured), {}):
        return named(configured)
    return DEFAULTS[command]


def render(command: str, output: Format, report: Any, view: View) -> str:
    """`report` of `command` in `output`; what is not drawn on the view's terminal is
    returned, for standard output or a file."""
    return RENDERERS[output][command](report, view)


def render_pieces(command: str, output: Format, report: Any, view: View) -> Iterator[str]:
    """`render`'s text in pieces to write as they come (JSON of a large repository is
    hundreds of megabytes, which need not be held at once)."""
    if output is JSON:
        yield from json_pieces(DATA[command](report))
    else:
        yield render(command, output, report, view)
