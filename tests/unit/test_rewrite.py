"""Rewriting documents in place: golden files, byte-exactness properties, and refusals."""

from __future__ import annotations

import codecs
import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from migrate.errors import MigrateError
from migrate.load.sourcefile import SourceText, decode
from migrate.rewrite.documents import (
    Replacement,
    RewriteError,
    Style,
    detect_style,
    render_documents,
    rewrite,
)


def source(text: str, name: str = "policy.yaml") -> SourceText:
    """`text` read as a UTF-8 file."""
    return decode(name, text.encode("utf-8"))


ALPHA = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: default
  namespace: foo
spec:
  peers:
  - mtls: {}
"""
STRICT: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1beta1",
    "kind": "PeerAuthentication",
    "metadata": {"name": "default", "namespace": "foo"},
    "spec": {"mtls": {"mode": "STRICT"}},
}
BETA = """\
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: STRICT
"""
MTLS = (("spec", "peers", 0, "mtls"), 0, ("spec", "mtls", "mode"))
TO_STRICT = Replacement(0, (STRICT,), (MTLS,))
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: foo
spec:
  ports:
  - port: 80
"""
DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"

JWT_ALPHA_0 = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: jwt
  namespace: foo
spec:
  targets:
  - name: web
  origins:
  - jwt:
      issuer: https://issuer.example
      jwksUri: https://issuer.example/jwks
  principalBinding: USE_ORIGIN
"""
JWT_ALPHA_2 = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata:
  name: jwt
  namespace: foo
spec:
  targets:
    - name: web
  origins:
    - jwt:
        issuer: https://issuer.example
        jwksUri: https://issuer.example/jwks
  principalBinding: USE_ORIGIN
"""
JWT: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1beta1",
    "kind": "RequestAuthentication",
    "metadata": {"name": "jwt", "namespace": "foo"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "jwtRules": [
            {"issuer": "https://issuer.example", "jwksUri": "https://issuer.example/jwks"}
        ],
    },
}
JWT_BETA_0 = """\
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: foo
spec:
  selector:
    matchLabels:
      app: web
  jwtRules:
  - issuer: https://issuer.example
    jwksUri: https://issuer.example/jwks
"""
JWT_BETA_2 = """\
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: foo
spec:
  selector:
    matchLabels:
      app: web
  jwtRules:
    - issuer: https://issuer.example
      jwksUri: https://issuer.example/jwks
"""
PORT_LEVEL: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1beta1",
    "kind": "PeerAuthentication",
    "metadata": {"name": "web", "namespace": "foo"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "mtls": {"mode": "STRICT"},
        "portLevelMtls": {8080: {"mode": "DISABLE"}},
    },
}


def crlf(text: str) -> str:
    """`text` with CR LF line breaks."""
    return text.replace("\n", "\r\n")


