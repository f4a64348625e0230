"""`plan`: a staged, per-namespace rollout in which no stage is looser than the start.

Istio 1.5 runs both APIs (§C): a PeerAuthentication on a workload overrides its
alpha mTLS (a mesh-level one overrides every workload at once) and a RequestAuthentication
switches its alpha JWT off. So each stage's state — every alpha policy still applied plus the
beta resources of the stages so far — is proven against the start with the verify engine,
and an order that would open a hole is never emitted.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import shlex
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from migrate import progress
from migrate.convert.model import Conversion, NewResource
from migrate.convert.prove import generated_resources
from migrate.convert.run import convert_workspace
from migrate.model.alpha import AlphaPolicy, MtlsMode, Scope
from migrate.model.beta import KINDS, PROVENANCE, BetaResource
from migrate.parallel import Background, background, meanwhile
from migrate.rewrite.documents import RewriteError, render_documents
from migrate.semantics.curl import request_text
from migrate.semantics.equivalence import Change, ShapeMemo
from migrate.semantics.proof import (
    VerifyOptions,
    VerifyReport,
    side_settings,
    verify_sides,
    with_facts,
)
from migrate.semantics.side import Side
from migrate.semantics.space import spare_ports
from migrate.semantics.tls import tls_regressions
from migrate.workspace import PolicyEntry, Workspace

MESH = "mesh"


@dataclass(slots=True)
class Stage:
    """One step of the rollout: what to apply and delete, and the proof of the state after."""

    number: int
    name: str
    namespace: str
    apply: list[NewResource] = field(default_factory=list)
    delete: list[PolicyEntry] = field(default_factory=list)
    report: VerifyReport | None = None
    notes: list[str] = field(default_factory=list)
    proven_in: str = ""
    """The namespace the report covers when the stage changes no other (else all)."""

    @property
    def looser(self) -> int:
        """Looser causes of the state after this stage (0 for an emitted plan)."""
        return self.report.count(Change.LOOSER) if self.report else 0


@dataclass(slots=True)
class Plan:
    """The stages, and why the planner chose or refused an order."""

    stages: list[Stage]
    conversion: Conversion
    notes: list[str] = field(default_factory=list)
    refused: str = ""
    staging: Path | None = None
    """A folder beside the plan's folder where another process writes the stages' folders
    while the stages are proven (`plan(out=...)`); `write_plan` moves each into place when
    its stage is the one it was written for, and removes the rest."""
    staged: Background[dict[str, Holds]] | None = None
    """The folders written in `staging`, by name, with what their stages apply and delete."""
    _folders: dict[str, Holds] | None = field(default=None, init=False, repr=False)

    @property
    def proven(self) -> bool:
        """True when every stage is no looser than the start and nothing was refused."""
        return not self.refused and all(s.looser == 0 for s in self.stages)

    def apply_yaml(self, stage: Stage) -> str:
        """The text of `stage`'s `apply.yaml`."""
        return render_documents([r.data for r in stage.apply])

    def staged_folder(self, stage: Stage) -> Path | None:
        """The folder written beside the proofs for `stage` when it was written for the very
        stage: its number and name, the resources it applies and the policies it deletes
        (else None: the folder is to be written from the stage)."""
        if self.staging is None:
            return None
        if self._folders is None:
            self._folders = self.staged.result() if self.staged is not None else {}
            self.staged = None
        name = folder_name(stage)
        return self.staging / name if self._folders.get(name) == _holds(stage) else None

    def discard_staging(self) -> None:
        """Stop writing the staged folders and remove what is left of them."""
        _discard(self.staging, self.staged)
        self.staging, self.staged = None, None


def _discard(staging: Path | None, staged: Background[dict[str, Holds]] | None) -> None:
    if staged is not None:
        staged.cancel()
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


Holds = tuple[tuple[int, ...], tuple[int, ...]]
"""What a stage applies and deletes, by the identity of the resources and policies."""


def _holds(stage: Stage) -> Holds:
    return tuple(map(id, stage.apply)), tuple(map(id, stage.delete))


