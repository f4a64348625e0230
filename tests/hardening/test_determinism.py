"""The same input gives byte-identical output whatever the hash seed: every command's output
(diff, YAML, JSON, SARIF, the plan's files, the review) is compared across PYTHONHASHSEED
values, so that no set or dict order leaks into what users see or write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo_kit import BOOT, EXAMPLES, generate_repo, git

SEEDS = ["0", "1", "2", "12345", "random"]
COMMANDS = {
    "convert-diff": ["convert", "examples", "mesh-alpha"],
    "convert-yaml": ["convert", "examples", "mesh-alpha", "-o", "yaml"],
    "convert-split": ["convert", "mesh-alpha", "--split"],
    "verify-json": ["verify", "examples/httpbin-jwt", "mesh", "-o", "json"],
    "verify-text": ["verify", "mesh-alpha", "mesh"],
    "scan-json": ["scan", "examples", "mesh-alpha", "-o", "json"],
    "scan-sarif": ["scan", "examples", "-o", "sarif"],
    "plan": ["plan", "mesh-alpha", "--out", "plan-out"],
    "tls-check-json": ["tls-check", "examples", "mesh-alpha", "-o", "json"],
    "review-json": ["review", "--base", "HEAD", "mesh", "-o", "json"],
    "review-markdown": ["review", "--base", "HEAD", "mesh", "-o", "markdown"],
}
DRIVER = """\
import json, shutil, sys
from pathlib import Path
del sys.path[0]
from typer.testing import CliRunner
from migrate.cli import app
commands, out = json.loads(sys.argv[1]), sys.argv[2]
results = {}
for name, args in commands.items():
    shutil.rmtree("plan-out", ignore_errors=True)
    result = CliRunner().invoke(app, args)
    files = {
        p.as_posix(): p.read_text() for p in sorted(Path("plan-out").rglob("*")) if p.is_file()
    }
    results[name] = [result.exit_code, result.stdout, result.stderr, files]
Path(out).write_text(json.dumps(results))
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples, a generated mesh (alpha), and a git repository whose work tree holds
    the same mesh converted (for review)."""
    root = tmp_path_factory.mktemp("determinism")
    shutil.copytree(EXAMPLES, root / "examples")
    generate_repo(root / "mesh-alpha", namespaces=3, services=4, policies=8, seed=7)
    shutil.copytree(root / "mesh-alpha", root / "mesh")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        [sys.executable, "-c", BOOT, "convert", "--write", "mesh"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    return root


def _outputs(root: Path, seed: str) -> dict[str, Any]:
    out = root.parent / f"outputs-{seed}.json"
    subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(COMMANDS), str(out)],
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": seed},
        check=True,
        capture_output=True,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def test_every_command_prints_and_writes_the_same_bytes_under_every_hash_seed(
    workspace: Path,
) -> None:
    """Each command's exit code, standard output, standard error and written files are the
    same under PYTHONHASHSEED 0, 1, 2, 12345 and random."""
    first = _outputs(workspace, SEEDS[0])
    assert "Traceback" not in json.dumps(first)
    assert first["plan"][3], "the plan wrote no file"
    assert first["review-json"][1].startswith("{")
    for seed in SEEDS[1:]:
        other = _outputs(workspace, seed)
        differing = [name for name in COMMANDS if other[name] != first[name]]
        assert differing == [], f"PYTHONHASHSEED={seed} changes {differing}"
