"""mTLS: PeerAuthentication from the alpha peers (reference §A.3, §D.2-§D.4).

    Policy ns/default: peers: [{mtls: {}}]        ->  PeerAuthentication ns/default, STRICT
    Policy ns/p: targets [{name: web}], no peers  ->  PeerAuthentication with web's selector,
                                                      PERMISSIVE (alpha DISABLE; plaintext is
                                                      accepted before and after, §D.3, §D.4)
    target ports [{number: 8000}] -> 80           ->  portLevelMtls: {80: {mode: ...}}

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


def mode(policy: AlphaPolicy) -> str:
    """The beta mode: STRICT and PERMISSIVE as they are; DISABLE becomes PERMISSIVE, which
    accepts the same plaintext and stops failing mTLS clients (a compatible change)."""
    return _MODES[policy.mtls_mode]


def namespace_spec(policy: AlphaPolicy) -> dict[str, Any]:
    """The spec of a mesh or namespace PeerAuthentication."""
    return {"mtls": {"mode": mode(policy)}}


def workload_spec(policy: AlphaPolicy, scope: TargetScope) -> dict[str, Any] | None:
    """The spec for one target's pods; None when the policy wins none of its ports."""
    if not scope.governed:
        return None
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(scope.selector)}}
    if scope.all_ports:
        spec["mtls"] = {"mode": mode(policy)}
        return spec
    ports = sorted({p for g in scope.governed for p in g.container_ports})
    if not ports:
        return None
    spec["portLevelMtls"] = {port: {"mode": mode(policy)} for port in ports}
    return spec
