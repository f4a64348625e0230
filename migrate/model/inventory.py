"""The inventory: Services, workloads, namespaces, DestinationRules and mesh config of the inputs.

Alpha policies name Services and service ports; beta resources select pod labels and container
ports. The inventory is what lets the tool translate between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from migrate.findings import Finding, Severity
from migrate.load.documents import Document, Origin
from migrate.model.fields import labels
from migrate.validate.schema import validate_inventory_document

DEFAULT_ROOT_NAMESPACE = "istio-system"

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "ReplicationController",
    "DeploymentConfig",
)
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "MeshPolicy",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "APIService",
        "Node",
        "PodSecurityPolicy",
        "IngressClass",
        "ClusterIssuer",
        "RbacConfig",
        "ClusterRbacConfig",
    }
)
_HTTP_PREFIXES = ("http", "http2", "grpc", "grpc-web")


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A Service port: `target_port` is a number or a container port name."""

    name: str
    port: int
    target_port: int | str
    protocol: str
    app_protocol: str

    @property
    def is_http(self) -> bool:
        """HTTP by appProtocol or by Istio's port-name prefix convention (`http-foo`)."""
        proto = (self.app_protocol or self.name.split("-", 1)[0]).lower()
        return proto in _HTTP_PREFIXES and self.protocol.upper() in ("", "TCP")


@dataclass(frozen=True, slots=True)
class Service:
    """A Kubernetes Service; `selector` None means it has none (endpoints managed elsewhere)."""

    name: str
    namespace: str
    selector: dict[str, str] | None
    ports: tuple[ServicePort, ...]
    origin: Origin


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A port a container declares."""

    name: str
    number: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Workload:
    """Something that runs pods: its pod-template labels and its containers' ports."""

    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...]
    origin: Origin

    @property
    def ref(self) -> str:
        """`Kind namespace/name`."""
        return f"{self.kind} {self.namespace}/{self.name}"

    def port_named(self, name: str) -> ContainerPort | None:
        """The container port with this name, if any container declares it."""
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True, slots=True)
class MeshConfig:
    """What the tool reads from Istio's mesh config (ConfigMap `istio`, key `mesh`)."""

    root_namespace: str
    enable_auto_mtls: bool | None
    origin: Origin | None


@dataclass(slots=True)
class Inventory:
    """Everything besides policies that the tool needs to know about the cluster."""

    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    destination_rules: list[Document] = field(default_factory=list)
    mesh: MeshConfig = field(default_factory=lambda: MeshConfig(DEFAULT_ROOT_NAMESPACE, None, None))
    _indexed: (
        tuple[
            tuple[int, int],
            tuple[
                dict[str, list[Service]], dict[str, list[Workload]], dict[tuple[str, str], Workload]
            ],
        ]
        | None
    ) = field(default=None, repr=False)
    _selections: dict[tuple[str, tuple[tuple[str, str], ...]], list[Workload]] = field(
        default_factory=dict, repr=False
    )

    def service(self, namespace: str, name: str) -> Service | None:
        """The Service `name` in `namespace`."""
        return self.services.get((namespace, name))

    def services_in(self, namespace: str) -> list[Service]:
        """Services of one namespace, sorted by name (indexed on first use)."""
        return self._index()[0].get(namespace, [])

    def workloads_in(self, namespace: str | None) -> list[Workload]:
        """Workloads of one namespace, or of all when `namespace` is None."""
        if namespace is None:
            return list(self.workloads)
        return self._index()[1].get(namespace, [])

    def workload(self, namespace: str, name: str) -> Workload | None:
        """A workload by namespace and name."""
        return self._index()[2].get((namespace, name))

    def _index(
        self,
    ) -> tuple[
        dict[str, list[Service]], dict[str, list[Workload]], dict[tuple[str, str], Workload]
    ]:
        """Lookups by namespace, rebuilt when services or workloads were added since."""
        size = (len(self.services), len(self.workloads))
        if self._indexed is None or self._indexed[0] != size:
            services: dict[str, list[Service]] = {}
            for (namespace, _), service in sorted(self.services.items()):
                services.setdefault(namespace, []).append(service)
            workloads: dict[str, list[Workload]] = {}
            for workload in self.workloads:
                workloads.setdefault(workload.namespace, []).append(workload)
            named = {(w.namespace, w.name): w for w in self.workloads}
            self._indexed = (size, (services, workloads, named))
            self._selections.clear()
        return self._indexed[1]

    def selected(self, namespace: str, selector: dict[str, str]) -> list[Workload]:
        """Workloads in `namespace` whose pod labels include every selector label."""
        workloads = self.workloads_in(namespace)  # first: a rebuilt index clears the cache
        key = (namespace, tuple(sorted(selector.items())))
        found = self._selections.get(key)
        if found is None:
            found = self._selections[key] = [
                w for w in workloads if all(w.labels.get(k) == v for k, v in selector.items())
            ]
        return found

    @property
    def all_namespaces(self) -> set[str]:
        """Every namespace the inventory mentions (a new set each time)."""
        services, workloads, _ = self._index()
        return set(self.namespaces) | set(services) | set(workloads)


