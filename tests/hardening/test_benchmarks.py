"""The benchmark's generator still writes a mesh that `verify` reads without errors, and
writes the same bytes for the same seed, so benchmarks/ cannot rot unnoticed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from migrate.commands.verify import verify_paths
from migrate.findings import Severity

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "generate.py"
TINY = ["--namespaces", "3", "--services-per-namespace", "3", "--policies", "6"]


def load_generator() -> ModuleType:
    """benchmarks/generate.py as a module (benchmarks/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("benchmark_generate", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return load_generator()


def run(generator: ModuleType, out: Path, *extra: str) -> None:
    assert generator.main([*TINY, "--out", str(out), *extra]) == 0


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_generated_mesh_parses_and_verifies(generator: ModuleType, tmp_path: Path) -> None:
    """Both sides parse as Kubernetes documents, and verify compares them without an error."""
    run(generator, tmp_path, "--path-conditions", "4", "--side", "both")
    for side in ("alpha", "beta"):
        files = sorted((tmp_path / side).rglob("*.yaml"))
        assert files
        for path in files:
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                assert document["apiVersion"]
                assert document["kind"]
    report = verify_paths([str(tmp_path / "alpha")], [str(tmp_path / "beta")])
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert errors == []
    assert report.evaluated > 0
    assert report.workloads >= 9


def test_sides_share_the_inventory(generator: ModuleType, tmp_path: Path) -> None:
    """alpha/ and beta/ differ only in their policy files."""
    run(generator, tmp_path, "--side", "both")
    alpha, beta = contents(tmp_path / "alpha"), contents(tmp_path / "beta")
    policies = ("authn-policies.yaml", "security-policies.yaml", "meshpolicy.yaml")
    policies += ("peer-authentication.yaml",)
    shared = {k for k in alpha if not k.endswith(policies)}
    assert shared == {k for k in beta if not k.endswith(policies)}
    assert all(alpha[k] == beta[k] for k in shared)
    assert any(k.endswith("authn-policies.yaml") for k in alpha)
    assert any(k.endswith("security-policies.yaml") for k in beta)


@pytest.mark.parametrize("side", ["alpha", "beta", "both"])
def test_generator_is_deterministic(generator: ModuleType, tmp_path: Path, side: str) -> None:
    """The same seed writes the same files, byte for byte; another seed does not."""
    for name, seed in (("first", "1"), ("second", "1"), ("other", "2")):
        run(generator, tmp_path / name, "--seed", seed, "--side", side)
    first = contents(tmp_path / "first")
    assert first
    assert contents(tmp_path / "second") == first
    assert contents(tmp_path / "other") != first


def test_whole_cli_benchmark_runs_at_a_small_size() -> None:
    """benchmarks/bench_cli.py --quick runs scan, convert --check, the three reviews (the whole
    conversion, one namespace's, the MeshPolicy's), plan and tls-check on a generated
    repository and prints the table with the floor ratio (figures not asserted), and what each
    review proved: one namespace's conversion leaves the others uncompared, the mesh's none."""
    script = GENERATOR.parent / "bench_cli.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    header, _, row = done.stdout.strip().splitlines()[-3:]
    for command in ("scan", "convert", "review", "review-ns", "review-mesh", "plan", "tls-check"):
        assert f" {command} s " in header
    assert row.split()[0] == "100"
    proven = next(line for line in done.stdout.splitlines() if line.startswith("  100 services:"))
    series = dict(re.findall(r"(review[-\w]*)(?: \([\w-]+\))? ([\d,]+ classes; [\d,]+)", proven))
    assert set(series) == {"review", "review-ns", "review-mesh"}
    namespaces = {name: int(text.rpartition(" ")[2]) for name, text in series.items()}
    assert namespaces["review-ns"] > 0
    assert namespaces["review-mesh"] == 0
