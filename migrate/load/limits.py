"""Limits on what one input file can make the tool do, so that work and memory stay bounded
whatever a repository holds: its size in bytes, its documents, its entries (mapping keys and
list items) and how deeply its values nest.

The defaults are far above real manifests (a 1.9 MB vendored CRD holds about 60,000 entries)
and below what would exhaust a CI runner (a million entries take about 700 MiB while they are
parsed). A file over a limit is not read, and says which limit and how to raise it
(`--limit NAME=N` on the command line; a configuration file cannot raise them).

Counting entries exactly means parsing, which is what must be bounded; so the text is first
measured by the characters every entry needs (`:` or `?` for a key, `-`, `,` or `[` for a list
item): when that bound is within the limit, so is the file, and only a file whose bound
exceeds it is counted exactly, event by event, without building anything.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import yaml

from migrate.load.construct import MAX_DEPTH
from migrate.load.yamlio import parse_events


@dataclass(frozen=True, slots=True)
class Limits:
    """The most one input file may hold."""

    bytes: int = 64 * 1024 * 1024
    documents: int = 100_000
    entries: int = 1_000_000
    depth: int = MAX_DEPTH
    """Nesting of values in one document (YAML's parser itself stops at 1,000)."""


NAMES = tuple(field.name for field in dataclasses.fields(Limits))
_ACTIVE: ContextVar[Limits] = ContextVar("limits", default=Limits())  # noqa: B039 (frozen)


def current() -> Limits:
    """The limits in force (the defaults unless `applied` set others)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def applied(limits: Limits) -> Iterator[None]:
    """`limits` in force while the block runs."""
    token = _ACTIVE.set(limits)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def how_to_raise(name: str) -> str:
    """The hint of a finding about limit `name`."""
    return f"raise it on the command line: --limit {name}=N"


@dataclass(frozen=True, slots=True)
class Exceeded:
    """A limit a file exceeds: which, the finding's message, and where (1-based; 0 unknown)."""

    name: str
    message: str
    line: int = 0
    column: int = 0


def parse_limits(entries: Sequence[str], base: Limits | None = None) -> Limits:
    """`base` (the defaults) with each `NAME=N` entry applied; raises ValueError naming the
    entry that is not one."""
    limits = base or Limits()
    for entry in entries:
        name, _, value = entry.partition("=")
        name = name.strip()
        if name not in NAMES or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(
                f"--limit {entry!r}: expected NAME=N with N a positive number and NAME one "
                f"of {', '.join(NAMES)}"
            )
        limits = dataclasses.replace(limits, **{name: int(value)})
    return limits


def check_text(text: str, limits: Limits) -> Exceeded | None:
    """The entries limit when `text` exceeds it, found without building anything; None when
    within it (decided by counting characters for all but the largest files). Nesting is
    checked as documents are built, and YAML's parser stops at 1,000 levels."""
    bound = sum(text.count(mark) for mark in (":", "?", "-", ",", "["))
    if bound <= limits.entries:
        return None
    return _count_entries(text, limits.entries)


def _count_entries(text: str, limit: int) -> Exceeded | None:
    """Mapping keys and list items counted on the parser's events; None within `limit` (or
    when the text is not YAML: the parser reports that later, with its position)."""
    entries = 0
    frames: list[list[int]] = []  # per open collection: [is a mapping, children so far]
    try:
        for event in parse_events(text):
            if isinstance(event, yaml.NodeEvent):
                if frames:
                    frame = frames[-1]
                    frame[1] += 1
                    entries += 1 if not frame[0] or frame[1] % 2 else 0  # keys, not values
                    if entries > limit:
                        return _at(event, limit)
                if isinstance(event, yaml.CollectionStartEvent):
                    frames.append([isinstance(event, yaml.MappingStartEvent), 0])
            elif isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
    except yaml.YAMLError:
        return None
    return None


def _at(event: yaml.Event, limit: int) -> Exceeded:
    mark = event.start_mark
    message = f"more than {limit:,} keys and list items (entries limit); not read"
    if mark is None:
        return Exceeded("entries", message)
    return Exceeded("entries", message, mark.line + 1, mark.column + 1)
