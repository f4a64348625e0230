"""The string engine: patterns, exact partitions with witnesses, and the refused regex features."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrate.semantics.strings import (
    ANY_NON_EMPTY,
    ANY_STRING,
    PATH_UNIVERSE,
    Cell,
    Pattern,
    UnsupportedPattern,
    _cells,
    as_literal,
    is_equivalent,
    is_subset,
    partition,
    signature,
    stricter_cover,
)

F, T = False, True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("*", Pattern("present"), id="star-is-present"),
        pytest.param("/api/*", Pattern("prefix", "/api/"), id="trailing-star-prefix"),
        pytest.param("*.js", Pattern("suffix", ".js"), id="leading-star-suffix"),
        pytest.param("/health", Pattern("exact", "/health"), id="plain-exact"),
        pytest.param("*a*", Pattern("suffix", "a*"), id="leading-star-wins"),
        pytest.param("**", Pattern("suffix", "*"), id="double-star-suffix"),
        pytest.param("", Pattern("exact", ""), id="empty-exact"),
        pytest.param("a*b", Pattern("exact", "a*b"), id="inner-star-literal"),
    ],
)
def test_from_istio(value: str, expected: Pattern) -> None:
    """The v1beta1 string forms map to the kind Istio checks first."""
    assert Pattern.from_istio(value) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param(Pattern("exact", "/a"), "/a", T, id="exact-hit"),
        pytest.param(Pattern("exact", "/a"), "/A", F, id="exact-case-sensitive"),
        pytest.param(Pattern("exact", "/a"), "/ab", F, id="exact-longer"),
        pytest.param(Pattern("prefix", "/a"), "/ab", T, id="prefix-hit"),
        pytest.param(Pattern("prefix", "/a"), "/A", F, id="prefix-case-sensitive"),
        pytest.param(Pattern("prefix", ""), "", T, id="empty-prefix-all"),
        pytest.param(Pattern("suffix", ".js"), "/x.js", T, id="suffix-hit"),
        pytest.param(Pattern("suffix", ".js"), "/x.JS", F, id="suffix-case-sensitive"),
        pytest.param(Pattern("present"), "", F, id="present-empty"),
        pytest.param(Pattern("present"), "x", T, id="present-non-empty"),
        pytest.param(Pattern("any"), "", T, id="any-empty"),
        pytest.param(Pattern("regex", "/a"), "/ab", F, id="regex-whole-string"),
        pytest.param(Pattern("regex", "/a"), "x/a", F, id="regex-anchored-start"),
        pytest.param(Pattern("regex", "/a.*"), "/ab", T, id="regex-dot-star"),
        pytest.param(Pattern("regex", "/A"), "/a", F, id="regex-case-sensitive"),
        pytest.param(Pattern("regex", "^/a$"), "/a", T, id="regex-anchors-no-op"),
        pytest.param(Pattern("regex", "a|"), "", T, id="regex-empty-alternative"),
        pytest.param(Pattern("regex", "(?:ab){2,3}?"), "ababab", T, id="regex-lazy-count"),
        pytest.param(Pattern("regex", "[\\d\\-x]+"), "1-x", T, id="regex-class-escapes"),
        pytest.param(Pattern("regex", "[^/]+"), "a/b", F, id="regex-negated-class"),
        pytest.param(Pattern("regex", "\\x41\\u0042"), "AB", T, id="regex-hex-escapes"),
        pytest.param(Pattern("regex", "a{2,}"), "aaaa", T, id="regex-open-count"),
        pytest.param(Pattern("regex", "\\s"), "\v", T, id="regex-space-vt"),
        pytest.param(Pattern("regex", "\\s"), "\u00a0", F, id="regex-space-ascii-only"),
        pytest.param(Pattern("regex", "."), "\r", F, id="regex-dot-not-cr"),
        pytest.param(Pattern("regex", ".*"), "\n", F, id="regex-dot-not-lf"),
        pytest.param(Pattern("regex", "/."), "/é", F, id="regex-dot-is-one-byte"),
        pytest.param(Pattern("regex", "/.."), "/é", T, id="regex-two-bytes"),
        pytest.param(Pattern("regex", "/.*"), "/é😀", T, id="regex-star-any-bytes"),
        pytest.param(Pattern("regex", "[^a]{4}"), "😀", T, id="regex-four-bytes"),
        pytest.param(Pattern("regex", "\\w"), "é", F, id="regex-word-ascii-only"),
    ],
)
def test_matches(pattern: Pattern, text: str, expected: bool) -> None:
    """Each kind evaluates as Istio does; regexes match whole strings over UTF-8 bytes."""
    assert pattern.matches(text) is expected


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        pytest.param(Pattern("prefix", "/api/"), "prefix /api/", id="prefix"),
        pytest.param(Pattern("exact", ""), 'exact ""', id="empty-exact"),
        pytest.param(Pattern("present"), "present", id="present"),
        pytest.param(Pattern("regex", "/a.*"), "regex /a.*", id="regex"),
    ],
)
def test_str(pattern: Pattern, text: str) -> None:
    """Patterns print as their kind and value."""
    assert str(pattern) == text


@pytest.mark.parametrize(
    ("how", "value"),
    [
        pytest.param("glob", "x", id="unknown-kind"),
        pytest.param("present", "x", id="present-with-value"),
        pytest.param("any", "x", id="any-with-value"),
    ],
)
def test_invalid_pattern(how: str, value: str) -> None:
    """A kind outside the list, or a value on present/any, is a programming error."""
    with pytest.raises(ValueError, match=how):
        Pattern(how, value)


@pytest.mark.parametrize(
    ("patterns", "universe", "expected"),
    [
        pytest.param(
            [Pattern("prefix", "/api/"), Pattern("suffix", "/admin")],
            PATH_UNIVERSE,
            [
                Cell("/", (F, F)),
                Cell("/admin", (F, T)),
                Cell("/api/", (T, F)),
                Cell("/api/admin", (T, T)),
            ],
            id="prefix-and-suffix",
        ),
        pytest.param([], PATH_UNIVERSE, [Cell("/", ())], id="no-patterns"),
        pytest.param([], ANY_NON_EMPTY, [Cell("a", ())], id="no-patterns-non-empty"),
        pytest.param([], ANY_STRING, [Cell("", ())], id="no-patterns-any"),
        pytest.param(
            [Pattern("exact", "/x"), Pattern("prefix", "/x")],
            PATH_UNIVERSE,
            [Cell("/", (F, F)), Cell("/xa", (F, T)), Cell("/x", (T, T))],
            id="exact-inside-prefix",
        ),
        pytest.param(
            [Pattern("exact", ""), Pattern("prefix", "?")],
            PATH_UNIVERSE,
            [Cell("/", (F, F))],
            id="never-in-universe",
        ),
        pytest.param(
            [Pattern("exact", "GET"), Pattern("exact", "OPTIONS")],
            ANY_NON_EMPTY,
            [Cell("a", (F, F)), Cell("OPTIONS", (F, T)), Cell("GET", (T, F))],
            id="methods",
        ),
        pytest.param(
            [Pattern("regex", "/api/v[0-9]+"), Pattern("prefix", "/api/v1")],
            PATH_UNIVERSE,
            [
                Cell("/", (F, F)),
                Cell("/api/v1a", (F, T)),
                Cell("/api/v0", (T, F)),
                Cell("/api/v1", (T, T)),
            ],
            id="regex-and-prefix",
        ),
        pytest.param(
            [Pattern("suffix", "aba")],
            ANY_STRING,
            [Cell("", (F,)), Cell("aba", (T,))],
            id="suffix-kmp",
        ),
        pytest.param(
            [Pattern("exact", "/é")],
            PATH_UNIVERSE,
            [Cell("/", (F,)), Cell("/é", (T,))],
            id="non-ascii-literal",
        ),
        pytest.param(
            [Pattern("regex", "/[^\\x00-\\x7f]{2}")],
            PATH_UNIVERSE,
            [Cell("/", (F,)), Cell("/é", (T,))],
            id="two-byte-character",
        ),
        pytest.param(
            [Pattern("present")], ANY_STRING, [Cell("", (F,)), Cell("a", (T,))], id="present"
        ),
        pytest.param([Pattern("any")], PATH_UNIVERSE, [Cell("/", (T,))], id="any"),
    ],
)
def test_partition(patterns: list[Pattern], universe: Pattern, expected: list[Cell]) -> None:
    """Small partitions give exactly these cells and shortest readable witnesses."""
    assert partition(patterns, universe) == expected


@pytest.mark.parametrize(
    ("a", "b", "subset", "equivalent"),
    [
        pytest.param(Pattern("exact", "/x"), Pattern("prefix", "/x"), T, F, id="exact-in-prefix"),
        pytest.param(Pattern("prefix", "/x"), Pattern("exact", "/x"), F, F, id="prefix-not-in"),
        pytest.param(Pattern("regex", "/api/.*"), Pattern("prefix", "/api/"), T, T, id="regex-eq"),
        pytest.param(Pattern("present"), Pattern("prefix", "/"), T, T, id="present-is-slash"),
        pytest.param(Pattern("prefix", ""), Pattern("any"), T, T, id="empty-prefix-any"),
        pytest.param(Pattern("suffix", "b"), Pattern("suffix", "ab"), F, F, id="suffix-wider"),
        pytest.param(Pattern("exact", "?"), Pattern("exact", "#"), T, T, id="both-empty-on-paths"),
    ],
)
def test_subset_and_equivalence(a: Pattern, b: Pattern, subset: bool, equivalent: bool) -> None:
    """Inclusion and equivalence are decided on the path universe."""
    assert is_subset(a, b) is subset
    assert is_equivalent(a, b) is equivalent


@pytest.mark.parametrize(
    ("regex", "literal", "cover"),
    [
        pytest.param("/api/.*", Pattern("prefix", "/api/"), Pattern("prefix", "/api/"), id="pre"),
        pytest.param(".*\\.js", Pattern("suffix", ".js"), Pattern("suffix", ".js"), id="suffix"),
        pytest.param("/health", Pattern("exact", "/health"), Pattern("exact", "/health"), id="ex"),
        pytest.param("^/api/.*$", Pattern("prefix", "/api/"), Pattern("prefix", "/api/"), id="^$"),
        pytest.param("/a|/b", None, Pattern("prefix", "/"), id="alternation"),
        pytest.param("/api/v[0-9]+/users", None, Pattern("prefix", "/api/v"), id="versioned"),
        pytest.param("/[a-z]+\\.js", None, Pattern("suffix", ".js"), id="nested-suffix-wins"),
        pytest.param(".*", Pattern("prefix", "/"), Pattern("prefix", "/"), id="everything"),
        pytest.param("/(a|b)", None, Pattern("prefix", "/"), id="group"),
        pytest.param("x", Pattern("exact", "x"), Pattern("exact", "x"), id="outside-universe"),
    ],
)
def test_literal_and_cover(regex: str, literal: Pattern | None, cover: Pattern) -> None:
    """A regex's equivalent literal, when one exists, and its narrowest literal cover."""
    assert as_literal(regex) == literal
    assert stricter_cover(regex) == cover


