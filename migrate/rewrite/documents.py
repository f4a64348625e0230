"""Replacing documents of a YAML file in place, keeping every other byte as it was.

The file is composed once (PyYAML node trees with their marks) and edited as text lines: a
replaced document's span runs from its head comment (the comment lines directly above its first
line, after its `---`) to the end of its last content line. Only spans are rewritten; other
documents, the gaps between documents, separators, `...` markers and directives, the newline
style and the presence of a final newline stay byte for byte. New documents are dumped by ruamel
in block style with the file's indentation, strings plain unless YAML 1.1 or 1.2 needs quotes
(or the replaced document quoted most of its values, see `Style.quote`), and the result is
composed again and compared with what was asked before it is returned.

Comments of a replaced document are never dropped. Its head comment goes above the first new
document; an end-of-line comment on a field named in `moves` goes to the end of the new field's
line; every other comment (full-line comments inside the document, and end-of-line comments with
no move or whose new field does not exist) goes, in order, to a block just above the first new
document. Deleting a document (no new documents) removes its lines and its `---`, but its
comments, and a comment on its `---` line, stay in place as comment lines.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode as RuamelScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from migrate.errors import MigrateError
from migrate.load.construct import DocumentRejected, build_document
from migrate.load.sourcefile import SourceText
from migrate.load.yamlio import compose_documents, make_yaml
from migrate.rewrite.comments import (
    DASHES,
    DOTS,
    Comment,
    Lines,
    Move,
    Path,
    append_comments,
    apply_edits,
    find_comments,
    is_comment_line,
    key_text,
    last_line,
    marker_comment,
    marker_line,
    target_of,
)
from migrate.rewrite.emit import fast_dump

__all__ = [
    "Replacement",
    "RewriteError",
    "Style",
    "detect_style",
    "render_documents",
    "rewrite",
]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_RESOLVER = yaml.resolver.Resolver()
_SPACE = " \t\r\n\x85\u2028\u2029"
_WIDTH = 1_000_000_000


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/@-]*")
"""Values any YAML writer leaves plain unless asked to quote them."""


class RewriteError(MigrateError):
    """A file cannot be rewritten exactly as asked; nothing should be written."""


@dataclass(frozen=True, slots=True)
class Style:
    """How new documents are laid out: mapping indent, the column of a sequence's `-` relative
    to its parent key (0: `- ` under the key), and the newline."""

    indent: int = 2
    sequence_offset: int = 0
    newline: str = "\n"
    quote: str = ""
    """How string values are quoted: "" plain where YAML allows, or `"` or `'` when the
    replaced document quoted most of its string values that way."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """New documents for the document at `index` (0-based, counting empty documents); no
    documents deletes it. `moves` says where commented fields went: (old path, index into
    `documents`, new path)."""

    index: int
    documents: tuple[dict[str, Any], ...]
    moves: tuple[tuple[tuple[str | int, ...], int, tuple[str | int, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class _Span:
    """Lines of one document: head comment start, first and last content line, and the lines
    of the `---` that introduced it and of the `...` that ends it (None when absent)."""

    node: yaml.Node
    head: int
    first: int
    last: int
    dashes: int | None
    dots: int | None


def detect_style(source: SourceText) -> Style:
    """The file's mapping indent and sequence offset (the most common ones among its block
    collections), and its newline; defaults where the file shows none."""
    nodes: list[yaml.Node | None] = []
    with contextlib.suppress(yaml.YAMLError):  # documents before an error still show the style
        nodes.extend(compose_documents(source.text))
    return _style_of(nodes, source.newline)


def _style_of(nodes: Sequence[yaml.Node | None], newline: str) -> Style:
    indents: Counter[int] = Counter()
    offsets: Counter[int] = Counter()
    stack = [node for node in reversed(nodes) if node is not None]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (
                    isinstance(value, yaml.CollectionNode)
                    and not value.flow_style
                    and value.start_mark.line > key.start_mark.line
                ):
                    delta = value.start_mark.column - key.start_mark.column
                    if isinstance(value, yaml.MappingNode) and 2 <= delta <= 16:
                        indents[delta] += 1
                    elif isinstance(value, yaml.SequenceNode) and 0 <= delta <= 16:
                        offsets[delta] += 1
            stack.extend(item for pair in reversed(node.value) for item in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    indent = indents.most_common(1)[0][0] if indents else 2
    offset = offsets.most_common(1)[0][0] if offsets else 0
    return Style(indent, offset, newline)


def render_documents(documents: Sequence[Mapping[str, Any]], *, style: Style | None = None) -> str:
    """The documents alone as a YAML stream, separated by `---` lines, each ending in a newline.

    Raises RewriteError when a value cannot be written so that it reads back the same.
    """
    style = style or Style()
    parts = []
    for number, document in enumerate(documents):
        text = _dump(document, style, f"document {number}")
        _check_reads_back(text, document, f"document {number}")
        parts.append(text)
    return "---\n".join(parts).replace("\n", style.newline)


def rewrite(source: SourceText, replacements: Sequence[Replacement]) -> str:
    """The file's new text (without BOM; encode it with `source.encode`).

    Raises RewriteError when it cannot rewrite exactly: the file does not parse, an index is
    out of range or given twice, the document is empty, not a block mapping, a `kind: List`,
    starts on its `---` line, or the result does not read back as asked.
    """
    if not replacements:
        return source.text
    try:
        return _rewrite(source, replacements)
    except RecursionError:
        raise RewriteError(f"{source.path}: document nested too deeply to rewrite") from None


def _rewrite(source: SourceText, replacements: Sequence[Replacement]) -> str:
    text = source.text
    where = source.path
    try:
        nodes = list(compose_documents(text))
    except yaml.YAMLError as exc:
        raise RewriteError(
            f"{where}: cannot rewrite a file that does not parse: {_problem(exc)}"
        ) from None
    plan: dict[int, Replacement] = {}
    for replacement in replacements:
        if not 0 <= replacement.index < len(nodes):
            raise RewriteError(
                f"{where}: no document {replacement.index} to replace (the file has {len(nodes)})"
            )
        if replacement.index in plan:
            raise RewriteError(f"{where}: document {replacement.index} is replaced twice")
        plan[replacement.index] = replacement
    lines = Lines(text)
    style = _style_of(nodes, source.newline)
    edits: list[tuple[int, int, list[str]]] = []
    for index in sorted(plan):
        span = _span(text, lines, nodes, index, where)
        comments = find_comments(text, lines, span.node, span.first, span.last)
        head = [lines.content(line) for line in range(span.head, span.first)]
        replacement = plan[index]
        if replacement.documents:
            quoted = replace(style, quote=_quote_style(span.node))
            new = _replacement_lines(replacement, head, comments, quoted, f"{where}: document")
            edits.append((span.head, span.last, new))
        else:
            earlier_kept = any(i not in plan or plan[i].documents for i in range(index))
            edits.extend(
                _deletion(
                    lines,
                    span=span,
                    head=head,
                    comments=comments,
                    earlier_kept=earlier_kept,
                    where=where,
                    index=index,
                )
            )
    result = apply_edits(lines, edits, source.newline)
    _verify(text, nodes, result, plan, where)
    return result


def _quote_style(node: yaml.Node) -> str:
    """The quoting most string values of a document use, counting only values that could have
    been written plain, since only those show the author's choice (plain when tied or none)."""
    styles: Counter[str] = Counter()
    resolver = make_yaml("rt").resolver  # YAML 1.2, as the writer resolves plain scalars
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            stack.extend(value for _, value in current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif (
            isinstance(current, yaml.ScalarNode)
            and current.tag == _STR
            and _PLAIN_SAFE.fullmatch(current.value)
            and _string(current.value) == current.value
            and not isinstance(_string(current.value), SingleQuotedScalarString)
            and resolver.resolve(RuamelScalarNode, current.value, (True, False)) == _STR
        ):
            styles[current.style or ""] += 1
    if not styles:
        return ""
    best, count = styles.most_common(1)[0]
    return best if best in ('"', "'") and count > styles[""] else ""


def _span(
    text: str, lines: Lines, nodes: Sequence[yaml.Node | None], index: int, where: str
) -> _Span:
    node = nodes[index]
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL and not node.value):
        raise RewriteError(f"{where}: document {index} is empty; there is nothing to replace")
    line = node.start_mark.line + 1
    if isinstance(node, yaml.CollectionNode) and node.flow_style:
        raise RewriteError(
            f"{where}:{line}: document {index} is written in flow style ({{...}}) at top level; "
            "only block-style documents are rewritten in place"
        )
    if not isinstance(node, yaml.MappingNode):
        raise RewriteError(f"{where}:{line}: document {index} is not a mapping")
    if _is_list(node):
        raise RewriteError(
            f"{where}:{line}: document {index} is a kind: List; its items cannot be rewritten "
            "one by one (split the list into documents first)"
        )
    start = node.start_mark.index
    first = lines.line_of(start)
    if text[lines.starts[first] : start].strip(" \t"):
        raise RewriteError(
            f"{where}:{line}: document {index} starts on the same line as its `---`; "
            "put the content on the next line to rewrite it"
        )
    last = last_line(text, lines, node)
    head = first
    while head > 0 and is_comment_line(lines.content(head - 1)):
        head -= 1
    dashes = marker_line(lines, range(head - 1, -1, -1), DASHES)
    dots = marker_line(lines, range(last + 1, len(lines)), DOTS)
    return _Span(node, head, first, last, dashes, dots)


