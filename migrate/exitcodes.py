"""Exit codes, owned by one enum and documented in README.md."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a command's exit status means; shared by every command."""

    OK = 0
    """Nothing to report: no alpha policy (scan), equivalent (verify)."""
    FOUND = 1
    """Alpha policies exist (scan), or the change is only stricter (verify)."""
    INPUT_ERROR = 2
    """Usage error, or input that could not be read, parsed or validated."""
    LOOSER = 3
    """The new configuration allows a request the old one denied."""
    INTERNAL_ERROR = 4
    """A self-check of the tool failed: a bug, please report it."""


def exit_code(*, looser: bool = False, unproven: bool = False, found: bool = False) -> ExitCode:
    """The one order every command follows when several answers apply: a looser difference
    (3) first, since it is a concrete request the new configuration lets through, whatever
    else went wrong; then input errors or anything left unproven (2); then something found
    (1: alpha policies, stricter differences, files that would change); else 0."""
    if looser:
        return ExitCode.LOOSER
    if unproven:
        return ExitCode.INPUT_ERROR
    return ExitCode.FOUND if found else ExitCode.OK
