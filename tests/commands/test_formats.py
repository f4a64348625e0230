"""The output-format registry is what the command line offers: each command's `-o` choices in
its help, its default, and the formats the configuration's `output` key takes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app, run
from migrate.config import OUTPUTS
from migrate.findings import Finding, Location, Severity
from migrate.outputs import FORMATS, GITHUB, NAMES, named
from migrate.render import formats
from migrate.render.console import terminal_console
from migrate.semantics.proof import VerifyReport

runner = CliRunner()
COMMANDS = ("scan", "verify", "convert", "review", "tls-check")
CHOICES = re.compile(r"--output\s+-o\s+[<\[]([a-z|]+)[>\]]")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_the_formats_the_registry_gives_the_command(command: str) -> None:
    """`COMMAND --help` shows as -o's choices exactly the formats the command has a renderer
    for, in the registry's order."""
    shown = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"}).output
    match = CHOICES.search(shown)
    assert match is not None, shown
    assert match[1].split("|") == [f.name for f in formats.offered(command)]
    assert formats.DEFAULTS[command] in formats.offered(command)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_format_the_command_lacks_is_refused_on_the_command_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o takes only the command's own formats; the message lists them."""
    lacking = next(f.name for f in FORMATS if f not in formats.offered(command))
    assert run([command, "-o", lacking, "."]) == 2
    listed = ", ".join(repr(f.name) for f in formats.offered(command))
    assert f"is not one of {listed}." in capsys.readouterr().err


def test_every_format_is_written_by_some_command_and_is_a_configurable_output() -> None:
    """The configuration's `output` takes the formats some command writes, and no other."""
    written = {f for command in COMMANDS for f in formats.offered(command)}
    assert written == set(FORMATS) == set(formats.RENDERERS)
    assert OUTPUTS == NAMES == tuple(f.name for f in FORMATS)


def test_the_output_key_refuses_a_format_no_command_writes(tmp_path: Path) -> None:
    """`output: html` in the configuration file is an input error naming the file and the
    formats there are."""
    (tmp_path / ".authn-migrate.yaml").write_text("output: html\n")
    result = runner.invoke(app, ["scan", str(tmp_path)])
    assert result.exit_code == 2
    assert ".authn-migrate.yaml:1" in result.output
    assert f"must be one of {', '.join(NAMES)}, not 'html'" in result.output


@pytest.mark.parametrize(
    ("command", "given", "configured", "expected"),
    [
        pytest.param("convert", "yaml", "json", "yaml", id="command-line-wins"),
        pytest.param("tls-check", None, "markdown", "markdown", id="configured-when-offered"),
        pytest.param("tls-check", None, "wide", "table", id="default-when-not-offered"),
        pytest.param("convert", None, "json", "diff", id="convert-has-no-json"),
        pytest.param("review", None, None, "text", id="default-when-unset"),
    ],
)
def test_the_format_chosen(
    command: str, given: str | None, configured: str | None, expected: str
) -> None:
    """-o, else the configuration's output when the command has that format, else the
    command's default: a configured format a command lacks is not refused, it is passed by."""
    assert formats.chosen(command, given, configured) is named(expected)


def test_verify_annotations_count_every_finding_they_leave_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """verify -o github keeps ten findings of each kind and counts all the others in its last
    notice (it said `1 note(s) more` here, counting its own count when cut a second time)."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    findings = [
        Finding("AM201", severity, f"finding {n}", Location("a.yaml", n, 1))
        for severity, many in ((Severity.WARNING, 11), (Severity.NOTE, 12))
        for n in range(1, many + 1)
    ]
    view = formats.View(console=terminal_console(file=io.StringIO()))
    text = formats.render("verify", GITHUB, VerifyReport(causes=[], findings=findings), view)
    lines = text.splitlines()
    assert len(lines) == 10 + 10 + 1
    assert lines[-1].endswith(
        "::1 warning(s), 2 note(s) more: see the job summary, or run with -o sarif or -o json"
    )
