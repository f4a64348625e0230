"""Proving only what a change can affect, and each shape once, gives the verdict of proving
everything class by class.

`verify BEFORE AFTER` and `review` compare only the namespaces of the resources that differ
(every namespace when one of them is mesh-wide), and evaluate classes of one shape once. For
generated pairs of trees, where the second converts some namespaces of the first or rewrites
policies at random, the verdict and every cause are the same with and without both."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from manifests import app, service
from test_convert_sound import alpha_policy, services

from migrate.commands.convert import convert_paths
from migrate.commands.verify import verify_paths
from migrate.semantics.impact import affected_namespaces
from migrate.semantics.proof import VerifyOptions
from migrate.workspace import open_workspace

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
A = "apiVersion: authentication.istio.io/v1alpha1\n"
B = "apiVersion: security.istio.io/v1beta1\n"


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _causes(report: object) -> list[tuple[object, ...]]:
    return sorted(
        (
            c.change.value,
            str(c.before),
            c.before.decided_by,
            str(c.after),
            c.after.decided_by,
            c.worlds,
            c.requests,
            str(c.witness),
            sorted(c.workloads),
        )
        for c in report.causes  # type: ignore[attr-defined]
    )


@settings(max_examples=200 if LONG else 25)
@given(
    first=st.lists(alpha_policy("p"), min_size=1, max_size=2),
    second=st.lists(alpha_policy("q"), min_size=1, max_size=2),
    other=services(),
    rewrite=st.booleans(),
)
def test_narrowed_proof_agrees_with_the_whole_one(
    first: list[str], second: list[str], other: str, rewrite: bool
) -> None:
    """Two namespaces, one of them converted (or its policies rewritten): the same verdict and
    causes whether only the affected namespaces are compared or all of them."""
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        files = {
            "ns/app.yaml": other,
            "ns/authn.yaml": "---\n".join(first),
            "other/app.yaml": other.replace("namespace: ns", "namespace: other"),
            "other/authn.yaml": "---\n".join(second).replace("namespace: ns", "namespace: other"),
        }
        _tree(before, files)
        _tree(after, files)
        if rewrite:
            (after / "ns" / "authn.yaml").write_text("---\n".join(second))
        else:
            result = convert_paths([str(after / "ns")])
            for change in result.changes:
                if change.new is not None:
                    change.path.write_text(change.new)
        plain = VerifyOptions(incremental=False, share_shapes=False)
        whole = verify_paths([str(before)], [str(after)], options=plain)
        narrow = verify_paths([str(before)], [str(after)])
        assert narrow.exit_code == whole.exit_code
        assert _causes(narrow) == _causes(whole)


MESH = f"{A}kind: MeshPolicy\nmetadata: {{name: default}}\nspec:\n  peers: [{{mtls: {{}}}}]\n"
STRICT = (
    f"{A}kind: Policy\nmetadata: {{name: default, namespace: shop}}\n"
    "spec:\n  peers: [{mtls: {}}]\n"
)
ROOT_PA = (
    f"{B}kind: PeerAuthentication\nmetadata: {{name: default, namespace: istio-system}}\n"
    "spec:\n  mtls: {mode: PERMISSIVE}\n"
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"shop/authn.yaml": ""}, {"shop"}, id="a-namespace-policy-removed"),
        pytest.param(
            {"shop/app.yaml": app("shop", port=81)}, {"shop"}, id="a-service-port-changed"
        ),
        pytest.param({"mesh.yaml": ""}, None, id="the-mesh-policy-removed"),
        pytest.param(
            {"root.yaml": ROOT_PA},
            None,
            id="a-root-namespace-resource-added",
        ),
        pytest.param({}, set(), id="nothing-changed"),
    ],
)
def test_a_change_reaches_its_namespace_and_a_mesh_wide_one_everything(
    tmp_path: Path, change: dict[str, str], expected: set[str] | None
) -> None:
    """The namespaces of what differs, or every namespace (None) for a mesh-wide change."""
    files = {
        "mesh.yaml": MESH,
        "shop/authn.yaml": STRICT,
        "shop/app.yaml": app("shop"),
        "cart/app.yaml": service("cart"),
    }
    _tree(tmp_path / "before", files)
    _tree(tmp_path / "after", {**files, **change})
    first = open_workspace([str(tmp_path / "before")])
    second = open_workspace([str(tmp_path / "after")])
    assert affected_namespaces(first, second) == expected


def test_a_mesh_wide_change_is_never_skipped(tmp_path: Path) -> None:
    """Loosening the MeshPolicy is found in every namespace, though no other file changed."""
    files = {"mesh.yaml": MESH, "shop/app.yaml": app("shop"), "cart/app.yaml": app("cart")}
    _tree(tmp_path / "before", files)
    _tree(tmp_path / "after", {**files, "mesh.yaml": MESH.replace("{}", "{mode: PERMISSIVE}")})
    report = verify_paths([str(tmp_path / "before")], [str(tmp_path / "after")])
    looser = {ns for c in report.causes if c.change.value == "looser" for ns, _ in c.workloads}
    assert {"shop", "cart"} <= looser
