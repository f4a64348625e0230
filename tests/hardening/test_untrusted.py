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
from repo_kit import PEER_JWT, ROOT, WEB_JWT_POLICY, WEB_SERVICE, git
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


# --- item 5: bounded work for any input --------------------------------------------------------


def test_kustomization_fan_out_reads_each_kustomization_once(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten folders, each listing the next three ways: every kustomization is read once (it
    was 3^10 times), and the file at the bottom still gets the outermost namespace."""
    from migrate.load import namespaces

    levels = 10
    for level in range(levels):
        below = f"../l{level + 1}"
        resources = f"['{below}', '{below}/', './{below}']" if level < levels - 1 else "[p.yaml]"
        _files(in_tmp, {f"l{level}/kustomization.yaml": f"resources: {resources}\n"})
    _files(
        in_tmp,
        {
            "kustomization.yaml": "namespace: top\nresources: [l0]\n",
            f"l{levels - 1}/p.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: c}\n",
        },
    )
    reads = []
    real_read = namespaces._read_kustomization

    def counted(path: Path) -> object:
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(namespaces, "_read_kustomization", counted)
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == 0, result.output
    assert len(reads) == len(set(reads)) == levels
    assert "using 'top' (from kustomization.yaml)" in result.output


def test_a_megabyte_of_template_braces_is_read_in_linear_time(in_tmp: Path) -> None:
    """A line of a million `{` (half a million `{{`, which took the template regex quadratic
    time) is refused within seconds."""
    import time

    (in_tmp / "t.yaml").write_text("a: b\nc: " + "{{" * 500_000 + "\n")
    (in_tmp / "v.yaml").write_text("values: '" + "{{" * 500_000 + "'\n")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["scan", "."])
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.output


def test_template_detection_agrees_with_the_regular_expression() -> None:
    """The linear scan finds what `\\{\\{.*?\\}\\}|\\{\\{-|\\{%` finds first, on strings
    made of the characters that matter."""
    import re

    from hypothesis import given
    from hypothesis import strategies as st

    from migrate.load.templates import template_at

    pattern = re.compile(r"\{\{.*?\}\}|\{\{-|\{%")

    @given(st.text(alphabet="{}%-\n a", max_size=40))
    def agree(text: str) -> None:
        found = pattern.search(text)
        assert template_at(text) == (found.start() if found else -1)

    agree()


@pytest.mark.parametrize(
    ("inventory", "message"),
    [
        pytest.param("/dev/zero", "/dev/zero is outside", id="dev-zero"),
        pytest.param("/", "item 1: / is outside", id="filesystem-root"),
        pytest.param("/proc", "/proc is outside", id="proc"),
        pytest.param("../elsewhere", "elsewhere is outside", id="parent-folder"),
    ],
)
def test_a_config_file_inventory_stays_inside_its_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inventory: str, message: str
) -> None:
    """`inventory:` in a repository's config file names files of that repository only: the
    command refuses it, naming the file, line and item (exit 2), and reads nothing."""
    repo = _files(
        tmp_path / "repo",
        {".git/HEAD": "ref: refs/heads/main\n", "authn.yaml": WEB_JWT_POLICY},
    )
    (repo / ".authn-migrate.yaml").write_text(f"inventory: ['{inventory}']\n")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == 2, result.output
    assert ".authn-migrate.yaml:1: 'inventory' " in result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        pytest.param("fifo", ["scan", "."], "x.yaml: error AM006: not a regular file", id="fifo"),
        pytest.param(
            "fifo", ["scan", "x.yaml"], "x.yaml: error AM006: not a regular file", id="fifo-named"
        ),
        pytest.param(
            "",
            ["scan", ".", "--inventory", "/dev/zero"],
            "/dev/zero: error AM006: /dev is a kernel file system",
            id="inventory-dev-zero",
        ),
        pytest.param(
            "",
            ["scan", "/proc/self"],
            "error AM006: /proc is a kernel file system",
            id="proc",
        ),
    ],
)
def test_special_files_are_refused_everywhere(
    tmp_path: Path, make: str, args: list[str], message: str
) -> None:
    """A FIFO in the tree or on the command line, /dev/zero as inventory and /proc are
    findings: nothing blocks on a FIFO or reads a device without end."""
    import os
    import subprocess

    from repo_kit import cli_command

    (tmp_path / "authn.yaml").write_text(WEB_JWT_POLICY)
    if make == "fifo":
        os.mkfifo(tmp_path / "x.yaml")
    done = subprocess.run(
        cli_command(*args), cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stdout + done.stderr


def _documents(count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\n" for n in range(count)
    )


@pytest.mark.parametrize(
    ("text", "limit", "message"),
    [
        pytest.param(
            _documents(11),
            "documents=10",
            "big.yaml:42:1: error AM019: more than 10 documents (documents limit); not read",
            id="documents",
        ),
        pytest.param(
            "data:\n" + "".join(f"  k{n}: v\n" for n in range(60)),
            "entries=50",
            "big.yaml:51:3: error AM019: more than 50 keys and list items (entries limit)",
            id="entries",
        ),
        pytest.param(
            "a: [" + ", ".join(["1"] * 60) + "]\n",
            "entries=50",
            "big.yaml:1:152: error AM019: more than 50 keys and list items (entries limit)",
            id="list-items",
        ),
        pytest.param(
            "a: " + "[" * 7 + "]" * 7 + "\n",
            "depth=5",
            "big.yaml:1:9: error AM009: nesting deeper than 5 levels",
            id="depth",
        ),
        pytest.param(
            "a: " + "b" * 200 + "\n",
            "bytes=100",
            "big.yaml: error AM019: more than 100 bytes (bytes limit)",
            id="bytes",
        ),
    ],
)
def test_a_file_over_a_limit_is_a_finding_and_the_limit_can_be_raised(
    in_tmp: Path, text: str, limit: str, message: str
) -> None:
    """Each limit refuses a file that exceeds it with a finding naming the limit (exit 2);
    raising it on the command line reads the file."""
    (in_tmp / "big.yaml").write_text(text)
    result = CliRunner().invoke(app, ["scan", ".", "--limit", limit])
    assert result.exit_code == 2, result.output
    assert message in result.output
    name, _, value = limit.partition("=")
    raised = CliRunner().invoke(app, ["scan", ".", "--limit", f"{name}={int(value) * 100}"])
    assert raised.exit_code == 0, raised.output


def test_the_default_limits_refuse_two_million_tiny_documents(in_tmp: Path) -> None:
    """Two million tiny documents (2.9 GB once built) are refused before they are built."""
    (in_tmp / "many.yaml").write_text("---\na: 1\n" * 2_000_000)
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == 2, result.output
    assert "error AM019: more than 1,000,000 keys and list items (entries limit)" in result.output


def test_a_limit_that_is_not_name_equals_number_is_a_usage_error(in_tmp: Path) -> None:
    """--limit takes NAME=N with a known name and a positive number."""
    result = CliRunner().invoke(app, ["scan", ".", "--limit", "files=3"])
    assert result.exit_code == 2
    assert "--limit 'files=3': expected NAME=N" in result.output


# --- item 1: the reviewed tree cannot lower the bar ---------------------------------------------

LOWER_THE_BAR = "accept: [looser]\nfail-on: never\n"


@needs_git
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-o", "github", "--fail-on", "looser"], id="github-action"),
        pytest.param([], id="gitlab-job"),
    ],
)
def test_a_pull_request_cannot_accept_its_own_looser_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """A pull request that deletes a JWT policy and adds a config file accepting looser
    differences (and failing never) still fails review: the config is read at the base."""
    repo = _committed_repo(tmp_path)
    (repo / "authn.yaml").unlink()
    (repo / ".authn-migrate.yaml").write_text(LOWER_THE_BAR)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    result = CliRunner().invoke(app, ["review", "--base", "HEAD", *args])
    assert result.exit_code == 3, result.output
    assert "accepted" not in result.output
    if args:
        assert "::error" in result.output


@needs_git
def test_the_base_revision_config_is_honoured_and_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same config committed at the base is the team's decision: honoured, and said."""
    repo = _committed_repo(tmp_path)
    (repo / ".authn-migrate.yaml").write_text("accept: [looser]\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "accept looser")
    (repo / "authn.yaml").unlink()
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["review", "--base", "HEAD"])
    assert result.exit_code == 0, result.output
    assert "note: accepted: looser (.authn-migrate.yaml at HEAD)" in result.output


def test_a_work_tree_config_cannot_accept_a_looser_conversion(in_tmp: Path) -> None:
    """`accept: [looser]` in the tree's own config file does not let convert --write pass a
    looser conversion; the command line can, and says so."""
    _files(in_tmp, {".git/HEAD": "ref: refs/heads/main\n", "p.yaml": PEER_JWT})
    (in_tmp / ".authn-migrate.yaml").write_text(LOWER_THE_BAR)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 3, result.output
    assert "'accept: looser' ignored" in result.output
    assert "'fail-on: never' ignored" in result.output
    assert (in_tmp / "p.yaml").read_text() == PEER_JWT
    given = CliRunner().invoke(app, ["verify", ".", "--accept", "looser"])
    assert "note: accepted: looser (command line)" in given.output


@pytest.mark.parametrize(
    ("setup", "note"),
    [
        pytest.param("parent", "", id="parent-folder-outside-a-repository"),
        pytest.param("writable", "writable by every user", id="world-writable"),
        pytest.param("owner", "owned by another user", id="another-owner"),
    ],
)
def test_config_files_the_user_does_not_control_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str, note: str
) -> None:
    """Outside a repository the search stays in the given folder; a config file another user
    owns, or anyone may write, is ignored with a note."""
    import os

    if setup == "owner" and os.getuid() != 0:
        pytest.skip("giving a file to another user needs root")
    work = _files(tmp_path, {"work/authn.yaml": WEB_JWT_POLICY}) / "work"
    config = (tmp_path if setup == "parent" else work) / ".authn-migrate.yaml"
    config.write_text("namespace: planted\n")
    if setup == "writable":
        config.chmod(0o666)
    elif setup == "owner":
        os.chown(config, 4242, 4242)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(app, ["scan", ".", "--show-config"])
    assert result.exit_code == 0, result.output
    assert "# config file: none found" in result.output
    assert "planted" not in result.output
    assert note in result.output


