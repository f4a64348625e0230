"""The command line: a thin typer layer that turns options into library calls and exit codes."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import gc
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from migrate import __version__, progress
from migrate.commands.convert import convert_paths
from migrate.commands.plan import plan, status
from migrate.commands.review import FailOn, review
from migrate.commands.scan import scan
from migrate.commands.tls_fix import fix
from migrate.commands.verify import verify_paths, verify_tree
from migrate.commands.waves import guidance, sync_wave_changes
from migrate.config import (
    Config,
    ConfigError,
    config_start,
    load_config,
    render_config,
    suppressions,
)
from migrate.convert.model import ConvertOptions
from migrate.escape import terminal
from migrate.exitcodes import ExitCode
from migrate.findings import Finding, Severity
from migrate.load import limits
from migrate.load.discover import display_path
from migrate.load.gitcmd import GitError
from migrate.load.namespaces import KUSTOMIZATION_NAMES
from migrate.load.staged import kustomization_roots
from migrate.model.releases import parse_releases
from migrate.outputs import YAML, Format
from migrate.render import formats
from migrate.render.console import terminal_console
from migrate.render.convert import render_summary
from migrate.render.plan import write_plan
from migrate.render.table import finding_lines, finding_text
from migrate.render.verify import render_text
from migrate.rewrite.files import WriteFailed, mirrored, write_atomically
from migrate.rewrite.journal import JournalError, finish_interrupted
from migrate.rewrite.lock import LockHeld, pending_writes, write_lock
from migrate.semantics.environment import Environment, environment_of
from migrate.semantics.proof import VerifyOptions
from migrate.semantics.tls import tls_check
from migrate.workspace import WorkspaceOptions, open_workspace

app = typer.Typer(
    name="authn-migrate",
    help="Migrate Istio authentication.istio.io/v1alpha1 policies to security.istio.io/v1beta1 "
    "and prove the result enforces what the old policies did.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:  # at run time, Enums of each command's formats, which typer reads -o from
    ScanFormat = str
    VerifyFormat = str
    ConvertFormat = str
    ReviewFormat = str
    TlsFormat = str
else:
    ScanFormat = formats.choices("scan")
    VerifyFormat = formats.choices("verify")
    ConvertFormat = formats.choices("convert")
    ReviewFormat = formats.choices("review")
    TlsFormat = formats.choices("tls-check")


def guarded(command: F) -> F:
    """Turn any unexpected exception into a labelled internal error with exit code 4."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with (
                limits.applied(_limits(kwargs.get("limit"))),
                progress.showing(_display(quiet=kwargs.get("quiet", False))),
                contextlib.ExitStack() as held,
            ):
                token = _HELD.set(held)
                try:
                    return command(*args, **kwargs)
                finally:
                    _HELD.reset(token)
        except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            _internal_error(exc)
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


_HELD: contextvars.ContextVar[contextlib.ExitStack] = contextvars.ContextVar("held")
"""What the running command holds until it ends (the write lock)."""


def _limits(given: list[str] | None) -> limits.Limits:
    """The defaults with each --limit NAME=N applied; a wrong entry is a usage error."""
    try:
        return limits.parse_limits(given or ())
    except ValueError as exc:
        _say(f"authn-migrate: {exc}", style="bold red")
        raise typer.Exit(ExitCode.INPUT_ERROR) from None


def _display(*, quiet: bool) -> progress.Display | None:
    """A progress bar on standard error when it is a terminal and --quiet is not given."""
    if quiet or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        return None
    return progress.TerminalDisplay()


def _internal_error(exc: Exception) -> None:
    err = terminal_console(stderr=True)
    err.print(
        terminal(f"authn-migrate: internal error: {type(exc).__name__}: {exc}"),
        style="bold red",
        highlight=False,
    )
    err.print(
        "This is a bug in authn-migrate, not in your input. Please report it with the "
        "details below.",
        highlight=False,
    )
    lines = "".join(traceback.format_exception(exc)).splitlines()
    err.print("\n".join(terminal(line) for line in lines), highlight=False, style="dim")


