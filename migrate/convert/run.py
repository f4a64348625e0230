"""Converting a workspace: every alpha policy to its beta resources.

For each scope (mesh, namespace, or each target's pods) the concerns run in order: mTLS
(`migrate.convert.mtls`), the RequestAuthentication and the DENY policy
(`migrate.convert.jwt`); each module's docstring shows its before and after.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from migrate.convert import jwt as jwt_module
from migrate.convert import mtls
from migrate.convert.jwt import NotExpressible, PortScope, trigger_rule_traps
from migrate.convert.metadata import metadata, resource
from migrate.convert.model import (
    Conversion,
    ConvertOptions,
    NewResource,
    identity,
)
from migrate.convert.names import NameBook, dns_label
from migrate.convert.scopes import (
    Governed,
    TargetScope,
    beta_namespace,
    container_ports,
    governed,
    may_own,
    target_scopes,
)
from migrate.findings import Finding, Location, Severity
from migrate.load.discover import display_path
from migrate.model.alpha import AlphaPolicy, Jwt, Scope
from migrate.model.beta import PROVENANCE, AuthorizationPolicy, PeerAuthentication
from migrate.model.inventory import Inventory, Service, ServicePort
from migrate.model.protocols import may_be_http, unknown_protocol
from migrate.semantics.environment import Environment
from migrate.semantics.side import Settings, Side
from migrate.workspace import PolicyEntry, Workspace


class _ByIssuer:
    """Alpha policies by the issuers of their origins, to find the ones that verify an
    issuer without going through every policy; and by the jwtRule each origin makes, to
    find the ones whose rule for an issuer differs without comparing every pair."""

    def __init__(self, policies: list[AlphaPolicy]) -> None:
        self._by: dict[str, list[AlphaPolicy]] = {}
        self._ids: dict[str, set[int]] = {}
        self._by_rule: dict[tuple[str, str], set[int]] = {}
        self._rules: dict[int, dict[str, Any]] = {}
        self._index = {id(p): (i, p) for i, p in enumerate(policies)}
        for policy in policies:
            for issuer in dict.fromkeys(o.issuer for o in policy.origins):
                self._by.setdefault(issuer, []).append(policy)
                self._ids.setdefault(issuer, set()).add(id(policy))
            # a policy is "alike" for an issuer only when every origin of it says one rule
            said: dict[str, set[str]] = {}
            for origin in policy.origins:
                said.setdefault(origin.issuer, set()).add(_rule_key(self.rule(origin)))
            for issuer, keys in said.items():
                if len(keys) == 1:
                    self._by_rule.setdefault((issuer, keys.pop()), set()).add(id(policy))

    def rule(self, origin: Jwt) -> dict[str, Any]:
        """The jwtRule of an origin, made once."""
        made = self._rules.get(id(origin))
        if made is None:
            made = self._rules[id(origin)] = jwt_module.jwt_rule(origin)
        return made

    def get_many(self, issuers: Iterable[str]) -> list[AlphaPolicy]:
        """Policies with an origin for any of `issuers`, each once, in index order."""
        found: dict[int, AlphaPolicy] = {}
        for issuer in issuers:
            found.update((id(p), p) for p in self._by.get(issuer, ()))
        return list(found.values())

    def differing(self, rules: dict[str, dict[str, Any]]) -> list[AlphaPolicy]:
        """`get_many(rules)` without the policies whose every origin for each of those
        issuers makes the same rule as `rules` gives (they cannot clash), in its order."""
        odd: set[int] = set()
        for issuer, rule in rules.items():
            alike = self._by_rule.get((issuer, _rule_key(rule)), set())
            odd |= self._ids.get(issuer, set()) - alike
        issuers = list(rules)

        def place(key: int) -> tuple[int, int]:  # where get_many would list it
            first = next(n for n, i in enumerate(issuers) if key in self._ids.get(i, ()))
            return first, self._index[key][0]

        return [self._index[key][1] for key in sorted(odd, key=place)]


def _rule_key(rule: dict[str, Any]) -> str:
    """A rule as text: equal texts for equal rules (a rule whose text differs is compared)."""
    return json.dumps(rule, sort_keys=True)


class _Context:
    """What every conversion step needs: options, the Istio it must hold on, inventory,
    precedence, names, output."""

    def __init__(
        self, workspace: Workspace, options: ConvertOptions, environment: Environment
    ) -> None:
        self.options = options
        self.environment = environment
        self.releases = environment.releases
        self.inventory: Inventory = workspace.inventory
        self.root = workspace.root_namespace
        self.side = Side.build(
            Settings(release=self.releases[0], root_namespace=self.root), workspace.alpha, []
        )
        self.names = NameBook(
            {(r.meta.kind, r.meta.namespace, r.meta.name) for r in workspace.beta}
        )
        self.peers: dict[tuple[str, tuple[tuple[str, str], ...]], NewResource] = {}
        self.peer_parts: dict[
            tuple[str, tuple[tuple[str, str], ...]], list[tuple[bool, str, tuple[int, ...]]]
        ] = {}
        """What each policy merged into a workload PeerAuthentication asked for."""
        self.existing_peers = [r for r in workspace.beta if isinstance(r, PeerAuthentication)]
        self.issuers = _ByIssuer(self.side.alpha)
        self.twins: dict[tuple[str, str, str], list[NewResource]] = {}
        """What the first of several identical definitions became, for the others."""
        self.moot: dict[str, str] = {}
        """Policies whose mTLS a PeerAuthentication already in the inputs overrides."""
        self.superseded: dict[tuple[str, str, str], list[PolicyEntry]] | None = None
        """Definitions a later one replaced, by kind, namespace and name (made when first
        asked for: most repositories have none)."""
        self.tcp_only: dict[str | None, tuple[int, ...]] = {}
        """`_tcp_only_ports` by namespace (None: the mesh); the inventory does not change."""
        self.conversion = Conversion()


def convert_workspace(
    workspace: Workspace,
    options: ConvertOptions | None = None,
    environment: Environment | None = None,
    *,
    translated: Mapping[str, str | None] | None = None,
) -> Conversion:
    """Convert every alpha policy of the workspace that can be converted, so that the result
    is no looser on any release and with any sniffing setting `environment` leaves open;
    report the rest. A policy an overlay patches is converted only when `translated` maps
    it to None (its patches become patches of the new resources), else left (AM413)."""
    context = _Context(workspace, options or ConvertOptions(), environment or Environment())
    for entry in workspace.policies:
        reason = _skip_reason(entry, context.options)
        if reason:
            _refuse(context, entry, "AM401", reason, Severity.WARNING)
            continue
        assert entry.policy is not None
        if entry.rivals:
            _refuse(
                context,
                entry,
                "AM402",
                f"{entry.ref} not converted: it is also defined at "
                + ", ".join(str(r) for r in entry.rivals)
                + "; which file is applied last is not set by the inputs, so either may be "
                "in force. Keep one definition, then convert",
                Severity.ERROR,
            )
            continue
        patched = _patched_by(workspace, entry, translated)
        if patched is not None:
            context.conversion.findings.append(patched)
            continue
        twin = context.twins.get(identity(entry)) if entry.twins else None
        if twin is not None:
            _convert_alike(context, workspace, entry, twin)
            continue
        try:
            made = _convert(context, entry, entry.policy)
        except NotExpressible as exc:
            _refuse(context, entry, "AM402", f"{entry.ref} not converted: {exc}", Severity.ERROR)
            continue
        if not made and not _merged(context, entry):
            why = (
                f"its mTLS gives way to {context.moot[entry.ref]}, which applies to its pods "
                "(a PeerAuthentication overrides v1alpha1 mTLS, docs/semantics.md §C)"
                if entry.ref in context.moot
                else "it governs no port of the Services it names"
            )
            _refuse(
                context,
                entry,
                "AM401",
                f"{entry.ref} has no effect: {why}, so it is left as it is",
                Severity.WARNING,
            )
            continue
        context.conversion.resources.extend(made)
        context.conversion.converted.append(entry)
        context.twins[identity(entry)] = made
        _remove_shadowed(context, workspace, entry)
        context.conversion.findings.extend(trigger_rule_traps(entry.policy))
        context.conversion.findings.extend(
            Finding(
                "AM409",
                Severity.WARNING,
                f"origin {origin.issuer!r} has neither jwks nor jwksUri, and Istio fetched no "
                "keys for a MeshPolicy, so no token ever verified: where it triggered, every "
                "request was refused. The DENY policy keeps refusing them, and no jwtRule is "
                "written (from 1.5.1 one without keys would fetch them by OpenID discovery)",
                origin.location,
                resource=entry.ref,
            )
            for origin in entry.policy.origins
            if jwt_module.keyless(entry.policy, origin)
        )
        context.conversion.findings.extend(_principal_binding(workspace, entry, entry.policy))
        if entry.policy.peer_is_optional:
            context.conversion.findings.append(
                Finding(
                    "AM405",
                    Severity.NOTE,
                    "peerIsOptional has no v1beta1 equivalent; the mode is kept as it was (it only "
                    "mattered for peers of another trust domain, docs/semantics.md §D.12; "
                    "PERMISSIVE would admit plaintext)",
                    entry.document.origin.location,
                    resource=entry.ref,
                )
            )
        if context.options.allow_stricter:
            context.conversion.findings.extend(
                Finding(
                    "AM404",
                    Severity.WARNING,
                    f"trigger-rule regex {match.value!r} has no exact AuthorizationPolicy "
                    f"form; a token is now required on the wider {cover}",
                    match.location,
                    resource=entry.ref,
                )
                for match, cover in jwt_module.covered_regexes(entry.policy)
            )
    _keep_narrower_in_force(context)
    return context.conversion


def _convert_alike(
    context: _Context, workspace: Workspace, entry: PolicyEntry, twin: list[NewResource]
) -> None:
    """A definition another file holds word for word (an environment's copy) becomes the same
    resources, with the same names, in its own file."""
    made = [NewResource(copy.deepcopy(n.data), entry, n.moves) for n in twin]
    context.conversion.resources.extend(made)
    context.conversion.converted.append(entry)
    _remove_shadowed(context, workspace, entry)


def _remove_shadowed(context: _Context, workspace: Workspace, entry: PolicyEntry) -> None:
    """AM408: the earlier definitions `entry` replaces in its own file go with it."""
    key = (entry.document.kind, entry.namespace, entry.document.name)
    if context.superseded is None:
        context.superseded = {}
        for other in workspace.policies:
            if other.superseded:
                found = (other.document.kind, other.namespace, other.document.name)
                context.superseded.setdefault(found, []).append(other)
    for other in context.superseded.get(key, ()):
        if other.document.origin.path == entry.document.origin.path:
            context.conversion.removed.append(other)
            context.conversion.findings.append(
                Finding(
                    "AM408",
                    Severity.NOTE,
                    f"{other.ref} at {other.document.origin.location} is removed: the "
                    f"definition at {entry.document.origin.location} replaced it, so Istio "
                    "never applied it",
                    other.document.origin.location,
                    resource=other.ref,
                )
            )


def _skip_reason(entry: PolicyEntry, options: ConvertOptions) -> str:
    policy = entry.policy
    if policy is None:
        return f"{entry.ref} is not converted: it does not pass validation"
    rejected = [f for f in entry.findings if f.severity is Severity.ERROR]
    if rejected and not (options.include_ignored and all(_name_rule(f) for f in rejected)):
        return (
            f"{entry.ref} is not converted: Istio's validation rejects it ({rejected[0].message})"
        )
    if entry.superseded:
        return f"{entry.ref} is left as it is: a later definition in the inputs replaces it"
    if entry.embedded_in is not None:
        return (
            f"{entry.ref} is embedded as text in ConfigMap {entry.embedded_in.name!r}; "
            "convert it where it is applied"
        )
    if policy.kind == "MeshPolicy" and policy.name != "default" and not options.include_ignored:
        return (
            f"{entry.ref} is ignored by Istio; converting it would create enforcement that "
            "does not exist today (--include-ignored converts it)"
        )
    if (
        policy.scope is Scope.NAMESPACE
        and policy.name != "default"
        and not (options.include_ignored)
    ):
        return (
            f"{entry.ref} is refused by Istio's validation (a namespace-wide policy must be "
            "named 'default'); --include-ignored converts it as its author intended"
        )
    return ""


def _principal_binding(
    workspace: Workspace, entry: PolicyEntry, policy: AlphaPolicy
) -> list[Finding]:
    """§D.11: what `request.auth.principal` means after the migration, and who reads it."""
    if not policy.origins:
        return []
    readers = sorted(
        r.meta.ref
        for r in workspace.beta
        if isinstance(r, AuthorizationPolicy)
        and r.meta.namespace in (policy.namespace, workspace.root_namespace)
        and _reads_request_principal(r)
    )
    using = ", ".join(readers) if readers else "no AuthorizationPolicy in the inputs"
    if policy.principal_binding == "USE_ORIGIN":
        message = (
            f"principalBinding USE_ORIGIN: request.auth.principal stays the token's "
            f"iss/sub after the migration; read by {using}"
        )
        severity = Severity.NOTE
    else:
        message = (
            f"principalBinding USE_PEER: request.auth.principal was the peer identity "
            f"and becomes the token's iss/sub; read by {using}"
        )
        severity = Severity.WARNING if readers else Severity.NOTE
    return [Finding("AM403", severity, message, entry.document.origin.location, resource=entry.ref)]


def _reads_request_principal(policy: AuthorizationPolicy) -> bool:
    for rule in policy.rules or ():
        for source in rule.sources or ():
            if any(
                name in ("requestPrincipals", "notRequestPrincipals") for name, _ in source.fields
            ):
                return True
        if any(c.key == "request.auth.principal" for c in rule.conditions):
            return True
    return False


def _merged(context: _Context, entry: PolicyEntry) -> bool:
    """True when the entry's settings were merged into another policy's PeerAuthentication."""
    annotation = PROVENANCE
    return any(
        entry.ref in new.data["metadata"]["annotations"].get(annotation, "").split(", ")
        for new in context.peers.values()
    )


def _name_rule(finding: Finding) -> bool:
    """The webhook's naming rule, which --include-ignored overrides on purpose."""
    return finding.code == "AM103" and 'must be named "default"' in finding.message


def _keep_narrower_in_force(context: _Context) -> None:
    """Undo the conversion of a policy whose new resources would select pods that a policy
    left unconverted (AM402) governs: in Istio 1.5 a PeerAuthentication replaces the mTLS of
    every port of the pods it selects, and a RequestAuthentication the required JWT (§C),
    where alpha let the narrower policy win (§A.5) or gave another port to another policy.
    Repeated until nothing changes (a namespace policy undone keeps the mesh policy from
    converting)."""
    conversion = context.conversion
    left = {f.resource for f in conversion.findings if f.code in ("AM402", "AM413")}
    by_ref: dict[str, list[AlphaPolicy]] = {}
    for alpha in context.side.alpha:
        by_ref.setdefault(alpha.ref, []).append(alpha)
    unconverted = [p for ref in left for p in by_ref.get(ref, ())]
    changed = True
    while changed:
        changed = False
        for entry in list(conversion.converted):
            policy = entry.policy
            if policy is None:
                continue
            kept = sorted(
                p.ref
                for p in unconverted
                if p is not policy
                and (_narrower(p, policy) or _shares_workloads(context, policy, p))
            )
            if not kept:
                continue
            context.conversion = conversion = conversion.without([entry])
            _refuse(
                context,
                entry,
                "AM402",
                f"{entry.ref} not converted: {', '.join(kept)} in its scope is left "
                "unconverted, and in Istio 1.5 the new resources would replace its mTLS and "
                "JWT requirement there (a PeerAuthentication or RequestAuthentication "
                "overrides v1alpha1, docs/semantics.md §C); convert that policy first",
                Severity.ERROR,
            )
            if entry.ref not in left:
                left.add(entry.ref)
                unconverted += by_ref.get(entry.ref, ())
            changed = True


def _shares_workloads(context: _Context, policy: AlphaPolicy, other: AlphaPolicy) -> bool:
    """True when `other` governs a Service port of the pods a service policy's resources
    select (its targets' pods, shown or labelled as their selectors)."""
    if policy.scope is not Scope.SERVICE:
        return False
    inventory = context.inventory
    for target in policy.targets:
        service = inventory.service(policy.namespace, target.name)
        if service is None or not service.selector:
            continue
        for front, port in _ports_in_front(inventory, policy.namespace, service.selector):
            owner = context.side.alpha_policy(front.namespace, front.name, port.port, port.name)
            if owner is other:
                return True
    return False


def _ports_in_front(
    inventory: Inventory, namespace: str, selector: dict[str, str]
) -> Iterator[tuple[Service, ServicePort]]:
    """Every port of the Services in front of the pods `selector` picks (of pods labelled as
    the selector when the inputs hold none of them)."""
    pods = [w.labels for w in inventory.selected(namespace, selector)]
    for labels in pods or [selector]:
        for front in inventory.fronting(namespace, labels):
            for port in front.ports:
                yield front, port


def _patched_by(
    workspace: Workspace, entry: PolicyEntry, translated: Mapping[str, str | None] | None
) -> Finding | None:
    """AM413, at the patch, when an overlay patches the policy and its patches are not
    translated (`translated` maps a policy to None when they are, else to why not):
    replaced by new resources, the patch would have no target and the overlay would no
    longer build (nor would the environment keep the patched fields)."""
    patches = workspace.patches_of(entry)
    if not patches:
        return None
    why = translated.get(entry.ref, "") if translated is not None else ""
    if why is None:
        return None
    first = patches[0]
    named = ", ".join(
        f"{display_path(p.file) if p.file is not None else p.location} ({p.style})" for p in patches
    )
    reason = (
        f"its patches cannot be made patches of the new resources: {why}"
        if why
        else "its replacement would leave the patch without a target (the overlay would no "
        "longer build, or would lose what the patch sets); rewrite the patch for the new "
        "resources, then convert it"
    )
    return Finding(
        "AM413",
        Severity.ERROR,
        f"{entry.ref} not converted: the overlay patch {named} patches it, and {reason}",
        Location(display_path(first.file)) if first.file is not None else first.location,
        resource=entry.ref,
        related=(entry.document.origin.location,),
    )


def _refuse(
    context: _Context, entry: PolicyEntry, code: str, message: str, severity: Severity
) -> None:
    context.conversion.findings.append(
        Finding(code, severity, message, entry.document.origin.location, resource=entry.ref)
    )


def _convert(context: _Context, entry: PolicyEntry, policy: AlphaPolicy) -> list[NewResource]:
    if policy.scope is Scope.SERVICE:
        return _convert_service(context, entry, policy)
    namespace = beta_namespace(policy, context.root)
    if policy.scope is Scope.NAMESPACE and namespace == context.root:
        raise NotExpressible(
            f"a namespace-wide policy in the root namespace {namespace!r} would become "
            "mesh-wide in v1beta1; move it to a MeshPolicy, or narrow it to its workloads"
        )
    faithful = context.options.faithful_disable
    if context.options.expand_scopes and policy.origins:
        made = _scope_resources(
            context,
            entry,
            policy,
            namespace=namespace,
            scope=None,
            peer_spec=mtls.namespace_spec(policy, faithful=faithful),
            ports=PortScope(),
            base=policy.name,
            jwt=False,
        )
        return made + _expanded(context, entry, policy)
    _check_merge(context, policy)
    ports = PortScope(
        not_ports=_tcp_only_ports(context, None if policy.scope is Scope.MESH else namespace)
    )
    return _scope_resources(
        context,
        entry,
        policy,
        namespace=namespace,
        scope=None,
        peer_spec=mtls.namespace_spec(policy, faithful=faithful),
        ports=ports,
        base=policy.name,
    )


def _check_merge(context: _Context, policy: AlphaPolicy) -> None:
    """A RequestAuthentication applies to every port of the pods it selects, and beta merges
    the jwtRules of all that apply (§B.3, §D.2): where another alpha policy governed (a
    narrower one inside a mesh or namespace policy's scope, or another port of a service
    policy's pods), a rule for an issuer both verify would accept tokens the other refused
    (other keys, token places or audiences). Such a policy is left alone (a mesh or namespace
    policy can take --expand-scopes, which writes per-Service rules instead)."""
    issuers = context.issuers
    mine = {o.issuer: issuers.rule(o) for o in policy.origins if not jwt_module.keyless(policy, o)}
    if not mine:
        return
    for other in issuers.differing(mine):
        if other is policy:
            continue
        clashes = [
            o for o in other.origins if o.issuer in mine and mine[o.issuer] != issuers.rule(o)
        ]
        if not clashes:
            continue
        if policy.scope is Scope.SERVICE:
            if not _shares_workloads(context, policy, other):
                continue
        elif not _narrower(other, policy):
            continue
        raise NotExpressible(
            f"{other.ref} also accepts tokens of {clashes[0].issuer!r}, with other keys, "
            "token places or audiences, on pods this policy's RequestAuthentication "
            "would select; v1beta1 merges every RequestAuthentication that applies to "
            f"a pod, so this policy's rule would accept tokens there that {other.ref} "
            "refused (make the two rules alike"
            + (", or use --expand-scopes)" if policy.scope is not Scope.SERVICE else ")")
        )


def _narrower(other: AlphaPolicy, policy: AlphaPolicy) -> bool:
    """True when `other` replaces `policy` where it applies (alpha never merges, §A.5)."""
    if policy.scope is Scope.MESH:
        return other.scope is not Scope.MESH
    return other.scope is Scope.SERVICE and other.namespace == policy.namespace


def _expanded(context: _Context, entry: PolicyEntry, policy: AlphaPolicy) -> list[NewResource]:
    """--expand-scopes: the JWT rules of a namespace or mesh policy as per-Service resources,
    on exactly the ports where it is the policy Istio applies. Exact for the pods the inputs
    show; pods added later are not covered, which the proof reports as looser."""
    made: list[NewResource] = []
    inventory = context.inventory
    namespaces = (
        [policy.namespace]
        if policy.scope is Scope.NAMESPACE
        else sorted({ns for ns, _ in inventory.services})
    )
    for namespace in namespaces:
        for service in inventory.services_in(namespace):
            if not service.selector:
                continue
            won = tuple(
                governed(service, port, inventory, context.releases)
                for port in service.ports
                if context.side.alpha_policy(namespace, service.name, port.port, port.name)
                is policy
            )
            if not won:
                continue
            scope = TargetScope(service, dict(service.selector), won, all_ports=False)
            context.conversion.findings += _listener_notes(context, entry, scope)
            http = _http_ports(context, won)
            made += _scope_resources(
                context,
                entry,
                policy,
                namespace=namespace,
                scope=scope,
                peer_spec=None,
                ports=PortScope(ports=http),
                base=f"{policy.name}-{service.name}",
            )
    return made


def _convert_service(
    context: _Context, entry: PolicyEntry, policy: AlphaPolicy
) -> list[NewResource]:
    if policy.namespace == context.root:
        raise NotExpressible(
            f"Istio ignores a PeerAuthentication with a selector in the root namespace "
            f"{context.root!r} (docs/semantics.md §B.2), and a RequestAuthentication or "
            "AuthorizationPolicy there would apply to matching pods of every namespace"
        )
    for target in policy.targets:
        service = context.inventory.service(policy.namespace, target.name)
        if service is None:
            raise NotExpressible(
                f"Service {policy.namespace}/{target.name} is not in the inputs; "
                "add its manifest or pass it with --inventory"
            )
        if not service.selector:
            raise NotExpressible(
                f"Service {policy.namespace}/{target.name} has no selector, so "
                "its pods cannot be selected"
            )
    _check_merge(context, policy)
    made: list[NewResource] = []
    for scope in target_scopes(policy, context.side, context.inventory, context.releases):
        _check_ports(scope)
        context.conversion.findings += _listener_notes(context, entry, scope)
        spec = mtls.workload_spec(policy, scope, faithful=context.options.faithful_disable)
        http = _http_ports(context, scope.governed)
        made += _scope_resources(
            context,
            entry,
            policy,
            namespace=policy.namespace,
            scope=scope,
            peer_spec=spec,
            ports=PortScope(ports=http),
            base=f"{policy.name}-{scope.service.name}",
            jwt=bool(http),  # alpha JWT ran only on HTTP ports (§A.6)
        )
    return made


def _check_ports(scope: TargetScope) -> None:
    for g in scope.governed:
        if not g.container_ports:
            raise NotExpressible(
                f"targetPort {g.port.target_port!r} of Service "
                f"{scope.service.namespace}/{scope.service.name} port {g.port.port} is "
                "declared by no container of its pods; add the workload (--inventory)"
            )


def _scope_resources(
    context: _Context,
    entry: PolicyEntry,
    policy: AlphaPolicy,
    *,
    namespace: str,
    scope: TargetScope | None,
    peer_spec: dict[str, Any] | None,
    ports: PortScope,
    base: str,
    jwt: bool = True,
) -> list[NewResource]:
    api = context.options.api_version
    selector = {"selector": {"matchLabels": dict(scope.selector)}} if scope else {}
    made: list[NewResource] = []
    overriding = _peer_in_force(context, namespace, scope) if peer_spec is not None else None
    if overriding is not None:
        context.moot[entry.ref] = overriding
    elif peer_spec is not None:
        made += _peer_authentication(
            context, entry, namespace=namespace, scope=scope, spec=peer_spec, base=base
        )
        made += _client_rule(context, entry, policy, namespace=namespace, scope=scope, base=base)
    if not jwt:
        return made
    rules = jwt_module.jwt_rules(policy)
    if rules:
        name = context.names.claim("RequestAuthentication", namespace, dns_label(base))
        made.append(
            NewResource(
                resource(
                    api,
                    "RequestAuthentication",
                    metadata(entry, name, namespace),
                    {**selector, "jwtRules": rules},
                ),
                entry,
                _jwt_moves(policy),
            )
        )
    deny = jwt_module.deny_rules(
        policy,
        ports,
        allow_stricter=context.options.allow_stricter,
        raw_query=any(not r.strip_query for r in context.releases),
    )
    if deny:
        name = context.names.claim("AuthorizationPolicy", namespace, dns_label(base, "require-jwt"))
        made.append(
            NewResource(
                resource(
                    api,
                    "AuthorizationPolicy",
                    metadata(entry, name, namespace),
                    {**selector, "action": "DENY", "rules": deny},
                ),
                entry,
                _deny_moves(policy),
            )
        )
    return made


def _client_rule(
    context: _Context,
    entry: PolicyEntry,
    policy: AlphaPolicy,
    *,
    namespace: str,
    scope: TargetScope | None,
    base: str,
) -> list[NewResource]:
    """--faithful-disable: the DestinationRule that keeps clients from sending mTLS."""
    if not context.options.faithful_disable:
        return []
    rule = mtls.client_rule(policy, scope, namespace, context.root)
    if rule is None:
        return []
    name = context.names.claim("DestinationRule", namespace, dns_label(base, "plaintext"))
    data = resource(
        "networking.istio.io/v1alpha3", "DestinationRule", metadata(entry, name, namespace), rule[1]
    )
    return [NewResource(data, entry)]


def _peer_in_force(context: _Context, namespace: str, scope: TargetScope | None) -> str | None:
    """A PeerAuthentication already in the inputs that applies to every pod of the scope: in
    Istio 1.5 it overrides the alpha policy's mTLS there (§C), so converting that mTLS
    would change what is enforced. Its ref, or None."""
    root = context.root
    for peer in context.existing_peers:
        meta = peer.meta
        if not meta.selector and meta.namespace in (root, namespace):
            return meta.ref
    if scope is None:
        return None
    pods = [w.labels for w in context.inventory.selected(namespace, scope.selector)]
    for peer in context.existing_peers:
        meta = peer.meta
        if meta.selector and meta.namespace == namespace and namespace != root:
            wanted = meta.selector.items()
            if all(
                all(labels.get(k) == v for k, v in wanted) for labels in pods or [scope.selector]
            ):
                return meta.ref
    return None


def _peer_authentication(
    context: _Context,
    entry: PolicyEntry,
    *,
    namespace: str,
    scope: TargetScope | None,
    spec: dict[str, Any],
    base: str,
) -> list[NewResource]:
    """One PeerAuthentication per namespace or selector: a second policy for the same pods
    merges into the first, since beta applies only the oldest (§B.2). Where two policies
    set one container port (its listener may be built by either Service port, §F), the
    stricter mode is kept."""
    key = (namespace, tuple(sorted(scope.selector.items())) if scope else ())
    existing = context.peers.get(key)
    if scope is not None:
        ports = tuple(sorted({p for g in scope.governed for p in g.owned}))
        parts = context.peer_parts.setdefault(key, [])
        parts.append(
            (
                "mtls" in spec,
                _mode_of(spec),
                ports or tuple(int(p) for p in spec.get("portLevelMtls", {})),
            )
        )
        parts += _bystanders(context, entry, scope)
        spec = _merged_peer_spec(spec["selector"], parts)
    if existing is not None:
        if scope is not None:
            existing.data["spec"] = spec
        annotations = existing.data["metadata"]["annotations"]
        annotations[PROVENANCE] += f", {entry.ref}"
        return []
    name = context.names.claim("PeerAuthentication", namespace, dns_label(base))
    new = NewResource(
        resource(
            context.options.api_version,
            "PeerAuthentication",
            metadata(entry, name, namespace),
            dict(spec),
        ),
        entry,
        _peer_moves(entry.policy, spec),
    )
    context.peers[key] = new
    return [new]


def _bystanders(
    context: _Context, entry: PolicyEntry, scope: TargetScope
) -> list[tuple[bool, str, tuple[int, ...]]]:
    """The modes other alpha policies give the container ports of the same pods that other
    Service ports may build the listener of: a workload PeerAuthentication covers every port
    of its pods (§B.2), where alpha let each Service port's own policy decide (§A.5, §F), so
    those ports keep their own mode (the stricter one where two policies may build it)."""
    found: list[tuple[bool, str, tuple[int, ...]]] = []
    service = scope.service
    inventory = context.inventory
    faithful = context.options.faithful_disable
    for front, port in _ports_in_front(inventory, service.namespace, scope.selector):
        other = context.side.alpha_policy(front.namespace, front.name, port.port, port.name)
        if other is None or other is entry.policy:
            continue
        numbers = tuple(
            n
            for n in container_ports(front, port, inventory)
            if may_own(front, port, n, inventory, context.releases)
        )
        if numbers:
            found.append((False, mtls.mode(other, faithful=faithful), numbers))
    return found


_STRICTNESS = {"STRICT": 2, "PERMISSIVE": 1, "DISABLE": 0}


def _mode_of(spec: dict[str, Any]) -> str:
    if "mtls" in spec:
        return str(spec["mtls"]["mode"])
    levels: dict[str, dict[str, str]] = spec.get("portLevelMtls", {})
    return next((level["mode"] for level in levels.values()), "PERMISSIVE")


def _merged_peer_spec(
    selector: dict[str, Any], parts: list[tuple[bool, str, tuple[int, ...]]]
) -> dict[str, Any]:
    """The PeerAuthentication of several policies' contributions (whole workload or not,
    mode, container ports): the workload mode is the strictest whole-workload one; a port
    gets its own entry when the strictest mode of the policies that set it differs."""
    spec: dict[str, Any] = {"selector": selector}
    whole = [mode for everywhere, mode, _ in parts if everywhere]
    workload = max(whole, key=_STRICTNESS.__getitem__) if whole else None
    if workload is not None:
        spec["mtls"] = {"mode": workload}
    by_port: dict[int, list[str]] = {}
    for _, mode, ports in parts:
        for port in ports:
            by_port.setdefault(port, []).append(mode)
    levels = {
        str(port): {"mode": mode}
        for port, modes in sorted(by_port.items())
        if (mode := max(modes, key=_STRICTNESS.__getitem__)) != workload
    }
    if levels:
        spec["portLevelMtls"] = levels
    return spec


def _peer_moves(
    policy: AlphaPolicy | None, spec: dict[str, Any]
) -> tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...]:
    if policy is None or policy.mtls_peer is None or "mtls" not in spec:
        return ()
    index = next(i for i, p in enumerate(policy.peers) if p.method == "mtls")
    return (
        (("spec", "peers", index, "mtls", "mode"), ("spec", "mtls", "mode")),
        (("spec", "peers", index, "mtls"), ("spec", "mtls", "mode")),
        (("spec", "peers"), ("spec", "mtls")),
    )


