"""The request space: every destination the mesh has, grouped into classes that both
configurations treat alike, and the finite set of requests that covers each class exactly.

Destinations come from the inventory (each workload's container ports, through each Service
port that reaches them, plus ports no Service declares) and, per namespace, one workload that
no selector names. Paths, methods, identities and header values are partitioned by the
conditions that apply to the class (`migrate.semantics.strings.partition`), so one witness per
cell stands for every value in it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations, product

from migrate.findings import Location
from migrate.memo import IdentityMemo
from migrate.model.beta import AuthorizationPolicy, BetaResource, Operation, Rule, Source
from migrate.model.inventory import Inventory, Service, Workload, data_key, is_port_text
from migrate.semantics.decide import Applicable, as_pattern
from migrate.semantics.environment import Environment
from migrate.semantics.grid import Block
from migrate.semantics.grid import blocks as grid_blocks
from migrate.semantics.jwt import DEFAULT_LOCATIONS, Provider, TokenPlace, alpha_providers
from migrate.semantics.jwt import beta_providers as _beta_providers
from migrate.semantics.listeners import chains, passthrough
from migrate.semantics.request import (
    DEFAULT_PEER,
    FOREIGN_PEER,
    UNCONFIGURED_ISSUER,
    UNLISTED_AUDIENCE,
    Claims,
    Destination,
    Peer,
    Request,
    Signature,
    Token,
    Transport,
)
from migrate.semantics.side import (
    PeerSetting,
    Settings,
    Side,
    authorization_policies,
    request_authentications,
)
from migrate.semantics.strings import ANY_NON_EMPTY, PATH_UNIVERSE, Pattern, partition, signature

RAW_PATH_UNIVERSE = Pattern("regex", "/[^#\\x00\\n\\r]*")
"""Paths as the client sends them, query string included."""

OTHER_WORKLOAD = "(any workload the inputs do not show)"
OTHER_NAMESPACE = "(any other namespace)"
OTHER_SERVICE = "(a Service the inputs do not show)"


@dataclass(frozen=True, slots=True)
class Site:
    """A workload (real or standing for unseen ones) with its namespace and pod labels."""

    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    synthetic: bool = False
    service: str = OTHER_SERVICE
    """For a synthetic site: the Service that reaches it."""
    ports: tuple[tuple[int, str], ...] = ()
    """For a synthetic site: service ports (number, name) known to reach it, besides the
    unseen HTTP and TCP ports every synthetic site gets."""
    named_by: Location | None = field(default=None, compare=False)
    """For pods only a policy names: where that policy is."""


@dataclass(slots=True)
class DestinationClass:
    """Destinations that both configurations treat alike: one is evaluated for all."""

    destination: Destination
    before: Applicable
    after: Applicable
    sites: list[Site] = field(default_factory=list)


def sites(
    inventory: Inventory,
    namespaces: set[str],
    extra: list[Site] | None = None,
    only: set[str] | None = None,
) -> list[Site]:
    """Every workload; the pods a Service selects when the inputs show none of them; the
    `extra` sites standing for pods only a policy names; one unseen workload per namespace;
    and one in a namespace nobody names (`only`: just the sites in these namespaces)."""
    workloads = (
        inventory.workloads
        if only is None
        else [w for n in sorted(only) for w in inventory.workloads_in(n)]
    )
    found = [Site(w.namespace, w.name, tuple(sorted(w.labels.items()))) for w in workloads]
    services = (
        inventory.services.items()
        if only is None
        else [((n, s.name), s) for n in only for s in inventory.services_in(n)]
    )
    implied: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for (namespace, name), service in sorted(services, key=lambda item: item[0]):
        if service.selector and not inventory.selected(namespace, service.selector):
            labels = tuple(sorted(service.selector.items()))
            if (namespace, labels) not in implied:
                implied.add((namespace, labels))
                found.append(Site(namespace, f"(pods of Service {name})", labels))
    found += [s for s in extra or () if only is None or s.namespace in only]
    for namespace in sorted(namespaces | {OTHER_NAMESPACE} if only is None else only):
        found.append(Site(namespace, OTHER_WORKLOAD, (), synthetic=True))
    return found


def unseen_sites(inventory: Inventory, sides: list[Side]) -> list[Site]:
    """Pods that only a policy names: behind an alpha target Service the inputs lack, or
    labelled as a beta selector that matches no workload. Verifying them keeps the proof
    sound when the inventory is incomplete."""
    found: dict[tuple[object, ...], Site] = {}
    for side in sides:
        for policy in side.alpha:
            for target in policy.targets:
                if target.name and inventory.service(policy.namespace, target.name) is None:
                    ports = tuple(sorted({(p.number or 0, p.name or "") for p in target.ports}))
                    site = Site(
                        policy.namespace,
                        f"(pods of Service {target.name}, not in the inputs)",
                        (("(unknown)", target.name),),
                        True,
                        target.name,
                    )
                    key = (policy.namespace, target.name)
                    previous = found.get(key)
                    merged = tuple(sorted({*(previous.ports if previous else ()), *ports}))
                    found[key] = Site(
                        site.namespace,
                        site.name,
                        site.labels,
                        True,
                        site.service,
                        merged,
                        policy.location,
                    )
        for resource in side.beta:
            selector = resource.meta.selector
            namespace = resource.meta.namespace
            if selector and not _selects_pods(inventory, namespace, selector, side):
                text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
                labels = tuple(sorted(selector.items()))
                found[(resource.meta.namespace, labels)] = Site(
                    resource.meta.namespace,
                    f"(pods labelled {text}, not in the inputs)",
                    labels,
                    True,
                    named_by=resource.meta.location,
                )
    return list(found.values())


def _satisfies(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _selects_pods(
    inventory: Inventory, namespace: str, selector: dict[str, str], side: Side
) -> bool:
    """True when the selector matches pods the inputs show (a workload, or the pods a
    Service selects) in its namespace, or in any namespace for the root namespace's."""
    spaces = (
        sorted(inventory.all_namespaces)
        if namespace == side.settings.root_namespace
        else [namespace]
    )
    return any(
        inventory.selected(n, selector)
        or any(s.selector and _satisfies(s.selector, selector) for s in inventory.services_in(n))
        for n in spaces
    )


