"""Generate a synthetic GitOps repository of an Istio mesh, for benchmarking `verify`.

The repository looks like a real one: a folder per namespace with its Namespace, Services,
Deployments, ConfigMaps and a Prometheus ServiceMonitor, all with comments, and the
authentication policies in the proportions real repositories show (reference
istio-semantics.md A.2, A.5):

- one `MeshPolicy default` with `mtls: {}` (STRICT);
- a namespace `default` Policy (STRICT or PERMISSIVE) in about 30% of the namespaces;
- service Policies, some of them for one service port only;
- JWT Policies with one or two origins (from 3 issuers across the mesh, `jwksUri` set, some
  read from a header), `USE_ORIGIN`, and K trigger-rule path conditions (exact, prefix or
  suffix) each.

`--side beta` writes the straightforward v1beta1 equivalents of the same mesh instead
(B.2-B.4, D.5, D.6): PeerAuthentication (mesh, namespace, and workload with the Service's
selector and `portLevelMtls` keyed by container port), RequestAuthentication with
`forwardOriginalToken: true`, and one DENY AuthorizationPolicy per JWT policy whose rules
mirror the trigger rules. It is not meant to be a perfect conversion: the benchmark measures
speed. `--side both` writes `alpha/` and `beta/` side by side with the same inventory.

The output depends only on the arguments: the same seed gives the same bytes.

    python benchmarks/generate.py --namespaces 20 --services-per-namespace 25 \\
        --policies 75 --path-conditions 4 --seed 1 --out ../mesh-bench --side both
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT_NAMESPACE = "istio-system"
NAMESPACE_POLICY_SHARE = 0.3
"""Share of namespaces with a namespace-wide `default` Policy."""
JWT_POLICY_SHARE = 0.4
"""Share of the service-level policies that authenticate end users (the rest set mTLS)."""
PORT_LEVEL_SHARE = 0.3
"""Share of the mTLS service policies that select one service port."""
CONDITIONS_PER_RULE = 4
REGISTRY = "registry.example.com"
PROBES_NOTE = "# rewriteAppHTTPProbers: the kubelet cannot do mTLS, the sidecar answers probes.\n"

TEAMS = (
    "payments", "orders", "identity", "catalog", "search", "checkout", "shipping", "billing",
    "platform", "data", "growth", "support", "media", "partners", "reporting", "messaging",
)  # fmt: skip
SERVICES = (
    "api", "web", "frontend", "backend", "worker", "auth", "gateway-internal", "cart",
    "ledger", "inventory", "notifications", "reports", "users", "profile", "scheduler",
    "ingest", "export", "recommendations", "pricing", "invoices", "sessions", "uploads",
    "audit", "feature-flags", "webhooks",
)  # fmt: skip

EXACT_PATHS = (
    "/health", "/healthz", "/ready", "/live", "/metrics", "/version", "/favicon.ico",
    "/robots.txt", "/login", "/logout",
)  # fmt: skip
PREFIX_PATHS = (
    "/api/", "/api/v1/", "/api/v2/", "/static/", "/assets/", "/admin/", "/internal/",
    "/graphql", "/public/", "/status/", "/debug/", "/v1/", "/v2/", "/docs/", "/webhooks/",
)  # fmt: skip
SUFFIX_PATHS = (
    ".js", ".css", ".png", ".svg", "/admin", "/debug", "/openapi.json", ".map", ".html", ".ico",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Issuer:
    """A token issuer and where its tokens are read from (no headers: the defaults)."""

    issuer: str
    jwks_uri: str
    headers: tuple[str, ...] = ()


ISSUERS = (
    Issuer("https://accounts.example.com", "https://accounts.example.com/.well-known/jwks.json"),
    Issuer(
        "https://sso.corp.example.net/realms/apps",
        "https://sso.corp.example.net/realms/apps/protocol/openid-connect/certs",
        ("x-jwt-assertion",),
    ),
    Issuer(
        "testing@secure.istio.io",
        "https://raw.githubusercontent.com/istio/istio/release-1.4/security/tools/jwt/samples/jwks.json",
    ),
)


@dataclass(frozen=True, slots=True)
class Port:
    """A service port and the container port behind it (`target` may be the port's name)."""

    name: str
    number: int
    target: int | str
    container: int
    container_name: str

    @property
    def http(self) -> bool:
        return self.name.split("-")[0] in ("http", "http2", "grpc")


@dataclass(frozen=True, slots=True)
class Service:
    """A Service and the Deployment it fronts (both named after the app)."""

    namespace: str
    name: str
    ports: tuple[Port, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """One trigger-rule path condition."""

    kind: str  # exact, prefix or suffix
    value: str

    @property
    def beta(self) -> str:
        """The AuthorizationPolicy form (reference D.6)."""
        return {"exact": self.value, "prefix": f"{self.value}*", "suffix": f"*{self.value}"}[
            self.kind
        ]


@dataclass(frozen=True, slots=True)
class TriggerRule:
    excluded: tuple[Match, ...]
    included: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    namespace: str
    mode: str


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    """mTLS for a whole service, or for one service port (selected by number or by name)."""

    service: Service
    mode: str
    port: Port | None = None
    by_name: bool = False


@dataclass(frozen=True, slots=True)
class JwtPolicy:
    service: Service
    mode: str
    issuers: tuple[Issuer, ...]
    rules: tuple[TriggerRule, ...]


@dataclass(slots=True)
class Mesh:
    """Everything generated: the inventory and the policies (besides the MeshPolicy)."""

    namespaces: list[str]
    services: dict[str, list[Service]]
    namespace_policies: list[NamespacePolicy] = field(default_factory=list)
    service_policies: list[ServicePolicy] = field(default_factory=list)
    jwt_policies: list[JwtPolicy] = field(default_factory=list)

    @property
    def policy_count(self) -> int:
        """Alpha policies, the MeshPolicy included."""
        return (
            1 + len(self.namespace_policies) + len(self.service_policies) + len(self.jwt_policies)
        )

    @property
    def workload_count(self) -> int:
        return sum(len(s) for s in self.services.values())


@dataclass(frozen=True, slots=True)
class Config:
    namespaces: int = 10
    services_per_namespace: int = 25
    policies: int = 38
    path_conditions: int = 4
    seed: int = 1
    unrelated: bool = True
    """Also write what a real repository holds besides the mesh: autoscalers, disruption
    budgets and one large CustomResourceDefinition file (most of the documents)."""


# --- the mesh -------------------------------------------------------------------------------


def build_mesh(config: Config) -> Mesh:
    """Draw the namespaces, services and policies from `config.seed`."""
    rng = random.Random(config.seed)
    namespaces = [_numbered(TEAMS, i) for i in range(config.namespaces)]
    services = {ns: _services(rng, ns, config.services_per_namespace) for ns in namespaces}
    mesh = Mesh(namespaces, services)
    budget = max(0, config.policies - 1)
    wanted = round(NAMESPACE_POLICY_SHARE * len(namespaces))
    for ns in sorted(rng.sample(namespaces, min(wanted, budget)), key=namespaces.index):
        mesh.namespace_policies.append(NamespacePolicy(ns, _weighted(rng, PERMISSIVE=3, STRICT=2)))
    everything = [s for ns in namespaces for s in services[ns]]
    targets = rng.sample(everything, min(budget - len(mesh.namespace_policies), len(everything)))
    jwt_count = round(JWT_POLICY_SHARE * len(targets))
    for service in targets[:jwt_count]:
        mesh.jwt_policies.append(_jwt_policy(rng, service, config.path_conditions))
    for service in targets[jwt_count:]:
        mesh.service_policies.append(_service_policy(rng, service))
    return mesh


def _numbered(pool: Sequence[str], index: int) -> str:
    base = pool[index % len(pool)]
    return base if index < len(pool) else f"{base}-{index // len(pool) + 1}"


def _weighted(rng: random.Random, **weights: int) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _services(rng: random.Random, namespace: str, count: int) -> list[Service]:
    names = [_numbered(SERVICES, i) for i in range(count)]
    rng.shuffle(names)
    return [Service(namespace, name, _ports(rng)) for name in names]


def _ports(rng: random.Random) -> tuple[Port, ...]:
    container = rng.choice((8080, 8080, 8080, 8000, 3000))
    named = rng.random() < 0.3
    ports = [Port("http", 80, "http" if named else container, container, "http")]
    extra = rng.random()
    if extra < 0.2:
        ports.append(Port("grpc", 9090, "grpc" if named else 9090, 9090, "grpc"))
    elif extra < 0.3:
        ports.append(Port("tcp-db", 5432, 5432, 5432, "db"))
    return tuple(ports)


def _service_policy(rng: random.Random, service: Service) -> ServicePolicy:
    mode = _weighted(rng, PERMISSIVE=3, STRICT=1)
    if rng.random() >= PORT_LEVEL_SHARE:
        return ServicePolicy(service, mode)
    return ServicePolicy(service, mode, rng.choice(service.ports), by_name=rng.random() < 0.5)


def _jwt_policy(rng: random.Random, service: Service, conditions: int) -> JwtPolicy:
    issuers = rng.sample(ISSUERS, 2 if rng.random() < 0.2 else 1)
    issuers.sort(key=ISSUERS.index)
    mode = _weighted(rng, STRICT=3, PERMISSIVE=1)
    return JwtPolicy(service, mode, tuple(issuers), _trigger_rules(rng, conditions))


def _trigger_rules(rng: random.Random, conditions: int) -> tuple[TriggerRule, ...]:
    """`conditions` distinct paths, in rules of up to four: a few excluded, the rest included."""
    pool = [Match("exact", p) for p in EXACT_PATHS]
    pool += [Match("prefix", p) for p in PREFIX_PATHS]
    pool += [Match("suffix", p) for p in SUFFIX_PATHS]
    pool += [Match("prefix", f"/api/v{n}/") for n in range(3, max(3, conditions - len(pool) + 3))]
    drawn = rng.sample(pool, min(conditions, len(pool)))
    rules = []
    for start in range(0, len(drawn), CONDITIONS_PER_RULE):
        chunk = drawn[start : start + CONDITIONS_PER_RULE]
        excluded = rng.randint(1, max(1, len(chunk) // 2)) if len(chunk) > 1 else 0
        rules.append(TriggerRule(tuple(chunk[:excluded]), tuple(chunk[excluded:])))
    return tuple(rules)


# --- inventory documents --------------------------------------------------------------------


def namespace_doc(namespace: str, rng: random.Random) -> str:
    team = namespace.split("-", maxsplit=1)[0]
    return f"# Namespace of the {team} team. Sidecars are injected into every pod.\n" + _dump(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {
                    "istio-injection": "enabled",
                    "owner": f"{team}-team",
                    "cost-center": f"cc-{rng.randint(1000, 9999)}",
                },
            },
        }
    )


def service_doc(service: Service) -> str:
    named = [p for p in service.ports if isinstance(p.target, str)]
    note = (
        f"# targetPort {named[0].target!r} is resolved through the pod's containerPort names.\n"
        if named
        else ""
    )
    ports = [{"name": p.name, "port": p.number, "targetPort": p.target} for p in service.ports]
    return f"# {service.name}: owned by the {service.namespace} team.\n{note}" + _dump(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": service.name,
                "namespace": service.namespace,
                "labels": {"app": service.name, "service": service.name},
            },
            "spec": {"ports": ports, "selector": {"app": service.name}},
        }
    )


