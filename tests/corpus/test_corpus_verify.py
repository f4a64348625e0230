"""`verify` on every spm case: its INPUT as before, its EXPECTED_OUTPUT as after, its
SERVICES as inventory. Golden files record, per case, whether the public converter's output
is equivalent and, cause by cause, why not. Regenerate with AUTHN_MIGRATE_REGEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from corpus import case_id, read_case, require_shared, spm_cases

from migrate.commands.verify import verify_paths
from migrate.semantics.proof import VerifyReport
from migrate.workspace import WorkspaceOptions

require_shared()
HTTPBIN = """\
# the httpbin sample the spm examples were applied next to (kubectl -n foo)
apiVersion: v1
kind: Service
metadata: {name: httpbin, labels: {app: httpbin}}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 80}]
"""
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "spm-verify"
CASES = [c for c in spm_cases() if "EXPECTED_OUTPUT" in read_case(c)]


def summary(report: VerifyReport) -> str:
    """A stable text of the verdict and each cause (change, outcomes, deciding resources)."""
    lines = [f"exit {int(report.exit_code)}"]
    lines += [
        f"{f.severity.value} {f.code}: {f.message}"
        for f in report.findings
        if f.code not in ("AM013",)
    ]
    for cause in report.causes:
        inherent = " (inherent)" if cause.inherent else ""
        before = f"{cause.before} {list(cause.before.decided_by)}"
        after = f"{cause.after} {list(cause.after.decided_by)}"
        lines.append(f"{cause.change.value}{inherent}: {before} -> {after}")
        lines.append(f"    e.g. {cause.witness}")
    return "\n".join(lines) + "\n"


def _in_namespaces(text: str, namespaces: tuple[str, ...]) -> str:
    docs = [d for d in yaml.safe_load_all(text) if d]
    copies = []
    for namespace in namespaces:
        for doc in docs:
            copy = {**doc, "metadata": {**doc.get("metadata", {}), "namespace": namespace}}
            copies.append(copy)
    return yaml.safe_dump_all(copies)


def _namespace(text: str) -> str:
    """Where the case was applied: the namespace its policies name, else foo (kubectl -n foo)."""
    for doc in yaml.safe_load_all(text):
        namespace = (doc or {}).get("metadata", {}).get("namespace")
        if namespace and namespace != "istio-system":
            return str(namespace)
    return "foo"


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_spm_output_against_its_input(case: Path, tmp_path: Path) -> None:
    """The verdict on the public converter's output matches the recorded golden file."""
    sections = read_case(case)
    (tmp_path / "before.yaml").write_text(sections["INPUT"])
    (tmp_path / "after.yaml").write_text(sections["EXPECTED_OUTPUT"])
    services = sections.get("SERVICES", "").strip() or HTTPBIN
    if case.parent.name == "e2e":  # the e2e suite applies its services in foo, bar and naked
        services = _in_namespaces(services, ("foo", "bar", "naked"))
    (tmp_path / "services.yaml").write_text(services)
    namespace = _namespace(sections["INPUT"])
    options = WorkspaceOptions(namespace=namespace, inventory=(str(tmp_path / "services.yaml"),))
    report = verify_paths([str(tmp_path / "before.yaml")], [str(tmp_path / "after.yaml")], options)
    text = summary(report).replace(str(tmp_path), "<case>")
    golden = GOLDEN / f"{case.parent.name}--{case.stem}.txt"
    if os.environ.get("AUTHN_MIGRATE_REGEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