def _jwt_moves(
    policy: AlphaPolicy,
) -> tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...]:
    moves: list[tuple[tuple[str | int, ...], tuple[str | int, ...]]] = []
    for index in range(len(policy.origins)):
        old = ("spec", "origins", index, "jwt")
        new = ("spec", "jwtRules", index)
        moves.append(((*old, "issuer"), (*new, "issuer")))
        moves += [((*old, k), (*new, "jwksUri")) for k in ("jwksUri", "jwks_uri")]
        moves.append(((*old, "audiences"), (*new, "audiences")))
    return tuple(moves)


def _deny_moves(
    policy: AlphaPolicy,
) -> tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...]:
    """Trigger-rule paths go to the DENY rule's paths and notPaths (one rule per trigger rule,
    in order, for the first origin, whose rules the DENY policy follows)."""
    moves: list[tuple[tuple[str | int, ...], tuple[str | int, ...]]] = [
        (("spec", "principalBinding"), ("spec", "action"))
    ]
    if not policy.origins:
        return tuple(moves)
    old = ("spec", "origins", 0, "jwt")
    for key in ("triggerRules", "trigger_rules"):
        for r, rule in enumerate(policy.origins[0].trigger_rules):
            new = ("spec", "rules", r, "to", 0, "operation")
            for spelled, target, matches in (
                ("excludedPaths", "notPaths", rule.excluded),
                ("excluded_paths", "notPaths", rule.excluded),
                ("includedPaths", "paths", rule.included),
                ("included_paths", "paths", rule.included),
            ):
                for k in range(len(matches)):
                    here, there = (*old, key, r, spelled, k), (*new, target, k)
                    moves.append((here, there))
                    moves += [
                        ((*here, how), there) for how in ("exact", "prefix", "suffix", "regex")
                    ]
    return tuple(moves)