def destinations(
    site: Site,
    inventory: Inventory,
    spare: tuple[int, int, int],
    environment: Environment | None = None,
) -> list[Destination]:
    """The site's container ports, each served as every chain it may have (§F: the Service
    port that builds its listener, HTTP or TCP, each with its condition), and ports no Service
    declares (the passthrough chain). Unseen workloads get an HTTP and a TCP port of an unseen
    Service and a passthrough port; `spare` are container ports no resource names."""
    environment = environment or Environment()
    http_port, tcp_port, other_port = spare
    namespace, name = site.namespace, site.name
    passing = passthrough(environment.sniffing)
    if site.synthetic:
        known = [
            Destination(
                namespace,
                name,
                number or http_port,
                http,
                site.service,
                number or 80,
                n,
                spare=not number,
            )
            for number, n in site.ports
            for http in (True, False)
        ]
        return [
            *known,
            Destination(namespace, name, http_port, True, site.service, 80, "http", spare=True),
            Destination(namespace, name, tcp_port, False, site.service, 81, "tcp", spare=True),
            *(
                Destination(
                    namespace,
                    name,
                    other_port,
                    c.http,
                    condition=c.condition,
                    sniffed=c.sniffed,
                    spare=True,
                )
                for c in passing
            ),
        ]
    workload = _workload(inventory, site)
    served = chains(
        _fronting(inventory, site), workload, environment.releases, environment.sniffing
    )
    found = [
        Destination(
            namespace,
            name,
            number,
            chain.http,
            chain.service.name if chain.service else None,
            chain.port.port if chain.port else None,
            chain.port.name if chain.port else "",
            chain.condition,
            chain.sniffed,
        )
        for number, variants in served.items()
        for chain in variants
    ]
    declared = (
        sorted({p.number for p in workload.ports if p.number} - set(served)) if workload else []
    )
    found += [
        Destination(
            namespace,
            name,
            port,
            c.http,
            condition=c.condition,
            sniffed=c.sniffed,
            spare=port == other_port,
        )
        for port in [*declared, other_port]
        for c in passing
    ]
    return found


