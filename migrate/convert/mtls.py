"""mTLS: PeerAuthentication from the alpha peers (§A.3, §D.2-§D.4).

    Policy ns/default: peers: [{mtls: {}}]        ->  PeerAuthentication ns/default, STRICT
    Policy ns/p: targets [{name: web}], no peers  ->  PeerAuthentication with web's selector,
                                                      PERMISSIVE (alpha DISABLE; plaintext is
                                                      accepted before and after, §D.3, §D.4)
    target ports [{number: 8000}] -> 80           ->  portLevelMtls: {'80': {mode: ...}}

A service policy without mTLS still sets that service's mode: alpha never merged, so it must
not inherit a stricter namespace mode.
"""

from __future__ import annotations

from typing import Any

from migrate.convert.scopes import TargetScope
from migrate.model.alpha import AlphaPolicy, MtlsMode

_MODES = {
    MtlsMode.STRICT: "STRICT",
    MtlsMode.PERMISSIVE: "PERMISSIVE",
    MtlsMode.DISABLE: "PERMISSIVE",
}


def mode(policy: AlphaPolicy, *, faithful: bool = False) -> str:
    """The beta mode: STRICT and PERMISSIVE as they are; DISABLE becomes PERMISSIVE, which
    accepts the same plaintext and stops failing mTLS clients (a compatible change), or stays
    DISABLE when asked to be faithful (then clients need a DestinationRule, §D.4)."""
    if faithful and policy.mtls_mode is MtlsMode.DISABLE:
        return "DISABLE"
    return _MODES[policy.mtls_mode]


def namespace_spec(policy: AlphaPolicy, *, faithful: bool = False) -> dict[str, Any]:
    """The spec of a mesh or namespace PeerAuthentication."""
    return {"mtls": {"mode": mode(policy, faithful=faithful)}}


def workload_spec(
    policy: AlphaPolicy, scope: TargetScope, *, faithful: bool = False
) -> dict[str, Any] | None:
    """The spec for one target's pods; None when the policy wins none of its ports (a target
    without ports covers all of them, even when the Service declares none)."""
    if not scope.governed and not scope.all_ports:
        return None
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(scope.selector)}}
    if scope.all_ports:
        spec["mtls"] = {"mode": mode(policy, faithful=faithful)}
        return spec
    ports = sorted({p for g in scope.governed for p in g.owned})
    if not ports:
        return None
    # keys as the API server and kustomize read them: JSON object keys are strings
    spec["portLevelMtls"] = {str(port): {"mode": mode(policy, faithful=faithful)} for port in ports}
    return spec


def client_rule(
    policy: AlphaPolicy, scope: TargetScope | None, namespace: str, root: str
) -> tuple[str, dict[str, Any]] | None:
    """The DestinationRule (host, spec) that makes clients send plaintext to a faithful
    DISABLE: auto mTLS reads only namespace and mesh PeerAuthentications (§D.4, §E.3)."""
    if policy.mtls_mode is not MtlsMode.DISABLE:
        return None
    if scope is None:
        host = "*.local" if namespace == root else f"*.{namespace}.svc.cluster.local"
        return host, {"host": host, "trafficPolicy": {"tls": {"mode": "DISABLE"}}}
    host = f"{scope.service.name}.{scope.service.namespace}.svc.cluster.local"
    if scope.all_ports:
        return host, {"host": host, "trafficPolicy": {"tls": {"mode": "DISABLE"}}}
    settings = [
        {"port": {"number": g.port.port}, "tls": {"mode": "DISABLE"}} for g in scope.governed
    ]
    return host, {"host": host, "trafficPolicy": {"portLevelSettings": settings}}
