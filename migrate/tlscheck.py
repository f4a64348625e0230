"""`tls-check`: the mTLS conflicts that break traffic, computed statically as Istio 1.4's
`istioctl authn tls-check` did (reference §E.1), for every client namespace and service port.

The server mode comes from the policy that applies to the service port (alpha, or beta when a
PeerAuthentication applies, §C); the client mode from the DestinationRule the client's proxy
uses (§E.2: the client's namespace, then the service's, then the root namespace; exact hosts
before wildcards, longest first; a port-level traffic policy without `tls` resets it), or auto
mTLS when it is on and no rule sets TLS (§E.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migrate.findings import Finding, Location, Severity
from migrate.inventory import Inventory, Service, ServicePort
from migrate.load import Document
from migrate.model.alpha import MtlsMode
from migrate.semantics.side import Settings, Side
from migrate.semantics.space import Site, applicable, destinations
from migrate.workspace import Workspace

DOMAIN = "svc.cluster.local"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a client namespace and a service port."""

    client: str
    host: str
    port: int
    status: str
    server: str
    client_mode: str
    policy: str
    rule: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A DestinationRule as the client side reads it."""

    name: str
    namespace: str
    host: str
    exported: bool
    spec: dict[str, Any]
    created: str


def tls_check(
    workspace: Workspace,
    *,
    auto_mtls: bool | None = None,
    clients: tuple[str, ...] = (),
    hosts: tuple[str, ...] = (),
    side: Side | None = None,
) -> list[Row]:
    """The table for every client namespace and service port of the workspace (`side`: the
    server-side resources to use instead of the workspace's own, e.g. after a conversion)."""
    inventory = workspace.inventory
    auto = (
        auto_mtls
        if auto_mtls is not None
        else (
            inventory.mesh.enable_auto_mtls if inventory.mesh.enable_auto_mtls is not None else True
        )
    )
    root = workspace.root_namespace
    side = side or Side.build(Settings(root_namespace=root), workspace.alpha, workspace.beta)
    rules = [r for d in inventory.destination_rules if (r := _rule(d)) is not None]
    namespaces = sorted(inventory.all_namespaces | {w.namespace for w in inventory.workloads})
    rows = []
    for client in clients or tuple(namespaces):
        for (namespace, _), service in sorted(inventory.services.items()):
            host = f"{service.name}.{namespace}.{DOMAIN}"
            if hosts and host not in hosts and service.name not in hosts:
                continue
            for port in service.ports:
                server, policy = _server(side, inventory, service, port)
                rule, mode, same = _client(rules, client, host, port.port, root)
                rows.append(
                    Row(
                        client,
                        host,
                        port.port,
                        _status(mode, server, auto),
                        server,
                        mode or "-",
                        policy,
                        rule,
                    )
                )
                for subset, subset_mode in _subsets(same, port.port):
                    rows.append(
                        Row(
                            client,
                            f"{host}|{subset}",
                            port.port,
                            _status(subset_mode, server, auto),
                            server,
                            subset_mode or "-",
                            policy,
                            rule,
                        )
                    )
    return rows


def _subsets(rules: list[Rule], port: int) -> list[tuple[str, str | None]]:
    """One row per subset, with the TLS mode of the subset's own traffic policy only, as
    tls-check showed it (§E.1; not merged with the top level)."""
    found = []
    for rule in rules:
        for subset in rule.spec.get("subsets") or ():
            if isinstance(subset, dict) and subset.get("name"):
                policy = subset.get("trafficPolicy")
                own = (
                    [
                        Rule(
                            rule.name,
                            rule.namespace,
                            rule.host,
                            rule.exported,
                            {"trafficPolicy": policy},
                            rule.created,
                        )
                    ]
                    if isinstance(policy, dict)
                    else []
                )
                found.append((str(subset["name"]), _mode(own, port) if own else None))
    return found


def regressions(before: list[Row], after: list[Row]) -> list[Finding]:
    """Pairs that were OK (or AUTO) and become CONFLICT, each with the fix (§E)."""
    old = {(r.client, r.host, r.port): r for r in before}
    found = []
    for row in after:
        was = old.get((row.client, row.host, row.port))
        if row.status == "CONFLICT" and was is not None and was.status != "CONFLICT":
            wanted = "ISTIO_MUTUAL" if row.server in ("STRICT", "PERMISSIVE") else "DISABLE"
            found.append(
                Finding(
                    "AM602",
                    Severity.WARNING,
                    f"clients in {row.client} -> {row.host}:{row.port} were {was.status} and now "
                    f"CONFLICT: the server becomes {row.server} ({row.policy}) while "
                    f"{row.rule} sends {row.client_mode}",
                    Location(""),
                    hint=f"set tls.mode {wanted} in {row.rule} (authn-migrate tls-check --fix)",
                    resource=row.rule,
                )
            )
    return found


def _rule(doc: Document) -> Rule | None:
    spec = doc.data.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("host"), str):
        return None
    namespace = doc.declared_namespace or "default"
    host = spec["host"]
    if not host.startswith("*") and "." not in host:
        host = f"{host}.{namespace}.{DOMAIN}"  # a short host is the rule's own namespace's
    export = spec.get("exportTo")
    exported = not (isinstance(export, list) and export and export[0] == ".")
    created = str(doc.metadata.get("creationTimestamp") or "")
    return Rule(doc.name, namespace, host, exported, spec, created)


