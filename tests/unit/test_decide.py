"""Table tests of both models, one rule per row, naming the reference section it encodes."""

from __future__ import annotations

import pytest
from semantics_kit import FOREIGN, HTTP, MTLS, PLAIN, TCP, applies, request, token

from migrate.model.releases import BY_NAME
from migrate.semantics.decide import decide
from migrate.semantics.environment import Environment
from migrate.semantics.proof import VerifyOptions
from migrate.semantics.request import Destination, Outcome, Request, Verdict
from migrate.semantics.side import Settings

A = "apiVersion: authentication.istio.io/v1alpha1\n"
B = "apiVersion: security.istio.io/v1beta1\n"


def policy(name: str, spec: str, *, kind: str = "Policy", created: str = "") -> str:
    stamp = f", creationTimestamp: '{created}'" if created else ""
    namespace = "" if kind == "MeshPolicy" else ", namespace: ns"
    return f"---\n{A}kind: {kind}\nmetadata: {{name: {name}{namespace}{stamp}}}\nspec:\n{spec}"


def beta(kind: str, name: str, spec: str, namespace: str = "ns", created: str = "") -> str:
    stamp = f", creationTimestamp: '{created}'" if created else ""
    return (
        f"---\n{B}kind: {kind}\nmetadata: {{name: {name}, namespace: {namespace}{stamp}}}\n"
        f"spec:\n{spec}"
    )


JWT = "  origins:\n  - jwt:\n      issuer: iss\n      jwksUri: https://keys.example/jwks\n"
JWT_RULES = JWT + (
    "      triggerRules:\n      - excludedPaths: [{exact: /health}]\n"
    "        includedPaths: [{prefix: /api/}]\n"
)
RA = beta(
    "RequestAuthentication",
    "ra",
    "  selector: {matchLabels: {app: web}}\n  jwtRules:\n  - issuer: iss\n"
    "    jwksUri: https://keys.example/jwks\n",
)
DENY_NO_TOKEN = beta(
    "AuthorizationPolicy",
    "deny",
    "  selector: {matchLabels: {app: web}}\n  action: DENY\n  rules:\n"
    "  - from: [{source: {notRequestPrincipals: ['*']}}]\n",
)


def outcome(
    config: str, req: Request, destination: Destination = HTTP, settings: Settings | None = None
) -> Outcome:
    settings = settings or Settings()
    return decide(applies(config, destination, settings), req, settings)


