"""Loading: documents with origins, and every kind of bad input as a located finding."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest
from conftest import parse
from manifests import STRICT_POLICY

from migrate.findings import Severity
from migrate.load.documents import load_paths, parse_text
from migrate.load.sourcefile import decode

POLICY = STRICT_POLICY


def test_documents_keep_index_line_and_column() -> None:
    """Each document records its index in the file and where it starts."""
    docs, findings, _ = parse("# head\n" + POLICY + "---\n---\n" + POLICY)
    assert findings == []
    assert [(d.origin.index, d.origin.line, d.origin.column) for d in docs] == [
        (0, 2, 1),
        (2, 12, 1),
    ]


def test_locate_points_at_nested_fields_and_keys() -> None:
    """A message can point at any node: a value, or the key that holds it."""
    docs, _, _ = parse(POLICY)
    assert str(docs[0].locate(("spec", "peers", 0, "mtls"))) == "x.yaml:8:11"
    assert str(docs[0].locate(("spec", "peers"), at_key=True)) == "x.yaml:7:3"
    assert str(docs[0].locate(("spec", "missing", "deeper"))) == "x.yaml:7:3"


def test_kind_list_items_become_documents_with_their_own_origin() -> None:
    """kubectl's `kind: List` output is expanded, each item keeping its location."""
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- "
        + POLICY.replace("\n", "\n  ").rstrip()
        + ("\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s}\n")
    )
    docs, findings, _ = parse(text)
    assert findings == []
    assert [(d.kind, d.origin.item, d.origin.line, d.origin.column) for d in docs] == [
        ("Policy", 0, 4, 3),
        ("Service", 1, 12, 3),
    ]
    assert str(docs[0].locate(("spec", "peers", 0))) == "x.yaml:11:7"


@pytest.mark.parametrize(
    ("text", "code", "where", "words"),
    [
        pytest.param(
            "a: [1, 2\nb: 3\n", "AM001", "x.yaml:2:2", "expected ',' or ']'", id="invalid-yaml"
        ),
        pytest.param(
            "- a\n- b\n",
            "AM002",
            "x.yaml:1:1",
            "document is a list, not a mapping",
            id="not-a-mapping",
        ),
        pytest.param(
            "kind: Policy\nspec: 1\nkind: Other\n",
            "AM005",
            "x.yaml:3:1",
            "duplicate key 'kind' (first at line 1)",
            id="duplicate-key",
        ),
        pytest.param(
            "a: &a [*a]\n", "AM009", "x.yaml:1:4", "recursive alias", id="recursive-alias"
        ),
        pytest.param(
            "a: !vault secret\n", "AM012", "x.yaml:1:4", "tag !vault ignored", id="unknown-tag"
        ),
        pytest.param(
            "a: !!python/object:os.system ls\n",
            "AM012",
            "x.yaml:1:4",
            "python/object:os.system ignored",
            id="python-tag",
        ),
    ],
)
def test_bad_yaml_becomes_a_located_finding(text: str, code: str, where: str, words: str) -> None:
    """Each kind of bad YAML gives its code, file:line:col, and a plain message."""
    _, findings, _ = parse(text)
    assert [(f.code, str(f.location)) for f in findings] == [(code, where)]
    assert words in findings[0].message


def test_tags_never_construct_objects() -> None:
    """An application or Python tag gives plain data, never an object."""
    docs, _, _ = parse("a: !!python/object:os.system ls\nb: !!binary aGk=\n")
    assert docs[0].data == {"a": "ls", "b": "aGk="}


def test_alias_bomb_is_refused_quickly() -> None:
    """A billion-laughs document is rejected with AM008 instead of being expanded."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    docs, findings, _ = parse("\n".join(lines) + "\n")
    assert docs == []
    assert [(f.code, str(f.location)) for f in findings] == [("AM008", "x.yaml:1:1")]
    assert "beyond 250,000 nodes" in findings[0].message


def test_deep_nesting_is_refused() -> None:
    """Nesting deeper than any Kubernetes object is refused, not a crash."""
    text = "".join(" " * i + "k:\n" for i in range(400)) + " " * 400 + "v\n"
    _, findings, _ = parse(text)
    assert [f.code for f in findings] == ["AM009"]


def test_helm_template_is_skipped_with_a_note() -> None:
    """A Helm template is skipped with a warning that says how to render it."""
    docs, findings, skipped = parse("{{- if .Values.mtls }}\nkind: Policy\n{{- end }}\n")
    assert (docs, skipped) == ([], True)
    assert [(f.code, f.severity) for f in findings] == [("AM004", Severity.WARNING)]
    assert "helm template" in findings[0].hint


def test_merge_keys_are_applied() -> None:
    """YAML merge keys expand as Kubernetes clients expand them."""
    docs, findings, _ = parse("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n")
    assert findings == []
    assert docs[0].data["m"] == {"x": 1, "y": 3}


def test_yaml_11_scalars_as_kubernetes_reads_them() -> None:
    """Booleans and numbers resolve as in YAML 1.1; timestamps stay text; keys become strings."""
    docs, _, _ = parse("a: yes\nb: 0x1F\nc: 2020-01-01\n80: {mode: STRICT}\ntrue: 1\n")
    assert docs[0].data == {
        "a": True,
        "b": 31,
        "c": "2020-01-01",
        "80": {"mode": "STRICT"},
        "true": 1,
    }


def test_json_with_yaml_errors_is_read_as_json() -> None:
    """JSON that YAML rejects (a tab before a value) is still read."""
    docs, findings, _ = parse('{"kind":\t"Service", "metadata": {"name": "s"}}', "x.json")
    assert findings == []
    assert docs[0].kind == "Service"


def test_invalid_json_names_line_and_column() -> None:
    """Invalid JSON is reported at the position JSON's parser gives."""
    _, findings, _ = parse('{\n  "kind": "Service",\n  "x": }\n', "x.json")
    assert [(f.code, str(f.location)) for f in findings] == [("AM010", "x.json:3:8")]