def deployment_doc(service: Service, rng: random.Random) -> str:
    labels = {"app": service.name, "version": f"v{rng.randint(1, 3)}"}
    ports = [{"containerPort": p.container, "name": p.container_name} for p in service.ports]
    container = {
        "name": service.name,
        "image": f"{REGISTRY}/{service.namespace}/{service.name}:1.{rng.randint(0, 40)}.0",
        "ports": ports,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "resources": {
            "requests": {"cpu": f"{rng.choice((100, 250, 500))}m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
    }
    return PROBES_NOTE + _dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": service.name, "namespace": service.namespace, "labels": labels},
            "spec": {
                "replicas": rng.randint(1, 4),
                "selector": {"matchLabels": {"app": service.name}},
                "template": {
                    "metadata": {
                        "labels": labels,
                        "annotations": {"sidecar.istio.io/rewriteAppHTTPProbers": "true"},
                    },
                    "spec": {"serviceAccountName": service.name, "containers": [container]},
                },
            },
        }
    )


def service_account_doc(service: Service) -> str:
    return _dump(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service.name, "namespace": service.namespace},
        }
    )


def config_map_doc(service: Service, rng: random.Random) -> str:
    return f"""\
# Runtime settings of {service.name}; rolled out by the deployment's checksum annotation.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {service.name}-config
  namespace: {service.namespace}
  labels:
    app: {service.name}
data:
  LOG_LEVEL: {rng.choice(("info", "info", "debug", "warn"))}
  application.yaml: |
    # read at start-up only
    server:
      port: {service.ports[0].container}
    upstream:
      timeout: {rng.randint(1, 30)}s  # TODO(platform) lower once retries are in
"""


