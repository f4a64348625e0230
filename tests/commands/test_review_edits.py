"""`review` shows what changed inside each resource both revisions define."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from repo_kit import WEB_SERVICE
from typer.testing import CliRunner

from migrate.cli import app

RA = """\
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  jwtRules:
  - issuer: https://id.example  # the staging issuer
    jwksUri: https://id.example/jwks.json
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def test_an_edited_resource_is_shown_field_by_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.yaml").write_text(WEB_SERVICE)
    (tmp_path / "ra.yaml").write_text(RA)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "ra.yaml").write_text(
        RA.replace("https://id.example  # the staging issuer", "'https://login.example'")
    )
    monkeypatch.chdir(tmp_path)
    text = CliRunner().invoke(app, ["review", "--base", "HEAD"]).output.splitlines()
    at = text.index("edited: RequestAuthentication shop/web")
    assert text[at + 1] == (
        '  spec.jwtRules[0].issuer: "https://id.example" -> "https://login.example"'
    )
    data = json.loads(CliRunner().invoke(app, ["review", "--base", "HEAD", "-o", "json"]).output)
    assert data["edits"] == [
        {
            "resource": "RequestAuthentication shop/web",
            "changes": [
                {
                    "path": "spec.jwtRules[0].issuer",
                    "change": "changed",
                    "before": "https://id.example",
                    "after": "https://login.example",
                }
            ],
        }
    ]
