"""Comments of a document being rewritten: where they are, which field each follows, and how
they are put back on the lines of the new documents.

Comments are found by scanning the document's text lines with the node marks of the PyYAML
composer: a `#` that starts a line or follows a blank, outside every scalar, starts a comment
that runs to the end of the line. An end-of-line comment belongs to the field whose key or value
ends last before it on the same line.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml

from migrate.load.documents import PathKey

Path = tuple[PathKey, ...]

_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_BLANKS = " \t"
_SPACE = " \t\r\n\x85\u2028\u2029"
DASHES = re.compile(r"---(?:[ \t]|$)")
"""A `---` document start line."""
DOTS = re.compile(r"\.\.\.(?:[ \t]|$)")
"""A `...` document end line."""
_MARKER_COMMENT = re.compile(r"[ \t](#.*)$")
_FINAL_BREAK = re.compile(r"(?:\r\n|[\r\n\x85\u2028\u2029])\Z")


class Lines:
    """A text cut into lines at the line breaks YAML knows (CR LF, CR, LF, NEL, LS, PS)."""

    def __init__(self, text: str, breaks: re.Pattern[str] = _BREAK) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []
        for match in breaks.finditer(text):
            self.ends.append(match.start())
            self.starts.append(match.end())
        self.ends.append(len(text))

    def __len__(self) -> int:
        return len(self.starts)

    def line_of(self, index: int) -> int:
        """The 0-based line holding character `index` (or its line break)."""
        return bisect.bisect_right(self.starts, index) - 1

    def content(self, line: int) -> str:
        """The line without its line break."""
        return self.text[self.starts[line] : self.ends[line]]

    def brk(self, line: int) -> str:
        """The line break ending `line` ("" for the last line)."""
        return self.text[self.ends[line] : self.starts[line + 1]] if line + 1 < len(self) else ""


def is_comment_line(content: str) -> bool:
    """A line holding only a comment."""
    return content.lstrip(_BLANKS).startswith("#")


def is_blank_line(content: str) -> bool:
    """A line holding only blanks."""
    return not content.strip(_BLANKS)


def last_line(text: str, lines: Lines, node: yaml.Node) -> int:
    """The last line holding content of `node`: the line of its last scalar or flow collection,
    or a later line before the node's end that is neither blank nor a comment (an alias)."""
    start = node.start_mark.index
    end = start
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode) or (
            isinstance(current, yaml.CollectionNode) and current.flow_style
        ):
            end = max(end, current.end_mark.index)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(item for pair in current.value for item in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    while end > start and text[end - 1] in _SPACE:  # a block scalar's trailing breaks
        end -= 1
    last = lines.line_of(max(start, end - 1))
    line = last + 1
    while line < len(lines) and lines.starts[line] < node.end_mark.index:
        content = lines.content(line)
        if not (is_blank_line(content) or is_comment_line(content)):
            last = line
        line += 1
    return last


def marker_line(lines: Lines, order: range, marker: re.Pattern[str]) -> int | None:
    """The first line in `order` past blank and comment lines, if it is `marker`."""
    for line in order:
        content = lines.content(line)
        if is_blank_line(content) or is_comment_line(content):
            continue
        return line if marker.match(content) else None
    return None


def marker_comment(content: str) -> list[str]:
    """The comment of a `---` or `...` line, as a line of its own."""
    match = _MARKER_COMMENT.search(content)
    return [match.group(1).rstrip(" \t")] if match else []


def apply_edits(lines: Lines, edits: list[tuple[int, int, list[str]]], newline: str) -> str:
    """The text with lines `first`..`last` of each edit replaced; new lines end with `newline`,
    the last of them with the break of the line it replaces."""
    out: list[str] = []
    line = 0
    for first, last, new in sorted(edits):
        out.extend(lines.content(i) + lines.brk(i) for i in range(line, first))
        out.extend(text + newline for text in new[:-1])
        if new:
            out.append(new[-1] + lines.brk(last))
        line = last + 1
    out.extend(lines.content(i) + lines.brk(i) for i in range(line, len(lines)))
    result = "".join(out)
    if not _FINAL_BREAK.search(lines.text):
        result = _FINAL_BREAK.sub("", result)  # a deleted last line took the final newline
    return result


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment of the old document: its text (from `#`, trailing blanks removed), its
    0-based line, and for an end-of-line comment the path of the field it follows."""

    text: str
    line: int
    full_line: bool
    path: Path | None


@dataclass(slots=True)
class _Marks:
    """What the node tree says about the text: scalar extents and where fields end."""

    masks: list[tuple[int, int]]
    ends: list[tuple[int, int, Path]]  # (end index, walk order, path)


def _walk(node: yaml.Node, path: Path, text: str, marks: _Marks, seen: set[int]) -> None:
    if id(node) in seen:  # an alias: the anchored node has been walked already
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        start = _after_properties(text, node.start_mark.index, node.end_mark.index)
        end = node.end_mark.index
        if node.style in ("|", ">"):
            header_end = _BREAK.search(text, start, end)
            start = end if header_end is None else header_end.start()
        else:
            marks.ends.append((end, len(marks.ends), path))
        if start < end:
            marks.masks.append((start, end))
        return
    if isinstance(node, yaml.CollectionNode) and node.flow_style:
        marks.ends.append((node.end_mark.index, len(marks.ends), path))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, str(key_node.value))
                _walk(key_node, child, text, marks, seen)
                _walk(value_node, child, text, marks, seen)
            else:  # a complex key: its comments map nowhere
                _walk(key_node, (*path, "?"), text, marks, seen)
                _walk(value_node, (*path, "?"), text, marks, seen)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _walk(item, (*path, position), text, marks, seen)


def _after_properties(text: str, start: int, end: int) -> int:
    """Where a scalar's own text begins after its anchor and tag (and any comment between)."""
    index = start
    while index < end and text[index] in "&!":
        while index < end and text[index] not in _SPACE:
            index += 1
        while index < end and text[index] in _SPACE + "#":
            if text[index] == "#":
                while index < end and text[index] not in "\r\n\x85\u2028\u2029":
                    index += 1
            else:
                index += 1
    return index


def find_comments(text: str, lines: Lines, node: yaml.Node, first: int, last: int) -> list[Comment]:
    """Every comment on lines `first`..`last` (inclusive) of the document `node`."""
    marks = _Marks([], [])
    _walk(node, (), text, marks, set())
    marks.masks.sort()
    mask_starts = [start for start, _ in marks.masks]
    marks.ends.sort()
    end_keys = [(end, order) for end, order, _ in marks.ends]

    def masked(index: int) -> bool:
        found = bisect.bisect_right(mask_starts, index) - 1
        return found >= 0 and marks.masks[found][0] <= index < marks.masks[found][1]

    found: list[Comment] = []
    for line in range(first, last + 1):
        start = lines.starts[line]
        content = lines.content(line)
        column = content.find("#")
        while column >= 0:
            index = start + column
            if (column == 0 or content[column - 1] in _BLANKS) and not masked(index):
                full = not content[:column].strip(_BLANKS)
                path = None
                if not full:
                    before = bisect.bisect_right(end_keys, (index, len(end_keys))) - 1
                    if before >= 0 and marks.ends[before][0] >= start:
                        path = marks.ends[before][2]
                found.append(Comment(content[column:].rstrip(_BLANKS), line, full, path))
                break
            column = content.find("#", column + 1)
    return found


@dataclass(frozen=True, slots=True)
class Move:
    """Where a field of the old document went: a document index and a path in it."""

    old: Path
    document: int
    new: Path


def _step_matches(actual: PathKey, given: PathKey) -> bool:
    if isinstance(actual, int):  # a sequence position
        return isinstance(given, int) and not isinstance(given, bool) and given == actual
    return actual == key_text(given)


def key_text(key: object) -> str:
    """A mapping key as text, as a YAML reader compares it with the keys of a node tree."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def target_of(
    path: Path, moves: Sequence[Move], exists: Mapping[int, yaml.Node]
) -> tuple[int, Path] | None:
    """The new document and path for a comment on `path`: the move with the longest old path
    that is `path` or an ancestor of it, whose translated path exists in the new document."""
    candidates = [
        move
        for move in moves
        if len(move.old) <= len(path)
        and all(_step_matches(a, g) for a, g in zip(path, move.old, strict=False))
    ]
    for move in sorted(candidates, key=lambda m: -len(m.old)):
        new_path = (*move.new, *path[len(move.old) :])
        root = exists.get(move.document)
        if new_path and root is not None and locate_line(root, new_path) is not None:
            return move.document, new_path
    return None


def _child(node: yaml.Node, step: PathKey) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        wanted = key_text(step)
        for key_node, value_node in reversed(node.value):
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == wanted:
                return key_node, value_node
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and not isinstance(step, bool):
        return (None, node.value[step]) if 0 <= step < len(node.value) else None
    return None


def locate_line(root: yaml.Node, path: Path) -> int | None:
    """The character index on whose line a comment on `path` of the rendered document goes:
    after a one-line value, on a block scalar's header, or on the key of a block collection."""
    node = root
    key: yaml.Node | None = None
    for step in path:
        found = _child(node, step)
        if found is None:
            return None
        key, node = found
    if isinstance(node, yaml.ScalarNode):
        return node.start_mark.index if node.style in ("|", ">") else node.end_mark.index
    if isinstance(node, yaml.CollectionNode) and node.flow_style:
        return node.end_mark.index
    return key.start_mark.index if key is not None else node.start_mark.index


def append_comments(text: str, root: yaml.Node, placed: Sequence[tuple[Path, str]]) -> list[str]:
    """The rendered document `text` (LF line breaks) as lines, each comment appended to the line
    of its path; `placed` holds only paths that `locate_line` finds."""
    lines = Lines(text, re.compile("\n"))
    result = [lines.content(line) for line in range(len(lines))]
    if result and not result[-1]:
        result.pop()
    for path, comment in placed:
        index = locate_line(root, path)
        if index is not None:
            line = lines.line_of(index)
            result[line] = f"{result[line]}  {comment}"
    return result


def comment_lines(comments: Sequence[Comment]) -> list[str]:
    """Comments as full lines at column 0, in order."""
    return [comment.text for comment in comments]
