"""Configuration: where the file is found, what wins, what is refused, and what it suppresses."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from migrate.config import (
    Config,
    ConfigError,
    Suppressions,
    config_start,
    find_config_file,
    load_config,
    render_config,
    suppressions,
)
from migrate.errors import MigrateError
from migrate.findings import Finding, Location, Severity

TABLE = "[tool.authn-migrate]\n"
YAML_CONFIG = "split: true\n"
TOML_CONFIG = TABLE + "split = true\n"
NO_TABLE = '[project]\nname = "x"\n'


def _tree(root: Path, files: dict[str, str]) -> None:
    """Create `files` (relative path: text) under `root`; a name ending in / is a folder."""
    for name, text in files.items():
        target = root / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _finding(code: str = "AM206", resource: str = "", path: str = "x.yaml") -> Finding:
    return Finding(code, Severity.WARNING, "message", Location(path, 3, 1), resource=resource)


# --- finding the file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "start", "found"),
    [
        pytest.param(
            {"outer/.authn-migrate.yaml": YAML_CONFIG, "outer/repo/.git/": "", "outer/repo/a/": ""},
            "outer/repo/a",
            None,
            id="stops-at-repository-root",
        ),
        pytest.param(
            {"outer/.authn-migrate.yaml": YAML_CONFIG, "outer/wt/.git": "gitdir: x\n"},
            "outer/wt",
            None,
            id="git-file-marks-root-too",
        ),
        pytest.param(
            {"repo/.git/": "", "repo/.authn-migrate.yaml": YAML_CONFIG, "repo/a/b/": ""},
            "repo/a/b",
            "repo/.authn-migrate.yaml",
            id="repository-root-itself-is-searched",
        ),
        pytest.param(
            {
                "repo/.git/": "",
                "repo/.authn-migrate.yaml": YAML_CONFIG,
                "repo/a/.authn-migrate.yaml": YAML_CONFIG,
                "repo/a/b/": "",
            },
            "repo/a/b",
            "repo/a/.authn-migrate.yaml",
            id="nearest-wins",
        ),
        pytest.param(
            {
                "repo/.git/": "",
                "repo/pyproject.toml": TOML_CONFIG,
                "repo/a/pyproject.toml": NO_TABLE,
            },
            "repo/a",
            "repo/pyproject.toml",
            id="pyproject-without-table-skipped",
        ),
        pytest.param(
            {
                "repo/.git/": "",
                "repo/.authn-migrate.yaml": YAML_CONFIG,
                "repo/pyproject.toml": TOML_CONFIG,
            },
            "repo",
            "repo/.authn-migrate.yaml",
            id="yaml-beats-toml-in-one-directory",
        ),
        pytest.param(
            {"repo/.git/": "", "repo/.authn-migrate.yml": YAML_CONFIG},
            "repo",
            "repo/.authn-migrate.yml",
            id="yml-spelling",
        ),
        pytest.param(
            {"repo/.git/": "", "repo/pyproject.toml": TOML_CONFIG, "repo/k8s/p.yaml": "a: 1\n"},
            "repo/k8s/p.yaml",
            "repo/pyproject.toml",
            id="start-file-uses-its-directory",
        ),
        pytest.param(
            {"top/.authn-migrate.yaml": YAML_CONFIG, "top/a/b/": ""},
            "top/a/b",
            None,
            id="no-repository-stays-at-the-start",
        ),
        pytest.param(
            {"top/a/.authn-migrate.yaml": YAML_CONFIG},
            "top/a",
            "top/a/.authn-migrate.yaml",
            id="no-repository-reads-the-start",
        ),
    ],
)
def test_find_config_file(
    tmp_path: Path, files: dict[str, str], start: str, found: str | None
) -> None:
    """The nearest config file at or above the start, never above the repository root."""
    _tree(tmp_path, files)
    result = find_config_file(tmp_path / start)
    assert result == (tmp_path / found if found else None)


def test_yaml_beating_toml_is_noted(in_tmp: Path) -> None:
    """When YAML wins over a pyproject table in the same directory, a note says so."""
    _tree(in_tmp, {".git/": "", ".authn-migrate.yaml": "split: true\n", "pyproject.toml": TABLE})
    config = load_config(in_tmp)
    assert config.notes == (
        "[tool.authn-migrate] in pyproject.toml ignored: .authn-migrate.yaml wins",
    )


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        pytest.param(["k8s", "other"], Path("k8s"), id="first-path"),
        pytest.param(["-", "k8s/a.yaml"], Path("k8s/a.yaml"), id="stdin-skipped"),
        pytest.param(["-"], None, id="cwd-for-stdin-only"),
    ],
)
def test_config_start(in_tmp: Path, paths: list[str], expected: Path | None) -> None:
    """The search starts at the first PATH argument that is not `-`, else at the cwd."""
    assert config_start(paths) == (expected if expected else in_tmp)


# --- precedence and values ----------------------------------------------------------------


class _Format(str, enum.Enum):
    yaml = "yaml"


Y = ".authn-migrate.yaml"
CLI = "command line"


@pytest.mark.parametrize(
    ("file_text", "overrides", "expected"),
    [
        pytest.param(None, {}, ("istio-version", None, "default"), id="default"),
        pytest.param("istio-version: '1.4'\n", {}, ("istio-version", "1.4", Y), id="file"),
        pytest.param(
            "istio-version: '1.4'\n",
            {"istio-version": "1.6"},
            ("istio-version", "1.6", CLI),
            id="command-line-beats-file",
        ),
        pytest.param(
            "istio-version: '1.4'\n",
            {"istio_version": None},
            ("istio-version", "1.4", Y),
            id="none-is-not-given",
        ),
        pytest.param("split: true\n", {"split": False}, ("split", False, CLI), id="false-wins"),
        pytest.param(
            "accept: [stricter]\n",
            {"accept": ["looser"]},
            ("accept", ("looser",), CLI),
            id="lists-are-replaced",
        ),
        pytest.param("fail_on: looser\n", {}, ("fail-on", "looser", Y), id="snake-case"),
        pytest.param(None, {"output": _Format.yaml}, ("output", "yaml", CLI), id="enum-value"),
        pytest.param("namespace: null\n", {}, ("namespace", None, Y), id="explicit-null"),
    ],
)
def test_precedence(
    in_tmp: Path, file_text: str | None, overrides: dict[str, Any], expected: tuple[str, Any, str]
) -> None:
    """Defaults are overridden by the file, and the file by command-line values that were given."""
    (in_tmp / ".git").mkdir()
    if file_text is not None:
        (in_tmp / Y).write_text(file_text)
    config = load_config(in_tmp, overrides)
    key, value, source = expected
    assert (config.values[key], config.sources[key], config.file is not None) == (
        value,
        source,
        file_text is not None,
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param(
            ".authn-migrate.yaml", "inventory: [inv/svc.yaml, sub/../shared]\n", id="yaml"
        ),
        pytest.param(
            "pyproject.toml", TABLE + 'inventory = ["inv/svc.yaml", "sub/../shared"]\n', id="toml"
        ),
    ],
)
def test_inventory_is_relative_to_the_config_file(tmp_path: Path, name: str, text: str) -> None:
    """Inventory paths in a file are resolved against that file's directory, not the start."""
    _tree(tmp_path, {"repo/.git/": "", f"repo/{name}": text, "repo/sub/": ""})
    config = load_config(tmp_path / "repo" / "sub", {})
    assert config.values["inventory"] == (
        str(tmp_path / "repo" / "inv" / "svc.yaml"),
        str(tmp_path / "repo" / "shared"),
    )


