"""The command line: a thin typer layer that turns options into library calls and exit codes."""

from __future__ import annotations

import dataclasses
import enum
import functools
import gc
import io
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from migrate import __version__, progress
from migrate.commands.scan import scan
from migrate.exitcodes import ExitCode
from migrate.findings import Finding
from migrate.render.data import dump_json, dump_yaml, scan_data
from migrate.render.table import render_scan_table
from migrate.workspace import WorkspaceOptions

if TYPE_CHECKING:
    from migrate.commands.review import ReviewReport
    from migrate.config import Config

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


class ScanFormat(str, enum.Enum):
    """Output formats of `scan`."""

    table = "table"
    json = "json"
    yaml = "yaml"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"


def guarded(command: F) -> F:
    """Turn any unexpected exception into a labelled internal error with exit code 4."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with progress.showing(_display(quiet=kwargs.get("quiet", False))):
                return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            _internal_error(exc)
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


def _display(*, quiet: bool) -> progress.Display | None:
    """A progress bar on standard error when it is a terminal and --quiet is not given."""
    if quiet or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        return None
    return progress.TerminalDisplay()


def _internal_error(exc: Exception) -> None:
    err = Console(stderr=True)
    err.print(
        f"authn-migrate: internal error: {type(exc).__name__}: {exc}",
        style="bold red",
        markup=False,
        highlight=False,
    )
    err.print(
        "This is a bug in authn-migrate, not in your input. Please report it with the "
        "details below.",
        markup=False,
        highlight=False,
    )
    err.print("".join(traceback.format_exception(exc)), markup=False, highlight=False, style="dim")


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
        help="Istio's root namespace [default: istio-system]; a mesh config "
        "(ConfigMap istio) in the inputs wins.",
    ),
]
NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        help="Namespace for documents that name none and are listed by no "
        "kustomization [default: default].",
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
ShowConfigOpt = Annotated[
    bool,
    typer.Option(
        "--show-config",
        help="Print the effective configuration and where each value came from, then exit.",
    ),
]


def _configured(paths: list[str], show: bool, **given: Any) -> Config:
    """The effective configuration: defaults < config file < these command-line values
    (None means not given). Prints it and exits with --show-config."""
    from migrate.config import ConfigError, config_start, load_config, render_config

    try:
        config = load_config(config_start(paths), given)
    except ConfigError as exc:
        Console(stderr=True, soft_wrap=True).print(
            f"authn-migrate: {exc}", style="bold red", markup=False
        )
        raise typer.Exit(ExitCode.INPUT_ERROR) from None
    err = Console(stderr=True)
    for note in config.notes:
        err.print(f"note: {note}", markup=False)
    if show:
        sys.stdout.write(render_config(config))
        sys.stdout.write(_environment_in_force(config, paths))
        raise typer.Exit(ExitCode.OK)
    return config


def _environment_in_force(config: Config, paths: list[str]) -> str:
    """The releases and sniffing setting a proof would assume for `paths`, and where each
    came from (the configuration, else what the inputs say, else everything)."""
    from migrate.semantics.environment import environment_of
    from migrate.workspace import open_workspace

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
    from migrate.model.releases import parse_releases
    from migrate.semantics.environment import Environment
    from migrate.semantics.proof import VerifyOptions

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
    return VerifyOptions(environment=environment, accept=tuple(config.get("accept") or ()))


def _suppressed(config: Config, extra: list[str] | None, findings: list[Finding]) -> list[Finding]:
    from migrate.config import suppressions

    kept, hidden = suppressions(config, extra or ()).apply(findings)
    if hidden:
        Console(stderr=True).print(f"{hidden} finding(s) suppressed", markup=False)
    return kept


@app.command("scan")
@guarded
def scan_command(
    paths: PathsArg,
    output: Annotated[ScanFormat, typer.Option("--output", "-o", help="Output format.")] = (
        ScanFormat.table
    ),
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """List every v1alpha1 policy, what it affects, and what is wrong with it.

    Exit status: 0 no alpha policy, 1 alpha policies found, 2 input or usage errors.
    """
    config = _configured(
        paths, show_config, root_namespace=root_namespace, namespace=namespace, inventory=inventory
    )
    report = scan(paths, _workspace_options(config))
    code = report.exit_code  # a suppression hides messages, never a failure
    report = dataclasses.replace(
        report, findings=tuple(_suppressed(config, suppress, list(report.findings)))
    )
    if output is ScanFormat.table:
        render_scan_table(report, Console(soft_wrap=False, width=_width()))
    elif output is ScanFormat.json:
        sys.stdout.write(dump_json(scan_data(report)))
    elif output is ScanFormat.yaml:
        sys.stdout.write(dump_yaml(scan_data(report)))
    else:
        sys.stdout.write(_ci_output(list(report.findings), output.value, "scan"))
    raise typer.Exit(code)


class VerifyFormat(str, enum.Enum):
    """Output formats of `verify`."""

    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"


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
    output: Annotated[VerifyFormat, typer.Option("--output", "-o", help="Output format.")] = (
        VerifyFormat.text
    ),
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    accept: AcceptOpt = None,
    every: Annotated[
        bool, typer.Option("--all", help="List every differing request, not one per cause.")
    ] = False,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    suppress: SuppressOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Prove two configurations enforce the same, or show every request where not.

    Exit status: 0 equivalent (status codes may differ), 1 only stricter, 3 anything looser,
    2 input or usage errors, or a configuration the engine cannot model.
    """
    from migrate.commands.verify import verify_paths, verify_tree
    from migrate.render.verify import render_markdown, render_text, verify_data

    config = _configured(
        [before, *([after] if after else [])],
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
        accept=accept,
    )
    options = dataclasses.replace(_verify_options(config), every=every)
    workspace_options = _workspace_options(config)
    if after is None:
        report = verify_tree([before], workspace_options, options)
    else:
        report = verify_paths([before], [after], workspace_options, options)
    code = report.exit_code  # a suppression hides messages, never a failure
    report.findings = _suppressed(config, suppress, report.findings)
    if output is VerifyFormat.text:
        render_text(report, Console(soft_wrap=True, width=_width()), every=every)
    elif output is VerifyFormat.json:
        sys.stdout.write(dump_json(verify_data(report)))
    elif output is VerifyFormat.markdown:
        sys.stdout.write(render_markdown(report))
    else:
        from migrate.semantics.proof import difference_findings

        findings = [*report.findings, *difference_findings(report, report.locations)]
        if output is VerifyFormat.github:
            from migrate.render import ci

            ci.append_step_summary(render_markdown(report))
        sys.stdout.write(_ci_output(findings, output.value, "verify"))
    raise typer.Exit(code)


