"""Scan every scenario of the shared corpora in place: policy counts, exit codes and key facts.

Every expectation here was written by reading the corpus file itself (with `real/INDEX.md` and the
spm README), not copied from the tool's output. Where the tool disagrees with that reading, that
single parameter is a strict xfail whose reason says what the tool does instead.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from corpus import SPM, case_id, read_case, real_files, require_shared, spm_cases

from migrate.commands.scan import PolicyScan, ScanReport, scan
from migrate.findings import Finding
from migrate.workspace import WorkspaceOptions

require_shared()

pytestmark = pytest.mark.corpus

# --- known disagreements between the tool and a careful reading of the corpus ----------------

# Known tool bugs, as strict xfails: {file stem: what the tool does instead}. None open now.
TEMPLATE_BUGS: dict[str, str] = {}
EXIT_CODE_BUGS: dict[str, str] = {}

# --- real scenarios: expectations from reading each file ---------------------------------------

EXPECTED_POLICIES = {
    "01-salesforce-sam-meshpolicy-peer-is-optional": 1,
    "02-kyma-meshpolicy-with-namespace": 1,
    "03-istio-helm-security-chart-meshpolicy": 0,  # Helm template: skipped
    "04-kubeflow-rendered-istio-configmap-embedded-policies": 2,  # both embedded in ConfigMaps
    "05-istio-docs-namespace-default-and-service-overrides": 3,
    "06-redhat-istio-tutorial-disable-mtls-null-peers": 1,
    "07-gcp-istio-samples-mtls-namespace-and-frontend": 2,
    "08-openfaas-gke-namespaces-mtls-gateway-permissive": 3,
    "09-openfaas-helm-chart-alpha-and-beta-mixed": 0,  # Helm template: skipped
    "10-istio-knative-bug-repro-strict-vs-permissive-namespaces": 2,
    "11-istio-integration-namespace-jwt-origin-optional": 0,  # Go template: skipped
    "12-istio-e2e-namespace-policy-non-default-name": 1,
    "13-istio-e2e-global-config-namespace-policy": 2,
    "14-istio-analyzer-jwt-ports-by-number-and-name": 3,
    "15-istio-analyzer-jwt-bad-service-ports": 5,
    "16-istio-analyzer-mtls-with-ports-udp": 1,
    "17-istio-analyzer-mtls-two-namespaces-exportto": 2,
    "18-istio-integration-port-by-name": 1,
    "19-istio-e2e-same-service-two-ports-two-modes": 2,
    "20-istio-e2e-app-template-service-and-port-policies": 0,  # Go template: skipped
    "21-istio-integration-target-by-labels": 1,
    "22-istio-integration-automtls-malformed": 3,
    "23-istio-sample-tcp-echo-mtls": 1,
    "24-istio-analyzer-alpha-with-beta-crd-present": 2,
    "25-istio-pilot-testdata-metadata-domain": 1,
    "26-istio-galley-validation-dataset": 4,
    "27-istio-analyzer-mixed-kinds-jwt-policy": 1,
    "28-istio-test-helm-fortio-peer-is-optional-legacy-mode": 1,
    "29-salesforce-sam-policy-list-server-fields": 3,  # kind: List items
    "30-salesforce-sam-policy-list-label-typo": 6,  # kind: List items
    "31-salesforce-sam-policy-invalid-name": 1,
    "32-aspenmesh-istio-vet-probe-port-mtls": 2,
    "33-aspenmesh-istio-vet-jwt-service-port-name": 1,
    "34-istio-docs-jwt-trigger-rules-exclude-include": 2,
    "35-istio-integration-jwt-paths-prefix-suffix": 0,  # Go template: skipped
    "36-istio-integration-three-issuers-trigger-rules": 1,
    "37-istio-e2e-jwt-two-issuers-port-target": 1,
    "38-kubeflow-gcp-iap-ingressgateway-jwt-headers": 1,
    "39-kubeflow-aws-jwtheaders-scalar": 1,
    "40-kubeflow-dex-duplicate-targets-key": 1,  # duplicate key still one policy
    "41-gcp-istio-samples-frontend-mtls-jwt": 1,
    "42-redhat-istio-tutorial-keycloak-jwt": 1,
    "43-devops-repo-auth0-ingressgateway": 1,
    "44-devops-repo-commented-out-blocks": 1,  # the second policy is commented out
    "45-devops-repo-keycloak-meshpolicy-plus-jwt": 2,
    "46-devops-repo-shell-templated-keycloak": 2,
    "47-ibm-cloud-native-starter-appid-jwt": 1,
    "48-ibm-cloud-native-starter-placeholder-template": 1,
    "49-apigee-mixer-adapter-jwks-uri-snake-null-peers": 1,
    "50-apigee-mixer-adapter-duplicate-placeholder-issuers": 1,
    "51-apigee-remote-service-envoy-origin-optional": 1,
    "52-mds-core-helm-range-jwt-policies": 0,  # Helm template: skipped
    "53-kyma-helm-loki-everything-optional": 0,  # Helm template: skipped
    "54-kyma-helm-capabilities-guarded-port-name": 0,  # Helm template: skipped
    "55-kyma-rendered-chart-policy-target-mismatch": 2,
    "56-kyma-rendered-monitoring-grafana-permissive": 1,
    "57-istio-helm-grafana-port-from-values": 0,  # Helm template: skipped
    "58-istio-test-chart-mysql-mtls": 0,  # Helm template: skipped
    "59-istio-e2e-misplaced-ports": 1,
    "60-istio-api-reference-examples": 3,
    "61-kiali-hack-bookinfo-per-service-mtls": 2,
}

# 2: input Kubernetes or Istio's webhook would refuse (§A.4, duplicate keys, wrong
# types, invalid names); 1: policies and nothing refused; 0: no policy (skipped templates).
EXPECTED_EXIT = {
    "01-salesforce-sam-meshpolicy-peer-is-optional": 1,
    "02-kyma-meshpolicy-with-namespace": 1,
    "03-istio-helm-security-chart-meshpolicy": 0,
    "04-kubeflow-rendered-istio-configmap-embedded-policies": 1,
    "05-istio-docs-namespace-default-and-service-overrides": 1,
    "06-redhat-istio-tutorial-disable-mtls-null-peers": 1,
    "07-gcp-istio-samples-mtls-namespace-and-frontend": 1,
    "08-openfaas-gke-namespaces-mtls-gateway-permissive": 1,
    "09-openfaas-helm-chart-alpha-and-beta-mixed": 0,
    "10-istio-knative-bug-repro-strict-vs-permissive-namespaces": 1,
    "11-istio-integration-namespace-jwt-origin-optional": 0,
    "12-istio-e2e-namespace-policy-non-default-name": 2,  # no targets, not named default
    "13-istio-e2e-global-config-namespace-policy": 2,  # "global": no targets, not default
    "14-istio-analyzer-jwt-ports-by-number-and-name": 1,
    "15-istio-analyzer-jwt-bad-service-ports": 1,
    "16-istio-analyzer-mtls-with-ports-udp": 2,  # "default" with targets
    "17-istio-analyzer-mtls-two-namespaces-exportto": 2,  # "default" with targets
    "18-istio-integration-port-by-name": 1,
    "19-istio-e2e-same-service-two-ports-two-modes": 1,
    "20-istio-e2e-app-template-service-and-port-policies": 0,
    "21-istio-integration-target-by-labels": 2,  # target without name
    "22-istio-integration-automtls-malformed": 2,  # peers is a mapping
    "23-istio-sample-tcp-echo-mtls": 1,
    "24-istio-analyzer-alpha-with-beta-crd-present": 2,  # no targets, not named default
    "25-istio-pilot-testdata-metadata-domain": 1,  # unknown metadata field: only dropped
    "26-istio-galley-validation-dataset": 2,  # MeshPolicy "boo", target "bad.target"
    "27-istio-analyzer-mixed-kinds-jwt-policy": 1,
    "28-istio-test-helm-fortio-peer-is-optional-legacy-mode": 1,  # misplaced mode: dropped
    "29-salesforce-sam-policy-list-server-fields": 2,  # no targets, not named default
    "30-salesforce-sam-policy-list-label-typo": 2,  # no targets, not named default
    "31-salesforce-sam-policy-invalid-name": 2,
    "32-aspenmesh-istio-vet-probe-port-mtls": 1,
    "33-aspenmesh-istio-vet-jwt-service-port-name": 1,
    "34-istio-docs-jwt-trigger-rules-exclude-include": 1,
    "35-istio-integration-jwt-paths-prefix-suffix": 0,
    "36-istio-integration-three-issuers-trigger-rules": 1,
    "37-istio-e2e-jwt-two-issuers-port-target": 1,
    "38-kubeflow-gcp-iap-ingressgateway-jwt-headers": 2,  # namespace $(istioNamespace)
    "39-kubeflow-aws-jwtheaders-scalar": 2,  # jwtHeaders is not a list
    "40-kubeflow-dex-duplicate-targets-key": 2,  # duplicate key
    "41-gcp-istio-samples-frontend-mtls-jwt": 1,
    "42-redhat-istio-tutorial-keycloak-jwt": 1,
    "43-devops-repo-auth0-ingressgateway": 1,
    "44-devops-repo-commented-out-blocks": 1,
    "45-devops-repo-keycloak-meshpolicy-plus-jwt": 1,
    "46-devops-repo-shell-templated-keycloak": 1,
    "47-ibm-cloud-native-starter-appid-jwt": 1,
    "48-ibm-cloud-native-starter-placeholder-template": 2,  # jwksUri without http(s) scheme
    "49-apigee-mixer-adapter-jwks-uri-snake-null-peers": 1,
    "50-apigee-mixer-adapter-duplicate-placeholder-issuers": 2,  # duplicate issuer
    "51-apigee-remote-service-envoy-origin-optional": 1,
    "52-mds-core-helm-range-jwt-policies": 0,
    "53-kyma-helm-loki-everything-optional": 0,
    "54-kyma-helm-capabilities-guarded-port-name": 0,
    "55-kyma-rendered-chart-policy-target-mismatch": 1,
    "56-kyma-rendered-monitoring-grafana-permissive": 1,
    "57-istio-helm-grafana-port-from-values": 0,
    "58-istio-test-chart-mysql-mtls": 0,
    "59-istio-e2e-misplaced-ports": 1,  # misplaced spec.ports: unknown field, dropped
    "60-istio-api-reference-examples": 2,  # upper-case metadata.name
    "61-kiali-hack-bookinfo-per-service-mtls": 1,
}

TEMPLATES = ("03", "09", "11", "20", "35", "52", "53", "54", "57", "58")

# (kind, name, effective namespace, scope, mTLS mode) of every policy, in file order; scope and
# mode are None for a document that fails its schema (it has no model).
POLICY_FACTS = {
    "01": [("MeshPolicy", "default", "", "mesh", "STRICT")],
    "02": [("MeshPolicy", "default", "", "mesh", "STRICT")],  # its namespace is meaningless
    "04": [
        ("Policy", "grafana-ports-mtls-disabled", "istio-system", "service", "DISABLE"),
        ("MeshPolicy", "default", "", "mesh", "PERMISSIVE"),
    ],
    "05": [
        ("Policy", "default", "foo", "namespace", "STRICT"),
        ("Policy", "overwrite-example", "default", "service", "DISABLE"),
        ("Policy", "httpbin", "default", "service", "STRICT"),
    ],
    "06": [("Policy", "default", "default", "namespace", "DISABLE")],  # `peers:` null
    "08": [
        ("Policy", "default", "openfaas", "namespace", "STRICT"),
        ("Policy", "permissive", "openfaas", "service", "PERMISSIVE"),
        ("Policy", "default", "openfaas-fn", "namespace", "STRICT"),
    ],
    "10": [
        ("Policy", "default", "bug", "namespace", "STRICT"),
        ("Policy", "default", "bug-alt", "namespace", "PERMISSIVE"),
    ],
    "13": [
        ("Policy", "global", "istio-global-config", "namespace", "STRICT"),  # `- mtls:` null
        ("Policy", "per-service-disable-mtls", "default", "service", "DISABLE"),
    ],
    "19": [
        ("Policy", "permissive-authn-80", "default", "service", "PERMISSIVE"),
        ("Policy", "strict-authn-7070", "default", "service", "STRICT"),
    ],
    "21": [("Policy", "c-mtls", "default", "service", "STRICT")],  # target by labels, no name
    "22": [
        ("MeshPolicy", "default", "", "mesh", "STRICT"),
        ("Policy", "b-mtl-off", "default", None, None),  # `peers: {}`
        ("Policy", "b-80-mtl-on", "default", "service", "STRICT"),
    ],
    "24": [
        ("Policy", "namespace-level-policy", "foobar", "namespace", "STRICT"),
        ("MeshPolicy", "default", "", "mesh", "STRICT"),
    ],
    "25": [("Policy", "default", "default", "namespace", "PERMISSIVE")],
    "26": [
        ("MeshPolicy", "default", "", "mesh", "PERMISSIVE"),
        ("MeshPolicy", "boo", "", "mesh", "PERMISSIVE"),
        ("Policy", "valid-authentication-policy", "default", "service", "DISABLE"),
        ("Policy", "invalid-authentication-policy", "default", None, None),
    ],
    "28": [("Policy", "fortio-mtls", "default", "service", "STRICT")],  # null mtls, stray mode
    "32": [
        ("Policy", "httpbin", "default", "service", "STRICT"),
        ("Policy", "httpbin", "default", "service", "DISABLE"),
    ],
    "38": [("Policy", "jwt-policy", "$(istioNamespace)", None, None)],
    "39": [("Policy", "istio-jwt", "istio-system", None, None)],
    "40": [("Policy", "pipelines-auth-policy", "default", "service", "STRICT")],
    "45": [
        ("MeshPolicy", "default", "", "mesh", "STRICT"),
        ("Policy", "jwt-keycloak", "default", "service", "STRICT"),
    ],
    "47": [("Policy", "protect-web-api", "default", "service", "STRICT")],
    "49": [("Policy", "auth-spec", "default", "service", "DISABLE")],  # only peer commented out
    "55": [
        ("Policy", "sss-ssl", "default", "service", "PERMISSIVE"),
        ("Policy", "sss-metrics", "default", "service", "PERMISSIVE"),
    ],
    "56": [("Policy", "release-name-grafana-policy", "default", "service", "PERMISSIVE")],
    "60": [
        ("Policy", "default", "frod", "namespace", "STRICT"),
        ("Policy", "productpage-mTLS-disable", "frod", "service", "DISABLE"),
        ("Policy", "productpage-mTLS-with-JWT", "frod", "service", "STRICT"),
    ],
    "61": [
        ("Policy", "details-mtls", "default", "service", "STRICT"),
        ("Policy", "mongodb-mtls", "default", "service", "STRICT"),
    ],
}

# (line, column) where each policy document starts, in file order.
POLICY_ORIGINS = {
    "04": [(17, 5), (78, 5)],  # inside the ConfigMaps' block scalars, at their indentation
    "05": [(10, 1), (19, 1), (27, 1)],
    "22": [(5, 1), (13, 1), (22, 3)],  # the third document is indented by two spaces
    "44": [(9, 1)],  # after a blank line and `---`
    "45": [(9, 1), (38, 1)],
    "49": [(9, 1)],  # after a comment-only document
    "51": [(27, 1)],
    "56": [(83, 1)],
    "61": [(20, 1), (44, 1)],
}

# Targets of one policy: (Service, found, ((service port, port name, targetPort, container
# ports), ...)); a found target without ports selects every port of the Service.
TARGETS = [
    ("05", 1, [("httpbin", True, ((8000, "http", 80, (80,)),))]),
    ("05", 2, [("httpbin", True, ())]),  # port 1234 is not on the Service
    (
        "14",
        0,
        [
            (
                "my-service",
                True,
                (
                    (8080, "http-svc-8080", 8080, (8080,)),
                    (8081, "https-svc-8081", 8081, (8081,)),
                    (8082, "http2-svc-8082", 8082, (8082,)),
                ),
            )
        ],
    ),
    ("14", 2, [("my-service-named-port", True, ((8080, "http-foo", 8080, (8080,)),))]),
    (
        "16",
        0,
        [
            (
                "my-service",
                True,
                ((8080, "", 8080, (8080,)), (8081, "", 8081, (8081,)), (8082, "", 8082, (8082,))),
            )
        ],
    ),
    ("17", 1, [("myotherservice", True, ((80, "", 8080, (8080,)),))]),
    ("23", 0, [("tcp-hello-echo", True, ((9000, "tcp", 9000, (9000,)),))]),
    ("28", 0, [("fortio-tls", True, ((8080, "http-echo", 8080, (8080,)),))]),
    ("37", 0, [("c", False, ()), ("d", False, ())]),
    ("41", 0, [("frontend", True, ((80, "http", 8080, (8080,)),))]),
    ("55", 0, [("sss-ssl", False, ())]),  # the rendered Service is apiserver-proxy-ssl
    ("55", 1, [("sss-metrics", True, ((2112, "http-metrics", 2112, (2112,)),))]),
    ("56", 0, [("release-name-grafana", True, ((80, "http-service", 3000, (3000,)),))]),
]

# (line, column) of every AM202 "target Service not found", at the target that names it.
MISSING_SERVICES = {
    "05": [],
    "07": [(67, 5)],
    "08": [(31, 5)],
    "13": [(28, 5), (29, 5)],
    "14": [],
    "18": [(10, 5)],
    "19": [(10, 5), (23, 5)],
    "22": [(28, 7)],
    "27": [(39, 5)],
    "36": [(10, 5)],
    "37": [(10, 5), (11, 5)],
    "40": [(21, 5)],  # the last `targets` wins
    "41": [],
    "42": [(13, 5)],  # the Service sits in the default namespace, the policy in tutorial
    "43": [(11, 7)],
    "49": [(16, 5)],
    "55": [(65, 7)],
    "56": [],
    "59": [(10, 5), (11, 5)],
    "60": [(20, 5), (29, 5)],
    "61": [(26, 5), (50, 5)],
}

# Findings that must be present: (file, code, severity, line, column).
FINDINGS = [
    ("05", "AM203", "warning", 35, 7),  # port 1234 not on httpbin
    ("12", "AM103", "error", 12, 9),  # no targets, named default-mtls-enabled
    ("13", "AM103", "error", 16, 9),  # no targets, named global
    ("13", "AM105", "note", 20, 5),  # `- mtls:` null
    ("16", "AM103", "error", 13, 3),  # named default, has targets
    ("17", "AM103", "error", 48, 3),
    ("17", "AM103", "error", 96, 3),
    ("21", "AM103", "error", 10, 7),  # target without name: rejected by the webhook
    ("21", "AM210", "warning", 10, 7),  # ... and it would match nothing
    ("22", "AM101", "error", 20, 10),  # peers is a mapping
    ("24", "AM103", "error", 9, 9),
    ("25", "AM102", "warning", 9, 3),  # metadata.domain
    ("26", "AM103", "error", 22, 9),  # MeshPolicy boo: rejected by the webhook
    ("26", "AM101", "error", 42, 11),  # bad.target
    ("28", "AM102", "warning", 13, 5),  # mode beside mtls, not inside
    ("28", "AM105", "note", 11, 5),
    ("29", "AM103", "error", 13, 11),
    ("30", "AM102", "warning", 11, 5),  # metadata.label
    ("31", "AM103", "error", 9, 9),
    ("32", "AM214", "warning", 55, 1),  # the same Policy httpbin again: the suggested fix
    ("38", "AM101", "error", 8, 14),  # namespace $(istioNamespace)
    ("39", "AM101", "error", 22, 21),  # jwtHeaders scalar
    ("40", "AM005", "error", 20, 3),  # second `targets`
    ("47", "AM105", "note", 14, 5),
    ("48", "AM103", "error", 16, 16),  # jwksUri APPID_JWKS_URI
    ("50", "AM103", "error", 24, 15),  # duplicate issuer
    ("59", "AM102", "warning", 12, 3),  # spec.ports
    ("60", "AM105", "note", 11, 5),
    ("60", "AM105", "note", 33, 5),
]

LIST_ITEMS = {
    "29": [(6, "service-mesh"), (19, "gater"), (32, "mesh-control-plane")],
    "30": [
        (6, "app"),
        (19, "service-mesh"),
        (32, "gater"),
        (45, "mesh-control-plane"),
        (58, "ccait"),
        (71, "funnel"),
    ],
}

# --- spm cases: alpha policies in each INPUT, read from the case files ------------------------

SPM_POLICIES = {
    "e2e/both-basic": 2,
    "e2e/both-port-level": 2,  # MeshPolicy + Policy
    "e2e/jwt-basic": 1,
    "e2e/jwt-jwks": 1,
    "e2e/jwt-port": 1,
    "e2e/jwt-trigger-rule-all": 1,
    "e2e/jwt-trigger-rule-exclude": 1,
    "e2e/jwt-trigger-rule-include": 1,
    "e2e/mtls-httpbin-helloworld": 1,
    "e2e/mtls-httpbin": 1,
    "e2e/mtls-mesh": 1,
    "e2e/mtls-namespace": 2,
    "e2e/mtls-port": 2,
    "historical/example-1-mesh-policy": 1,
    "historical/example-10-jwt-policy-full": 1,
    "historical/example-11-jwt-include-exclude": 1,
    "historical/example-6-jwt-policy-basic": 1,
    "historical/example-7-jwt-policy-exclude": 1,
    "historical/example-8-jwt-policy-include": 1,
    "historical/example-9-both-mtls-jwt": 1,  # plus a DestinationRule
    "unit/fail--failed-to-convert-target-my-service-bla-to-workload-selector-could-not-find-"
    "service-bar-my-service-b": 1,
    "unit/fail--failed-to-convert-target-my-service-to-workload-selector-could-not-find-port-"
    "name-tcp": 1,
    "unit/fail--failed-to-convert-target-my-service-to-workload-selector-could-not-find-port-"
    "number-8000": 1,
    "unit/fail--found-duplicate-target-my-service": 1,
    "unit/fail--jwt-is-never-supported-in-peer-method": 1,
    "unit/fail--triggerrule-is-not-supported-with-multiple-jwt-issuer": 1,
    "unit/fail--triggerrule-regex-some-regex-is-not-supported": 1,
    "unit/success--jwt-optional": 1,
    "unit/success--jwt-port-level": 1,
    "unit/success--jwt-trigger-rule-only-path": 1,
    "unit/success--jwt-trigger-rule": 1,
    "unit/success--jwt": 1,
    "unit/success--mesh-level-permissive": 1,
    "unit/success--mesh-level-strict": 1,
    "unit/success--namespace-level": 1,
    "unit/success--port-level": 1,
    "unit/success--service-level-multiple-targets": 1,
    "unit/success--service-level-single-target": 1,
}

# Unit cases whose SERVICES are the converter's whole inventory: per target (Service, found,
# selected service ports), and the (code, line, column) the converter's error corresponds to.
SPM_TARGETS = {
    "unit/fail--failed-to-convert-target-my-service-bla-to-workload-selector-could-not-find-"
    "service-bar-my-service-b": ([("my-service-bla", False, ())], [("AM202", 9, 5)]),
    "unit/fail--failed-to-convert-target-my-service-to-workload-selector-could-not-find-port-"
    "name-tcp": ([("my-service", True, ())], [("AM203", 11, 7)]),
    "unit/fail--failed-to-convert-target-my-service-to-workload-selector-could-not-find-port-"
    "number-8000": ([("my-service", True, ())], [("AM203", 11, 7)]),
    "unit/fail--found-duplicate-target-my-service": (
        [("my-service", True, ()), ("my-service", True, ())],
        [],
    ),
    "unit/success--jwt-port-level": ([("my-service", True, (8000, 8001))], []),
    "unit/success--jwt-trigger-rule": ([("my-service", True, (8000, 8001))], []),
    "unit/success--port-level": (
        [("my-service", True, (8000, 8001, 8002)), ("my-service-2", True, (9000,))],
        [],
    ),
    "unit/success--service-level-multiple-targets": (
        [("my-service-1", True, ()), ("my-service-2", True, ())],
        [],
    ),
    "unit/success--service-level-single-target": ([("my-service", True, ())], []),
}


# --- helpers ---------------------------------------------------------------------------------


def _xfail(reason: str | None) -> tuple[pytest.MarkDecorator, ...]:
    return () if reason is None else (pytest.mark.xfail(strict=True, reason=reason),)


def _real_path(key: str) -> Path:
    """The real scenario named by its full stem or by its number (`04`)."""
    (path,) = [p for p in real_files() if p.stem == key or p.stem.startswith(f"{key}-")]
    return path


def _stem(key: str) -> str:
    return _real_path(key).stem


def _per_file(table: dict[str, Any], bugs: dict[str, str] | None = None) -> list[Any]:
    """One parameter per file of `table`, with the file stem as id and known bugs as xfails."""
    bugs = bugs or {}
    return [
        pytest.param(key, value, id=_stem(key), marks=_xfail(bugs.get(_stem(key))))
        for key, value in table.items()
    ]


@functools.cache
def _scan_real(key: str) -> ScanReport:
    return scan([str(_real_path(key))])


def _model_facts(scanned: PolicyScan) -> tuple[str, str, str, str | None, str | None]:
    document, policy = scanned.entry.document, scanned.policy
    if policy is None:
        return document.kind, document.name, scanned.entry.namespace, None, None
    return (
        document.kind,
        document.name,
        scanned.entry.namespace,
        policy.scope.value,
        policy.mtls_mode.value,
    )


def _places(findings: tuple[Finding, ...], code: str) -> list[tuple[int, int]]:
    return sorted((f.location.line, f.location.column) for f in findings if f.code == code)


def _errors(report: ScanReport) -> list[str]:
    return [str(f) for f in report.findings if f.severity.value == "error"]


def _case_path(identifier: str) -> Path:
    return SPM / f"{identifier}.case"


def _scan_section(identifier: str, section: str, tmp_path: Path) -> ScanReport:
    """Scan one section of a case, with the case's SERVICES (when any) as the inventory."""
    sections = read_case(_case_path(identifier))
    source = tmp_path / f"{section.lower()}.yaml"
    source.write_text(sections[section], encoding="utf-8")
    inventory: tuple[str, ...] = ()
    if sections.get("SERVICES", "").strip():
        services = tmp_path / "services.yaml"
        services.write_text(sections["SERVICES"], encoding="utf-8")
        inventory = (str(services),)
    options = WorkspaceOptions(root_namespace=None, namespace=None, inventory=inventory)
    return scan([str(source)], options)


