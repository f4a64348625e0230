"""The inventory: Services, workloads, namespaces, DestinationRules and mesh config of the inputs.

Alpha policies name Services and service ports; beta resources select pod labels and container
ports. The inventory is what lets the tool translate between the two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import yaml

from migrate.findings import Finding, Location, Severity
from migrate.load.documents import Document, Origin
from migrate.load.namespaces import NAMESPACE_RULE, is_namespace_name
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
    creation_timestamp: str = ""


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


@dataclass(frozen=True, slots=True)
class IstioFact:
    """Something the inputs say about the Istio that runs them: its version (`1.5.2`) or
    whether inbound protocol sniffing is on, and where it is written."""

    kind: str
    """`version` or `sniffing`."""
    value: str | bool
    location: Location
    source: str
    """What says it, as people read it: `IstioOperator istio-system/main spec.tag`."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A document and the namespace it was given (written, from its kustomization, from
    --namespace, or `default`: the one resolution every kind and command shares)."""

    document: Document
    namespace: str


@dataclass(slots=True)
class Inventory:
    """Everything besides policies that the tool needs to know about the cluster."""

    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    destination_rules: list[Placed] = field(default_factory=list)
    """Every DestinationRule read, in its resolved namespace."""
    mesh: MeshConfig = field(default_factory=lambda: MeshConfig(DEFAULT_ROOT_NAMESPACE, None, None))
    istio: list[IstioFact] = field(default_factory=list)
    """What the inputs say about the Istio release and its inbound sniffing (§F)."""
    definitions: list[tuple[tuple[str, str, str], Origin, Service | Workload]] = field(
        default_factory=list, repr=False
    )
    """Every Service and workload document read, for `resolve_inventory_duplicates`."""
    ambiguous: list[InventoryDuplicates] = field(default_factory=list)
    """Services and workloads defined in several files: each may be the one in force."""
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
    _filed: dict[str, dict[tuple[str, str], list[tuple[int, Service]]]] = field(
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
            self._filed.clear()
        return self._indexed[1]

    def fronting(self, namespace: str, labels: dict[str, str]) -> list[Service]:
        """Services in `namespace` whose (non-empty) selector the pod `labels` include, in
        `services_in` order. Each Service is filed under one of its selector's labels, so a
        pod looks only at the Services that could select it, not at its whole namespace."""
        services = self.services_in(namespace)  # first: a rebuilt index clears the filing
        filed = self._filed.get(namespace)
        if filed is None:
            filed = self._filed[namespace] = {}
            for position, service in enumerate(services):
                if service.selector:
                    label = min(service.selector.items())
                    filed.setdefault(label, []).append((position, service))
        found = [
            (position, service)
            for label in labels.items()
            for position, service in filed.get(label, ())
            if all(labels.get(k) == v for k, v in (service.selector or {}).items())
        ]
        return [service for _, service in sorted(found, key=lambda pair: pair[0])]

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

    def choose(self, choices: dict[tuple[str, str, str], int]) -> Inventory:
        """The inventory with the given candidate in force for each ambiguous identity (an
        index into its candidates; identities not named keep their first)."""
        if not any(choices.get(d.identity, 0) for d in self.ambiguous):
            return self
        swap = {
            id(d.candidates[0]): d.candidates[choices.get(d.identity, 0)] for d in self.ambiguous
        }
        chosen = Inventory(
            services={k: swap.get(id(v), v) for k, v in self.services.items()},  # type: ignore[misc]
            workloads=[swap.get(id(w), w) for w in self.workloads],  # type: ignore[misc]
            namespaces=self.namespaces,
            destination_rules=self.destination_rules,
            mesh=self.mesh,
            istio=self.istio,
        )
        chosen.ambiguous = self.ambiguous
        return chosen

    @property
    def all_namespaces(self) -> set[str]:
        """Every namespace the inventory mentions (a new set each time)."""
        services, workloads, _ = self._index()
        return set(self.namespaces) | set(services) | set(workloads)


@dataclass(frozen=True, slots=True)
class InventoryDuplicates:
    """A Service or workload defined in several files: the last definition of each file."""

    identity: tuple[str, str, str]
    candidates: tuple[Service | Workload, ...]

    @property
    def ref(self) -> str:
        """`Kind namespace/name`."""
        kind, namespace, name = self.identity
        return f"{kind} {namespace}/{name}"

    def paths(self) -> list[str]:
        """The files of the candidates, in their order."""
        return [c.origin.path for c in self.candidates]


def data_key(data: object) -> str:
    """What a definition says, as text: two definitions with equal keys are the same."""
    return json.dumps(data, sort_keys=True, default=str)


def origin_order(origin: Origin) -> tuple[str, int, int, int]:
    """Reading order: file, document, line, column."""
    return origin.path, origin.index, origin.line, origin.column


def resolve_inventory_duplicates(inventory: Inventory, main: set[str]) -> list[Finding]:
    """Keep one Service or workload per identity: the later of a file replaces the earlier;
    across files the first file's stands in and the group is recorded in `ambiguous`.
    Definitions outside `main` (read with --inventory) give way to those of the inputs."""
    groups: dict[tuple[str, str, str], list[tuple[Origin, Service | Workload]]] = {}
    for identity, origin, item in inventory.definitions:
        groups.setdefault(identity, []).append((origin, item))
    findings: list[Finding] = []
    drop: set[int] = set()
    for identity, members in groups.items():
        if len(members) < 2:
            continue
        own = [m for m in members if m[0].path in main] or members
        last: dict[str, Service | Workload] = {}
        for origin, item in sorted(own, key=lambda m: origin_order(m[0])):
            last[origin.path] = item
        survivors = [last[path] for path in sorted(last)]
        drop |= {id(item) for _, item in members if item is not survivors[0]}
        if identity[0] == "Service":
            inventory.services[identity[1:]] = survivors[0]  # type: ignore[assignment]
        alike = len({_definition(item) for item in survivors}) == 1
        if not alike:
            inventory.ambiguous.append(InventoryDuplicates(identity, tuple(survivors)))
        kind, namespace, name = identity
        findings += duplicate_findings(
            f"{kind} {namespace}/{name}", [o for o, _ in own], alike=alike
        )
    if drop:
        inventory.workloads = [w for w in inventory.workloads if id(w) not in drop]
    return findings


def _definition(item: Service | Workload) -> str:
    """What an inventory definition says that the tool reads (not where it is written)."""
    if isinstance(item, Service):
        return data_key((item.selector, item.ports, item.creation_timestamp))
    return data_key((item.kind, item.labels, item.ports))


def duplicate_findings(ref: str, origins: list[Origin], *, alike: bool = False) -> list[Finding]:
    """AM214 for each definition a later one of the same file replaces, AM215 once when
    definitions in several files remain (a note when they say the same: `alike`)."""
    found = []
    ordered = sorted(origins, key=origin_order)
    for earlier, later in pairwise(ordered):
        if earlier.path == later.path:
            found.append(
                Finding(
                    "AM214",
                    Severity.WARNING,
                    f"{ref} is defined again; applied in order, it replaces the one at "
                    f"{earlier.location}",
                    later.location,
                    resource=ref,
                    related=(earlier.location,),
                )
            )
    files = sorted({o.path for o in ordered})
    if len(files) > 1:
        last = [max((o for o in ordered if o.path == f), key=origin_order) for f in files]
        found.append(
            Finding(
                "AM215",
                Severity.NOTE if alike else Severity.WARNING,
                f"{ref} is defined in {len(files)} files ("
                + ", ".join(str(o.location) for o in last)
                + (
                    "), alike: whichever is applied last, the same definition is in force"
                    if alike
                    else "); which is applied last is not set by the inputs, so each is "
                    "proven in force in turn"
                ),
                last[-1].location,
                resource=ref,
                related=tuple(o.location for o in last[:-1]),
            )
        )
    return found


def is_namespaced(doc: Document) -> bool:
    """False for cluster-scoped kinds (Namespace, MeshPolicy, CRDs, ...)."""
    return doc.kind not in CLUSTER_SCOPED_KINDS


def add_to_inventory(
    inventory: Inventory, doc: Document, namespace: str, checked: Sequence[Finding] | None = None
) -> list[Finding]:
    """Record `doc` if it is an inventory kind; return findings about it (`checked`: its
    `validate_inventory_document` findings, when already known)."""
    findings = validate_inventory_document(doc) if checked is None else list(checked)
    kind, group = doc.kind, doc.group
    if kind == "Service" and group == "":
        service = inventory.services[(namespace, doc.name)] = _service(doc, namespace)
        inventory.definitions.append((("Service", namespace, doc.name), doc.origin, service))
    elif kind in WORKLOAD_KINDS:
        workload = _workload(doc, namespace)
        inventory.workloads.append(workload)
        inventory.definitions.append(((kind, namespace, doc.name), doc.origin, workload))
    elif kind == "Namespace" and group == "":
        inventory.namespaces[doc.name] = labels(doc.metadata.get("labels"))
    elif kind == "DestinationRule" and group == "networking.istio.io":
        inventory.destination_rules.append(Placed(doc, namespace))
    elif kind == "ConfigMap" and group == "" and doc.name == "istio":
        return _mesh_config(inventory, doc)
    if kind == "IstioOperator" and group == "install.istio.io":
        inventory.istio.extend(_operator_facts(doc, namespace))
    elif kind in WORKLOAD_KINDS:
        inventory.istio.extend(_image_facts(doc, namespace))
    return findings


SNIFFING_VARIABLE = "PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND"
_ISTIO_IMAGE = re.compile(r"(?:^|/)(pilot|proxyv2):([^@\s]+)")


def _operator_facts(doc: Document, namespace: str) -> list[IstioFact]:
    """An IstioOperator's `spec.tag`, and its inbound sniffing value or istiod env."""
    spec = _mapping(doc.data.get("spec"))
    ref = f"IstioOperator {namespace}/{doc.name}" if namespace else f"IstioOperator {doc.name}"
    found = []
    tag = spec.get("tag")
    if isinstance(tag, (str, int, float)) and not isinstance(tag, bool):
        found.append(IstioFact("version", str(tag), doc.locate(("spec", "tag")), f"{ref} spec.tag"))
    pilot = _mapping(_mapping(spec.get("values")).get("pilot"))
    value = pilot.get("enableProtocolSniffingForInbound")
    if isinstance(value, bool):
        key = ("spec", "values", "pilot", "enableProtocolSniffingForInbound")
        found.append(IstioFact("sniffing", value, doc.locate(key), f"{ref} {'.'.join(key)}"))
    k8s = _mapping(_mapping(_mapping(spec.get("components")).get("pilot")).get("k8s"))
    for index, variable in enumerate(_list(k8s.get("env"))):
        flag = _env_flag(variable)
        if flag is not None:
            where = ("spec", "components", "pilot", "k8s", "env", index)
            found.append(
                IstioFact(
                    "sniffing", flag, doc.locate(where), f"{ref} istiod env {SNIFFING_VARIABLE}"
                )
            )
    return found