GOLDEN = [
    pytest.param(ALPHA, [TO_STRICT], BETA, id="single-document"),
    pytest.param(
        f"{ALPHA}---\n{SERVICE}---\n{DEPLOYMENT}",
        [TO_STRICT],
        f"{BETA}---\n{SERVICE}---\n{DEPLOYMENT}",
        id="first-of-three",
    ),
    pytest.param(
        f"{SERVICE}---\n{ALPHA}---\n{DEPLOYMENT}",
        [Replacement(1, (STRICT,), (MTLS,))],
        f"{SERVICE}---\n{BETA}---\n{DEPLOYMENT}",
        id="middle-of-three",
    ),
    pytest.param(
        f"{SERVICE}---\n{DEPLOYMENT}---\n{ALPHA}",
        [Replacement(2, (STRICT,), (MTLS,))],
        f"{SERVICE}---\n{DEPLOYMENT}---\n{BETA}",
        id="last-of-three",
    ),
    pytest.param(
        f"---\n{ALPHA}---\n{SERVICE}...\n",
        [TO_STRICT],
        f"---\n{BETA}---\n{SERVICE}...\n",
        id="explicit-start-and-end-markers",
    ),
    pytest.param(ALPHA.rstrip("\n"), [TO_STRICT], BETA.rstrip("\n"), id="no-trailing-newline"),
    pytest.param(
        f"{SERVICE}---\n{ALPHA}".rstrip("\n"),
        [Replacement(1, (STRICT,), (MTLS,))],
        f"{SERVICE}---\n{BETA}".rstrip("\n"),
        id="no-trailing-newline-last-of-two",
    ),
    pytest.param(
        crlf(f"{SERVICE}---\n{ALPHA}---\n{DEPLOYMENT}"),
        [Replacement(1, (STRICT,), (MTLS,))],
        crlf(f"{SERVICE}---\n{BETA}---\n{DEPLOYMENT}"),
        id="crlf",
    ),
    pytest.param(
        crlf(ALPHA),
        [Replacement(0, (STRICT, JWT), (MTLS,))],
        crlf(f"{BETA}---\n{JWT_BETA_0}"),
        id="crlf-two-new-documents",
    ),
    pytest.param(
        f"---\n# nothing here yet\n---\n{ALPHA}",
        [Replacement(1, (STRICT,), (MTLS,))],
        f"---\n# nothing here yet\n---\n{BETA}",
        id="leading-comment-only-document",
    ),
    pytest.param(
        f"# rendered by hand\n---\n{ALPHA}",
        [TO_STRICT],
        f"# rendered by hand\n---\n{BETA}",
        id="comment-before-first-separator",
    ),
    pytest.param(
        f"{SERVICE}--- # the policy\n{ALPHA}",
        [Replacement(1, (STRICT,), (MTLS,))],
        f"{SERVICE}--- # the policy\n{BETA}",
        id="comment-on-separator-line",
    ),
    pytest.param(
        "%YAML 1.1\n---\n" + ALPHA,
        [TO_STRICT],
        "%YAML 1.1\n---\n" + BETA,
        id="directive-kept",
    ),
    pytest.param(
        ALPHA.replace("  ", "    ").replace("  peers:\n    -", "  peers:\n    - "),
        [TO_STRICT],
        BETA.replace("  ", "    "),
        id="four-space-indentation",
    ),
    pytest.param(JWT_ALPHA_0, [Replacement(0, (JWT,))], JWT_BETA_0, id="sequence-offset-0"),
    pytest.param(JWT_ALPHA_2, [Replacement(0, (JWT,))], JWT_BETA_2, id="sequence-offset-2"),
    pytest.param(
        "# mTLS for every workload in foo\n# (ticket SEC-12)\n" + ALPHA,
        [TO_STRICT],
        "# mTLS for every workload in foo\n# (ticket SEC-12)\n" + BETA,
        id="head-comment-moved",
    ),
    pytest.param(
        f"{SERVICE}---\n\n# about the gap\n\n# head\n{ALPHA}",
        [Replacement(1, (STRICT,), (MTLS,))],
        f"{SERVICE}---\n\n# about the gap\n\n# head\n{BETA}",
        id="gap-comment-stays-head-comment-moves",
    ),
    pytest.param(
        ALPHA.replace("- mtls: {}", "- mtls: {}  # PCI"),
        [TO_STRICT],
        BETA.replace("mode: STRICT", "mode: STRICT  # PCI"),
        id="eol-comment-moved-to-new-field",
    ),
    pytest.param(
        ALPHA.replace("  peers:", "  peers:   # PCI scope\n  # x"),
        [Replacement(0, (STRICT,), ((("spec", "peers"), 0, ("spec", "mtls")),))],
        "# x\n" + BETA.replace("  mtls:", "  mtls:  # PCI scope"),
        id="eol-comment-on-key-of-nested-block",
    ),
    pytest.param(
        ALPHA.replace("kind: Policy", "kind: Policy  # v1alpha1 kind").replace(
            "  peers:", "  # peers, then origins\n  peers:"
        ),
        [TO_STRICT],
        "# v1alpha1 kind\n# peers, then origins\n" + BETA,
        id="unmapped-comments-kept-above",
    ),
    pytest.param(
        "# head\n"
        + ALPHA.replace("- mtls: {}", "- mtls: {}  # PCI").replace(
            "name: default", "name: default  # keep"
        ),
        [TO_STRICT],
        "# head\n# keep\n" + BETA.replace("mode: STRICT", "mode: STRICT  # PCI"),
        id="head-then-unmapped-then-document",
    ),
    pytest.param(
        f"{ALPHA}---\n{SERVICE}---\n{JWT_ALPHA_0}",
        [Replacement(2, (JWT,)), TO_STRICT],
        f"{BETA}---\n{SERVICE}---\n{JWT_BETA_0}",
        id="two-replacements",
    ),
    pytest.param(
        re.sub(r"(: )([a-z./0-9]+)$", r'\1"\2"', ALPHA, flags=re.M),
        [TO_STRICT],
        re.sub(r"(: )([A-Za-z./0-9]+)$", r'\1"\2"', BETA, flags=re.M),
        id="double-quoted-values-stay-double-quoted",
    ),
    pytest.param(
        re.sub(r"(: )([a-z./0-9]+)$", r"\1'\2'", ALPHA, flags=re.M),
        [Replacement(0, ({"a": "it's", "b": "two\nlines", "c": 1, "d": "web"},))],
        "a: 'it''s'\nb: \"two\\nlines\"\nc: 1\nd: 'web'\n",
        id="single-quoted-values-stay-single-quoted",
    ),
    pytest.param(
        ALPHA,
        [Replacement(0, (STRICT, PORT_LEVEL))],
        BETA
        + "---\n"
        + "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n"
        + "  name: web\n  namespace: foo\nspec:\n  selector:\n    matchLabels:\n      app: web\n"
        + "  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: DISABLE\n",
        id="one-document-becomes-two-with-int-port-key",
    ),
    pytest.param(
        f"{SERVICE}---\n{ALPHA}---\n{DEPLOYMENT}",
        [Replacement(1, ())],
        f"{SERVICE}---\n{DEPLOYMENT}",
        id="delete-middle",
    ),
    pytest.param(
        f"{ALPHA}---\n{SERVICE}", [Replacement(0, ())], f"---\n{SERVICE}", id="delete-first"
    ),
    pytest.param(
        f"---\n{ALPHA}---\n{SERVICE}",
        [Replacement(0, ())],
        f"---\n{SERVICE}",
        id="delete-first-explicit",
    ),
    pytest.param(
        f"{SERVICE}---\n{ALPHA}".rstrip("\n"),
        [Replacement(1, ())],
        SERVICE.rstrip("\n"),
        id="delete-last-without-trailing-newline",
    ),
    pytest.param(
        f"{SERVICE}--- # policy\n# head\n"
        + ALPHA.replace("{}", "{}  # PCI")
        + "---\n"
        + DEPLOYMENT,
        [Replacement(1, ())],
        f"{SERVICE}# policy\n# head\n# PCI\n---\n{DEPLOYMENT}",
        id="delete-keeps-comments-in-place",
    ),
    pytest.param(ALPHA, [Replacement(0, ())], "", id="delete-only-document"),
    pytest.param(
        f"{ALPHA}...\n---\n{SERVICE}",
        [Replacement(0, ())],
        f"---\n{SERVICE}",
        id="delete-first-with-end-marker",
    ),
]