def _with_output() -> list[str]:
    return [case_id(p) for p in spm_cases() if "EXPECTED_OUTPUT" in read_case(p)]


# --- real scenarios ----------------------------------------------------------------------------


def test_every_real_file_has_expectations() -> None:
    """The count and exit-code tables cover exactly the files of the corpus."""
    stems = {p.stem for p in real_files()}
    assert len(stems) == 61
    assert set(EXPECTED_POLICIES) == stems
    assert set(EXPECTED_EXIT) == stems


@pytest.mark.parametrize(("key", "expected"), _per_file(EXPECTED_POLICIES, TEMPLATE_BUGS))
def test_real_file_policy_count(key: str, expected: int) -> None:
    """Scanning a real file raises nothing and finds the alpha policies it holds."""
    assert len(_scan_real(key).policies) == expected


@pytest.mark.parametrize(("key", "expected"), _per_file(EXPECTED_EXIT, EXIT_CODE_BUGS))
def test_real_file_exit_code(key: str, expected: int) -> None:
    """The exit code is 2 for refused input, 1 for policies alone, 0 for none."""
    report = _scan_real(key)
    assert int(report.exit_code) == expected, _errors(report)


@pytest.mark.parametrize(
    "key",
    [pytest.param(k, id=_stem(k), marks=_xfail(TEMPLATE_BUGS.get(_stem(k)))) for k in TEMPLATES],
)
def test_template_is_skipped_with_one_warning(key: str) -> None:
    """A Helm or Go template that is not YAML yields one AM004 warning, no policy, no error."""
    report = _scan_real(key)
    skipped = [f for f in report.findings if f.code == "AM004"]
    assert [(f.severity.value, Path(f.location.path).name) for f in skipped] == [
        ("warning", _real_path(key).name)
    ]
    assert report.policies == ()
    assert _errors(report) == []


