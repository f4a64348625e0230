"""The manifests tests build repositories from, in one place: a namespace-wide STRICT policy,
a Service with its Deployment, and builders for their variants. Texts are exact (tests assert
file:line:column positions in them), so a test that needs another shape builds it here."""

from __future__ import annotations

STRICT_POLICY = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: default
  namespace: foo
spec:
  peers:
  - mtls: {}
"""
"""Namespace foo's `default` Policy: mTLS STRICT, block style."""


def service(
    namespace: str, name: str = "web", *, port: int = 80, target: int = 8080, app: str = ""
) -> str:
    """A Service selecting `app: <app or name>` with one HTTP port, flow style."""
    return (
        "apiVersion: v1\n"
        "kind: Service\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        "spec:\n"
        f"  selector: {{app: {app or name}}}\n"
        f"  ports: [{{name: http, port: {port}, targetPort: {target}}}]\n"
    )


def deployment(namespace: str, name: str = "web", *, port: int = 8080) -> str:
    """A Deployment whose pods carry `app: <name>` and declare one container port."""
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        "spec:\n"
        "  template:\n"
        f"    metadata: {{labels: {{app: {name}}}}}\n"
        f"    spec: {{containers: [{{name: {name}, ports: [{{containerPort: {port}}}]}}]}}\n"
    )


def app(namespace: str, name: str = "web", *, port: int = 80, target: int = 8080) -> str:
    """A Service and its Deployment."""
    return (
        service(namespace, name, port=port, target=target)
        + "---\n"
        + deployment(namespace, name, port=target)
    )
