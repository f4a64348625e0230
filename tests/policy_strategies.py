"""Hypothesis strategies of configurations for the semantic engine's cross-checks: alpha
policies with peers, origins and trigger rules, and beta resources of every kind, all for
the `web` workload of namespace `ns` (`semantics_kit.APP`)."""

from __future__ import annotations

from hypothesis import strategies as st

A = "apiVersion: authentication.istio.io/v1alpha1\n"
B = "apiVersion: security.istio.io/v1beta1\n"
SEGMENTS = st.sampled_from(["/", "/a", "/ab", "/b", "/a/", "a", "b", "/api/", ".js"])
LITERAL = st.lists(SEGMENTS, min_size=1, max_size=3).map("".join)
ISSUERS = st.sampled_from(["iss-a", "iss-b"])


@st.composite
def string_match(draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(["exact", "prefix", "suffix", "regex"]))
    value = draw(LITERAL)
    if how == "regex":
        value = draw(st.sampled_from(["/a.*", "/(a|b)/.*", ".*\\.js", "/ab?", "/[ab]+"]))
    return f"{{{how}: '{value}'}}"


@st.composite
def alpha_policy(draw: st.DrawFn, name: str) -> str:
    scope = draw(st.sampled_from(["namespace", "service", "port"]))
    lines = [
        f"---\n{A}kind: Policy\nmetadata: {{name: {'default' if scope == 'namespace' else name}"
        ", namespace: ns}\nspec:\n"
    ]
    if scope == "service":
        lines.append("  targets: [{name: web}]\n")
    elif scope == "port":
        lines.append("  targets: [{name: web, ports: [{number: 8000}]}]\n")
    peer = draw(
        st.sampled_from(
            [
                "",
                "  peers: [{mtls: {}}]\n",
                "  peers: [{mtls: {mode: PERMISSIVE}}]\n",
                "  peers:\n  - mtls:\n",
            ]
        )
    )
    lines.append(peer)
    issuers = draw(st.lists(ISSUERS, max_size=2, unique=True))
    if issuers:
        lines.append("  origins:\n")
        for issuer in issuers:
            lines.append(f"  - jwt:\n      issuer: {issuer}\n")
            if draw(st.booleans()):
                lines.append(f"      jwksUri: https://k/{issuer}\n")
            if draw(st.booleans()):
                lines.append("      jwtHeaders: [x-token]\n")
            rules = draw(
                st.lists(
                    st.tuples(
                        st.lists(string_match(), max_size=2), st.lists(string_match(), max_size=2)
                    ),
                    max_size=2,
                )
            )
            if rules:
                lines.append("      triggerRules:\n")
                for excluded, included in rules:
                    lines.append(
                        f"      - excludedPaths: [{', '.join(excluded)}]\n"
                        f"        includedPaths: [{', '.join(included)}]\n"
                    )
        if draw(st.booleans()):
            lines.append("  originIsOptional: true\n")
    if draw(st.booleans()):
        lines.append("  principalBinding: USE_ORIGIN\n")
    if draw(st.integers(0, 3)) == 0:
        lines.append("  peerIsOptional: true\n")
    return "".join(lines)


@st.composite
def beta_config(draw: st.DrawFn) -> str:
    parts = []
    mode = draw(st.sampled_from(["", "STRICT", "PERMISSIVE", "DISABLE", "UNSET"]))
    if mode:
        selector = draw(st.sampled_from(["", "  selector: {matchLabels: {app: web}}\n"]))
        port = (
            "  portLevelMtls: {80: {mode: PERMISSIVE}}\n"
            if selector and draw(st.booleans())
            else ""
        )
        parts.append(
            f"---\n{B}kind: PeerAuthentication\nmetadata: {{name: pa, namespace: ns}}\n"
            f"spec:\n{selector}  mtls: {{mode: {mode}}}\n{port}"
        )
    issuers = draw(st.lists(ISSUERS, max_size=2, unique=True))
    if issuers:
        rules = "".join(
            f"  - issuer: {i}\n"
            + draw(
                st.sampled_from(["", f"    jwksUri: https://k/{i}\n", "    jwksUri: https://o/\n"])
            )
            + ("    fromHeaders: [{name: x-token}]\n" if draw(st.booleans()) else "")
            + ("    forwardOriginalToken: true\n" if draw(st.booleans()) else "")
            for i in issuers
        )
        parts.append(
            f"---\n{B}kind: RequestAuthentication\nmetadata: {{name: ra, namespace: ns}}"
            f"\nspec:\n  jwtRules:\n{rules}"
        )
    for index in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["DENY", "ALLOW"]))
        field = draw(st.sampled_from(["paths", "notPaths", "methods", "ports"]))
        values = {
            "paths": draw(st.lists(LITERAL.map(lambda v: v + "*"), min_size=1, max_size=2)),
            "notPaths": draw(st.lists(LITERAL, min_size=1, max_size=2)),
            "methods": ["OPTIONS"],
            "ports": ["80"],
        }[field]
        source = draw(
            st.sampled_from(
                [
                    "",
                    "    from: [{source: {notRequestPrincipals: ['*']}}]\n",
                    "    from: [{source: {requestPrincipals: ['iss-a/*']}}]\n",
                ]
            )
        )
        when = draw(
            st.sampled_from(
                [
                    "",
                    "    when: [{key: 'request.auth.claims[iss]', notValues: [iss-a]}]\n",
                    "    when: [{key: request.auth.principal, values: ['iss-b/*']}]\n",
                    "    when: [{key: 'request.headers[x-env]', values: [prod]}]\n",
                    "    when: [{key: source.namespace, notValues: [default]}]\n",
                ]
            )
        )
        parts.append(
            f"---\n{B}kind: AuthorizationPolicy\nmetadata: {{name: ap{index}, namespace: ns}}\n"
            f"spec:\n  action: {action}\n  rules:\n  - to: [{{operation: {{{field}: {values}}}}}]\n"
            + source
            + when
        )
    return "".join(parts)
