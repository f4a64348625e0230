"""A workspace: the inputs read, validated and indexed once, for every command to use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from migrate.findings import Finding, Location, Severity, sort_findings
from migrate.load.discover import display_path
from migrate.load.documents import Document, LoadedFile, LoadResult, Origin, load_paths, parse_text
from migrate.load.kustomizations import Patch, PatchIndex, patch_index
from migrate.load.namespaces import NamespaceResolver, kustomization_namespaces
from migrate.load.sourcefile import decode
from migrate.load.templates import placeholder_at
from migrate.model.alpha import AlphaPolicy, build_alpha, is_alpha_policy
from migrate.model.beta import BetaResource, build_beta, is_beta_resource
from migrate.model.inventory import (
    DEFAULT_ROOT_NAMESPACE,
    WORKLOAD_KINDS,
    Inventory,
    add_to_inventory,
    data_key,
    duplicate_findings,
    is_namespaced,
    origin_order,
    resolve_inventory_duplicates,
)
from migrate.validate.schema import validate_document, validate_inventory_document

_INVENTORY_KINDS = frozenset(
    {"Service", "Namespace", "DestinationRule", "ConfigMap", "IstioOperator", *WORKLOAD_KINDS}
)


@dataclass(frozen=True, slots=True)
class WorkspaceOptions:
    """How to read the inputs."""

    root_namespace: str | None = None
    namespace: str | None = None
    inventory: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """An alpha policy document with its model (None when it failed its schema)."""

    document: Document
    namespace: str
    policy: AlphaPolicy | None
    findings: tuple[Finding, ...]
    embedded_in: Document | None = None
    superseded: bool = False
    """True when a later document of the same file defines the same resource (applied in
    order, it replaces this one, which Istio never saw)."""
    rivals: tuple[Location, ...] = ()
    """Definitions of the same resource in other files that say something else: which one is
    in force depends on an apply order the inputs do not set."""
    twins: tuple[Location, ...] = ()
    """Definitions of the same resource in other files that say the same (an environment's
    copy, say): whichever is applied last, the same policy is in force."""

    @property
    def ref(self) -> str:
        """`Kind namespace/name`, even for a policy that failed validation."""
        if self.document.kind == "MeshPolicy":
            return f"MeshPolicy {self.document.name}"
        return f"Policy {self.namespace}/{self.document.name}"


@dataclass(slots=True)
class Workspace:
    """Inputs loaded once: documents, namespaces, inventory, alpha and beta resources."""

    loaded: LoadResult
    inventory: Inventory
    policies: list[PolicyEntry] = field(default_factory=list)
    beta: list[BetaResource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    patches: PatchIndex = field(default_factory=PatchIndex)
    """The patches the kustomizations read list: their files are not resources."""

    @property
    def root_namespace(self) -> str:
        """The mesh's root namespace (mesh config in the inputs wins over the option)."""
        return self.inventory.mesh.root_namespace

    @property
    def alpha(self) -> list[AlphaPolicy]:
        """The alpha policies that passed validation, in input order."""
        return [p.policy for p in self.policies if p.policy is not None and not p.superseded]

    def patches_of(self, entry: PolicyEntry) -> list[Patch]:
        """The overlay patches that may change the policy."""
        document = entry.document
        namespace = "" if document.kind == "MeshPolicy" else entry.namespace
        return self.patches.of(document.kind, document.name, namespace, document.group)

    def sorted_findings(self) -> list[Finding]:
        """Every finding in reading order."""
        return sort_findings(self.findings)


def open_workspace(
    paths: Sequence[str], options: WorkspaceOptions | None = None, *, stdin: bytes | None = None
) -> Workspace:
    """Read `paths` (and the extra inventory paths) and index everything in them."""
    return workspace_of(load_paths(paths, stdin=stdin, check=check_document), options)


def check_document(doc: Document) -> list[Finding] | None:
    """The findings about a document that depend on nothing else (schema, webhook rules,
    template placeholders; the fields the inventory reads): the loader's check, done where
    the file is read. None for the kinds the workspace does not index."""
    if is_alpha_policy(doc):
        return [*validate_document(doc), *_placeholders(doc)]
    if is_beta_resource(doc):
        return validate_document(doc)
    if doc.kind in _INVENTORY_KINDS:
        return validate_inventory_document(doc)
    return None


