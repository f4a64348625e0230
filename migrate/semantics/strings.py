"""String conditions of both APIs, and the exact partition of a string space they induce.

A `Pattern` is one string condition: v1alpha1 StringMatch (exact, prefix, suffix, regex) or
v1beta1 string forms (exact, prefix, suffix, presence). Strings are infinite, so nothing here
samples: `partition` builds one DFA per pattern over a shared alphabet of character intervals
and walks their product breadth-first, which yields every non-empty cell of the universe and a
shortest witness for it. Regexes follow `migrate.semantics.regex` (std::regex over UTF-8 bytes);
`Pattern.matches` runs the very same automaton, so evaluation and partition agree by construction.
"""

from __future__ import annotations

import functools
from bisect import bisect_right, insort
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from migrate.semantics.regex import UnsupportedPattern, compile_regex

__all__ = [
    "ANY_NON_EMPTY",
    "ANY_STRING",
    "PATH_UNIVERSE",
    "Cell",
    "Pattern",
    "UnsupportedPattern",
    "as_literal",
    "is_equivalent",
    "is_subset",
    "partition",
    "signature",
    "stricter_cover",
]

KINDS = ("exact", "prefix", "suffix", "present", "regex", "any")
_LITERAL_KINDS = ("exact", "prefix", "suffix")
_MAX_CODE_POINT = 0x10FFFF
_UTF8_BANDS = (0x80, 0x800, 0x10000)  # where the UTF-8 length of a character changes
_PREFERRED = "abcdefghijklmnopqrstuvwxyz0123456789/ABCDEFGHIJKLMNOPQRSTUVWXYZ-._~"
_PREFERRED_WIDE = "éñü€中😀"  # readable stand-ins for non-ASCII intervals (2, 3, 4 UTF-8 bytes)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One string condition: `how` is exact, prefix, suffix, present (non-empty), regex or any.

    `value` is the literal or the regex; it must be "" for present and any. Matching is
    case-sensitive; a regex must match the whole string (std::regex_match).
    """

    how: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.how not in KINDS:
            raise ValueError(f"unknown pattern kind {self.how!r}; expected one of {KINDS}")
        if self.how in ("present", "any") and self.value:
            raise ValueError(f"a {self.how} pattern takes no value")

    def matches(self, text: str) -> bool:
        """Whether `text` satisfies the condition (UnsupportedPattern for a refused regex)."""
        if self.how == "exact":
            return text == self.value
        if self.how == "prefix":
            return text.startswith(self.value)
        if self.how == "suffix":
            return text.endswith(self.value)
        if self.how == "present":
            return text != ""
        if self.how == "regex":
            return compile_regex(self.value).matches(text)
        return True

    @staticmethod
    def from_istio(value: str) -> Pattern:
        """The v1beta1 string form: "*" present, "abc*" prefix, "*abc" suffix, else exact.

        As Istio checks it (pilot/pkg/security/authz/matcher/string.go, StringMatcherWithPrefix):
        a leading "*" wins over a trailing one, so "*a*" is suffix "a*".
        """
        if value == "*":
            return Pattern("present")
        if value.startswith("*"):
            return Pattern("suffix", value[1:])
        if value.endswith("*"):
            return Pattern("prefix", value[:-1])
        return Pattern("exact", value)

    def __str__(self) -> str:
        if self.how in ("present", "any"):
            return self.how
        return f"{self.how} {self.value}" if self.value else f'{self.how} ""'


PATH_UNIVERSE = Pattern("regex", "/[^?#\\x00\\n\\r]*")
"""HTTP paths as Istio matches them: a leading "/", no "?" or "#" (query and fragment are
stripped first) and no NUL, CR or LF (Envoy never admits those in any header, :path included)."""

ANY_NON_EMPTY = Pattern("present")
"""Every non-empty string (methods, hosts, principals, header values)."""

ANY_STRING = Pattern("any")
"""Every string, the empty one included."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One non-empty cell: `signature[i]` is whether patterns[i] matches every string of it.

    `witness` is a shortest string of the cell; among those, the smallest when characters are
    ranked a-z, 0-9, "/", A-Z, "-._~", other printable ASCII, "éñü€中😀", then the rest.
    """

    witness: str
    signature: tuple[bool, ...]


def _rank(cp: int) -> int:
    at = _PREFERRED.find(chr(cp))
    if at >= 0:
        return at
    if 0x20 <= cp <= 0x7E:
        return 0x100 + cp
    if chr(cp) in _PREFERRED_WIDE:
        return 0x180 + _PREFERRED_WIDE.index(chr(cp))
    if 0xD800 <= cp <= 0xDFFF:
        return 0x400000 + cp
    return 0x200 + cp if cp >= 0xA0 else 0x300000 + cp


@functools.lru_cache(maxsize=4096)
def _best(lo: int, hi: int) -> int:
    """The best-ranked code point in [lo, hi]."""
    for ch in _PREFERRED:
        if lo <= ord(ch) <= hi:
            return ord(ch)
    if max(lo, 0x20) <= min(hi, 0x7E):
        return max(lo, 0x20)
    for ch in _PREFERRED_WIDE:
        if lo <= ord(ch) <= hi:
            return ord(ch)
    at = max(lo, 0xA0)
    if at <= hi and not 0xD800 <= at <= 0xDFFF:
        return at
    if at <= hi and hi >= 0xE000:
        return 0xE000
    return lo


@dataclass(frozen=True, slots=True)
class _Alphabet:
    """Code-point intervals that no pattern tells apart; symbols are numbered best-first."""

    bounds: tuple[int, ...]  # interval starts, bounds[0] == 0
    symbol_at: tuple[int, ...]  # interval index -> symbol
    reps: tuple[str, ...]  # symbol -> its representative character

    def symbol(self, ch: str) -> int:
        return self.symbol_at[bisect_right(self.bounds, ord(ch)) - 1]


def _alphabet(patterns: Sequence[Pattern]) -> _Alphabet:
    cuts = {0, *_UTF8_BANDS}
    for p in patterns:
        if p.how == "regex":
            cuts.update(b for b in compile_regex(p.value).bounds if b < 0x80)
        else:
            cuts.update(v for ch in p.value for v in (ord(ch), ord(ch) + 1))
    bounds = sorted(c for c in cuts if c <= _MAX_CODE_POINT)
    ends = [*bounds[1:], _MAX_CODE_POINT + 1]
    best = [_best(lo, end - 1) for lo, end in zip(bounds, ends, strict=True)]
    order = sorted(range(len(bounds)), key=lambda i: _rank(best[i]))
    symbol_at = [0] * len(bounds)
    for symbol, interval in enumerate(order):
        symbol_at[interval] = symbol
    return _Alphabet(tuple(bounds), tuple(symbol_at), tuple(chr(best[i]) for i in order))


@dataclass(frozen=True, slots=True)
class _Dfa:
    """A sparse DFA over alphabet symbols; state 0 is the start.

    From state s, symbol g leads to `exceptions[s].get(g, default[s])`; `live[s]` says whether
    an accepting state is reachable. A sink has itself as default and no exceptions.
    """

    default: tuple[int, ...]
    exceptions: tuple[dict[int, int], ...]
    accept: tuple[bool, ...]
    live: tuple[bool, ...]


def _sparse(rows: list[dict[int, int]], default: list[int], accept: list[bool]) -> _Dfa:
    back: list[list[int]] = [[] for _ in accept]
    for s, (row, d) in enumerate(zip(rows, default, strict=True)):
        for t in {d, *row.values()}:
            back[t].append(s)
    live = list(accept)
    stack = [s for s, a in enumerate(accept) if a]
    while stack:
        for s in back[stack.pop()]:
            if not live[s]:
                live[s] = True
                stack.append(s)
    return _Dfa(tuple(default), tuple(rows), tuple(accept), tuple(live))


def _chain(value: str, abc: _Alphabet, *, open_end: bool) -> _Dfa:
    """Exact (`open_end` False) or prefix (True) match of `value`; the dead state is last."""
    n = len(value)
    dead = n + 1
    rows: list[dict[int, int]] = [{abc.symbol(ch): i + 1} for i, ch in enumerate(value)]
    rows += [{}, {}]
    default = [dead] * n + [n if open_end else dead, dead]
    return _sparse(rows, default, [False] * n + [True, False])


def _suffix(value: str, abc: _Alphabet) -> _Dfa:
    """KMP automaton: state i = the longest prefix of `value` that ends the input so far."""
    n = len(value)
    fail = [0] * (n + 1)
    for i in range(1, n):
        k = fail[i]
        while k and value[k] != value[i]:
            k = fail[k]
        fail[i + 1] = k + 1 if value[k] == value[i] else 0
    rows: list[dict[int, int]] = []
    for i in range(n + 1):
        row: dict[int, int] = {}
        for ch in sorted(set(value)):
            k = i
            while k and (k == n or value[k] != ch):
                k = fail[k]
            target = k + 1 if k < n and value[k] == ch else 0
            if target:
                row[abc.symbol(ch)] = target
        rows.append(row)
    return _sparse(rows, [0] * (n + 1), [False] * n + [True])


def _regex(value: str, abc: _Alphabet) -> _Dfa:
    byte_dfa = compile_regex(value)
    index = {0: 0}
    queue = [0]
    rows: list[dict[int, int]] = []
    default: list[int] = []
    for q in queue:
        targets = []
        for rep in abc.reps:
            t = byte_dfa.step_char(q, rep)
            if t not in index:
                index[t] = len(index)
                queue.append(t)
            targets.append(index[t])
        common = Counter(targets).most_common(1)[0][0]
        rows.append({g: t for g, t in enumerate(targets) if t != common})
        default.append(common)
    return _sparse(rows, default, [byte_dfa.accept[q] for q in queue])


def _compile(pattern: Pattern, abc: _Alphabet) -> _Dfa:
    how, value = pattern.how, pattern.value
    if how in ("exact", "prefix"):
        return _chain(value, abc, open_end=how == "prefix")
    if how == "suffix":
        return _suffix(value, abc)
    if how == "regex":
        return _regex(value, abc)
    if how == "present":
        return _sparse([{}, {}], [1, 1], [False, True])
    return _sparse([{}], [0], [True])


def _explore(dfas: list[_Dfa], abc: _Alphabet) -> dict[tuple[bool, ...], str]:
    """Shortest witness per signature over the product; dfas[0] is the universe."""
    universe = dfas[0]
    rest = range(1, len(dfas))
    found: dict[tuple[bool, ...], str] = {}
    start = (0,) * len(dfas)
    if not universe.live[0]:
        return found
    index = {start: 0}
    states = [start]
    parent = [-1]
    via = [-1]
    limit = 2 ** (len(dfas) - 1)
    for here, state in enumerate(states):
        if universe.accept[state[0]]:
            sig = tuple(dfas[i].accept[state[i]] for i in rest)
            if sig not in found:
                found[sig] = _spell(here, parent, via, abc)
                if len(found) == limit:
                    break
        ordered, movers = _moves(dfas, state, len(abc.reps))
        if not ordered:
            continue
        u = state[0]
        u_exc, u_default = universe.exceptions[u], universe.default[u]
        for g in ordered:
            nxt = list(state)
            nxt[0] = u_exc.get(g, u_default)
            if not universe.live[nxt[0]]:
                continue
            for i in movers:
                dfa = dfas[i]
                s = state[i]
                nxt[i] = dfa.exceptions[s].get(g, dfa.default[s])
            key = tuple(nxt)
            if key not in index:
                index[key] = len(states)
                states.append(key)
                parent.append(here)
                via.append(g)
    return found


def _moves(dfas: list[_Dfa], state: tuple[int, ...], size: int) -> tuple[list[int], list[int]]:
    """The symbols worth trying from `state`, best first, and the components that can move.

    Symbols that no component lists as an exception all lead to the same product state, so
    only the best of them is tried. Nothing is tried when every component is a sink.
    """
    symbols: set[int] = set()
    movers = []
    for i, dfa in enumerate(dfas):
        s = state[i]
        if dfa.exceptions[s]:
            symbols.update(dfa.exceptions[s])
        elif dfa.default[s] == s:
            continue
        if i:
            movers.append(i)
    if not movers and not symbols and dfas[0].default[state[0]] == state[0]:
        return [], []
    ordered = sorted(symbols)
    other = 0
    while other in symbols:
        other += 1
    if other < size:
        insort(ordered, other)
    return ordered, movers


def _spell(node: int, parent: list[int], via: list[int], abc: _Alphabet) -> str:
    out = []
    while node > 0:
        out.append(abc.reps[via[node]])
        node = parent[node]
    return "".join(reversed(out))


def partition(patterns: Sequence[Pattern], universe: Pattern = PATH_UNIVERSE) -> list[Cell]:
    """Every non-empty cell of the universe induced by the patterns, sorted by signature.

    Each reachable signature appears once, with a shortest witness (see `Cell`). No patterns
    give the one cell of the whole universe; an empty universe gives no cells. Raises
    UnsupportedPattern for a refused regex.
    """
    return list(_partition(tuple(patterns), universe))


@functools.lru_cache(maxsize=4096)
def _partition(patterns: tuple[Pattern, ...], universe: Pattern) -> tuple[Cell, ...]:
    """`partition`, once per set of conditions: thousands of classes repeat a few (the
    methods policies name, their paths), in any order. A cell is the same set of strings
    whatever the order of the patterns, and so is its witness: only its signature is
    reordered."""
    canonical = tuple(sorted(set(patterns), key=lambda p: (p.how, p.value)))
    if canonical == patterns:
        return _cells(patterns, universe)
    at = {p: i for i, p in enumerate(canonical)}
    positions = [at[p] for p in patterns]
    cells = (
        Cell(c.witness, tuple(c.signature[i] for i in positions))
        for c in _cells(canonical, universe)
    )
    return tuple(sorted(cells, key=lambda c: c.signature))


@functools.lru_cache(maxsize=4096)
def _cells(patterns: tuple[Pattern, ...], universe: Pattern) -> tuple[Cell, ...]:
    everything = [universe, *patterns]
    abc = _alphabet(everything)
    found = _explore([_compile(p, abc) for p in everything], abc)
    return tuple(Cell(found[sig], sig) for sig in sorted(found))


def signature(patterns: Sequence[Pattern], text: str) -> tuple[bool, ...]:
    """Which of the patterns `text` matches, in order."""
    return tuple(p.matches(text) for p in patterns)


def is_subset(a: Pattern, b: Pattern, universe: Pattern = PATH_UNIVERSE) -> bool:
    """Whether every string of the universe that matches `a` also matches `b`."""
    return all(cell.signature != (True, False) for cell in partition([a, b], universe))


def is_equivalent(a: Pattern, b: Pattern, universe: Pattern = PATH_UNIVERSE) -> bool:
    """Whether `a` and `b` match the same strings of the universe."""
    return all(x == y for x, y in (c.signature for c in partition([a, b], universe)))


def _candidates(witness: str) -> list[Pattern]:
    """Exact, then prefixes and suffixes longest first: every literal that can hold a witness."""
    n = len(witness)
    return [
        Pattern("exact", witness),
        *(Pattern("prefix", witness[:i]) for i in range(n, -1, -1)),
        *(Pattern("suffix", witness[i:]) for i in range(n + 1)),
        ANY_NON_EMPTY,
        ANY_STRING,
    ]


def _shortest(regex: str, universe: Pattern) -> str | None:
    cells = partition([Pattern("regex", regex)], universe)
    return next((c.witness for c in cells if c.signature[0]), None)


def _empty_stand_in(regex: str) -> Pattern | None:
    """For a regex matching nothing in the universe: the exact of its shortest string."""
    outside = _shortest(regex, ANY_STRING)
    return None if outside is None else Pattern("exact", outside)


def as_literal(regex: str, universe: Pattern = PATH_UNIVERSE) -> Pattern | None:
    """The exact/prefix/suffix Pattern equivalent to `regex` on the universe, if one exists.

    Proved by automaton equivalence: any such literal must hold the regex's shortest witness
    (an exact is that witness, a prefix starts it, a suffix ends it), so those candidates are
    complete. Preference: exact, the longest prefix, the longest suffix. A regex that matches
    nothing in the universe gives the exact of its shortest string outside it (None if the
    regex matches nothing at all).
    """
    witness = _shortest(regex, universe)
    if witness is None:
        return _empty_stand_in(regex)
    literals = [p for p in _candidates(witness) if p.how in _LITERAL_KINDS]
    cells = partition([Pattern("regex", regex), *literals], universe)
    for j, literal in enumerate(literals, start=1):
        if all(c.signature[0] == c.signature[j] for c in cells):
            return literal
    return None


def stricter_cover(regex: str, universe: Pattern = PATH_UNIVERSE) -> Pattern:
    """The narrowest exact/prefix/suffix/present pattern matching every string `regex` does.

    Among the covering candidates (those of `as_literal` but the empty prefix and suffix, plus
    present, and "any" when the regex matches ""), one that lies inside all the others on the
    universe wins; when none does (a prefix and a suffix that do not nest), the longer value
    wins, then exact, prefix, suffix, present, any in that order.
    A regex matching nothing in the universe gives the stand-in of `as_literal` (else exact "").
    """
    witness = _shortest(regex, universe)
    if witness is None:
        return _empty_stand_in(regex) or Pattern("exact", "")
    candidates = _candidates(witness)
    cells = partition([Pattern("regex", regex), *candidates], universe)
    sigs = [c.signature for c in cells]
    covers = [
        j
        for j, c in enumerate(candidates, start=1)
        if (c.value or c.how not in ("prefix", "suffix")) and all(s[j] for s in sigs if s[0])
    ]
    best: dict[str, int] = {}
    for j in covers:  # the first cover of each kind is the longest
        best.setdefault(candidates[j - 1].how, j)

    def inside(j: int, k: int) -> bool:
        return all(s[k] for s in sigs if s[j])

    def key(j: int) -> tuple[bool, int, int]:
        nested = all(inside(j, k) for k in best.values())
        return (not nested, -len(candidates[j - 1].value), j)

    return candidates[min(best.values(), key=key) - 1]