def test_inventory_from_the_command_line_stays_as_given(in_tmp: Path) -> None:
    """Command-line inventory paths are relative to the working directory, as typed."""
    (in_tmp / ".git").mkdir()
    config = load_config(in_tmp, {"inventory": [Path("a/svc.yaml")]})
    assert config.values["inventory"] == ("a/svc.yaml",)


@pytest.mark.parametrize(
    ("key", "default", "expected"),
    [
        pytest.param("split", None, False, id="set-value"),
        pytest.param("output", "table", "table", id="unset-gives-default"),
        pytest.param("root_namespace", "istio-system", "istio-system", id="snake-case"),
    ],
)
def test_get(in_tmp: Path, key: str, default: Any, expected: Any) -> None:
    """`get` reads either spelling and falls back to `default` only while a key is unset."""
    (in_tmp / ".git").mkdir()
    assert load_config(in_tmp).get(key, default) == expected


def test_get_refuses_unknown_keys() -> None:
    """A misspelt key in the caller is a KeyError, not a silent None."""
    with pytest.raises(KeyError, match="splitt"):
        Config(values={}, sources={}).get("splitt")


def test_overrides_refuse_keys_that_are_not_configuration(in_tmp: Path) -> None:
    """Passing a non-configuration option as an override is a programming error."""
    (in_tmp / ".git").mkdir()
    with pytest.raises(ValueError, match="'write'"):
        load_config(in_tmp, {"write": True})


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        pytest.param(
            ".authn-migrate.yaml",
            "split: true\nfail_onn: looser\n",
            2,
            "unknown key 'fail_onn'; did you mean 'fail-on'?",
            id="unknown-key-yaml",
        ),
        pytest.param(
            "pyproject.toml",
            '[project]\nname = "x"\n\n' + TABLE + "split = true\nrootnamespace = 'x'\n",
            6,
            "unknown key 'rootnamespace'; did you mean 'root-namespace'?",
            id="unknown-key-toml",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "colour: red\n",
            1,
            "unknown key 'colour'; the keys are: root-namespace,",
            id="unknown-key-no-suggestion",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "split: true\n3: x\n",
            2,
            "unknown key 3",
            id="unknown-key-not-a-string",
        ),
        pytest.param(
            "pyproject.toml",
            TABLE + "split = true\n\n[tool.authn-migrate.paths]\nx = 1\n",
            4,
            "unknown key 'paths'; the keys are:",
            id="unknown-sub-table-toml",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "split: yes\n",
            1,
            "'split' must be true or false, not the string 'yes'",
            id="wrong-type-boolean",
        ),
        pytest.param(
            "pyproject.toml",
            TABLE + 'accept = "stricter"\n',
            2,
            "'accept' must be a list of strings, not the string 'stricter'",
            id="wrong-type-list-toml",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "inventory:\n  - a.yaml\n  - 3\n",
            3,
            "'inventory' item 2 must be a non-empty string, not the number 3",
            id="wrong-type-list-item",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "istio-version: 1.10\n",
            1,
            'must be a quoted version such as "1.5", not the number 1.1',
            id="unquoted-version",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "fail-on: loser\n",
            1,
            "'fail-on' must be one of looser, stricter, any, never, not 'loser'; did you mean "
            "'looser'?",
            id="bad-choice",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "suppress:\n  - AM206\n  - AM999:Policy a/b\n",
            3,
            "'suppress' item 2: unknown finding code 'AM999'",
            id="unknown-code",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "suppress: [am206]\n",
            1,
            "unknown finding code 'am206'; did you mean 'AM206'?",
            id="lowercase-code",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "split: true\nsplit: false\n",
            2,
            'invalid YAML: found duplicate key "split"',
            id="duplicate-key",
        ),
        pytest.param(
            ".authn-migrate.yaml",
            "fail-on: any\nfail_on: never\n",
            2,
            "'fail-on' is given twice (as 'fail-on' and 'fail_on')",
            id="both-spellings",
        ),
        pytest.param(".authn-migrate.yaml", "split: [true\n", 2, "invalid YAML", id="yaml-syntax"),
        pytest.param(
            ".authn-migrate.yaml",
            "- split\n",
            1,
            "expected a mapping of keys to values",
            id="not-a-mapping",
        ),
        pytest.param("pyproject.toml", TABLE + "split = \n", 2, "invalid TOML", id="toml-syntax"),
    ],
)
def test_config_errors(in_tmp: Path, name: str, text: str, line: int, message: str) -> None:
    """A bad file is a ConfigError naming the file, the line and what is wrong."""
    _tree(in_tmp, {".git/": "", name: text})
    with pytest.raises(ConfigError) as caught:
        load_config(in_tmp)
    error = caught.value
    assert isinstance(error, MigrateError)
    assert (error.path, error.line) == (name, line)
    assert message in error.message
    assert str(error).startswith(f"{name}:{line}: ")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"fail-on": "sometimes"}, "'fail-on' must be one of", id="choice"),
        pytest.param({"istio-version": "1.x"}, "expected a version such as", id="version"),
        pytest.param({"istio-version": "9.9"}, "Istio 9.9 is not modelled", id="unknown-release"),
        pytest.param({"inbound-sniffing": "maybe"}, "must be one of on, off", id="sniffing"),
        pytest.param({"suppress": ["AM000"]}, "unknown finding code 'AM000'", id="suppress"),
    ],
)
def test_command_line_errors(in_tmp: Path, overrides: dict[str, Any], message: str) -> None:
    """Command-line values are checked like a file's, and errors name the command line."""
    (in_tmp / ".git").mkdir()
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(in_tmp, overrides)
    assert (caught.value.path, caught.value.line) == ("command line", 0)


