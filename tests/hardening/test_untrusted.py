"""A pull request from anyone: everything in the reviewed tree is hostile input — its files,
their names, its configuration file, its `.git/` and any journal it ships. Each fixture is
built here, in a throwaway folder, by the hostile party's means: files, names and git
configuration, never by patching the tool."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from repo_kit import ROOT, WEB_JWT_POLICY, WEB_SERVICE, git
from typer.testing import CliRunner

from migrate.cli import app

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _committed_repo(root: Path) -> Path:
    """A git repository whose one commit holds a Service and a JWT policy."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.yaml").write_text(WEB_SERVICE)
    (repo / "authn.yaml").write_text(WEB_JWT_POLICY)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo


# --- item 4: no code from the repository's git configuration ---------------------------------


def _canary(folder: Path, name: str) -> str:
    """A script that leaves FIRED-<name> in `folder` when anything runs it."""
    script = folder / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch '{folder}/FIRED-{name}'\ncat >/dev/null 2>&1\nexit 0\n")
    script.chmod(0o755)
    return str(script)


HOOKS = ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-push")


def _arm(repo: Path, canaries: Path, what: str) -> None:
    """Set, in the repository's own .git/config and .gitattributes, a program git would run."""
    if what == "fsmonitor":
        git(repo, "config", "core.fsmonitor", _canary(canaries, "fsmonitor"))
    elif what == "hooksPath":
        hooks = canaries / "hooks"
        hooks.mkdir()
        for hook in HOOKS:
            shutil.copy(_canary(canaries, "hook"), hooks / hook)
        git(repo, "config", "core.hooksPath", str(hooks))
    elif what == "filter":
        command = _canary(canaries, "filter")
        for key in ("clean", "smudge", "process"):
            git(repo, "config", f"filter.evil.{key}", command)
        git(repo, "config", "filter.evil.required", "true")
        (repo / ".gitattributes").write_text("* filter=evil\n")
    elif what == "textconv":
        git(repo, "config", "diff.evil.textconv", _canary(canaries, "textconv"))
        git(repo, "config", "diff.evil.cachetextconv", "false")
        (repo / ".gitattributes").write_text("* diff=evil\n")
    elif what == "diff-driver":
        git(repo, "config", "diff.evil.command", _canary(canaries, "diff-driver"))
        git(repo, "config", "diff.external", _canary(canaries, "diff-external"))
        (repo / ".gitattributes").write_text("* diff=evil\n")
    elif what == "pager":
        git(repo, "config", "core.pager", _canary(canaries, "pager"))
        git(repo, "config", "pager.ls-tree", _canary(canaries, "pager-ls-tree"))
    elif what == "lazy-fetch":
        # a partial clone whose promisor remote is a command: reading a missing object runs it
        for name in ("app.yaml", "authn.yaml"):
            blob = subprocess.run(
                ["git", "-C", str(repo), "rev-parse", f"HEAD:{name}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
        fire = _canary(canaries, "lazy-fetch")
        git(repo, "config", "core.repositoryformatversion", "1")
        git(repo, "config", "extensions.partialClone", "origin")
        git(repo, "config", "remote.origin.promisor", "true")
        git(repo, "config", "remote.origin.url", f"ext::{fire}")
        git(repo, "config", "protocol.ext.allow", "always")


ARMED = ["fsmonitor", "hooksPath", "filter", "textconv", "diff-driver", "pager", "lazy-fetch"]
READERS = [
    pytest.param(["scan", "."], id="scan"),
    pytest.param(["verify", "."], id="verify"),
    pytest.param(["convert", "--check", "."], id="convert-check"),
    pytest.param(["review", "--base", "HEAD", "-o", "json"], id="review"),
]


@needs_git
@pytest.mark.parametrize("command", READERS)
@pytest.mark.parametrize("what", ARMED)
def test_programs_named_by_the_repository_git_config_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, command: list[str]
) -> None:
    """An fsmonitor hook, a hooks folder, filters, textconv and diff drivers, a pager and a
    lazy-fetch transport set in the repository's own git configuration: no command that
    reads the repository (and so runs git on it) starts any of them."""
    repo = _committed_repo(tmp_path)
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    _arm(repo, canaries, what)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, command)
    assert result.exit_code != 4, result.output
    assert sorted(p.name for p in canaries.glob("FIRED-*")) == []


