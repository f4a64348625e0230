"""Where a converted resource applies: the alpha policy's scope as a beta namespace and
selector, and which container ports each alpha policy really governs (§A.5, §D.1).

    MeshPolicy default                 ->  root namespace, no selector
    Policy ns/default (no targets)     ->  namespace ns, no selector
    Policy ns/p, target svc (ports)    ->  namespace ns, selector = svc's selector,
                                           container ports behind the selected service ports
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.model.alpha import AlphaPolicy, Scope
from migrate.model.inventory import Inventory, Service, ServicePort, Workload
from migrate.model.releases import Release
from migrate.semantics.listeners import owners
from migrate.semantics.side import Side


@dataclass(frozen=True, slots=True)
class Governed:
    """A Service port whose alpha policy is the one converted (the winner of §A.5), the
    container ports behind it, and of those the ones whose listener it may build (§F: the
    first Service port on a container port builds it; where the order is open, each
    candidate may)."""

    service: Service
    port: ServicePort
    container_ports: tuple[int, ...]
    owned: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetScope:
    """One target of a service policy: its Service and the ports the policy wins."""

    service: Service
    selector: dict[str, str]
    governed: tuple[Governed, ...]
    all_ports: bool
    """True when the policy wins every port of the Service (a port-less target)."""


def container_ports(service: Service, port: ServicePort, inventory: Inventory) -> tuple[int, ...]:
    """Container ports behind a service port: its number, or its name resolved through the
    selected pods' container ports (never the service port, the public converter's mistake)."""
    if isinstance(port.target_port, int):
        return (port.target_port,)
    pods = inventory.selected(service.namespace, service.selector or {})
    found = {p.number for w in pods if (p := w.port_named(port.target_port)) is not None}
    return tuple(sorted(found))


def governed(
    service: Service,
    port: ServicePort,
    inventory: Inventory,
    releases: tuple[Release, ...],
) -> Governed:
    """The Service port with its container ports and those whose listener it may build."""
    numbers = container_ports(service, port, inventory)
    owned = tuple(n for n in numbers if may_own(service, port, n, inventory, releases))
    return Governed(service, port, numbers, owned)


def may_own(
    service: Service,
    port: ServicePort,
    number: int,
    inventory: Inventory,
    releases: tuple[Release, ...],
) -> bool:
    """True when the Service port may build the listener of container port `number` on some
    pod it selects (the pods the inputs show, else pods labelled as its selector)."""
    selector = service.selector or {}
    pods: list[Workload | None] = list(inventory.selected(service.namespace, selector)) or [None]
    for pod in pods:
        labels = pod.labels if pod is not None else selector
        fronting = [
            s
            for s in inventory.services_in(service.namespace)
            if s.selector and all(labels.get(k) == v for k, v in s.selector.items())
        ]
        candidates = owners(fronting, pod, releases).get(number, [])
        if any(s is service and p is port for s, p in candidates):
            return True
    return False


def target_scopes(
    policy: AlphaPolicy, side: Side, inventory: Inventory, releases: tuple[Release, ...]
) -> list[TargetScope]:
    """The targets of a service policy that resolve, with the ports where it is the policy
    Istio applies (it may lose some to an older or port-specific one, or the listener of a
    container port to another Service port, §F)."""
    scopes = []
    for target in policy.targets:
        service = inventory.service(policy.namespace, target.name)
        if service is None or not service.selector:
            continue
        won = tuple(
            governed(service, port, inventory, releases)
            for port in service.ports
            if side.alpha_policy(service.namespace, service.name, port.port, port.name) is policy
        )
        all_ports = len(won) == len(service.ports) and not target.ports
        scopes.append(TargetScope(service, dict(service.selector), won, all_ports))
    return scopes


def beta_namespace(policy: AlphaPolicy, root_namespace: str) -> str:
    """The namespace of the converted resources: the root namespace for the mesh policy."""
    return root_namespace if policy.scope is Scope.MESH else policy.namespace