def _image_facts(doc: Document, namespace: str) -> list[IstioFact]:
    """Istio's own images (pilot, proxyv2) give the release; istiod's env gives sniffing."""
    spec = _mapping(_pod_template(doc).get("spec"))
    found = []
    ref = f"{doc.kind} {namespace}/{doc.name}"
    for index, container in enumerate(_list(spec.get("containers"))):
        if not isinstance(container, dict):
            continue
        match = _ISTIO_IMAGE.search(str(container.get("image") or ""))
        if match is None:
            continue
        where = _container_path(doc, index)
        found.append(
            IstioFact(
                "version",
                match[2],
                doc.locate((*where, "image")),
                f"{ref} image {match[1]}:{match[2]}",
            )
        )
        if match[1] != "pilot":
            continue
        for number, variable in enumerate(_list(container.get("env"))):
            flag = _env_flag(variable)
            if flag is not None:
                found.append(
                    IstioFact(
                        "sniffing",
                        flag,
                        doc.locate((*where, "env", number)),
                        f"{ref} env {SNIFFING_VARIABLE}",
                    )
                )
    return found


def _container_path(doc: Document, index: int) -> tuple[str | int, ...]:
    if doc.kind == "Pod":
        return ("spec", "containers", index)
    if doc.kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec", "containers", index)
    return ("spec", "template", "spec", "containers", index)