# --- item 3: the journal touches only what the tool staged ------------------------------------


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _journal(entries: list[dict[str, object]]) -> str:
    import json

    return json.dumps({"version": 2, "run": "0123456789abcdef", "entries": entries})


@needs_git
@pytest.mark.parametrize("committed", [True, False], ids=["committed", "untracked"])
def test_a_planted_journal_deletes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    """A journal shipped with the tree whose entries remove `.git/HEAD` and a manifest is
    refused (exit 2, naming it): nothing is deleted."""
    repo = _committed_repo(tmp_path)
    head = (repo / ".git" / "HEAD").read_bytes()
    targets = [repo / ".git" / "HEAD", repo / "app.yaml"]
    entries = [
        {"target": str(t), "staged": None, "old": _sha(t.read_bytes()), "new": None}
        for t in targets
    ]
    (repo / ".authn-migrate-journal.json").write_text(_journal(entries))
    if committed:
        git(repo, "add", ".authn-migrate-journal.json")
        git(repo, "commit", "-qm", "journal")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 2, result.output
    assert ".authn-migrate-journal.json: " in result.output
    assert "tracked by git" in result.output if committed else ".git/HEAD" in result.output
    assert (repo / ".git" / "HEAD").read_bytes() == head
    assert (repo / "app.yaml").read_text() == WEB_SERVICE