def folder_name(stage: Stage) -> str:
    """The name of a stage's folder in a written plan: `03-payments`."""
    return f"{stage.number:02d}-{stage.name}"


def stage_files(stage: Stage, apply_yaml: Callable[[], str]) -> dict[str, str]:
    """The files of a stage's folder, in the order they are written, and their texts
    (`apply_yaml`: gives the text of what the stage applies)."""
    files = {}
    if stage.apply:
        files["apply.yaml"] = apply_yaml()
        files["rollback.sh"] = f"kubectl delete -f {folder_name(stage)}/apply.yaml\n"
    if stage.delete:
        files["delete.sh"] = "".join(_delete_command(e) + "\n" for e in stage.delete)
        files["rollback.sh"] = "kubectl apply -f backup-v1alpha1.yaml\n"
    return files


def _delete_command(entry: PolicyEntry) -> str:
    kind = entry.document.kind.lower() + "." + "authentication.istio.io"
    name = shlex.quote(entry.document.name)
    if entry.document.kind == "MeshPolicy":
        return f"kubectl delete {kind} {name}"
    return f"kubectl delete {kind} {name} -n {shlex.quote(entry.namespace)}"


def write_stage_folder(folder: Path, stage: Stage, apply_yaml: Callable[[], str]) -> None:
    """Write a stage's folder (made if missing; its files are replaced)."""
    files = stage_files(stage, apply_yaml)
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


MAX_NAMED = 5
"""Stages named in one note before the rest are counted."""


def plan(
    workspace: Workspace,
    *,
    order: Sequence[str] = (),
    only: Sequence[str] = (),
    options: VerifyOptions | None = None,
    out: Path | None = None,
) -> Plan:
    """Plan the migration of `workspace`: per-namespace stages in `order` (default: least
    risk first), the mesh-wide stage, then the cleanup that deletes the alpha policies.

    `out`: the folder `write_plan` will write the plan to. The stages' folders are then
    written in another process while the stages are proven (writing a thousand folders
    costs seconds on some file systems), numbered in the order tried first, in a hidden
    folder beside `out`; `write_plan` moves each into place. A refused plan leaves
    nothing."""
    options, _ = with_facts(options, [workspace.inventory])
    planner = _Planner(workspace, options)
    staging = _staging_folder(out) if out is not None else None
    if staging is None:
        return planner.run(order, only)
    expected = planner.expected_stages(order, only)
    staged = background(functools.partial(_stage_folders, expected, staging))
    try:
        result = planner.run(order, only)
    except BaseException:
        _discard(staging, staged)
        raise
    result.staging, result.staged = staging, staged
    if result.refused:
        result.discard_staging()
    return result


def _staging_folder(out: Path) -> Path | None:
    """A new hidden folder beside `out` (None when its parent does not exist)."""
    try:
        return Path(
            tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".staging", dir=out.absolute().parent)
        )
    except OSError:
        return None


def _stage_folders(stages: list[Stage], staging: Path) -> dict[str, Holds]:
    """Write each stage's folder in `staging`; a stage whose text cannot be rendered, or
    whose folder cannot be written here, is left to `write_plan` (which raises the error if
    it is one there too)."""
    written = {}
    for stage in stages:
        try:
            write_stage_folder(
                staging / folder_name(stage),
                stage,
                functools.partial(render_documents, [r.data for r in stage.apply]),
            )
        except (RewriteError, OSError):
            continue
        written[folder_name(stage)] = _holds(stage)
    return written


