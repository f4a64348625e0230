"""The one place that makes YAML parsers: ruamel round-trip instances and the fast composer.

The fast path composes node trees with libyaml (PyYAML's C parser when available, its pure
Python parser otherwise) using YAML 1.1 resolution, as Kubernetes clients do; values are then
built by `migrate.load.construct`, which never instantiates objects from tags. The round-trip parser
(ruamel) is used only for files holding documents the tool may rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import yaml
from ruamel.yaml import YAML

try:
    _FastLoader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _FastLoader = yaml.SafeLoader

FAST_LOADER_IS_C = _FastLoader is not yaml.SafeLoader
_STR = "tag:yaml.org,2002:str"
_CACHED_LENGTH = 64
_CACHE_SIZE = 200_000


class _Composer(_FastLoader):  # type: ignore[misc]
    """The fast loader with implicit tags resolved once per distinct plain scalar: resolution
    depends on the text alone (YAML 1.1 rules, no path resolvers), and manifests repeat the
    same keys and values thousands of times."""

    _tags: dict[str, str] = {}  # noqa: RUF012 (shared on purpose: a pure function's cache)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:
            return _STR
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= _CACHED_LENGTH:
                if len(self._tags) >= _CACHE_SIZE:
                    self._tags.clear()
                self._tags[value] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers are registered: nothing to track."""

    def ascend_resolver(self) -> None:
        """No path resolvers are registered: nothing to track."""


YAMLError = yaml.YAMLError


def make_yaml(kind: Literal["rt", "safe"] = "rt") -> YAML:
    """A new ruamel `YAML()` instance; the only constructor of them in the project.

    Round-trip instances keep comments, key order and quoting; nothing is registered globally.
    """
    instance = YAML(typ=kind, pure=True)
    if kind == "rt":
        instance.preserve_quotes = True
        instance.allow_duplicate_keys = True
        instance.width = 4096
    return instance


def compose_documents(text: str) -> Iterator[yaml.Node | None]:
    """Node trees of every document in `text` (None for an empty document), lazily.

    Raises `yaml.YAMLError` at the first syntax error; documents before it have been yielded.
    """
    loader = _Composer(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


def parse_events(text: str) -> Iterator[yaml.Event]:
    """The parser's events for `text`, lazily, without composing anything.

    Raises `yaml.YAMLError` at the first syntax error.
    """
    loader = _Composer(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()