MTLS_CASES = [
    pytest.param(
        policy("default", "  peers:\n  - mtls:\n"),
        PLAIN,
        Verdict.REFUSED,
        id="A.3-null-mtls-is-strict",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n"),
        PLAIN,
        Verdict.REFUSED,
        id="A.3-empty-mtls-is-strict",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"),
        PLAIN,
        Verdict.ALLOW,
        id="A.3-permissive-accepts-plaintext",
    ),
    pytest.param(
        policy("default", JWT.replace("  origins", "  originIsOptional: true\n  origins")),
        MTLS,
        Verdict.MISMATCH,
        id="A.3-no-mtls-peer-is-disable",
    ),
    pytest.param("", MTLS, Verdict.ALLOW, id="C-no-policy-is-permissive-mtls"),
    pytest.param("", PLAIN, Verdict.ALLOW, id="C-no-policy-is-permissive-plaintext"),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n")
        + policy("web", "  targets: [{name: web}]\n  peers: [{mtls: {mode: PERMISSIVE}}]\n"),
        PLAIN,
        Verdict.ALLOW,
        id="A.5-service-overrides-namespace",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n", kind="MeshPolicy")
        + policy("default", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"),
        PLAIN,
        Verdict.ALLOW,
        id="A.5-namespace-overrides-mesh",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n", kind="MeshPolicy"),
        PLAIN,
        Verdict.REFUSED,
        id="A.5-mesh-fallback",
    ),
    pytest.param(
        policy("boo", "  peers: [{mtls: {}}]\n", kind="MeshPolicy"),
        PLAIN,
        Verdict.ALLOW,
        id="A.1-meshpolicy-not-default-ignored",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web, ports: [{number: 8000}]}]\n  peers: [{mtls: {}}]\n"),
        PLAIN,
        Verdict.REFUSED,
        id="A.5-port-by-service-number",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web, ports: [{number: 80}]}]\n  peers: [{mtls: {}}]\n"),
        PLAIN,
        Verdict.ALLOW,
        id="A.5-container-port-number-does-not-match",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web, ports: [{name: http}]}]\n  peers: [{mtls: {}}]\n"),
        PLAIN,
        Verdict.REFUSED,
        id="A.5-port-by-service-port-name",
    ),
    pytest.param(
        beta("PeerAuthentication", "pa", "  mtls: {mode: STRICT}\n"),
        PLAIN,
        Verdict.REFUSED,
        id="B.2-namespace-strict",
    ),
    pytest.param(
        beta("PeerAuthentication", "mesh", "  mtls: {mode: STRICT}\n", "istio-system")
        + beta("PeerAuthentication", "pa", "  mtls: {mode: UNSET}\n"),
        PLAIN,
        Verdict.REFUSED,
        id="B.2-unset-inherits",
    ),
    pytest.param(
        beta("PeerAuthentication", "mesh", "  mtls: {mode: STRICT}\n", "istio-system")
        + beta(
            "PeerAuthentication",
            "wl",
            "  selector: {matchLabels: {app: web}}\n  mtls: {mode: PERMISSIVE}\n",
        ),
        PLAIN,
        Verdict.ALLOW,
        id="B.2-workload-overrides-mesh",
    ),
    pytest.param(
        beta(
            "PeerAuthentication",
            "wl",
            "  selector: {matchLabels: {app: web}}\n  mtls: {mode: STRICT}\n",
            "istio-system",
        ),
        PLAIN,
        Verdict.ALLOW,
        id="B.2-root-namespace-selector-ignored",
    ),
    pytest.param(
        beta(
            "PeerAuthentication",
            "wl",
            "  selector: {matchLabels: {app: web}}\n  portLevelMtls: {80: {mode: STRICT}}\n",
        ),
        PLAIN,
        Verdict.REFUSED,
        id="B.2-port-level-by-container-port",
    ),
    pytest.param(
        beta("PeerAuthentication", "a", "  mtls: {mode: STRICT}\n", created="2020-01-01")
        + beta("PeerAuthentication", "b", "  mtls: {mode: PERMISSIVE}\n", created="2020-02-01"),
        PLAIN,
        Verdict.REFUSED,
        id="B.2-oldest-namespace-policy-wins",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n", kind="MeshPolicy")
        + beta(
            "PeerAuthentication",
            "wl",
            "  selector: {matchLabels: {app: web}}\n  mtls: {mode: PERMISSIVE}\n",
        ),
        PLAIN,
        Verdict.ALLOW,
        id="C-any-peer-authentication-overrides-alpha",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n"),
        FOREIGN,
        Verdict.DENY_401,
        id="A.7-mtls-method-refuses-another-trust-domain",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n  peerIsOptional: true\n"),
        FOREIGN,
        Verdict.ALLOW,
        id="A.7-peer-is-optional-lets-another-trust-domain-through",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"),
        FOREIGN,
        Verdict.DENY_401,
        id="A.7-permissive-still-checks-a-certificate-s-trust-domain",
    ),
    pytest.param(
        beta("PeerAuthentication", "default", "  mtls: {mode: STRICT}\n"),
        FOREIGN,
        Verdict.DENY_401,
        id="B.2-beta-peers-refuse-another-trust-domain",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n  peerIsOptional: true\n")
        + beta("PeerAuthentication", "default", "  mtls: {mode: STRICT}\n"),
        FOREIGN,
        Verdict.ALLOW,
        id="C-beta-peers-keep-alpha-peer-is-optional",
    ),
    pytest.param(
        policy("default", "  peers: [{mtls: {}}]\n  peerIsOptional: true\n")
        + beta("PeerAuthentication", "default", "  mtls: {mode: PERMISSIVE}\n"),
        FOREIGN,
        Verdict.ALLOW,
        id="C-beta-permissive-peers-keep-alpha-peer-is-optional",
    ),
    pytest.param(
        beta("PeerAuthentication", "default", "  mtls: {mode: DISABLE}\n"),
        FOREIGN,
        Verdict.MISMATCH,
        id="B.2-disable-refuses-any-mtls",
    ),
    pytest.param(
        beta(
            "PeerAuthentication",
            "default",
            "  selector: {matchLabels: {app: web}}\n  mtls: {mode: PERMISSIVE}\n",
        )
        + beta(
            "PeerAuthentication",
            "default-strict",
            "  selector: {matchLabels: {app: web}}\n  mtls: {mode: STRICT}\n",
        ),
        PLAIN,
        Verdict.REFUSED,
        id="B.2-ties-broken-by-name-dot-namespace",
    ),
]