@pytest.mark.parametrize(("before", "replacements", "after"), GOLDEN)
def test_golden(before: str, replacements: list[Replacement], after: str) -> None:
    """Each file is rewritten to exactly the expected text."""
    assert rewrite(source(before), replacements) == after


@pytest.mark.parametrize(("before", "replacements", "after"), GOLDEN)
def test_golden_fixed_point(before: str, replacements: list[Replacement], after: str) -> None:
    """Rewriting the output with the same documents (and comments on the same fields) changes
    nothing."""
    offsets = {r.index: len(r.documents) - 1 for r in replacements}
    again = []
    for r in sorted(replacements, key=lambda r: r.index):
        shift = sum(n for i, n in offsets.items() if i < r.index)
        moves = tuple((new, number, new) for _, number, new in r.moves)
        again.extend(
            Replacement(
                r.index + shift + number, (document,), tuple(m for m in moves if m[1] == number)
            )
            for number, document in enumerate(r.documents)
        )
    fixed = [
        Replacement(r.index, r.documents, tuple((m[0], 0, m[2]) for m in r.moves)) for r in again
    ]
    assert rewrite(source(after), fixed) == after


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        pytest.param("utf-8", codecs.BOM_UTF8, id="utf-8"),
        pytest.param("utf-16-le", codecs.BOM_UTF16_LE, id="utf-16-le"),
    ],
)
def test_bom_and_encoding_survive(encoding: str, bom: bytes) -> None:
    """A file with a byte-order mark comes back with the same BOM, encoding and CRLF."""
    data = bom + crlf(f"{SERVICE}---\n{ALPHA}").encode(encoding)
    text = decode("policy.yaml", data)
    out = text.encode(rewrite(text, [Replacement(1, (STRICT,), (MTLS,))]))
    assert out == bom + crlf(f"{SERVICE}---\n{BETA}").encode(encoding)
    assert text.encode(rewrite(text, [])) == data


