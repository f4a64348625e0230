"""Reading fields of a document in their canonical spelling, with their locations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from migrate.findings import Location
from migrate.load.documents import Document, PathKey


def spelled(obj: Any, camel: str, snake: str | None = None) -> tuple[str | None, Any]:
    """The key used and its value; camelCase wins over snake_case, as gogo jsonpb decides."""
    if not isinstance(obj, dict):
        return None, None
    if camel in obj:
        return camel, obj[camel]
    if snake is not None and snake in obj:
        return snake, obj[snake]
    return None, None


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position inside a document: its value and the key path that reaches it."""

    doc: Document
    path: tuple[PathKey, ...]
    value: Any

    @property
    def location(self) -> Location:
        """Where this value is written."""
        return self.doc.locate(self.path)

    def field(self, camel: str, snake: str | None = None) -> Cursor:
        """The child field in either spelling (value None when absent)."""
        key, value = spelled(self.value, camel, snake)
        return Cursor(self.doc, (*self.path, key if key is not None else camel), value)

    def items(self) -> list[Cursor]:
        """The elements of a list value (none when it is not a list)."""
        if not isinstance(self.value, list):
            return []
        return [Cursor(self.doc, (*self.path, i), v) for i, v in enumerate(self.value)]

    def text(self) -> str:
        """The value as a string ("" when absent or null)."""
        return "" if self.value is None else str(self.value)

    def strings(self) -> tuple[str, ...]:
        """A list of strings (a lone scalar counts as one, as Istio's decoder would reject)."""
        if isinstance(self.value, list):
            return tuple(str(v) for v in self.value if v is not None)
        return ()

    def flag(self) -> bool:
        """A boolean field; only a real `true` counts."""
        return self.value is True


def labels(value: Any) -> dict[str, str]:
    """A string-to-string label map; other shapes give an empty map."""
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def root(doc: Document, path: Sequence[PathKey] = ()) -> Cursor:
    """A cursor at `path` in `doc`."""
    value: Any = doc.data
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            value = None
    return Cursor(doc, tuple(path), value)
