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