def test_only_the_git_helper_starts_processes() -> None:
    """Every git call goes through migrate/load/gitcmd.py, and kustomize (which runs git for
    remote bases) starts only from migrate/load/kustomize_build.py, in git's hardened
    environment: no other module imports subprocess, so none can start either without its
    safeguards."""
    importers = []
    for path in sorted((ROOT / "migrate").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if "subprocess" in names:
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["migrate/load/gitcmd.py", "migrate/load/kustomize_build.py"]


def test_the_git_command_line_switches_the_repository_programs_off(tmp_path: Path) -> None:
    """The helper's command line and environment carry every safeguard, and a diffing
    subcommand gets --no-ext-diff and --no-textconv."""
    from migrate.load.gitcmd import git_command, git_environment

    command = git_command(tmp_path, "diff", "HEAD")
    for setting in (
        "core.fsmonitor=false",
        "core.hooksPath=/dev/null",
        "protocol.allow=never",
        "safe.bareRepository=explicit",
    ):
        assert setting in command
    assert command[:2] == ["git", "--no-pager"]
    assert command[-4:] == ["diff", "--no-ext-diff", "--no-textconv", "HEAD"]
    environment = git_environment({"GIT_EXTERNAL_DIFF": "evil", "HOME": "/home/x"})
    assert environment["GIT_CONFIG_NOSYSTEM"] == "1"
    assert environment["GIT_ALLOW_PROTOCOL"] == ""
    assert "GIT_EXTERNAL_DIFF" not in environment
    assert environment["HOME"] == "/home/x"


# --- item 2: reports cannot be hijacked -------------------------------------------------------

ESC = "\x1b"
MARKUP = "[link=https://e.x]c[/link]"
NEWLINE_NAME = "x\n::error file=authn.yaml::pwned\n::stop-commands::tok.yaml"
HOSTILE_ISSUER = (
    r"https://id.example/\e]8;;https://evil.example/osc8\e\\click\e]8;;\e\\\e[2J"
    f"`</details><img src=https://evil.example/i.png>@octocat{MARKUP}"
)
HOSTILE_PATH = (
    f"/`</details><img src=x onerror=alert(1)>@octocat [x](https://evil.example/l){MARKUP}"
)
HOSTILE_POLICY = f"""\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {{name: web-jwt, namespace: shop}}
spec:
  targets: [{{name: web}}]
  origins:
  - jwt:
      issuer: "{HOSTILE_ISSUER}"
      jwksUri: https://id.example/keys
      triggerRules: [{{includedPaths: [{{exact: "{HOSTILE_PATH}"}}]}}]
  principalBinding: USE_ORIGIN
"""
HOSTILE_NAMES = (NEWLINE_NAME, "::stop-commands::tok2.yaml", f"{ESC}[31mred{ESC}]8;;x.yaml")


NAMESPACE_POLICY = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: other%d}
spec:
  peers: [{mtls: {}}]