@pytest.mark.parametrize(("key", "expected"), _per_file(POLICY_FACTS))
def test_policy_kind_name_namespace_scope_and_mode(
    key: str, expected: list[tuple[str, str, str, str | None, str | None]]
) -> None:
    """Each policy has the kind, name, namespace, scope and mTLS mode the file gives it."""
    assert [_model_facts(p) for p in _scan_real(key).policies] == expected


@pytest.mark.parametrize(("key", "expected"), _per_file(POLICY_ORIGINS))
def test_policy_origin_lines(key: str, expected: list[tuple[int, int]]) -> None:
    """Each policy points at the line and column where its document starts."""
    origins = [p.entry.document.origin for p in _scan_real(key).policies]
    assert [(o.line, o.column) for o in origins] == expected
    assert {Path(o.path).name for o in origins} == {_real_path(key).name}


@pytest.mark.parametrize(("key", "expected"), _per_file(LIST_ITEMS))
def test_list_items_have_their_own_origin(key: str, expected: list[tuple[int, str]]) -> None:
    """Policies of a `kind: List` carry their item index, line and namespace."""
    policies = _scan_real(key).policies
    origins = [p.entry.document.origin for p in policies]
    assert [o.item for o in origins] == list(range(len(expected)))
    assert [(o.line, p.entry.namespace) for o, p in zip(origins, policies, strict=True)] == expected
    assert {(o.column, o.index) for o in origins} == {(3, 0)}
    assert all(p.policy is not None and p.policy.peer_is_optional for p in policies)