def is_namespaced(doc: Document) -> bool:
    """False for cluster-scoped kinds (Namespace, MeshPolicy, CRDs, ...)."""
    return doc.kind not in CLUSTER_SCOPED_KINDS


def add_to_inventory(inventory: Inventory, doc: Document, namespace: str) -> list[Finding]:
    """Record `doc` if it is an inventory kind; return findings about it."""
    findings = validate_inventory_document(doc)
    kind, group = doc.kind, doc.group
    if kind == "Service" and group == "":
        inventory.services[(namespace, doc.name)] = _service(doc, namespace)
    elif kind in WORKLOAD_KINDS:
        inventory.workloads.append(_workload(doc, namespace))
    elif kind == "Namespace" and group == "":
        inventory.namespaces[doc.name] = labels(doc.metadata.get("labels"))
    elif kind == "DestinationRule" and group == "networking.istio.io":
        inventory.destination_rules.append(doc)
    elif kind == "ConfigMap" and group == "" and doc.name == "istio":
        return _mesh_config(inventory, doc)
    return findings


def _service(doc: Document, namespace: str) -> Service:
    spec = _mapping(doc.data.get("spec"))
    selector = spec.get("selector")
    return Service(
        name=doc.name,
        namespace=namespace,
        selector=labels(selector) if isinstance(selector, dict) and selector else None,
        ports=tuple(_service_port(p) for p in _list(spec.get("ports")) if isinstance(p, dict)),
        origin=doc.origin,
    )


def _service_port(port: dict[str, Any]) -> ServicePort:
    number = _int(port.get("port"))
    target = port.get("targetPort")
    target_port: int | str = number
    if isinstance(target, int) and not isinstance(target, bool):
        target_port = target
    elif isinstance(target, str) and target:
        target_port = int(target) if target.isdigit() else target
    return ServicePort(
        name=str(port.get("name") or ""),
        port=number,
        target_port=target_port,
        protocol=str(port.get("protocol") or "TCP"),
        app_protocol=str(port.get("appProtocol") or ""),
    )


def _workload(doc: Document, namespace: str) -> Workload:
    template = _pod_template(doc)
    metadata = _mapping(template.get("metadata"))
    spec = _mapping(template.get("spec"))
    containers = _list(spec.get("containers")) + _list(spec.get("initContainers"))
    ports = tuple(
        ContainerPort(
            str(p.get("name") or ""), _int(p.get("containerPort")), str(p.get("protocol") or "TCP")
        )
        for c in containers
        if isinstance(c, dict)
        for p in _list(c.get("ports"))
        if isinstance(p, dict)
    )
    return Workload(
        doc.kind, doc.name, namespace, labels(metadata.get("labels")), ports, doc.origin
    )


def _pod_template(doc: Document) -> dict[str, Any]:
    """The pod template of a workload (a Pod is its own template)."""
    if doc.kind == "Pod":
        return doc.data
    spec = _mapping(doc.data.get("spec"))
    if doc.kind == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
    return _mapping(spec.get("template"))


def _mesh_config(inventory: Inventory, doc: Document) -> list[Finding]:
    text = _mapping(doc.data.get("data")).get("mesh")
    if not isinstance(text, str):
        return []
    try:
        mesh = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [
            Finding(
                "AM001",
                Severity.WARNING,
                f"mesh config is not valid YAML: {exc}",
                doc.locate(("data", "mesh")),
            )
        ]
    mesh = _mapping(mesh)
    root_namespace = mesh.get("rootNamespace")
    auto = mesh.get("enableAutoMtls")
    inventory.mesh = MeshConfig(
        root_namespace=str(root_namespace) if root_namespace else inventory.mesh.root_namespace,
        enable_auto_mtls=auto if isinstance(auto, bool) else None,
        origin=doc.origin,
    )
    if not root_namespace:
        return []
    return [
        Finding(
            "AM209",
            Severity.NOTE,
            f"root namespace {root_namespace!r} taken from the mesh config",
            doc.locate(("data", "mesh")),
        )
    ]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0