def service_monitor_doc(namespace: str) -> str:
    return f"""\
# Prometheus Operator scrape config for every Service of the namespace.
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {namespace}-services
  namespace: {namespace}
  labels:
    release: prometheus
spec:
  selector:
    matchExpressions:
    - {{key: app, operator: Exists}}
  endpoints:
  - port: http
    path: /metrics
    interval: 30s
"""


def autoscaler_doc(service: Service, rng: random.Random) -> str:
    low = rng.choice((2, 2, 3))
    return f"""\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {service.name}
  namespace: {service.namespace}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {service.name}
  minReplicas: {low}
  maxReplicas: {low * rng.choice((3, 5, 10))}
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {{type: Utilization, averageUtilization: {rng.choice((60, 70, 80))}}}
"""


def budget_doc(service: Service) -> str:
    return f"""\
# Keeps a quorum during node drains.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {service.name}
  namespace: {service.namespace}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: {service.name}
"""


CRD_FIELDS = 12_000
"""Properties of the generated CRD's schema: about 2 MB of YAML, as large vendor CRDs are."""


def crd_doc(rng: random.Random) -> str:
    """A large CustomResourceDefinition (an operator's, vendored into the repository)."""
    lines = [
        "# Vendored from the operator's release; do not edit by hand.",
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        "metadata:",
        "  name: pipelines.ci.example.com",
        "spec:",
        "  group: ci.example.com",
        "  names: {kind: Pipeline, plural: pipelines}",
        "  scope: Namespaced",
        "  versions:",
        "  - name: v1",
        "    served: true",
        "    storage: true",
        "    schema:",
        "      openAPIV3Schema:",
        "        type: object",
        "        properties:",
    ]
    for index in range(CRD_FIELDS):
        kind = rng.choice(("string", "integer", "boolean", "object"))
        lines += [
            f"          field{index:05d}:",
            f"            type: {kind}",
            f"            description: Setting {index} of the pipeline; see the operator's"
            " documentation for its effect.",
        ]
        if kind == "string":
            lines.append(f"            maxLength: {rng.randint(8, 512)}")
    return "\n".join(lines) + "\n"