@pytest.mark.parametrize(("config", "peer", "verdict"), MTLS_CASES)
def test_mtls_rules(config: str, peer: object, verdict: Verdict) -> None:
    """Each mTLS precedence rule decides the transport outcome as the reference says."""
    assert outcome(config, request(peer=peer)).verdict is verdict  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("release", "verdict"),
    [
        pytest.param("1.4.4-1.4.10", Verdict.MISMATCH, id="A.3-no-policy-is-plaintext-only-on-1.4"),
        pytest.param("1.5.0", Verdict.ALLOW, id="C-no-policy-is-permissive-from-1.5"),
    ],
)
def test_no_policy_at_all_depends_on_release(release: str, verdict: Verdict) -> None:
    """Where no policy of either API applies, 1.4 built no TLS chain; 1.5 accepts both."""
    settings = Settings(release=BY_NAME[release])
    assert outcome("", request(peer=MTLS), settings=settings).verdict is verdict


@pytest.mark.parametrize(
    ("release", "path", "verdict"),
    [
        pytest.param(
            "1.4.4-1.4.10", "/ip?a?b", Verdict.DENY_401, id="A.7-query-dropped-from-1.4.4"
        ),
        pytest.param("1.5.1-1.5.10", "/ip?x", Verdict.DENY_401, id="A.7-query-dropped-on-1.5"),
        pytest.param("1.4.1-1.4.3", "/ip?x", Verdict.ALLOW, id="A.7-raw-path-before-1.4.4"),
    ],
)
def test_trigger_rules_see_the_query_only_before_1_4_4(
    release: str, path: str, verdict: Verdict
) -> None:
    """An exact trigger path requires the token with a query string added from 1.4.4 (the
    CVE-2020-8595 fix); before it, the raw path did not match and the request passed."""
    config = policy(
        "default",
        JWT.replace(
            "      jwksUri", "      triggerRules: [{includedPaths: [{exact: /ip}]}]\n      jwksUri"
        ),
    )
    settings = Settings(release=BY_NAME[release])
    assert outcome(config, request(path=path), settings=settings).verdict is verdict


def test_a_request_authentication_binds_the_principal_to_the_token() -> None:
    """§C: with a RequestAuthentication, request.auth.principal is the token's iss/sub (an
    ALLOW on requestPrincipals admits it), not the mTLS peer's identity."""
    allow = beta(
        "AuthorizationPolicy",
        "allow",
        "  action: ALLOW\n  rules:\n  - from: [{source: {requestPrincipals: [iss/subject]}}]\n",
    )
    req = request(peer=MTLS, tok=token(aud="aud"))
    assert outcome(RA + allow, req).verdict is Verdict.ALLOW
    assert outcome(RA + allow, request(peer=MTLS)).verdict is Verdict.DENY_403


def test_a_peer_jwt_method_never_succeeds() -> None:
    """§A.2: peer `jwt` methods were never available; a policy with only such a peer refuses
    every request at peer authentication (and has no TLS chain, DISABLE)."""
    config = policy("default", "  peers:\n  - jwt: {issuer: iss}\n")
    assert outcome(config, request(peer=PLAIN)).verdict is Verdict.DENY_401


def test_port_precedence_depends_on_version() -> None:
    """§A.5: an older port-less entry wins in 1.4.x; the port-specific one wins from 1.5."""
    config = policy(
        "old", "  targets: [{name: web}]\n  peers: [{mtls: {}}]\n", created="2020-01-01"
    ) + policy(
        "new",
        "  targets: [{name: web, ports: [{number: 8000}]}]\n"
        "  peers: [{mtls: {mode: PERMISSIVE}}]\n",
        created="2020-02-01",
    )
    req = request(peer=PLAIN)
    assert (
        outcome(config, req, settings=Settings(release=BY_NAME["1.4.4-1.4.10"])).verdict
        is Verdict.REFUSED
    )
    assert (
        outcome(config, req, settings=Settings(release=BY_NAME["1.5.0"])).verdict is Verdict.ALLOW
    )