def _is_list(node: yaml.MappingNode) -> bool:
    """A `kind: List` (or `*List`) document with `items`, which loading splits into items."""
    fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    kind = fields.get("kind")
    return (
        isinstance(kind, yaml.ScalarNode)
        and str(kind.value).endswith("List")
        and isinstance(fields.get("items"), yaml.SequenceNode)
    )


def _replacement_lines(
    replacement: Replacement,
    head: list[str],
    comments: Sequence[Comment],
    style: Style,
    where: str,
) -> list[str]:
    rendered = [
        _dump(document, style, f"{where} {replacement.index}, new document {number}")
        for number, document in enumerate(replacement.documents)
    ]
    roots = {number: _compose_one(text) for number, text in enumerate(rendered)}
    moves = _moves(replacement, where)
    placed: dict[int, list[tuple[Path, str]]] = {}
    unmapped: list[str] = []
    for comment in comments:
        target = None if comment.path is None else target_of(comment.path, moves, roots)
        if target is None:
            unmapped.append(comment.text)
        else:
            placed.setdefault(target[0], []).append((target[1], comment.text))
    result = [*head, *unmapped]
    for number, text in enumerate(rendered):
        if number:
            result.append("---")
        result.extend(append_comments(text, roots[number], placed.get(number, [])))
    return result


