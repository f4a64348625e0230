"""The fast writer of new documents against ruamel: whatever it writes is ruamel's text, byte
for byte, in every layout and quoting a file can ask for; and it writes what conversions
make (else the speed it exists for is gone without a test noticing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrate.commands.convert import convert_paths
from migrate.rewrite.documents import Style, ruamel_dump
from migrate.rewrite.emit import fast_dump

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRICKY = [
    "yes", "No", "on", "null", "~", "true", "0o17", "0x1F", "017", "1e3", "1_000", "12:30",
    ".5", "-", "*", "&a", "!t", "%x", "@x", "`x", "? x", "- x", "a: b", "a:b", "a #b", "#a",
    "a:", "x'y", 'x"y', "a\\b", " a", "a ", "é", "a\x85b", "a\nb", "a\tb", "", "[x]", "{x}",
    "a,b", "|", ">", "=", "<<", "https://issuer.example.com/jwks.json", "/api/*", "8000",
    "k" * 130,
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.text(max_size=6),
)
SCALAR = st.one_of(TEXT, st.integers(-5, 100_000), st.booleans(), st.none(), st.floats())
KEY = st.one_of(TEXT, st.integers(0, 65535), st.booleans())
DOCUMENT = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEY, inner, max_size=3)),
    max_leaves=12,
)
ASCII = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12),
)
PLAIN = st.one_of(ASCII, st.integers(-5, 100_000), st.booleans())
SIMPLE = st.recursive(
    PLAIN,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.one_of(ASCII, st.integers(0, 65535)), inner, min_size=1, max_size=3),
    ),
    max_leaves=12,
)
"""Documents mostly simple enough for the fast writer: printable ASCII, numbers, booleans."""
STYLES = st.builds(
    Style,
    indent=st.sampled_from([2, 4]),
    sequence_offset=st.sampled_from([0, 2]),
    quote=st.sampled_from(["", "'", '"']),
)


@given(
    document=st.one_of(
        st.dictionaries(KEY, DOCUMENT, min_size=1, max_size=4),
        st.dictionaries(st.one_of(ASCII, st.integers(0, 65535)), SIMPLE, min_size=1, max_size=4),
    ),
    style=STYLES,
)
def test_the_fast_writer_writes_what_ruamel_writes(document: dict[Any, Any], style: Style) -> None:
    fast = fast_dump(document, style.indent, style.sequence_offset, style.quote)
    if fast is not None:
        assert fast == ruamel_dump(document, style, "t")


@pytest.mark.parametrize("example", ["httpbin-jwt", "rollout", "bookinfo", "mesh-overrides"])
def test_the_documents_conversions_make_take_the_fast_path(example: str) -> None:
    result = convert_paths([str(EXAMPLES / example)])
    made = [r.data for r in result.conversion.resources]
    assert made
    for style in (Style(), Style(indent=4, sequence_offset=2, quote='"')):
        for data in made:
            assert fast_dump(data, style.indent, style.sequence_offset, style.quote) is not None