def test_no_replacement_is_identity() -> None:
    """With nothing to replace the text is returned as it is, even when it does not parse."""
    for text in (ALPHA, "a: [1\n", "\ufeffkey: v\r\n"):
        assert rewrite(source(text), []) == source(text).text


def test_unicode_before_the_document() -> None:
    """Positions are characters, so text before the document may hold any characters."""
    before = "# grüße, 日本, 😀\nname: ö😀\n---\n"
    assert rewrite(source(before + ALPHA), [Replacement(1, (STRICT,), (MTLS,))]) == before + BETA


def test_comments_inside_values_are_not_comments() -> None:
    """A `#` inside a quoted or block scalar is content, and a block scalar's header comment is
    a comment."""
    text = (
        "kind: Policy\n"
        "a: 'x # not one'\n"
        'b: "y #nope"\n'
        "c: |  # header\n"
        "  # inside a literal\n"
        "d: plain#hash  # real\n"
    )
    out = rewrite(source(text), [Replacement(0, ({"kind": "X"},))])
    assert out == "# header\n# real\nkind: X\n"


def test_comments_in_flow_and_aliases_are_kept() -> None:
    """Comments inside a multi-line flow collection and after aliases survive."""
    text = "a: &x 1\nb: [1,  # one\n  2]\nc:\n- *x  # alias\n# last\n- *x\n"
    out = rewrite(source(text), [Replacement(0, ({"z": 1},), ((("b", 0), 0, ("z",)),))])
    assert out == "# alias\n# last\nz: 1  # one\n"


def test_trailing_comments_stay_after_the_document() -> None:
    """Comment lines after a document's last line are outside its span and keep their place."""
    text = f"{ALPHA}# about what follows\n---\n{SERVICE}"
    out = rewrite(source(text), [TO_STRICT])
    assert out == f"{BETA}# about what follows\n---\n{SERVICE}"


def test_moves_of_ancestors_carry_descendant_comments() -> None:
    """A comment on a field under a moved field follows it when the new path exists."""
    text = "spec:\n  old:\n    mode: A  # kept with mode\n    other: B  # no such field\n"
    move = (("spec", "old"), 0, ("spec", "new"))
    out = rewrite(source(text), [Replacement(0, ({"spec": {"new": {"mode": "A"}}},), (move,))])
    assert out == "# no such field\nspec:\n  new:\n    mode: A  # kept with mode\n"


def test_quoting_follows_yaml_1_1() -> None:
    """Strings YAML 1.1 readers would take for other types are quoted; ints stay ints."""
    document = {"a": "yes", "b": "8080", "c": 8080, "d": "1:20", "e": "on", "f": True, "g": None}
    out = rewrite(source("x: 1\n"), [Replacement(0, (document,))])
    assert out == "a: 'yes'\nb: '8080'\nc: 8080\nd: '1:20'\ne: 'on'\nf: true\ng:\n"
    assert yaml.safe_load(out) == document