ORIGIN = "401 'Origin authentication failed.'"
JWT_CASES = [
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT),
        None,
        "/",
        ORIGIN,
        id="A.7-required-token-missing",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT),
        token(),
        "/",
        "allowed",
        id="A.7-valid-token",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT),
        token(sub=False),
        "/",
        "allowed",
        id="A.7-valid-token-without-sub-passes",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT_RULES),
        None,
        "/health",
        "allowed",
        id="A.7-excluded-path-needs-no-token",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT_RULES),
        token(valid=False),
        "/other",
        "allowed",
        id="A.7-untriggered-path-ignores-invalid-token",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT_RULES),
        None,
        "/api/x",
        ORIGIN,
        id="A.7-included-path-needs-token",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n" + JWT),
        token("other"),
        "/",
        ORIGIN,
        id="A.7-token-of-untriggered-issuer",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n  originIsOptional: true\n" + JWT),
        token(valid=False),
        "/",
        "allowed",
        id="A.7-origin-optional",
    ),
    pytest.param(
        policy("web", "  targets: [{name: web}]\n  principalBinding: USE_ORIGIN\n"),
        None,
        "/",
        ORIGIN,
        id="A.7-use-origin-without-origins",
    ),
    pytest.param(
        policy(
            "web",
            "  targets: [{name: web}]\n"
            + JWT.replace("      jwksUri", "      jwtHeaders: [x-token]\n      jwksUri"),
        ),
        token(where=("header", "x-token", "")),
        "/",
        "allowed",
        id="A.7-custom-header-no-prefix",
    ),
    pytest.param(
        policy(
            "web",
            "  targets: [{name: web}]\n"
            + JWT.replace("      jwksUri", "      jwtHeaders: [x-token]\n      jwksUri"),
        ),
        token(),
        "/",
        ORIGIN,
        id="A.7-custom-header-replaces-default-location",
    ),
    pytest.param(RA, None, "/", "allowed", id="B.3-missing-token-passes"),
    pytest.param(
        RA, token(valid=False), "/", "401 'Jwt verification fails'", id="B.3-invalid-token-rejected"
    ),
    pytest.param(
        RA,
        token("other"),
        "/",
        "401 'Jwt issuer is not configured'",
        id="B.3-unknown-issuer-rejected",
    ),
    pytest.param(
        RA.replace("    jwksUri", "    audiences: [aud]\n    jwksUri"),
        token(aud="else"),
        "/",
        "403 'Audiences in Jwt are not allowed'",
        id="B.3-wrong-audience-is-403",
    ),
    pytest.param(
        RA,
        token(where=("header", "x-token", "")),
        "/",
        "allowed",
        id="B.3-token-at-unread-location-ignored",
    ),
    pytest.param(
        RA,
        token(),
        "/",
        "allowed, token removed before the application",
        id="B.3-token-stripped-by-default",
    ),
    pytest.param(
        RA.replace("    jwksUri", "    forwardOriginalToken: true\n    jwksUri"),
        token(),
        "/",
        "allowed",
        id="B.3-forward-original-token",
    ),
    pytest.param(
        RA,
        token(where=("param", "access_token", "")),
        "/",
        "allowed",
        id="B.3-param-token-never-removed",
    ),
    pytest.param(
        RA + DENY_NO_TOKEN,
        None,
        "/",
        "403 'RBAC: access denied'",
        id="B.4-deny-without-request-principal",
    ),
    pytest.param(
        RA + DENY_NO_TOKEN,
        token(sub=False),
        "/",
        "403 'RBAC: access denied'",
        id="D.5a-valid-token-without-sub-denied",
    ),
    pytest.param(
        RA + policy("web", "  targets: [{name: web}]\n" + JWT),
        None,
        "/",
        "allowed",
        id="C-request-authentication-switches-off-alpha-jwt",
    ),
]


