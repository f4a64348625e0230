"""The protocol Istio gives a Service port (§F).

From its name prefix (`http-web`: HTTP; `tcp-db`, `https`, `mongo`...: TCP), or from
`appProtocol` from 1.6 (earlier releases ignore it). A port whose protocol neither says is
left to inbound protocol sniffing: HTTP when sniffing is on and the request is HTTP, else TCP.
Well-known server-first ports (SMTP, DNS, MySQL, MongoDB) are never sniffed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from migrate.model.inventory import ServicePort
from migrate.model.releases import Release

WELL_KNOWN_TCP = frozenset({25, 53, 3306, 27017})
"""Service ports Istio never sniffs: SMTP, DNS, MySQL, MongoDB (pkg/config/kube)."""
_HTTP = frozenset({"http", "http2", "http_proxy", "grpc", "grpc-web"})
_TCP = frozenset({"tcp", "https", "tls", "mongo", "redis", "mysql", "udp"})


class Protocol(enum.Enum):
    """What Istio makes of a Service port's protocol."""

    HTTP = "HTTP"
    TCP = "TCP"
    UNKNOWN = "unknown"
    """Neither name nor appProtocol says: sniffed when inbound sniffing is on, else TCP."""


def protocol(port: ServicePort, release: Release | None = None) -> Protocol:
    """The protocol Istio gives a Service port on `release` (appProtocol counts from 1.6;
    None: from the name alone)."""
    if port.protocol.upper() not in ("", "TCP"):
        return Protocol.TCP  # UDP and SCTP are not proxied as HTTP
    use_app = port.app_protocol and (release is None or release.app_protocol)
    name = (port.app_protocol if use_app else port.name).lower()
    if name.startswith("grpc-web"):
        return Protocol.HTTP
    prefix = name.split("-", 1)[0]
    if prefix in _HTTP:
        return Protocol.HTTP
    if prefix in _TCP or port.port in WELL_KNOWN_TCP:
        return Protocol.TCP
    return Protocol.UNKNOWN


def protocols(port: ServicePort, releases: Iterable[Release]) -> dict[Protocol, str]:
    """The protocols a port has across the releases, each with its condition ("" when the
    releases agree)."""
    by: dict[Protocol, list[Release]] = {}
    for release in releases:
        by.setdefault(protocol(port, release), []).append(release)
    if len(by) <= 1:
        return dict.fromkeys(by or {protocol(port): []}, "")
    return {p: "on " + ", ".join(r.name for r in sorted(rs)) for p, rs in by.items()}


def may_be_http(port: ServicePort, releases: Iterable[Release], sniffing: bool | None) -> bool:
    """True when some request through the port can take an HTTP chain in a world considered."""
    found = protocols(port, releases)
    return Protocol.HTTP in found or (Protocol.UNKNOWN in found and sniffing is not False)


def unknown_protocol(port: ServicePort, releases: Iterable[Release]) -> bool:
    """True when Istio cannot tell the port's protocol on some release (sniffing decides)."""
    return Protocol.UNKNOWN in protocols(port, releases)