def mesh_config_doc() -> str:
    return f"""\
# Mesh config, taken over from the installer so that changes go through review.
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: {ROOT_NAMESPACE}
  labels:
    app: istio
data:
  mesh: |-
    enableAutoMtls: true
    rootNamespace: {ROOT_NAMESPACE}
    trustDomain: "cluster.local"
"""


# --- alpha policies -------------------------------------------------------------------------


def alpha_mesh_policy() -> str:
    return "# Mesh-wide default: STRICT mTLS (`mtls: {}`).\n" + _dump(
        {
            "apiVersion": "authentication.istio.io/v1alpha1",
            "kind": "MeshPolicy",
            "metadata": {"name": "default"},
            "spec": {"peers": [{"mtls": {}}]},
        }
    )


def alpha_namespace_policy(policy: NamespacePolicy) -> str:
    return f"# Namespace-wide {policy.mode} override of the MeshPolicy.\n" + _alpha(
        "default", policy.namespace, {"peers": [_alpha_mtls(policy.mode)]}
    )


def alpha_service_policy(policy: ServicePolicy) -> str:
    service = policy.service
    target: dict[str, Any] = {"name": service.name}
    if policy.port is not None:
        selector = {"name": policy.port.name} if policy.by_name else {"number": policy.port.number}
        target["ports"] = [selector]
    where = f"port {policy.port.name} of " if policy.port else ""
    return f"# {policy.mode} mTLS for {where}{service.name}.\n" + _alpha(
        f"{service.name}-mtls",
        service.namespace,
        {"targets": [target], "peers": [_alpha_mtls(policy.mode)]},
    )


def alpha_jwt_policy(policy: JwtPolicy) -> str:
    rules = [_alpha_trigger_rule(r) for r in policy.rules]
    origins = []
    for issuer in policy.issuers:
        jwt: dict[str, Any] = {"issuer": issuer.issuer, "jwksUri": issuer.jwks_uri}
        if issuer.headers:
            jwt["jwtHeaders"] = list(issuer.headers)
        if rules:
            jwt["triggerRules"] = rules
        origins.append({"jwt": jwt})
    spec = {
        "targets": [{"name": policy.service.name}],
        "peers": [_alpha_mtls(policy.mode)],
        "origins": origins,
        "principalBinding": "USE_ORIGIN",
    }
    return f"# End-user tokens for {policy.service.name}; this replaces the namespace policy.\n" + (
        _alpha(f"{policy.service.name}-jwt", policy.service.namespace, spec)
    )


