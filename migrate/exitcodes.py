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