def _tcp_only_ports(context: _Context, namespace: str | None) -> tuple[int, ...]:
    """Container ports that only TCP Service ports reach, in a namespace or the whole mesh:
    a namespace- or mesh-wide DENY stays off them, since its HTTP-only conditions would be
    dropped there (§D.5c). A port whose protocol is left to sniffing may carry HTTP, and
    unknown ports may too, so they stay covered and nothing gets looser."""
    known = context.tcp_only
    if not known:
        http: dict[str | None, set[int]] = {None: set()}
        tcp: dict[str | None, set[int]] = {None: set()}
        for (space, _), service in context.inventory.services.items():
            for port in service.ports:
                maybe = may_be_http(port, context.releases, context.environment.sniffing)
                reached = container_ports(service, port, context.inventory)
                for where in (None, space):
                    (http if maybe else tcp).setdefault(where, set()).update(reached)
        known.update({where: tuple(sorted(tcp[where] - http.get(where, set()))) for where in tcp})
        known.setdefault(None, ())
    return known.get(namespace, ())


def _http_ports(context: _Context, won: tuple[Governed, ...]) -> tuple[int, ...]:
    """Container ports whose listener a governed Service port may build with an HTTP chain
    (alpha JWT ran only there, §A.6), on any release and sniffing setting considered."""
    sniffing = context.environment.sniffing
    return tuple(
        sorted(
            {
                number
                for g in won
                if may_be_http(g.port, context.releases, sniffing)
                for number in g.owned
            }
        )
    )