class ConvertFormat(str, enum.Enum):
    """What `convert` prints: a diff of the files, or only the new resources as YAML."""

    diff = "diff"
    yaml = "yaml"


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
        ConvertFormat,
        typer.Option("--output", "-o", help="diff (default), or yaml: only the new resources."),
    ] = (ConvertFormat.diff),
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
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
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
    from migrate.commands.convert import convert_paths
    from migrate.convert.model import ConvertOptions
    from migrate.render.convert import render_summary
    from migrate.rewrite.documents import render_documents

    if api_version not in (None, "security.istio.io/v1beta1", "security.istio.io/v1"):
        raise typer.BadParameter("use security.istio.io/v1beta1 or security.istio.io/v1")
    if kustomize_roots:
        from migrate.load.staged import kustomization_roots

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
    )
    api_version = config.get("api-version") or "security.istio.io/v1beta1"
    if write and not (check or out_dir):
        _finish_interrupted(paths)
    result = convert_paths(
        paths,
        _workspace_options(config),
        ConvertOptions(
            api_version=api_version,
            include_ignored=include_ignored or bool(config.get("include-ignored")),
            allow_stricter=allow_stricter or bool(config.get("allow-stricter")),
            expand_scopes=expand_scopes or bool(config.get("expand-scopes")),
            faithful_disable=faithful_disable or bool(config.get("faithful-disable")),
        ),
        _verify_options(config),
        split=split or bool(config.get("split")),
        all_or_nothing=all_or_nothing or bool(config.get("all-or-nothing")),
        overlays=[str(d) for d in overlay or []],
    )
    code = result.exit_code(check=check)  # a suppression hides messages, never a failure
    result.report.settle()
    result.report.findings = _suppressed(config, suppress, result.report.findings)
    err = Console(stderr=True, soft_wrap=True, width=_width())
    if output is ConvertFormat.yaml:
        sys.stdout.write(render_documents([r.data for r in result.conversion.resources]))
    elif not (write or out_dir):
        sys.stdout.write("".join(change.diff() for change in result.changes))
    render_summary(result, err)
    if (write or out_dir) and not check:
        _write(result, paths, out_dir, err)
    raise typer.Exit(code)


