"""Scan semantics on the bundled examples and on small table-driven inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.commands.scan import PolicyScan, ScanReport, scan
from migrate.workspace import WorkspaceOptions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _by_ref(report: ScanReport) -> dict[str, PolicyScan]:
    return {p.entry.ref: p for p in report.policies}


def _codes(report: ScanReport) -> list[str]:
    return sorted(f.code for f in report.findings if f.code not in ("AM201", "AM013"))


@pytest.mark.parametrize(
    ("example", "policies", "services", "workloads"),
    [
        pytest.param("bookinfo", 1, 4, 9, id="bookinfo"),
        pytest.param("httpbin-jwt", 2, 2, 2, id="httpbin-jwt"),
        pytest.param("mesh-overrides", 4, 3, 3, id="mesh-overrides"),
    ],
)
def test_example_counts(example: str, policies: int, services: int, workloads: int) -> None:
    """Each example yields the policies, Services and workloads its files hold."""
    report = scan([str(EXAMPLES / example)])
    assert (len(report.policies), report.services, report.workloads) == (
        policies,
        services,
        workloads,
    )


def test_named_target_port_resolves_through_container_ports() -> None:
    """A service port with a named targetPort maps to the container port of that name."""
    report = scan([str(EXAMPLES / "mesh-overrides")])
    scanned = _by_ref(report)["Policy payments/payments-api-plaintext-metrics"]
    (target,) = scanned.targets
    assert [(p.service_port, p.target_port, p.container_ports) for p in target.ports] == [
        (9090, "metrics", (9091,))
    ]
    assert scanned.policy is not None
    assert scanned.policy.mtls_mode.value == "DISABLE"


def test_kustomization_supplies_the_namespace() -> None:
    """A policy without metadata.namespace takes its kustomization's namespace, and says so."""
    report = scan([str(EXAMPLES / "httpbin-jwt")])
    assert "Policy foo/default" in _by_ref(report)
    notes = [f for f in report.findings if f.code == "AM013" and "Policy 'default'" in f.message]
    assert len(notes) == 1
    assert "foo/kustomization.yaml" in notes[0].message