def _checks(doc: Document, checked: Sequence[Finding] | None) -> list[Finding]:
    """`check_document` of `doc`: what the loader found, else found now (a document of a
    list, or a load without the check)."""
    return list((checked if checked is not None else check_document(doc)) or ())


def workspace_of(loaded: LoadResult, options: WorkspaceOptions | None = None) -> Workspace:
    """Index already loaded sources (and read the extra inventory paths)."""
    options = options or WorkspaceOptions()
    extra = load_paths(options.inventory) if options.inventory else None
    inventory = Inventory()
    inventory.mesh = replace(
        inventory.mesh, root_namespace=options.root_namespace or DEFAULT_ROOT_NAMESPACE
    )
    patches = patch_index(loaded)
    workspace = Workspace(
        loaded, inventory, findings=_not_about_patches(loaded.findings, patches), patches=patches
    )
    resolver = NamespaceResolver(
        kustomization_namespaces(loaded, workspace.findings), options.namespace, workspace.findings
    )
    if extra is not None:
        workspace.findings.extend(extra.findings)
        extra_resolver = NamespaceResolver(kustomization_namespaces(extra), options.namespace, [])
        for loaded_file in extra.files:
            _index_inventory(workspace, loaded_file, extra_resolver)
    resources = [f for f in loaded.files if not _is_patch(f, patches)]
    for loaded_file in resources:
        _index_inventory(workspace, loaded_file, resolver)
    for loaded_file in resources:
        _index_security(workspace, loaded_file, resolver)
    _resolve_duplicates(workspace, {f.source.display for f in loaded.files})
    return workspace


def _is_patch(loaded: LoadedFile, patches: PatchIndex) -> bool:
    path = loaded.source.path
    return bool(patches.files) and path is not None and path.resolve() in patches.files


def _not_about_patches(findings: Sequence[Finding], patches: PatchIndex) -> list[Finding]:
    """Findings, less those that read a patch file as a resource (a JSON 6902 patch is a
    list, not a mapping: AM002)."""
    if not patches.files:
        return list(findings)
    names = {display_path(p) for p in patches.files}
    return [f for f in findings if not (f.code == "AM002" and f.location.path in names)]


def _index_inventory(workspace: Workspace, loaded: LoadedFile, resolver: NamespaceResolver) -> None:
    for position, doc in enumerate(loaded.documents):
        if doc.kind in _INVENTORY_KINDS:
            namespace = _namespace(doc, loaded, resolver, report=doc.kind != "ConfigMap")
            checked = loaded.checked(position)
            workspace.findings.extend(
                add_to_inventory(workspace.inventory, doc, namespace, checked)
            )


def _index_security(workspace: Workspace, loaded: LoadedFile, resolver: NamespaceResolver) -> None:
    for position, doc in enumerate(loaded.documents):
        if is_alpha_policy(doc):
            namespace = _namespace(doc, loaded, resolver, report=True)
            _add_policy(workspace, doc, namespace, None, loaded.checked(position))
        elif is_beta_resource(doc):
            namespace = _namespace(doc, loaded, resolver, report=True)
            findings = _checks(doc, loaded.checked(position))
            workspace.findings.extend(findings)
            if not _schema_failed(findings):
                workspace.beta.append(build_beta(doc, namespace))
        elif doc.kind == "ConfigMap" and doc.group == "":
            for inner in embedded_policies(doc, loaded.text.text if loaded.text else ""):
                namespace = _namespace(inner, loaded, resolver, report=False)
                _add_policy(workspace, inner, namespace, doc)


def _namespace(
    doc: Document, loaded: LoadedFile, resolver: NamespaceResolver, *, report: bool
) -> str:
    if not is_namespaced(doc):
        return ""
    return resolver.namespace_of(doc, loaded.source.path, report=report)


def _add_policy(
    workspace: Workspace,
    doc: Document,
    namespace: str,
    embedded_in: Document | None,
    checked: Sequence[Finding] | None = None,
) -> None:
    findings = _checks(doc, checked)
    policy = None if _schema_failed(findings) else build_alpha(doc, namespace)
    workspace.policies.append(PolicyEntry(doc, namespace, policy, tuple(findings), embedded_in))
    workspace.findings.extend(findings)


