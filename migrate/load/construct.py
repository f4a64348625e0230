"""Build plain Python data (dict, list, str, int, float, bool, None) from YAML node trees.

Safe by construction: tags never create objects, aliases are shared rather than copied and
their expansion is budgeted (billion laughs), recursion is refused, duplicate keys are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from sys import intern
from typing import Any

import yaml

MAX_EXPANDED_NODES = 250_000
"""Nodes a document may reach once aliases are expanded (kubectl refuses far less)."""
COMPLEX_KEY = "AM001"
"""A complex key is a syntax error for Kubernetes' YAML-to-JSON step."""
MAX_DEPTH = 256
"""Nesting depth of collections; Kubernetes objects are rarely deeper than 20."""
MAX_DIGITS = 4_300
"""Digits of an integer Python converts (and far beyond the 64 bits Kubernetes reads)."""

_STANDARD_TAGS = frozenset(
    "tag:yaml.org,2002:" + name
    for name in (
        "str",
        "int",
        "float",
        "bool",
        "null",
        "timestamp",
        "binary",
        "map",
        "seq",
        "omap",
        "pairs",
        "set",
        "merge",
        "value",
    )
)
_SCALARS = yaml.SafeLoader("")
_STR = "tag:yaml.org,2002:str"
_INTERNED = 64
"""Keys, and string values up to this length, are interned: thousands of documents repeat
them (`apiVersion`, `app`, `http`), and a worker's pickle then sends each once."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a document, at a 0-based line and column of the node."""

    code: str
    message: str
    line: int
    column: int


class DocumentRejected(Exception):
    """The document cannot be turned into data (too large, too deep, recursive)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(slots=True)
class _Builder:
    problems: list[Problem] = field(default_factory=list)
    built: dict[int, Any] = field(default_factory=dict)
    sizes: dict[int, int] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    shared: bool = True
    depth: int = MAX_DEPTH
    """The deepest nesting allowed (the depth limit)."""
    """False when the text has no alias, so no node can be reached twice: nodes are then
    built without the memo and recursion bookkeeping (most manifests)."""

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if not self.shared:
            return self._tree(node, depth)
        key = id(node)
        if key in self.built:
            return self.built[key]
        if key in self.active:
            raise DocumentRejected(
                _problem("AM009", "recursive alias: a node contains itself", node)
            )
        if depth > self.depth:
            raise DocumentRejected(self._too_deep(node))
        self._check_tag(node)
        self.active.add(key)
        try:
            if isinstance(node, yaml.MappingNode):
                value: Any = self._mapping(node, depth)
            elif isinstance(node, yaml.SequenceNode):
                value = [self.build(item, depth + 1) for item in node.value]
            else:
                value = _scalar(node)  # type: ignore[arg-type]  # composers make only 3 kinds
        finally:
            self.active.discard(key)
        self.built[key] = value
        return value

    def _tree(self, node: yaml.Node, depth: int) -> Any:
        """`build` for a node tree without shared nodes."""
        if depth > self.depth:
            raise DocumentRejected(self._too_deep(node))
        kind = node.__class__
        if kind is yaml.ScalarNode:
            tag = node.tag
            if tag == _STR:
                value = node.value
                return intern(value) if len(value) <= _INTERNED else value
            self._check_tag(node)
            return _scalar(node)  # type: ignore[arg-type]
        self._check_tag(node)
        if kind is yaml.SequenceNode:
            return [self._tree(item, depth + 1) for item in node.value]
        return self._mapping(node, depth)  # type: ignore[arg-type]

    def _too_deep(self, node: yaml.Node) -> Problem:
        message = f"nesting deeper than {self.depth:,} levels (depth limit); not read"
        return _problem("AM009", message, node)

    def size(self, node: yaml.Node) -> int:
        """Nodes under `node` with aliases expanded; memoized so the count itself is cheap."""
        key = id(node)
        if key not in self.sizes:
            if key in self.active:
                raise DocumentRejected(
                    _problem("AM009", "recursive alias: a node contains itself", node)
                )
            self.active.add(key)
            if isinstance(node, yaml.MappingNode):
                total = 1 + sum(self.size(k) + self.size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                total = 1 + sum(self.size(item) for item in node.value)
            else:
                total = 1
            self.sizes[key] = min(total, MAX_EXPANDED_NODES + 1)
            self.active.discard(key)
        return self.sizes[key]

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in _merged_pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    _problem(
                        COMPLEX_KEY,
                        "a mapping or list used as a key; Kubernetes needs string keys "
                        "(an unquoted {{ ... }} template reads this way)",
                        key_node,
                    )
                )
            if key_node.__class__ is yaml.ScalarNode and key_node.tag == _STR:
                key = intern(key_node.value)  # the usual key: no need to build it
            else:
                key = _key_text(self.build(key_node, depth + 1))
            if key in first:
                seen = first[key].start_mark.line + 1
                self.problems.append(
                    _problem(
                        "AM005",
                        f"duplicate key {key!r} (first at line {seen}); the last value is used",
                        key_node,
                    )
                )
            first.setdefault(key, key_node)
            result[key] = self.build(value_node, depth + 1)
        return result

    def _check_tag(self, node: yaml.Node) -> None:
        if node.tag and node.tag not in _STANDARD_TAGS and node.tag != "!":
            self.problems.append(
                _problem("AM012", f"tag {node.tag} ignored; the value is read as plain data", node)
            )


def _merged_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """Key/value pairs with YAML merge keys (`<<`) applied; explicit keys come after merges."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    own: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    merged.extend(_merged_pairs(source))
        else:
            own.append((key_node, value_node))
    if not merged:
        return own
    explicit = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    inherited = [
        (k, v) for k, v in merged if not (isinstance(k, yaml.ScalarNode) and k.value in explicit)
    ]
    return _dedupe_merged(inherited) + own