# --- suppressions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "finding", "hidden"),
    [
        pytest.param("AM206", _finding(), True, id="code"),
        pytest.param("AM205", _finding(), False, id="other-code"),
        pytest.param(
            "AM206:Policy foo/bar", _finding(resource="Policy foo/bar"), True, id="code-resource"
        ),
        pytest.param(
            "AM206:Policy foo/bar", _finding(resource="Policy foo/baz"), False, id="other-resource"
        ),
        pytest.param(
            "AM205:Policy foo/bar",
            _finding(resource="Policy foo/bar"),
            False,
            id="resource-other-code",
        ),
        pytest.param(
            "AM206:k8s/legacy/*.yaml", _finding(path="k8s/legacy/a.yaml"), True, id="code-glob"
        ),
        pytest.param(
            "AM206:k8s/legacy/*.yaml", _finding(path="k8s/current/a.yaml"), False, id="glob-miss"
        ),
        pytest.param("AM206:k8s/", _finding(path="k8s/deep/a.yaml"), True, id="folder-prefix"),
        pytest.param(
            "AM206:./k8s/*.yaml", _finding(path="k8s/a.yaml"), True, id="dot-slash-stripped"
        ),
        pytest.param(
            "*:Policy foo/bar",
            _finding("AM401", resource="Policy foo/bar"),
            True,
            id="any-code-resource",
        ),
        pytest.param(
            "*:Policy foo/bar", _finding("AM401", resource="Policy foo/x"), False, id="any-miss"
        ),
        pytest.param(
            "*:Policy legacy/*",
            _finding("AM201", resource="Policy legacy/default"),
            True,
            id="resource-wildcard",
        ),
    ],
)
def test_suppression_matching(entry: str, finding: Finding, hidden: bool) -> None:
    """An entry hides findings by code, narrowed by resource or file glob; `*` is any code."""
    assert Suppressions((entry,)).matches(finding) is hidden