def _listener_notes(context: _Context, entry: PolicyEntry, scope: TargetScope) -> list[Finding]:
    """AM406 for a governed port whose protocol sniffing decides, AM407 for a container port
    whose listener another Service port builds, or may build, instead."""
    found = []
    service = scope.service
    for g in scope.governed:
        where = f"Service {service.namespace}/{service.name} port {g.port.port}"
        if (
            entry.policy is not None
            and entry.policy.origins
            and context.environment.sniffing is None
            and unknown_protocol(g.port, context.releases)
            and g.owned
        ):
            found.append(
                Finding(
                    "AM406",
                    Severity.WARNING,
                    f"{where} ({g.port.name or 'unnamed'}) has no protocol Istio recognises: "
                    "with inbound sniffing on, HTTP requests to it took the JWT check, so the "
                    f"DENY policy covers container port(s) {_numbers(g.owned)}; with sniffing "
                    "off, that closes them to every connection. Name the port http-... or "
                    "tcp-..., set appProtocol, or give --inbound-sniffing",
                    entry.document.origin.location,
                    resource=entry.ref,
                )
            )
        lost = sorted(set(g.container_ports) - set(g.owned))
        rivals = _rival_owners(context, g)
        if lost or rivals:
            found.append(
                Finding(
                    "AM407",
                    Severity.WARNING if rivals else Severity.NOTE,
                    f"{where} shares container port(s) {_numbers(sorted(g.container_ports))} "
                    "with "
                    + (", ".join(rivals) if rivals else "an earlier Service port")
                    + (
                        f": the listener of {_numbers(lost)} is built by that port, so this "
                        "policy never applied there"
                        if lost
                        else ": Istio builds one listener per container port and the inputs "
                        "do not say which Service port builds it, so the conversion keeps the "
                        "strictest of their policies there"
                    ),
                    entry.document.origin.location,
                    resource=entry.ref,
                )
            )
    return found


def _rival_owners(context: _Context, g: Governed) -> list[str]:
    """Other Service ports that may build the listener of a container port `g` may build."""
    found: dict[str, None] = {}
    service = g.service
    for number in g.owned:
        for other in context.inventory.services_in(service.namespace):
            if other is service or not other.selector or not _shares_pods(service, other, context):
                continue
            for port in other.ports:
                if number in container_ports(other, port, context.inventory) and may_own(
                    other, port, number, context.inventory, context.releases
                ):
                    found[f"Service {other.namespace}/{other.name} port {port.port}"] = None
    return list(found)


def _shares_pods(first: Service, second: Service, context: _Context) -> bool:
    """True when some pod (shown, or labelled as `first` selects) is behind both Services."""
    wanted = second.selector or {}
    pods = context.inventory.selected(first.namespace, first.selector or {})
    labels = [p.labels for p in pods] or [first.selector or {}]
    return any(all(found.get(k) == v for k, v in wanted.items()) for found in labels)


def _numbers(ports: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(p) for p in ports)
