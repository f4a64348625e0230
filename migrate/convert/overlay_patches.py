"""Patches follow their policies: when a policy an overlay patches is converted, the overlay's
patches of it become patches of the new resources.

The overlay's kustomization is built as it is (the real kustomize), so the policy is read as
that environment has it, patched; it is converted there as in the base. Each new resource
whose spec differs from the base's conversion gets a JSON 6902 patch replacing its spec with
the environment's, and the policy's patch entries go (a patch file listed nowhere else with
them). A policy whose patches cannot be translated exactly — a patch that also targets other
resources, an overlay that does not build, an environment where the policy converts into
other resources or differs beyond their specs — is left as it is (AM413, the reason given).
What is written is proven afterwards by building every overlay again
(`migrate.commands.environments`): a translation that does not hold is not written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from migrate.convert.model import Conversion, ConvertOptions, NewResource
from migrate.findings import Finding, Location, Severity
from migrate.load.discover import Source, display_path
from migrate.load.documents import load_sources
from migrate.load.kustomizations import Patch
from migrate.load.kustomize_build import Engine, build
from migrate.load.overlays import read_kustomization, unbuildable
from migrate.rewrite.documents import RewriteError
from migrate.rewrite.files import FileChange
from migrate.rewrite.kustomize import append_patches, remove_entries
from migrate.semantics.environment import Environment
from migrate.workspace import PolicyEntry, Workspace, WorkspaceOptions, workspace_of

Key = tuple[str, str, str]
"""Kind, namespace and name of a resource."""


@dataclass(frozen=True, slots=True)
class Translation:
    """One kustomization's patches of one policy, as patches of its new resources."""

    kustomization: Path
    removed: frozenset[tuple[str, int]]
    items: tuple[tuple[str, ...], ...]
    files: tuple[Path, ...]


