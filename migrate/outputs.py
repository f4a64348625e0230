"""The output formats, each once: its name (what `-o` and the configuration's `output` key
say) and what it is. Which commands write a format, and how, is `migrate.render.formats`;
this table stands low so that the configuration can check `output` against it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Format:
    """An output format: its name and, in a few words, what it is."""

    name: str
    help: str


TABLE = Format("table", "columns for people, as kubectl prints them")
WIDE = Format("wide", "the table, with the workloads each policy governs")
TEXT = Format("text", "the report for people")
DIFF = Format("diff", "a unified diff of the files that would change")
JSON = Format("json", "the whole report as JSON, for programs")
YAML = Format("yaml", "the report (convert: only the new resources) as YAML")
MARKDOWN = Format("markdown", "the report as Markdown, ready for a pull-request comment")
SARIF = Format("sarif", "SARIF 2.1.0 for GitHub code scanning")
GITHUB = Format("github", "GitHub workflow annotations, and the job summary")
GITLAB = Format("gitlab", "GitLab Code Quality")

FORMATS: tuple[Format, ...] = (
    TABLE,
    WIDE,
    TEXT,
    DIFF,
    JSON,
    YAML,
    MARKDOWN,
    SARIF,
    GITHUB,
    GITLAB,
)
"""Every format, in the order a command's `--help` lists those it has."""

NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)


def named(name: str) -> Format:
    """The format called `name`; KeyError when none is."""
    for found in FORMATS:
        if found.name == name:
            return found
    raise KeyError(name)