def test_values_quoted_for_yaml_1_2_do_not_set_the_quoting() -> None:
    """A value the writer must quote for YAML 1.2 ('0E0') is not read as the author's choice
    when the output is rewritten again."""
    documents = ({"a": "0E0", "b": "\xa0"},)
    out = rewrite(source("name: 0\n"), [Replacement(0, documents)])
    assert out == "a: '0E0'\nb: \xa0\n"
    assert rewrite(source(out), [Replacement(0, documents)]) == out


def test_long_strings_are_not_folded() -> None:
    """A long value stays on one line."""
    long = "x" * 5000 + " y"
    out = rewrite(source("x: 1\n"), [Replacement(0, ({"a": long},))])
    assert out == f"a: {long}\n"


def test_floats_read_back_as_floats() -> None:
    """Floats are written so that YAML 1.1 readers read floats."""
    document = {"a": 1e-7, "b": 1e20, "c": 0.5, "d": float("inf")}
    out = render_documents([document])
    assert yaml.safe_load(out) == document


def test_render_documents() -> None:
    """New documents alone are separated by `---` lines in the requested style."""
    out = render_documents([STRICT, JWT], style=Style(indent=2, sequence_offset=2, newline="\r\n"))
    assert out == crlf(f"{BETA}---\n{JWT_BETA_2}")
    assert render_documents([STRICT]) == BETA
    assert render_documents([]) == ""


@pytest.mark.parametrize(
    ("text", "style"),
    [
        pytest.param(JWT_ALPHA_0, Style(2, 0, "\n"), id="offset-0"),
        pytest.param(JWT_ALPHA_2, Style(2, 2, "\n"), id="offset-2"),
        pytest.param(crlf(BETA.replace("  ", "    ")), Style(4, 0, "\r\n"), id="indent-4-crlf"),
        pytest.param("a: 1\n", Style(2, 0, "\n"), id="defaults"),
        pytest.param("a:\n   b:\n   - 1\n", Style(3, 0, "\n"), id="indent-3"),
        pytest.param("a: [1\n", Style(2, 0, "\n"), id="unparsable-defaults"),
    ],
)
def test_detect_style(text: str, style: Style) -> None:
    """The style is read from the file's nested mappings and block sequences."""
    assert detect_style(source(text)) == style


ERRORS = [
    pytest.param("a: [1\n", [Replacement(0, ({},))], "does not parse", id="does-not-parse"),
    pytest.param(
        "a: &x 1\n---\nb: *x\n",
        [Replacement(0, ({"a": 1},))],
        "undefined alias",
        id="alias-crossing-documents",
    ),
    pytest.param(ALPHA, [Replacement(1, (STRICT,))], "no document 1", id="index-out-of-range"),
    pytest.param(ALPHA, [Replacement(-1, (STRICT,))], "no document -1", id="negative-index"),
    pytest.param(ALPHA, [TO_STRICT, TO_STRICT], "replaced twice", id="index-twice"),
    pytest.param(
        "apiVersion: v1\nkind: List\nitems:\n- " + ALPHA.replace("\n", "\n  "),
        [Replacement(0, (STRICT,))],
        "kind: List",
        id="kind-list",
    ),
    pytest.param('{"kind": "Policy"}\n', [Replacement(0, (STRICT,))], "flow style", id="flow"),
    pytest.param("--- !!map\nkind: Policy\n", [TO_STRICT], "same line", id="same-line-as-dashes"),
    pytest.param("---\n---\n" + ALPHA, [TO_STRICT], "empty", id="empty-document"),
    pytest.param("- kind: Policy\n", [TO_STRICT], "not a mapping", id="sequence-document"),
    pytest.param(
        ALPHA,
        [Replacement(0, (STRICT,), ((("spec",), 1, ("spec",)),))],
        "new document 1",
        id="move-to-missing-document",
    ),
    pytest.param(ALPHA, [Replacement(0, ({"a": object()},))], "object", id="unwritable-value"),
    pytest.param(ALPHA, [Replacement(0, ({(1, 2): 1},))], "tuple", id="unwritable-key"),
    pytest.param(ALPHA, [Replacement(0, ({8080: 1, "8080": 2},))], "read back", id="keys-collide"),
    pytest.param(
        f"%YAML 1.1\n---\n{ALPHA}---\n{SERVICE}",
        [Replacement(0, ())],
        "directives",
        id="delete-with-directives",
    ),
]