def _say(text: str, *, style: str | None = None) -> None:
    """A line on standard error; what it quotes from the inputs is shown escaped."""
    terminal_console(stderr=True, soft_wrap=True).print(terminal(text), style=style)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"authn-migrate {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """authn-migrate: v1alpha1 to v1beta1 Istio authentication, proven equivalent."""


QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress display (it is shown on standard error only when that is a terminal).",
    ),
]
PathsArg = Annotated[
    list[str],
    typer.Argument(
        help="Files or directories to read (recursively); `-` reads standard input.",
        show_default=False,
    ),
]
RootNamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--root-namespace",
        help="Istio's root namespace \\[default: istio-system]; a mesh config "
        "(ConfigMap istio) in the inputs wins.",
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        help="Namespace for documents that name none and are listed by no "
        "kustomization \\[default: default].",
    ),
]
InventoryOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--inventory",
        help="Extra files or directories read only for Services and workloads, "
        "e.g. `kubectl get svc,deploy -A -o yaml` output. Repeatable.",
    ),
]


IstioVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--istio-version",
        help="Istio release(s) to prove on, e.g. 1.5, 1.5.0 or 1.5.2,1.6 \\[default: what "
        "the inputs say (IstioOperator tag, istiod image), else every release a migrated "
        "repository can run on: 1.5.0, 1.5.1-1.5.10 and 1.6].",
    ),
]
SniffingOpt = Annotated[
    str | None,
    typer.Option(
        "--inbound-sniffing",
        help="Whether istiod sniffs the protocol of Service ports without one (on|off) "
        "\\[default: what the inputs say, else both are considered].",
    ),
]
AcceptOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--accept",
        help="Sign off a reviewed class of differences (looser, stricter, status-only, "
        "compatible) or one cause by its key. Repeatable.",
    ),
]
SuppressOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--suppress",
        help="Hide findings: CODE, CODE:RESOURCE (e.g. 'AM206:Policy foo/bar') or "
        "CODE:FILE-GLOB. Adds to the config file's list. Repeatable.",
    ),
]
LimitOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        metavar="NAME=N",
        help="Raise (or lower) a limit on one input file: bytes (64 MiB), documents "
        "(100,000), entries, i.e. mapping keys and list items (1,000,000), depth (256). "
        "A file over a limit is not read. Repeatable; command line only.",
    ),
]
NoHeadersOpt = Annotated[
    bool, typer.Option("--no-headers", help="Print the table without its header row.")
]
EveryOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="Every cause of every policy, and every differing request of each cause."
    ),
]
MaxCausesOpt = Annotated[
    int,
    typer.Option(
        "--max-causes",
        min=0,
        help="Causes shown per policy after the summary lines (-o json lists every one).",
    ),
]
ShowConfigOpt = Annotated[
    bool,
    typer.Option(
        "--show-config",
        help="Print the effective configuration and where each value came from, then exit.",
    ),
]


def _output_option(command: str, what: str = "Output format") -> Any:
    """The -o option of `command` (its choices are the type typer is given)."""
    default = formats.DEFAULTS[command].name
    return typer.Option(
        "--output", "-o", help=f"{what} \\[default: {default}, or the configuration's output]."
    )


def _configured(
    paths: list[str], show: bool, *, revision: str | None = None, **given: Any
) -> Config:
    """The effective configuration: defaults < config file < these command-line values
    (None means not given); with `revision`, the file is read at that git revision (review's
    base), never from the tree under review. Prints it and exits with --show-config."""

    try:
        config = load_config(config_start(paths), given, revision=revision)
    except ConfigError as exc:
        _say(f"authn-migrate: {exc}", style="bold red")
        raise typer.Exit(ExitCode.INPUT_ERROR) from None
    except GitError as exc:
        _usage_error(f"--base {revision}: {exc}")
    for note in config.notes:
        _say(f"note: {note}")
    for line in _lowered_bar(config, fail_on="fail_on" in given):
        _say(f"note: {line}")
    if show:
        sys.stdout.write(render_config(config))
        sys.stdout.write(_environment_in_force(config, paths))
        raise typer.Exit(ExitCode.OK)
    return config


def _output(config: Config, given: str | None, command: str) -> Format:
    """The output format: the command line's, else the configuration's `output` when the
    command has that format, else the command's default."""
    return formats.chosen(command, given, config.get("output"))


