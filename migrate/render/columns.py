"""Tables as kubectl prints them: plain columns, left-aligned, three spaces apart, a header
row of capitals (`--no-headers` drops it); nothing is wrapped, cut or boxed, so a piped table
reads with `awk`, `cut` and `grep` and a URL stays one word."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from migrate.escape import terminal

GAP = "   "


def columns(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, headers: bool = True
) -> list[str]:
    """The lines of the table; each cell as `migrate.escape.terminal` shows it."""
    table = [[terminal(str(cell)) or "-" for cell in row] for row in rows]
    if headers:
        table.insert(0, list(header))
    if not table:
        return []
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return [
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
