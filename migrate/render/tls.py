"""`tls-check` for people and programs: plain columns (the conflicts, unless every row is
asked for, with a count of the rest), JSON, markdown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.text import Text

from migrate.escape import code_span
from migrate.render.columns import columns
from migrate.semantics.tls import Row, TlsCheck

HEADER = (
    "CLIENT NAMESPACE",
    "HOST:PORT",
    "STATUS",
    "SERVER",
    "CLIENT",
    "AUTHN POLICY",
    "DESTINATION RULE",
)


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.client,
        f"{row.host}:{row.port}",
        row.status,
        row.server,
        row.client_mode,
        row.policy,
        row.rule,
    )


def render_tls_table(
    check: TlsCheck, console: Console, *, every: bool = False, headers: bool = True
) -> None:
    """The conflicting rows (every row with `every`), then what the others were."""
    shown = list(check if every else check.conflicts())
    lines = columns(HEADER, (_cells(r) for r in shown), headers=headers and bool(shown))
    first = 1 if headers and shown else 0
    if not console.is_terminal:  # plain text: written as it is, fast for 100,000 rows
        console.file.write("".join(f"{line}\n" for line in lines))
    else:
        for index, line in enumerate(lines):
            conflict = index >= first and shown[index - first].status == "CONFLICT"
            console.print(Text(line, style="bold red" if conflict else ""), soft_wrap=True)
    counts = check.counts()
    total = sum(counts.values())
    summary = ", ".join(f"{counts[s]:,} {s}" for s in ("CONFLICT", "OK", "AUTO") if counts[s])
    hidden = total - len(shown)
    tail = f"; {hidden:,} row(s) without a conflict not shown (--all lists them)" if hidden else ""
    console.print(Text(f"{total:,} client/port pair(s): {summary or 'none'}{tail}", style="bold"))


def tls_data(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Every row as plain data for `-o json`."""
    return [
        {
            "client": r.client,
            "host": r.host,
            "port": r.port,
            "status": r.status,
            "server": r.server,
            "clientMode": r.client_mode,
            "authnPolicy": r.policy,
            "destinationRule": r.rule,
        }
        for r in rows
    ]


def tls_markdown(rows: Iterable[Row]) -> str:
    """Every row as a markdown table; names from the inputs as code spans."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "| --- " * len(HEADER) + "|",
    ]
    lines += [
        f"| {code_span(r.client, in_table=True)} | "
        f"{code_span(f'{r.host}:{r.port}', in_table=True)} | {r.status} | {r.server} | "
        f"{r.client_mode} | {code_span(r.policy, in_table=True)} | "
        f"{code_span(r.rule, in_table=True)} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"
