"""Escaping text from the inputs for each kind of output, so that no file name or value can
act on the reader: one function per output kind.

- `terminal`: control characters (ANSI and OSC 8 escape sequences start with one), line and
  paragraph separators, bidirectional overrides and lone surrogates are shown as escapes
  (`\\x1b`, `\\n`, `\\u202e`; a file name's byte that is not UTF-8 as `\\xff`). A line of
  output therefore never ends inside a value, so no value starts a line of its own (a CI
  runner's `::error::` command, say).
- `code_span`: markdown that renders as literal text (no HTML, link, image, mention or
  emphasis), with a fence no backtick in the text can close.
- `unicode_safe`: data whose strings all encode as UTF-8, for JSON, SARIF and YAML output.

GitHub workflow commands have their own percent-encoding (`migrate.render.ci`).
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_BACKTICKS = re.compile("`+")


def terminal(text: str) -> str:
    """`text` with every character that could act on a terminal or end a line shown as an
    escape; other text, non-ASCII letters included, unchanged."""
    if text.isprintable():
        return text
    return _UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    point = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= point <= 0xDCFF:  # a byte that was not UTF-8, as Python decodes file names
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def code_span(text: str, *, in_table: bool = False) -> str:
    """`text` as a markdown code span that renders literally; in a table cell, `|` is escaped
    (GitHub splits cells before it reads code spans). The empty text gives ""."""
    shown = terminal(text)
    if in_table:
        shown = shown.replace("|", "\\|")
    if not shown:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(shown)), default=0) + 1)
    pad = " " if shown[0] in "` " or shown[-1] in "` " else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def valid_unicode(text: str) -> str:
    """`text` with every lone surrogate written as an escape, so that it encodes as UTF-8."""
    return text if encodes(text) else _SURROGATE.sub(_escaped, text)


def unicode_safe(data: Any) -> Any:
    """`data` (JSON-like: dicts, lists, strings, numbers) with every lone surrogate in its
    strings and keys written as an escape, so that it encodes as UTF-8."""
    if isinstance(data, str):
        return valid_unicode(data)
    if isinstance(data, dict):
        return {unicode_safe(key): unicode_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [unicode_safe(item) for item in data]
    return data


def encodes(text: str) -> bool:
    """True when `text` is valid Unicode (no lone surrogate), so it can be written as UTF-8."""
    return text.isascii() or _SURROGATE.search(text) is None