def _moves(replacement: Replacement, where: str) -> list[Move]:
    moves = []
    for old, number, new in replacement.moves:
        if not 0 <= number < len(replacement.documents):
            raise RewriteError(
                f"{where} {replacement.index}: a move names new document {number}, "
                f"but there are {len(replacement.documents)}"
            )
        moves.append(Move(tuple(old), number, tuple(new)))
    return moves


def _deletion(
    lines: Lines,
    *,
    span: _Span,
    head: list[str],
    comments: Sequence[Comment],
    earlier_kept: bool,
    where: str,
    index: int,
) -> list[tuple[int, int, list[str]]]:
    """Edits deleting a document: its lines become its comments (if any), its `---` line its
    comment (if any); a `...` after it goes too when no document remains before it."""
    edits = [(span.head, span.last, [*head, *(c.text for c in comments)])]
    if span.dashes is not None:
        if marker_line(lines, range(span.dashes - 1, -1, -1), re.compile("%")) is not None:
            raise RewriteError(
                f"{where}:{span.dashes + 1}: document {index} has directives (%...); "
                "delete it by hand"
            )
        edits.append((span.dashes, span.dashes, marker_comment(lines.content(span.dashes))))
    if span.dots is not None and not earlier_kept:
        edits.append((span.dots, span.dots, marker_comment(lines.content(span.dots))))
    return edits


def _verify(
    text: str,
    nodes: Sequence[yaml.Node | None],
    result: str,
    plan: Mapping[int, Replacement],
    where: str,
) -> None:
    """Compose the result and check it holds the kept documents unchanged and the new ones as
    given, in order."""
    try:
        composed = list(compose_documents(result))
    except yaml.YAMLError as exc:
        raise RewriteError(
            f"{where}: the rewritten file would not parse ({_problem(exc)})"
        ) from None
    expected: list[yaml.Node | Mapping[str, Any] | None] = []
    for index, node in enumerate(nodes):
        if index in plan:
            expected.extend(plan[index].documents)
        else:
            expected.append(node)
    if len(composed) != len(expected):
        raise RewriteError(
            f"{where}: the rewritten file would hold {len(composed)} documents, not {len(expected)}"
        )
    old_lines, new_lines = Lines(text), Lines(result)
    for position, (want, got) in enumerate(zip(expected, composed, strict=True)):
        if isinstance(want, Mapping):
            _check_data(got, want, f"{where}: document {position} of the result")
        elif _text_of(text, old_lines, want) != _text_of(result, new_lines, got):
            raise RewriteError(f"{where}: document {position} of the result would change")


