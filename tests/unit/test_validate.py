"""Tests for migrate.validate (schema and webhook): schema errors, unknown fields, webhook rules."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from policy_strategies import alpha_policy, beta_config

from migrate.findings import Finding, Location, Severity
from migrate.load.documents import Document, Origin, parse_text
from migrate.load.sourcefile import decode
from migrate.validate.schema import (
    KNOWN_KINDS,
    load_schema,
    path_text,
    validate_document,
    validator_for,
)

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"
ALPHA = "authentication.istio.io/v1alpha1"
BETA = "security.istio.io/v1beta1"
E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

Expected = tuple[str, Severity, str, tuple[str, ...]]


def resource(body: str, *, kind: str = "Policy", name: str = "p", api: str = "") -> str:
    """A resource whose `spec:` is line 6: the body, indented by two, starts on line 7."""
    version = api or (ALPHA if kind in ("Policy", "MeshPolicy") else BETA)
    head = f"apiVersion: {version}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: ns\n"
    return head + "spec:\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n"


def validate_text(text: str, path: str = "x.yaml") -> list[Finding]:
    """Every finding of every document in `text`, which must load without problems."""
    documents, problems, skipped = parse_text(decode(path, text.encode()))
    assert not problems
    assert not skipped
    return [finding for doc in documents for finding in validate_document(doc)]


def assert_findings(findings: list[Finding], expected: list[Expected]) -> None:
    """The findings are exactly the expected ones, in order, each message with its key words."""
    got = [(f.code, f.severity, str(f.location)) for f in findings]
    assert got == [(code, severity, where) for code, severity, where, _ in expected], "\n".join(
        str(f) for f in findings
    )
    for finding, (_, _, _, words) in zip(findings, expected, strict=True):
        for word in words:
            assert word in finding.message, (word, finding.message)


# --- valid documents ----------------------------------------------------------------------------

VALID = [
    pytest.param(
        resource("""
        targets:
        - name: svc
          ports:
          - number: 80
          - name: http
        peers:
        - mtls:
            mode: PERMISSIVE
            allowTls: true
        peerIsOptional: false
        origins:
        - jwt:
            issuer: https://issuer.example
            audiences: [a, b]
            jwksUri: https://issuer.example/jwks
            jwks: '{"keys": []}'
            jwtHeaders: [x-jwt]
            jwtParams: [token]
            triggerRules:
            - excludedPaths:
              - exact: /health
              includedPaths:
              - prefix: /api
              - suffix: .json
              - regex: "^/v[0-9]+/"
        originIsOptional: true
        principalBinding: USE_ORIGIN
        """),
        id="policy-camel-case",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc
        peers:
        - mtls:
            mode: STRICT
            allow_tls: false
        peer_is_optional: true
        origins:
        - jwt:
            issuer: https://issuer.example
            jwks_uri: http://issuer.example:8080/jwks
            jwt_headers: [x-jwt]
            jwt_params: [token]
            trigger_rules:
            - excluded_paths:
              - exact: /health
              included_paths:
              - prefix: /api
        origin_is_optional: false
        principal_binding: USE_PEER
        """),
        id="policy-snake-case",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls:
            mode: 1
        principalBinding: 0
        """,
            name="default",
        ),
        id="policy-default-enums-as-numbers",
    ),
    pytest.param(resource("{}", name="default"), id="policy-default-empty-spec"),
    pytest.param(
        f"apiVersion: {ALPHA}\nkind: Policy\nmetadata:\n  name: default\nspec:\n",
        id="policy-default-null-spec",
    ),
    pytest.param(
        f"apiVersion: {ALPHA}\nkind: Policy\nmetadata:\n  name: default\n",
        id="policy-default-without-spec",
    ),
    pytest.param(
        f"apiVersion: {BETA}\nkind: PeerAuthentication\nmetadata:\n  name: p\nspec: null\n",
        id="peerauthentication-null-spec",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls: {}
        """,
            kind="MeshPolicy",
            name="default",
        ),
        id="meshpolicy",
    ),
    pytest.param(
        resource(
            """
        peers:
        origins:
        targets:
        """,
            name="default",
        ),
        id="policy-null-lists",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        mtls:
          mode: STRICT
        portLevelMtls:
          8080:
            mode: DISABLE
          "9090":
            mode: UNSET
        """,
            kind="PeerAuthentication",
        ),
        id="peerauthentication",
    ),
    pytest.param(
        resource(
            """
        mtls: {}
        """,
            kind="PeerAuthentication",
        ),
        id="peerauthentication-namespace",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        jwtRules:
        - issuer: https://issuer.example
          audiences: [a]
          jwksUri: https://issuer.example/jwks
          fromHeaders:
          - name: x-jwt
            prefix: "Bearer "
          fromParams: [token]
          outputPayloadToHeader: x-payload
          forwardOriginalToken: true
        """,
            kind="RequestAuthentication",
        ),
        id="requestauthentication",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        action: ALLOW
        rules:
        - from:
          - source:
              principals: ["cluster.local/ns/a/sa/b"]
              notRequestPrincipals: ["*"]
              ipBlocks: ["10.0.0.0/8", "192.168.1.1"]
          to:
          - operation:
              ports: ["80", "0", "65535"]
              methods: [GET]
              paths: ["/api/*"]
          when:
          - key: request.auth.claims[iss]
            values: ["https://issuer.example"]
        - {}
        """,
            kind="AuthorizationPolicy",
            api="security.istio.io/v1",
        ),
        id="authorizationpolicy",
    ),
    pytest.param(
        resource(
            """
        action: DENY
        rules:
        - to:
          - operation:
              notPaths: ["/healthz"]
        """,
            kind="AuthorizationPolicy",
        ),
        id="authorizationpolicy-deny",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_documents_have_no_findings(text: str) -> None:
    """A valid document of each of the five kinds, in either spelling, gives no finding."""
    assert validate_text(text) == []


# --- schema errors (AM101) ----------------------------------------------------------------------

SCHEMA_ERRORS = [
    pytest.param(
        resource("""
        targets:
        - name: svc
          ports:
          - number: 80
          - number: 70000
        """),
        [
            (
                "AM101",
                E,
                "x.yaml:11:15",
                ("spec.targets[0].ports[1].number:", "70000 is greater than the maximum 65535"),
            )
        ],
        id="port-number-too-large",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc
          ports:
          - number: 0
        """),
        [("AM101", E, "x.yaml:10:15", ("0 is less than the minimum 1",))],
        id="port-number-zero",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc
          ports:
          - number: 80
            name: http
          - {}
        """),
        [
            (
                "AM101",
                E,
                "x.yaml:10:7",
                ("spec.targets[0].ports[0]:", "exactly one of number or name"),
            ),
            (
                "AM101",
                E,
                "x.yaml:12:7",
                ("spec.targets[0].ports[1]:", "exactly one of number or name"),
            ),
        ],
        id="port-selector-oneof",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc
          ports:
          - name: HTTP_1
        """),
        [("AM101", E, "x.yaml:10:13", ("port name must be a DNS-1123 label", 'found "HTTP_1"'))],
        id="port-name-not-dns-label",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc.other-namespace
        """),
        [
            (
                "AM101",
                E,
                "x.yaml:8:11",
                ("spec.targets[0].name:", "short Service name", 'found "svc.other-namespace"'),
            )
        ],
        id="target-name-with-dot",
    ),
    pytest.param(
        resource("""
        targets:
        - labels:
            app: svc
        """),
        [("AM103", E, "x.yaml:8:5", ("spec.targets[0]:", "needs the name of a Service"))],
        id="target-without-name",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls:
            mode: TLS_PERMISSIVE
        """,
            name="default",
        ),
        [("AM101", E, "x.yaml:9:13", ('"TLS_PERMISSIVE" is not one of STRICT, PERMISSIVE',))],
        id="mtls-mode-unknown",
    ),
    pytest.param(
        resource(
            """
        principalBinding: USE_BOTH
        """,
            name="default",
        ),
        [("AM101", E, "x.yaml:7:21", ("spec.principalBinding:", "is not one of USE_PEER"))],
        id="principal-binding-unknown",
    ),
    pytest.param(
        resource(
            """
        peers: {}
        """,
            name="default",
        ),
        [("AM101", E, "x.yaml:7:10", ("spec.peers:", "expected a list, found a mapping"))],
        id="peers-is-a-mapping",
    ),
    pytest.param(
        resource(
            """
        peer_is_optional: "yes"
        """,
            name="default",
        ),
        [("AM101", E, "x.yaml:7:21", ("expected true or false", 'the string "yes"'))],
        id="boolean-as-string",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
            jwtHeaders: x-amzn-cognito-jwt-assertion
        """,
            name="default",
        ),
        [
            (
                "AM101",
                E,
                "x.yaml:10:19",
                (
                    "spec.origins[0].jwt.jwtHeaders:",
                    "expected a list",
                    '"x-amzn-cognito-jwt-assertion"',
                ),
            )
        ],
        id="jwt-headers-scalar",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
        - {}
        """,
            name="default",
        ),
        [
            ("AM101", E, "x.yaml:8:9", ("spec.origins[0].jwt:", "expected a mapping, found null")),
            ("AM101", E, "x.yaml:9:5", ("spec.origins[1]:", 'missing required field "jwt"')),
        ],
        id="origin-without-jwt",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls: {}
          jwt:
            issuer: a
        """,
            name="default",
        ),
        [
            ("AM101", E, "x.yaml:8:5", ("spec.peers[0]:", "exactly one of mtls or jwt")),
            ("AM106", W, "x.yaml:9:5", ("never available",)),
        ],
        id="peer-with-mtls-and-jwt",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
            triggerRules:
            - includedPaths:
              - exact: /a
                prefix: /b
        """,
            name="default",
        ),
        [("AM101", E, "x.yaml:12:11", ("includedPaths[0]:", "exactly one of exact, prefix"))],
        id="string-match-oneof",
    ),
    pytest.param(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n"
        "  name: default\nspec: []\n",
        [("AM101", E, "x.yaml:5:7", ("spec: expected a mapping, found a list",))],
        id="spec-is-a-list",
    ),
    pytest.param(
        f"apiVersion: {BETA}\nkind: AuthorizationPolicy\nmetadata:\n  name: a\nspec: deny-all\n",
        [("AM101", E, "x.yaml:5:7", ('spec: expected a mapping, found the string "deny-all"',))],
        id="spec-is-a-string",
    ),
    pytest.param(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nspec: {}\n",
        [("AM101", E, "x.yaml:1:1", ('the document: missing required field "metadata"',))],
        id="no-metadata",
    ),
    pytest.param(
        "apiVersion: authentication.istio.io/v1alpha2\nkind: Policy\nmetadata:\n"
        "  name: default\n  labels:\n    version: 2\n",
        [
            (
                "AM101",
                E,
                "x.yaml:1:13",
                (
                    'apiVersion: must be "authentication.istio.io/v1',
                    'found "authentication.istio.io/v1alpha2"',
                ),
            ),
            (
                "AM101",
                E,
                "x.yaml:6:14",
                ("metadata.labels.version: expected a string", "the number 2"),
            ),
        ],
        id="wrong-version-and-label-type",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls: {}
        """,
            kind="MeshPolicy",
            name="boo",
        ),
        [
            (
                "AM103",
                E,
                "x.yaml:4:9",
                ('metadata.name: mesh-wide policy must be named "default"', 'found "boo"'),
            )
        ],
        id="meshpolicy-not-default",
    ),
    pytest.param(
        resource(
            """
        targets:
        - name: svc
        """,
            kind="MeshPolicy",
            name="default",
        ),
        [("AM103", E, "x.yaml:7:3", ("spec.targets: mesh-wide policy must not have targets",))],
        id="meshpolicy-with-targets",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_ERRORS)
def test_schema_errors(text: str, expected: list[Expected]) -> None:
    """Each schema violation is one AM101 error at the offending node, in plain words."""
    assert_findings(validate_text(text), expected)


BETA_SCHEMA_ERRORS = [
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        portLevelMtls:
          http:
            mode: STRICT
          70000:
            mode: PERMISSIVE
          8080:
            mode: OFF
        """,
            kind="PeerAuthentication",
        ),
        [
            ("AM101", E, "x.yaml:11:5", ("spec.portLevelMtls.http:", "must be a port number")),
            ("AM101", E, "x.yaml:13:5", ('spec.portLevelMtls["70000"]:', 'found "70000"')),
            (
                "AM101",
                E,
                "x.yaml:16:13",
                ("false is not one of UNSET, DISABLE, PERMISSIVE, STRICT", "quote the value"),
            ),
        ],
        id="peerauthentication-ports-and-mode",
    ),
    pytest.param(
        resource(
            """
        jwtRules:
        - audiences: [""]
        - issuer: ""
          fromHeaders:
          - prefix: "Bearer "
          fromParams: [""]
        """,
            kind="RequestAuthentication",
        ),
        [
            ("AM101", E, "x.yaml:8:5", ('spec.jwtRules[0]: missing required field "issuer"',)),
            ("AM101", E, "x.yaml:8:17", ("spec.jwtRules[0].audiences[0]: must not be empty",)),
            ("AM101", E, "x.yaml:9:13", ("spec.jwtRules[1].issuer: must not be empty",)),
            ("AM101", E, "x.yaml:11:7", ('fromHeaders[0]: missing required field "name"',)),
            ("AM101", E, "x.yaml:12:18", ("spec.jwtRules[1].fromParams[0]: must not be empty",)),
        ],
        id="requestauthentication-empty-values",
    ),
    pytest.param(
        resource(
            """
        action: REJECT
        rules:
        - from: []
          to:
          - operation:
              ports: [80, "99999"]
        - from:
          - source: {}
          - {}
          to:
          - operation:
              paths: []
          when:
          - key: request.headers[x]
          - values: [a]
        """,
            kind="AuthorizationPolicy",
        ),
        [
            ("AM101", E, "x.yaml:7:11", ('"REJECT" is not one of ALLOW, DENY, AUDIT, CUSTOM',)),
            ("AM101", E, "x.yaml:9:11", ("spec.rules[0].from: must not be empty",)),
            ("AM101", E, "x.yaml:12:17", ("ports[0]: expected a string, found the number 80",)),
            ("AM101", E, "x.yaml:12:21", ("ports[1]: a port must be a number from 0 to 65535",)),
            ("AM101", E, "x.yaml:14:15", ("source: a source needs at least one non-empty field",)),
            ("AM101", E, "x.yaml:15:7", ('from[1]: missing required field "source"',)),
            ("AM101", E, "x.yaml:18:9", ("an operation needs at least one non-empty field",)),
            ("AM101", E, "x.yaml:20:7", ("when[0]: a condition needs values or notValues",)),
            ("AM101", E, "x.yaml:21:7", ('when[1]: missing required field "key"',)),
        ],
        id="authorizationpolicy-shapes",
    ),
    pytest.param(
        resource(
            """
        rules:
        - from:
          - source:
              principals: [""]
        """,
            kind="AuthorizationPolicy",
        ),
        [("AM101", E, "x.yaml:10:22", ("principals[0]: must not be empty",))],
        id="authorizationpolicy-empty-string",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BETA_SCHEMA_ERRORS)