def _view(console: Console, **options: Any) -> formats.View:
    """How a report is shown: on `console` (for people), with the command line's options."""
    return formats.View(console=console, version=__version__, **options)


def _lowered_bar(config: Config, *, fail_on: bool) -> list[str]:
    """What changes the bar a run is held to, with where it was said: accepted differences
    and, for a command with --fail-on, a fail-on other than looser (printed on every run that
    has them)."""
    lines = []
    accepted = config.get("accept") or ()
    if accepted:
        source = config.sources.get("accept", "")
        unless = "" if config.trusted("accept") else "; not for looser causes (not trusted)"
        lines.append(f"accepted: {', '.join(accepted)} ({source}{unless})")
    failing = config.get("fail-on")
    if fail_on and failing not in (None, "looser"):
        lines.append(f"fail-on: {failing} ({config.sources.get('fail-on', '')})")
    return lines


def _environment_in_force(config: Config, paths: list[str]) -> str:
    """The releases and sniffing setting a proof would assume for `paths`, and where each
    came from (the configuration, else what the inputs say, else everything)."""

    given = _verify_options(config).environment
    inputs = [p for p in paths if p != "-"] or ["."]
    workspace = open_workspace(inputs, _workspace_options(config))
    environment, _ = environment_of([workspace.inventory], given)
    return "".join(f"# in force: {line}\n" for line in environment.lines())


def _workspace_options(config: Config) -> WorkspaceOptions:
    return WorkspaceOptions(
        root_namespace=config.get("root-namespace"),
        namespace=config.get("namespace"),
        inventory=tuple(str(p) for p in config.get("inventory") or ()),
    )


def _verify_options(config: Config) -> Any:

    environment = Environment()
    version = config.get("istio-version")
    if version:
        source = config.sources.get("istio-version", "")
        environment = dataclasses.replace(
            environment, releases=parse_releases(version), releases_from=f"{source} ({version})"
        )
    sniffing = config.get("inbound-sniffing")
    if sniffing:
        source = config.sources.get("inbound-sniffing", "")
        environment = dataclasses.replace(
            environment, sniffing=sniffing == "on", sniffing_from=source
        )
    return VerifyOptions(
        environment=environment,
        accept=tuple(config.get("accept") or ()),
        accept_looser=config.trusted("accept"),
    )


def _suppressed(config: Config, extra: list[str] | None, findings: list[Finding]) -> list[Finding]:

    kept, hidden = suppressions(config, extra or ()).apply(findings)
    if hidden:
        _say(f"{hidden} finding(s) suppressed")
    return kept