class _Planner:
    """Proves candidate states against the start while it orders the stages."""

    def __init__(
        self,
        workspace: Workspace,
        options: VerifyOptions,
        conversion: Conversion | None = None,
        *,
        replace: bool = False,
    ) -> None:
        self.workspace = workspace
        self.options = dataclasses.replace(options, shapes=options.shapes or ShapeMemo())
        """Every proof of the plan shares its evaluations of class shapes: a stage proves
        one namespace, and namespaces repeat shapes."""
        if conversion is None:
            conversion = convert_workspace(workspace, environment=options.environment)
        self.conversion = conversion
        self.replace = replace
        """Each stage also deletes the alpha policies it converts (the state `convert
        --write` leaves), instead of keeping them in force until the cleanup."""
        self.groups = _groups(self.conversion)
        self.sources: dict[str, list[PolicyEntry]] = defaultdict(list)
        for entry in self.conversion.converted:
            self.sources[stage_of(entry)].append(entry)
            if replace:  # a stage to delete it, even with nothing to apply
                self.groups.setdefault(stage_of(entry), [])
        self.settings = side_settings(options, workspace.root_namespace)
        self.start = Side.build(self.settings, workspace.alpha, workspace.beta)
        security = [r for r in self.conversion.resources if r.data["kind"] in KINDS]
        models = generated_resources(self.conversion)
        self._alpha: dict[str, list[AlphaPolicy]] = defaultdict(list)
        for policy in workspace.alpha:
            self._alpha[policy.namespace].append(policy)
        self._beta: dict[str, list[BetaResource]] = defaultdict(list)
        for resource in workspace.beta:
            self._beta[resource.meta.namespace].append(resource)
        self.waiting: set[str] = set()
        """Stages found looser: a stage confined to its namespace stays so until a stage
        that reaches every namespace is applied (the others leave its destinations alone)."""
        self.looser: dict[str, VerifyReport] = {}
        """The latest proof of each stage found looser: the state it would make is still
        the same while it waits (the stages applied since leave its namespace alone)."""
        self.models: dict[int, BetaResource] = dict(
            zip((id(r) for r in security), models, strict=True)
        )
        self._made_in: dict[str, set[int]] = defaultdict(set)
        """The new resources (by id) whose model is in each namespace."""
        for key, model in self.models.items():
            self._made_in[model.meta.namespace].add(key)
        self.spare = spare_ports(
            [self.start, self.state(self.conversion.resources, [])], workspace.inventory
        )
        """Container ports no resource names, the same for every stage's proof."""
        self._last: tuple[tuple[int, int, str], tuple[Side, Side, set[str] | None]] | None = None
        self._scoped: dict[tuple[tuple[int, ...], tuple[int, ...]], Side] = {}
        """States of a few namespaces by the resources in force (each kept alive by the
        workspace, the conversion or the stages applied)."""
        self._checked: dict[tuple[int, int], tuple[Side, Side, list[str], bool]] = {}
        """Client conflicts by the pair of states (kept here), and whether it is scoped."""

    def run(self, order: Sequence[str], only: Sequence[str]) -> Plan:
        """Stages in a safe order, each proven, then the cleanup deleting the alpha policies
        they replaced (with `only`, those of the namespaces named, and the MeshPolicy only
        when the plan covers the mesh); a refusal when the order or the cleanup cannot be
        safe."""
        pending, left = self._pending(order, only)
        result = Plan([], self.conversion.without(left) if left else self.conversion)
        if left:
            result.notes.append(_left_note(left))
        total = len(pending) + 1
        replaced = list(result.conversion.converted)
        # the cleanup's state, should every stage go in the order tried first (the usual
        # case), is known now: it is proven in another process while the stages are
        expected = [r for name in pending for r in self.groups[name]]
        early = background(functools.partial(self._cleanup, expected, replaced))
        applied, _ = self.stages(result, pending, strict=bool(order))
        if pending:
            result.refused = self._refusal(pending[0])
            return result
        progress.label(f"plan stage {total} of {total} (cleanup)")
        self._release()
        cleanup = Stage(len(result.stages) + 1, "cleanup", "", [], replaced)
        if list(map(id, applied)) == list(map(id, expected)):
            cleanup.report, cleanup.notes = early.result()
        else:
            cleanup.report, cleanup.notes = self._cleanup(applied, replaced)
        progress.label("")
        result.stages.append(cleanup)
        if cleanup.looser:
            result.refused = (
                "the cleanup cannot go: the state after it would be looser than the start, "
                + _example(cleanup.report, mesh=False)
            )
        return result

    def expected_stages(self, order: Sequence[str], only: Sequence[str]) -> list[Stage]:
        """The stages `run` makes when each goes in the order tried first (the usual case),
        without their proofs."""
        pending, left = self._pending(order, only)
        stages = [self._stage(number, name) for number, name in enumerate(pending, 1)]
        replaced = self.conversion.without(left).converted if left else self.conversion.converted
        return [*stages, Stage(len(stages) + 1, "cleanup", "", [], list(replaced))]

    def _pending(
        self, order: Sequence[str], only: Sequence[str]
    ) -> tuple[list[str], list[PolicyEntry]]:
        """The stages to plan, in the order tried first, and the converted policies the
        plan leaves as they are (`only`)."""
        covered = _covered(self.conversion, only)
        left = [e for e in self.conversion.converted if stage_of(e) not in covered]
        return _order(self.workspace, self.groups, order, covered), left

    def _stage(self, number: int, name: str) -> Stage:
        """Stage `name`, the `number`th, without its proof."""
        return Stage(
            number,
            "mesh-wide" if name == MESH else name,
            name,
            list(self.groups[name]),
            self._deleting(name),
        )

    def _cleanup(
        self, applied: list[NewResource], replaced: list[PolicyEntry]
    ) -> tuple[VerifyReport, list[str]]:
        """The proof of the state after the cleanup (`applied` in force, `replaced`
        deleted) and the client conflicts it creates."""
        return self.prove(applied, replaced), self.conflicts(applied, replaced)

    def stages(
        self, result: Plan, pending: list[str], *, strict: bool = False, notes: bool = True
    ) -> tuple[list[NewResource], list[PolicyEntry]]:
        """Move the pending stages into `result` in a safe order, each with the proof of the
        state after it (and, with `notes`, the client conflicts it creates), until none can
        go: those stay in `pending`. With `strict`, only in the order given. The resources
        applied and the policies deleted by the stages that went."""
        self._prime(pending)
        applied: list[NewResource] = []
        deleted: list[PolicyEntry] = []
        first: dict[str, list[str]] = {}  # the stages that went while a stage waited
        while pending:
            total = len(result.stages) + len(pending) + 1
            progress.label(f"plan stage {len(result.stages) + 1} of {total}")
            name, report = self._next_safe(pending, applied, deleted, strict=strict)
            if name is None or report is None:
                break
            if name != pending[0]:
                _note_wait(result.notes, pending[0], first.setdefault(pending[0], []), name)
            pending.remove(name)
            applied += self.groups[name]
            deleted += self._deleting(name)
            stage = self._stage(len(result.stages) + 1, name)
            stage.report = report
            if notes:
                stage.notes = self.conflicts(applied, deleted, name)
            stage.proven_in = ",".join(sorted(self._scope(name, deleted) or ()))
            result.stages.append(stage)
        return applied, deleted

    def _prime(self, names: Sequence[str]) -> None:
        """Evaluate the class shapes of every namespace stage at once, over every core, for
        the proofs that follow: each stage alone is too small to spread. A stage confined
        to its namespace is proven there with the resources that apply there, whatever
        went before it, so its shapes are known now; the shapes of the others come with
        their proofs."""
        memo = self.options.shapes
        if memo is None or not self.options.share_shapes:
            return
        memo.collecting = True
        try:
            for name in names:
                if name != MESH:
                    self.prove(list(self.groups[name]), self._deleting(name), name)
        finally:
            memo.collecting = False

        def clients() -> None:  # the client checks of the same states, kept for the stages
            for name in names:
                if name != MESH:
                    self.conflicts(list(self.groups[name]), self._deleting(name), name)

        with meanwhile(clients):
            memo.evaluate_pending()

    def _release(self) -> None:
        """Let go of what only the stages' proofs use, before the cleanup's (of the whole
        mesh, the largest): their states, client checks and evaluated shapes (the cleanup's
        state has no alpha policy left, so none of its shapes is among them)."""
        self._scoped.clear()
        self._checked.clear()
        self._last = None
        if self.options.shapes is not None:
            self.options.shapes.clear()

    def _deleting(self, name: str) -> list[PolicyEntry]:
        """The alpha policies stage `name` deletes: those it converts, with `replace`."""
        return list(self.sources.get(name, ())) if self.replace else []

    def _next_safe(
        self,
        pending: list[str],
        applied: list[NewResource],
        deleted: list[PolicyEntry],
        *,
        strict: bool,
    ) -> tuple[str | None, VerifyReport | None]:
        """The first pending stage whose state is no looser, with its proof; with a user
        order, only the next one may go."""
        for name in pending[:1] if strict else pending:
            if name in self.waiting:
                continue
            report = self.prove(
                [*applied, *self.groups[name]], [*deleted, *self._deleting(name)], name
            )
            if report.count(Change.LOOSER) == 0:
                if self._scope(name, deleted) is None:
                    self.waiting.clear()  # a mesh-wide change: the others may go now
                return name, report
            self.looser[name] = report
            if self._scope(name, deleted) is not None:
                self.waiting.add(name)  # stays looser until a mesh-wide stage goes
        return None, None

    def looser_example(self, name: str) -> str:
        """Why stage `name` waits: a request the state after it would let through."""
        return _example(self.looser[name], mesh=name == MESH)

    def _refusal(self, name: str) -> str:
        return (
            f"stage {name} cannot go here: the state after it would be looser than the "
            f"start, {self.looser_example(name)}"
        )

    def state(
        self,
        applied: list[NewResource],
        deleted: Sequence[PolicyEntry],
        namespaces: set[str] | None = None,
    ) -> Side:
        """The resources in force with `applied` added and `deleted` removed (`namespaces`:
        only those that can apply there: theirs, the root namespace's and the mesh's)."""
        gone = {id(e.policy) for e in deleted}
        if namespaces is None:
            models = (self.models[id(r)] for r in applied if id(r) in self.models)
            alpha = [p for p in self.workspace.alpha if id(p) not in gone]
            return Side.build(self.settings, alpha, [*self.workspace.beta, *models])
        reach = {*namespaces, self.settings.root_namespace}
        # the applied resources in reach, in order (a stage's state is asked for with every
        # stage before it applied: a filter at C speed keeps this linear in practice)
        wanted = set().union(*(self._made_in.get(n, ()) for n in reach))
        models = (
            self.models[id(r)]
            for r in itertools.compress(applied, map(wanted.__contains__, map(id, applied)))
        )
        alpha = [
            p
            for n in sorted({*namespaces, ""})
            for p in self._alpha.get(n, ())
            if id(p) not in gone
        ]
        beta = [r for n in sorted(reach) for r in self._beta.get(n, ())]
        beta += models
        # the same resources make the same side: a stage's state is built for the gathering
        # of its classes, then for its proof, then for its client check
        key = (tuple(map(id, alpha)), tuple(map(id, beta)))
        side = self._scoped.get(key)
        if side is None:
            side = self._scoped[key] = Side.build(self.settings, alpha, beta)
        return side

    def prove(
        self, applied: list[NewResource], deleted: Sequence[PolicyEntry], stage: str = MESH
    ) -> VerifyReport:
        """The state with `applied` added and `deleted` removed, against the start. A stage
        that only adds resources in one namespace other than the root changes only that
        namespace's destinations (§B.2, §C): the rest were proven with the stages before, so
        only it is compared, with only the resources that can apply there."""
        before, after, scope = self._sides(applied, deleted, stage)
        # the client check of the same state, done while the proof's workers compare
        with meanwhile(lambda: self._clients(before, after, scope)):
            return verify_sides(
                before,
                after,
                self.workspace.inventory,
                self.options,
                namespaces=scope,
                spare=self.spare,
            )

    def conflicts(
        self, applied: list[NewResource], deleted: Sequence[PolicyEntry], stage: str = MESH
    ) -> list[str]:
        """Client/server pairs that were OK at the start and conflict in this state (§E)."""
        return list(self._clients(*self._sides(applied, deleted, stage)))

    def _clients(self, before: Side, after: Side, scope: set[str] | None) -> list[str]:
        """The conflicts between two states, found once for the very sides (a state is
        checked while it is proven, or while the stages' shapes are evaluated, and asked
        again when its stage goes); those of the whole mesh only for the latest pair."""
        key = (id(before), id(after))
        known = self._checked.get(key)
        if known is None or known[0] is not before or known[1] is not after:
            found = tls_regressions(
                self.workspace,
                self.workspace,
                before_side=before,
                after_side=after,
                namespaces=scope,
            )
            if scope is None:
                self._checked = {k: v for k, v in self._checked.items() if v[3]}
            text = [f"{f.message}; {f.hint}" for f in found]
            known = self._checked[key] = (before, after, text, scope is not None)
        return known[2]

    def _sides(
        self, applied: list[NewResource], deleted: Sequence[PolicyEntry], stage: str
    ) -> tuple[Side, Side, set[str] | None]:
        """Start and state, restricted to the stage's namespace when it changes no other;
        the last pair is kept (a stage is proven, then checked for client conflicts)."""
        key = (len(applied), len(deleted), stage)
        if self._last is None or self._last[0] != key:
            scope = self._scope(stage, deleted)
            start = self.start if scope is None else self.state([], [], scope)
            self._last = (key, (start, self.state(applied, deleted, scope), scope))
        return self._last[1]

    def _scope(self, stage: str, deleted: Sequence[PolicyEntry]) -> set[str] | None:
        """The namespace a stage's proof is confined to: its own, when the stage changes no
        other (with `replace`, the policies it deletes are its namespace's); None for the
        mesh-wide stage, the root namespace and the cleanup."""
        if (deleted and not self.replace) or stage in (MESH, self.workspace.root_namespace):
            return None
        return {stage}