def test_beta_schema_errors(text: str, expected: list[Expected]) -> None:
    """The v1beta1 schemas reject what Istio 1.6 would, each as an AM101 error."""
    assert_findings(validate_text(text), expected)


# --- unknown fields (AM102) and both spellings (AM104) -----------------------------------------

FIELD_WARNINGS = [
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
            jwtHeader: [x-jwt]
        """,
            name="default",
        ),
        [
            (
                "AM102",
                W,
                "x.yaml:10:7",
                (
                    "spec.origins[0].jwt.jwtHeader: unknown field",
                    "Istio silently drops it",
                    'did you mean "jwtHeaders"?',
                ),
            )
        ],
        id="did-you-mean-jwtHeaders",
    ),
    pytest.param(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n"
        "  name: default\n  label:\n    app: a\nspec: {}\n",
        [
            (
                "AM102",
                W,
                "x.yaml:5:3",
                (
                    "metadata.label: unknown field",
                    "Kubernetes silently drops it",
                    'did you mean "labels"?',
                ),
            )
        ],
        id="metadata-label",
    ),
    pytest.param(
        resource("""
        targets:
        - name: svc
        ports:
        - number: 80
        """),
        [
            (
                "AM102",
                W,
                "x.yaml:9:3",
                ("spec.ports: unknown field", "belongs inside each item of spec.targets"),
            )
        ],
        id="ports-at-spec-level",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls: {}
        frobnicate: true
        """,
            name="default",
        ),
        [("AM102", W, "x.yaml:9:3", ("spec.frobnicate: unknown field", "silently drops it"))],
        id="unknown-without-suggestion",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        port_level_mtls:
          "80":
            mode: STRICT
        """,
            kind="PeerAuthentication",
        ),
        [("AM102", W, "x.yaml:10:3", ('did you mean "portLevelMtls"?',))],
        id="beta-snake-case-is-unknown",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
            jwks_uri: https://old.example/jwks
            jwksUri: https://new.example/jwks
        peer_is_optional: true
        peerIsOptional: false
        """,
            name="default",
        ),
        [
            ("AM104", W, "x.yaml:10:7", ('both "jwks_uri" and "jwksUri"', 'Istio reads "jwksUri"')),
            ("AM104", W, "x.yaml:12:3", ('both "peer_is_optional" and "peerIsOptional"',)),
        ],
        id="both-spellings",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
            jwt_headers: [""]
            jwtHeaders: [x-jwt]
        """,
            name="default",
        ),
        [("AM104", W, "x.yaml:10:7", ('both "jwt_headers" and "jwtHeaders"',))],
        id="camel-case-wins-for-webhook-rules",
    ),
]


@pytest.mark.parametrize(("text", "expected"), FIELD_WARNINGS)
def test_field_warnings(text: str, expected: list[Expected]) -> None:
    """Unknown fields and doubly spelt fields are warnings at the key, with a suggestion."""
    assert_findings(validate_text(text), expected)


# --- webhook rules (AM103) and null mTLS peers (AM105) -----------------------------------------

WEBHOOK = [
    pytest.param(
        resource(
            """
        peers:
        - mtls: {}
        """,
            name="ns-wide",
        ),
        [
            (
                "AM103",
                E,
                "x.yaml:4:9",
                (
                    "metadata.name: authentication policy with no target rules",
                    'must be named "default", found "ns-wide"',
                ),
            )
        ],
        id="no-targets-not-default",
    ),
    pytest.param(
        f"apiVersion: {ALPHA}\nkind: Policy\nmetadata:\n  name: mine\n",
        [("AM103", E, "x.yaml:4:9", ('must be named "default", found "mine"',))],
        id="no-spec-not-default",
    ),
    pytest.param(
        resource(
            """
        targets:
        - name: svc
        """,
            name="default",
        ),
        [("AM103", E, "x.yaml:7:3", ('name "default" must not have any target rules',))],
        id="default-with-targets",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: a
        - jwt:
            issuer: b
        - jwt:
            issuer: a
        """,
            name="default",
        ),
        [("AM103", E, "x.yaml:13:15", ('jwt with issuer "a" already defined',))],
        id="duplicate-issuer",
    ),
    pytest.param(
        resource(
            """
        peers:
        - jwt:
            issuer: a
        origins:
        - jwt:
            issuer: a
        """,
            name="default",
        ),
        [
            ("AM106", W, "x.yaml:8:5", ("peer JWT", "never available")),
            ("AM103", E, "x.yaml:12:15", ('jwt with issuer "a" already defined',)),
        ],
        id="duplicate-issuer-peer-and-origin",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            issuer: ""
            audiences: [a, ""]
            jwtHeaders: [""]
            jwt_params: [""]
        """,
            name="default",
        ),
        [
            ("AM103", E, "x.yaml:9:15", ("issuer must be set",)),
            ("AM103", E, "x.yaml:10:22", ("an audience must not be empty",)),
            ("AM103", E, "x.yaml:11:20", ("a JWT header name must not be empty",)),
            ("AM103", E, "x.yaml:12:20", ("a JWT query parameter name must not be empty",)),
        ],
        id="empty-jwt-strings",
    ),
    pytest.param(
        resource(
            """
        origins:
        - jwt:
            jwksUri: ftp://issuer.example/jwks
        - jwt:
            issuer: b
            jwks_uri: issuer.example/jwks
        """,
            name="default",
        ),
        [
            ("AM103", E, "x.yaml:8:5", ("issuer must be set",)),
            ("AM103", E, "x.yaml:9:16", ('URI scheme "ftp" is not supported',)),
            (
                "AM103",
                E,
                "x.yaml:12:17",
                ("spec.origins[1].jwt.jwks_uri:", 'URI scheme ""', 'found "issuer.example/jwks"'),
            ),
        ],
        id="jwks-uri-scheme",
    ),
    pytest.param(
        resource(
            """
        peers:
        - mtls:
        - mtls: null
        """,
            name="default",
        ),
        [
            (
                "AM105",
                N,
                "x.yaml:8:5",
                ("spec.peers[0].mtls:", "STRICT only if the null survives", "mtls: {}"),
            ),
            ("AM105", N, "x.yaml:9:5", ("mtls: {}",)),
        ],
        id="null-mtls",
    ),
    pytest.param(
        resource(
            """
        mtls:
          mode: STRICT
        portLevelMtls:
          "8080":
            mode: DISABLE
        """,
            kind="PeerAuthentication",
        ),
        [("AM103", E, "x.yaml:9:3", ("cannot have port level mTLS", "workload selector"))],
        id="port-level-without-selector",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels: {}
        portLevelMtls: {}
        """,
            kind="PeerAuthentication",
        ),
        [("AM103", E, "x.yaml:9:3", ("must have at least one element",))],
        id="port-level-empty",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            app: svc
        portLevelMtls:
          0:
            mode: DISABLE
        """,
            kind="PeerAuthentication",
        ),
        [("AM103", E, "x.yaml:11:5", ('spec.portLevelMtls["0"]: port cannot be 0',))],
        id="port-level-zero",
    ),
    pytest.param(
        resource(
            """
        selector:
          matchLabels:
            "": a
            app*: b
            version: v*
        """,
            kind="RequestAuthentication",
        ),
        [
            ("AM103", E, "x.yaml:9:7", ('empty key is not supported in selector: "=a"',)),
            ("AM103", E, "x.yaml:10:7", ('wildcard is not supported in selector: "app*=b"',)),
            ("AM103", E, "x.yaml:11:16", ('wildcard is not supported in selector: "version=v*"',)),
        ],
        id="selector-keys-and-values",
    ),
    pytest.param(
        resource(
            """
        jwtRules:
        - issuer: a
          jwksUri: "https://issuer.example:port/jwks"
        """,
            kind="RequestAuthentication",
        ),
        [("AM103", E, "x.yaml:9:14", ("not a valid URI",))],
        id="beta-jwks-uri-port",
    ),
    pytest.param(
        resource(
            """
        action: DENY
        """,
            kind="AuthorizationPolicy",
        ),
        [("AM103", E, "x.yaml:7:11", ("deny policy without `rules`",))],
        id="deny-without-rules",
    ),
    pytest.param(
        resource(
            """
        rules:
        - from:
          - source:
              ipBlocks: ["10.0.0.0/33", "1.2.3.4"]
              notRemoteIpBlocks: ["not-an-ip"]
        """,
            kind="AuthorizationPolicy",
        ),
        [
            ("AM103", E, "x.yaml:10:20", ('"10.0.0.0/33" is not an IP address or CIDR block',)),
            ("AM103", E, "x.yaml:11:29", ('"not-an-ip" is not an IP',)),
        ],
        id="ip-blocks",
    ),
]


@pytest.mark.parametrize(("text", "expected"), WEBHOOK)
def test_webhook_rules(text: str, expected: list[Expected]) -> None:
    """Rules Istio's admission webhook enforces beyond the schema are AM103 (and AM105 notes)."""
    assert_findings(validate_text(text), expected)