@app.command("scan")
@guarded
def scan_command(
    paths: PathsArg,
    output: Annotated[ScanFormat | None, _output_option("scan")] = None,
    no_headers: NoHeadersOpt = False,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """List every v1alpha1 policy, what it affects, and what is wrong with it.

    Exit status: 0 no alpha policy, 1 alpha policies found, 2 input or usage errors.
    """
    config = _configured(
        paths,
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        output=output,
    )
    chosen = _output(config, output, "scan")
    _warn_pending(paths)
    report = scan(paths, _workspace_options(config))
    code = report.exit_code  # a suppression hides messages, never a failure
    report = dataclasses.replace(
        report, findings=tuple(_suppressed(config, suppress, list(report.findings)))
    )
    console = terminal_console(soft_wrap=False, width=_width())
    view = _view(console, headers=not no_headers)
    sys.stdout.writelines(formats.render_pieces("scan", chosen, report, view))
    raise typer.Exit(code)


@app.command("verify")
@guarded
def verify_command(
    before: Annotated[
        str,
        typer.Argument(
            help="The configuration before: a file, a directory "
            "or `-`. Alone, the alpha policies of this tree are "
            "compared with its beta resources."
        ),
    ],
    after: Annotated[str | None, typer.Argument(help="The configuration after.")] = None,
    output: Annotated[VerifyFormat | None, _output_option("verify")] = None,
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    accept: AcceptOpt = None,
    every: EveryOpt = False,
    max_causes: MaxCausesOpt = 3,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Prove two configurations enforce the same, or show every request where not.

    Exit status: 0 equivalent (status codes may differ), 1 only stricter, 3 anything looser,
    2 input or usage errors, or a configuration the engine cannot model.
    """

    config = _configured(
        [before, *([after] if after else [])],
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
        accept=accept,
        output=output,
    )
    chosen = _output(config, output, "verify")
    _warn_pending([before, *([after] if after else [])])
    options = dataclasses.replace(_verify_options(config), every=every)
    workspace_options = _workspace_options(config)
    if after is None:
        report = verify_tree([before], workspace_options, options)
    else:
        report = verify_paths([before], [after], workspace_options, options)
    code = report.exit_code  # a suppression hides messages, never a failure
    report.findings = _suppressed(config, suppress, report.findings)
    console = terminal_console(soft_wrap=True, width=_width())
    view = _view(console, every=every, max_causes=max_causes)
    sys.stdout.writelines(formats.render_pieces("verify", chosen, report, view))
    raise typer.Exit(code)


@app.command("convert")
@guarded
def convert_command(
    paths: PathsArg,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Rewrite the files in place, atomically: every conversion, or the largest part "
            "proven not looser (the rest left as it is, with the reason).",
        ),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any file would change.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Write the changed files into a mirror tree instead."),
    ] = None,
    output: Annotated[
        ConvertFormat | None, _output_option("convert", "diff, or yaml: only the new resources")
    ] = None,
    include_ignored: Annotated[
        bool,
        typer.Option(
            "--include-ignored",
            help="Also convert policies Istio ignored or rejected, as their "
            "authors evidently intended.",
        ),
    ] = False,
    allow_stricter: Annotated[
        bool,
        typer.Option(
            "--allow-stricter",
            help="Replace a trigger-rule regex AuthorizationPolicy cannot "
            "express by a wider path match (stricter), and report it.",
        ),
    ] = False,
    expand_scopes: Annotated[
        bool,
        typer.Option(
            "--expand-scopes",
            help="Write namespace- and mesh-wide JWT rules as per-Service resources, exact "
            "where a Service's own policy overrode them; pods added later are not covered (a "
            "looser difference you must --accept).",
        ),
    ] = False,
    faithful_disable: Annotated[
        bool,
        typer.Option(
            "--faithful-disable",
            help="Keep alpha's 'no mTLS' as DISABLE, with the DestinationRule clients then "
            "need, instead of PERMISSIVE.",
        ),
    ] = False,
    split: Annotated[
        bool,
        typer.Option(
            "--split",
            help="Write each new resource to a file of its own beside the original and list "
            "it in the kustomization that listed the original.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="With --write, replace read-only files too (refused otherwise)."
        ),
    ] = False,
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing",
            help="Write every conversion or none: nothing when any would be looser or a file "
            "cannot be rewritten (policies that cannot be converted are still left as they are).",
        ),
    ] = False,
    api_version: Annotated[
        str | None,
        typer.Option(
            "--api-version",
            help="apiVersion of the new resources (security.istio.io/v1 for current Istio).",
        ),
    ] = None,
    kustomize_roots: Annotated[
        bool,
        typer.Option(
            "--kustomize-roots",
            help="Read each file a kustomization lists with its whole Kustomize tree (the "
            "folder holding its root kustomizations and all they reach), as the pre-commit "
            "hooks do with the staged files.",
        ),
    ] = False,
    overlay: Annotated[
        list[Path] | None,
        typer.Option(
            "--overlay",
            help="A Kustomize overlay to build with kustomize (or kubectl kustomize) before and "
            "after, and prove; default: every overlay among the inputs. Repeatable.",
        ),
    ] = None,
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    accept: AcceptOpt = None,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    every: EveryOpt = False,
    max_causes: MaxCausesOpt = 3,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Convert every v1alpha1 policy, prove the result, and show, check or write it.

    Nothing is written that would allow a request the old configuration denied: when a
    conversion would, or a file cannot be rewritten, the namespaces that can go are converted
    (each proven, then all together) and the rest left as they are, with the reason (AM411).
    Exit status: 0 done (or nothing to do), 1 with --check when files would change, 2 input
    errors, policies that could not be converted or files that cannot be rewritten, 3 a
    conversion would be looser (it is left out, the rest written; with --all-or-nothing,
    nothing is).
    """

    if check and (write or out_dir):
        given = "--write" if write else "--out-dir"
        _usage_error(f"--check only reports what would change; drop it, or {given}")
    if api_version not in (None, "security.istio.io/v1beta1", "security.istio.io/v1"):
        raise typer.BadParameter("use security.istio.io/v1beta1 or security.istio.io/v1")

    for directory in overlay or []:
        if not any((directory / name).is_file() for name in KUSTOMIZATION_NAMES):
            raise typer.BadParameter(f"--overlay {directory}: no kustomization in that folder")
    if kustomize_roots:
        paths = kustomization_roots(paths)
    config = _configured(
        paths,
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
        accept=accept,
        api_version=api_version,
        # a flag given switches its option on; not given, the configuration file decides
        include_ignored=include_ignored or None,
        allow_stricter=allow_stricter or None,
        expand_scopes=expand_scopes or None,
        faithful_disable=faithful_disable or None,
        split=split or None,
        all_or_nothing=all_or_nothing or None,
        output=output,
    )
    chosen = _output(config, output, "convert")
    api_version = config.get("api-version") or "security.istio.io/v1beta1"
    if write and not (check or out_dir):
        _finish_interrupted(paths)
    else:
        _warn_pending(paths)
    result = convert_paths(
        paths,
        _workspace_options(config),
        ConvertOptions(
            api_version=api_version,
            include_ignored=bool(config.get("include-ignored")),
            allow_stricter=bool(config.get("allow-stricter")),
            expand_scopes=bool(config.get("expand-scopes")),
            faithful_disable=bool(config.get("faithful-disable")),
        ),
        dataclasses.replace(_verify_options(config), every=every),
        split=bool(config.get("split")),
        all_or_nothing=bool(config.get("all-or-nothing")),
        overlays=[str(d) for d in overlay or []],
        rewrite=bool(write or out_dir or check) or chosen is not YAML,
    )
    code = result.exit_code(check=check)  # a suppression hides messages, never a failure
    result.report.settle()
    result.report.findings = _suppressed(config, suppress, result.report.findings)
    err = terminal_console(stderr=True, soft_wrap=True, width=_width())
    view = _view(err, written=bool(write or out_dir))
    sys.stdout.write(formats.render("convert", chosen, result, view))
    render_summary(result, err, every=every, max_causes=max_causes)
    if (write or out_dir) and not check:
        _write(result, paths, out_dir, err, force=force)
    raise typer.Exit(code)


def _write(
    result: Any, paths: list[str], out_dir: Path | None, err: Console, *, force: bool = False
) -> None:
    if result.blocked:
        err.print(
            "nothing written: the proof did not succeed, or a file cannot be rewritten (see above)",
            style="bold red",
        )
        return
    if result.whole is not None and not result.changes:
        err.print(
            "nothing written: no conversion was proven not looser than the start (AM411 above)",
            style="bold red",
        )
        return
    if out_dir is not None:
        _write_files(mirrored(result.changes, out_dir), [str(out_dir)], err, f" under {out_dir}")
        return
    _write_files(result.changes, paths, err, force=force)


@app.command("review")
@guarded
def review_command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files or directories to review (default: the whole work tree).",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        str, typer.Option("--base", help="The git revision to compare against, e.g. origin/main.")
    ] = "HEAD",
    output: Annotated[ReviewFormat | None, _output_option("review")] = None,
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output-file", help="Write the report to this file instead of standard output."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="What fails the job: looser (default), stricter, any, never."
        ),
    ] = None,
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    accept: AcceptOpt = None,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    every: EveryOpt = False,
    max_causes: MaxCausesOpt = 3,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Review a migration: what changed in enforcement between --base and the work tree.

    Pairs each removed alpha policy with the beta resources replacing it, proves the change
    request by request, and checks the new resources. Exit status as verify; --fail-on
    chooses which differences fail.
    """

    config = _configured(
        paths or ["."],
        show_config,
        revision=base,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
        accept=accept,
        fail_on=fail_on,
        output=output,
    )
    chosen = _output(config, output, "review")
    try:
        failing = FailOn(config.get("fail-on") or "looser")
    except ValueError:
        raise typer.BadParameter("use looser, stricter, any or never") from None
    _warn_pending(paths or ["."])
    try:
        report = review(
            base,
            paths or [],
            _workspace_options(config),
            dataclasses.replace(_verify_options(config), every=every),
        )
    except GitError as exc:
        _usage_error(f"--base {base}: {exc}")
    code = report.exit_code(failing)  # a suppression hides messages, never a failure
    report.findings = _suppressed(config, suppress, report.findings)
    report.verify.findings = _suppressed(config, suppress, report.verify.findings)
    if output_file is None:
        console = terminal_console(soft_wrap=True, width=_width())
    else:  # the text a terminal 200 columns wide would show
        console = terminal_console(record=True, width=200, file=io.StringIO())
    view = _view(console, every=every, max_causes=max_causes)
    _emit(formats.render_pieces("review", chosen, report, view), output_file)
    raise typer.Exit(code)


def _usage_error(message: str) -> NoReturn:
    """One line on standard error, and exit 2: a mistake in the command, not a bug."""
    _say(f"authn-migrate: {message}", style="bold red")
    raise typer.Exit(ExitCode.INPUT_ERROR)


def _emit(pieces: Iterable[str], output_file: Path | None) -> None:
    """Write a report: to standard output as its pieces come (a large repository's JSON is
    hundreds of MB), to a file whole, once all of it is made (never half a report)."""
    if output_file is None:
        sys.stdout.writelines(pieces)
    else:
        output_file.write_text("".join(pieces))


@app.command("plan")
@guarded
def plan_command(
    paths: PathsArg,
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the stages, PLAN.md and plan.json into.")
    ] = Path("migration-plan"),
    order: Annotated[
        str | None,
        typer.Option(
            "--order",
            help="Comma-separated stage order (namespaces, and `mesh`); refused when "
            "a stage would be looser than the start.",
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Comma-separated namespaces to plan; the cleanup deletes only their alpha "
            "policies, and the mesh-wide stage comes only when `mesh` or every namespace is "
            "named.",
        ),
    ] = (None),
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    show_config: ShowConfigOpt = False,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Instead of planning: which stage a repository in the middle of the "
            "migration is at, and whether that state is proven.",
        ),
    ] = False,
    sync_waves: Annotated[
        bool,
        typer.Option(
            "--sync-waves",
            help="Instead of writing stage folders: write the new resources in place with an "
            "argocd.argoproj.io/sync-wave annotation per stage, for Argo CD, keeping the alpha "
            "policies to be pruned last (remove them in a later commit).",
        ),
    ] = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Plan a staged, per-namespace rollout in which no stage is looser than the start.

    Exit status: 0 planned, 3 the requested order would open a hole (nothing written),
    2 input errors.
    """

    config = _configured(
        paths,
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
    )
    if sync_waves:
        _finish_interrupted(paths)
    else:
        _warn_pending(paths)
    workspace = open_workspace(paths, _workspace_options(config))
    if status:
        _plan_status(workspace, config)
    _refuse_input_errors(workspace.findings, "no plan written")
    split = [n.strip() for n in (order or "").split(",") if n.strip()]
    subset = [n.strip() for n in (only or "").split(",") if n.strip()]
    try:
        result = plan(
            workspace,
            order=split,
            only=subset,
            options=_verify_options(config),
            out=None if sync_waves else out,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    err = terminal_console(stderr=True, soft_wrap=True)
    told = [*workspace.findings, *result.conversion.findings]
    for line in finding_lines(_suppressed(config, suppress, told)):
        err.print(line)
    if result.refused:
        for note in result.notes:
            _say(f"note: {note}")
        _say(f"authn-migrate: {result.refused}", style="bold red")
        raise typer.Exit(ExitCode.LOOSER)
    if sync_waves:
        _sync_waves(result, workspace, paths, err)
    else:
        write_plan(result, out)
    for note in result.notes:
        _say(f"note: {note}")
    if not sync_waves:
        _say(f"{len(result.stages)} stage(s) written to {out}")
    raise typer.Exit(ExitCode.OK)


def _refuse_input_errors(findings: list[Finding], what: str) -> None:
    """Show the input errors and exit 2: a plan that left out a policy it could not read would
    delete the others around it."""

    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        err = terminal_console(stderr=True, soft_wrap=True)
        for finding in errors:
            err.print(finding_text(finding))
        err.print(f"{what}: fix the input errors above", style="bold red")
        raise typer.Exit(ExitCode.INPUT_ERROR)


def _sync_waves(result: Any, workspace: Any, paths: list[str], err: Console) -> None:
    """Annotate each stage's resources with its Argo CD sync wave, keep the alpha policies to
    be pruned last, rewrite the files and say what to do next."""

    changes, findings = sync_wave_changes(result, workspace)
    for finding in findings:
        err.print(finding_text(finding))
    _write_files(changes, paths, err, " with sync waves")
    for line in guidance(result):
        _say(f"note: {line}")


def _plan_status(workspace: Any, config: Config) -> None:

    console = terminal_console(soft_wrap=True, width=_width())
    if not workspace.alpha:
        # with the alpha policies gone there is no start left to compare with, nor stages
        console.print(
            "no v1alpha1 policy in the inputs: nothing left to stage. To prove the whole "
            "migration, compare with the revision before it: authn-migrate review --base REV"
        )
        raise typer.Exit(ExitCode.OK)
    found = status(workspace, _verify_options(config))
    for index, name in enumerate(found.stages, start=1):
        mark = "applied" if name in found.applied else "pending"
        console.print(terminal(f"{index:02d}-{name}: {mark}"))
    console.print(
        f"at stage {found.at} of {len(found.stages)}; the current state is "
        + (
            "proven no looser than before the migration"
            if found.proven
            else "LOOSER than before the migration"
        ),
    )
    if not found.proven:
        render_text(found.report, console)
    raise typer.Exit(ExitCode.OK if found.proven else ExitCode.LOOSER)


@app.command("tls-check")
@guarded
def tls_check_command(
    paths: PathsArg,
    output: Annotated[TlsFormat | None, _output_option("tls-check")] = None,
    client: Annotated[
        list[str] | None, typer.Option("--client", help="Only this client namespace (repeatable).")
    ] = None,
    host: Annotated[
        list[str] | None,
        typer.Option("--host", help="Only this service host, short or FQDN (repeatable)."),
    ] = None,
    auto_mtls: Annotated[
        str | None,
        typer.Option(
            "--auto-mtls", help="on or off \\[default: the mesh config in the inputs, else on]."
        ),
    ] = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Print the DestinationRule edits that resolve the conflicts (only tls.mode "
            "changes); with --write, apply them.",
        ),
    ] = False,
    write: Annotated[bool, typer.Option("--write", help="With --fix: rewrite the files.")] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Every row, not only the conflicts.")
    ] = False,
    no_headers: NoHeadersOpt = False,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
    limit: LimitOpt = None,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Find the mTLS conflicts between servers and the DestinationRules clients use.

    The table of `istioctl authn tls-check`, for every client namespace: HOST:PORT, STATUS
    (OK, CONFLICT, AUTO), SERVER and CLIENT modes, the policy and the rule that decided.
    Exit status: 0 no conflict, 1 conflicts, 2 input errors.
    """

    if auto_mtls not in (None, "on", "off"):
        raise typer.BadParameter("use on or off")
    config = _configured(
        paths,
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        output=output,
    )
    chosen = _output(config, output, "tls-check")
    if fix and write:
        _finish_interrupted(paths)
    else:
        _warn_pending(paths)
    workspace = open_workspace(paths, _workspace_options(config))
    if fix:
        _tls_fix(workspace, None if auto_mtls is None else auto_mtls == "on", paths, write=write)
    check = tls_check(
        workspace,
        auto_mtls=None if auto_mtls is None else auto_mtls == "on",
        clients=tuple(client or ()),
        hosts=tuple(host or ()),
    )
    console = terminal_console(soft_wrap=True, width=_width())
    view = _view(console, every=every, headers=not no_headers)
    sys.stdout.writelines(formats.render_pieces("tls-check", chosen, check, view))
    conflicts = next(check.conflicts(), None) is not None
    raise typer.Exit(ExitCode.FOUND if conflicts else ExitCode.OK)


def _tls_fix(workspace: Any, auto: bool | None, paths: list[str], *, write: bool) -> None:

    changes, findings = fix(workspace, auto_mtls=auto)
    err = terminal_console(stderr=True, soft_wrap=True)
    for finding in findings:
        err.print(finding_text(finding))
    # conflicts left to a person (AM601) keep the exit status at 1, written or not
    if not write:
        sys.stdout.write("".join(change.diff() for change in changes))
        raise typer.Exit(ExitCode.FOUND if changes or findings else ExitCode.OK)
    _write_files(changes, paths, err)
    raise typer.Exit(ExitCode.FOUND if findings else ExitCode.OK)


def _finish_interrupted(paths: list[str]) -> None:
    """Take the write lock of `paths` for the rest of the command, then complete a write that
    a killed run committed, before the files are read again."""

    roots = [Path(p) for p in paths if p != "-"]
    if not roots:
        return
    try:
        notes = _HELD.get().enter_context(write_lock(roots))
        notes += finish_interrupted(roots)
    except (JournalError, LockHeld) as exc:
        _usage_error(str(exc))
    for note in notes:
        _say(f"note: {note}")


def _warn_pending(paths: list[str]) -> None:
    """Say so when a killed write left the tree half-written: what is read is then neither
    the old configuration nor the new one."""

    for journal in pending_writes([Path(p) for p in paths if p != "-"]):
        folder = display_path(journal.parent)
        _say(
            f"warning: an interrupted write is pending ({display_path(journal)}): files below "
            f"{folder} may be half-migrated. `authn-migrate convert --write {folder}` "
            "completes it; removing the journal and the .*.authn-migrate staging files beside "
            "it discards it",
            style="bold yellow",
        )


def _write_files(
    changes: list[Any], paths: list[str], err: Console, what: str = "", *, force: bool = False
) -> None:
    """Write planned file changes atomically under the given paths; a failure writes nothing
    and exits 2."""

    try:
        write_atomically(changes, [Path(p) for p in paths if p != "-"], force=force)
    except (WriteFailed, JournalError) as exc:
        err.print(terminal(f"authn-migrate: nothing written: {exc}"), style="bold red")
        raise typer.Exit(ExitCode.INPUT_ERROR) from None
    err.print(terminal(f"rewrote {len(changes)} file(s){what}"))


def _width() -> int | None:
    """The terminal's width on a TTY; wide enough not to fold lines when piped."""
    return None if sys.stdout.isatty() else 200