def stage_of(entry: PolicyEntry) -> str:
    """The stage that converts a policy: the mesh-wide one for the MeshPolicy, else its
    namespace's."""
    mesh = entry.policy.scope is Scope.MESH if entry.policy else entry.document.kind == "MeshPolicy"
    return MESH if mesh else entry.namespace


def proven_stages(
    workspace: Workspace,
    conversion: Conversion,
    options: VerifyOptions,
    held: Collection[str] = (),
) -> tuple[list[Stage], dict[str, str]]:
    """The stages of `conversion` that can replace their alpha policies (the state `convert
    --write` leaves, Istio 1.5 running both APIs), in the planner's order: each that makes a
    state no looser than the start, the mesh-wide one only once every namespace it would
    override is converted (`held`: stages left out from the start). And for each other stage,
    a request the state after it would let through. `options` are the conversion's, with the
    facts of the inputs."""
    planner = _Planner(workspace, options, conversion, replace=True)
    result = Plan([], conversion)
    stages = set(planner.groups) - set(held)
    pending = _order(workspace, planner.groups, (), stages)
    planner.stages(result, pending, notes=False)
    return result.stages, {name: planner.looser_example(name) for name in pending}


def _example(report: VerifyReport, *, mesh: bool) -> str:
    """A request the state `report` proves would let through, that the start denied."""
    cause = next(
        c for c in report.causes if c.change is Change.LOOSER and not report.is_accepted(c)
    )
    why = (
        " A mesh-level PeerAuthentication overrides the alpha mTLS of every workload "
        "at once (docs/semantics.md §C): it must wait until every namespace has its own."
        if mesh
        else ""
    )
    twin = f" (the same request in plaintext: {cause.twin})" if cause.twin else ""
    request = request_text(cause.witness)
    return f"e.g. {request}: before {cause.before}{twin}, after {cause.after}.{why}"