def _workload(inventory: Inventory, site: Site) -> Workload | None:
    return inventory.workload(site.namespace, site.name)


def _fronting(inventory: Inventory, site: Site) -> list[Service]:
    return inventory.fronting(site.namespace, dict(site.labels))


def applicable(side: Side, site: Site, destination: Destination) -> Applicable:
    """What applies to a destination in one configuration."""
    return applicable_at(side, site)(destination)


def applicable_at(side: Side, site: Site) -> Callable[[Destination], Applicable]:
    """`applicable` for each destination of one site: what selects the site's workload (its
    beta resources, RequestAuthentications and AuthorizationPolicies) is found once, the
    alpha policy per service port, and the peer setting once per port."""
    namespace = site.namespace
    resources = side.applicable_beta(namespace, dict(site.labels))
    request_auths = tuple(request_authentications(resources))
    authz = tuple(authorization_policies(resources))
    peers: dict[int | None, PeerSetting | None] = {}

    def at(destination: Destination) -> Applicable:
        alpha = (
            side.alpha_policy(
                namespace,
                destination.service,
                destination.service_port or 0,
                destination.service_port_name,
            )
            if destination.service is not None
            else None
        )
        port = None if destination.service is None else destination.port  # None: passthrough
        if port in peers:
            peer = peers[port]
        else:
            peer = peers[port] = side.peer_setting(namespace, resources, port)
        return Applicable(alpha=alpha, peer=peer, request_auths=request_auths, authz=authz)

    return at


def class_key(
    destination: Destination, before: Applicable, after: Applicable
) -> tuple[object, ...]:
    """Destinations with equal keys get equal outcomes for every request."""
    return (
        destination.port,
        destination.http,
        destination.condition,
        _identity(before),
        _identity(after),
    )


def unchanged(group: DestinationClass) -> bool:
    """True when both configurations apply the same resources to the class, the very same
    objects or definitions that say the same in the same namespace (two trees read apart,
    as `review` reads the base and the work tree): no request can be decided differently, so
    the class needs no evaluation."""
    before, after = group.before, group.after
    return _identity(before) == _identity(after) or _content(before) == _content(after)


_CONTENT: IdentityMemo[str] = IdentityMemo(1 << 20)


def _content(applicable: Applicable) -> tuple[object, ...]:
    """What decides the class, by what the resources say rather than which objects they are."""
    peer = applicable.peer
    alpha = applicable.alpha
    return (
        None if alpha is None else _said(alpha, alpha.namespace, alpha.document.data),
        None if peer is None else (peer.mode, peer.decided_by),
        tuple(_said(r, r.meta.namespace, r.meta.document.data) for r in applicable.request_auths),
        tuple(_said(r, r.meta.namespace, r.meta.document.data) for r in applicable.authz),
    )


def _said(resource: object, namespace: str, data: object) -> str:
    return _CONTENT.get((resource,), lambda: namespace + "\n" + data_key(data))


def shape_key(group: DestinationClass) -> tuple[object, ...]:
    """Classes with equal keys decide every request alike, up to the names of the resources
    that decide it: the same port, protocol, chain and condition, and resources whose specs
    say the same on each side (names and namespaces aside), named in the same pattern."""
    destination = group.destination
    return (
        destination.port,
        destination.http,
        destination.condition,
        destination.service is None,
        _shape(group.before),
        _shape(group.after),
        _pattern(_refs(group)),
    )


def rename(model: DestinationClass, group: DestinationClass) -> dict[str, str]:
    """From the names of the resources deciding `model` to those deciding `group`, a class of
    the same shape (only the names that differ)."""
    return {a: b for a, b in zip(_refs(model), _refs(group), strict=True) if a != b}


def _shape(applicable: Applicable) -> tuple[object, ...]:
    alpha = applicable.alpha
    peer = applicable.peer
    return (
        None if alpha is None else (alpha.kind, _spec(alpha, alpha.document.data)),
        None if peer is None else peer.mode,
        tuple(_spec(r, r.meta.document.data) for r in applicable.request_auths),
        tuple(_spec(r, r.meta.document.data) for r in applicable.authz),
    )