def test_configmap_embedded_policies_are_found_and_flagged() -> None:
    """The two policies written as text in 04's ConfigMaps are scanned and flagged AM207."""
    report = _scan_real("04")
    carriers = [p.entry.embedded_in for p in report.policies]
    assert [c.kind if c else None for c in carriers] == ["ConfigMap", "ConfigMap"]
    assert [c.name if c else None for c in carriers] == [
        "istio-grafana-custom-resources",
        "istio-security-custom-resources",
    ]
    assert [(f.severity.value, f.location.line) for f in report.findings if f.code == "AM207"] == [
        ("warning", 17),
        ("warning", 78),
    ]
    grafana = report.policies[0]
    assert [(t.service, t.found) for t in grafana.targets] == [("grafana", False)]
    assert grafana.policy is not None
    assert [str(p) for t in grafana.policy.targets for p in t.ports] == ["3000"]
    assert any(f.code == "AM202" and "istio-system/grafana" in f.message for f in grafana.findings)


def test_duplicate_key_is_an_error_and_the_policy_is_kept() -> None:
    """40's second `targets` key is an AM005 error; the policy is still scanned with it."""
    report = _scan_real("40")
    assert [
        (f.severity.value, f.location.line, f.location.column)
        for f in report.findings
        if f.code == "AM005"
    ] == [("error", 20, 3)]
    (scanned,) = report.policies
    assert scanned.policy is not None
    assert [(t.name, t.location.line) for t in scanned.policy.targets] == [("ml-pipeline", 21)]
    assert scanned.policy.issuers == ("https://org.example.com:32000",)
    assert int(report.exit_code) == 2


