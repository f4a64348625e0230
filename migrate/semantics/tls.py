"""TLS modes: the mTLS conflicts that break traffic, computed statically as Istio 1.4's
`istioctl authn tls-check` did (§E.1), for every client namespace and service port.

The server mode comes from the policy that applies to the service port (alpha, or beta when a
PeerAuthentication applies, §C); the client mode from the DestinationRule the client's proxy
uses (§E.2: the client's namespace, then the service's, then the root namespace; exact hosts
before wildcards, longest first; a port-level traffic policy without `tls` resets it), or auto
mTLS when it is on and no rule sets TLS (§E.3).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from migrate.findings import Finding, Location, Severity
from migrate.memo import IdentityMemo
from migrate.model.alpha import MtlsMode
from migrate.model.inventory import Inventory, Placed, Service, ServicePort
from migrate.semantics.request import Destination
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


Key = tuple[str, str, int]
"""A service port: namespace, service name, port number."""


def tls_check(
    workspace: Workspace,
    *,
    auto_mtls: bool | None = None,
    clients: tuple[str, ...] = (),
    hosts: tuple[str, ...] = (),
    side: Side | None = None,
    ports: set[Key] | None = None,
) -> TlsCheck:
    """The table for every client namespace and service port of the workspace (`side`: the
    server-side resources to use instead of the workspace's own, e.g. after a conversion;
    `ports`: only these service ports)."""
    table = _Table(workspace, side, auto_mtls)
    keys = table.keys(hosts, ports)
    everyone = table.inventory.all_namespaces if not clients and keys else set()
    return TlsCheck(table, tuple(clients or sorted(everyone)), keys)


class TlsCheck:
    """The table of every client namespace against every service port, kept compact: a
    client namespace without DestinationRules of its own resolves every host as the others
    do (§E.2), so the rows of all such clients are computed once, counted once per client,
    and written out with each client's name only when they are read. On a mesh of 3,000
    namespaces and 40,000 service ports the table has 120 million rows; the conflicts and
    the counts need a pass over the namespaces that have rules of their own, and one more."""

    def __init__(self, table: _Table, clients: tuple[str, ...], keys: list[Key]) -> None:
        self._table = table
        self.clients = clients
        self._keys = keys
        self._shared: list[Row] | None = None

    def _own(self, client: str) -> bool:
        return self._table.own(client) is not None

    def shared(self) -> list[Row]:
        """The rows every client without rules of its own has (named for none of them)."""
        if self._shared is None:
            self._shared = [row for key in self._keys for row in self._table.row_set("", key)]
        return self._shared

    def client_rows(self, client: str) -> Iterator[Row]:
        """The rows of one client namespace, in the order of the table."""
        if self._own(client):
            for key in self._keys:
                yield from self._table.row_set(client, key)
        else:
            for row in self.shared():
                yield dataclasses.replace(row, client=client)

    def __iter__(self) -> Iterator[Row]:
        """Every row: each client namespace (sorted), each service port (sorted)."""
        for client in self.clients:
            yield from self.client_rows(client)

    def conflicts(self) -> Iterator[Row]:
        """The rows whose status is CONFLICT, in the order of the table."""
        shared = None
        for client in self.clients:
            if self._own(client):
                yield from (r for r in self.client_rows(client) if r.status == "CONFLICT")
                continue
            if shared is None:
                shared = [r for r in self.shared() if r.status == "CONFLICT"]
            yield from (dataclasses.replace(r, client=client) for r in shared)

    def counts(self) -> Counter[str]:
        """How many rows have each status."""
        counts: Counter[str] = Counter()
        others = 0
        for client in self.clients:
            if self._own(client):
                counts.update(r.status for r in self.client_rows(client))
            else:
                others += 1
        if others:
            for row in self.shared():
                counts[row.status] += others
        return counts


def rules_moved(before: Workspace, after: Workspace) -> bool:
    """Whether the client-side TLS rules (DestinationRules) differ between two states: a
    rule reaches hosts of any namespace, so a change of one cannot be narrowed to the
    namespaces whose resources changed."""
    olds, news = (
        {repr(r) for d in w.inventory.destination_rules if (r := _rule(d)) is not None}
        for w in (before, after)
    )
    return olds != news


def tls_regressions(
    before: Workspace,
    after: Workspace,
    *,
    before_side: Side | None = None,
    after_side: Side | None = None,
    namespaces: set[str] | None = None,
) -> list[Finding]:
    """The pairs that turn from OK to CONFLICT between two states (§E), computed only for
    the service ports whose server mode or client rules differ: a status depends on nothing
    else, so the other pairs (clients x services, the bulk on a large mesh) cannot change.
    `namespaces`: only the services in these (the states differ in nothing else)."""
    old = _Table(before, before_side, None, namespaces)
    new = _Table(after, after_side, None, namespaces)
    changed = {k for k, v in new.servers.items() if old.servers.get(k, v)[0] != v[0]}
    olds, news = ({repr(r): r for r in t.rules} for t in (old, new))
    moved = [r for k, r in (olds | news).items() if (k in olds) != (k in news)]
    if old.auto != new.auto:
        changed = set(new.servers)
    changed |= {k for k in new.servers if any(_matches(r.host, _host(k)) for r in moved)}
    if not changed:
        return []
    was = TlsCheck(old, tuple(sorted(old.inventory.all_namespaces)), old.keys((), changed))
    now = TlsCheck(new, tuple(sorted(new.inventory.all_namespaces)), new.keys((), changed))
    known = set(was.clients)
    shared: list[tuple[Row, Row]] | None = None
    found: list[Finding] = []
    for client in now.clients:
        if client not in known:
            continue
        if old.own(client) is None and new.own(client) is None:  # the shared rows, both sides
            if shared is None:
                shared = _regressed(was.shared(), now.shared())
            found += [
                _regression(
                    dataclasses.replace(before_row, client=client),
                    dataclasses.replace(row, client=client),
                )
                for before_row, row in shared
            ]
        else:
            pairs = _regressed(list(was.client_rows(client)), list(now.client_rows(client)))
            found += [_regression(before_row, row) for before_row, row in pairs]
    return found


class _Table:
    """Server modes per service port (computed once) and client modes per client namespace
    that has rules of its own, or for all the others at once (they resolve alike, §E.2)."""

    def __init__(
        self,
        workspace: Workspace,
        side: Side | None,
        auto_mtls: bool | None,
        namespaces: set[str] | None = None,
    ) -> None:
        inventory = workspace.inventory
        mesh_auto = inventory.mesh.enable_auto_mtls
        self.auto = auto_mtls if auto_mtls is not None else mesh_auto is not False
        self.root = workspace.root_namespace
        side = side or Side.build(
            Settings(root_namespace=self.root), workspace.alpha, workspace.beta
        )
        self.rules = [r for d in inventory.destination_rules if (r := _rule(d)) is not None]
        self.by_namespace: dict[str, list[Rule]] = {}
        for rule in self.rules:
            self.by_namespace.setdefault(rule.namespace, []).append(rule)
        self.inventory = inventory
        self.servers = _servers(side, inventory, namespaces)
        self._clients: dict[tuple[str | None, str, int], tuple[str, str | None, list[Rule]]] = {}

    def keys(self, hosts: tuple[str, ...], ports: set[Key] | None) -> list[Key]:
        """The service ports asked for (all if neither `hosts` nor `ports` narrow them)."""
        keys = sorted(k for k in self.servers if ports is None or k in ports)
        if hosts:
            keys = [k for k in keys if _host(k) in hosts or k[1] in hosts]
        return keys

    def rows(
        self, clients: tuple[str, ...], hosts: tuple[str, ...], ports: set[Key] | None
    ) -> list[Row]:
        """Rows for the clients (all namespaces if none) and the service ports asked for."""
        keys = self.keys(hosts, ports)
        rows: list[Row] = []
        everyone = self.inventory.all_namespaces if not clients and keys else set()
        for client in clients or tuple(sorted(everyone)):
            for key in keys:
                rows += self.row_set(client, key)
        return rows

    def own(self, client: str) -> str | None:
        """`client` when it has DestinationRules of its own (and is not the root namespace,
        whose rules every client reads anyway), else None: it resolves as the others do."""
        return client if client != self.root and client in self.by_namespace else None

    def row_set(self, client: str, key: Key) -> list[Row]:
        """The rows of one client and service port: the host, then each subset."""
        server, policy = self.servers[key]
        host, port = _host(key), key[2]
        rule, mode, same = self._client(client, host, port)
        status = _status(mode, server, self.auto)
        rows = [Row(client, host, port, status, server, mode or "-", policy, rule)]
        for subset, subset_mode in _subsets(same, port):
            rows.append(
                Row(
                    client,
                    f"{host}|{subset}",
                    port,
                    _status(subset_mode, server, self.auto),
                    server,
                    subset_mode or "-",
                    policy,
                    rule,
                )
            )
        return rows

    def _client(self, client: str, host: str, port: int) -> tuple[str, str | None, list[Rule]]:
        own = self.own(client)
        key = (own, host, port)
        if key not in self._clients:
            self._clients[key] = _client(self.rules, own or self.root, host, port, self.root)
        return self._clients[key]


def _host(key: Key) -> str:
    return f"{key[1]}.{key[0]}.{DOMAIN}"


def _servers(
    side: Side, inventory: Inventory, namespaces: set[str] | None
) -> dict[Key, tuple[str, str]]:
    """The server mode of every service port (in `namespaces`), and the policy that set it."""
    table = {}
    services = (
        inventory.services.items()
        if namespaces is None
        else [((n, s.name), s) for n in sorted(namespaces) for s in inventory.services_in(n)]
    )
    for (namespace, name), service in services:
        found = _server_destinations(inventory, service)
        for port in service.ports:
            table[(namespace, name, port.port)] = _server(side, service, port, found)
    return table


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
    return [_regression(was, row) for was, row in _regressed(before, after)]


def _regressed(before: list[Row], after: list[Row]) -> list[tuple[Row, Row]]:
    """The rows of `after` that are CONFLICT where the same client, host and port was not
    in `before`, each with its row there."""
    old = {(r.client, r.host, r.port): r for r in before}
    found = []
    for row in after:
        was = old.get((row.client, row.host, row.port))
        if row.status == "CONFLICT" and was is not None and was.status != "CONFLICT":
            found.append((was, row))
    return found


def _regression(was: Row, row: Row) -> Finding:
    """AM602 for one pair, with the fix."""
    wanted = "ISTIO_MUTUAL" if row.server in ("STRICT", "PERMISSIVE") else "DISABLE"
    return Finding(
        "AM602",
        Severity.WARNING,
        f"clients in {row.client} -> {row.host}:{row.port} were {was.status} and now "
        f"CONFLICT: the server becomes {row.server} ({row.policy}) while "
        f"{row.rule} sends {row.client_mode}",
        Location(""),
        hint=f"set tls.mode {wanted} in {row.rule} (authn-migrate tls-check --fix)",
        resource=row.rule,
    )


def _rule(placed: Placed) -> Rule | None:
    doc, namespace = placed.document, placed.namespace
    spec = doc.data.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("host"), str):
        return None
    host = spec["host"]
    if not host.startswith("*") and "." not in host:
        host = f"{host}.{namespace}.{DOMAIN}"  # a short host is the rule's own namespace's
    export = spec.get("exportTo")
    exported = not (isinstance(export, list) and export and export[0] == ".")
    created = str(doc.metadata.get("creationTimestamp") or "")
    return Rule(doc.name, namespace, host, exported, spec, created)


_SERVER_DESTINATIONS: IdentityMemo[tuple[Site, dict[int, Destination]]] = IdentityMemo(1 << 17)


def _server_destinations(
    inventory: Inventory, service: Service
) -> tuple[Site, dict[int, Destination]]:
    """The site that stands for the service's pods and its destinations by service port
    (once per inventory and service: both states of a comparison ask, and a plan's stages)."""
    return _SERVER_DESTINATIONS.get(
        (inventory, service), lambda: _find_server_destinations(inventory, service)
    )


def _find_server_destinations(
    inventory: Inventory, service: Service
) -> tuple[Site, dict[int, Destination]]:
    site = Site(service.namespace, "", tuple(sorted((service.selector or {}).items())))
    pods = inventory.selected(service.namespace, service.selector) if service.selector else []
    if pods:
        site = Site(service.namespace, pods[0].name, tuple(sorted(pods[0].labels.items())))
    found: dict[int, Destination] = {}
    if service.selector:
        for d in destinations(site, inventory, (0, 0, 0)):
            if d.service == service.name and d.service_port is not None:
                found.setdefault(d.service_port, d)
    return site, found


def _server(
    side: Side, service: Service, port: ServicePort, found: tuple[Site, dict[int, Destination]]
) -> tuple[str, str]:
    """The server mode for a service port, and the policy that set it (`-` for none)."""
    site, by_port = found
    destination = by_port.get(port.port)
    if not service.selector or destination is None:
        return "DISABLE", "-"
    chosen = applicable(side, site, destination)
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