@pytest.mark.parametrize(("text", "replacements", "message"), ERRORS)
def test_errors(text: str, replacements: list[Replacement], message: str) -> None:
    """A rewrite that cannot be exact raises RewriteError naming the file and the reason."""
    with pytest.raises(RewriteError, match=re.escape(message)) as caught:
        rewrite(source(text), replacements)
    assert str(caught.value).startswith("policy.yaml")
    assert isinstance(caught.value, MigrateError)


# --- properties -------------------------------------------------------------------------------

KEYS = ("name", "kind", "spec", "peers", "mode", "port", "labels", "app", "zone", "items")
WORDS = ("alpha", "web", "STRICT", "foo-bar", "x1", "https://a.example/p")
QUOTED = ("a #b", "c # d", "8080", "yes", "x: y", "", "#")
SCALARS = st.one_of(st.integers(-5, 70_000), st.sampled_from(WORDS + QUOTED))


def values(depth: int) -> st.SearchStrategy[Any]:
    """Scalars, and below `depth` also mappings and sequences of scalars or mappings."""
    if depth == 0:
        return SCALARS
    return st.one_of(SCALARS, mappings(depth - 1), sequences(depth - 1))


def mappings(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Small mappings with distinct keys."""
    return st.dictionaries(st.sampled_from(KEYS), values(depth), min_size=1, max_size=3)


def sequences(depth: int) -> st.SearchStrategy[list[Any]]:
    """Small sequences of scalars and mappings."""
    return st.lists(st.one_of(SCALARS, mappings(depth)), min_size=1, max_size=3)


def scalar_text(value: Any, quote: str = "") -> str:
    """A scalar as YAML text: ints plain, words plain or in `quote`, other strings
    double-quoted."""
    if isinstance(value, int):
        return str(value)
    return f"{quote}{value}{quote}" if value in WORDS else f'"{value}"'


class Writer:
    """Writes documents as block YAML with random comments and blank lines."""

    def __init__(self, draw: Any, indent: int, offset: int) -> None:
        self.draw = draw
        self.quote = draw(st.sampled_from(["", "", '"', "'"]))  # how words are written
        self.indent = indent
        self.offset = offset
        self.lines: list[str] = []
        self.count = 0
        self.comments: list[str] = []  # of the document being written

    def comment(self) -> str:
        self.count += 1
        text = f"# c{self.count}" + self.draw(
            st.sampled_from(["", " note", " # x", "  two  spaces"])
        )
        self.comments.append(text.rstrip())
        return text

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    def before(self, column: int, *, blank: bool = True) -> None:
        if blank and self.chance(8):
            self.lines.append("")
        if self.chance(5):
            self.lines.append(" " * column + self.comment())

    def line(self, text: str) -> None:
        self.lines.append(text + ("  " + self.comment() if self.chance(4) else ""))

    def mapping(self, data: dict[str, Any], column: int, first: str | None = None) -> None:
        for position, (key, value) in enumerate(data.items()):
            if position == 0 and first is not None:
                prefix = first
            else:
                self.before(column, blank=bool(position or column))  # keep the head comment
                prefix = " " * column
            if isinstance(value, dict):
                self.line(f"{prefix}{key}:")
                self.mapping(value, column + self.indent)
            elif isinstance(value, list):
                self.line(f"{prefix}{key}:")
                self.sequence(value, column + self.offset)
            else:
                self.line(f"{prefix}{key}: {scalar_text(value, self.quote)}")

    def sequence(self, items: list[Any], column: int) -> None:
        for item in items:
            self.before(column)
            if isinstance(item, dict):
                self.mapping(item, column + 2, first=" " * column + "- ")
            else:
                self.line(" " * column + "- " + scalar_text(item, self.quote))


@st.composite
def files(draw: Any) -> tuple[str, list[dict[str, Any] | None], dict[int, list[str]]]:
    """A multi-document file, its documents' data, and the comments inside each document (head
    comment included)."""
    writer = Writer(draw, draw(st.sampled_from([2, 4])), draw(st.sampled_from([0, 2])))
    documents = draw(st.lists(st.one_of(mappings(2), st.none()), min_size=1, max_size=4))
    comments: dict[int, list[str]] = {}
    for index, document in enumerate(documents):
        if index or document is None or writer.chance(2):
            if index >= 2 and writer.chance(6):  # `...` after the first document: see golden
                writer.lines.append("...")
            writer.lines.append("---" + (" # sep" if writer.chance(4) else ""))
        gap = draw(st.lists(st.sampled_from(["", "# gap"]), max_size=2))
        writer.lines.extend(gap)
        if document is None:
            continue
        writer.comments = []
        if gap and gap[-1] != "":
            writer.lines.append("")
        for _ in range(draw(st.integers(0, 2))):
            writer.lines.append(writer.comment())
        writer.mapping(document, 0)
        comments[index] = writer.comments
    writer.lines.extend(draw(st.lists(st.sampled_from(["", "# trailing"]), max_size=2)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(writer.lines) + (newline if writer.chance(2) else "")
    return text, documents, comments


NEW_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="#", exclude_categories=("Cs",)), max_size=6
)
NEW_SCALARS = st.one_of(
    st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False), NEW_TEXT
)
KEY_TEXT = st.text(  # keys on one line, as Kubernetes keys are
    st.characters(
        codec="utf-8",
        exclude_characters="#\r\n\x85\u2028\u2029",
        exclude_categories=("Cs",),
    ),
    max_size=6,
)
NEW_KEYS = st.one_of(KEY_TEXT, st.integers(0, 65535))
NEW_VALUES = st.recursive(
    NEW_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(KEY_TEXT, inner, max_size=3)
    ),
    max_leaves=6,
)
NEW_DOCUMENTS = st.lists(
    st.dictionaries(NEW_KEYS, NEW_VALUES, min_size=1, max_size=4).filter(
        lambda d: len({str(k) for k in d}) == len(d)
    ),
    min_size=0,
    max_size=2,
)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a field or item of `value`."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found.extend(paths(item, (*prefix, position)))
    return found


def span_bounds(text: str, index: int, *, deleted: bool = False) -> tuple[str, str]:
    """The text before document `index`'s head comment and after its last content line (when
    `deleted`: before its `---` line and after the line), from PyYAML's pure-Python composer."""
    node = list(yaml.compose_all(text, Loader=yaml.SafeLoader))[index]
    lines = text.splitlines(keepends=True)
    last = node.start_mark.line
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode) or (
            isinstance(current, yaml.CollectionNode) and current.flow_style
        ):
            last = max(last, current.end_mark.line)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(item for pair in current.value for item in pair)
        else:
            stack.extend(current.value)
    head = node.start_mark.line
    while head > 0 and lines[head - 1].strip().startswith("#"):
        head -= 1
    if deleted:
        above = head - 1
        while above >= 0 and (not lines[above].strip() or lines[above].startswith("#")):
            above -= 1
        if above >= 0 and lines[above].startswith("---"):
            head = above
    before, after = "".join(lines[:head]), "".join(lines[last + 1 :])
    if not deleted:  # the last line's break stays
        return before, lines[last][len(lines[last].rstrip("\r\n")) :] + after
    if not after and not lines[last].endswith("\n"):  # deleted up to an end without newline
        before = before.rstrip("\r\n")
    return before, after