# --- the API around the findings -----------------------------------------------------------------


def test_other_kinds_are_not_validated() -> None:
    """Documents of other kinds or groups give no finding, however odd they are."""
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: 3\n---\n"
        "apiVersion: example.com/v1\nkind: Policy\nspec: []\n"
    )
    assert validate_text(text) == []


@pytest.mark.parametrize(
    ("namespace", "label"),
    [
        pytest.param("  namespace: ns\n", "Policy ns/p", id="namespaced"),
        pytest.param("", "Policy p", id="no-namespace"),
    ],
)
def test_resource_label(namespace: str, label: str) -> None:
    """Every finding names its resource as `Kind namespace/name`, or `Kind name`."""
    text = f"apiVersion: {ALPHA}\nkind: Policy\nmetadata:\n  name: p\n{namespace}spec: {{}}\n"
    findings = validate_text(text)
    assert [f.resource for f in findings] == [label]


def test_related_location_of_duplicate_issuer() -> None:
    """A duplicate issuer points back at the first definition."""
    text = resource(
        """
        origins:
        - jwt: {issuer: a}
        - jwt: {issuer: a}
        """,
        name="default",
    )
    (finding,) = validate_text(text)
    assert finding.related == (Location("x.yaml", 8, 19),)


def test_document_without_node_uses_its_origin() -> None:
    """A document read from JSON has no node tree; findings then point at the document."""
    origin = Origin("x.json", 0, 1, 1)
    data: dict[str, Any] = {
        "apiVersion": ALPHA,
        "kind": "Policy",
        "metadata": {"name": "default"},
        "spec": {"peers": {}},
    }
    (finding,) = validate_document(Document(origin, data))
    assert (finding.code, str(finding.location)) == ("AM101", "x.json:1:1")


