"""The proof: two configurations compared over the request space, each difference with its
cause, or shown for every request where they differ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from migrate.exitcodes import ExitCode, exit_code
from migrate.findings import Finding, Location, Severity, has_errors, sort_findings
from migrate.memo import IdentityMemo
from migrate.model.inventory import Inventory
from migrate.model.releases import Release
from migrate.semantics.arrangements import TooManyArrangements, arrangements
from migrate.semantics.authz import Unmodelled, check_supported
from migrate.semantics.curl import request_text
from migrate.semantics.decide import Applicable
from migrate.semantics.environment import Environment, environment_of
from migrate.semantics.equivalence import (
    Cause,
    Change,
    ShapeMemo,
    compare,
    merge_causes,
    world_label,
)
from migrate.semantics.impact import across_upgrades, scope_note
from migrate.semantics.side import Settings, Side
from migrate.semantics.space import (
    DestinationClass,
    Site,
    applicable_at,
    class_key,
    destinations,
    sites,
    spare_ports,
    unseen_sites,
)
from migrate.semantics.strings import UnsupportedPattern
from migrate.semantics.worlds import worlds
from migrate.workspace import Workspace


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """What to compare under: the Istio releases and sniffing setting considered (by default
    every possibility), and the differences already signed off (a class such as `stricter`,
    or a cause's key)."""

    environment: Environment = field(default_factory=Environment)
    accept: tuple[str, ...] = ()
    accept_looser: bool = True
    """False when `accept` comes from the tree under review: its entries then never sign off
    a looser cause (only the command line or the base revision can)."""
    every: bool = False
    """Keep every differing request (for `--all`), not only each cause's witness and count."""
    incremental: bool = True
    """Compare only the namespaces a change between two trees can affect (`review`, `verify
    BEFORE AFTER`); off, every namespace is compared (the same verdict, more work)."""
    share_shapes: bool = True
    """Evaluate classes of one shape once (off: each class; the same verdict, more work)."""
    by_blocks: bool = True
    """Decide an HTTP destination's requests a block at a time (off: one by one; the same
    verdict, causes and counts, more work)."""
    shapes: ShapeMemo | None = field(default=None, compare=False)
    """Evaluations of shapes kept for the next proofs of the same run (a plan's stages)."""


@dataclass(slots=True)
class VerifyReport:
    """The comparison: differences grouped by cause, with the figures of the run."""

    causes: list[Cause]
    findings: list[Finding]
    evaluated: int = 0
    classes: int = 0
    destinations: int = 0
    workloads: int = 0
    accepted: set[str] = field(default_factory=set)
    accept_looser: bool = True
    """False when no accepted entry may sign off a looser cause."""
    locations: dict[str, Location] = field(default_factory=dict)
    """Where each compared resource is written (`Kind namespace/name` to file:line)."""
    environment: Environment = field(default_factory=Environment)
    notes: list[str] = field(default_factory=list)
    """What the proof assumed beyond the environment: releases left out, open apply orders."""
    worlds: tuple[str, ...] = ()
    """Every world compared (release pairs, with the arrangement of duplicates)."""
    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The v1alpha1 policies each compared resource was converted from (by its annotation)."""
    policies: tuple[str, ...] = ()
    """The v1alpha1 policies of the old configuration."""
    unproven: tuple[str, ...] = ()
    """Why the proof is incomplete (input errors, configurations the engine cannot model),
    fixed by `settle` so that hiding a finding changes nothing else."""

    def settle(self) -> None:
        """Record the errors that leave the proof incomplete, apart from the findings shown:
        a suppression hides a message, never a reason the proof did not hold."""
        found = [f"{f.code} at {f.location}" for f in self.findings if f.leaves_unproven]
        self.unproven = tuple(dict.fromkeys([*self.unproven, *found]))

    @property
    def proven(self) -> bool:
        """True when the engine compared everything it was given."""
        return not self.unproven and not any(f.leaves_unproven for f in self.findings)

    def is_accepted(self, cause: Cause) -> bool:
        """True when the cause or its whole class was signed off with --accept."""
        if cause.change is Change.LOOSER and not self.accept_looser:
            return False
        return cause.change.value in self.accepted or cause.key in self.accepted

    def count(self, change: Change) -> int:
        """Causes of one class that were not accepted."""
        return sum(1 for c in self.causes if c.change is change and not self.is_accepted(c))

    @property
    def exit_code(self) -> ExitCode:
        """3 if looser, else 2 on input errors or anything unprovable, 1 if stricter, else 0
        (`migrate.exitcodes.exit_code`)."""
        return exit_code(
            looser=self.count(Change.LOOSER) > 0,
            unproven=not self.proven,
            found=self.count(Change.STRICTER) > 0,
        )


def with_facts(
    options: VerifyOptions | None, inventories: Sequence[Inventory]
) -> tuple[VerifyOptions, list[Finding]]:
    """The options with their environment narrowed by what the inputs say where the command
    line did not set it (and notes on facts that could not be used)."""
    options = options or VerifyOptions()
    environment, findings = environment_of(inventories, options.environment)
    return replace(options, environment=environment), findings


def side_settings(options: VerifyOptions | None, root_namespace: str) -> Settings:
    """How to index a side: the first release considered decides which alpha policy wins
    a port (§A.5; the releases considered agree on it)."""
    releases = (options or VerifyOptions()).environment.releases
    return Settings(release=releases[0], root_namespace=root_namespace)


CHANGE_CODES = {
    Change.LOOSER: "AM501",
    Change.STRICTER: "AM502",
    Change.STATUS_ONLY: "AM503",
    Change.COMPATIBLE: "AM504",
}


def difference_findings(report: VerifyReport, locations: dict[str, Location]) -> list[Finding]:
    """One finding per cause not accepted, at the resource that decided the new outcome
    (else the old one): for SARIF, annotations and code-quality reports."""
    found = []
    for cause in report.causes:
        if report.is_accepted(cause):
            continue
        deciders = [*cause.after.decided_by, *cause.before.decided_by]
        where = next((locations[r] for r in deciders if r in locations), Location(""))
        severity = {Change.LOOSER: Severity.ERROR, Change.STRICTER: Severity.WARNING}.get(
            cause.change, Severity.NOTE
        )
        found.append(
            Finding(
                CHANGE_CODES[cause.change],
                Severity.NOTE if cause.inherent else severity,
                f"{cause.change.value}: {request_text(cause.witness)}: before {cause.before}, "
                f"after {cause.after} ({cause.requests} request(s))",
                where,
                hint=cause.inherent,
                resource=", ".join(deciders),
            )
        )
    return found


def workspace_locations(*workspaces: Workspace) -> dict[str, Location]:
    """`Kind namespace/name` to where it is written; later workspaces win."""
    found: dict[str, Location] = {}
    for workspace in workspaces:
        found.update({e.ref: e.document.origin.location for e in workspace.policies})
        found.update({r.meta.ref: r.meta.location for r in workspace.beta})
    return found


def merge_inventories(first: Inventory, second: Inventory) -> Inventory:
    """Services and workloads of both sides; the second wins where both define one."""
    merged = Inventory(mesh=second.mesh if second.mesh.origin else first.mesh)
    merged.services = {**first.services, **second.services}
    workloads = {(w.namespace, w.kind, w.name): w for w in first.workloads}
    workloads.update({(w.namespace, w.kind, w.name): w for w in second.workloads})
    merged.workloads = list(workloads.values())
    merged.namespaces = {**first.namespaces, **second.namespaces}
    merged.destination_rules = first.destination_rules + second.destination_rules
    return merged


def verify_sides(
    before: Side,
    after: Side,
    inventory: Inventory,
    options: VerifyOptions | None = None,
    *,
    findings: list[Finding] | None = None,
    namespaces: set[str] | None = None,
    spare: tuple[int, int, int] | None = None,
) -> VerifyReport:
    """Compare two indexed configurations over the inventory's request space, in every world
    the environment and the inputs leave open (releases, sniffing, which Service port builds
    a listener, which of several files' definitions is in force), reporting each difference
    with the worlds it shows in (`namespaces`: only the destinations in these, for sides that
    differ in nothing else; `spare`: the container ports no resource names, when the caller
    knows them)."""
    options = options or VerifyOptions()
    environment = options.environment
    findings = list(findings or [])
    findings += _unmodelled(before, after)
    pairs, notes = worlds(
        environment.releases,
        before=(bool(before.alpha), bool(before.beta)),
        after=(bool(after.alpha), bool(after.beta)),
    )
    root = before.settings.root_namespace
    namespaces = across_upgrades(namespaces, pairs, (before, after), root)
    notes += scope_note(namespaces, inventory, root)
    unseen = unseen_sites(inventory, [before, after])
    if namespaces is not None:
        unseen = [s for s in unseen if s.namespace in namespaces]
    findings += _incomplete(unseen)
    try:
        arranged = arrangements(before, after, inventory)
    except TooManyArrangements as exc:
        findings.append(_cannot_prove("AM302", str(exc), Location("")))
        arranged = []
    if len(arranged) > 1:
        notes.append(f"{len(arranged)} apply orders of duplicate definitions compared")
    everywhere = tuple(world_label(w, a.label) for a in arranged for w in pairs)
    parts: list[list[Cause]] = []
    evaluated = 0
    groups: list[DestinationClass] = []
    if not has_errors(findings) and pairs:
        try:
            for arrangement in arranged:
                old, new = (
                    _regime(arrangement.before, pairs[0].before),
                    _regime(arrangement.after, pairs[0].after),
                )
                groups = classes(
                    old,
                    new,
                    arrangement.inventory,
                    only=namespaces,
                    unseen=unseen,
                    spare=spare,
                    environment=environment,
                )
                part, count = compare(
                    groups,
                    pairs,
                    before.settings.root_namespace,
                    every=options.every,
                    label=arrangement.label,
                    all_worlds=everywhere,
                    share_shapes=options.share_shapes,
                    by_blocks=options.by_blocks,
                    memo=options.shapes,
                )
                parts.append(part)
                evaluated += count
        except UnsupportedPattern as exc:
            findings.append(
                _cannot_prove(
                    "AM302",
                    f"regex {exc.pattern!r}: {exc.reason}",
                    _regex_location(exc.pattern, before, after),
                )
            )
            parts = []
    return VerifyReport(
        causes=merge_causes(parts, everywhere),
        findings=sort_findings(findings),
        evaluated=evaluated,
        classes=len(groups),
        destinations=sum(len(g.sites) for g in groups),
        workloads=len({(s.namespace, s.name) for g in groups for s in g.sites}),
        accepted=set(options.accept),
        accept_looser=options.accept_looser,
        environment=environment,
        notes=notes,
        worlds=everywhere,
        origins={
            r.meta.ref: r.meta.converted_from
            for side in (before, after)
            for r in side.beta
            if r.meta.converted_from
        },
        policies=tuple(dict.fromkeys(p.ref for p in before.alpha)),
    )


def _regime(side: Side, release: Release) -> Side:
    """The side indexed as `release` chooses among alpha policies (§A.5), rebuilt only when it
    was indexed for the other rule."""
    if side.settings.release.port_precedence == release.port_precedence or not side.alpha:
        return side
    return Side.build(replace(side.settings, release=release), side.alpha, side.beta)


def classes(
    before: Side,
    after: Side,
    inventory: Inventory,
    *,
    only: set[str] | None = None,
    unseen: list[Site] | None = None,
    spare: tuple[int, int, int] | None = None,
    environment: Environment | None = None,
) -> list[DestinationClass]:
    """Destinations grouped so that each class is evaluated once (`only`: the destinations
    in these namespaces; `unseen`: the sites `unseen_sites` gives, if already known).

    Those of a few namespaces are kept for one more ask with the very sides and inventory
    given (none changes once built): a plan gathers every stage's classes, then proves each
    stage's state, the same objects."""
    if only is None:
        return _classes(before, after, inventory, (only, unseen, spare, environment))
    key = (frozenset(only), tuple(unseen) if unseen is not None else None, spare, environment)
    return list(
        _CLASSES.take(
            (before, after, inventory),
            lambda: _classes(before, after, inventory, (only, unseen, spare, environment)),
            key,
        )
    )


_CLASSES: IdentityMemo[list[DestinationClass]] = IdentityMemo(1 << 12)


def _classes(
    before: Side,
    after: Side,
    inventory: Inventory,
    where: tuple[
        set[str] | None, list[Site] | None, tuple[int, int, int] | None, Environment | None
    ],
) -> list[DestinationClass]:
    only, unseen, spare, environment = where
    namespaces = (
        inventory.all_namespaces | _namespaces(before) | _namespaces(after)
        if only is None
        else only
    )
    spare = spare or spare_ports([before, after], inventory)
    groups: dict[tuple[object, ...], DestinationClass] = {}
    if unseen is None:
        unseen = unseen_sites(inventory, [before, after])
    for site in sites(inventory, namespaces, unseen, only):
        old, new = applicable_at(before, site), applicable_at(after, site)
        for destination in destinations(site, inventory, spare, environment):
            first, second = old(destination), new(destination)
            if destination.sniffed and tcp_alike(first) and tcp_alike(second):
                continue  # decided as its port's TCP destination, which is compared too
            key = class_key(destination, first, second)
            group = groups.setdefault(key, DestinationClass(destination, first, second))
            group.sites.append(site)
    return list(groups.values())


def tcp_alike(applicable: Applicable) -> bool:
    """True when an HTTP request gets what a TCP connection gets: no RequestAuthentication or
    AuthorizationPolicy applies, and an alpha policy (if any) has no origins to check, does
    not bind the principal to one and does not let peers of another trust domain through
    (§A.7). Then only the transport decides."""
    alpha = applicable.alpha
    if applicable.request_auths or applicable.authz:
        return False
    return alpha is None or (
        not alpha.origins and alpha.principal_binding == "USE_PEER" and not alpha.peer_is_optional
    )


def _namespaces(side: Side) -> set[str]:
    found = {p.namespace for p in side.alpha if p.namespace}
    found |= {r.meta.namespace for r in side.beta}
    found.add(side.settings.root_namespace)
    return found


def _unmodelled(before: Side, after: Side) -> list[Finding]:
    found = []
    for side in (before, after):
        for resource in side.beta:
            try:
                if resource.meta.kind == "AuthorizationPolicy":
                    check_supported(resource)  # type: ignore[arg-type]
            except Unmodelled as exc:
                found.append(
                    Finding(
                        "AM301",
                        Severity.ERROR,
                        str(exc),
                        resource.meta.location,
                        resource=resource.meta.ref,
                    )
                )
    return found


def _incomplete(unseen: list[Site]) -> list[Finding]:
    """A warning for each group of pods that only a policy names."""
    return [
        Finding(
            "AM303",
            Severity.WARNING,
            f"{site.name} in namespace {site.namespace}: verified as unseen pods; add the "
            "manifests (or --inventory) for an exact result",
            site.named_by or Location(""),
        )
        for site in unseen
    ]


def _cannot_prove(code: str, message: str, where: Location) -> Finding:
    return Finding(code, Severity.ERROR, f"cannot prove equivalence: {message}", where)


def _regex_location(pattern: str, *sides: Side) -> Location:
    """Where a trigger-rule regex is written (the first place), for a finding about it."""
    for policy in (p for side in sides for p in side.alpha):
        for rule in (r for jwt in policy.origins for r in jwt.trigger_rules):
            for match in (*rule.excluded, *rule.included):
                if match.how == "regex" and match.value == pattern:
                    return match.location
    return Location("")


__all__ = ["VerifyOptions", "VerifyReport", "verify_sides"]