def test_mesh_config_sets_the_root_namespace(tmp_path: Path) -> None:
    """The mesh config in the inputs wins over --root-namespace, with a note."""
    (tmp_path / "mesh.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |\n    rootNamespace: mesh-root\n"
    )
    report = scan([str(tmp_path)], WorkspaceOptions(root_namespace="other"))
    assert report.root_namespace == "mesh-root"
    assert [f.code for f in report.findings] == ["AM209"]


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns}
spec:
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 8080, name: http}]
"""


def _policy(name: str, spec: str, kind: str = "Policy", created: str = "") -> str:
    stamp = f", creationTimestamp: '{created}'" if created else ""
    return (
        f"---\napiVersion: authentication.istio.io/v1alpha1\nkind: {kind}\n"
        f"metadata: {{name: {name}, namespace: ns{stamp}}}\nspec:\n{spec}"
    )


@pytest.mark.parametrize(
    ("policies", "codes"),
    [
        pytest.param(_policy("a", "  targets: [{name: web}]\n"), [], id="resolves"),
        pytest.param(_policy("a", "  targets: [{name: api}]\n"), ["AM202"], id="no-service"),
        pytest.param(
            _policy("a", "  targets: [{name: web, ports: [{number: 81}]}]\n"),
            ["AM203"],
            id="no-port-number",
        ),
        pytest.param(
            _policy("a", "  targets: [{name: web, ports: [{name: grpc}]}]\n"),
            ["AM203"],
            id="no-port-name",
        ),
        pytest.param(
            _policy("a", "  targets: [{name: web}]\n", created="2020-01-01T00:00:00Z")
            + _policy("b", "  targets: [{name: web}]\n", created="2020-02-01T00:00:00Z"),
            ["AM206"],
            id="competing",
        ),
        pytest.param(
            _policy("a", "  targets: [{name: web, ports: [{number: 80}]}]\n")
            + _policy("b", "  targets: [{name: web}]\n"),
            [],
            id="port-and-portless",
        ),
        pytest.param(
            _policy("boo", "  peers: [{mtls: {}}]\n", kind="MeshPolicy"),
            ["AM103", "AM205"],
            id="meshpolicy-not-default",
        ),
        pytest.param(
            _policy("a", "  targets: [{name: web}]\n  principalBinding: USE_ORIGIN\n"),
            ["AM213"],
            id="use-origin-without-origins",
        ),
        pytest.param(
            _policy(
                "a",
                "  targets: [{name: web}]\n  origins:\n  - jwt:\n"
                "      issuer: i\n      triggerRules:\n"
                "      - excludedPaths: [{exact: /health}]\n"
                "      - includedPaths: [{prefix: /api}]\n",
            ),
            ["AM212"],
            id="trigger-rule-trap",
        ),
    ],
)
def test_scan_problems(tmp_path: Path, policies: str, codes: list[str]) -> None:
    """Each problem with targets or policies gets its code."""
    (tmp_path / "all.yaml").write_text(SERVICE + policies)
    assert _codes(scan([str(tmp_path)])) == codes


def test_competing_policy_names_the_older_winner(tmp_path: Path) -> None:
    """The newer of two policies for one service is flagged and points at the older."""
    (tmp_path / "all.yaml").write_text(
        SERVICE
        + _policy("old", "  targets: [{name: web}]\n", created="2020-01-01T00:00:00Z")
        + _policy("new", "  targets: [{name: web}]\n", created="2020-02-01T00:00:00Z")
    )
    (finding,) = [f for f in scan([str(tmp_path)]).findings if f.code == "AM206"]
    assert finding.resource == "Policy ns/new"
    assert "competes with Policy ns/old for service ns/web" in finding.message


def test_policy_embedded_in_configmap_is_found(tmp_path: Path) -> None:
    """A policy shipped as text inside a ConfigMap is listed, located, and flagged."""
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: crs, namespace: istio-system}\n"
        "data:\n  custom-resources.yaml: |-\n    apiVersion: authentication.istio.io/v1alpha1\n"
        "    kind: MeshPolicy\n    metadata:\n      name: default\n    spec:\n"
        "      peers:\n      - mtls:\n          mode: PERMISSIVE\n"
    )
    report = scan([str(tmp_path)])
    (scanned,) = report.policies
    assert scanned.entry.embedded_in is not None
    assert scanned.entry.document.origin.line == 6
    assert scanned.policy is not None
    assert scanned.policy.mtls_mode.value == "PERMISSIVE"
    assert "AM207" in _codes(report)


def test_redefined_policy_replaces_the_earlier_one(tmp_path: Path) -> None:
    """The same policy written twice: the later replaces the earlier, and that is reported."""
    (tmp_path / "all.yaml").write_text(
        SERVICE
        + _policy("a", "  targets: [{name: web}]\n  peers: [{mtls: {}}]\n")
        + _policy("a", "  targets: [{name: web}]\n")
    )
    report = scan([str(tmp_path)])
    assert _codes(report) == ["AM214"]
    assert [p.entry.superseded for p in report.policies] == [True, False]
    (finding,) = [f for f in report.findings if f.code == "AM214"]
    assert finding.related[0].line == 20


def test_embedded_policy_findings_point_into_the_configmap(tmp_path: Path) -> None:
    """A problem in an embedded policy is located at its line and column in the ConfigMap."""
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: crs, namespace: ns}\n"
        "data:\n  p.yaml: |\n    apiVersion: authentication.istio.io/v1alpha1\n"
        "    kind: Policy\n    metadata: {name: p, namespace: ns}\n    spec:\n"
        "      targets:\n      - name: missing\n"
    )
    (finding,) = [f for f in scan([str(tmp_path)]).findings if f.code == "AM202"]
    assert str(finding.location).endswith("cm.yaml:11:9")


def test_narrower_policies_are_listed_for_mesh_and_namespace_policies(tmp_path: Path) -> None:
    """The MeshPolicy is overridden by every non-mesh policy; a namespace policy only by the
    service policies of its own namespace; a service policy by none."""
    head = "apiVersion: authentication.istio.io/v1alpha1\n"
    (tmp_path / "p.yaml").write_text(
        f"{head}kind: MeshPolicy\nmetadata: {{name: default}}\nspec: {{peers: [{{mtls: {{}}}}]}}\n"
        f"---\n{head}kind: Policy\nmetadata: {{name: default, namespace: a}}\n"
        "spec: {peers: [{mtls: {}}]}\n"
        f"---\n{head}kind: Policy\nmetadata: {{name: web, namespace: a}}\n"
        "spec: {targets: [{name: web}], peers: [{mtls: {}}]}\n"
        f"---\n{head}kind: Policy\nmetadata: {{name: api, namespace: b}}\n"
        "spec: {targets: [{name: api}], peers: [{mtls: {}}]}\n"
    )
    scanned = _by_ref(scan([str(tmp_path)]))
    assert scanned["MeshPolicy default"].overridden_by == (
        "Policy a/default",
        "Policy a/web",
        "Policy b/api",
    )
    assert scanned["Policy a/default"].overridden_by == ("Policy a/web",)
    assert scanned["Policy a/web"].overridden_by == ()
