"""Writing a new document the way ruamel would, without ruamel's pure-Python emitter where
the document is simple: nested mappings and sequences of printable ASCII strings, integers
and booleans (what a conversion makes). Each scalar's style is ruamel's own choice (its
scalar analysis and its resolver); anything else returns None and is left to ruamel. A
property test holds every text this writes equal, byte for byte, to ruamel's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode

from migrate.load.yamlio import make_yaml

_STR = "tag:yaml.org,2002:str"
_PYYAML = yaml.resolver.Resolver()
_INSTANCE = make_yaml("rt")
_RUAMEL = _INSTANCE.resolver
_ANALYZER: Emitter = _INSTANCE.emitter
_INSTANCE.serializer  # noqa: B018 (the analysis reads the serializer's YAML version)
_SIMPLE_KEY_LIMIT = 128
"""Longer keys are written as complex keys (`? key`)."""
_UNSAFE = frozenset("'\"\\")


class _Unsimple(Exception):
    """The document needs ruamel."""


def fast_dump(document: Mapping[str, Any], indent: int, offset: int, quote: str) -> str | None:
    """The document in block style as ruamel writes it with this mapping indent, sequence
    dash offset and string quoting (see `documents.Style`); None where it is not simple."""
    writer = _Writer(indent, offset, quote)
    try:
        writer.mapping(document, 0, "")
    except _Unsimple:
        return None
    return "".join(writer.lines)


class _Writer:
    def __init__(self, indent: int, offset: int, quote: str) -> None:
        self.indent, self.offset, self.quote = indent, offset, quote
        self.lines: list[str] = []

    def mapping(self, mapping: Mapping[Any, Any], column: int, lead: str) -> None:
        """Keys at `column`; `lead`: what the first key's line starts with (`- ` inside a
        sequence)."""
        if not mapping:
            raise _Unsimple
        pad = " " * column
        first = True
        for key, value in mapping.items():
            head = f"{lead if first else pad}{_key(key, self.quote)}:"
            first = False
            if isinstance(value, Mapping):
                self.lines.append(head + "\n")
                inner = column + self.indent
                self.mapping(value, inner, " " * inner)
            elif isinstance(value, (list, tuple)):
                self.lines.append(head + "\n")
                self.sequence(value, column + self.offset)
            else:
                self.lines.append(f"{head} {_value(value, self.quote)}\n")

    def sequence(self, items: Any, column: int) -> None:
        """Items with their dash at `column`."""
        if not items:
            raise _Unsimple
        dash = " " * column + "- "
        for item in items:
            if isinstance(item, Mapping):
                self.mapping(item, column + 2, dash)
            elif isinstance(item, (list, tuple)):
                raise _Unsimple
            else:
                self.lines.append(f"{dash}{_value(item, self.quote)}\n")


def _key(key: object, quote: str) -> str:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise _Unsimple
    if isinstance(key, int):
        return str(key)
    if len(key) >= _SIMPLE_KEY_LIMIT:
        raise _Unsimple
    return _scalar(key, quote, key=True)


def _value(value: object, quote: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise _Unsimple
    return _scalar(value, quote, key=False)


@functools.lru_cache(maxsize=65536)
def _scalar(text: str, quote: str, *, key: bool) -> str:
    """A string as ruamel writes it: `quote` forces a style on values (and on keys, double
    quotes only where a key must be quoted anyway)."""
    if (
        not text
        or text[0] == " "
        or text[-1] == " "
        or not text.isascii()
        or not text.isprintable()
        or not _UNSAFE.isdisjoint(text)
    ):
        raise _Unsimple
    other_type = _PYYAML.resolve(yaml.ScalarNode, text, (True, False)) != _STR  # type: ignore[no-untyped-call]
    if key:
        if other_type:
            return f'"{text}"' if quote == '"' else f"'{text}'"
        forced = ""
    else:
        forced = quote or ("'" if other_type else "")
    if forced:
        return f"{forced}{text}{forced}"
    if _RUAMEL.resolve(RuamelScalarNode, text, (True, False)) != _STR:
        raise _Unsimple
    analysis = _analysis(text)
    if analysis.allow_block_plain:
        return text
    if not analysis.allow_single_quoted:
        raise _Unsimple
    return f"'{text}'"


_analysis: Callable[[str], Any] = functools.lru_cache(maxsize=65536)(_ANALYZER.analyze_scalar)
