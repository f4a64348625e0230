"""`scan`: every alpha policy, where it is, what it affects, and what is wrong with it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from migrate.convert.jwt import trigger_rule_traps
from migrate.exitcodes import ExitCode, exit_code
from migrate.findings import Finding, Severity, has_errors, sort_findings
from migrate.model.alpha import AlphaPolicy, Scope
from migrate.model.inventory import Service, ServicePort, Workload
from migrate.model.protocols import unknown_protocol
from migrate.model.releases import DEFAULT
from migrate.model.targets import TargetResolution, resolve_target
from migrate.semantics.listeners import owners, target_number
from migrate.semantics.side import Settings, Side
from migrate.workspace import PolicyEntry, Workspace, WorkspaceOptions, open_workspace


@dataclass(frozen=True, slots=True)
class PolicyScan:
    """What the scan knows about one alpha policy."""

    entry: PolicyEntry
    targets: tuple[TargetResolution, ...]
    workloads: tuple[Workload, ...]
    overridden_by: tuple[str, ...]
    ignored: bool
    findings: tuple[Finding, ...]

    @property
    def policy(self) -> AlphaPolicy | None:
        """The model, None when the document failed validation."""
        return self.entry.policy


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The result of a scan: policies, counts, and every finding."""

    policies: tuple[PolicyScan, ...]
    findings: tuple[Finding, ...]
    files: int
    documents: int
    services: int
    workloads: int
    root_namespace: str

    @property
    def exit_code(self) -> ExitCode:
        """2 on input errors, else 1 when alpha policies exist, else 0."""
        return exit_code(unproven=has_errors(self.findings), found=bool(self.policies))


def scan(
    paths: Sequence[str], options: WorkspaceOptions | None = None, *, stdin: bytes | None = None
) -> ScanReport:
    """Scan `paths` for alpha policies."""
    return scan_workspace(open_workspace(paths, options, stdin=stdin))


def scan_workspace(workspace: Workspace) -> ScanReport:
    """Scan an already opened workspace."""
    findings = list(workspace.findings)
    extra: dict[int, list[Finding]] = defaultdict(list)
    alpha = workspace.alpha
    _competition(alpha, extra)
    narrower = _Narrower(alpha)
    for policy, finding in [*sniffed_ports(workspace), *shared_listeners(workspace)]:
        extra[id(policy)].append(finding)
    scans = [_scan_entry(workspace, entry, extra, narrower) for entry in workspace.policies]
    for result in scans:
        findings.extend(f for f in result.findings if f not in result.entry.findings)
    inventory = workspace.inventory
    return ScanReport(
        policies=tuple(scans),
        findings=tuple(sort_findings(findings)),
        files=len(workspace.loaded.files),
        documents=len(workspace.loaded.documents),
        services=len(inventory.services),
        workloads=len(inventory.workloads),
        root_namespace=workspace.root_namespace,
    )


def _scan_entry(
    workspace: Workspace,
    entry: PolicyEntry,
    extra: dict[int, list[Finding]],
    narrower: _Narrower,
) -> PolicyScan:
    findings = list(entry.findings)
    policy = entry.policy
    findings.append(
        Finding(
            "AM201",
            Severity.NOTE,
            f"{entry.ref} ({_scope_text(policy)})",
            entry.document.origin.location,
            resource=entry.ref,
        )
    )
    if entry.embedded_in is not None:
        findings.append(
            Finding(
                "AM207",
                Severity.WARNING,
                f"{entry.ref} is embedded as text in ConfigMap "
                f"{entry.embedded_in.name!r}; a job applies it",
                entry.document.origin.location,
                resource=entry.ref,
            )
        )
    if policy is None:
        return PolicyScan(entry, (), (), (), False, tuple(findings))
    targets = tuple(
        resolve_target(policy, t, workspace.inventory, findings) for t in policy.targets
    )
    findings.extend(_policy_problems(policy))
    findings.extend(extra.get(id(policy), ()))
    return PolicyScan(
        entry,
        targets,
        _affected(workspace, policy, targets),
        narrower.overriders(policy),
        _ignored(policy),
        tuple(findings),
    )


