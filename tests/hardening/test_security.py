"""The tool's own security: it never executes or imports anything from the repository it
scans, YAML tags never construct objects, writes stay below the given paths, and no command
opens a network connection (a JWKS URI is never fetched).

The commands run in processes of their own under an audit hook that records every socket
event, every subprocess other than git, and every import or open of Python code from the
scanned repository."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from manifests import service
from repo_kit import BOOT, EXAMPLES, EXEC_GENERATOR, ROOT, WEB_JWT_POLICY
from typer.testing import CliRunner

from migrate.cli import app

AUDITED = """\
import json, os, sys
_repo, _log = os.environ["AUDIT_REPO"], os.environ["AUDIT_LOG"]
_busy = []
def _record(event, args):
    _busy.append(1)
    try:
        with open(_log, "a") as stream:
            stream.write(json.dumps([event, [str(a) for a in args]]) + "\\n")
    finally:
        _busy.pop()
def _hook(event, args):
    if _busy:
        return
    if event.startswith(("socket.", "urllib.", "http.", "ftplib.", "smtplib.")):
        _record(event, args)
    elif event == "subprocess.Popen" and os.path.basename(str(args[0])) != "git":
        _record(event, args)
    elif event in ("os.system", "os.exec", "os.posix_spawn", "os.spawn"):
        _record(event, args)
    elif event == "import" and str(args[1] or "").startswith(_repo):
        _record(event, args)
    elif event == "open" and str(args[0]).startswith(_repo) and str(args[0]).endswith(
        (".py", ".pyc", ".pth", ".so", ".sh")
    ):
        _record(event, args)
sys.addaudithook(_hook)
"""
CANARY = "import pathlib; pathlib.Path(__file__).with_name('FIRED-' + pathlib.Path(__file__).name).touch()\n"  # noqa: E501
JWT_POLICY = (
    WEB_JWT_POLICY
    + """\
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: other, namespace: elsewhere}
spec:
  jwtRules: [{issuer: https://b.example, jwksUri: 'http://169.254.169.254/latest/meta-data'}]
"""
)
SERVICE = service("shop")
KUSTOMIZATION = """\
resources: [policy.yaml, service.yaml]
generators: [generator.yaml]
transformers: [generator.yaml]
"""


def _hostile_repo(root: Path) -> Path:
    """A repository with policies (JWKS URIs included) and code that leaves a FIRED- file
    wherever it runs: Python files of every name Python or pytest would run, a .pth, a
    package shadowing ours, a kustomize exec plugin."""
    repo = root / "repo"
    (repo / "migrate").mkdir(parents=True)
    (repo / "policy.yaml").write_text(JWT_POLICY)
    (repo / "service.yaml").write_text(SERVICE)
    (repo / "kustomization.yaml").write_text(KUSTOMIZATION)
    (repo / "generator.yaml").write_text(EXEC_GENERATOR)
    for name in (
        "conftest.py",
        "setup.py",
        "__init__.py",
        "sitecustomize.py",
        "usercustomize.py",
        "typer.py",
        "yaml.py",
        "migrate/__init__.py",
        "migrate/cli.py",
        "__main__.py",
    ):
        (repo / name).write_text(CANARY)
    (repo / "evil.pth").write_text("import os; open('FIRED-pth', 'w')\n")
    fire = repo / "fire.sh"
    fire.write_text("#!/bin/sh\ntouch FIRED-exec-plugin\n")
    fire.chmod(0o755)
    return repo


def _audited(repo: Path, log: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUDIT_REPO": str(repo), "AUDIT_LOG": str(log)}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-c", AUDITED + BOOT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


COMMANDS = [
    pytest.param(["scan", "{repo}", "-o", "json"], 1, id="scan"),
    pytest.param(["verify", "{repo}"], 3, id="verify"),  # alpha vs beta of one tree
    pytest.param(["convert", "{repo}"], 0, id="convert-diff"),
    pytest.param(["convert", "{repo}", "-o", "yaml"], 0, id="convert-yaml"),
    pytest.param(["convert", "{repo}", "--write"], 0, id="convert-write"),
    pytest.param(["plan", "{repo}", "--out", "{outside}/plan"], 0, id="plan"),
    pytest.param(["tls-check", "{repo}", "-o", "json"], 0, id="tls-check"),
]


@pytest.mark.parametrize("in_repo", [True, False], ids=["cwd-in-repo", "cwd-outside"])
@pytest.mark.parametrize(("command", "exit_code"), COMMANDS)
def test_nothing_from_the_repository_runs_and_nothing_reaches_the_network(
    tmp_path: Path, command: list[str], exit_code: int, *, in_repo: bool
) -> None:
    """No canary fires, no Python file of the repository is imported or opened, no process
    but git starts, and no socket is created, with the working directory inside the
    repository or not."""
    repo = _hostile_repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    log = tmp_path / "audit.log"
    args = [a.format(repo=repo, outside=outside) for a in command]
    done = _audited(repo, log, *args, cwd=repo if in_repo else outside)
    assert done.returncode == exit_code, done.stderr
    assert "Traceback" not in done.stderr
    assert not log.exists(), log.read_text()
    assert sorted(p.name for p in tmp_path.rglob("FIRED-*")) == []
    if "--write" in command:
        assert "RequestAuthentication" in (repo / "policy.yaml").read_text()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param(
            ".authn-migrate.yaml",
            "inventory: !!python/object/apply:os.system ['touch FIRED-config']\nexec: ./fire.sh\n",
            ".authn-migrate.yaml:2: unknown key 'exec'",
            id="yaml-config",
        ),
        pytest.param(
            "pyproject.toml",
            '[build-system]\nbuild-backend = "evil"\n[tool.authn-migrate]\nplugins = ["evil"]\n',
            "pyproject.toml:4: unknown key 'plugins'",
            id="pyproject-config",
        ),
    ],
)
def test_a_hostile_configuration_is_refused_without_running_anything(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A configuration file with a Python tag and keys we do not know is an input error
    naming the file and line; nothing in it runs."""
    repo = _hostile_repo(tmp_path)
    (repo / name).write_text(text)
    log = tmp_path / "audit.log"
    done = _audited(repo, log, "scan", ".", cwd=repo)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not log.exists(), log.read_text()
    assert sorted(p.name for p in tmp_path.rglob("FIRED-*")) == []


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch FIRED-tag']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['touch', 'FIRED-tag']]",
        "!Foo {touch: FIRED-tag}",
    ],
    ids=["object-apply", "name", "object-new", "custom"],
)
def test_yaml_tags_never_construct_objects(in_tmp: Path, tag: str) -> None:
    """A tag is a note at its location and the value stays plain data; nothing runs."""
    (in_tmp / "tagged.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n"
        f"data:\n  x: {tag}\n"
    )
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == 0, result.output
    assert "tagged.yaml:5:6: note AM012: tag " in result.output
    assert list(in_tmp.rglob("FIRED-*")) == []