"""


def _hostile_tree(root: Path, *, pull_request: bool = False) -> Path:
    """A committed repository whose files, names and values try to act on every output;
    with `pull_request`, its work tree removes the JWT policy (a looser change to review)."""
    repo = _committed_repo(root)
    (repo / "authn.yaml").write_text(HOSTILE_POLICY)
    for number, name in enumerate(HOSTILE_NAMES):
        (repo / name).write_text(NAMESPACE_POLICY % number)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "hostile")
    if pull_request:
        (repo / "authn.yaml").unlink()
    return repo


def _lines_acting_on_a_runner(text: str) -> list[str]:
    """Lines a terminal or a GitHub runner would act on: escape sequences, or a line that
    starts (after spaces) with a workflow command."""
    return [
        line
        for line in text.splitlines()
        if line.lstrip().startswith("::") or any(0x80 <= ord(c) <= 0x9F or c == ESC for c in line)
    ]


TEXT_COMMANDS = [
    pytest.param(["scan", "."], id="scan-table"),
    pytest.param(["verify", "."], id="verify-text"),
    pytest.param(["convert", "."], id="convert-diff"),
    pytest.param(["convert", "--check", "."], id="convert-check"),
    pytest.param(["review", "--base", "HEAD"], id="review-text"),
    pytest.param(["tls-check", "."], id="tls-check"),
]


@needs_git
@pytest.mark.parametrize("command", TEXT_COMMANDS)
def test_terminal_output_shows_values_from_the_tree_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """File names with newlines, escape sequences in an issuer and rich markup in a name are
    printed as visible text: no escape sequence reaches the terminal, no line starts a
    workflow command, markup is neither interpreted nor a crash."""
    repo = _hostile_tree(tmp_path, pull_request=command[0] == "review")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 1, 2, 3), result.output
    assert "Traceback" not in result.output
    assert _lines_acting_on_a_runner(result.output) == []
    if command[0] in ("scan", "convert"):
        assert "\\n::error file=authn.yaml::pwned\\n" in result.output
    if command[0] in ("scan", "verify", "review"):
        assert "[link=" in result.output


def _outside_code(html: str) -> str:
    """The HTML with every <code> element's content removed: what GitHub could still turn
    into a link, a mention or markup."""
    import re

    return re.sub(r"<code>.*?</code>", "<code></code>", html, flags=re.S)


@needs_git
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["review", "--base", "HEAD", "-o", "markdown"], id="review"),
        pytest.param(["verify", ".", "-o", "markdown"], id="verify"),
        pytest.param(["tls-check", ".", "-o", "markdown"], id="tls-check"),
    ],
)
def test_markdown_keeps_every_value_from_the_tree_in_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """Rendered as GitHub would, the report's links, images, mentions and HTML are all its
    own: every value from the tree sits in a code span no backtick in it can close."""
    from markdown_it import MarkdownIt

    repo = _hostile_tree(tmp_path, pull_request=command[0] == "review")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 1, 2, 3), result.output
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(result.stdout)
    outside = _outside_code(html)
    for marker in ("evil.example", "@octocat", "<img", "onerror", ESC, "\n::"):
        assert marker not in outside, marker
    assert outside.count("<details>") == outside.count("</details>")
    if command[0] != "tls-check":
        assert "@octocat" in html


@needs_git
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["review", "--base", "HEAD", "-o", "json"], id="review-json"),
        pytest.param(["review", "--base", "HEAD", "-o", "sarif"], id="review-sarif"),
        pytest.param(["review", "--base", "HEAD", "-o", "gitlab"], id="review-gitlab"),
        pytest.param(["scan", ".", "-o", "json"], id="scan-json"),
        pytest.param(["verify", ".", "-o", "sarif"], id="verify-sarif"),
    ],
)
def test_machine_output_is_valid_json_for_any_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """JSON, SARIF and GitLab reports of the hostile tree parse, and carry its values."""
    import json

    repo = _hostile_tree(tmp_path, pull_request=command[0] == "review")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 1, 2, 3), result.output
    assert "octocat" in json.dumps(json.loads(result.stdout))


@needs_git
def test_github_annotations_and_step_summary_stay_inside_their_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o github writes one workflow command per finding, each a single line of ours; the
    job summary it appends keeps the tree's values in code."""
    repo = _hostile_tree(tmp_path, pull_request=True)
    summary = tmp_path / "summary.md"
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = CliRunner().invoke(app, ["review", "--base", "HEAD", "-o", "github"])
    from markdown_it import MarkdownIt

    assert result.exit_code == 3, result.output
    lines = result.stdout.splitlines()
    assert lines
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert all(line.count("::") == 2 for line in lines)
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(summary.read_text())
    assert "@octocat" in html
    assert "<img" not in _outside_code(html)


# --- item 6: no internal error from input ------------------------------------------------------