@pytest.mark.parametrize(("config", "tok", "path", "expected"), JWT_CASES)
def test_jwt_rules(config: str, tok: object, path: str, expected: str) -> None:
    """Each JWT rule of both APIs gives the outcome the reference states."""
    got = outcome(config, request(peer=PLAIN, tok=tok, path=path))  # type: ignore[arg-type]
    assert str(got) == expected


def test_cors_preflight_bypasses_alpha_origin_authentication() -> None:
    """§A.7: OPTIONS with Origin and Access-Control-Request-Method passes without a token."""
    config = policy("web", "  targets: [{name: web}]\n" + JWT)
    preflight = request(
        method="OPTIONS",
        headers=(("access-control-request-method", "GET"), ("origin", "https://a")),
    )
    assert outcome(config, preflight).verdict is Verdict.ALLOW
    assert outcome(config, preflight, settings=Settings(release=BY_NAME["1.4.0"])).verdict.denied
    assert outcome(config, request(method="OPTIONS")).verdict is Verdict.DENY_401


def test_http_only_deny_fields_deny_every_tcp_connection() -> None:
    """§B.4: a DENY rule whose only field is HTTP-only denies all traffic on a TCP port."""
    assert outcome(RA + DENY_NO_TOKEN, request(TCP), TCP).verdict is Verdict.DENY_403


def test_allow_rule_with_http_fields_is_dropped_on_tcp() -> None:
    """§B.4: an ALLOW rule using paths cannot match on TCP, so the ALLOW policy denies."""
    config = beta(
        "AuthorizationPolicy", "allow", "  rules:\n  - to: [{operation: {paths: ['/api/*']}}]\n"
    )
    assert outcome(config, request(TCP), TCP).verdict is Verdict.DENY_403
    assert outcome(config, request(path="/api/x")).verdict is Verdict.ALLOW
    assert outcome(config, request(path="/other")).verdict is Verdict.DENY_403


def test_alpha_jwt_never_applies_to_tcp() -> None:
    """§A.6: JWT filters exist only on HTTP chains."""
    config = policy("web", "  targets: [{name: web}]\n" + JWT)
    assert outcome(config, request(TCP), TCP).verdict is Verdict.ALLOW


def test_query_strings_reach_trigger_rules_before_1_4_4() -> None:
    """§A.7: before proxy 1.4.4 `/ip?x` escaped an exact `/ip` trigger rule (CVE-2020-8595);
    the engine finds that difference only when told the old version."""
    from semantics_kit import side

    from migrate.semantics.proof import verify_sides

    before = policy(
        "web",
        "  targets: [{name: web}]\n"
        + JWT.replace(
            "      jwksUri", "      triggerRules: [{includedPaths: [{exact: /ip}]}]\n      jwksUri"
        ),
    )
    after = RA + beta(
        "AuthorizationPolicy",
        "deny",
        "  selector: {matchLabels: {app: web}}\n"
        "  action: DENY\n  rules:\n  - from: [{source: {notRequestPrincipals: ['*']}}]"
        "\n    to: [{operation: {paths: [/ip]}}]\n",
    )

    def witnesses(version: str) -> set[str]:
        release = BY_NAME[version]
        settings = Settings(release=release)
        old, inventory = side(before, settings)
        new, _ = side(after, settings)
        options = VerifyOptions(environment=Environment((release,), releases_from="test"))
        report = verify_sides(old, new, inventory, options)
        return {
            c.witness.path
            for c in report.causes
            if c.change.value == "stricter" and not c.inherent and c.witness.method == "GET"
        }

    assert "/ip?" in {p[:4] for p in witnesses("1.4.1-1.4.3")}
    assert not any("?" in p for p in witnesses("1.5.0"))


def _tcp_authz(action: str, field: str, values: str) -> str:
    return beta(
        "AuthorizationPolicy",
        "by-peer",
        f"  selector: {{matchLabels: {{app: web}}}}\n  action: {action}\n"
        f"  rules:\n  - from: [{{source: {{{field}: {values}}}}}]\n",
    )


PERMISSIVE = beta("PeerAuthentication", "default", "  mtls: {mode: PERMISSIVE}\n")
STRICT = beta("PeerAuthentication", "default", "  mtls: {mode: STRICT}\n")
ONLY_DEFAULT = "['cluster.local/ns/default/sa/default']"