@dataclass(slots=True)
class PatchPlan:
    """For each patched policy, its translations or why there are none."""

    translations: dict[str, list[Translation]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def patched(self) -> set[str]:
        """Every policy an overlay patches."""
        return set(self.translations) | set(self.refused)


@dataclass(slots=True)
class _Builds:
    """Each kustomization built once, and the conversion of what it builds."""

    engine: Engine | None
    tree: Path
    options: ConvertOptions
    environment: Environment
    workspace_options: WorkspaceOptions | None
    done: dict[Path, Conversion | str] = field(default_factory=dict)

    def conversion(self, directory: Path) -> Conversion | str:
        if directory not in self.done:
            self.done[directory] = self._convert(directory)
        return self.done[directory]

    def _convert(self, directory: Path) -> Conversion | str:
        from migrate.convert.run import convert_workspace  # run refuses what this cannot do

        if self.engine is None:
            return "neither kustomize nor kubectl is on PATH to build it"
        refused = unbuildable(directory, self.tree)
        if refused is not None:
            return f"it is not built: {refused}"
        built = build(self.engine, directory)
        if built.text is None:
            return f"it does not build: {built.error}"
        source = Source(f"{display_path(directory)} (built)", None, content=built.text.encode())
        workspace = workspace_of(load_sources([source]), self.workspace_options)
        return convert_workspace(workspace, self.options, self.environment)


def plan_translations(
    workspace: Workspace,
    conversion: Conversion,
    *,
    engine: Engine | None,
    tree: Path,
    options: ConvertOptions,
    environment: Environment,
    workspace_options: WorkspaceOptions | None = None,
) -> PatchPlan:
    """The translation of every patch of every converted policy, or why it cannot be."""
    plan = PatchPlan()
    builds = _Builds(engine, tree, options, environment, workspace_options)
    for entry in conversion.converted:
        patches = workspace.patches_of(entry)
        if not patches:
            continue
        mine = [r for r in conversion.resources if r.source is entry]
        translations: list[Translation] = []
        for kustomization in sorted({p.kustomization for p in patches}):
            here = [p for p in patches if p.kustomization == kustomization]
            done = _translate(entry, here, mine, builds)
            if isinstance(done, str):
                plan.refused[entry.ref] = f"{display_path(kustomization)}: {done}"
                break
            translations.append(done)
        else:
            plan.translations[entry.ref] = translations
    return plan


def _translate(
    entry: PolicyEntry, patches: list[Patch], mine: list[NewResource], builds: _Builds
) -> Translation | str:
    for patch in patches:
        if not _only(patch, entry):
            where = display_path(patch.file) if patch.file else str(patch.location)
            return f"the patch {where} may also change other resources"
    kustomization = patches[0].kustomization
    built = builds.conversion(kustomization.parent)
    if isinstance(built, str):
        return built
    document = entry.document
    theirs = [
        e
        for e in built.converted
        if (e.document.kind, e.namespace, e.document.name)
        == (document.kind, entry.namespace, document.name)
    ]
    if len(theirs) != 1:
        why = [f.message for f in built.findings if f.resource == entry.ref]
        return "as it builds the policy, the policy is not converted" + (
            f" ({why[0]})" if why else ""
        )
    base = {_key(r): r.data for r in mine}
    there = {_key(r): r.data for r in built.resources if r.source is theirs[0]}
    if set(base) != set(there):
        return "as it builds the policy, the policy converts into other resources"
    for key, data in there.items():
        if _json({**data, "spec": None}) != _json({**base[key], "spec": None}):
            return f"as it builds the policy, {key[0]} {key[2]} differs beyond its spec"
    scoped = "namespace" in read_kustomization(kustomization.parent)
    items = tuple(
        _item(data, namespace=None if scoped else key[1])
        for key, data in sorted(there.items())
        if _json(data.get("spec")) != _json(base[key].get("spec"))
    )
    files = tuple(p.file for p in patches if p.file is not None)
    removed = frozenset(p.entry for p in patches)
    return Translation(kustomization, removed, items, files)


def _only(patch: Patch, entry: PolicyEntry) -> bool:
    """True when the patch can change this policy and nothing else."""
    document = entry.document
    for target in patch.targets:
        if target.selects_by_labels or target.kind is None or target.name is None:
            return False
        if not (_exactly(target.kind, document.kind) and _exactly(target.name, document.name)):
            return False
    return bool(patch.targets)


def _exactly(pattern: str, value: str) -> bool:
    return pattern in (value, re.escape(value))


def _key(resource: NewResource) -> Key:
    meta = resource.data["metadata"]
    return resource.data["kind"], str(meta.get("namespace", "")), str(meta["name"])


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _item(data: dict[str, Any], *, namespace: str | None) -> tuple[str, ...]:
    """A `patches:` entry replacing the resource's spec with `data`'s."""
    group, _, version = str(data["apiVersion"]).partition("/")
    target = {"group": group, "version": version, "kind": data["kind"]}
    target["name"] = data["metadata"]["name"]
    if namespace:
        target["namespace"] = namespace
    spec = json.loads(json.dumps(data.get("spec", {})))  # as the API server reads it
    operation = [{"op": "replace", "path": "/spec", "value": spec}]
    patch = yaml.safe_dump(operation, default_flow_style=False, sort_keys=False)
    lines = ["- target:", *(f"    {k}: {v}" for k, v in target.items()), "  patch: |-"]
    return (*lines, *(f"    {row}" for row in patch.rstrip("\n").splitlines()))


def translation_changes(
    workspace: Workspace,
    plan: PatchPlan,
    converted: Iterable[PolicyEntry],
    changes: list[FileChange],
) -> tuple[list[FileChange], list[Finding]]:
    """`changes` with the translations of the converted policies made: their kustomizations
    edited, and the patch files they no longer list removed."""
    translations = [t for e in converted for t in plan.translations.get(e.ref, [])]
    if not translations:
        return changes, []
    by_path = {c.path.resolve(): c for c in changes}
    loaded = {
        f.source.path.resolve(): f
        for f in workspace.loaded.files
        if f.source.path is not None and f.text is not None
    }
    findings: list[Finding] = []
    removed = {(t.kustomization.resolve(), e) for t in translations for e in t.removed}
    for kustomization in sorted({t.kustomization.resolve() for t in translations}):
        mine = [t for t in translations if t.kustomization.resolve() == kustomization]
        source = loaded.get(kustomization)
        if source is None or source.text is None:
            continue
        earlier = by_path.get(kustomization)
        text = earlier.new if earlier is not None and earlier.new is not None else source.text.text
        try:
            edited = remove_entries(text, {e for t in mine for e in t.removed})
            items = [list(item) for t in mine for item in t.items]
            if items:
                edited = append_patches(edited, items, source.text.newline)
        except RewriteError as exc:
            findings.append(
                Finding("AM410", Severity.ERROR, str(exc), Location(source.source.display))
            )
            continue
        by_path[kustomization] = FileChange(
            kustomization, source.source.display, source.text.text, edited, source.text
        )
    still_listed = {
        p.file.resolve()
        for p in workspace.patches.patches
        if p.file is not None and (p.kustomization.resolve(), p.entry) not in removed
    }
    for file in sorted({f.resolve() for t in translations for f in t.files}):
        source = loaded.get(file)
        if file in still_listed or file not in workspace.patches.files or source is None:
            continue
        assert source.text is not None
        by_path[file] = FileChange(file, source.source.display, source.text.text, None, source.text)
    return list(by_path.values()), findings
