"""Whole repositories for the hardening tests: generated meshes, snapshots of every file's
bytes, and the CLI run as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "benchmarks" / "generate.py"
EXAMPLES = ROOT / "examples"


def generate_repo(
    out: Path, *, namespaces: int, services: int, policies: int, seed: int = 1
) -> Path:
    """Write the alpha side of a synthetic mesh repository (benchmarks/generate.py) to `out`."""
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            *("--namespaces", str(namespaces), "--services-per-namespace", str(services)),
            *("--policies", str(policies), "--path-conditions", "4", "--seed", str(seed)),
            *("--out", str(out), "--side", "alpha"),
        ],
        check=True,
        capture_output=True,
    )
    return out


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every regular file below `tree` (hidden ones included), by relative path."""
    found = {}
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as stream:  # not Path.read_bytes, which tests may patch
                found[path.relative_to(tree).as_posix()] = stream.read()
    return found


WEB_SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""
WEB_JWT_POLICY = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: web-jwt, namespace: shop}
spec:
  targets: [{name: web}]
  origins:
  - jwt:
      issuer: https://issuer.example
      jwksUri: https://issuer.example/.well-known/jwks.json
  principalBinding: USE_ORIGIN
"""
"""A Service and the JWT policy that targets it: the smallest repository with a policy."""

PEER_JWT = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: zz}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: p, namespace: zz}
spec:
  targets: [{name: web}]
  peers: [{jwt: {issuer: i}}]
"""
"""A JWT as a peer method, which Istio never honoured: its conversion is looser."""

BOOT = (
    "import sys; del sys.path[0]; sys.argv[0] = 'authn-migrate'; "
    "from migrate.cli import main; main()"
)
"""As the console script starts: the working directory (maybe a scanned repository) is not
put on the import path, unlike `python -m`."""


def cli_command(*args: str) -> list[str]:
    """The command line that runs authn-migrate with `args` in a fresh interpreter."""
    return [sys.executable, "-c", BOOT, *args]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run authn-migrate as its own process in `cwd`, capturing its output as bytes."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        cli_command(*args), cwd=cwd, env=environment, capture_output=True, check=False
    )


def git(repo: Path, *args: str) -> None:
    """Run git in `repo` with a fixed identity."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def write_killed_between_renames(folder: Path, monkeypatch: Any) -> None:
    """Convert the files in `folder` with `--write`'s writer, dying after its first file is
    renamed (the rename before it records the journal): a write left pending."""
    from migrate.commands.convert import convert_paths
    from migrate.rewrite.files import write_atomically

    changes = convert_paths([str(folder)]).changes
    real_replace = os.replace
    calls = []

    def dying_replace(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise SystemExit("killed")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", dying_replace)
    try:
        write_atomically(changes, [folder])
    except SystemExit:
        pass
    else:
        raise AssertionError("the write was not killed")
    finally:
        monkeypatch.setattr(os, "replace", real_replace)


EXEC_GENERATOR = """\
apiVersion: example.com/v1
kind: Fire
metadata:
  name: fire
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./fire.sh
"""
"""A Kustomize generator that asks to run `./fire.sh`: the engine must refuse it."""