ALLOW_DEFAULT = PERMISSIVE + _tcp_authz("ALLOW", "principals", ONLY_DEFAULT)
ALLOW_ANY = PERMISSIVE + _tcp_authz("ALLOW", "principals", "['*']")
DENY_DEFAULT = PERMISSIVE + _tcp_authz("DENY", "principals", ONLY_DEFAULT)
DENY_NONE = PERMISSIVE + _tcp_authz("DENY", "notPrincipals", "['*']")
CLOSED = "403 'RBAC: connection closed'"
TCP_PRINCIPAL_CASES = [
    ("B.4-tcp-allow-principal-matches-the-mtls-peer", ALLOW_DEFAULT, MTLS, "allowed"),
    ("B.4-tcp-allow-principal-plaintext-has-none", ALLOW_DEFAULT, PLAIN, CLOSED),
    ("B.4-tcp-allow-principal-other-trust-domain", ALLOW_DEFAULT, FOREIGN, CLOSED),
    ("B.4-tcp-allow-any-principal-needs-mtls", ALLOW_ANY, PLAIN, CLOSED),
    ("B.4-tcp-allow-any-principal-mtls", ALLOW_ANY, MTLS, "allowed"),
    (
        "B.2-strict-refuses-plaintext-before-rbac",
        STRICT + _tcp_authz("ALLOW", "principals", ONLY_DEFAULT),
        PLAIN,
        "connection refused (mTLS required)",
    ),
    (
        "B.4-tcp-allow-principal-under-strict",
        STRICT + _tcp_authz("ALLOW", "principals", ONLY_DEFAULT),
        MTLS,
        "allowed",
    ),
    ("B.4-tcp-deny-principal-closes-the-mtls-peer", DENY_DEFAULT, MTLS, CLOSED),
    ("B.4-tcp-deny-principal-plaintext-has-none", DENY_DEFAULT, PLAIN, "allowed"),
    ("B.4-tcp-deny-without-principal-closes-plaintext", DENY_NONE, PLAIN, CLOSED),
    ("B.4-tcp-deny-without-principal-passes-mtls", DENY_NONE, MTLS, "allowed"),
]


@pytest.mark.parametrize(
    ("config", "peer", "expected"),
    [pytest.param(c, p, e, id=i) for i, c, p, e in TCP_PRINCIPAL_CASES],
)
def test_tcp_authorization_by_peer_principal(config: str, peer: object, expected: str) -> None:
    """§B.4: on a TCP chain `principals` match the mTLS peer's identity (a plaintext peer has
    none, and `*` needs a non-empty one); a denial closes the connection, with no HTTP status;
    a STRICT port refuses plaintext before RBAC runs (§B.2)."""
    got = outcome(config, request(TCP, peer=peer), TCP)  # type: ignore[arg-type]
    assert str(got) == expected
    if got.verdict is Verdict.DENY_403:
        assert got.decided_by == ("AuthorizationPolicy ns/by-peer",)


def test_http_authorization_denial_is_a_403_naming_its_policy() -> None:
    """§B.4: on an HTTP chain the same denial is 403 'RBAC: access denied'."""
    got = outcome(ALLOW_DEFAULT, request(peer=PLAIN))
    assert str(got) == "403 'RBAC: access denied'"
    assert got.decided_by == ("AuthorizationPolicy ns/by-peer",)
    assert outcome(ALLOW_DEFAULT, request(peer=MTLS)).verdict is Verdict.ALLOW


def test_under_use_peer_the_request_principal_is_the_mtls_peer() -> None:
    """§D.11: under alpha's default USE_PEER, request.auth.principal is the peer identity, so an
    ALLOW on requestPrincipals admits the mTLS peer it names; a plaintext peer has none."""
    config = policy("default", "  peers: [{mtls: {mode: PERMISSIVE}}]\n")
    for values, peer, expected in [
        (ONLY_DEFAULT, MTLS, "allowed"),
        (ONLY_DEFAULT, PLAIN, "403 'RBAC: access denied'"),
        ("['*']", PLAIN, "403 'RBAC: access denied'"),
        ("['*']", MTLS, "allowed"),
    ]:
        allow = beta(
            "AuthorizationPolicy",
            "allow",
            f"  rules:\n  - from: [{{source: {{requestPrincipals: {values}}}}}]\n",
        )
        assert str(outcome(config + allow, request(peer=peer))) == expected, (values, peer)