def _problem(exc: yaml.YAMLError) -> str:
    """A parser error on one line: what and where."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def _text_of(text: str, lines: Lines, node: yaml.Node | None) -> str:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL and not node.value):
        return ""
    return text[node.start_mark.index : lines.ends[last_line(text, lines, node)]]


def _compose_one(text: str) -> yaml.Node:
    node = next(compose_documents(text), None)
    if node is None:  # pragma: no cover - a dumped mapping always composes to a node
        raise RewriteError("a dumped document is empty")
    return node


def _check_reads_back(text: str, document: Mapping[str, Any], where: str) -> None:
    try:
        node = _compose_one(text)
    except yaml.YAMLError as exc:  # pragma: no cover - ruamel writes valid YAML
        raise RewriteError(f"{where}: the written document does not parse ({exc})") from None
    _check_data(node, document, where)


def _check_data(node: yaml.Node | None, document: Mapping[str, Any], where: str) -> None:
    try:
        value = None if node is None else build_document(node)[0]
    except DocumentRejected as exc:  # pragma: no cover - only for pathological values
        raise RewriteError(f"{where}: {exc}") from None
    if not _same(value, document):
        raise RewriteError(f"{where} does not read back as the data given; nothing written")


def _same(built: Any, given: Any) -> bool:
    """Equal as data, with types (True is not 1) and keys as Kubernetes reads them."""
    if isinstance(given, Mapping):
        if not isinstance(built, dict) or len(built) != len(given):
            return False
        return all(key_text(k) in built and _same(built[key_text(k)], v) for k, v in given.items())
    if isinstance(given, (list, tuple)):
        return (
            isinstance(built, list)
            and len(built) == len(given)
            and all(_same(b, g) for b, g in zip(built, given, strict=True))
        )
    if isinstance(given, float) and isinstance(built, float):
        return built == given or (math.isnan(built) and math.isnan(given))
    return type(built) is type(given) and built == given


def _dump(document: Mapping[str, Any], style: Style, where: str) -> str:
    """One document in block style as ruamel writes it, with LF line breaks (simple ones
    without ruamel's emitter: `migrate.rewrite.emit`)."""
    if not isinstance(document, Mapping):
        raise RewriteError(f"{where} is a {type(document).__name__}, not a mapping")
    fast = fast_dump(document, style.indent, style.sequence_offset, style.quote)
    return ruamel_dump(document, style, where) if fast is None else fast


def ruamel_dump(document: Mapping[str, Any], style: Style, where: str) -> str:
    """One document dumped by ruamel in block style, with LF line breaks."""
    instance = make_yaml("rt")
    instance.indent(
        mapping=style.indent, sequence=style.sequence_offset + 2, offset=style.sequence_offset
    )
    instance.width = _WIDTH
    representer = instance.representer
    # Floats as YAML 1.1 readers (Kubernetes, PyYAML) read them; set on this instance only.
    representer.yaml_representers = {
        **RoundTripRepresenter.yaml_representers,
        float: _represent_float,
    }
    out = io.StringIO()
    instance.dump(_to_ruamel(document, where, style.quote), out)
    return out.getvalue()


def _represent_float(representer: RoundTripRepresenter, value: float) -> Any:
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
    return representer.represent_scalar("tag:yaml.org,2002:float", text)


def _to_ruamel(value: Any, where: str, quote: str = "") -> Any:
    """Plain data as ruamel round-trip data; strings a YAML 1.1 reader would take for another
    type are quoted, and string values take the `quote` style when one is given."""
    if isinstance(value, Mapping):
        mapping = CommentedMap()
        for key, item in value.items():
            if not isinstance(key, (str, int, float)):
                raise RewriteError(f"{where}: a key of type {type(key).__name__} cannot be written")
            mapping[_key(key, quote) if isinstance(key, str) else key] = _to_ruamel(
                item, where, quote
            )
        return mapping
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_to_ruamel(item, where, quote) for item in value)
    if isinstance(value, str):
        if quote == '"':
            return DoubleQuotedScalarString(value)
        if quote == "'" and not any(ch in value for ch in "\r\n\x85\u2028\u2029"):
            return SingleQuotedScalarString(value)  # line breaks need double quotes
        return _string(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise RewriteError(f"{where}: a value of type {type(value).__name__} cannot be written")


def _key(key: str, quote: str) -> str:
    """A mapping key: plain where YAML reads it as a string, else quoted in the file's style
    (`"8080":` in a file that double-quotes its strings)."""
    text = _string(key)
    if quote == '"' and isinstance(text, SingleQuotedScalarString):
        quoted: str = DoubleQuotedScalarString(str.__str__(key))
        return quoted
    return text


def _string(value: str) -> str:
    text = str.__str__(value)
    quoted: str
    if any(ch in text for ch in "\x85\u2028\u2029"):
        quoted = DoubleQuotedScalarString(text)
        return quoted
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag != _STR:
        quoted = SingleQuotedScalarString(text)
        return quoted
    return text
