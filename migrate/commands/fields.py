"""What changed inside a resource both sides define, field by field (as dyff shows a
Kubernetes diff): each change with its path, `spec.jwtRules[0].issuer`, and both values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_KINDS = {
    "values_changed": "changed",
    "type_changes": "changed",
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field: its path, `changed`, `added` or `removed`, and its values (None where
    the side does not have it)."""

    path: str
    change: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class ResourceEdit:
    """A resource defined on both sides with other content."""

    ref: str
    changes: tuple[FieldChange, ...]


def resource_edits(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[ResourceEdit]:
    """The resources (`Kind namespace/name` to document) both sides define differently."""
    edits = []
    for ref, data in after.items():
        old = before.get(ref)
        if old is not None and plain(old) != plain(data):
            edits.append(ResourceEdit(ref, tuple(field_changes(old, data))))
    return edits


def field_changes(before: Any, after: Any) -> list[FieldChange]:
    """Every field that differs, in path order; list items are compared by position."""
    from deepdiff import DeepDiff  # 90 ms to import: only a review with edits pays it

    found = []
    diff = DeepDiff(plain(before), plain(after), view="tree", verbose_level=2)
    for report, levels in diff.items():
        change = _KINDS.get(report)
        if change is None:
            continue
        for level in levels:
            found.append(
                FieldChange(
                    path_text(level.path(output_format="list")),
                    change,
                    None if change == "added" else level.t1,
                    None if change == "removed" else level.t2,
                )
            )
    return sorted(found, key=lambda c: c.path)


def path_text(keys: list[Any]) -> str:
    """`spec.jwtRules[0].issuer`; a key that is not a plain name is quoted,
    `metadata.annotations["authn-migrate.io/converted-from"]`."""
    text = ""
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        elif _PLAIN_KEY.match(str(key)):
            text += f".{key}" if text else str(key)
        else:
            text += f"[{str(key)!r}]".replace("'", '"')
    return text


def plain(value: Any) -> Any:
    """Mappings, lists and scalars as built-in types (the round-trip loader's subclasses
    carry comments and positions a comparison must not see)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    for kind in (bool, str, int, float):  # quoting styles and number formats aside
        if isinstance(value, kind):
            return kind(value)
    return value