def _covered(conversion: Conversion, only: Sequence[str]) -> set[str]:
    """The stages a plan covers: every one without `only`; else the namespaces named, and
    the mesh-wide stage only when it is named too (`mesh`) or every namespace's stage is: a
    mesh-level resource reaches every namespace, so it belongs to a plan of the whole mesh."""
    stages = {stage_of(e) for e in conversion.converted} | set(_groups(conversion))
    if not only:
        return stages
    named = set(only)
    if all(n in named for n in stages if n != MESH):
        named.add(MESH)
    return named


def _left_note(left: list[PolicyEntry]) -> str:
    """What a plan limited with --only leaves as it is."""
    names = ", ".join(sorted({e.ref for e in left}))
    return (
        f"--only: {len(left)} alpha polic(ies) outside the plan stay in force and are not "
        f"deleted: {names}"
    )


def _groups(conversion: Conversion) -> dict[str, list[NewResource]]:
    """New resources by stage: the mesh-wide ones (from the MeshPolicy) apart."""
    groups: dict[str, list[NewResource]] = {}
    for new in conversion.resources:
        policy = new.source.policy
        mesh = policy is not None and policy.scope is Scope.MESH
        key = MESH if mesh else new.data["metadata"]["namespace"]
        groups.setdefault(key, []).append(new)
    return groups