@pytest.mark.parametrize(
    ("key", "index", "expected"),
    [pytest.param(k, i, e, id=f"{_stem(k)}[{i}]") for k, i, e in TARGETS],
)
def test_target_resolution(
    key: str, index: int, expected: list[tuple[str, bool, tuple[Any, ...]]]
) -> None:
    """Targets resolve to the Service ports (by number or name) and the container ports."""
    scanned = _scan_real(key).policies[index]
    actual = [
        (
            t.service,
            t.found,
            tuple(
                (p.service_port, p.service_port_name, p.target_port, p.container_ports)
                for p in t.ports
            ),
        )
        for t in scanned.targets
    ]
    assert actual == expected


@pytest.mark.parametrize(("key", "expected"), _per_file(MISSING_SERVICES))
def test_missing_target_service_is_reported(key: str, expected: list[tuple[int, int]]) -> None:
    """Every target whose Service is not in the inputs gets an AM202 warning at the target."""
    report = _scan_real(key)
    assert _places(report.findings, "AM202") == expected
    assert {f.severity.value for f in report.findings if f.code == "AM202"} <= {"warning"}


@pytest.mark.parametrize(
    ("key", "code", "severity", "line", "column"),
    [pytest.param(*f, id=f"{_stem(f[0])}:{f[3]}:{f[4]}:{f[1]}") for f in FINDINGS],
)
def test_expected_finding_is_reported(
    key: str, code: str, severity: str, line: int, column: int
) -> None:
    """A problem visible in the file is reported with its code, severity and position."""
    found = [
        (f.code, f.severity.value)
        for f in _scan_real(key).findings
        if (f.location.line, f.location.column) == (line, column)
    ]
    assert (code, severity) in found