def _resolve_duplicates(workspace: Workspace, main: set[str]) -> None:
    """Two documents of one kind, namespace and name are one object (§F): applied in order,
    the later of a file replaces the earlier; across files the order is open, and the
    proof considers each file's definition in force in turn. Inventory documents read with
    --inventory give way to the inputs' own."""
    alpha: dict[tuple[str, str, str], list[int]] = {}
    for index, entry in enumerate(workspace.policies):
        alpha.setdefault(_resource_key(entry), []).append(index)
    for indexes in alpha.values():
        if len(indexes) < 2:
            continue
        entries = [workspace.policies[i] for i in indexes]
        live = _last_per_file(
            [(e.document.origin, i) for e, i in zip(entries, indexes, strict=True)]
        )
        for entry, index in zip(entries, indexes, strict=True):
            if index not in live:
                workspace.policies[index] = replace(entry, superseded=True)
        alike = len({data_key(workspace.policies[i].document.data) for i in live}) == 1
        for index in live:
            others = tuple(
                workspace.policies[i].document.origin.location for i in live if i != index
            )
            entry = workspace.policies[index]
            workspace.policies[index] = (
                replace(entry, twins=others) if alike else replace(entry, rivals=others)
            )
        workspace.findings += duplicate_findings(
            workspace.policies[indexes[0]].ref,
            [e.document.origin for e in entries],
            alike=alike,
        )
    beta: dict[tuple[str, str, str], list[BetaResource]] = {}
    for resource in workspace.beta:
        beta.setdefault(
            (resource.meta.kind, resource.meta.namespace, resource.meta.name), []
        ).append(resource)
    for members in beta.values():
        if len(members) > 1:
            alike = len({data_key(m.meta.document.data) for m in members}) == 1
            workspace.findings += duplicate_findings(
                members[0].meta.ref, [m.meta.document.origin for m in members], alike=alike
            )
    workspace.findings += resolve_inventory_duplicates(workspace.inventory, main)


def _last_per_file(members: list[tuple[Origin, int]]) -> list[int]:
    """Of definitions (origin, id), the last of each file, in path order."""
    last: dict[str, tuple[Origin, int]] = {}
    for origin, ident in sorted(members, key=lambda m: origin_order(m[0])):
        last[origin.path] = (origin, ident)
    return [last[path][1] for path in sorted(last)]


def _resource_key(entry: PolicyEntry) -> tuple[str, str, str]:
    return (entry.document.kind, entry.namespace, entry.document.name)


def _schema_failed(findings: list[Finding]) -> bool:
    return any(f.code == "AM101" and f.severity is Severity.ERROR for f in findings)


def _placeholders(doc: Document) -> list[Finding]:
    """Values that still hold template placeholders such as `{{ .Values.x }}`."""
    found: list[Finding] = []
    for path, value in _strings(doc.data, ()):
        if placeholder_at(value) >= 0:
            found.append(
                Finding(
                    "AM014",
                    Severity.WARNING,
                    f"value {value!r} is an unrendered template placeholder",
                    doc.locate(path),
                    resource=f"{doc.kind} {doc.name}",
                )
            )
    return found


def _strings(value: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, (*path, i))]
    return []


def embedded_policies(configmap: Document, file_text: str) -> list[Document]:
    """Alpha policies written as text inside a ConfigMap's data (as Istio's charts shipped them),
    with locations pointing into the ConfigMap's file (`file_text`)."""
    data = configmap.data.get("data")
    if not isinstance(data, dict):
        return []
    found: list[Document] = []
    for key, value in data.items():
        if isinstance(value, str) and "authentication.istio.io" in value:
            found.extend(_parse_embedded(configmap, str(key), value, file_text))
    return found


def _parse_embedded(configmap: Document, key: str, text: str, file_text: str) -> list[Document]:
    """Documents of one embedded value; positions are exact for block scalars (`|`, `>`),
    whose content starts on the line after the indicator at a fixed indentation."""
    where = configmap.locate(("data", key))
    documents, _, _ = parse_text(decode(configmap.origin.path, text.encode("utf-8")))
    offset = (where.line, _indentation(file_text, where.line))
    return [
        Document(
            Origin(
                configmap.origin.path,
                configmap.origin.index,
                d.origin.line + offset[0],
                d.origin.column + offset[1],
            ),
            d.data,
            d.node,
            offset,
        )
        for d in documents
        if is_alpha_policy(d)
    ]


def _indentation(text: str, line: int) -> int:
    """Leading spaces of the first non-blank line after 1-based `line`."""
    for row in text.splitlines()[line:]:
        if row.strip():
            return len(row) - len(row.lstrip(" "))
    return 0
