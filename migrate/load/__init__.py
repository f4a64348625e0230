"""Reading the input: discovery, decoding, YAML composition, documents with their origins, and
the namespace a document belongs to. `migrate.load` re-exports the documents API."""

from __future__ import annotations

from migrate.load.documents import (
    LAZY_NODE_KINDS,
    READ_KINDS,
    Document,
    LoadedFile,
    LoadResult,
    Origin,
    PathKey,
    is_read,
    load_paths,
    load_source,
    load_sources,
    parse_text,
)

__all__ = [
    "LAZY_NODE_KINDS",
    "READ_KINDS",
    "Document",
    "LoadResult",
    "LoadedFile",
    "Origin",
    "PathKey",
    "is_read",
    "load_paths",
    "load_source",
    "load_sources",
    "parse_text",
]