def _note_wait(notes: list[str], waiting: str, went: list[str], name: str) -> None:
    """Say once that `waiting` waits, naming every stage that went before it."""
    start = f"{waiting} waits: applying it now would be looser than the start; "
    previous = next((i for i, n in enumerate(notes) if n.startswith(start)), None)
    went.append("mesh-wide" if name == MESH else name)
    shown = (
        went
        if len(went) <= MAX_NAMED
        else [*went[: MAX_NAMED - 1], f"{len(went) - MAX_NAMED + 1} more"]
    )
    names = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    text = start + names + (" goes first" if len(went) == 1 else " go first")
    if previous is None:
        notes.append(text)
    else:
        notes[previous] = text


def _order(
    workspace: Workspace,
    groups: dict[str, list[NewResource]],
    order: Sequence[str],
    covered: Collection[str],
) -> list[str]:
    names = [n for n in groups if n in covered]
    if order:
        unknown = [n for n in order if n not in groups]
        if unknown:
            raise ValueError(f"no stage for {', '.join(unknown)}; stages: {', '.join(names)}")
        return [n for n in order if n in names] + [n for n in names if n not in order]
    return sorted(names, key=lambda n: _risk(workspace, groups[n], n))


def _risk(workspace: Workspace, made: list[NewResource], name: str) -> tuple[int, int, str]:
    """Least risk first: the mesh last, then no JWT, PERMISSIVE before STRICT, fewest
    workloads."""
    policies = [m.source.policy for m in made if m.source.policy is not None]
    jwt = int(any(p.origins for p in policies))
    strict = int(any(p.mtls_mode is MtlsMode.STRICT for p in policies))
    workloads = len(workspace.inventory.workloads_in(name))
    return (int(name == MESH), 100_000 * jwt + 10_000 * strict + workloads, name)


