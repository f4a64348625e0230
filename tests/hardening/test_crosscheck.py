"""The exact engine against brute force: for generated configuration pairs, every concrete
request (boundary and random paths, every peer, token, method and header combination) is
decided exactly as the witness of the cell it falls in. One disagreement fails the suite."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from semantics_kit import APP, SHARED_APP, side

from migrate.model.releases import RELEASES, Release
from migrate.semantics.environment import Environment
from migrate.semantics.equivalence import differ
from migrate.semantics.proof import classes
from migrate.semantics.side import Settings
from migrate.semantics.space import path_patterns, requests
from migrate.semantics.strings import signature

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
        parts.append(
            f"---\n{B}kind: AuthorizationPolicy\nmetadata: {{name: ap{index}, namespace: ns}}\n"
            f"spec:\n  action: {action}\n  rules:\n  - to: [{{operation: {{{field}: {values}}}}}]\n"
            + source.replace("    from", "    from", 1)
        )
    return "".join(parts)


BOUNDARY = ["/", "/a", "/ab", "/a/", "/api/", "/api/x.js", "/b/", "/aa", "/x"]


@settings(max_examples=max(500, settings.default.max_examples))
@given(
    before=st.lists(alpha_policy("p"), max_size=2).map("".join),
    after=beta_config(),
    extra=st.lists(LITERAL.filter(lambda p: p.startswith("/")), max_size=4),
    app=st.sampled_from([APP, SHARED_APP]),
    release=st.sampled_from(RELEASES),
    data=st.data(),
)
def test_every_concrete_request_agrees_with_its_cell(
    before: str,
    after: str,
    extra: list[str],
    *,
    app: str,
    release: Release,
    data: st.DataObject,
) -> None:
    """Concrete requests decide like the witness of their cell, on both sides, on every
    release, through every chain a port may have (sniffed, or built by either of two Service
    ports), with tokens signed for every combination of key sources and peers of another
    trust domain where peerIsOptional makes them matter."""
    config = Settings(release)
    raw = not release.strip_query
    old, inventory = side(before, app=app)
    new, _ = side(after, app=app)
    for group in classes(old, new, inventory, environment=Environment()):
        if not group.destination.http:
            continue
        policies = [*group.before.authz, *group.after.authz]
        patterns = path_patterns(group, policies, raw=raw)
        witnesses = {}
        for request in requests(group, raw=raw):
            key = (
                request.peer,
                request.token,
                request.method,
                request.headers,
                signature(patterns, request.path),
            )
            witnesses.setdefault(key, request)
        sample = data.draw(
            st.lists(st.sampled_from(sorted(witnesses, key=str)), max_size=12, unique=True)
        )
        paths = BOUNDARY + extra + (["/a?x", "/ab?.js", "/api/?q"] if raw else [])
        for request in (witnesses[k] for k in sample):
            for path in paths:
                concrete = request.__class__(
                    request.destination,
                    request.peer,
                    request.token,
                    path,
                    request.method,
                    request.headers,
                )
                key = (
                    concrete.peer,
                    concrete.token,
                    concrete.method,
                    concrete.headers,
                    signature(patterns, path),
                )
                witness = witnesses[key]  # completeness: the cell was enumerated
                got = differ(group.before, group.after, concrete, config, config)
                want = differ(group.before, group.after, witness, config, config)
                assert (got and (got.change, got.before, got.after, got.twin)) == (
                    want and (want.change, want.before, want.after, want.twin)
                ), (concrete, witness)
