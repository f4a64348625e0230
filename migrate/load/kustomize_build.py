"""Running the real kustomize: `kustomize build DIR` when that binary is on PATH, else
`kubectl kustomize DIR`. The repository is untrusted, so the engine runs without a shell,
with a timeout, with its defaults that keep plugins, exec functions and Helm off, with the
load restrictor that keeps files inside each kustomization's folder, and with the network
made unreachable for git and HTTP (remote entries are refused before, `overlays.unbuildable`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from migrate.load.gitcmd import git_environment

TIMEOUT_SECONDS = 120
_NOWHERE = "http://127.0.0.1:9"
_SAFE_FLAGS = ("--load-restrictor", "LoadRestrictionsRootOnly")


@dataclass(frozen=True, slots=True)
class Engine:
    """A kustomize found on PATH: the command that builds a folder, and its version."""

    command: tuple[str, ...]
    version: str

    @property
    def name(self) -> str:
        """`kustomize` or `kubectl kustomize`, with the version."""
        program = "kustomize" if self.command[1] == "build" else "kubectl kustomize"
        return f"{program} {self.version}".strip()


@dataclass(frozen=True, slots=True)
class Build:
    """The output of one build, or why there is none."""

    text: str | None
    error: str | None = None


def find_engine() -> Engine | None:
    """`kustomize` when on PATH, else `kubectl` (which embeds kustomize), else None."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return Engine((kustomize, "build"), _version([kustomize, "version"]))
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return Engine((kubectl, "kustomize"), _version([kubectl, "version", "--client"]))
    return None


def build(engine: Engine, directory: Path) -> Build:
    """`kustomize build` of `directory`, as its output or the engine's error."""
    try:
        done = subprocess.run(
            [*engine.command, str(directory), *_SAFE_FLAGS],
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            env=_environment(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return Build(None, f"{engine.name} did not finish in {TIMEOUT_SECONDS} s")
    except OSError as exc:
        return Build(None, f"{engine.name} could not run: {exc.strerror or exc}")
    if done.returncode != 0:
        message = error_text(done.stderr.decode("utf-8", "replace"))
        return Build(None, message or f"exit {done.returncode}")
    return Build(done.stdout.decode("utf-8", "replace"))


_KLOG_QUOTED = re.compile(r'err="((?:[^"\\]|\\.)*)"')
_KLOG_BLOCK = re.compile(r"err=<\n(.*?)\n\s*>", re.DOTALL)
_MAX_MESSAGE = 600


def error_text(stderr: str) -> str:
    """The engine's error on one line: kustomize's `Error: ...`, or the `err=` of kubectl's
    log line (quoted, or a `<...>` block), without timestamps, process ids or warnings."""
    lines = [row for row in stderr.splitlines() if row.strip() and not row.startswith("# ")]
    text = "\n".join(lines)
    quoted = _KLOG_QUOTED.search(text)
    block = _KLOG_BLOCK.search(text)
    if quoted is not None:
        message = quoted.group(1).replace('\\"', '"')
    elif block is not None:
        message = " ".join(row.strip() for row in block.group(1).splitlines() if row.strip())
    else:
        errors = [row for row in lines if row.lower().startswith("error")]
        message = (errors[0].partition(":")[2] if errors else lines[-1] if lines else "").strip()
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=30, check=False, env=_environment()
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Kustomize Version:"):
            return line.partition(":")[2].strip()
        if line.strip().startswith("v") and command[-1] == "version":
            return line.strip()
    return ""


def _environment() -> dict[str, str]:
    """The engine's environment: git's hardened one (kustomize runs git for remote bases:
    no transport, no system configuration, no prompt), every proxy pointing nowhere with no
    exception, and no cluster configuration."""
    keep = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SYSTEMROOT")
    env = git_environment({k: v for k, v in os.environ.items() if k in keep})
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[key] = _NOWHERE
    env.update(NO_PROXY="", no_proxy="", KUBECONFIG=os.devnull)
    return env
