"""Findings: problems and notes about the input, as data with a location and a stable code."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from migrate.codes import Category, category


class Severity(enum.Enum):
    """How much a finding matters: errors make the run fail, warnings and notes do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in an input file; `line` and `column` are 1-based, 0 when unknown."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem or note: a stable `code`, a message in plain words, and what to do."""

    code: str
    severity: Severity
    message: str
    location: Location
    hint: str = ""
    resource: str = ""
    related: tuple[Location, ...] = field(default=())

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity.value} {self.code}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def category(self) -> Category:
        """What the finding is about (reading input, the proof, the conversion...)."""
        return category(self.code)

    @property
    def blocks_proof(self) -> bool:
        """True for an error that keeps the engine from an exact proof (AM3xx)."""
        return self.severity is Severity.ERROR and self.category is Category.PROOF

    @property
    def leaves_unproven(self) -> bool:
        """True for an error that leaves a comparison incomplete: an input not read or
        validated, a configuration not modelled. A policy `convert` leaves as it is (AM4xx)
        stays in force on both sides and is compared like the rest: its error fails the
        command, not the proof."""
        return self.severity is Severity.ERROR and self.category is not Category.CONVERSION


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Findings in reading order: by file, line, column, then code."""
    return sorted(findings, key=lambda f: (f.location, f.code, f.message))


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    """True when any finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)
