"""The project's exception types: bad input is the user's, a failed self-check is ours."""

from __future__ import annotations


class MigrateError(Exception):
    """Base of every exception the library raises on purpose."""


class InternalError(MigrateError):
    """A self-check of the tool failed; not the user's fault."""
