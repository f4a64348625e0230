"""The escaping layer: each output kind shows values from the inputs as inert text."""

from __future__ import annotations

import json

import pytest

from migrate.escape import code_span, terminal, unicode_safe


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
