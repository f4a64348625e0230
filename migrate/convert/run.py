"""Converting a workspace: every alpha policy to its beta resources.

For each scope (mesh, namespace, or each target's pods) the concerns run in order: mTLS
(`migrate.convert.mtls`), the RequestAuthentication and the DENY policy
(`migrate.convert.jwt`); each module's docstring shows its before and after.
"""

from __future__ import annotations

from typing import Any

from migrate.convert import jwt as jwt_module
from migrate.convert import mtls
from migrate.convert.jwt import NotExpressible, PortScope, trigger_rule_traps
from migrate.convert.metadata import metadata, resource
from migrate.convert.model import PROVENANCE, Conversion, ConvertOptions, NewResource
from migrate.convert.names import NameBook, dns_label
from migrate.convert.scopes import (
    Governed,
    TargetScope,
    beta_namespace,
    container_ports,
    target_scopes,
)
from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy, Scope
from migrate.model.beta import AuthorizationPolicy
from migrate.model.inventory import Inventory
from migrate.semantics.side import Settings, Side
from migrate.workspace import PolicyEntry, Workspace


class _Context:
    """What every conversion step needs: options, inventory, precedence, names, output."""

    def __init__(self, workspace: Workspace, options: ConvertOptions) -> None:
        self.options = options
        self.inventory: Inventory = workspace.inventory
        self.root = workspace.root_namespace
        self.side = Side.build(Settings(root_namespace=self.root), workspace.alpha, [])
        self.names = NameBook(
            {(r.meta.kind, r.meta.namespace, r.meta.name) for r in workspace.beta}
        )
        self.peers: dict[tuple[str, tuple[tuple[str, str], ...]], NewResource] = {}
        self.conversion = Conversion()


def convert_workspace(workspace: Workspace, options: ConvertOptions | None = None) -> Conversion:
    """Convert every alpha policy of the workspace that can be converted; report the rest."""
    context = _Context(workspace, options or ConvertOptions())
    for entry in workspace.policies:
        reason = _skip_reason(entry, context.options)
        if reason:
            _refuse(context, entry, "AM401", reason, Severity.WARNING)
            continue
        assert entry.policy is not None
        try:
            made = _convert(context, entry, entry.policy)
        except NotExpressible as exc:
            _refuse(context, entry, "AM402", f"{entry.ref} not converted: {exc}", Severity.ERROR)
            continue
        if not made and not _merged(context, entry):
            _refuse(
                context,
                entry,
                "AM401",
                f"{entry.ref} has no effect: it governs no port of "
                "the Services it names, so it is left as it is",
                Severity.WARNING,
            )
            continue
        context.conversion.resources.extend(made)
        context.conversion.converted.append(entry)
        context.conversion.findings.extend(trigger_rule_traps(entry.policy))
        context.conversion.findings.extend(_principal_binding(workspace, entry, entry.policy))
        if entry.policy.peer_is_optional:
            context.conversion.findings.append(
                Finding(
                    "AM405",
                    Severity.NOTE,
                    "peerIsOptional has no v1beta1 equivalent; the mode is kept as it was (it only "
                    "mattered for peers of another trust domain, §D.12; PERMISSIVE would admit "
                    "plaintext)",
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
    return context.conversion


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
    ports = PortScope(
        not_ports=_tcp_only_ports(
            context.inventory, None if policy.scope is Scope.MESH else namespace
        )
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
            governed = tuple(
                Governed(service, port, container_ports(service, port, inventory))
                for port in service.ports
                if context.side.alpha_policy(namespace, service.name, port.port, port.name)
                is policy
            )
            if not governed:
                continue
            scope = TargetScope(service, dict(service.selector), governed, all_ports=False)
            http = tuple(sorted({p for g in governed if g.port.is_http for p in g.container_ports}))
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
            f"{context.root!r} (§B.2), and a RequestAuthentication or AuthorizationPolicy there "
            "would apply to matching pods of every namespace"
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
    made: list[NewResource] = []
    for scope in target_scopes(policy, context.side, context.inventory):
        _check_ports(scope)
        spec = mtls.workload_spec(policy, scope, faithful=context.options.faithful_disable)
        http = tuple(
            sorted({p for g in scope.governed if g.port.is_http for p in g.container_ports})
        )
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
    for governed in scope.governed:
        if not governed.container_ports:
            raise NotExpressible(
                f"targetPort {governed.port.target_port!r} of Service "
                f"{scope.service.namespace}/{scope.service.name} port {governed.port.port} is "
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
    if peer_spec is not None:
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
    deny = jwt_module.deny_rules(policy, ports, allow_stricter=context.options.allow_stricter)
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
    merges into the first, since beta applies only the oldest (§B.2)."""
    key = (namespace, tuple(sorted(scope.selector.items())) if scope else ())
    existing = context.peers.get(key)
    if existing is not None:
        merged = existing.data["spec"]
        for port, value in spec.get("portLevelMtls", {}).items():
            merged.setdefault("portLevelMtls", {}).setdefault(port, value)
        if "mtls" in spec:
            merged.setdefault("mtls", spec["mtls"])
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
                    moves.append(((*old, key, r, spelled, k), (*new, target, k)))
                    moves += [
                        ((*old, key, r, spelled, k, how), (*new, target, k))
                        for how in ("exact", "prefix", "suffix", "regex")
                    ]
    return tuple(moves)


def _tcp_only_ports(inventory: Inventory, namespace: str | None) -> tuple[int, ...]:
    """Container ports that only TCP Service ports reach, in a namespace or the whole mesh:
    a namespace- or mesh-wide DENY stays off them, since its HTTP-only conditions would be
    dropped there (§D.5c); unknown ports stay covered, so nothing gets looser."""
    http: set[int] = set()
    tcp: set[int] = set()
    for (space, _), service in inventory.services.items():
        if namespace is not None and space != namespace:
            continue
        for port in service.ports:
            (http if port.is_http else tcp).update(container_ports(service, port, inventory))
    return tuple(sorted(tcp - http))
