"""One golden CLI test per kind of bad input: the exact message with file:line:col, the exit
code, and that the good file beside it is still scanned."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app

GOOD = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: foo}
spec:
  peers: [{mtls: {}}]
"""
BOMB = "\n".join(
    ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
)


def _write(name: str, data: str | bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)

    return setup


def _link_outside(root: Path) -> None:
    outside = root.parent / "outside.yaml"
    outside.write_text(GOOD)
    (root / "link.yaml").symlink_to(outside)


def _unreadable(root: Path) -> None:
    (root / "locked.yaml").write_text(GOOD)
    (root / "locked.yaml").chmod(0)  # root can still read it: the test also denies the read


CASES = [
    pytest.param(
        _write("bad.yaml", "spec:\n  peers: [\n"),
        "bad.yaml:3:1: error AM001: did not find expected node content (while parsing a flow node)",
        2,
        id="invalid-yaml",
    ),
    pytest.param(
        _write("list.yaml", "- a\n- b\n"),
        "list.yaml:1:1: error AM002: document is a list, not a mapping",
        2,
        id="not-a-mapping",
    ),
    pytest.param(
        _write("latin1.yaml", b"metadata:\n  name: caf\xe9\n"),
        "latin1.yaml:2:12: error AM003: byte 0xe9 at offset 21 is not valid utf-8",
        2,
        id="undecodable-bytes",
    ),
    pytest.param(
        _write("chart.yaml", "{{- if .Values.mtls }}\nkind: Policy\n{{- end }}\n"),
        "chart.yaml:1:1: warning AM004: file holds template directives ({{ ... }}) and is not "
        "valid YAML; skipped (render it first: helm template RELEASE CHART | authn-migrate scan -)",
        1,
        id="helm-template",
    ),
    pytest.param(
        _write("dup.yaml", GOOD + "metadata: {name: other}\n"),
        "dup.yaml:6:1: error AM005: duplicate key 'metadata' (first at line 3); the last value "
        "is used",
        2,
        id="duplicate-key",
    ),
    pytest.param(
        _unreadable,
        "locked.yaml: error AM006: cannot read file: Permission denied",
        2,
        id="unreadable-file",
    ),
    pytest.param(
        _link_outside,
        "link.yaml: error AM007: symbolic link points outside .:",
        2,
        id="symlink-leaving-tree",
    ),
    pytest.param(
        _write("bomb.yaml", BOMB + "\n"),
        "bomb.yaml:1:1: error AM008: aliases expand the document beyond 250,000 nodes",
        2,
        id="alias-bomb",
    ),
]


@pytest.mark.parametrize(("setup", "message", "exit_code"), CASES)
def test_bad_input_is_reported_and_the_rest_still_scanned(
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: Callable[[Path], None],
    message: str,
    exit_code: int,
) -> None:
    """The bad file gives its exact message and exit code; the good policy is still listed."""
    (in_tmp / "good.yaml").write_text(GOOD)
    setup(in_tmp)
    real_open = os.open

    def deny_unreadable(path: Path, flags: int, *args: int) -> int:
        if Path(path).stat().st_mode & 0o777 == 0:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", deny_unreadable)
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Policy foo/default" in result.output
    assert "Traceback" not in result.output
