"""Configuration: built-in defaults, then a config file, then command-line flags.

The file is `.authn-migrate.yaml` (or `.yml`) or the `[tool.authn-migrate]` table of a
`pyproject.toml`, found by searching upward from a start directory to the repository root (the
first directory holding `.git`), or to the filesystem root outside a repository. The nearest
file wins; in one directory the YAML file wins over `pyproject.toml`, and a note says so.

Keys are spelt as the command-line flags (`fail-on`); `fail_on` is accepted too. Every value
is checked when read, so a typo or a wrong type is an error naming the file, the line and the
key, never a silently ignored setting.

Suppressions hide findings by code, optionally narrowed to a resource (`AM206:Policy foo/bar`)
or to files (`AM206:k8s/legacy/*.yaml`); `*` stands for any code (`*:Policy foo/bar`).
"""

from __future__ import annotations

import difflib
import enum
import os
import re
import stat
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from migrate.codes import CODES
from migrate.errors import MigrateError
from migrate.escape import terminal
from migrate.findings import Finding
from migrate.load.discover import display_path
from migrate.load.namespaces import NAMESPACE_RULE, is_namespace_name
from migrate.load.regular import read_regular
from migrate.load.yamlio import make_yaml
from migrate.model.releases import UnknownRelease, parse_releases
from migrate.outputs import NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # the dependency `tomli; python_version < "3.11"` is the same parser
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

YAML_NAMES = (".authn-migrate.yaml", ".authn-migrate.yml")
PYPROJECT = "pyproject.toml"
TABLE = "authn-migrate"
DEFAULT_SOURCE = "default"
COMMAND_LINE = "command line"

FAIL_ON = ("looser", "stricter", "any", "never")
SNIFFING = ("on", "off")
OUTPUTS = NAMES
"""Every format some command writes; `output` in a file sets the default of those that have it."""
API_VERSIONS = ("security.istio.io/v1beta1", "security.istio.io/v1")


@dataclass(frozen=True, slots=True)
class _Key:
    """A configuration key: the kind of value it takes and its built-in default."""

    kind: str  # "string", "namespace", "boolean", "strings", "choice", "version", "suppress"
    default: Any
    choices: tuple[str, ...] = ()


# In the order --show-config lists them. A default of None means "unset": the command decides.
KEYS: Mapping[str, _Key] = types.MappingProxyType(
    {
        "root-namespace": _Key("namespace", None),
        "namespace": _Key("namespace", None),
        "inventory": _Key("strings", ()),
        "istio-version": _Key("version", None),
        "inbound-sniffing": _Key("choice", None, SNIFFING),
        "api-version": _Key("choice", API_VERSIONS[0], API_VERSIONS),
        "fail-on": _Key("choice", None, FAIL_ON),
        "accept": _Key("strings", ()),
        "output": _Key("choice", None, OUTPUTS),
        "suppress": _Key("suppress", ()),
        "include-ignored": _Key("boolean", False),
        "allow-stricter": _Key("boolean", False),
        "expand-scopes": _Key("boolean", False),
        "faithful-disable": _Key("boolean", False),
        "split": _Key("boolean", False),
        "all-or-nothing": _Key("boolean", False),
    }
)