def sniffed_ports(workspace: Workspace) -> list[tuple[AlphaPolicy, Finding]]:
    """AM217 for every Service port a policy governs whose protocol Istio cannot tell from its
    name (or appProtocol): with inbound sniffing on, HTTP requests to it took the policy's
    JWT origins; with it off, they did not (§F). A warning for JWT policies, a note for the
    others (mTLS is the same either way)."""
    side = Side.build(Settings(root_namespace=workspace.root_namespace), workspace.alpha, [])
    found = []
    for (namespace, name), service in sorted(workspace.inventory.services.items()):
        for port in service.ports:
            if not unknown_protocol(port, DEFAULT):
                continue
            policy = side.alpha_policy(namespace, name, port.port, port.name)
            if policy is None:
                continue
            jwt = bool(policy.origins)
            found.append(
                (
                    policy,
                    Finding(
                        "AM217",
                        Severity.WARNING if jwt else Severity.NOTE,
                        f"Service {namespace}/{name} port {port.port} "
                        f"({port.name or 'unnamed'}) has no protocol Istio recognises: with "
                        "inbound protocol sniffing on it carries HTTP"
                        + (", so this policy's JWT origins applied to it" if jwt else "")
                        + "; name it http-... or tcp-..., or set appProtocol",
                        service.origin.location,
                        resource=policy.ref,
                    ),
                )
            )
    return found


def shared_listeners(workspace: Workspace) -> list[tuple[AlphaPolicy, Finding]]:
    """AM218 for every container port that Service ports governed by different alpha
    policies deliver to: Istio builds one listener per container port, from one of them
    (§F), so only that one's policy applies there."""
    side = Side.build(Settings(root_namespace=workspace.root_namespace), workspace.alpha, [])
    inventory = workspace.inventory
    found: dict[tuple[str, str, int], tuple[AlphaPolicy, Finding]] = {}
    for workload in inventory.workloads:
        fronting = [
            s
            for s in inventory.services_in(workload.namespace)
            if s.selector and all(workload.labels.get(k) == v for k, v in s.selector.items())
        ]
        reached: dict[int, list[tuple[Service, ServicePort]]] = {}
        for service in fronting:
            for port in service.ports:
                number = target_number(port, workload)
                if number:
                    reached.setdefault(number, []).append((service, port))
        for number, ports in reached.items():
            governing = {
                id(p): p
                for s, sp in ports
                if (p := side.alpha_policy(s.namespace, s.name, sp.port, sp.name)) is not None
            }
            if len(ports) < 2 or len(governing) < 2:
                continue
            owner = owners(fronting, workload, DEFAULT).get(number, [])
            built = (
                f"it is built by Service {owner[0][0].name} port {owner[0][1].port}"
                if len(owner) == 1
                else "the inputs do not say which builds it (no creation times)"
            )
            names = ", ".join(f"{s.name}:{sp.port}" for s, sp in ports)
            policies = ", ".join(sorted(p.ref for p in governing.values()))
            key = (workload.namespace, workload.name, number)
            found[key] = (
                next(iter(governing.values())),
                Finding(
                    "AM218",
                    Severity.WARNING,
                    f"container port {number} of {workload.ref} is behind Service ports "
                    f"{names}, governed by {policies}: Istio builds one listener for it; "
                    f"{built}",
                    workload.origin.location,
                    resource=workload.ref,
                ),
            )
    return list(found.values())


def _scope_text(policy: AlphaPolicy | None) -> str:
    return "invalid" if policy is None else policy.scope.value


