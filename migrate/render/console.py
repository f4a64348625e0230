"""The terminal: rich consoles that print what they are given as text, never as markup."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def terminal_console(**options: Any) -> Console:
    """A rich Console (with rich's `options`) that reads no markup and no emoji codes in
    what it prints: a namespace `ns[/bad]` or a path `[link=...]` is printed as written.
    Control characters are the renderers' to escape (`migrate.escape.terminal`)."""
    return Console(markup=False, emoji=False, **options)
