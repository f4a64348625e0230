"""The bad-input corpus: malformed YAML and JSON, wrong types in every field of every kind we
read, unknown enum values, duplicate keys, huge and deep documents, alias bombs, odd encodings,
templates, Kustomize patches, empty files, link loops, unreadable and vanishing files. Each
case gives its message at file:line:col and the documented exit code, the good file beside it
is still converted, and `convert --write` leaves the bad file's bytes alone and no partial
file behind. (The first eight kinds are in test_bad_input.py.)"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from repo_kit import snapshot
from typer.testing import CliRunner

from migrate.cli import app

GOOD = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: foo}
spec:
  peers: [{mtls: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: foo}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""
ALPHA = "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
POLICY = ALPHA + "metadata: {name: default, namespace: bar}\nspec:\n"
TARGETED = ALPHA + "metadata: {name: p, namespace: bar}\nspec:\n  targets: [{name: web}]\n"
MESH = "apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\nmetadata: {name: default}\n"
BETA = (
    "apiVersion: security.istio.io/v1beta1\nkind: {kind}\nmetadata: {{name: b, namespace: bar}}\n"
)
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: bar}\n"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bar}\nspec:\n"
    "  template:\n"
)
JWT = "  origins: [{jwt: {issuer: i, jwksUri: 'https://i/keys', "


def beta(kind: str, spec: str) -> str:
    """A v1beta1 resource of `kind` in namespace bar with the given spec lines."""
    return BETA.format(kind=kind) + "spec:\n" + spec


Setup = Callable[[Path, pytest.MonkeyPatch], None]


def _file(name: str, data: str | bytes) -> Setup:
    def setup(root: Path, _: pytest.MonkeyPatch) -> None:
        path = root / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")

    return setup


def _link_loop(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "a.yaml").symlink_to(root / "b.yaml")
    (root / "b.yaml").symlink_to(root / "a.yaml")


def _directory_loop(root: Path, _: pytest.MonkeyPatch) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)


def _failing_read(name: str, error: OSError) -> Setup:
    """`name` exists but reading it fails (root may read a chmod 0 file, so the read is
    denied here rather than by the file system)."""

    def setup(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (root / name).write_text(POLICY + "  peers: [{mtls: {}}]\n")
        real = os.open

        def open_file(path: Path, flags: int, *args: int) -> int:
            if Path(path).name == name:
                raise error
            return real(path, flags, *args)

        monkeypatch.setattr(os, "open", open_file)

    return setup


def _sealed_directory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "sealed").mkdir()
    (root / "sealed" / "p.yaml").write_text(POLICY + "  peers: [{mtls: {}}]\n")
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path).name == "sealed":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


SYNTAX = [
    pytest.param(
        _file("bad.yaml", "a: {b: 1\n"),
        "bad.yaml:1:4: error AM001: did not find expected ',' or '}' (while parsing a flow "
        "mapping)",
        2,
        id="unclosed-flow-mapping",
    ),
    pytest.param(
        _file("bad.yaml", "a: [1, 2\nb: c\n"),
        "bad.yaml:2:2: error AM001: did not find expected ',' or ']' (while parsing a flow "
        "sequence)",
        2,
        id="unclosed-flow-sequence",
    ),
    pytest.param(
        _file("bad.yaml", "apiVersion: v1\nkind: Service\n metadata: x\n"),
        "bad.yaml:3:10: error AM001: mapping values are not allowed in this context",
        2,
        id="bad-indentation",
    ),
    pytest.param(
        _file("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n"),
        "bad.yaml:4:1: error AM001: found character that cannot start any token (while "
        "scanning for the next token)",
        2,
        id="tab-indentation",
    ),
    pytest.param(
        _file("bad.yaml", 'apiVersion: "v1\nkind: Service\n'),
        "bad.yaml:1:13: error AM001: found unexpected end of stream (while scanning a quoted "
        "scalar)",
        2,
        id="unterminated-double-quote",
    ),
    pytest.param(
        _file("bad.yaml", "kind: 'Service\n"),
        "bad.yaml:1:7: error AM001: found unexpected end of stream (while scanning a quoted "
        "scalar)",
        2,
        id="unterminated-single-quote",
    ),
    pytest.param(
        _file("bad.yaml", "apiVersion: v1\n...\nkind: x\n"),
        "bad.yaml:3:1: error AM001: did not find expected <document start>",
        2,
        id="stray-document-end",
    ),
    pytest.param(
        _file("bad.yaml", "a: b\n--- c: d\n"),
        "bad.yaml:2:6: error AM001: mapping values are not allowed in this context",
        2,
        id="content-on-document-start-line",
    ),
    pytest.param(
        _file("bad.yaml", "a: *nope\n"),
        "bad.yaml:1:4: error AM001: found undefined alias",
        2,
        id="undefined-alias",
    ),
    pytest.param(
        _file("bad.yaml", "a: &\n"),
        "bad.yaml:1:4: error AM001: did not find expected alphabetic or numeric character "
        "(while scanning an anchor)",
        2,
        id="empty-anchor",
    ),
    pytest.param(
        _file("bad.yaml", "? [a, b]\n: c\n"),
        "bad.yaml:1:3: error AM001: a mapping or list used as a key; Kubernetes needs string keys",
        2,
        id="complex-key",
    ),
    pytest.param(
        _file("bad.yaml", 'a: "\\q"\n'),
        "bad.yaml:1:5: error AM001: found unknown escape character (while parsing a quoted scalar)",
        2,
        id="unknown-escape",
    ),
    pytest.param(
        _file("bad.yaml", b"apiVersion: v1\nkind: Serv\x00ice\n"),
        "bad.yaml:2:11: error AM001: unacceptable character #x0000: control characters are "
        "not allowed",
        2,
        id="nul-byte",
    ),
]

WRONG_TYPES = [
    pytest.param(
        _file("bad.yaml", POLICY + "  peers: mtls\n"),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="policy-peers-string",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + "  origins: {jwt: {issuer: x}}\n"),
        "bad.yaml:5:12: error AM101: spec.origins: expected a list, found a mapping",
        2,
        id="policy-origins-mapping",
    ),
    pytest.param(
        _file("bad.yaml", ALPHA + "metadata: {name: p, namespace: bar}\nspec:\n  targets: web\n"),
        'bad.yaml:5:12: error AM101: spec.targets: expected a list, found the string "web"',
        2,
        id="policy-targets-string",
    ),
    pytest.param(
        _file("bad.yaml", TARGETED + "  peers: [{mtls: {}}]\n".replace("{}", "[]")),
        "bad.yaml:6:18: error AM101: spec.peers[0].mtls: expected a mapping, found a list",
        2,
        id="policy-mtls-list",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + JWT + "triggerRules: yes}}]\n"),
        "bad.yaml:5:72: error AM101: spec.origins[0].jwt.triggerRules: expected a list, found true",
        2,
        id="policy-trigger-rules-boolean",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + JWT + "triggerRules: [{excludedPaths: /x}]}}]\n"),
        "bad.yaml:5:89: error AM101: spec.origins[0].jwt.triggerRules[0].excludedPaths: "
        'expected a list, found the string "/x"',
        2,
        id="policy-excluded-paths-string",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + JWT + "jwtHeaders: x-token}}]\n"),
        "bad.yaml:5:70: error AM101: spec.origins[0].jwt.jwtHeaders: expected a list, found "
        'the string "x-token"',
        2,
        id="policy-jwt-headers-string",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + "  origins: [{jwt: {issuer: [a]}}]\n"),
        "bad.yaml:5:28: error AM101: spec.origins[0].jwt.issuer: expected a string, found a list",
        2,
        id="policy-issuer-list",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            ALPHA + "metadata: {name: p, namespace: bar}\nspec:\n"
            "  targets: [{name: web, ports: [{number: 80.5}]}]\n",
        ),
        "bad.yaml:5:42: error AM101: spec.targets[0].ports[0].number: expected an integer, "
        "found the number 80.5",
        2,
        id="policy-target-port-float",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            ALPHA + "metadata: {name: p, namespace: bar}\nspec:\n"
            "  targets: [{name: web, ports: [{number: 99999999999999999999}]}]\n",
        ),
        "bad.yaml:5:42: error AM101: spec.targets[0].ports[0].number: 99999999999999999999 "
        "is greater than the maximum 65535",
        2,
        id="policy-target-port-huge",
    ),
    pytest.param(
        _file("bad.yaml", MESH + "spec:\n  peers: {mtls: {}}\n"),
        "bad.yaml:5:10: error AM101: spec.peers: expected a list, found a mapping",
        2,
        id="meshpolicy-peers-mapping",
    ),
    pytest.param(
        _file("bad.yaml", POLICY.replace("namespace: bar", "namespace: 7") + "  peers: []\n"),
        "bad.yaml:3:38: error AM101: metadata.namespace: expected a string, found the number 7",
        2,
        id="policy-namespace-number",
    ),
    pytest.param(
        _file("bad.yaml", beta("PeerAuthentication", "  mtls: STRICT\n")),
        'bad.yaml:5:9: error AM101: spec.mtls: expected a mapping, found the string "STRICT"',
        2,
        id="peerauthentication-mtls-string",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            beta(
                "PeerAuthentication",
                "  selector: {matchLabels: {app: web}}\n  portLevelMtls: [80]\n",
            ),
        ),
        "bad.yaml:6:18: error AM101: spec.portLevelMtls: expected a mapping, found a list",
        2,
        id="peerauthentication-port-level-list",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            beta(
                "PeerAuthentication",
                "  selector: {matchLabels: {app: web}}\n  portLevelMtls: {http: {mode: STRICT}}\n",
            ),
        ),
        "bad.yaml:6:19: error AM101: spec.portLevelMtls.http: a portLevelMtls key must be a "
        'port number, found "http"',
        2,
        id="peerauthentication-port-level-name",
    ),
    pytest.param(
        _file("bad.yaml", beta("PeerAuthentication", "  selector: app=web\n")),
        'bad.yaml:5:13: error AM101: spec.selector: expected a mapping, found the string "app=web"',
        2,
        id="peerauthentication-selector-string",
    ),
    pytest.param(
        _file("bad.yaml", beta("RequestAuthentication", "  jwtRules: {issuer: x}\n")),
        "bad.yaml:5:13: error AM101: spec.jwtRules: expected a list, found a mapping",
        2,
        id="requestauthentication-jwt-rules-mapping",
    ),
    pytest.param(
        _file("bad.yaml", beta("RequestAuthentication", "  jwtRules: [{issuer: 5}]\n")),
        "bad.yaml:5:23: error AM101: spec.jwtRules[0].issuer: expected a string, found the "
        "number 5",
        2,
        id="requestauthentication-issuer-number",
    ),
    pytest.param(
        _file("bad.yaml", beta("AuthorizationPolicy", "  action: DENY\n  rules: all\n")),
        'bad.yaml:6:10: error AM101: spec.rules: expected a list, found the string "all"',
        2,
        id="authorizationpolicy-rules-string",
    ),
    pytest.param(
        _file("bad.yaml", beta("AuthorizationPolicy", "  action: DENY\n  rules: [{to: x}]\n")),
        'bad.yaml:6:16: error AM101: spec.rules[0].to: expected a list, found the string "x"',
        2,
        id="authorizationpolicy-to-string",
    ),
    pytest.param(
        _file("bad.yaml", SERVICE + "spec:\n  ports: http\n"),
        'bad.yaml:5:10: error AM101: spec.ports: expected a list, found the string "http"',
        2,
        id="service-ports-string",
    ),
    pytest.param(
        _file("bad.yaml", SERVICE + "spec:\n  selector: {app: s}\n  ports: [{port: eighty}]\n"),
        "bad.yaml:6:18: error AM101: spec.ports[0].port: expected an integer, found the "
        'string "eighty"',
        2,
        id="service-port-string",
    ),
    pytest.param(
        _file("bad.yaml", SERVICE + "spec:\n  selector: [app]\n"),
        "bad.yaml:5:13: error AM101: spec.selector: expected a mapping, found a list",
        2,
        id="service-selector-list",
    ),
    pytest.param(
        _file("bad.yaml", SERVICE + "spec:\n  ports: [{port: 80, targetPort: 0}]\n"),
        "bad.yaml:5:34: error AM101: spec.ports[0].targetPort: must be a port number from 1 "
        "to 65535 or a container port name, found 0",
        2,
        id="service-target-port-zero",
    ),
    pytest.param(
        _file("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: x\n"),
        'bad.yaml:3:11: error AM101: metadata: expected a mapping, found the string "x"',
        2,
        id="service-metadata-string",
    ),
    pytest.param(
        _file("bad.yaml", DEPLOYMENT + "    metadata: {labels: [a]}\n"),
        "bad.yaml:6:24: error AM101: spec.template.metadata.labels: expected a mapping, "
        "found a list",
        2,
        id="deployment-labels-list",
    ),
    pytest.param(
        _file("bad.yaml", DEPLOYMENT + "    spec: {containers: {name: x}}\n"),
        "bad.yaml:6:24: error AM101: spec.template.spec.containers: expected a list, found "
        "a mapping",
        2,
        id="deployment-containers-mapping",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            DEPLOYMENT + "    spec: {containers: [{name: x, ports: [{containerPort: http}]}]}\n",
        ),
        "bad.yaml:6:59: error AM101: spec.template.spec.containers[0].ports[0].containerPort: "
        'expected an integer, found the string "http"',
        2,
        id="deployment-container-port-string",
    ),
    pytest.param(
        _file("bad.yaml", DEPLOYMENT.replace("  template:\n", "  template: x\n")),
        'bad.yaml:5:13: error AM101: spec.template: expected a mapping, found the string "x"',
        2,
        id="deployment-template-string",
    ),
]

ENUMS = [
    pytest.param(
        _file("bad.yaml", POLICY + "  peers: [{mtls: {mode: SUPERSTRICT}}]\n"),
        'bad.yaml:5:25: error AM101: spec.peers[0].mtls.mode: "SUPERSTRICT" is not one of '
        "STRICT, PERMISSIVE, 0, 1",
        2,
        id="policy-mtls-mode-unknown",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + "  principalBinding: USE_NOTHING\n"),
        'bad.yaml:5:21: error AM101: spec.principalBinding: "USE_NOTHING" is not one of '
        "USE_PEER, USE_ORIGIN, 0, 1",
        2,
        id="policy-principal-binding-unknown",
    ),
    pytest.param(
        _file("bad.yaml", beta("PeerAuthentication", "  mtls: {mode: SOMETIMES}\n")),
        'bad.yaml:5:16: error AM101: spec.mtls.mode: "SOMETIMES" is not one of UNSET, '
        "DISABLE, PERMISSIVE, STRICT",
        2,
        id="peerauthentication-mode-unknown",
    ),
    pytest.param(
        _file("bad.yaml", beta("AuthorizationPolicy", "  action: MAYBE\n")),
        'bad.yaml:5:11: error AM101: spec.action: "MAYBE" is not one of ALLOW, DENY, AUDIT, CUSTOM',
        2,
        id="authorizationpolicy-action-unknown",
    ),
    pytest.param(
        _file("bad.yaml", POLICY + JWT + "triggerRules: [{excludedPaths: [{glob: /x}]}]}}]\n"),
        "bad.yaml:5:90: error AM101: spec.origins[0].jwt.triggerRules[0].excludedPaths[0]: a "
        "string match needs exactly one of exact, prefix, suffix or regex",
        2,
        id="trigger-rule-match-kind-unknown",
    ),
]

STRUCTURE = [
    pytest.param(
        _file("bad.yaml", POLICY + "  peers:\n  - mtls: {}\n    mtls: {mode: PERMISSIVE}\n"),
        "bad.yaml:7:5: error AM005: duplicate key 'mtls' (first at line 6); the last value is used",
        2,
        id="duplicate-key-nested",
    ),
    pytest.param(
        _file("bad.json", '{"kind": "Policy", "kind": "Service"}'),
        "bad.json:1:1: error AM005: duplicate key 'kind'",
        2,
        id="duplicate-key-json",
    ),
    pytest.param(
        _file("bad.yaml", "a: " + "x" * 20_000_000 + "\nb: [\n"),
        "bad.yaml:3:1: error AM001: did not find expected node content (while parsing a flow node)",
        2,
        id="huge-scalar-20mb",
    ),
    pytest.param(
        _file("bad.yaml", "- x\n" * 100_000),
        "bad.yaml:1:1: error AM002: document is a list, not a mapping",
        2,
        id="huge-list-100k",
    ),
    pytest.param(
        _file("bad.yaml", "a: " + "[" * 300 + "]" * 300 + "\n"),
        "bad.yaml:1:260: error AM009: nesting deeper than 256 levels",
        2,
        id="deep-flow-nesting",
    ),
    pytest.param(
        _file("bad.yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 400))),
        "bad.yaml:258:515: error AM009: nesting deeper than 256 levels",
        2,
        id="deep-block-nesting",
    ),
    pytest.param(
        _file("bad.yaml", "a: &x [*x]\n"),
        "bad.yaml:1:4: error AM009: recursive alias: a node contains itself",
        2,
        id="recursive-alias",
    ),
    pytest.param(
        _file(
            "bad.yaml",
            "a: &a ["
            + ",".join(["x"] * 10)
            + "]\n"
            + "".join(
                f"b{i}: &b{i} [" + ",".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n"
                for i in range(6)
            ),
        ),
        "bad.yaml:1:1: error AM008: aliases expand the document beyond 250,000 nodes",
        2,
        id="alias-bomb-wide",
    ),
]

ENCODINGS = [
    pytest.param(
        _file("bad.yaml", (POLICY + "  peers: mtls\n").replace("\n", "\r\n")),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="crlf",
    ),
    pytest.param(
        _file("bad.yaml", (POLICY + "  peers: mtls\n").replace("\n", "\r")),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="cr-only",
    ),
    pytest.param(
        _file("bad.yaml", b"\xef\xbb\xbf" + (POLICY + "  peers: mtls\n").encode()),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="utf8-bom",
    ),
    pytest.param(
        _file("bad.yaml", b"\xfe\xff" + (POLICY + "  peers: mtls\n").encode("utf-16-be")),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="utf16-be-bom",
    ),
    pytest.param(
        _file("bad.yaml", b"\xff\xfe" + (POLICY + "  peers: mtls\n").encode("utf-16-le")),
        'bad.yaml:5:10: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="utf16-le-bom",
    ),
    pytest.param(
        _file("bad.yaml", "a: b\n".encode("utf-16-le")),
        "bad.yaml:1:2: error AM001: unacceptable character #x0000: control characters are "
        "not allowed",
        2,
        id="utf16-without-bom",
    ),
    pytest.param(
        _file("bad.yaml", b"a: b\nc: caf\xc3"),
        "bad.yaml:2:7: error AM003: byte 0xc3 at offset 11 is not valid utf-8",
        2,
        id="truncated-utf8",
    ),
]

FORMATS = [
    pytest.param(
        _file("chart.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.x }}\n"),
        "chart.yaml:4:9: warning AM004: file holds template directives ({{ ... }}) and is not "
        "valid YAML; skipped",
        1,
        id="helm-value-template",
    ),
    pytest.param(
        _file("chart.yaml", "{% if mtls %}\nkind: Policy\n{% endif %}\n"),
        "chart.yaml:1:1: warning AM004: file holds template directives",
        1,
        id="jinja-template",
    ),
    pytest.param(
        _file("patch.yaml", "- op: replace\n  path: /spec/peers\n  value: []\n"),
        "patch.yaml:1:1: error AM002: document is a list, not a mapping",
        2,
        id="kustomize-json6902-patch",
    ),
    pytest.param(
        _file("patch.yaml", POLICY + "  peers:\n  - $patch: delete\n"),
        "patch.yaml:6:5: error AM101: spec.peers[0]: a peer needs exactly one of mtls or jwt",
        2,
        id="kustomize-strategic-merge-patch",
    ),
    pytest.param(
        _file(
            "bad.json",
            '{\n  "apiVersion": "authentication.istio.io/v1alpha1",\n  "kind": "Policy",\n'
            '  "metadata": {"name": "default", "namespace": "bar"},\n'
            '  "spec": {"peers": "mtls"}\n}\n',
        ),
        'bad.json:5:21: error AM101: spec.peers: expected a list, found the string "mtls"',
        2,
        id="json-policy-wrong-type",
    ),
    pytest.param(
        _file("bad.json", '{"apiVersion": "v1", "kind": }'),
        "bad.json:1:30: error AM010: Expecting value",
        2,
        id="json-invalid",
    ),
    pytest.param(
        _file("bad.json", '{"a": 1,}'),
        "bad.json:1:9: error AM010: Expecting property name enclosed in double quotes",
        2,
        id="json-trailing-comma",
    ),
    pytest.param(
        _file("bad.json", "[1, 2]"),
        "bad.json:1:1: error AM002: document is a list, not a mapping",
        2,
        id="json-top-level-list",
    ),
]

QUIET = "<no finding>"
"""The file is read without a finding: the run goes on as if it were absent."""

FILES = [
    pytest.param(_file("empty.yaml", ""), QUIET, 1, id="empty-file"),
    pytest.param(_file("notes.yaml", "# nothing\n# here\n---\n"), QUIET, 1, id="only-comments"),
    pytest.param(
        _link_loop, "a.yaml: error AM006: broken or looping symbolic link", 2, id="symlink-loop"
    ),
    pytest.param(_directory_loop, QUIET, 1, id="directory-symlink-loop"),
    pytest.param(
        _failing_read("locked.yaml", PermissionError(13, "Permission denied")),
        "locked.yaml: error AM006: cannot read file: Permission denied",
        2,
        id="unreadable-file",
    ),
    pytest.param(
        _failing_read("gone.yaml", FileNotFoundError(2, "No such file or directory")),
        "gone.yaml: error AM006: cannot read file: No such file or directory",
        2,
        id="file-deleted-during-run",
    ),
    pytest.param(
        _sealed_directory,
        "sealed: error AM006: cannot list directory: Permission denied",
        2,
        id="unreadable-directory",
    ),
]

CORPUS = [*SYNTAX, *WRONG_TYPES, *ENUMS, *STRUCTURE, *ENCODINGS, *FORMATS, *FILES]


def _tree(root: Path, monkeypatch: pytest.MonkeyPatch, setup: Setup) -> dict[str, bytes]:
    """The good file and the case's bad input under `root`; every file's bytes but good.yaml."""
    (root / "good.yaml").write_text(GOOD)
    setup(root, monkeypatch)
    files = snapshot(root)
    del files["good.yaml"]
    return files


@pytest.mark.parametrize(("setup", "message", "exit_code"), CORPUS)
def test_bad_input_is_located_and_the_rest_still_read(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, setup: Setup, message: str, exit_code: int
) -> None:
    """scan names the bad input at file:line:col with its code and exit status, and still
    lists the good policy beside it."""
    _tree(in_tmp, monkeypatch, setup)
    result = CliRunner().invoke(app, ["scan", "."])
    assert result.exit_code == exit_code, result.output
    if message == QUIET:
        assert [line for line in result.output.splitlines() if "AM0" in line] == []
    else:
        assert message in result.output
    assert "Policy foo/default" in result.output
    assert "Traceback" not in result.output


BLOCKING = {"duplicate-key-nested"}
"""Inputs holding a policy that was read with a guess: its file cannot be rewritten, so its
namespace is left as it is (AM411) and the rest is written without it."""


@pytest.mark.parametrize(("setup", "message", "exit_code"), CORPUS)
def test_convert_write_leaves_bad_input_alone(
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    *,
    setup: Setup,
    message: str,
    exit_code: int,
) -> None:
    """convert --write shows the problem, converts the good file, leaves every byte of the
    bad input as it was and no staging or journal file behind; exit 2 whenever scan found
    an error."""
    others = _tree(in_tmp, monkeypatch, setup)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == (2 if exit_code == 2 else 0), result.output
    assert message == QUIET or message in result.output
    after = snapshot(in_tmp)
    if request.node.callspec.id in BLOCKING:
        assert "error AM410: cannot rewrite in place: the file has input errors" in result.output
        assert (
            "error AM411: Policy bar/default left as it is, and the rest written without it: "
            "bad.yaml cannot be rewritten in place (AM410)" in result.output
        )
    assert "rewrote 1 file(s)" in result.output
    assert b"PeerAuthentication" in after.pop("good.yaml")
    assert after == others
    assert "Traceback" not in result.output


def test_a_file_edited_during_the_run_is_not_overwritten(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent edit between reading and writing stops the write: the edit survives,
    nothing is written, and the message names the file (exit 2)."""
    import migrate.cli

    (in_tmp / "good.yaml").write_text(GOOD)
    (in_tmp / "other.yaml").write_text(GOOD.replace("foo", "baz"))
    real = migrate.cli.convert_paths

    def convert_then_edit(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        with (in_tmp / "good.yaml").open("a") as stream:
            stream.write("# edited meanwhile\n")
        return result

    monkeypatch.setattr(migrate.cli, "convert_paths", convert_then_edit)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 2, result.output
    assert (
        "nothing written: good.yaml changed on disk since it was read; not overwritten"
        in result.output
    )
    assert (in_tmp / "good.yaml").read_text() == GOOD + "# edited meanwhile\n"
    assert (in_tmp / "other.yaml").read_text() == GOOD.replace("foo", "baz")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["good.yaml", "other.yaml"]


def test_a_policy_that_cannot_be_converted_still_gets_the_rest_proven(in_tmp: Path) -> None:
    """A policy whose trigger-rule regex the engine cannot read is refused at its location
    and stays as it is (exit 2); it is in force on both sides, so the rest is still proven
    and converted."""
    (in_tmp / "good.yaml").write_text(GOOD)
    bad = POLICY + JWT + "triggerRules: [{excludedPaths: [{regex: '(['}]}]}}]\n"
    (in_tmp / "regex.yaml").write_text(bad)
    result = CliRunner().invoke(app, ["convert", "--write", "."])
    assert result.exit_code == 2, result.output
    assert (
        "regex.yaml:1:1: error AM402: Policy bar/default not converted: regex '([': "
        "unterminated class: missing ]" in result.output
    )
    assert (in_tmp / "regex.yaml").read_text() == bad
    assert "kind: PeerAuthentication" in (in_tmp / "good.yaml").read_text()
    assert "LOOSER" not in result.output


def test_corpus_size() -> None:
    """The corpus holds at least 40 kinds of bad input."""
    assert len(CORPUS) >= 40