def test_cover_of_a_regex_matching_empty() -> None:
    """Only "any" covers a regex that matches the empty string in a universe that has it."""
    assert stricter_cover("a*", ANY_STRING) == Pattern("any")
    assert stricter_cover("a+", ANY_STRING) == Pattern("prefix", "a")


@pytest.mark.parametrize(
    ("regex", "position", "reason"),
    [
        pytest.param("(a)\\1", 3, "backreference", id="backreference"),
        pytest.param("/(?=a)", 1, "lookahead", id="lookahead"),
        pytest.param("(?!a)", 0, "negative lookahead", id="negative-lookahead"),
        pytest.param("(?<=a)b", 0, "lookbehind", id="lookbehind"),
        pytest.param("(?<n>a)", 0, "named group", id="named-group"),
        pytest.param("\\bfoo", 0, "word boundary", id="word-boundary"),
        pytest.param("a^b", 1, "anchor ^", id="mid-caret"),
        pytest.param("a$b", 1, "anchor $", id="mid-dollar"),
        pytest.param("(a$)", 2, "anchor $", id="dollar-in-group"),
        pytest.param("\\p{L}", 0, "property", id="property-escape"),
        pytest.param("(?i)a", 0, "inline flags", id="flags"),
        pytest.param("/é", 1, "non-ASCII", id="non-ascii"),
        pytest.param("\\xe9", 0, "UTF-8 bytes", id="high-hex"),
        pytest.param("[]", 0, "empty class", id="empty-class"),
        pytest.param("[[:alpha:]]", 1, "POSIX", id="posix-class"),
        pytest.param("[a-c-e]", 4, "first or last", id="mid-dash"),
        pytest.param("[\\d-z]", 1, "two single characters", id="class-range"),
        pytest.param("[z-a]", 1, "out of order", id="reversed-range"),
        pytest.param("a**", 2, "another quantifier", id="double-quantifier"),
        pytest.param("+a", 0, "nothing to repeat", id="nothing-to-repeat"),
        pytest.param("a{1001}", 1, "above 1000", id="huge-count"),
        pytest.param("a{x}", 1, "repetition like", id="bad-brace"),
        pytest.param("a}", 1, "escaped", id="lone-brace"),
        pytest.param("(a", 0, "missing )", id="unterminated-group"),
        pytest.param("a)", 1, "unmatched )", id="unmatched-paren"),
        pytest.param("[ab", 0, "missing ]", id="unterminated-class"),
        pytest.param("a\\", 1, "trailing backslash", id="trailing-backslash"),
        pytest.param("\\q", 0, "escape \\q", id="unknown-escape"),
        pytest.param("\\0", 0, "NUL", id="nul-escape"),
        pytest.param("(a|b)*a(a|b){12}", 0, "too large", id="automaton-blow-up"),
    ],
)
def test_unsupported(regex: str, position: int, reason: str) -> None:
    """Refused regex features raise with the index of the construct and a plain reason."""
    with pytest.raises(UnsupportedPattern) as caught:
        partition([Pattern("regex", regex)])
    assert (caught.value.pattern, caught.value.position) == (regex, position)
    assert reason in caught.value.reason
    with pytest.raises(UnsupportedPattern):
        Pattern("regex", regex).matches("")