def _env_flag(variable: Any) -> bool | None:
    """The value of the inbound sniffing variable in one env entry, None for another entry."""
    if not isinstance(variable, dict) or variable.get("name") != SNIFFING_VARIABLE:
        return None
    value = str(variable.get("value", "")).strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


def _service(doc: Document, namespace: str) -> Service:
    spec = _mapping(doc.data.get("spec"))
    selector = spec.get("selector")
    return Service(
        name=doc.name,
        namespace=namespace,
        selector=labels(selector) if isinstance(selector, dict) and selector else None,
        ports=tuple(_service_port(p) for p in _list(spec.get("ports")) if isinstance(p, dict)),
        origin=doc.origin,
        creation_timestamp=str(doc.metadata.get("creationTimestamp") or ""),
    )


def _service_port(port: dict[str, Any]) -> ServicePort:
    number = _int(port.get("port"))
    target = port.get("targetPort")
    target_port: int | str = number
    if isinstance(target, int) and not isinstance(target, bool):
        target_port = target
    elif isinstance(target, str) and target:
        target_port = int(target) if is_port_text(target) else target
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
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
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
    if root_namespace and not is_namespace_name(root_namespace):
        message = f"mesh config rootNamespace {root_namespace!r} is ignored: {NAMESPACE_RULE}"
        return [Finding("AM018", Severity.ERROR, message, doc.locate(("data", "mesh")))]
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
    if isinstance(value, str) and is_port_text(value):
        return int(value)
    return 0


def is_port_text(text: str) -> bool:
    """True for text that reads as a port number: ASCII digits, at most five of them (a
    superscript digit is a digit to `str.isdigit`, not to `int`)."""
    return text.isascii() and text.isdigit() and len(text) <= 5
