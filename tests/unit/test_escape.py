"""The escaping layer: each output kind shows values from the inputs as inert text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.escape import code_span, encodes, terminal, unicode_safe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("shop/web ünïcode", "shop/web ünïcode", id="printable-unchanged"),
        pytest.param("a\nb\r\tc", "a\\nb\\r\\tc", id="line-breaks-and-tab"),
        pytest.param("\x1b[31mred\x1b]8;;u\x1b\\", "\\x1b[31mred\\x1b]8;;u\\x1b\\", id="ansi-osc8"),
        pytest.param("\x9b2J", "\\x9b2J", id="c1-control"),
        pytest.param("a\u2028b\u202ec", "a\\u2028b\\u202ec", id="separator-and-bidi"),
        pytest.param("bad\udcff.yaml", "bad\\xff.yaml", id="undecodable-file-name-byte"),
        pytest.param("x\ud800", "x\\ud800", id="lone-surrogate"),
    ],
)
def test_terminal_shows_what_could_act_on_a_terminal_as_escapes(text: str, shown: str) -> None:
    """Control characters, separators, bidi overrides and surrogates become visible escapes."""
    assert terminal(text) == shown


@pytest.mark.parametrize(
    ("text", "in_table", "span"),
    [
        pytest.param("Policy a/b", False, "`Policy a/b`", id="plain"),
        pytest.param("a`b", False, "``a`b``", id="fence-longer-than-any-run"),
        pytest.param("`x``", False, "``` `x`` ```", id="padded-at-backticks"),
        pytest.param("a|b", True, "`a\\|b`", id="pipe-in-table"),
        pytest.param("a|b", False, "`a|b`", id="pipe-outside-table"),
        pytest.param("x\n</details>", False, "`x\\n</details>`", id="newline-escaped"),
        pytest.param("", False, "", id="empty"),
    ],
)
def test_code_span_cannot_be_closed_from_inside(text: str, *, in_table: bool, span: str) -> None:
    """The fence outgrows every backtick run, and nothing in the text ends the line."""
    assert code_span(text, in_table=in_table) == span


def test_unicode_safe_makes_any_data_encodable() -> None:
    """Lone surrogates in keys and values become escapes; the rest is untouched."""
    data = {"k\ud800": ["v\udcff", 1, None, {"x": "ok"}]}
    safe = unicode_safe(data)
    assert safe == {"k\\ud800": ["v\\xff", 1, None, {"x": "ok"}]}
    json.dumps(safe, ensure_ascii=False).encode("utf-8")


_TEXT = st.text(st.sampled_from(["a", "é", "\n", '"', "\\", "\ud800", "\udfff"]), max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300)
@given(data=_JSON, size=st.integers(1, 5))
def test_json_in_pieces_is_the_indented_json_of_the_data(data: object, size: int) -> None:
    """The JSON reports are written in pieces as the encoder makes them: joined, they are
    exactly the indented JSON of the data (of its escaped form when a string holds a lone
    surrogate), whatever the size of a piece."""
    from migrate.render import data as render_data

    wanted = data if encodes(json.dumps(data, ensure_ascii=False)) else unicode_safe(data)
    expected = json.dumps(wanted, indent=2, ensure_ascii=False) + "\n"
    old_batch = render_data._BATCH
    render_data._BATCH = size
    try:
        pieces = list(render_data.json_pieces(data))
    finally:
        render_data._BATCH = old_batch
    assert "".join(pieces) == expected
    assert render_data.dump_json(data) == expected
    assert encodes("".join(pieces))
