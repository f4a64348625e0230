"""Proving a conversion before anything is written: every new resource validates against its
schema (a failure is the tool's fault), and the repository after the conversion enforces at
least what it did before (the engine of `migrate.semantics.proof`)."""

from __future__ import annotations

import json

from migrate.convert.model import Conversion
from migrate.errors import InternalError
from migrate.findings import Severity, sort_findings
from migrate.load.documents import Document, Origin
from migrate.model.beta import KINDS, BetaResource, build_beta
from migrate.semantics.proof import VerifyOptions, VerifyReport, side_settings, verify_sides
from migrate.semantics.side import Side
from migrate.validate.schema import validate_documents
from migrate.workspace import Workspace

GENERATED = "<generated>"


def generated_resources(conversion: Conversion) -> list[BetaResource]:
    """The new resources as the beta model sees them; schema errors are internal errors."""
    # as the API server sees them: JSON, so integer keys (portLevelMtls) become strings;
    # client-side DestinationRules are not part of server-side enforcement
    made = [
        (new, Document(Origin(GENERATED, index, 0, 0), json.loads(json.dumps(new.data))))
        for index, new in enumerate(conversion.resources)
        if new.data["kind"] in KINDS
    ]
    models = []
    checked = validate_documents([document for _, document in made])
    for (new, document), findings in zip(made, checked, strict=True):
        problems = [f for f in findings if f.severity is Severity.ERROR]
        if problems:
            raise InternalError(f"generated {new.ref} fails its schema: {problems[0].message}")
        models.append(build_beta(document, new.data["metadata"]["namespace"]))
    return models


def states(
    workspace: Workspace, conversion: Conversion, options: VerifyOptions
) -> tuple[Side, Side]:
    """The resources in force before and after the conversion (new resources validated)."""
    settings = side_settings(options, workspace.root_namespace)
    converted = {id(e.policy) for e in conversion.converted}
    remaining = [p for p in workspace.alpha if id(p) not in converted]
    before = Side.build(settings, workspace.alpha, workspace.beta)
    after = Side.build(settings, remaining, [*workspace.beta, *generated_resources(conversion)])
    return before, after


def prove(
    workspace: Workspace, conversion: Conversion, options: VerifyOptions | None = None
) -> VerifyReport:
    """Compare the workspace as it is with the workspace after the conversion."""
    options = options or VerifyOptions()
    before, after = states(workspace, conversion, options)
    return proof(before, after, workspace, conversion, options)


def proof(
    before: Side, after: Side, workspace: Workspace, conversion: Conversion, options: VerifyOptions
) -> VerifyReport:
    """The comparison of the two states, with the conversion's findings added to it.

    A policy the conversion refused stays in force on both sides, so its error does not keep
    the engine from comparing the rest (which would leave the other conversions unproven)."""
    report = verify_sides(before, after, workspace.inventory, options)
    report.findings = sort_findings([*conversion.findings, *report.findings])
    return report