SURROGATE_JSON = (
    '{"apiVersion": "authentication.istio.io/v1alpha1", "kind": "Policy",\n'
    ' "metadata": {"name": "default", "namespace": "shop"},\n'
    ' "spec": {"origins": [{"jwt": {"issuer": "a\\ud800b"}}]}}\n'
)
LONG_NUMBER = "9" * 5_000
MESH_CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    rootNamespace: "Not A Namespace"
"""


def _files(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


BAD_INPUTS = [
    pytest.param(
        {"p.json": SURROGATE_JSON},
        "p.json:3:44: error AM016: string escape \\ud800 is half of a UTF-16 pair",
        id="lone-surrogate-in-json",
    ),
    pytest.param(
        {"svc.yaml": WEB_SERVICE.replace("port: 80,", f"port: {LONG_NUMBER},")},
        "svc.yaml:6:30: error AM017: integer of 5,000 digits is out of range",
        id="long-integer-in-yaml",
    ),
    pytest.param(
        {"p.json": SURROGATE_JSON.replace('"a\\ud800b"', LONG_NUMBER)},
        "p.json:3:42: error AM017: integer of 5,000 digits is out of range",
        id="long-integer-in-json",
    ),
    pytest.param(
        {
            "svc.yaml": WEB_SERVICE.replace("targetPort: 8080", 'targetPort: "²"')
            + "---\n"
            + WEB_SERVICE.replace("name: web", "name: api").replace(
                "targetPort: 8080", f'targetPort: "{LONG_NUMBER}"'
            ),
            "authn.yaml": WEB_JWT_POLICY,
        },
        "",
        id="digit-like-target-ports",
    ),
    pytest.param(
        {
            "kustomization.yaml": 'namespace: "ns[/bad]"\nresources: [p.yaml]\n',
            "p.yaml": "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
            "metadata: {name: default}\nspec:\n  peers: [{mtls: {}}]\n",
        },
        "kustomization.yaml:1:12: error AM018: kustomization namespace 'ns[/bad]' is ignored",
        id="kustomization-namespace-markup",
    ),
    pytest.param(
        {
            "kustomization.yaml": "namespace: [a, b]\nresources: [p.yaml]\n",
            "p.yaml": "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
            "metadata: {name: default}\nspec:\n  peers: [{mtls: {}}]\n",
        },
        "kustomization.yaml:1:12: error AM018: kustomization namespace ['a', 'b'] is ignored",
        id="kustomization-namespace-list",
    ),
    pytest.param(
        {"mesh.yaml": MESH_CONFIG, "authn.yaml": WEB_JWT_POLICY},
        "mesh.yaml:5:9: error AM018: mesh config rootNamespace 'Not A Namespace' is ignored",
        id="mesh-root-namespace",
    ),
]


@pytest.mark.parametrize(("files", "expected"), BAD_INPUTS)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["scan", "."], id="scan"),
        pytest.param(["convert", "."], id="convert"),
        pytest.param(["verify", ".", "-o", "json"], id="verify-json"),
        pytest.param(["verify", ".", "-o", "sarif"], id="verify-sarif"),
        pytest.param(["verify", ".", "-o", "markdown"], id="verify-markdown"),
    ],
)
def test_bad_input_is_a_located_finding_never_an_internal_error(
    in_tmp: Path, files: dict[str, str], expected: str, command: list[str]
) -> None:
    """Lone surrogates, integers too long to convert, digits int() cannot read and names that
    are not namespaces end in a finding at the file, line and column (exit 2), in every
    output format."""
    import json

    _files(in_tmp, files)
    result = CliRunner().invoke(app, command)
    assert result.exit_code != 4, result.output
    assert "internal error" not in result.output
    if command[-1] in ("json", "sarif"):
        json.loads(result.stdout)
    if expected and command == ["scan", "."]:
        assert result.exit_code == 2
        assert expected in result.output


def test_a_file_name_that_is_not_utf8_is_a_finding(tmp_path: Path) -> None:
    """A manifest whose name is not UTF-8, found in a folder or named on the command line,
    is not read; the finding shows the byte escaped, in text and in JSON and SARIF."""
    import json
    import os

    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "app.yaml").write_text(WEB_SERVICE)
    bad = os.fsdecode(b"bad\xff.yaml")
    (folder / bad).write_text(WEB_JWT_POLICY)
    for args in (["scan", str(folder)], ["scan", str(folder / bad)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "bad\\xff.yaml: error AM015: file name is not valid UTF-8; not read" in result.output
    for output in ("json", "sarif"):
        result = CliRunner().invoke(app, ["scan", str(folder), "-o", output])
        assert result.exit_code == 2, result.output
        assert "bad\\\\xff.yaml" in result.stdout or "bad%FF.yaml" in result.stdout
        json.loads(result.stdout)


@needs_git
def test_a_base_revision_git_does_not_know_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """review --base with an unknown revision: one line naming it, exit 2."""
    repo = _committed_repo(tmp_path)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["review", "--base", "no-such-branch"])
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "authn-migrate: --base no-such-branch: unknown revision 'no-such-branch' in repo"
    ]


@pytest.mark.parametrize("option", ["--namespace", "--root-namespace"])
def test_a_namespace_option_that_is_not_a_namespace_is_a_usage_error(
    in_tmp: Path, option: str
) -> None:
    """A namespace given on the command line is checked like one in a file: exit 2."""
    (in_tmp / "authn.yaml").write_text(WEB_JWT_POLICY)
    result = CliRunner().invoke(app, ["convert", ".", option, "Bad[/ns]"])
    assert result.exit_code == 2, result.output
    assert "is not a namespace" in result.output