def test_a_peer_authentication_failure_names_the_alpha_policy() -> None:
    """§A.7: an mTLS peer of another trust domain fails peer authentication of an alpha
    policy without peerIsOptional: 401, decided by that policy (§D.12)."""
    got = outcome(policy("default", "  peers: [{mtls: {}}]\n"), request(peer=FOREIGN))
    assert str(got) == "401 'Peer authentication failed.'"
    assert got.decided_by == ("Policy ns/default",)


def test_trigger_rules_are_decided_path_by_path() -> None:
    """§A.7: on one configuration, an excluded path needs no token and any other path does
    (the same origin is asked about many paths)."""
    config = policy(
        "web",
        "  targets: [{name: web}]\n"
        + JWT.replace(
            "      jwksUri",
            "      triggerRules: [{excludedPaths: [{exact: /health}]}]\n      jwksUri",
        ),
    )
    settings = Settings()
    applicable = applies(config, HTTP, settings)
    verdicts = [
        decide(applicable, request(path=path), settings).verdict
        for path in ("/health", "/api", "/health", "/")
    ]
    assert verdicts == [Verdict.ALLOW, Verdict.DENY_401, Verdict.ALLOW, Verdict.DENY_401]


DENY_ALL = beta("AuthorizationPolicy", "deny-all", "  action: DENY\n  rules: [{}]\n")
STRICT_ALPHA = policy("default", "  peers: [{mtls: {}}]\n")


@pytest.mark.parametrize(
    ("release", "config", "tok", "expected"),
    [
        pytest.param("1.4.4-1.4.10", STRICT, None, "allowed", id="C-1.4-ignores-peer-auth"),
        pytest.param("1.4.4-1.4.10", DENY_ALL, None, "allowed", id="C-1.4-ignores-authz"),
        pytest.param("1.4.4-1.4.10", RA + DENY_NO_TOKEN, None, "allowed", id="C-1.4-ignores-jwt"),
        pytest.param(
            "1.4.4-1.4.10",
            STRICT_ALPHA + PERMISSIVE,
            None,
            "connection refused (mTLS required)",
            id="C-1.4-enforces-alpha-beside-beta",
        ),
        pytest.param(
            "1.6",
            STRICT_ALPHA + STRICT,
            None,
            "connection refused (mTLS required)",
            id="C-1.6-enforces-peer-auth-beside-alpha",
        ),
        pytest.param(
            "1.6",
            STRICT_ALPHA + RA + DENY_NO_TOKEN,
            "token",
            "allowed, token removed before the application",
            id="C-1.6-enforces-request-auth-beside-alpha",
        ),
        pytest.param(
            "1.6",
            STRICT_ALPHA + DENY_ALL,
            None,
            "403 'RBAC: access denied'",
            id="C-1.6-enforces-authz-beside-alpha",
        ),
    ],
)
def test_each_release_enforces_only_its_apis(
    release: str, config: str, tok: str | None, expected: str
) -> None:
    """§C and the release table: a release without v1beta1 (1.4) enforces none of its
    resources and keeps enforcing alpha policies beside them; 1.6 enforces v1beta1 and no
    alpha policy beside it."""
    settings = Settings(release=BY_NAME[release])
    req = request(peer=PLAIN, tok=token() if tok else None)
    assert str(outcome(config, req, settings=settings)) == expected


def test_each_alpha_policy_verifies_a_token_with_its_own_keys() -> None:
    """§A.6: an origin accepts a token signed with a key its own jwksUri serves; the same
    token is judged by each policy's keys, one after the other."""
    from migrate.semantics.request import Claims, Signature, Token

    signed = Claims("iss", True, "aud", Signature.VALID, frozenset({"uri:https://a/jwks"}))
    tok = Token("header", "authorization", "Bearer ", signed)
    settings = Settings()
    results = []
    for uri in ("https://a/jwks", "https://b/jwks", "https://a/jwks"):
        config = policy(
            "web", "  targets: [{name: web}]\n" + JWT.replace("https://keys.example/jwks", uri)
        )
        results.append(str(decide(applies(config, HTTP, settings), request(tok=tok), settings)))
    assert results == ["allowed", "401 'Origin authentication failed.'", "allowed"]
