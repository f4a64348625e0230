"""The project's exception types: bad input is the user's, a failed self-check is ours."""

from __future__ import annotations


class MigrateError(Exception):
    """Base of every exception the library raises on purpose."""


class UsageError(MigrateError):
    """The command line or the library call asked for something impossible."""


class InputError(MigrateError):
    """The input cannot be used at all (for example, no path exists)."""


class InternalError(MigrateError):
    """A self-check of the tool failed; not the user's fault."""