@dataclass(frozen=True, slots=True)
class Status:
    """Where a repository in the middle of a migration stands."""

    stages: tuple[str, ...]
    applied: tuple[str, ...]
    report: VerifyReport

    @property
    def at(self) -> int:
        """How many stages, in the plan's order, are fully applied."""
        count = 0
        for name in self.stages:
            if name not in self.applied:
                break
            count += 1
        return count

    @property
    def proven(self) -> bool:
        """True when the current state is no looser than the state before the migration."""
        return self.report.count(Change.LOOSER) == 0


def status(workspace: Workspace, options: VerifyOptions | None = None) -> Status:
    """Which stages of the plan a repository holding alpha and (some) converted beta
    resources has applied, and whether that state is proven no looser than before."""
    options, _ = with_facts(options, [workspace.inventory])
    migrated = [
        r for r in workspace.beta if PROVENANCE in r.meta.document.metadata.get("annotations", {})
    ]
    before = replace(workspace, beta=[r for r in workspace.beta if r not in migrated])
    planned = plan(before, options=options)
    present = {r.meta.ref for r in migrated}
    applied = tuple(
        s.name for s in planned.stages[:-1] if s.apply and all(n.ref in present for n in s.apply)
    )
    settings = side_settings(options, workspace.root_namespace)
    report = verify_sides(
        Side.build(settings, workspace.alpha, before.beta),
        Side.build(settings, workspace.alpha, workspace.beta),
        workspace.inventory,
        options,
    )
    return Status(tuple(s.name for s in planned.stages[:-1]), applied, report)