def _dedupe_merged(pairs: list[tuple[yaml.Node, yaml.Node]]) -> list[tuple[yaml.Node, yaml.Node]]:
    """Merged keys keep their first occurrence, as YAML's merge rules say."""
    seen: set[Any] = set()
    result = []
    for key_node, value_node in pairs:
        marker = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
        if marker not in seen:
            seen.add(marker)
            result.append((key_node, value_node))
    return result


def _key_text(key: Any) -> str:
    """Mapping keys as Kubernetes sees them after its YAML-to-JSON step: always strings."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return str(key)
    return yaml.safe_dump(key, default_flow_style=True, width=10_000).strip()


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar as Kubernetes would read it; timestamps and binary stay strings."""
    tag = node.tag
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _SCALARS.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:int":
        return _integer(node)
    if tag == "tag:yaml.org,2002:float":
        return _SCALARS.construct_yaml_float(node)
    return str(node.value)


def too_long(digits: int) -> str:
    """The message for an integer of `digits` digits, more than MAX_DIGITS."""
    return f"integer of {digits:,} digits is out of range (Kubernetes reads 64 bits)"


def _integer(node: yaml.ScalarNode) -> int:
    """An integer scalar; one too long to convert rejects the document at the value."""
    digits = sum(char.isdigit() for char in node.value)
    if digits > MAX_DIGITS:
        raise DocumentRejected(_problem("AM017", too_long(digits), node))
    value: int = _SCALARS.construct_yaml_int(node)
    return value


def _problem(code: str, message: str, node: yaml.Node) -> Problem:
    mark = node.start_mark
    return Problem(code, message, mark.line, mark.column)


def build_document(
    node: yaml.Node, *, aliases: bool = True, depth: int = MAX_DEPTH
) -> tuple[Any, list[Problem]]:
    """The plain value of a document node and the problems found while building it.

    `aliases` False promises the text has no alias (no `*`), which skips the expansion count;
    `depth` is the deepest nesting allowed. Raises DocumentRejected when the document cannot
    be built at all.
    """
    builder = _Builder(shared=aliases, depth=depth)
    try:
        if aliases and builder.size(node) > MAX_EXPANDED_NODES:
            raise DocumentRejected(
                _problem(
                    "AM008",
                    f"aliases expand the document beyond {MAX_EXPANDED_NODES:,} nodes",
                    node,
                )
            )
        value = builder.build(node)
    except RecursionError:
        raise DocumentRejected(_problem("AM009", "structure too deep to read", node)) from None
    return value, builder.problems


HEADER_KEYS = ("apiVersion", "kind", "metadata")


def read_header(node: yaml.Node) -> tuple[str, str] | None:
    """`apiVersion` and `kind` of a document whose top level is a plain mapping with both
    written as plain strings, without building anything; None otherwise."""
    if not isinstance(node, yaml.MappingNode):
        return None
    found: dict[str, str] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            return None
        if key_node.value in ("apiVersion", "kind"):
            if not isinstance(value_node, yaml.ScalarNode) or key_node.value in found:
                return None
            if value_node.tag != "tag:yaml.org,2002:str":
                return None
            found[key_node.value] = value_node.value
    if len(found) != 2:
        return None
    return found["apiVersion"], found["kind"]


def build_header(
    node: yaml.MappingNode, *, aliases: bool = True, depth: int = MAX_DEPTH
) -> tuple[Any, list[Problem]]:
    """Only `apiVersion`, `kind` and `metadata` of a document (for kinds nobody reads: the
    rest is neither built nor checked)."""
    pairs = [
        (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value in HEADER_KEYS
    ]
    header = yaml.MappingNode(node.tag, pairs, node.start_mark, node.end_mark)
    return build_document(header, aliases=aliases, depth=depth)