class ConfigError(MigrateError):
    """A configuration file or value is wrong; `line` is 1-based, 0 when unknown."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line > 0 else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Config:
    """The effective configuration: every key's value (kebab-case) and where it came from.

    `sources` maps each key to "default", the config file's path as messages show it, or
    "command line". `notes` are things worth telling the user, such as a file that lost.
    """

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    file: Path | None = None
    notes: tuple[str, ...] = ()
    revision: str | None = None
    """The git revision the file was read at (review's base), None for the work tree."""

    def trusted(self, key: str) -> bool:
        """True when `key`'s value comes from the command line, the defaults or a file read
        at the base revision, not from the tree being read (which may be a pull request)."""
        source = self.sources.get(_normalise(key), DEFAULT_SOURCE)
        return source in (DEFAULT_SOURCE, COMMAND_LINE) or self.revision is not None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key` (either spelling), or `default` while it is unset (None).

        An unknown key raises KeyError: it is a typo in the caller, not a missing setting.
        """
        name = _normalise(key)
        if name not in KEYS:
            raise KeyError(f"not a configuration key: {key!r}")
        value = self.values.get(name)
        return default if value is None else value


def config_start(paths: Sequence[str]) -> Path:
    """Where the search for a config file starts: the first PATH argument, else the cwd."""
    for given in paths:
        if given != "-":
            return Path(given)
    return Path.cwd()


def find_config_file(start: Path) -> Path | None:
    """The nearest config file at or above `start` (a directory, or a file's directory)."""
    return _search(start, _Files())[0]


def load_config(
    start: Path, overrides: Mapping[str, Any] | None = None, *, revision: str | None = None
) -> Config:
    """Defaults, overridden by the config file found from `start`, overridden by `overrides`.

    `overrides` are the command-line values, by key in either spelling; None means "not given"
    and overrides nothing. Enum members stand for their value, paths for their text. With
    `revision`, the file is read as it is at that git revision (review's base), never from the
    work tree; without, a work tree file cannot accept looser differences or set `fail-on:
    never` (those entries are left out, with a note).
    Raises ConfigError for a bad file or value, ValueError for a key that is not configurable,
    GitError when `revision` cannot be read.
    """
    values: dict[str, Any] = {name: key.default for name, key in KEYS.items()}
    sources = dict.fromkeys(KEYS, DEFAULT_SOURCE)
    files = _Files(revision)
    file, notes = _search(start, files)
    if file is not None:
        display = files.display(file)
        read = _read_file(file, files)
        if revision is None:
            read, left_out = _untrusted(read, display)
            notes = (*notes, *left_out)
        for name, value in read.items():
            values[name] = value
            sources[name] = display
    for name, value in _check_overrides(overrides or {}).items():
        values[name] = value
        sources[name] = COMMAND_LINE
    return Config(
        values=types.MappingProxyType(values),
        sources=types.MappingProxyType(sources),
        file=file,
        notes=(*files.notes, *notes),
        revision=revision,
    )


def _untrusted(values: dict[str, Any], display: str) -> tuple[dict[str, Any], list[str]]:
    """A work tree file's values without what only the command line or the base revision may
    say (`accept: [looser]`, `fail-on: never`), and notes on what was left out. A `fail-on`
    that fails on more than looser differences raises the bar and is kept."""
    kept = dict(values)
    notes = []
    fail_on = kept.get("fail-on")
    if fail_on == "never":
        del kept["fail-on"]
        notes.append(
            f"{display}: 'fail-on: {fail_on}' ignored: only the command line (or, for review, "
            "the configuration at the base revision) can change fail-on"
        )
    accept = kept.get("accept") or ()
    if "looser" in accept:
        kept["accept"] = tuple(entry for entry in accept if entry != "looser")
        notes.append(
            f"{display}: 'accept: looser' ignored: only the command line (or, for review, the "
            "configuration at the base revision) can accept looser differences"
        )
    return kept, notes


def render_config(config: Config) -> str:
    """The effective configuration as YAML, each key commented with its source (--show-config).

    Paths are shown relative to the working directory when below it.
    """
    lines = ["# authn-migrate configuration (default < config file < command line)"]
    shown = display_path(config.file) if config.file else "none found"
    lines.append(terminal(f"# config file: {shown}"))
    lines += [terminal(f"# note: {note}") for note in config.notes]
    for name in KEYS:
        value = config.values.get(name)
        if name == "inventory" and value:
            value = [display_path(Path(p)) for p in value]
        if isinstance(value, (list, tuple)):
            value = [terminal(item) for item in value]
        elif isinstance(value, str):
            value = terminal(value)
        text = yaml.safe_dump(
            {name: value},
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=1 << 20,
        )
        first, _, rest = text.partition("\n")
        source = config.sources.get(name, DEFAULT_SOURCE)
        if value is None and name in _OPEN_DEFAULTS:
            source += f": {_OPEN_DEFAULTS[name]}"
        lines.append(f"{first}  # {terminal(source)}")
        lines += rest.splitlines()
    return "\n".join(lines) + "\n"


_OPEN_DEFAULTS = {
    "istio-version": "the inputs' IstioOperator or istiod image, else every release",
    "inbound-sniffing": "the inputs' istiod env or IstioOperator, else both",
}


@dataclass(frozen=True, slots=True)
class Suppressions:
    """Entries that hide findings: `CODE`, `CODE:Kind namespace/name` or `CODE:path/glob`.

    The code may be `*` (any code) when a resource or file narrows it. A target matches a
    finding whose resource it equals (it may use `*` and `?`), or whose file it matches as a
    shell-style glob (`*` also crosses `/`; a trailing `/` means everything below). Files are
    matched as messages show them and, when `base` is set, relative to `base` as well (the
    config file's directory, so a file's globs work from any working directory).
    """

    entries: tuple[str, ...]
    base: Path | None = None
    _parsed: tuple[tuple[str, str | None], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        parsed = []
        for entry in self.entries:
            problem, rule = _parse_suppression(entry)
            if rule is None:
                raise ValueError(f"suppress entry {entry!r}: {problem}")
            parsed.append(rule)
        object.__setattr__(self, "_parsed", tuple(parsed))

    def matches(self, finding: Finding) -> bool:
        """True when some entry hides `finding`."""
        paths: tuple[str, ...] | None = None
        for code, target in self._parsed:
            if code not in ("*", finding.code):
                continue
            if target is None or fnmatchcase(finding.resource, target):
                return True
            if paths is None:
                paths = self._paths(finding.location.path)
            if any(fnmatchcase(path, target) for path in paths):
                return True
        return False

    def apply(self, findings: Sequence[Finding]) -> tuple[list[Finding], int]:
        """The findings no entry hides, in their order, and how many were hidden."""
        kept = [finding for finding in findings if not self.matches(finding)]
        return kept, len(findings) - len(kept)

    def _paths(self, shown: str) -> tuple[str, ...]:
        """A finding's file as shown, and relative to `base` when it lies below it."""
        paths = [shown.removeprefix("./")]
        if self.base is not None and shown and not shown.startswith("<"):
            candidates = ((os.path.abspath(shown), self.base), (os.path.realpath(shown), None))
            for candidate, base in candidates:
                try:
                    below = Path(candidate).relative_to(base or self.base.resolve())
                except ValueError:
                    continue
                paths.append(below.as_posix())
                break
        return tuple(dict.fromkeys(paths))


def suppressions(config: Config, extra: Sequence[str] = ()) -> Suppressions:
    """The config's `suppress` entries followed by `extra` ones (e.g. from --suppress).

    Raises ConfigError, naming the command line, for an invalid extra entry.
    """
    for entry in extra:
        problem, _ = _parse_suppression(entry)
        if problem:
            raise ConfigError(COMMAND_LINE, 0, f"suppress entry {entry!r}: {problem}")
    entries = (*(config.values.get("suppress") or ()), *extra)
    base = Path(os.path.abspath(config.file)).parent if config.file else None
    return Suppressions(tuple(dict.fromkeys(entries)), base)


# --- finding the file -----------------------------------------------------------------------


@dataclass(slots=True)
class _Files:
    """Where configuration files are read from: the work tree (files owned by the running
    user and not writable by others), or a git revision."""

    revision: str | None = None
    notes: list[str] = field(default_factory=list)
    _blobs: dict[Path, bytes] | None = None
    _read: dict[Path, bytes | None] = field(default_factory=dict)

    def display(self, path: Path) -> str:
        shown = display_path(path)
        return f"{shown} at {self.revision}" if self.revision else shown

    def root(self, here: Path) -> Path | None:
        """The work tree's top directory, None outside a repository."""
        if self.revision is not None:
            from migrate.load.gitread import repository_root as git_root

            return Path(os.path.abspath(git_root(here)))
        return next((d for d in (here, *here.parents) if (d / ".git").exists()), None)

    def prepare(self, candidates: list[Path], root: Path) -> None:
        """Read the candidates that exist at the revision, at once."""
        if self.revision is not None:
            from migrate.load.gitread import files_at

            self._blobs = files_at(self.revision, candidates, root)

    def read(self, path: Path) -> bytes | None:
        """The file's bytes; None when it is absent or not to be trusted (with a note)."""
        if self._blobs is not None:
            return self._blobs.get(path)
        if path not in self._read:
            self._read[path] = self._read_work_tree(path)
        return self._read[path]

    def _read_work_tree(self, path: Path) -> bytes | None:
        if not path.is_file():
            return None
        problem = _not_ours(path)
        if problem:
            self.notes.append(f"{display_path(path)} ignored: {problem}")
            return None
        try:
            return read_regular(path, CONFIG_BYTES)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(display_path(path), 0, f"cannot read: {reason}") from None


CONFIG_BYTES = 1 << 20
"""The largest configuration file read (a pyproject.toml is a few kilobytes)."""


def _not_ours(path: Path) -> str:
    """Why a work tree file cannot be trusted as configuration ("" when it can): another
    user owns it (or the link to it), or anyone may write it."""
    uid = getattr(os, "getuid", None)
    if uid is None:  # no ownership to compare (Windows)
        return ""
    status, link = path.stat(), path.lstat()
    if status.st_uid != uid() or link.st_uid != uid():
        return "owned by another user"
    if status.st_mode & stat.S_IWOTH:
        return "writable by every user"
    return ""


def _search(start: Path, files: _Files) -> tuple[Path | None, tuple[str, ...]]:
    """The nearest config file at or above `start`, up to the repository root (outside a
    repository, in `start` only), and notes about files it beat."""
    here = Path(os.path.abspath(start))
    if not here.is_dir() and (files.revision is None or here.suffix):
        here = here.parent
    root = files.root(here)
    directories = [here] if root is None else [here, *here.parents]
    if root is not None and root in directories:
        directories = directories[: directories.index(root) + 1]
    names = (*YAML_NAMES, PYPROJECT)
    files.prepare([d / name for d in directories for name in names], root or here)
    for directory in directories:
        yamls = [p for p in (directory / name for name in YAML_NAMES) if files.read(p) is not None]
        pyproject = directory / PYPROJECT
        if yamls:
            winner = files.display(yamls[0])
            notes = [f"{files.display(other)} ignored: {winner} wins" for other in yamls[1:]]
            if _has_table(pyproject, files, quiet=True):
                notes.append(f"[tool.{TABLE}] in {files.display(pyproject)} ignored: {winner} wins")
            return yamls[0], tuple(notes)
        if _has_table(pyproject, files):
            return pyproject, ()
    return None, ()


def _has_table(pyproject: Path, files: _Files, *, quiet: bool = False) -> bool:
    """True when `pyproject` exists with a [tool.authn-migrate] table (an unreadable file
    raises)."""
    try:
        data = files.read(pyproject)
        if data is None:
            return False
        return (
            _toml_table(files.display(pyproject), _text(files.display(pyproject), data)) is not None
        )
    except ConfigError:
        if quiet:
            return False
        raise


# --- reading and checking -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where values come from: the name messages show, and the line of a key or list item."""

    display: str
    line: Callable[[Any, int | None], int]
    base: Path | None = None

    def error(self, key: Any, item: int | None, message: str) -> ConfigError:
        return ConfigError(self.display, self.line(key, item), message)


def _read_file(path: Path, files: _Files) -> dict[str, Any]:
    """The checked values of a config file, by kebab-case key."""
    display = files.display(path)
    data_bytes = files.read(path)
    text = _text(display, data_bytes or b"")
    if path.name == PYPROJECT:
        table = _toml_table(display, text)
        lines = _toml_lines(text)
        origin = _Origin(display, lambda key, _item: lines.get(key, 0), path.parent)
        return _check_all(table or {}, origin)
    data = _load_yaml(display, text)
    origin = _Origin(display, lambda key, item: _yaml_line(data, key, item), path.parent)
    return _check_all(data, origin)


def _text(display: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(display, 0, "not UTF-8 text") from None


def _load_yaml(display: str, text: str) -> Mapping[Any, Any]:
    reader = make_yaml("rt")
    reader.allow_duplicate_keys = False
    try:
        data = reader.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise ConfigError(display, line, f"invalid YAML: {exc.problem}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(display, 1, "expected a mapping of keys to values")
    return data


def _yaml_line(data: Any, key: str, item: int | None) -> int:
    """The 1-based line of `key` (or of its list item `item`) in ruamel data; 0 if unknown."""
    try:
        if item is not None:
            return int(data[key].lc.item(item)[0]) + 1
        return int(data.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0


def _toml_table(display: str, text: str) -> Mapping[str, Any] | None:
    """The [tool.authn-migrate] table of a pyproject.toml, None when it has none."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else 0
        raise ConfigError(display, line, f"invalid TOML: {exc}") from None
    tool = data.get("tool")
    table = tool.get(TABLE) if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(display, 0, f"tool.{TABLE} must be a table")
    return table


_TOML_HEADER = re.compile(
    r"\s*\[\s*tool\s*\.\s*(?:authn-migrate|\"authn-migrate\"|'authn-migrate')\s*"
    r"(?:\.\s*([\"']?)([A-Za-z0-9_-]+)\1\s*)?\]"
)
_TOML_KEY = re.compile(r"\s*([\"']?)([A-Za-z0-9_-]+)\1\s*=")


def _toml_lines(text: str) -> dict[str, int]:
    """Best effort: the line of each key of the [tool.authn-migrate] table, found by text."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("["):
            header = _TOML_HEADER.match(line)
            sub_table = header.group(2) if header else None  # [tool.authn-migrate.key]
            inside = header is not None and sub_table is None
            if sub_table:
                lines.setdefault(sub_table, number)
        elif inside and (found := _TOML_KEY.match(line)):
            lines.setdefault(found.group(2), number)
    return lines


def _normalise(key: str) -> str:
    return key.strip().lower().replace("_", "-")


def _check_all(data: Mapping[Any, Any], origin: _Origin) -> dict[str, Any]:
    """Every entry of `data` checked, by kebab-case key; raises at the first problem."""
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    for raw in data:
        name = _normalise(raw) if isinstance(raw, str) else ""
        if name not in KEYS:
            raise origin.error(raw, None, _unknown_key(raw))
        if name in written:
            message = f"{name!r} is given twice (as {written[name]!r} and {raw!r})"
            raise origin.error(raw, None, message)
        written[name] = raw
        values[name] = _check(name, raw, data[raw], origin)
    return values


def _unknown_key(raw: object) -> str:
    message = f"unknown key {raw!r}"
    close = difflib.get_close_matches(_normalise(str(raw)), list(KEYS), n=1, cutoff=0.6)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; the keys are: {', '.join(KEYS)}"


def _check(name: str, raw: str, value: Any, origin: _Origin) -> Any:
    """`value` for key `name` (written `raw`) checked and converted; raises ConfigError."""
    key = KEYS[name]
    if value is None and key.default is None:
        return None  # explicitly unset
    if key.kind == "boolean":
        if isinstance(value, (bool, ScalarBoolean)):
            return bool(value)
        raise origin.error(raw, None, f"{raw!r} must be true or false, not {_describe(value)}")
    if key.kind in ("strings", "suppress"):
        return _check_list(name, raw, value, origin)
    if not isinstance(value, str):
        expected = 'a quoted version such as "1.5"' if key.kind == "version" else "a string"
        hint = " (unquoted, 1.10 would read as 1.1)" if isinstance(value, (int, float)) else ""
        raise origin.error(raw, None, f"{raw!r} must be {expected}, not {_describe(value)}{hint}")
    text = str(value).strip()
    if not text:
        raise origin.error(raw, None, f"{raw!r} must not be empty")
    if key.kind == "version":
        try:
            parse_releases(text)
        except UnknownRelease as exc:
            raise origin.error(raw, None, f"{raw!r}: {exc}") from None
    if key.kind == "namespace" and not is_namespace_name(text):
        raise origin.error(raw, None, f"{raw!r}: {text!r} is not a namespace; {NAMESPACE_RULE}")
    if key.kind == "choice" and text not in key.choices:
        close = difflib.get_close_matches(text, key.choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        message = f"{raw!r} must be one of {', '.join(key.choices)}, not {text!r}{hint}"
        raise origin.error(raw, None, message)
    return text


def _check_list(name: str, raw: str, value: Any, origin: _Origin) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise origin.error(raw, None, f"{raw!r} must be a list of strings, not {_describe(value)}")
    items: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            message = f"{raw!r} item {index + 1} must be a non-empty string, not {_describe(item)}"
            raise origin.error(raw, index, message)
        text = str(item).strip()
        if name == "suppress":
            problem, _ = _parse_suppression(text)
            if problem:
                raise origin.error(raw, index, f"{raw!r} item {index + 1}: {problem}")
        if name == "inventory" and origin.base is not None:
            written, text = text, os.path.normpath(origin.base / text)
            root = repository_root(origin.base)
            if not _inside(text, root):
                message = (
                    f"{raw!r} item {index + 1}: {written} is outside the repository "
                    f"({display_path(root)}); a configuration file names files of its own "
                    "repository only (give others with --inventory)"
                )
                raise origin.error(raw, index, message)
        items.append(text)
    return tuple(items)


def repository_root(directory: Path) -> Path:
    """The work tree holding `directory` (the nearest directory at or above it with `.git`),
    else `directory` itself."""
    here = Path(os.path.abspath(directory))
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), here)


def _inside(path: str, root: Path) -> bool:
    """True when `path` lies in `root`, as written and once links are resolved."""
    real_root = os.path.realpath(root)
    for candidate, base in (
        (os.path.abspath(path), str(root)),
        (os.path.realpath(path), real_root),
    ):
        if os.path.commonpath([candidate, os.path.abspath(base)]) != os.path.abspath(base):
            return False
    return True


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bool, ScalarBoolean)):
        return f"the boolean {str(bool(value)).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {str(value)!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def _check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Command-line values that were given, checked like a file's; unknown keys raise."""
    origin = _Origin(COMMAND_LINE, lambda _key, _item: 0)
    given: dict[str, Any] = {}
    for raw, value in overrides.items():
        name = _normalise(raw)
        if name not in KEYS:
            raise ValueError(f"not a configuration key: {raw!r}")
        if value is not None:
            given[name] = _plain(value)
    return {name: _check(name, name, value, origin) for name, value in given.items()}


def _plain(value: Any) -> Any:
    """A command-line value as a file would hold it: enums by value, paths as text."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _parse_suppression(entry: str) -> tuple[str, tuple[str, str | None] | None]:
    """("", (code, target)) for a valid entry, or (what is wrong, None)."""
    code, colon, target = entry.partition(":")
    code, target = code.strip(), target.strip()
    if not code:
        return "expected CODE, CODE:Kind namespace/name or CODE:path/glob", None
    if code != "*" and code not in CODES:
        hint = f"; did you mean {code.upper()!r}?" if code.upper() in CODES else ""
        return f"unknown finding code {code!r}{hint}", None
    if colon and not target:
        return f"nothing after {code + ':'!r}; name a resource or a file glob", None
    if code == "*" and not target.strip("*"):
        return "'*' needs a resource or a file, e.g. '*:Policy namespace/name'", None
    target = target.removeprefix("./")
    if target.endswith("/"):
        target += "*"
    return "", (code, target or None)
