"""Inbound listeners: which Service port builds each container port's listener, and whether
its filter chain is HTTP (§F).

Istio builds one inbound listener per container port of a workload. The first service
instance on that port builds it; a later Service port delivering to the same container port
is skipped ("conflicting inbound listener"), so its alpha policy and protocol never apply.
Within one Service the ports come in `spec.ports` order; across Services, 1.5 sorts by
creation time, then hostname, and 1.4 keeps the registry's order. Where the inputs leave the
order open, every candidate is considered.

A Service port's protocol comes from its name prefix (`http-web`), or from `appProtocol` from
1.6. A port whose protocol Istio cannot tell is sniffed when inbound protocol sniffing is on:
HTTP requests then take an HTTP chain and everything else a TCP chain; when it is off, all
of it is TCP. Ports no Service declares take the passthrough chain, which sniffs the same way.

    Service web: ports [{name: http, port: 80, targetPort: 8080},
                        {name: admin, port: 81, targetPort: 8080}]
        ->  container port 8080: one listener, built by port 80 (first in spec.ports), HTTP
    Service api: ports [{name: web, port: 80}]   (no protocol prefix)
        ->  a TCP chain, and an HTTP chain if inbound sniffing is on
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from migrate.model.inventory import Service, ServicePort, Workload
from migrate.model.protocols import Protocol, protocols
from migrate.model.releases import Release

SNIFFED = "if inbound protocol sniffing is on"


@dataclass(frozen=True, slots=True, eq=False)
class Chain:
    """One way a container port is served: the Service port whose instance builds its
    listener (None for the passthrough chain), whether requests take an HTTP chain, and the
    condition under which this happens ("" when it holds in every world considered)."""

    service: Service | None
    port: ServicePort | None
    http: bool
    condition: str = ""
    sniffed: bool = False
    """HTTP only because sniffing found HTTP on a port that also serves TCP."""


def target_number(port: ServicePort, workload: Workload | None) -> int | None:
    """The container port a Service port delivers to on `workload` (None when its named
    targetPort is declared by no container there, or the workload is not known)."""
    if isinstance(port.target_port, int):
        return port.target_port
    named = workload.port_named(port.target_port) if workload else None
    return named.number if named else None


def owners(
    fronting: list[Service],
    workload: Workload | None,
    releases: Iterable[Release],
) -> dict[int, list[tuple[Service, ServicePort]]]:
    """For each container port the Services reach, the Service ports that may build its
    listener: one when the order is known, else every candidate (first in `spec.ports` of
    each Service, §F)."""
    candidates: dict[int, list[tuple[Service, ServicePort]]] = {}
    for service in sorted(fronting, key=lambda s: s.name):
        seen: set[int] = set()
        for port in service.ports:
            number = target_number(port, workload)
            if number and number not in seen:
                seen.add(number)
                candidates.setdefault(number, []).append((service, port))
    ordered = all(r.port_precedence for r in releases)  # 1.5 sorts instances (§F)
    for number, found in candidates.items():
        if len(found) > 1 and ordered and all(s.creation_timestamp for s, _ in found):
            candidates[number] = [min(found, key=lambda c: _instance_order(c[0]))]
    return candidates


def _instance_order(service: Service) -> tuple[str, str]:
    return service.creation_timestamp, f"{service.name}.{service.namespace}"


def chains(
    fronting: list[Service],
    workload: Workload | None,
    releases: tuple[Release, ...],
    sniffing: bool | None,
) -> dict[int, list[Chain]]:
    """Every way each container port the Services reach is served, with its condition."""
    found: dict[int, list[Chain]] = {}
    for number, candidates in owners(fronting, workload, releases).items():
        variants: list[Chain] = []
        for service, port in candidates:
            owner = (
                f"Service {service.namespace}/{service.name} port {port.port} builds the listener"
                if len(candidates) > 1
                else ""
            )
            for kind, when in protocols(port, releases).items():
                condition = _join(owner, when)
                if kind is not Protocol.HTTP:
                    variants.append(Chain(service, port, False, condition))
                if kind is Protocol.HTTP or (kind is Protocol.UNKNOWN and sniffing is not False):
                    sniffed = SNIFFED if kind is Protocol.UNKNOWN and sniffing is None else ""
                    variants.append(
                        Chain(
                            service,
                            port,
                            True,
                            _join(condition, sniffed),
                            sniffed=kind is Protocol.UNKNOWN,
                        )
                    )
        found[number] = list(
            {(id(c.service), c.port, c.http, c.condition): c for c in variants}.values()
        )
    return found


def passthrough(sniffing: bool | None) -> list[Chain]:
    """The chains of a port no Service declares: TCP, and HTTP when sniffing may be on."""
    found = [Chain(None, None, False)]
    if sniffing is not False:
        found.append(Chain(None, None, True, SNIFFED if sniffing is None else "", sniffed=True))
    return found


def _join(*conditions: str) -> str:
    return " and ".join(c for c in conditions if c)