def test_snake_case_trigger_rules_are_read() -> None:
    """34's snake_case trigger_rules become an exclude rule, then an include rule."""
    rules = []
    for scanned in _scan_real("34").policies:
        assert scanned.policy is not None
        (jwt,) = scanned.policy.origins
        rules.append(
            [
                ([str(m) for m in r.excluded], [str(m) for m in r.included])
                for r in jwt.trigger_rules
            ]
        )
    assert rules == [[(["exact /user-agent"], [])], [([], ["exact /ip"])]]


def test_three_issuers_keep_their_order_and_rules() -> None:
    """36's three JWT origins keep their order and their own trigger rules."""
    (scanned,) = _scan_real("36").policies
    assert scanned.policy is not None
    assert scanned.policy.issuers == (
        "test-issuer-2@istio.io",
        "test-issuer-1@istio.io",
        "barcelona@champions.eu",
    )
    assert [
        [(len(r.excluded), len(r.included)) for r in o.trigger_rules]
        for o in scanned.policy.origins
    ] == [[(3, 0)], [(0, 1)], [(0, 1)]]
    assert scanned.policy.principal_binding == "USE_ORIGIN"


def test_snake_case_jwt_fields_and_optional_flags() -> None:
    """Snake_case jwks_uri, jwt_headers and peer_is_optional, and originIsOptional are read."""
    reference = _scan_real("60").policies[2].policy
    assert reference is not None
    (jwt,) = reference.origins
    assert (jwt.jwt_headers, jwt.audiences) == (("x-goog-iap-jwt-assertion",), ("productpage",))
    apigee = _scan_real("51").policies[0].policy
    assert apigee is not None
    assert apigee.origin_is_optional
    assert apigee.origins[0].jwks_uri.endswith("/remote-service/certs")
    salesforce = _scan_real("01").policies[0].policy
    assert salesforce is not None
    assert salesforce.peer_is_optional