def test_writes_never_follow_links_out_of_the_given_paths(tmp_path: Path) -> None:
    """A linked file and a linked folder pointing outside are reported and never written;
    the files outside keep their bytes."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    for target in (outside / "p.yaml", outside / "folder" / "p.yaml"):
        target.write_text(JWT_POLICY.split("---", maxsplit=1)[0] + "---\n" + SERVICE)
    before = {p: p.read_bytes() for p in outside.rglob("*.yaml")}
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "service.yaml").write_text(SERVICE)
    (repo / "link.yaml").symlink_to(outside / "p.yaml")
    (repo / "linked").symlink_to(outside / "folder", target_is_directory=True)
    result = CliRunner().invoke(app, ["convert", "--write", str(repo)])
    assert result.exit_code == 2, result.output
    assert "link.yaml: error AM007: symbolic link points outside" in result.output
    assert "linked: error AM007: symbolic link points outside" in result.output
    assert {p: p.read_bytes() for p in outside.rglob("*.yaml")} == before


def test_a_dot_dot_path_is_written_only_where_it_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path given with `..` writes the file it names and nothing beside or above it."""
    (tmp_path / "repo" / "sub").mkdir(parents=True)
    policy = tmp_path / "repo" / "p.yaml"
    policy.write_text(JWT_POLICY.split("---", maxsplit=1)[0] + "---\n" + SERVICE)
    sibling = tmp_path / "sibling.yaml"
    sibling.write_text(policy.read_text())
    monkeypatch.chdir(tmp_path / "repo" / "sub")
    result = CliRunner().invoke(app, ["convert", "--write", "../p.yaml"])
    assert result.exit_code == 0, result.output
    assert "RequestAuthentication" in policy.read_text()
    assert sibling.read_text() == JWT_POLICY.split("---", maxsplit=1)[0] + "---\n" + SERVICE
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "p.yaml",
        "sibling.yaml",
    ]


NETWORK_MODULES = frozenset(
    {
        "socket",
        "ssl",
        "http",
        "http.client",
        "urllib.request",
        "urllib3",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "xmlrpc",
        "asyncio",
        "importlib.machinery",
        "runpy",
        "pickle",
        "marshal",
    }
)


@pytest.mark.parametrize("path", sorted((ROOT / "migrate").rglob("*.py")), ids=lambda p: p.stem)
def test_no_module_imports_networking_or_code_loading(path: Path) -> None:
    """migrate/ imports no networking module and nothing that loads or unpickles code."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    assert imported & NETWORK_MODULES == set()
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert calls & {"exec", "eval", "compile", "__import__"} == set()


def test_the_examples_scan_with_the_audit_hook_silent(tmp_path: Path) -> None:
    """The bundled examples, JWKS URIs included, are read without any network event."""
    examples = tmp_path / "examples"
    shutil.copytree(EXAMPLES, examples)
    log = tmp_path / "audit.log"
    done = _audited(examples, log, "verify", ".", "-o", "json", cwd=examples)
    assert done.returncode in (0, 1, 2, 3), done.stderr
    assert json.loads(done.stdout)["version"] == 1
    assert not log.exists(), log.read_text()