@given(files())
def test_property_no_replacement_is_byte_identical(
    case: tuple[str, list[dict[str, Any] | None], dict[int, list[str]]],
) -> None:
    """Any generated file comes back byte for byte when nothing is replaced."""
    text, documents, _ = case
    assert list(yaml.safe_load_all(text)) == documents
    assert rewrite(source(text), []) == text
    assert detect_style(source(text)).newline == ("\r\n" if "\r\n" in text else "\n")


@st.composite
def replaced_files(
    draw: Any,
) -> tuple[str, list[dict[str, Any] | None], dict[int, list[str]], Replacement]:
    """A generated file and a replacement of one of its documents, with random moves."""
    text, documents, comments = draw(files().filter(lambda case: bool(case[2])))
    index = draw(st.sampled_from(sorted(comments)))
    new = draw(NEW_DOCUMENTS)
    old_paths = paths(documents[index])
    targets = [(n, p) for n, d in enumerate(new) for p in paths(d)]
    moves = draw(
        st.lists(
            st.tuples(st.sampled_from(old_paths), st.sampled_from(targets)).map(
                lambda m: (m[0], m[1][0], m[1][1])
            ),
            max_size=4,
        )
        if targets
        else st.just([])
    )
    return text, documents, comments, Replacement(index, tuple(new), tuple(moves))