def _affected(
    workspace: Workspace, policy: AlphaPolicy, targets: tuple[TargetResolution, ...]
) -> tuple[Workload, ...]:
    inventory = workspace.inventory
    if policy.scope is Scope.MESH:
        return tuple(inventory.workloads)
    if policy.scope is Scope.NAMESPACE:
        return tuple(inventory.workloads_in(policy.namespace))
    seen: dict[int, Workload] = {}
    for target in targets:
        for workload in target.workloads:
            seen.setdefault(id(workload), workload)
    return tuple(seen.values())


class _Narrower:
    """Narrower policies that replace a mesh or namespace policy where they apply (alpha
    never merges, §A.5), indexed once: every non-mesh policy for the mesh, the service
    policies of its namespace for a namespace policy."""

    def __init__(self, alpha: list[AlphaPolicy]) -> None:
        self.mesh = tuple(sorted({p.ref for p in alpha if p.scope is not Scope.MESH}))
        services: dict[str, set[str]] = defaultdict(set)
        for policy in alpha:
            if policy.scope is Scope.SERVICE:
                services[policy.namespace].add(policy.ref)
        self.services = {ns: tuple(sorted(refs)) for ns, refs in services.items()}

    def overriders(self, policy: AlphaPolicy) -> tuple[str, ...]:
        """Refs of the policies that replace `policy` where they apply, sorted."""
        if policy.scope is Scope.MESH:
            return self.mesh
        if policy.scope is Scope.NAMESPACE:
            return self.services.get(policy.namespace, ())
        return ()


def _ignored(policy: AlphaPolicy) -> bool:
    return policy.kind == "MeshPolicy" and policy.name != "default"


def _policy_problems(policy: AlphaPolicy) -> list[Finding]:
    found = []
    if _ignored(policy):
        found.append(
            Finding(
                "AM205",
                Severity.WARNING,
                f"MeshPolicy {policy.name!r} is ignored: Pilot reads only the "
                "MeshPolicy named 'default'",
                policy.location,
                resource=policy.ref,
            )
        )
    if policy.principal_binding == "USE_ORIGIN" and not policy.origins:
        found.append(
            Finding(
                "AM213",
                Severity.WARNING,
                "principalBinding USE_ORIGIN without origins: every request is rejected with 401",
                policy.location,
                resource=policy.ref,
            )
        )
    found.extend(trigger_rule_traps(policy))
    return found


def _competition(policies: list[AlphaPolicy], extra: dict[int, list[Finding]]) -> None:
    """Report policies that lose to an older one for the same namespace or service port (§A.5)."""
    groups: dict[tuple[str, str, str], list[AlphaPolicy]] = defaultdict(list)
    for policy in policies:
        for key in _keys(policy):
            groups[key].append(policy)
    for key, members in sorted(groups.items()):
        distinct = sorted({id(p): p for p in members}.values(), key=AlphaPolicy.sort_key)
        for loser in distinct[1:]:
            extra[id(loser)].append(
                Finding(
                    "AM206",
                    Severity.WARNING,
                    f"competes with {distinct[0].ref} for {_key_text(key)}; Istio applies only the "
                    "oldest",
                    loser.location,
                    resource=loser.ref,
                    related=(distinct[0].location,),
                )
            )


def _keys(policy: AlphaPolicy) -> list[tuple[str, str, str]]:
    if policy.scope is Scope.MESH:
        return [("", "", "")] if policy.name == "default" else []
    if policy.scope is Scope.NAMESPACE:
        return [(policy.namespace, "", "")]
    keys = []
    for target in policy.targets:
        if not target.ports:
            keys.append((policy.namespace, target.name, "*"))
        keys.extend((policy.namespace, target.name, str(p)) for p in target.ports)
    return keys


def _key_text(key: tuple[str, str, str]) -> str:
    namespace, service, port = key
    if not namespace:
        return "the mesh"
    if not service:
        return f"namespace {namespace}"
    return f"service {namespace}/{service}" + ("" if port == "*" else f" port {port}")
