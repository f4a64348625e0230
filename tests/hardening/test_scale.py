"""What keeps large repositories cheap: files without a policy are never rewritten, and no
input is ever parsed by the round-trip parser (the rewriter edits text spans)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from manifests import service
from ruamel.yaml.main import YAML

from migrate import parallel
from migrate.commands.convert import convert_paths
from migrate.convert import changes as changes_module

POLICY = """\
# the one file with a policy
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: shop}
spec:
  peers: [{mtls: {}}]
"""
SERVICE = service("shop")


def _crd(fields: int) -> str:
    lines = [
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata: {name: widgets.example.com}",
        "spec:",
        "  versions:",
        "  - name: v1",
        "    schema:",
        "      openAPIV3Schema:",
        "        properties:",
    ]
    for index in range(fields):
        lines += [f"          field{index}:", "            type: string  # UNRELATED"]
    return "\n".join(lines) + "\n"


def test_unrelated_files_are_never_rewritten_nor_round_tripped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Converting a tree with a large CRD file rewrites only the policy's file, and the
    round-trip parser never reads any input."""
    (tmp_path / "crds.yaml").write_text(_crd(5000))
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "service.yaml").write_text(SERVICE)
    rewritten: list[str] = []
    original = changes_module.rewrite

    def recording(text: Any, replacements: Any) -> str:
        rewritten.append(text.path)
        return original(text, replacements)

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the round-trip parser read an input")

    monkeypatch.setattr(changes_module, "rewrite", recording)
    for method in ("load", "load_all", "compose", "compose_all", "parse"):
        monkeypatch.setattr(YAML, method, refuse)
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")  # files rewritten here, where the spy is
    result = convert_paths([str(tmp_path)])
    assert [Path(p).name for p in rewritten] == ["policy.yaml"]
    assert [c.path.name for c in result.changes] == ["policy.yaml"]
    assert result.report.evaluated > 0