def _write(result: Any, paths: list[str], out_dir: Path | None, err: Console) -> None:
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
        from migrate.rewrite.files import mirrored

        _write_files(mirrored(result.changes, out_dir), [str(out_dir)], err, f" under {out_dir}")
        return
    _write_files(result.changes, paths, err)


class ReviewFormat(str, enum.Enum):
    """Output formats of `review`."""

    text = "text"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"


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
    output: Annotated[ReviewFormat, typer.Option("--output", "-o", help="Output format.")] = (
        ReviewFormat.text
    ),
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
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Review a migration: what changed in enforcement between --base and the work tree.

    Pairs each removed alpha policy with the beta resources replacing it, proves the change
    request by request, and checks the new resources. Exit status as verify; --fail-on
    chooses which differences fail.
    """
    from migrate.commands.review import FailOn, review
    from migrate.render.review import render_review_text

    config = _configured(
        paths or ["."],
        show_config,
        root_namespace=root_namespace,
        namespace=namespace,
        inventory=inventory,
        istio_version=istio_version,
        inbound_sniffing=inbound_sniffing,
        accept=accept,
        fail_on=fail_on,
    )
    try:
        failing = FailOn(config.get("fail-on") or "looser")
    except ValueError:
        raise typer.BadParameter("use looser, stricter, any or never") from None
    report = review(base, paths or [], _workspace_options(config), _verify_options(config))
    code = report.exit_code(failing)  # a suppression hides messages, never a failure
    report.findings = _suppressed(config, suppress, report.findings)
    report.verify.findings = _suppressed(config, suppress, report.verify.findings)
    if output is ReviewFormat.text and output_file is None:
        render_review_text(report, Console(soft_wrap=True, width=_width()))
    else:
        _emit(_review_output(report, output), output_file)
    raise typer.Exit(code)


def _review_output(report: ReviewReport, output: ReviewFormat) -> str:
    from migrate.render import ci
    from migrate.render.review import render_review_text, review_data, review_markdown

    root = Path.cwd()
    findings = report.all_findings()
    if output is ReviewFormat.json:
        return dump_json(review_data(report))
    if output is ReviewFormat.markdown:
        return review_markdown(report)
    if output is ReviewFormat.sarif:
        return dump_json(
            ci.to_sarif(
                findings,
                root=root,
                tool_version=__version__,
                automation_id=f"authn-migrate/review/{report.base}",
            )
        )
    if output is ReviewFormat.github:
        ci.append_step_summary(review_markdown(report))
        return ci.to_github(findings, root=root)
    if output is ReviewFormat.gitlab:
        return dump_json(ci.to_gitlab(findings, root=root))
    console = Console(record=True, width=200, file=io.StringIO())
    render_review_text(report, console)
    return str(console.export_text())


def _ci_output(findings: list[Finding], output: str, command: str) -> str:
    """Findings as SARIF, GitHub annotations or GitLab Code Quality."""
    from migrate.render import ci

    root = Path.cwd()
    if output == "sarif":
        return dump_json(
            ci.to_sarif(
                findings,
                root=root,
                tool_version=__version__,
                automation_id=f"authn-migrate/{command}",
            )
        )
    if output == "github":
        return ci.to_github(findings, root=root)
    return dump_json(ci.to_gitlab(findings, root=root))


def _emit(text: str, output_file: Path | None) -> None:
    if output_file is None:
        sys.stdout.write(text)
    else:
        output_file.write_text(text)


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
            "--only", help="Comma-separated namespaces to plan (the mesh stage always follows)."
        ),
    ] = (None),
    istio_version: IstioVersionOpt = None,
    inbound_sniffing: SniffingOpt = None,
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
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
            help="Instead of writing stage folders: convert the files in place with an "
            "argocd.argoproj.io/sync-wave annotation per stage, for Argo CD.",
        ),
    ] = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Plan a staged, per-namespace rollout in which no stage is looser than the start.

    Exit status: 0 planned, 3 the requested order would open a hole (nothing written),
    2 input errors.
    """
    from migrate.commands.plan import plan
    from migrate.render.plan import write_plan
    from migrate.workspace import open_workspace

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
    workspace = open_workspace(paths, _workspace_options(config))
    if status:
        _plan_status(workspace, config)
    _refuse_input_errors(workspace.findings, "no plan written")
    split = [n.strip() for n in (order or "").split(",") if n.strip()]
    subset = [n.strip() for n in (only or "").split(",") if n.strip()]
    try:
        result = plan(workspace, order=split, only=subset, options=_verify_options(config))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    err = Console(stderr=True, soft_wrap=True)
    if result.refused:
        err.print(f"authn-migrate: {result.refused}", style="bold red", markup=False)
        raise typer.Exit(ExitCode.LOOSER)
    if sync_waves:
        _sync_waves(result, workspace, paths, err)
    else:
        write_plan(result, out)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    if not sync_waves:
        err.print(f"{len(result.stages)} stage(s) written to {out}", markup=False)
    raise typer.Exit(ExitCode.OK)


