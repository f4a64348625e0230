"""Resolving alpha targets: Service short names and service ports to workloads and container
ports (§A.5, §D.1)."""

from __future__ import annotations

from dataclasses import dataclass

from migrate.findings import Finding, Severity
from migrate.model.alpha import AlphaPolicy, PortSelector, Target
from migrate.model.inventory import Inventory, Service, ServicePort, Workload


@dataclass(frozen=True, slots=True)
class PortResolution:
    """One service port a target selects, and the container ports behind it."""

    selector: str
    service_port: int
    service_port_name: str
    target_port: int | str
    container_ports: tuple[int, ...]
    http: bool


@dataclass(frozen=True, slots=True)
class TargetResolution:
    """A target's Service, the ports it selects and the workloads it reaches."""

    service: str
    found: bool
    selector: dict[str, str] | None
    ports: tuple[PortResolution, ...]
    workloads: tuple[Workload, ...]
    all_ports: bool


def resolve_target(
    policy: AlphaPolicy, target: Target, inventory: Inventory, findings: list[Finding]
) -> TargetResolution:
    """Resolve one target; problems are appended to `findings`."""
    if not target.name:
        findings.append(
            _warn(
                policy,
                "AM210",
                "target selects by labels, which Istio never "
                "implemented; this target matches nothing",
                target,
            )
        )
        return TargetResolution("", False, None, (), (), not target.ports)
    service = inventory.service(policy.namespace, target.name)
    if service is None:
        findings.append(
            _warn(
                policy,
                "AM202",
                f"Service {policy.namespace}/{target.name} is not in the inputs",
                target,
            )
        )
        return TargetResolution(target.name, False, None, (), (), not target.ports)
    workloads = _workloads(service, inventory)
    _report_selection(policy, target, service, workloads, findings)
    ports = _ports(policy, target, service, workloads, findings)
    return TargetResolution(
        target.name, True, service.selector, ports, tuple(workloads), not target.ports
    )


def _workloads(service: Service, inventory: Inventory) -> list[Workload]:
    if service.selector is None:
        return []
    return inventory.selected(service.namespace, service.selector)


def _report_selection(
    policy: AlphaPolicy,
    target: Target,
    service: Service,
    workloads: list[Workload],
    findings: list[Finding],
) -> None:
    if service.selector is None:
        findings.append(
            _warn(
                policy,
                "AM211",
                f"Service {service.namespace}/{service.name} has "
                "no selector, so its workloads cannot be known",
                target,
            )
        )
    elif not workloads:
        findings.append(
            Finding(
                "AM208",
                Severity.NOTE,
                f"Service {service.namespace}/{service.name} selects no workload in the inputs",
                target.location,
                resource=policy.ref,
            )
        )


def _ports(
    policy: AlphaPolicy,
    target: Target,
    service: Service,
    workloads: list[Workload],
    findings: list[Finding],
) -> tuple[PortResolution, ...]:
    if not target.ports:
        return tuple(_resolve(policy, "*", p, workloads, target, findings) for p in service.ports)
    resolved = []
    for selector in target.ports:
        port = _match(selector, service)
        if port is None:
            findings.append(
                _warn(
                    policy,
                    "AM203",
                    f"Service {service.namespace}/{service.name} has no port {_describe(selector)}",
                    selector,
                )
            )
            continue
        resolved.append(_resolve(policy, str(selector), port, workloads, target, findings))
    return tuple(resolved)


def _match(selector: PortSelector, service: Service) -> ServicePort | None:
    """Alpha port selectors match the *service* port, by number or by name (§A.5)."""
    for port in service.ports:
        if selector.number is not None and port.port == selector.number:
            return port
        if selector.name is not None and port.name == selector.name:
            return port
    return None


def _resolve(  # noqa: PLR0917 - a private step of resolve_target, called from two places
    policy: AlphaPolicy,
    selector: str,
    port: ServicePort,
    workloads: list[Workload],
    target: Target,
    findings: list[Finding],
) -> PortResolution:
    if isinstance(port.target_port, int):
        numbers: tuple[int, ...] = (port.target_port,)
    else:
        numbers = tuple(
            sorted(
                {
                    p.number
                    for w in workloads
                    if (p := w.port_named(str(port.target_port))) is not None
                }
            )
        )
        if workloads and not numbers:
            findings.append(
                _warn(
                    policy,
                    "AM204",
                    f"targetPort {port.target_port!r} of service "
                    f"port {port.port} is not declared by any selected container",
                    target,
                )
            )
    return PortResolution(selector, port.port, port.name, port.target_port, numbers, port.is_http)


def _describe(selector: PortSelector) -> str:
    return (
        f"number {selector.number}" if selector.number is not None else f"named {selector.name!r}"
    )


def _warn(policy: AlphaPolicy, code: str, message: str, where: Target | PortSelector) -> Finding:
    return Finding(code, Severity.WARNING, message, where.location, resource=policy.ref)
