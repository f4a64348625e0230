"""Invariants of loading, checked by hypothesis on arbitrary and generated input."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from migrate.commands.scan import scan
from migrate.load.documents import load_paths

TOKENS = st.sampled_from(
    [
        "a",
        "kind",
        "Policy",
        "apiVersion",
        "authentication.istio.io/v1alpha1",
        ":",
        ": ",
        "- ",
        "-",
        "\n",
        "\n  ",
        "\n    ",
        "  ",
        "\t",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&x ",
        "*x",
        "&y ",
        "*y",
        "!t ",
        "!!str ",
        "!!python/object:os.system ",
        "---\n",
        "...\n",
        "#c",
        "'",
        '"',
        "|\n  ",
        ">-\n  ",
        "{{ .Values.x }}",
        "<<: ",
        "? ",
        "%YAML 1.1\n",
        "\r\n",
        "\ufeff",
        "null",
        "~",
        "0x1F",
        "yes",
        "peers",
        "mtls",
        "targets",
        "spec",
        "metadata",
        "name",
        "\\",
        "\x00",
        "\x85",
        "é",
    ]
)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    """Any byte string loads to documents and findings, never an exception."""
    load_paths(["-"], stdin=data)


@given(st.lists(TOKENS, max_size=60).map("".join))
def test_yaml_like_streams_never_raise(text: str) -> None:
    """Streams built from YAML's own tokens load without an exception, and so does a scan."""
    load_paths(["-"], stdin=text.encode("utf-8", "surrogatepass"))
    scan(["-"], stdin=text.encode("utf-8", "surrogatepass"))


# YAML forbids raw control characters and reads NEL, LS and PS as line breaks
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85\u2028\u2029"),
    max_size=20,
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(TEXT, JSONISH, min_size=1, max_size=5), min_size=1, max_size=4))
def test_documents_round_trip_through_the_loader(documents: list[dict[str, object]]) -> None:
    """Data written as a stream of JSON documents (valid YAML) loads back the same, in order."""
    text = "\n---\n".join(json.dumps(d, ensure_ascii=False) for d in documents)
    result = load_paths(["-"], stdin=text.encode("utf-8"))
    assert [d.data for d in result.documents] == [
        d
        for d in documents
        if not (isinstance(d.get("items"), list) and str(d.get("kind", "")).endswith("List"))
    ]