@pytest.mark.parametrize(
    ("data", "encoding", "bom", "newline"),
    [
        pytest.param(b"a: 1\r\nb: 2\r\n", "utf-8", b"", "\r\n", id="crlf"),
        pytest.param(codecs.BOM_UTF8 + b"a: 1\n", "utf-8", codecs.BOM_UTF8, "\n", id="utf8-bom"),
        pytest.param(
            codecs.BOM_UTF16_LE + "a: é\n".encode("utf-16-le"),
            "utf-16-le",
            codecs.BOM_UTF16_LE,
            "\n",
            id="utf16",
        ),
        pytest.param(b"a: 1", "utf-8", b"", "\n", id="no-final-newline"),
    ],
)
def test_source_text_round_trips_bytes(
    data: bytes, encoding: str, bom: bytes, newline: str
) -> None:
    """Encoding, BOM and newline style are kept so the file can be written back exactly."""
    source = decode("x.yaml", data)
    assert (source.encoding, source.bom, source.newline) == (encoding, bom, newline)
    assert source.encode(source.text) == data


def test_undecodable_bytes_are_a_located_finding(in_tmp: Path) -> None:
    """Bytes that are not UTF-8 give AM003 at their line and column; other files still load."""
    (in_tmp / "bad.yaml").write_bytes(b"a: 1\nb: caf\xe9\n")
    (in_tmp / "good.yaml").write_text(POLICY)
    result = load_paths(["."])
    assert [(f.code, str(f.location)) for f in result.findings] == [("AM003", "bad.yaml:2:7")]
    assert "byte 0xe9" in result.findings[0].message
    assert [d.kind for d in result.documents] == ["Policy"]


def test_unreadable_file_is_a_finding(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read gives AM006 with its reason, and the run goes on."""
    (in_tmp / "secret.yaml").write_text(POLICY)
    (in_tmp / "open.yaml").write_text(POLICY)
    real_open = os.open

    def open_file(path: Path, flags: int, *args: int) -> int:
        if Path(path).name == "secret.yaml":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", open_file)
    result = load_paths(["."])
    assert [(f.code, str(f.location), f.message) for f in result.findings] == [
        ("AM006", "secret.yaml", "cannot read file: Permission denied")
    ]
    assert len(result.documents) == 1


def test_missing_path_does_not_stop_the_others(in_tmp: Path) -> None:
    """A path that does not exist gives AM011 and the other paths are still read."""
    (in_tmp / "inner.yaml").write_text(POLICY)
    result = load_paths(["inner.yaml", "missing.yaml"])
    assert [(f.code, str(f.location)) for f in result.findings] == [("AM011", "missing.yaml")]
    assert [d.name for d in result.documents] == ["default"]


def test_stdin_is_read_as_one_source() -> None:
    """`-` reads standard input, named <stdin> in messages."""
    result = load_paths(["-"], stdin=b"a: [\n")
    assert [(f.code, f.location.path) for f in result.findings] == [("AM001", "<stdin>")]


def test_read_kinds_cover_every_kind_the_tool_reads() -> None:
    """The kinds built in full include every kind the models, the inventory and the workspace
    read (the others are built only as far as apiVersion, kind and metadata)."""
    from migrate.load.documents import READ_KINDS
    from migrate.model import alpha, beta
    from migrate.model.inventory import WORKLOAD_KINDS
    from migrate.workspace import _INVENTORY_KINDS

    assert set(alpha.KINDS) | set(beta.KINDS) | set(WORKLOAD_KINDS) <= READ_KINDS
    assert _INVENTORY_KINDS <= READ_KINDS
    assert {"Kustomization", "Component"} <= READ_KINDS


def test_unread_kinds_are_built_only_as_far_as_their_metadata() -> None:
    """A ServiceAccount keeps apiVersion, kind and metadata (and their problems), not the
    rest; a Deployment and an Istio kind are built in full, and the Deployment's fields are
    still located though its node tree is not kept."""
    text = (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, name: b}\n"
        "secrets: [{name: x, name: y}]\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n---\n"
        "apiVersion: networking.istio.io/v1beta1\nkind: Sidecar\nmetadata: {name: s}\n"
        "spec: {egress: []}\n"
    )
    documents, findings, _ = parse_text(decode("m.yaml", text.encode()))
    account, deployment, sidecar = documents
    assert account.data == {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "b"}}
    assert account.node is None
    assert [f.location.line for f in findings if f.code == "AM005"] == [3]
    assert deployment.data["spec"] == {"replicas": 1}
    assert deployment.node is None  # an inventory kind: composed again when pointed into
    assert deployment.locate(("spec", "replicas")).line == 9
    assert sidecar.data["spec"] == {"egress": []}