def test_commented_out_blocks_are_not_read() -> None:
    """44's commented-out peers, trigger rules and second policy leave one JWT-only policy."""
    (scanned,) = _scan_real("44").policies
    assert scanned.policy is not None
    assert (scanned.policy.peers, scanned.policy.origins[0].trigger_rules) == ((), ())
    assert scanned.policy.mtls_mode.value == "DISABLE"


# --- spm cases ---------------------------------------------------------------------------------


def test_every_spm_case_has_an_expectation() -> None:
    """The spm table covers exactly the 38 case files."""
    assert set(SPM_POLICIES) == {case_id(p) for p in spm_cases()}
    assert len(SPM_POLICIES) == 38


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [pytest.param(i, n, id=i) for i, n in SPM_POLICIES.items()],
)
def test_spm_input_policy_count(identifier: str, expected: int, tmp_path: Path) -> None:
    """Scanning a case's INPUT with its SERVICES as inventory finds its alpha policies."""
    assert len(_scan_section(identifier, "INPUT", tmp_path).policies) == expected


@pytest.mark.parametrize("identifier", [pytest.param(i, id=i) for i in _with_output()])
def test_spm_expected_output_has_no_alpha_policy(identifier: str, tmp_path: Path) -> None:
    """The converter's v1beta1 output holds no alpha policy and nothing the tool refuses."""
    report = _scan_section(identifier, "EXPECTED_OUTPUT", tmp_path)
    assert report.policies == ()
    assert _errors(report) == []
    assert int(report.exit_code) == 0


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [pytest.param(i, e, id=i) for i, e in SPM_TARGETS.items()],
)
def test_spm_unit_targets_against_services(
    identifier: str,
    expected: tuple[list[tuple[str, bool, tuple[int, ...]]], list[tuple[str, int, int]]],
    tmp_path: Path,
) -> None:
    """Unit targets resolve against the case's Services; missing ones are AM202 or AM203."""
    targets, problems = expected
    report = _scan_section(identifier, "INPUT", tmp_path)
    (scanned,) = report.policies
    assert [
        (t.service, t.found, tuple(p.service_port for p in t.ports)) for t in scanned.targets
    ] == targets
    assert (
        sorted(
            (f.code, f.location.line, f.location.column)
            for f in report.findings
            if f.code in ("AM202", "AM203")
        )
        == problems
    )