def test_file_globs_also_match_relative_to_the_config_file(tmp_path: Path) -> None:
    """A config file's glob works when the finding's path is shown from a subdirectory."""
    _tree(tmp_path, {"repo/.git/": "", "repo/.authn-migrate.yaml": "suppress: ['AM206:k8s/*']\n"})
    (tmp_path / "repo" / "k8s").mkdir()
    previous = Path.cwd()
    os.chdir(tmp_path / "repo" / "k8s")
    try:
        rules = suppressions(load_config(Path.cwd()))
        assert rules.matches(_finding(path="a.yaml"))
        assert not rules.matches(_finding(path="../other/a.yaml"))
    finally:
        os.chdir(previous)


def test_apply_counts_what_it_hides(in_tmp: Path) -> None:
    """`apply` keeps unmatched findings in order and counts the hidden ones; extras add up."""
    _tree(in_tmp, {".git/": "", ".authn-migrate.yaml": "suppress: [AM206]\n"})
    rules = suppressions(load_config(in_tmp), ["*:Policy a/b"])
    assert rules.entries == ("AM206", "*:Policy a/b")
    findings = [
        _finding("AM206"),
        _finding("AM201", resource="Policy a/b"),
        _finding("AM201", resource="Policy a/c"),
        _finding("AM205"),
    ]
    assert rules.apply(findings) == ([findings[2], findings[3]], 2)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param("AM999", "unknown finding code 'AM999'", id="unknown-code"),
        pytest.param("*", "'*' needs a resource or a file", id="bare-star"),
        pytest.param("*:*", "'*' needs a resource or a file", id="star-star"),
        pytest.param("AM206:", "nothing after 'AM206:'", id="empty-target"),
        pytest.param("", "expected CODE", id="empty"),
    ],
)
def test_bad_suppression_entries(entry: str, message: str) -> None:
    """Extra entries are checked and errors name the command line; direct use raises too."""
    with pytest.raises(ConfigError, match=message) as caught:
        suppressions(Config(values={}, sources={}), [entry])
    assert caught.value.path == "command line"
    with pytest.raises(ValueError, match=message):
        Suppressions((entry,))