def _refuse_input_errors(findings: list[Finding], what: str) -> None:
    """Show the input errors and exit 2: a plan that left out a policy it could not read would
    delete the others around it."""
    from migrate.findings import Severity
    from migrate.render.table import finding_text

    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        err = Console(stderr=True, soft_wrap=True)
        for finding in errors:
            err.print(finding_text(finding))
        err.print(f"{what}: fix the input errors above", style="bold red", markup=False)
        raise typer.Exit(ExitCode.INPUT_ERROR)


def _sync_waves(result: Any, workspace: Any, paths: list[str], err: Console) -> None:
    """Annotate each stage's resources with its Argo CD sync wave and rewrite the files."""
    from migrate.convert.changes import plan_changes

    for stage in result.stages:
        for new in stage.apply:
            new.data["metadata"].setdefault("annotations", {})["argocd.argoproj.io/sync-wave"] = (
                str(stage.number)
            )
    changes, findings = plan_changes(workspace, result.conversion)
    for finding in findings:
        err.print(str(finding), markup=False)
    _write_files(changes, paths, err, " with sync waves")


def _plan_status(workspace: Any, config: Config) -> None:
    from migrate.commands.plan import status
    from migrate.render.verify import render_text

    found = status(workspace, _verify_options(config))
    console = Console(soft_wrap=True, width=_width())
    for index, name in enumerate(found.stages, start=1):
        mark = "applied" if name in found.applied else "pending"
        console.print(f"{index:02d}-{name}: {mark}", markup=False)
    console.print(
        f"at stage {found.at} of {len(found.stages)}; the current state is "
        + (
            "proven no looser than before the migration"
            if found.proven
            else "LOOSER than before the migration"
        ),
        markup=False,
    )
    if not found.proven:
        render_text(found.report, console)
    raise typer.Exit(ExitCode.OK if found.proven else ExitCode.LOOSER)


class TlsFormat(str, enum.Enum):
    """Output formats of `tls-check`."""

    table = "table"
    json = "json"
    markdown = "markdown"