def _spec(resource: object, data: dict[str, object]) -> str:
    """What a resource's spec says once it applies: not where (its targets or selector)."""
    return _CONTENT.get((resource,), lambda: data_key(_decisive(data.get("spec"))), "spec")


def _decisive(spec: object) -> object:
    if not isinstance(spec, dict):
        return spec
    return {k: v for k, v in spec.items() if k not in ("targets", "selector")}


def _refs(group: DestinationClass) -> list[str]:
    """Every name that can appear in an outcome's `decided_by`, in a fixed order."""
    found: list[str] = []
    for side in (group.before, group.after):
        if side.alpha is not None:
            found.append(side.alpha.ref)
        if side.peer is not None:
            found += side.peer.decided_by
        found += [r.meta.ref for r in side.request_auths]
        found += [r.meta.ref for r in side.authz]
    return found


def _pattern(refs: list[str]) -> tuple[int, ...]:
    """Which positions name the same resource (each name by its first position)."""
    first: dict[str, int] = {}
    return tuple(first.setdefault(ref, index) for index, ref in enumerate(refs))


def _identity(applicable: Applicable) -> tuple[object, ...]:
    peer = applicable.peer
    return (
        id(applicable.alpha),
        None if peer is None else (peer.mode, peer.decided_by),
        tuple(id(r) for r in applicable.request_auths),
        tuple(id(r) for r in applicable.authz),
    )


# --- requests of one class ---------------------------------------------------------------


def requests(group: DestinationClass, *, raw: bool = False) -> Iterator[Request]:
    """Every request needed to compare the two configurations on this class's destination
    (`raw`: paths may carry a query string, for releases whose trigger rules see it)."""
    destination = group.destination
    policies = [*group.before.authz, *group.after.authz]
    for peer in _class_peers(group, policies):
        if not destination.http:
            yield Request(destination, peer, None, "/", "")
            continue
        for token, path, (method, headers) in product(
            tokens(group), paths(group, policies, raw=raw), methods(policies)
        ):
            yield Request(destination, peer, token, path, method, headers)


def blocks(group: DestinationClass, *, raw: bool = False) -> list[Block]:
    """The requests of `requests` on an HTTP destination, a block per peer, in its order."""
    policies = [*group.before.authz, *group.after.authz]
    return grid_blocks(
        [Request(group.destination, peer, None, "/", "") for peer in _class_peers(group, policies)],
        tokens(group),
        paths(group, policies, raw=raw),
        methods(policies),
    )


def _class_peers(group: DestinationClass, policies: list[AuthorizationPolicy]) -> list[Peer]:
    foreign = any(
        side.alpha is not None and side.alpha.peer_is_optional
        for side in (group.before, group.after)
    )
    return peers(policies, foreign=foreign)


def peers(policies: list[AuthorizationPolicy], *, foreign: bool = False) -> list[Peer]:
    """Plaintext, and mTLS from each identity cell the policies distinguish (`foreign`: and
    from another trust domain, where peerIsOptional makes that matter)."""
    found = _peers(policies)
    if foreign:
        found.append(Peer(Transport.MTLS, FOREIGN_PEER, "default", foreign=True))
    return found


def _peers(policies: list[AuthorizationPolicy]) -> list[Peer]:
    principals = _patterns(policies, ("principals", "notPrincipals"), "source.principal")
    namespaces = _patterns(policies, ("namespaces", "notNamespaces"), "source.namespace")
    if not principals and not namespaces:
        return [Peer(Transport.PLAINTEXT), Peer(Transport.MTLS, DEFAULT_PEER, "default")]
    names = [c.witness for c in partition(principals, ANY_NON_EMPTY)] or [DEFAULT_PEER]
    spaces = [c.witness for c in partition(namespaces, ANY_NON_EMPTY)] or ["default"]
    return [Peer(Transport.PLAINTEXT)] + [
        Peer(Transport.MTLS, p, n) for p, n in product(names, spaces)
    ]


def _patterns(
    policies: list[AuthorizationPolicy], fields: tuple[str, ...], key: str
) -> list[Pattern]:
    found: dict[Pattern, None] = {}
    for policy in policies:
        for rule in policy.rules or ():
            for part in _parts(rule):
                for name, values in part.fields:
                    if name in fields:
                        found.update((Pattern.from_istio(v), None) for v in values)
            for condition in rule.conditions:
                if condition.key == key:
                    values = condition.values + condition.not_values
                    found.update((Pattern.from_istio(v), None) for v in values)
    return list(found)