def test_a_staging_link_never_makes_a_target_a_link(tmp_path: Path) -> None:
    """A journal entry whose staging file is a link to a file outside the tree (holding the
    recorded digest) is refused: the target stays a regular file with its content."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("kind: Secret\n")
    repo = _files(tmp_path / "repo", {"authn.yaml": WEB_JWT_POLICY})
    target = repo / "authn.yaml"
    staged = repo / ".authn.yaml.0123456789abcdef.abcdefgh.authn-migrate"
    staged.symlink_to(outside)
    entry = {
        "target": str(target),
        "staged": str(staged),
        "old": _sha(target.read_bytes()),
        "new": _sha(outside.read_bytes()),
    }
    (repo / ".authn-migrate-journal.json").write_text(_journal([entry]))
    result = CliRunner().invoke(app, ["convert", "--write", str(repo)])
    assert result.exit_code == 2, result.output
    assert "did not stage" in result.output
    assert not target.is_symlink()
    assert target.read_text() == WEB_JWT_POLICY


@pytest.mark.parametrize(
    "journal",
    [
        pytest.param("[]", id="list"),
        pytest.param(None, id="directory"),
        pytest.param(
            _journal([{"target": "/x\u0000.yaml", "staged": None, "old": None, "new": None}]),
            id="nul",
        ),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep-nesting"),
        pytest.param("{}", id="empty"),
    ],
)
def test_a_malformed_journal_is_a_clear_error(in_tmp: Path, journal: str | None) -> None:
    """A journal that does not validate stops every --write with exit 2 and a message naming
    it (not an internal error), until it is removed."""
    (in_tmp / "authn.yaml").write_text(WEB_JWT_POLICY)
    path = in_tmp / ".authn-migrate-journal.json"
    if journal is None:
        path.mkdir()
    else:
        path.write_text(journal)
    for _ in range(2):
        result = CliRunner().invoke(app, ["convert", "--write", "."])
        assert result.exit_code == 2, result.output
        assert "authn-migrate: .authn-migrate-journal.json: not a write journal" in result.output
    if journal is None:
        path.rmdir()
    else:
        path.unlink()
    assert "journal" not in CliRunner().invoke(app, ["convert", "--write", "."]).output


# --- item 7: one writer at a time, and no silent reading of a half-written tree ------------------

CASE = ROOT / "tests" / "cases" / "convert" / "namespace-strict.yaml"


def _two_policies(folder: Path) -> list[Path]:
    first, second = folder / "a.yaml", folder / "b.yaml"
    first.write_text(CASE.read_text())
    second.write_text(CASE.read_text().replace("shop", "other"))
    return [first, second]


def _finished_process() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("holder", ["running", "ended"])
def test_one_writer_at_a_time(in_tmp: Path, holder: str) -> None:
    """A write lock held by a running process refuses a second --write (exit 2, naming the
    holder); one left by a process that has ended is taken over, and released at the end."""
    import os

    files = _two_policies(in_tmp)
    before = [f.read_text() for f in files]
    pid = os.getppid() if holder == "running" else _finished_process()
    (in_tmp / ".authn-migrate.lock").write_text(f"{pid}\n")
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    if holder == "running":
        assert result.exit_code == 2, result.output
        assert f"another authn-migrate run (process {pid}) is writing" in result.output
        assert [f.read_text() for f in files] == before
        assert (in_tmp / ".authn-migrate.lock").exists()
    else:
        assert result.exit_code == 0, result.output
        assert f"note: removed a stale lock left by process {pid}" in result.output
        assert all("PeerAuthentication" in f.read_text() for f in files)
        assert not (in_tmp / ".authn-migrate.lock").exists()


def test_a_lock_left_aside_by_a_killed_run_is_removed_by_the_next(in_tmp: Path) -> None:
    """A run killed while taking the lock leaves the file it writes the lock into before
    linking it into place; the next run that takes the lock removes it (and says so), but
    not one of a process still running, nor a file that only looks like one."""
    import os

    _two_policies(in_tmp)
    ended = _finished_process()
    stale = in_tmp / f".authn-migrate.lock.{ended}.0e2b055f"
    stale.write_text(f"{ended}\n")
    running = in_tmp / f".authn-migrate.lock.{os.getppid()}.12345678"
    running.write_text("")
    other = in_tmp / ".authn-migrate.lock.notes"
    other.write_text("mine\n")
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert f"removed {stale.name}, left by process {ended}, which no longer runs" in result.output
    assert running.exists()
    assert other.read_text() == "mine\n"
    assert not (in_tmp / ".authn-migrate.lock").exists()


@needs_git
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["scan", "."], id="scan"),
        pytest.param(["verify", "."], id="verify"),
        pytest.param(["convert", "--check", "."], id="convert-check"),
        pytest.param(["review", "--base", "HEAD"], id="review"),
    ],
)
def test_a_killed_write_is_pending_for_every_reading_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """After a write killed between its renames, a command reading the tree says a write is
    pending and how to complete or discard it."""
    from repo_kit import write_killed_between_renames

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    _two_policies(repo)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    monkeypatch.chdir(repo)
    write_killed_between_renames(repo, monkeypatch)
    result = CliRunner().invoke(app, command)
    assert "warning: an interrupted write is pending (.authn-migrate-journal.json)" in (
        result.output
    )
    assert "`authn-migrate convert --write .` completes it" in result.output


def test_a_read_only_file_is_replaced_only_with_force(in_tmp: Path) -> None:
    """convert --write refuses a read-only file (exit 2, nothing written); --force writes it."""
    files = _two_policies(in_tmp)
    files[1].chmod(0o444)
    before = [f.read_text() for f in files]
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 2, result.output
    assert "b.yaml is read-only; not overwritten (--force replaces it)" in result.output
    assert [f.read_text() for f in files] == before
    forced = CliRunner().invoke(app, ["convert", "--write", "--force", "."])
    assert forced.exit_code == 0, forced.output
    assert all("PeerAuthentication" in f.read_text() for f in files)


def test_two_concurrent_writes_never_fail_midway(tmp_path: Path) -> None:
    """Two `convert --write` started together: each ends converted or refused because the
    other holds the lock (exit 2, saying so), never with an internal error or a failed stage."""
    from repo_kit import cli_command

    files = _two_policies(tmp_path)
    runs = [
        subprocess.Popen(
            cli_command("convert", "--write", "."),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [(run.wait(timeout=120), run.communicate()[0].decode()) for run in runs]
    for code, output in outputs:
        assert code in (0, 2), output
        assert code == 0 or "is writing under" in output, output
    assert all("PeerAuthentication" in f.read_text() for f in files)
    assert not (tmp_path / ".authn-migrate.lock").exists()
