"""Validation: each Istio authentication resource against its JSON Schema (`schema`) and the
admission webhook's rules that a schema cannot express (`webhook`). `migrate.validate`
re-exports the schema API."""

from __future__ import annotations

from migrate.validate.schema import (
    INVENTORY_SCHEMA,
    KNOWN_KINDS,
    load_schema,
    path_text,
    validate_document,
    validate_inventory_document,
    validator_for,
)

__all__ = [
    "INVENTORY_SCHEMA",
    "KNOWN_KINDS",
    "load_schema",
    "path_text",
    "validate_document",
    "validate_inventory_document",
    "validator_for",
]