@given(replaced_files())
def test_property_replacement_keeps_other_bytes_and_reads_back(
    case: tuple[str, list[dict[str, Any] | None], dict[int, list[str]], Replacement],
) -> None:
    """Bytes before and after the replaced span are unchanged, and the file reads back as the
    old documents with the one replaced by the new ones."""
    text, documents, _, replacement = case
    out = rewrite(source(text), [replacement])
    prefix, suffix = span_bounds(text, replacement.index, deleted=not replacement.documents)
    assert out.startswith(prefix)
    assert out.endswith(suffix)
    assert len(out) >= len(prefix) + len(suffix)
    index = replacement.index
    expected = [*documents[:index], *replacement.documents, *documents[index + 1 :]]
    assert list(yaml.safe_load_all(out)) == expected
    newline = "\r\n" if "\r\n" in text else "\n"
    assert out.count("\n") == out.count(newline)


@given(replaced_files())
def test_property_every_comment_of_the_replaced_document_is_kept(
    case: tuple[str, list[dict[str, Any] | None], dict[int, list[str]], Replacement],
) -> None:
    """No comment of the replaced document is lost: each appears in the output, those in its
    new span belong to it, and the span holds no other comment (a comment separated from the
    document by a blank line stays in the gap before it, byte for byte)."""
    text, _, comments, replacement = case
    out = rewrite(source(text), [replacement])
    prefix, suffix = span_bounds(text, replacement.index, deleted=not replacement.documents)
    region = out[len(prefix) : len(out) - len(suffix)]
    mine = comments[replacement.index]
    found = re.findall(r"# c\d+(?: note| # x|  two  spaces)?", region)
    assert all(c in out for c in mine)
    assert sorted(found) == sorted(mine)  # each exactly once, in the new span
    others = region.count("# sep") + region.count("# gap")  # a deletion's `---` and gap
    assert region.count("#") == sum(c.count("#") for c in mine) + others


@given(replaced_files())
def test_property_rewriting_again_is_a_fixed_point(
    case: tuple[str, list[dict[str, Any] | None], dict[int, list[str]], Replacement],
) -> None:
    """Rewriting the output with the same new documents, comments on the same fields, keeps
    every byte outside the new documents' spans, and the whole text when the old document's
    string values were plain (quoted ones set the new documents' quoting, which the new
    documents alone may not show again)."""
    text, _, _, replacement = case
    out = rewrite(source(text), [replacement])
    if not replacement.documents:
        return
    again = [
        Replacement(
            replacement.index + number,
            (document,),
            tuple((new, 0, new) for _, n, new in replacement.moves if n == number),
        )
        for number, document in enumerate(replacement.documents)
    ]
    twice = rewrite(source(out), again)
    first, last = again[0].index, again[-1].index
    assert twice.startswith(span_bounds(out, first)[0])
    assert twice.endswith(span_bounds(out, last)[1])
    assert list(yaml.safe_load_all(twice)) == list(yaml.safe_load_all(out))
    if not re.search(r"""['"](?:alpha|web|STRICT|foo-bar|x1|https://a.example/p)['"]""", text):
        assert twice == out