# --- --show-config ------------------------------------------------------------------------

GOLDEN = """\
# authn-migrate configuration (default < config file < command line)
# config file: .authn-migrate.yaml
# note: [tool.authn-migrate] in pyproject.toml ignored: .authn-migrate.yaml wins
root-namespace: mesh-root  # .authn-migrate.yaml
namespace: null  # default
inventory:  # .authn-migrate.yaml
- inventory/services.yaml
istio-version: '1.4'  # command line
inbound-sniffing: null  # default: the inputs' istiod env or IstioOperator, else both
api-version: security.istio.io/v1beta1  # default
fail-on: looser  # .authn-migrate.yaml
accept: []  # default
output: json  # command line
suppress:  # .authn-migrate.yaml
- AM206
- '*:Policy foo/bar'
include-ignored: false  # default
allow-stricter: true  # .authn-migrate.yaml
expand-scopes: false  # default
faithful-disable: false  # default
split: true  # command line
all-or-nothing: false  # default
"""


def test_render_config_golden(in_tmp: Path) -> None:
    """--show-config lists every key in a fixed order with its value and source, as YAML."""
    _tree(
        in_tmp,
        {
            ".git/": "",
            "pyproject.toml": TABLE + "split = false\n",
            ".authn-migrate.yaml": (
                "root-namespace: mesh-root\n"
                "inventory: [inventory/services.yaml]\n"
                "istio-version: '1.5'\n"
                "fail-on: looser\n"
                "suppress: [AM206, '*:Policy foo/bar']\n"
                "allow_stricter: true\n"
            ),
        },
    )
    overrides = {"istio-version": "1.4", "output": "json", "split": True, "namespace": None}
    text = render_config(load_config(in_tmp, overrides))
    assert text == GOLDEN
    assert render_config(load_config(in_tmp, overrides)) == text
    assert yaml.safe_load(text)["suppress"] == ["AM206", "*:Policy foo/bar"]
