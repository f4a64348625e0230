"""Listing split-out files in the kustomization that listed the original (text edits, so every
other byte of the kustomization stays as it was).

    resources:                      resources:
    - authn-policy.yaml     ->      - peerauthentication-default.yaml
    - services.yaml                 - services.yaml

(the original's line stays when the original still holds other documents).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from migrate.load.namespaces import KUSTOMIZATION_NAMES
from migrate.load.yamlio import compose_documents
from migrate.rewrite.documents import RewriteError
from migrate.rewrite.files import FileChange
from migrate.workspace import Workspace


def list_files(
    workspace: Workspace,
    original: Path,
    new_files: list[Path],
    *,
    remove: bool,
    texts: dict[Path, str],
) -> list[FileChange]:
    """Edits of every kustomization listing `original`: the new files after its entry, and
    the entry itself gone when `remove`. `texts` holds kustomization texts already edited."""
    changes = []
    for loaded in workspace.loaded.files:
        path = loaded.source.path
        if path is None or loaded.text is None or path.name not in KUSTOMIZATION_NAMES:
            continue
        current = texts.get(path, loaded.text.text)
        edited = _edit(
            current, path.parent, original, new_files, remove=remove, newline=loaded.text.newline
        )
        if edited is not None:
            texts[path] = edited
            changes.append(
                FileChange(path, loaded.source.display, loaded.text.text, edited, loaded.text)
            )
    return changes


def _edit(
    text: str, base: Path, original: Path, new_files: list[Path], *, remove: bool, newline: str
) -> str | None:
    try:
        nodes = [n for n in compose_documents(text) if n is not None]
    except yaml.YAMLError as exc:
        raise RewriteError(f"a kustomization does not parse: {exc}") from None
    for node in nodes:
        entry = _entry(node, base, original)
        if entry is None:
            continue
        lines = text.splitlines(keepends=True)
        line = entry.start_mark.line
        row = lines[line]
        prefix = row[: entry.start_mark.column]
        if not prefix.strip().startswith("-"):
            raise RewriteError("the kustomization lists resources in flow style")
        added = [f"{prefix}{_relative(path, base)}{newline}" for path in new_files]
        lines[line : line + 1] = added if remove else [row, *added]
        return "".join(lines)
    return None


def _entry(node: yaml.Node, base: Path, original: Path) -> yaml.ScalarNode | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if key.value in ("resources", "bases") and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.ScalarNode) and (base / item.value).resolve() == (
                    original.resolve()
                ):
                    return item
    return None


def _relative(path: Path, base: Path) -> str:
    return path.resolve().relative_to(base.resolve()).as_posix()


def remove_entries(text: str, entries: set[tuple[str, int]]) -> str:
    """The kustomization without the given entries (key, index) of its block lists; a key
    whose every entry goes, goes too. Every other line stays as it was."""
    node = _mapping(text)
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    for key, value in node.value:
        if not isinstance(value, yaml.SequenceNode):
            continue
        indexes = {i for k, i in entries if k == key.value and 0 <= i < len(value.value)}
        if not indexes:
            continue
        if value.flow_style:
            raise RewriteError("the kustomization lists its patches in flow style")
        if len(indexes) == len(value.value):
            start, end = key.start_mark.line, _last_line(value, lines)
            drop.update(range(start, end + 1))
            blank_after = end + 1 < len(lines) and not lines[end + 1].strip()
            if blank_after and (start == 0 or not lines[start - 1].strip()):
                drop.add(end + 1)  # no two blank lines where the key was
            continue
        for index in indexes:
            item = value.value[index]
            after = value.value[index + 1] if index + 1 < len(value.value) else None
            end = after.start_mark.line - 1 if after is not None else _last_line(item, lines)
            drop.update(range(item.start_mark.line, end + 1))
    return "".join(row for number, row in enumerate(lines) if number not in drop)


def append_patches(text: str, items: list[list[str]], newline: str) -> str:
    """The kustomization with `items` (each an entry's lines, the first starting `- `) added
    at the end of its `patches:` list, or under a new `patches:` key at its end."""
    node = _mapping(text)
    lines = text.splitlines(keepends=True)
    for key, value in node.value:
        if key.value == "patches" and isinstance(value, yaml.SequenceNode) and value.value:
            if value.flow_style:
                raise RewriteError("the kustomization lists its patches in flow style")
            first = lines[value.value[0].start_mark.line]
            prefix = first[: first.index("-")]
            at = _last_line(value, lines) + 1
            added = [f"{prefix}{row}{newline}" for item in items for row in item]
            return "".join([*lines[:at], *added, *lines[at:]])
        if key.value == "patches":
            raise RewriteError("the kustomization's patches are not a list")
    body = "" if not text or text.endswith(("\n", "\r")) else newline
    added = [f"  {row}{newline}" for item in items for row in item]
    return text + body + f"patches:{newline}" + "".join(added)


def _mapping(text: str) -> yaml.MappingNode:
    try:
        nodes = [n for n in compose_documents(text) if n is not None]
    except yaml.YAMLError as exc:
        raise RewriteError(f"a kustomization does not parse: {exc}") from None
    if len(nodes) != 1 or not isinstance(nodes[0], yaml.MappingNode):
        raise RewriteError("a kustomization is not one mapping")
    return nodes[0]


def _last_line(node: yaml.Node, lines: list[str]) -> int:
    """The last line (0-based) holding content of `node`."""
    end = node.end_mark
    last = end.line if end.column > 0 else end.line - 1
    first = node.start_mark.line
    while last > first and (last >= len(lines) or not lines[last].strip()):
        last -= 1
    while last > first and lines[last].lstrip().startswith("#"):
        last -= 1
    return last
