"""Metadata of converted resources: the name, the namespace, the user's labels and
annotations, a provenance annotation; never server-side fields."""

from __future__ import annotations

from typing import Any

from migrate.model.beta import PROVENANCE
from migrate.workspace import PolicyEntry

_DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


def metadata(entry: PolicyEntry, name: str, namespace: str) -> dict[str, Any]:
    """`metadata` for a resource converted from `entry`."""
    source = entry.document.metadata
    result: dict[str, Any] = {"name": name, "namespace": namespace}
    labels = source.get("labels")
    if isinstance(labels, dict) and labels:
        result["labels"] = dict(labels)
    annotations = source.get("annotations")
    kept = {
        k: v
        for k, v in (annotations.items() if isinstance(annotations, dict) else ())
        if k not in _DROPPED_ANNOTATIONS and k != PROVENANCE
    }
    kept[PROVENANCE] = entry.ref
    result["annotations"] = kept
    return result


def resource(
    api_version: str, kind: str, meta: dict[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    """A resource in the canonical key order."""
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": spec}