# A grammar of regexes on which ECMAScript over UTF-8 bytes and Python's bytes `re` agree:
# each entry is (ECMAScript form, Python form); Python's `.` also matches \r, so it is spelled out.
ATOMS = st.sampled_from(
    [
        ("a", "a"),
        ("b", "b"),
        ("/", "/"),
        ("\\.", "\\."),
        (".", "[^\\n\\r]"),
        ("[ab]", "[ab]"),
        ("[^a/]", "[^a/]"),
        ("[a-c.]", "[a-c.]"),
        ("\\d", "\\d"),
        ("\\w", "\\w"),
        ("\\s", "\\s"),
        ("\\W", "\\W"),
        ("\\x2f", "\\x2f"),
    ]
)
QUANTIFIERS = st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?", "??"])


def _combine(inner: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[tuple[str, str]]:
    pairs = st.tuples(inner, inner)
    return st.one_of(
        pairs.map(lambda p: (p[0][0] + p[1][0], p[0][1] + p[1][1])),
        pairs.map(lambda p: (f"({p[0][0]}|{p[1][0]})", f"({p[0][1]}|{p[1][1]})")),
        st.tuples(inner, QUANTIFIERS).map(
            lambda p: (f"(?:{p[0][0]}){p[1]}", f"(?:{p[0][1]}){p[1]}")
        ),
    )


REGEX_PAIRS = st.recursive(ATOMS, _combine, max_leaves=6)
REGEXES = REGEX_PAIRS.map(lambda pair: pair[0])
ANY_TEXT = st.text(alphabet="ab/.1 \n\r\t\x0béZ😀", max_size=8)
PATHS = st.text(alphabet="ab/.*1 é", max_size=8).map(lambda s: "/" + s)
LITERALS = st.builds(
    Pattern,
    st.sampled_from(["exact", "prefix", "suffix"]),
    st.text(alphabet="/ab.*", max_size=4),
)
PATTERNS = st.one_of(
    LITERALS,
    st.sampled_from([Pattern("present"), Pattern("any")]),
    REGEXES.map(lambda r: Pattern("regex", r)),
)
UNIVERSES = st.sampled_from([PATH_UNIVERSE, ANY_NON_EMPTY, ANY_STRING])


@given(pair=REGEX_PAIRS, text=ANY_TEXT)
def test_regex_agrees_with_python(pair: tuple[str, str], text: str) -> None:
    """On the shared grammar, the automaton agrees with Python's re on the UTF-8 bytes."""
    ecma, python = pair
    expected = re.fullmatch(python.encode(), text.encode()) is not None
    assert Pattern("regex", ecma).matches(text) is expected
    assert Pattern("regex", f"^{ecma}$").matches(text) is expected


@given(
    patterns=st.lists(PATTERNS, max_size=4),
    universe=UNIVERSES,
    texts=st.lists(st.one_of(PATHS, ANY_TEXT), max_size=6),
)
def test_partition_is_complete_and_sound(
    patterns: list[Pattern], universe: Pattern, texts: list[str]
) -> None:
    """Every string's signature is a cell, no witness is longer, and witnesses are sound."""
    cells = {c.signature: c.witness for c in partition(patterns, universe)}
    for witness_signature, witness in cells.items():
        assert universe.matches(witness)
        assert signature(patterns, witness) == witness_signature
    for text in texts:
        if universe.matches(text):
            found = signature(patterns, text)
            assert found in cells
            assert len(cells[found]) <= len(text)


@given(regex=REGEXES, texts=st.lists(PATHS, min_size=1, max_size=6))
def test_literal_and_cover_hold(regex: str, texts: list[str]) -> None:
    """An equivalent literal agrees with the regex; a cover matches at least what it matches."""
    pattern = Pattern("regex", regex)
    literal = as_literal(regex)
    cover = stricter_cover(regex)
    assert cover.how in ("exact", "prefix", "suffix", "present", "any")
    assert is_subset(pattern, cover)
    if literal is not None:
        assert literal.how in ("exact", "prefix", "suffix")
        assert is_equivalent(pattern, literal)
    for text in texts:
        if literal is not None:
            assert literal.matches(text) is pattern.matches(text)
        if pattern.matches(text):
            assert cover.matches(text)


@given(patterns=st.lists(PATTERNS, max_size=4), universe=UNIVERSES, data=st.data())
def test_partition_in_any_order_is_the_partition_in_that_order(
    patterns: list[Pattern], universe: Pattern, data: st.DataObject
) -> None:
    """Patterns in another order (and repeated) give the same cells with their signatures
    in that order: the very cells and witnesses of exploring them in that order."""
    try:
        expected = _cells(tuple(patterns), universe)
    except UnsupportedPattern:
        return
    reordered = data.draw(st.permutations(patterns))
    repeated = (
        reordered + data.draw(st.lists(st.sampled_from(patterns), max_size=2)) if patterns else []
    )
    for order in (patterns, reordered, repeated):
        assert partition(order, universe) == list(_cells(tuple(order), universe))
    moved = {c.witness: c.signature for c in partition(reordered, universe)}
    assert {
        c.witness: tuple(c.signature[patterns.index(p)] for p in reordered) for c in expected
    } == moved
