"""Verdict goldens: each `tests/cases/verdicts/<name>/` holds small repositories and a
`case.yaml` of CLI steps, each with the exit code and the text its output must (and must not)
contain. They pin the engine's verdicts where the inputs leave Istio's behaviour open
(releases, sniffing, duplicate documents, shared listeners) and the rules that keep a
verdict honest (plaintext twins, suppressions).

A step runs in a copy of the case folder; `{original}` names an untouched copy, for a
`verify` of the tree before against the tree a `convert --write` left. A step with `review`
first makes a git repository whose HEAD holds `base` and whose work tree holds `head`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from migrate.cli import app

CASES = Path(__file__).resolve().parents[1] / "cases" / "verdicts"
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _git(cwd: Path, *args: str) -> None:
    environment = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(
        ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env=environment,
    )


def _review_repository(work: Path, base: str, head: str) -> Path:
    """A git repository with `base` committed and `head` as its work tree."""
    repo = work / "review"
    shutil.copytree(work / base, repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(work / head, repo, dirs_exist_ok=True)
    return repo


def _run(cwd: Path, args: list[str]) -> tuple[int, str]:
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(previous)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("name", NAMES)
def test_verdict_golden(name: str, tmp_path: Path) -> None:
    """Each step exits as recorded, and its output holds (and lacks) the recorded text."""
    case: dict[str, Any] = yaml.safe_load((CASES / name / "case.yaml").read_text())
    work = tmp_path / "work"
    original = tmp_path / "original"
    shutil.copytree(CASES / name, work, ignore=shutil.ignore_patterns("case.yaml"))
    shutil.copytree(work, original)
    for number, step in enumerate(case["steps"], 1):
        cwd = work
        if "review" in step:
            cwd = _review_repository(work, step["review"]["base"], step["review"]["head"])
        args = [str(a).replace("{original}", str(original)) for a in step["run"]]
        code, output = _run(cwd, args)
        wanted = step["exit"] if isinstance(step["exit"], list) else [step["exit"]]
        assert code in wanted, f"step {number} {args}: exit {code}\n{output}"
        for text in step.get("output", []):
            assert text in output, f"step {number} {args}: missing {text!r}\n{output}"
        for text in step.get("absent", []):
            assert text not in output, f"step {number} {args}: unexpected {text!r}\n{output}"