@app.command("tls-check")
@guarded
def tls_check_command(
    paths: PathsArg,
    output: Annotated[TlsFormat, typer.Option("--output", "-o", help="Output format.")] = (
        TlsFormat.table
    ),
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
            "--auto-mtls", help="on or off [default: the mesh config in the inputs, else on]."
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
    root_namespace: RootNamespaceOpt = None,
    namespace: NamespaceOpt = None,
    inventory: InventoryOpt = None,
    show_config: ShowConfigOpt = False,
    quiet: QuietOpt = False,  # noqa: ARG001 (`guarded` reads it)
) -> None:
    """Find the mTLS conflicts between servers and the DestinationRules clients use.

    The table of `istioctl authn tls-check`, for every client namespace: HOST:PORT, STATUS
    (OK, CONFLICT, AUTO), SERVER and CLIENT modes, the policy and the rule that decided.
    Exit status: 0 no conflict, 1 conflicts, 2 input errors.
    """
    from rich.table import Table

    from migrate.semantics.tls import tls_check
    from migrate.workspace import open_workspace

    if auto_mtls not in (None, "on", "off"):
        raise typer.BadParameter("use on or off")
    config = _configured(
        paths, show_config, root_namespace=root_namespace, namespace=namespace, inventory=inventory
    )
    if fix and write:
        _finish_interrupted(paths)
    workspace = open_workspace(paths, _workspace_options(config))
    if fix:
        _tls_fix(workspace, None if auto_mtls is None else auto_mtls == "on", paths, write=write)
    rows = tls_check(
        workspace,
        auto_mtls=None if auto_mtls is None else auto_mtls == "on",
        clients=tuple(client or ()),
        hosts=tuple(host or ()),
    )
    columns = ("HOST:PORT", "STATUS", "SERVER", "CLIENT", "AUTHN POLICY", "DESTINATION RULE")
    if output is TlsFormat.json:
        sys.stdout.write(
            dump_json(
                [
                    {
                        "client": r.client,
                        "host": r.host,
                        "port": r.port,
                        "status": r.status,
                        "server": r.server,
                        "clientMode": r.client_mode,
                        "authnPolicy": r.policy,
                        "destinationRule": r.rule,
                    }
                    for r in rows
                ]
            )
        )
    elif output is TlsFormat.markdown:
        lines = [
            "| CLIENT NAMESPACE | " + " | ".join(columns) + " |",
            "| --- " * (len(columns) + 1) + "|",
        ]
        lines += [
            f"| {r.client} | {r.host.replace('|', chr(92) + '|')}:{r.port} | {r.status} | "
            f"{r.server} | {r.client_mode} | {r.policy} | {r.rule} |"
            for r in rows
        ]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        console = Console(soft_wrap=True, width=_width())
        for name in sorted({r.client for r in rows}):
            table = Table(title=f"clients in {name}", title_justify="left")
            for column in columns:
                table.add_column(column, no_wrap=True)
            for r in (r for r in rows if r.client == name):
                table.add_row(
                    f"{r.host}:{r.port}",
                    r.status,
                    r.server,
                    r.client_mode,
                    r.policy,
                    r.rule,
                    style="bold red" if r.status == "CONFLICT" else None,
                )
            console.print(table)
    conflicts = sum(1 for r in rows if r.status == "CONFLICT")
    raise typer.Exit(ExitCode.FOUND if conflicts else ExitCode.OK)


def _tls_fix(workspace: Any, auto: bool | None, paths: list[str], *, write: bool) -> None:
    from migrate.commands.tls_fix import fix
    from migrate.render.table import finding_text

    changes, findings = fix(workspace, auto_mtls=auto)
    err = Console(stderr=True, soft_wrap=True)
    for finding in findings:
        err.print(finding_text(finding))
    if not write:
        sys.stdout.write("".join(change.diff() for change in changes))
        raise typer.Exit(ExitCode.FOUND if changes else ExitCode.OK)
    _write_files(changes, paths, err)
    raise typer.Exit(ExitCode.OK)


def _finish_interrupted(paths: list[str]) -> None:
    """Complete a write that a killed run committed, before the files are read again."""
    from migrate.rewrite.journal import finish_interrupted

    for note in finish_interrupted([Path(p) for p in paths if p != "-"]):
        Console(stderr=True, soft_wrap=True).print(f"note: {note}", markup=False)


def _write_files(changes: list[Any], paths: list[str], err: Console, what: str = "") -> None:
    """Write planned file changes atomically under the given paths; a failure writes nothing
    and exits 2."""
    from migrate.rewrite.files import WriteFailed, write_atomically

    try:
        write_atomically(changes, [Path(p) for p in paths if p != "-"])
    except WriteFailed as exc:
        err.print(f"authn-migrate: nothing written: {exc}", style="bold red", markup=False)
        raise typer.Exit(ExitCode.INPUT_ERROR) from None
    err.print(f"rewrote {len(changes)} file(s){what}", markup=False)


def _width() -> int | None:
    """The terminal's width on a TTY; wide enough not to fold lines when piped."""
    return None if sys.stdout.isatty() else 200


def main() -> None:
    """Console-script entry point.

    The loaded documents form a large heap without reference cycles; collecting less often
    saves about a third of the run time on large repositories (measured in benchmarks/)."""
    gc.set_threshold(100_000, 50, 100)
    app()