def _alpha(name: str, namespace: str, spec: dict[str, Any]) -> str:
    return _dump(
        {
            "apiVersion": "authentication.istio.io/v1alpha1",
            "kind": "Policy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def _alpha_mtls(mode: str) -> dict[str, Any]:
    return {"mtls": {} if mode == "STRICT" else {"mode": mode}}


def _alpha_trigger_rule(rule: TriggerRule) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if rule.excluded:
        found["excludedPaths"] = [{m.kind: m.value} for m in rule.excluded]
    if rule.included:
        found["includedPaths"] = [{m.kind: m.value} for m in rule.included]
    return found


# --- beta resources -------------------------------------------------------------------------


def beta_mesh_policy() -> str:
    return "# Mesh-wide default: STRICT mTLS.\n" + _beta(
        "PeerAuthentication", "default", ROOT_NAMESPACE, {"mtls": {"mode": "STRICT"}}
    )


def beta_namespace_policy(policy: NamespacePolicy) -> str:
    return f"# Namespace-wide {policy.mode} override.\n" + _beta(
        "PeerAuthentication", "default", policy.namespace, {"mtls": {"mode": policy.mode}}
    )


def beta_service_policy(policy: ServicePolicy) -> str:
    service = policy.service
    spec: dict[str, Any] = {"selector": _selector(service)}
    if policy.port is None:
        spec["mtls"] = {"mode": policy.mode}
        note = ""
    else:
        spec["portLevelMtls"] = {policy.port.container: {"mode": policy.mode}}
        note = f" (service port {policy.port.name} -> container port {policy.port.container})"
    return f"# {policy.mode} mTLS for {service.name}{note}.\n" + _beta(
        "PeerAuthentication", f"{service.name}-mtls", service.namespace, spec
    )


def beta_jwt_policy(policy: JwtPolicy) -> str:
    service = policy.service
    name, namespace = f"{service.name}-jwt", service.namespace
    peer = _beta(
        "PeerAuthentication",
        name,
        namespace,
        {"selector": _selector(service), "mtls": {"mode": policy.mode}},
    )
    jwt_rules = []
    for issuer in policy.issuers:
        rule: dict[str, Any] = {"issuer": issuer.issuer, "jwksUri": issuer.jwks_uri}
        if issuer.headers:
            rule["fromHeaders"] = [{"name": h} for h in issuer.headers]
        rule["forwardOriginalToken"] = True
        jwt_rules.append(rule)
    request = _beta(
        "RequestAuthentication",
        name,
        namespace,
        {"selector": _selector(service), "jwtRules": jwt_rules},
    )
    ports = [str(p.container) for p in service.ports if p.http]
    rules = [_deny_rule(ports, r) for r in policy.rules] or [_deny_rule(ports, None)]
    deny = _beta(
        "AuthorizationPolicy",
        f"{name}-required",
        namespace,
        {"selector": _selector(service), "action": "DENY", "rules": rules},
    )
    return (
        f"# End-user tokens for {service.name}.\n{peer}---\n{request}"
        f"---\n# A token is required where the trigger rules said so.\n{deny}"
    )


def _deny_rule(ports: list[str], rule: TriggerRule | None) -> dict[str, Any]:
    operation: dict[str, Any] = {"ports": ports}
    if rule is not None and rule.included:
        operation["paths"] = [m.beta for m in rule.included]
    if rule is not None and rule.excluded:
        operation["notPaths"] = [m.beta for m in rule.excluded]
    return {
        "from": [{"source": {"notRequestPrincipals": ["*"]}}],
        "to": [{"operation": operation}],
    }


def _beta(kind: str, name: str, namespace: str, spec: dict[str, Any]) -> str:
    return _dump(
        {
            "apiVersion": "security.istio.io/v1beta1",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def _selector(service: Service) -> dict[str, Any]:
    return {"matchLabels": {"app": service.name}}


class _Dumper(yaml.SafeDumper):
    """Plain YAML as people write it: no anchors for values used twice."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 (the signature is PyYAML's)
        return True


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)


# --- files ----------------------------------------------------------------------------------


def write_tree(mesh: Mesh, config: Config, out: Path, side: str) -> list[Path]:
    """Write one side (`alpha` or `beta`) of the mesh under `out`; return the files written."""
    files: dict[str, list[str]] = {}
    _inventory_files(mesh, config, files)
    _policy_files(mesh, side, files)
    written = []
    for relative, documents in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n".join(documents), encoding="utf-8")
        written.append(path)
    return written


def _inventory_files(mesh: Mesh, config: Config, files: dict[str, list[str]]) -> None:
    # A generator of its own, so that the inventory is the same on both sides.
    rng = random.Random(f"{config.seed}-inventory")
    files[f"{ROOT_NAMESPACE}/mesh-config.yaml"] = [mesh_config_doc()]
    for ns in mesh.namespaces:
        services = mesh.services[ns]
        files[f"{ns}/namespace.yaml"] = [namespace_doc(ns, rng)]
        files[f"{ns}/services.yaml"] = [service_doc(s) for s in services]
        deployments = []
        for service in services:
            deployments += [service_account_doc(service), deployment_doc(service, rng)]
        files[f"{ns}/deployments.yaml"] = deployments
        configured = services[: max(1, len(services) // 3)]
        files[f"{ns}/configmaps.yaml"] = [config_map_doc(s, rng) for s in configured]
        files[f"{ns}/monitoring.yaml"] = [service_monitor_doc(ns)]
        if config.unrelated:
            files[f"{ns}/autoscaling.yaml"] = [
                doc for s in services for doc in (autoscaler_doc(s, rng), budget_doc(s))
            ]
    if config.unrelated:
        files["cluster/crds.yaml"] = [crd_doc(random.Random(f"{config.seed}-crd"))]


def _policy_files(mesh: Mesh, side: str, files: dict[str, list[str]]) -> None:
    alpha = side == "alpha"
    name = "authn-policies.yaml" if alpha else "security-policies.yaml"
    by_namespace: dict[str, list[str]] = {}
    for policy in mesh.namespace_policies:
        render = alpha_namespace_policy if alpha else beta_namespace_policy
        by_namespace.setdefault(policy.namespace, []).append(render(policy))
    for service_policy in mesh.service_policies:
        render_service = alpha_service_policy if alpha else beta_service_policy
        text = render_service(service_policy)
        by_namespace.setdefault(service_policy.service.namespace, []).append(text)
    for jwt_policy in mesh.jwt_policies:
        render_jwt = alpha_jwt_policy if alpha else beta_jwt_policy
        by_namespace.setdefault(jwt_policy.service.namespace, []).append(render_jwt(jwt_policy))
    mesh_file = "meshpolicy.yaml" if alpha else "peer-authentication.yaml"
    files[f"{ROOT_NAMESPACE}/{mesh_file}"] = [alpha_mesh_policy() if alpha else beta_mesh_policy()]
    for ns in mesh.namespaces:
        if ns in by_namespace:
            files[f"{ns}/{name}"] = by_namespace[ns]


def generate(config: Config, out: Path, side: str) -> Mesh:
    """Write the mesh of `config` under `out`: one side, or `alpha/` and `beta/` for `both`."""
    mesh = build_mesh(config)
    if side == "both":
        for one in ("alpha", "beta"):
            write_tree(mesh, config, out / one, one)
    else:
        write_tree(mesh, config, out, side)
    return mesh


def main(argv: Sequence[str] | None = None) -> int:
    defaults = Config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=defaults.namespaces)
    parser.add_argument(
        "--services-per-namespace", type=int, default=defaults.services_per_namespace
    )
    parser.add_argument("--policies", type=int, default=defaults.policies, help="about this many")
    parser.add_argument(
        "--path-conditions", type=int, default=defaults.path_conditions, help="per JWT policy"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--side", choices=("alpha", "beta", "both"), default="both")
    parser.add_argument(
        "--no-unrelated",
        action="store_true",
        help="only the mesh: no autoscalers, disruption budgets or CRD file",
    )
    args = parser.parse_args(argv)
    config = Config(
        args.namespaces,
        args.services_per_namespace,
        args.policies,
        args.path_conditions,
        args.seed,
        unrelated=not args.no_unrelated,
    )
    mesh = generate(config, args.out, args.side)
    print(
        f"{mesh.workload_count} workloads, {mesh.policy_count} alpha policies "
        f"({len(mesh.jwt_policies)} JWT, {config.path_conditions} path conditions each) "
        f"in {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