def _server(
    side: Side, inventory: Inventory, service: Service, port: ServicePort
) -> tuple[str, str]:
    """The server mode for a service port, and the policy that set it (`-` for none)."""
    if not service.selector:
        return "DISABLE", "-"
    site = Site(service.namespace, "", tuple(sorted(service.selector.items())))
    pods = inventory.selected(service.namespace, service.selector)
    if pods:
        site = Site(service.namespace, pods[0].name, tuple(sorted(pods[0].labels.items())))
    spare = (0, 0, 0)
    found = [
        d
        for d in destinations(site, inventory, spare)
        if d.service == service.name and d.service_port == port.port
    ]
    if not found:
        return "DISABLE", "-"
    chosen = applicable(side, site, found[0])
    if chosen.peer is not None:
        return chosen.peer.mode.value, ", ".join(chosen.peer.decided_by) or "-"
    if chosen.alpha is not None:
        alpha = chosen.alpha
        name = f"/{alpha.name}" if alpha.kind == "MeshPolicy" else f"{alpha.name}/{alpha.namespace}"
        return alpha.mtls_mode.value, name
    return MtlsMode.DISABLE.value if not side.beta else "PERMISSIVE", "-"


def _client(
    rules: list[Rule], client: str, host: str, port: int, root: str
) -> tuple[str, str | None, list[Rule]]:
    """The rule the client's proxy uses for `host`, its TLS mode for `port`, and the rules
    merged with it (§E.2)."""
    steps = [] if client == root else [[r for r in rules if r.namespace == client]]
    service_ns = host.split(".")[1]
    steps.append([r for r in rules if r.namespace == service_ns and r.exported])
    steps.append([r for r in rules if r.namespace == root and r.exported])
    for candidates in steps:
        matching = [r for r in candidates if _matches(r.host, host)]
        if matching:
            best = sorted(
                matching,
                key=lambda r: (r.host.startswith("*"), -len(r.host), r.host, r.created, r.name),
            )[0]
            same = sorted(
                (r for r in matching if r.host == best.host), key=lambda r: (r.created, r.name)
            )
            return f"{best.name}/{best.namespace}", _mode(same, port), same
    return "-", None, []


def _matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return pattern == host


def _mode(rules: list[Rule], port: int) -> str | None:
    """TLS mode of the merged rules: the oldest top-level traffic policy; a port-level entry
    for the port replaces it whole, `tls` included (§E.2)."""
    policy = next(
        (r.spec["trafficPolicy"] for r in rules if isinstance(r.spec.get("trafficPolicy"), dict)),
        None,
    )
    if policy is None:
        return None
    for setting in policy.get("portLevelSettings") or ():
        number = (setting.get("port") or {}).get("number") if isinstance(setting, dict) else None
        if number == port:
            tls = setting.get("tls")
            return str(tls.get("mode")) if isinstance(tls, dict) and tls.get("mode") else None
    tls = policy.get("tls")
    return str(tls.get("mode")) if isinstance(tls, dict) and tls.get("mode") else None


def _status(client: str | None, server: str, auto: bool) -> str:
    """§E.1 EvaluateTLSState: unset client is AUTO (auto mTLS) or OK; SIMPLE/MUTUAL conflict."""
    if client is None:
        return "AUTO" if auto else "OK"
    ok = (
        (server == "DISABLE" and client == "DISABLE")
        or (server == "STRICT" and client == "ISTIO_MUTUAL")
        or (server == "PERMISSIVE" and client in ("ISTIO_MUTUAL", "DISABLE"))
    )
    return "OK" if ok else "CONFLICT"