def test_findings_are_sorted_and_unique() -> None:
    """Findings come in reading order, and the same problem is reported once."""
    text = resource("""
        targets:
        - name: A
        - name: svc
          ports:
          - {}
        frob: 1
        """)
    findings = validate_text(text)
    assert [f.location.line for f in findings] == [8, 11, 12]
    assert len(set(findings)) == len(findings)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        pytest.param((), "the document", id="root"),
        pytest.param(
            ("spec", "targets", 0, "ports", 1, "number"),
            "spec.targets[0].ports[1].number",
            id="nested",
        ),
        pytest.param(
            ("metadata", "labels", "app.kubernetes.io/name"),
            'metadata.labels["app.kubernetes.io/name"]',
            id="quoted-key",
        ),
    ],
)
def test_path_text(path: tuple[str | int, ...], text: str) -> None:
    """Field paths read as users write them."""
    assert path_text(path) == text


# --- the schema files ----------------------------------------------------------------------------


def _subschemas(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in _subschemas(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(found for value in node.values() for found in _subschemas(value))]


SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_files_are_valid_draft_2020_12(name: str) -> None:
    """Every schema file is a valid draft 2020-12 schema with its own file name in its `$id`."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + name)
    assert schema == json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_choice_has_a_plain_message(name: str) -> None:
    """Each oneOf/anyOf carries an `x-message`, so its error reads as a sentence."""
    for sub in _subschemas(load_schema(name)):
        if "oneOf" in sub or "anyOf" in sub:
            assert isinstance(sub.get("x-message"), str), sub


def test_known_kinds_and_cached_validators() -> None:
    """Each known kind has a schema file whose kind matches, and validators are built once."""
    for (group, kind), name in KNOWN_KINDS.items():
        assert name in SCHEMA_FILES
        assert name.startswith(kind.lower() + "." + group)
        assert validator_for(name) is validator_for(name)


# --- robustness ----------------------------------------------------------------------------------


def _field_names() -> list[str]:
    names = {
        key
        for name in SCHEMA_FILES
        for sub in _subschemas(load_schema(name))
        for key in sub.get("properties", {})
        if isinstance(sub.get("properties"), dict)
    }
    return sorted(names)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-1, 70_000)
    | st.text(max_size=4)
    | st.sampled_from(
        ["", "*", "0", "80", "STRICT", "DENY", "default", "ftp://x", "http://[", "10.0.0.0/8"]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_field_names()) | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=24,
)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(KNOWN_KINDS)), spec=_VALUES, name=_SCALARS)
def test_arbitrary_specs_never_raise(kind: tuple[str, str], spec: Any, name: Any) -> None:
    """Whatever the spec holds, validation returns findings and never raises."""
    version = ALPHA if kind[0] == "authentication.istio.io" else BETA
    data = {"apiVersion": version, "kind": kind[1], "metadata": {"name": name}, "spec": spec}
    findings = validate_document(Document(Origin("x.yaml", 0, 1, 1), data))
    assert all(isinstance(f, Finding) for f in findings)


# --- the real corpus -----------------------------------------------------------------------------


def _corpus_findings(name: str) -> list[Finding]:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not beside the repository")
    (path,) = CORPUS.glob(name + "-*.yaml")
    documents, _, _ = parse_text(decode(path.name, path.read_bytes()))
    return [finding for doc in documents for finding in validate_document(doc)]


@pytest.mark.corpus
def test_corpus_validates_without_raising() -> None:
    """Every file of the real corpus validates without an exception."""
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not beside the repository")
    files = sorted(CORPUS.glob("*.yaml"))
    assert files
    for path in files:
        documents, _, _ = parse_text(decode(path.name, path.read_bytes()))
        for doc in documents:
            assert all(isinstance(f, Finding) for f in validate_document(doc))


CORPUS_CASES = [
    pytest.param(
        "39",
        [
            (
                "AM101",
                E,
                "39-kubeflow-aws-jwtheaders-scalar.yaml:22:21",
                ("spec.origins[0].jwt.jwtHeaders: expected a list",),
            )
        ],
        id="39-jwt-headers-scalar",
    ),
    pytest.param(
        "12",
        [
            (
                "AM103",
                E,
                "12-istio-e2e-namespace-policy-non-default-name.yaml:12:9",
                ('must be named "default", found "default-mtls-enabled"',),
            )
        ],
        id="12-no-targets-not-default",
    ),
    pytest.param(
        "26",
        [
            (
                "AM103",
                E,
                "26-istio-galley-validation-dataset.yaml:22:9",
                ('mesh-wide policy must be named "default"', 'found "boo"'),
            ),
            (
                "AM101",
                E,
                "26-istio-galley-validation-dataset.yaml:42:11",
                ("spec.targets[0].name:", 'found "bad.target"'),
            ),
        ],
        id="26-meshpolicy-boo-and-bad-target",
    ),
    pytest.param(
        "59",
        [
            (
                "AM102",
                W,
                "59-istio-e2e-misplaced-ports.yaml:12:3",
                ("spec.ports: unknown field", "spec.targets"),
            )
        ],
        id="59-ports-at-spec-level",
    ),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("number", "expected"), CORPUS_CASES)
def test_corpus_findings(number: str, expected: list[Expected]) -> None:
    """Known problems of real files are found where they are."""
    assert_findings(_corpus_findings(number), expected)


@pytest.mark.corpus
def test_corpus_30_label_typo_in_every_list_item() -> None:
    """Each Policy of the `kind: List` in file 30 has `label:` where `labels:` was meant."""
    findings = [f for f in _corpus_findings("30") if f.code == "AM102"]
    assert [f.location.line for f in findings] == [11, 24, 37, 50, 63, 76]
    assert all(f.location.column == 5 for f in findings)
    assert all(
        "metadata.label: unknown field" in f.message and 'did you mean "labels"?' in f.message
        for f in findings
    )
    assert findings[0].resource == "Policy app/istio-mtls-enable"


LEAVES = ["port", "int", "bool", "str", "empty", "none", "float"]


def _leaf(kind: str, draw: st.DrawFn) -> object:
    return {
        "port": lambda: draw(st.integers(1, 65535)),
        "int": lambda: draw(st.sampled_from([0, -1, 65536, 10**9])),
        "bool": lambda: draw(st.booleans()),
        "str": lambda: draw(st.text(min_size=1, max_size=5)),
        "empty": lambda: "",
        "none": lambda: None,
        "float": lambda: draw(st.sampled_from([1.5, 80.0])),
    }[kind]()


def _template(depth: int = 0) -> st.SearchStrategy[object]:
    """A document skeleton at the paths the inventory schema reads: leaves are classes."""
    leaf = st.sampled_from(LEAVES).map(lambda k: ("leaf", k))
    if depth > 2:
        return leaf
    labels = st.one_of(leaf, st.dictionaries(st.sampled_from(["app", "v"]), leaf, max_size=2))
    port = st.fixed_dictionaries(
        {},
        optional={
            "name": leaf,
            "port": leaf,
            "targetPort": leaf,
            "containerPort": leaf,
            "protocol": leaf,
        },
    )
    ports = st.one_of(leaf, st.lists(port, max_size=2))
    container = st.fixed_dictionaries({}, optional={"name": leaf, "ports": ports})
    spec = st.fixed_dictionaries(
        {},
        optional={
            "selector": labels,
            "ports": ports,
            "template": st.fixed_dictionaries(
                {},
                optional={
                    "metadata": st.fixed_dictionaries({}, optional={"labels": labels}),
                    "spec": st.fixed_dictionaries(
                        {},
                        optional={"containers": st.one_of(leaf, st.lists(container, max_size=2))},
                    ),
                },
            ),
        },
    )
    return st.fixed_dictionaries(
        {"metadata": st.fixed_dictionaries({}, optional={"name": leaf, "labels": labels})},
        optional={"spec": spec},
    )


def _fill(template: object, draw: st.DrawFn) -> object:
    if isinstance(template, tuple):
        return _leaf(template[1], draw)
    if isinstance(template, dict):
        return {k: _fill(v, draw) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, draw) for v in template]
    return template


@settings(max_examples=300)
@given(
    kind=st.sampled_from(["Service", "Deployment", "Pod", "Namespace"]),
    template=_template(),
    data=st.data(),
)
def test_inventory_shapes_decide_validity_as_the_schema_does(
    kind: str, template: object, data: st.DataObject
) -> None:
    """Two documents of one kind with the same shape (the abstraction that lets valid shapes
    skip the schema) are both valid or both invalid under the full inventory schema."""
    from migrate.validate.schema import _inventory_validator, _shape

    first = {"apiVersion": "v1", "kind": kind, **_fill(template, data.draw)}  # type: ignore[dict-item]
    second = {"apiVersion": "v1", "kind": kind, **_fill(template, data.draw)}  # type: ignore[dict-item]
    assert _shape(first) == _shape(second)  # filled from one template
    validator = _inventory_validator(kind)
    assert validator.is_valid(first) == validator.is_valid(second)


_LEAVES = {
    "web": "a",
    "Web": "WEB",
    "": "",
    "80": "99999",
    "x" * 63: "x" * 64,
    "STRICT": "STRICX",
    "DENY": "DENX",
    "PERMISSIVE": "PERMISSIVX",
    "-a-": "iss-a/*",
}
"""Strings to put in a policy's string fields, each with a partner that differs from it in
one respect at most (case, length, being a port number, an enum value or a string like
one), so that a shape that ignores a test the schema makes is caught."""


def _strings_replaced(value: object, choose: Any) -> object:
    if isinstance(value, str):
        return choose(value)
    if isinstance(value, dict):
        return {k: _strings_replaced(v, choose) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings_replaced(v, choose) for v in value]
    return value


def _string_count(value: object) -> int:
    found: list[str] = []
    _strings_replaced(value, found.append)
    return len(found)


class _Chooser:
    """Each string of a document in turn: kept (None) or the one picked, and for the string
    numbered `changed`, that one's partner."""

    def __init__(self, picks: list[str | None], changed: int) -> None:
        self.picks, self.changed, self.index = picks, changed, -1

    def __call__(self, s: str) -> str:
        self.index += 1
        pick = self.picks[self.index]
        value = s if pick is None else pick
        return _LEAVES.get(value, "Web") if self.index == self.changed else value


@settings(max_examples=400)
@given(text=st.one_of(alpha_policy("web"), beta_config()), data=st.data())
def test_policy_shapes_decide_issues_as_the_schema_does(text: str, data: st.DataObject) -> None:
    """Two documents of one kind with the same shape (strings known only by the answers to
    the schemas' tests of strings, the abstraction that lets a shape found free of issues
    skip the schema) both have no schema or field issues, or both have some; and a document
    whose shape was found clean gets the findings a full check gives it. The second
    document is the first with one string changed, so that a difference in issues has a
    single cause."""
    from migrate.validate import schema

    for original in yaml.safe_load_all(text):
        if not original:
            continue
        kind_file = schema.KNOWN_KINDS[(original["apiVersion"].split("/")[0], original["kind"])]
        tests = schema._string_tests(kind_file)
        assert tests is not None, "the shortcut is meant to serve every policy kind"
        count = _string_count(original)
        keys = sorted(_LEAVES)
        changed = data.draw(st.integers(0, count - 1))
        picks: list[str | None] = [
            None
            if data.draw(st.integers(0, 1 if i == changed else 7))
            else data.draw(st.sampled_from(keys))
            for i in range(count)
        ]
        docs = [
            _strings_replaced(original, _Chooser(picks, changed if second else -1))
            for second in (False, True)
        ]
        full = [
            [*schema._schema_issues(d, kind_file), *schema._field_issues(d, kind_file)]  # type: ignore[arg-type]
            for d in docs
        ]
        if schema._schema_shape(docs[0], tests) == schema._schema_shape(docs[1], tests):
            assert bool(full[0]) == bool(full[1]), (docs, full)
        schema._CLEAN_SHAPES.clear()
        for doc, issues in zip(docs, full, strict=True):
            assert schema._structure_issues(doc, kind_file) == issues  # type: ignore[arg-type]