def providers(group: DestinationClass) -> list[Provider]:
    """Every JWT verifier either configuration has on this destination, on any release (a
    jwtRule without keys appears with and without OpenID discovery)."""
    found: list[Provider] = []
    for side in (group.before, group.after):
        if side.alpha is not None:
            found += alpha_providers(side.alpha)
        for discovery in (True, False):
            found += _beta_providers(list(side.request_auths), discovery=discovery)
    return list(dict.fromkeys(found))


def tokens(group: DestinationClass) -> list[Token | None]:
    """No token; and at every place some verifier reads (and the defaults), a token from each
    issuer (and an unconfigured one): valid, valid without `sub`, with each audience a
    verifier lists or none of them, and invalid."""
    known = providers(group)
    locations = _request_locations(known)
    issuers = [*sorted({p.issuer for p in known}), UNCONFIGURED_ISSUER]
    found: list[Token | None] = [None]
    for (kind, name, prefix), issuer in product(locations, issuers):
        for claims in _claims(issuer, known):
            found.append(Token(kind, name, prefix, claims))
    return found


def _request_locations(known: list[Provider]) -> list[TokenPlace]:
    locations: dict[TokenPlace, None] = dict.fromkeys(DEFAULT_LOCATIONS)
    for provider in known:
        locations.update(dict.fromkeys(provider.locations))
    return list(locations)


def _claims(issuer: str, known: list[Provider]) -> list[Claims]:
    audiences = sorted({a for p in known if p.issuer == issuer for a in p.audiences})
    first = audiences[0] if audiences else UNLISTED_AUDIENCE
    variants = []
    for keys in key_subsets(sorted({p.keys for p in known if p.issuer == issuer and p.keys})):
        variants += [
            Claims(issuer, True, a, Signature.VALID, keys) for a in audiences or [UNLISTED_AUDIENCE]
        ]
        if audiences:
            variants.append(Claims(issuer, True, UNLISTED_AUDIENCE, Signature.VALID, keys))
        variants.append(Claims(issuer, False, first, Signature.VALID, keys))
    variants.append(Claims(issuer, True, first, Signature.INVALID))
    return variants


def key_subsets(sources: list[str]) -> list[frozenset[str]]:
    """The key sources a valid token may be signed for: any, when the issuer has at most one;
    else every non-empty combination, since two sources may or may not share a key."""
    if len(sources) <= 1:
        return [frozenset()]
    return [
        frozenset(c) for size in range(1, len(sources) + 1) for c in combinations(sources, size)
    ]


def raw_query_paths(settings: Settings) -> bool:
    """Before proxy 1.4.4, alpha trigger rules saw the raw :path, query string included
    (§A.7, CVE-2020-8595); AuthorizationPolicy paths never do (§B.4)."""
    return not settings.release.strip_query


def path_patterns(
    group: DestinationClass, policies: list[AuthorizationPolicy], *, raw: bool = False
) -> list[Pattern]:
    """Every path condition either configuration evaluates on this destination, as a
    condition on the request's path (`raw`: the path may carry a query string, which
    AuthorizationPolicy ignores)."""
    found: dict[Pattern, None] = {}
    for side in (group.before, group.after):
        for origin in side.alpha.origins if side.alpha else ():
            for rule in origin.trigger_rules:
                for match in (*rule.excluded, *rule.included):
                    pattern = as_pattern(match)
                    if pattern is not None:
                        found[pattern] = None
                        if raw:
                            found[_without_query(pattern)] = None
    for pattern in _patterns(policies, ("paths", "notPaths"), ""):
        found[_without_query(pattern) if raw else pattern] = None
    return list(found)


def _without_query(pattern: Pattern) -> Pattern:
    """The same condition applied to the path with any query string removed."""
    query = "(\\?.*)?"
    if pattern.how == "exact":
        return Pattern("regex", _escape(pattern.value) + query)
    if pattern.how == "prefix":
        return Pattern("regex", _escape(pattern.value) + "[^?]*" + query)
    if pattern.how == "suffix":
        return Pattern("regex", "[^?]*" + _escape(pattern.value) + query)
    return Pattern("regex", "[^?]+" + query)


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in "^$\\.*+?()[]{}|/-" else ch for ch in text)


