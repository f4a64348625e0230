"""The one place that makes YAML parsers: ruamel round-trip instances and the fast composer.

The fast path composes node trees with libyaml (PyYAML's C parser when available, its pure
Python parser otherwise) using YAML 1.1 resolution, as Kubernetes clients do; values are then
built by `migrate.construct`, which never instantiates objects from tags. The round-trip parser
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
    loader = _FastLoader(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()