def main() -> None:
    """Console-script entry point.

    The loaded documents form a large heap without reference cycles; collecting less often
    saves about a third of the run time on large repositories (measured in benchmarks/).
    The process then leaves without freeing that heap object by object, which took a tenth
    of a large run: every file the command wrote is closed by then, so only the standard
    streams can hold output, and they are flushed first."""
    gc.set_threshold(100_000, 50, 100)
    code = run(sys.argv[1:])
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a reader that went away (a closed pipe): nothing more can be said
        pass
    os._exit(code)


def run(args: list[str]) -> int:
    """Run the command line `args`; its exit status. A mistake in the command line is one
    line naming it, then where help is (as git and kubectl say it), exit 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name="authn-migrate", standalone_mode=False)
    except Exception as exc:  # the CLI library's own errors, known by name across versions
        kinds = {kind.__name__ for kind in type(exc).__mro__}
        if "NoArgsIsHelpError" in kinds:
            return ExitCode.INPUT_ERROR  # the help is already printed
        if "Abort" in kinds:
            sys.stderr.write("Aborted!\n")
            return 1
        if "ClickException" not in kinds:
            raise
        context = getattr(exc, "ctx", None)
        where = context.command_path if context is not None else "authn-migrate"
        sys.stderr.write(terminal(f"{where}: error: {exc.format_message()}") + "\n")  # type: ignore[attr-defined]
        if context is not None:
            sys.stderr.write(terminal(f"Try '{where} -h' for help.") + "\n")
        return int(getattr(exc, "exit_code", ExitCode.INPUT_ERROR))
    return code if isinstance(code, int) else 0
