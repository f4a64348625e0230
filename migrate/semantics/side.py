"""One side of a comparison: the alpha and beta resources in force, indexed for lookups.

Selection rules follow §A.5 (alpha: narrowest wins, oldest among equals, version-
dependent port precedence) and §B.1-B.4 (beta: root namespace, selectors, oldest wins).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from migrate.model.alpha import AlphaPolicy, PortSelector, Scope
from migrate.model.beta import (
    AuthorizationPolicy,
    BetaResource,
    Meta,
    PeerAuthentication,
    PeerMode,
    RequestAuthentication,
)
from migrate.model.inventory import data_key
from migrate.model.releases import DEFAULT_RELEASE, Release

_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Settings:
    """What both models need besides the resources: the Istio release that runs them and the
    root namespace."""

    release: Release = DEFAULT_RELEASE
    root_namespace: str = "istio-system"


@dataclass(frozen=True, slots=True)
class PeerSetting:
    """The beta mTLS mode for one workload port, and the resources that set it."""

    mode: PeerMode
    decided_by: tuple[str, ...]


def _age(meta: Meta) -> tuple[str, str]:
    """Oldest first: creationTimestamp, then the string `name.namespace` (Istio's
    sortConfigByCreationTime, §B.2): `default-strict` sorts before `default`."""
    return meta.creation_timestamp, f"{meta.name}.{meta.namespace}"


@dataclass(slots=True)
class Side:
    """Resources of one configuration, with the indexes both models query."""

    settings: Settings
    alpha: list[AlphaPolicy] = field(default_factory=list)
    beta: list[BetaResource] = field(default_factory=list)
    _by_service: dict[tuple[str, str], list[tuple[AlphaPolicy, PortSelector | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _by_namespace: dict[str, list[AlphaPolicy]] = field(default_factory=lambda: defaultdict(list))
    _mesh: AlphaPolicy | None = None
    _beta_by_namespace: dict[str, list[BetaResource]] = field(
        default_factory=lambda: defaultdict(list)
    )

    ambiguous: tuple[Duplicates, ...] = ()
    """Resources defined in several files whose apply order the inputs do not set: each
    candidate may be the one in force (`alternatives`)."""

    @classmethod
    def build(
        cls, settings: Settings, alpha: Iterable[AlphaPolicy], beta: Iterable[BetaResource]
    ) -> Side:
        """Index the resources of one configuration. Two documents of one kind, namespace and
        name are one object: the later in a file replaces the earlier (§F); across files the
        order is open, and the side holds the first candidate with the rest in `ambiguous`."""
        alpha_kept, alpha_open = resolve_duplicates(list(alpha), _alpha_identity, _alpha_origin)
        beta_kept, beta_open = resolve_duplicates(list(beta), _beta_identity, _beta_origin)
        return cls._indexed(settings, alpha_kept, beta_kept, (*alpha_open, *beta_open))

    @classmethod
    def _indexed(
        cls,
        settings: Settings,
        alpha: list[AlphaPolicy],
        beta: list[BetaResource],
        ambiguous: tuple[Duplicates, ...],
    ) -> Side:
        side = cls(settings, sorted(alpha, key=AlphaPolicy.sort_key), list(beta))
        side.ambiguous = ambiguous
        for policy in side.alpha:
            side._index_alpha(policy)
        for resource in sorted(side.beta, key=lambda r: _age(r.meta)):
            side._beta_by_namespace[resource.meta.namespace].append(resource)
        return side

    def choose(self, choices: dict[tuple[str, str, str], int]) -> Side:
        """The side with the given candidate in force for each ambiguous identity (by index
        into its candidates; identities not named keep their first candidate)."""
        if not any(choices.get(d.identity, 0) for d in self.ambiguous):
            return self
        swap: dict[int, object] = {}
        for group in self.ambiguous:
            chosen = group.candidates[choices.get(group.identity, 0)]
            swap[id(group.candidates[0])] = chosen
        alpha = [swap.get(id(p), p) for p in self.alpha]
        beta = [swap.get(id(r), r) for r in self.beta]
        return Side._indexed(
            self.settings,
            alpha,  # type: ignore[arg-type]
            beta,  # type: ignore[arg-type]
            self.ambiguous,
        )

    def _index_alpha(self, policy: AlphaPolicy) -> None:
        if policy.scope is Scope.MESH:
            if policy.name == "default" and self._mesh is None:
                self._mesh = policy
        elif policy.scope is Scope.NAMESPACE:
            self._by_namespace[policy.namespace].append(policy)
        else:
            for target in policy.targets:
                key = (policy.namespace, target.name)
                if not target.ports:
                    self._by_service[key].append((policy, None))
                self._by_service[key].extend((policy, p) for p in target.ports)

    def alpha_policy(
        self, namespace: str, service: str, port: int, port_name: str
    ) -> AlphaPolicy | None:
        """The one alpha policy for (service, service port): service, namespace, mesh (§A.5)."""
        entries = self._by_service.get((namespace, service), [])
        chosen = self._service_entry(entries, port, port_name)
        if chosen is not None:
            return chosen
        in_namespace = self._by_namespace.get(namespace)
        return in_namespace[0] if in_namespace else self._mesh

    def _service_entry(
        self, entries: list[tuple[AlphaPolicy, PortSelector | None]], port: int, port_name: str
    ) -> AlphaPolicy | None:
        """1.4.0-1.4.10: the first matching entry, a port-less one matching every port.
        1.5 and later: the oldest port-specific match, else the oldest port-less entry."""

        def matches(selector: PortSelector | None) -> bool:
            if selector is None:
                return True
            return selector.number == port or (bool(port_name) and selector.name == port_name)

        if not self.settings.release.port_precedence:
            return next((p for p, s in entries if matches(s)), None)
        specific = next((p for p, s in entries if s is not None and matches(s)), None)
        return specific or next((p for p, s in entries if s is None), None)

    def applicable_beta(self, namespace: str, labels: dict[str, str]) -> list[BetaResource]:
        """Beta resources that apply to a workload: its namespace and the root namespace, with
        a selector its labels satisfy or none (§B.1), oldest first."""
        root = self.settings.root_namespace
        found = [r for r in self._beta_by_namespace.get(namespace, ()) if _selects(r.meta, labels)]
        if namespace != root:
            found += [r for r in self._beta_by_namespace.get(root, ()) if _selects(r.meta, labels)]
        return sorted(found, key=lambda r: _age(r.meta))

    def peer_setting(
        self, namespace: str, resources: list[BetaResource], port: int | None
    ) -> PeerSetting | None:
        """The effective PeerAuthentication mode (§B.2), None when none applies (then alpha or
        PERMISSIVE decides, §C); `port` None is the passthrough chain (no port-level)."""
        root = self.settings.root_namespace
        peers = [r for r in resources if isinstance(r, PeerAuthentication)]
        mesh = next((p for p in peers if p.meta.namespace == root and not p.meta.selector), None)
        spaced = next(
            (p for p in peers if p.meta.namespace == namespace and not p.meta.selector), None
        )
        workload = next((p for p in peers if p.meta.selector and p.meta.namespace != root), None)
        chain = [p for p in (mesh, spaced, workload) if p is not None]
        if not chain:
            return None
        mode, by = PeerMode.PERMISSIVE, []
        for policy in chain:
            if policy.mode is not PeerMode.UNSET:
                mode, by = policy.mode, [policy.meta.ref]
        if workload is not None and port is not None:
            level = dict(workload.port_level).get(port)
            if level is not None and level is not PeerMode.UNSET:
                mode, by = level, [workload.meta.ref]
        return PeerSetting(mode, tuple(by) or (chain[-1].meta.ref,))


@dataclass(frozen=True, slots=True)
class Duplicates:
    """One object defined in several files: the last definition of each file, in path order.
    Which is applied last, and so in force, the inputs do not say."""

    identity: tuple[str, str, str]
    candidates: tuple[AlphaPolicy | BetaResource, ...]

    @property
    def ref(self) -> str:
        """`Kind namespace/name`."""
        kind, namespace, name = self.identity
        return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"

    def paths(self) -> list[str]:
        """The files of the candidates, in the order of `candidates`."""
        return [_origin_of(c)[0] for c in self.candidates]


def resolve_duplicates(
    resources: list[_R],
    identity: Callable[[_R], tuple[str, str, str]],
    origin: Callable[[_R], tuple[str, int, int, int]],
) -> tuple[list[_R], list[Duplicates]]:
    """The resources in force, keeping input order: of several documents with one identity
    the last in each file; when more than one file remains, the first file's stands in and the
    group is returned as open, unless every file defines it alike (then the order does not
    matter)."""
    groups: dict[tuple[str, str, str], list[_R]] = {}
    for resource in resources:
        groups.setdefault(identity(resource), []).append(resource)
    keep: set[int] = set()
    open_groups: list[Duplicates] = []
    for key, members in groups.items():
        last_per_file: dict[str, _R] = {}
        for member in sorted(members, key=origin):
            last_per_file[origin(member)[0]] = member
        survivors = [last_per_file[path] for path in sorted(last_per_file)]
        keep.add(id(survivors[0]))
        if len({content_key(s) for s in survivors}) > 1:  # type: ignore[arg-type]
            open_groups.append(Duplicates(key, tuple(survivors)))  # type: ignore[arg-type]
    return [r for r in resources if id(r) in keep], open_groups


def content_key(resource: AlphaPolicy | BetaResource) -> str:
    """What a definition says, as text: two definitions with equal keys are the same."""
    document = resource.document if isinstance(resource, AlphaPolicy) else resource.meta.document
    return data_key(document.data)


def _alpha_identity(policy: AlphaPolicy) -> tuple[str, str, str]:
    return policy.kind, policy.namespace, policy.name


def _beta_identity(resource: BetaResource) -> tuple[str, str, str]:
    return resource.meta.kind, resource.meta.namespace, resource.meta.name


def _alpha_origin(policy: AlphaPolicy) -> tuple[str, int, int, int]:
    origin = policy.document.origin
    return origin.path, origin.index, origin.line, origin.column


def _beta_origin(resource: BetaResource) -> tuple[str, int, int, int]:
    origin = resource.meta.document.origin
    return origin.path, origin.index, origin.line, origin.column


def _origin_of(resource: AlphaPolicy | BetaResource) -> tuple[str, int, int, int]:
    if isinstance(resource, AlphaPolicy):
        return _alpha_origin(resource)
    return _beta_origin(resource)


def request_authentications(resources: list[BetaResource]) -> list[RequestAuthentication]:
    """Every RequestAuthentication that applies: they merge, none overrides (§B.3)."""
    return [r for r in resources if isinstance(r, RequestAuthentication)]


def authorization_policies(resources: list[BetaResource]) -> list[AuthorizationPolicy]:
    """Every AuthorizationPolicy that applies (§B.4)."""
    return [r for r in resources if isinstance(r, AuthorizationPolicy)]


def _selects(meta: Meta, labels: dict[str, str]) -> bool:
    """No selector (or an empty one) selects all; otherwise every label must match (§B.1)."""
    if not meta.selector:
        return True
    return all(labels.get(k) == v for k, v in meta.selector.items())