def paths(
    group: DestinationClass, policies: list[AuthorizationPolicy], *, raw: bool = False
) -> list[str]:
    """One witness path per cell of the path conditions."""
    return list(_witnesses(tuple(path_patterns(group, policies, raw=raw)), raw=raw))


@functools.lru_cache(maxsize=4096)
def _witnesses(patterns: tuple[Pattern, ...], *, raw: bool) -> tuple[str, ...]:
    """One witness path per cell (classes of many workloads repeat their path conditions)."""
    universe = RAW_PATH_UNIVERSE if raw else PATH_UNIVERSE
    return tuple(c.witness for c in partition(patterns, universe))


def methods(policies: list[AuthorizationPolicy]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Methods (one per cell of the method conditions, OPTIONS always apart) with the header
    combinations that matter: CORS preflight headers on OPTIONS, and any header a policy reads."""
    patterns = [Pattern("exact", "OPTIONS"), *_patterns(policies, ("methods", "notMethods"), "")]
    names = [_readable_method(c.witness, patterns) for c in partition(patterns, ANY_NON_EMPTY)]
    read = _headers_read(policies)
    result = []
    for name in names:
        wanted = dict(read)
        if name == "OPTIONS":
            # a preflight needs both headers non-empty (§A.7), whatever a policy reads of them
            for header in ("origin", "access-control-request-method"):
                values = wanted.get(header, [])
                if all(v == "" for v in values):
                    wanted[header] = [*values, "x"]
        result += [(name, combo) for combo in _header_combinations(wanted)]
    return result


def _readable_method(witness: str, patterns: list[Pattern]) -> str:
    """GET, POST or PUT instead of the shortest witness when one lies in the same cell."""
    cell = signature(patterns, witness)
    return next((m for m in ("GET", "POST", "PUT") if signature(patterns, m) == cell), witness)


def _headers_read(policies: list[AuthorizationPolicy]) -> dict[str, list[str]]:
    """Header name -> witness values of the conditions on it (empty included)."""
    conditions: dict[str, list[Pattern]] = {}
    for policy in policies:
        for rule in policy.rules or ():
            for c in rule.conditions:
                if c.key.startswith("request.headers[") and c.key.endswith("]"):
                    name = c.key[len("request.headers[") : -1].lower()
                    conditions.setdefault(name, []).extend(
                        Pattern.from_istio(v) for v in c.values + c.not_values if v != "*"
                    )
    universe = Pattern("any")
    return {
        name: ["", *(c.witness for c in partition(patterns, universe) if c.witness)]
        for name, patterns in conditions.items()
    }


def _header_combinations(wanted: dict[str, list[str]]) -> list[tuple[tuple[str, str], ...]]:
    names = sorted(wanted)
    options = [[None, *wanted[n]] for n in names]
    return [
        tuple((n, v) for n, v in zip(names, combo, strict=True) if v is not None)
        for combo in product(*options)
    ]


def spare_ports(sides: list[Side], inventory: Inventory) -> tuple[int, int, int]:
    """Three container ports that no resource or workload names."""
    used: set[int] = {p.number for w in inventory.workloads for p in w.ports}
    used |= {p.port for s in inventory.services.values() for p in s.ports}
    for side in sides:
        used |= {p for r in side.beta for p in _ports_named(r)}
    free = [p for p in range(15000, 65536) if p not in used]
    return free[0], free[1], free[2]


def _ports_named(resource: BetaResource) -> set[int]:
    ports = set(dict(getattr(resource, "port_level", ())))
    if isinstance(resource, AuthorizationPolicy):
        for rule in resource.rules or ():
            for op in rule.operations or ():
                for name, values in op.fields:
                    if name in ("ports", "notPorts"):
                        ports |= {int(v) for v in values if is_port_text(v)}
    return ports


def _parts(rule: Rule) -> tuple[Source | Operation, ...]:
    """The sources and operations of a rule."""
    return (*(rule.sources or ()), *(rule.operations or ()))
