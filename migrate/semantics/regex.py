"""The regex subset of Istio v1alpha1 trigger rules, parsed exactly and compiled to a DFA.

Istio's proxy evaluated `regex` trigger rules with `std::regex_match(path, std::regex(value))`:
the ECMAScript grammar, a match of the WHOLE string, and - because the subject is a
`std::string` - a match over the UTF-8 BYTES of the path, classified by the classic "C" locale.
This module models exactly that and nothing more:

* ASCII characters behave as in ECMAScript; `\\d` is [0-9], `\\w` is [A-Za-z0-9_], `\\s` is
  [\\t\\n\\v\\f\\r ] and `.` is any byte but \\n and \\r.
* Every byte of a non-ASCII character (UTF-8 lead and continuation bytes alike) is one
  step matched only by `.`, negated classes and \\D \\W \\S, so `/.` does not match "/é" (two
  bytes) while `/.*` does. Lone surrogates count as three bytes, as "surrogatepass" encodes them.
* The pattern itself must be ASCII (its non-ASCII characters would be byte sequences, which a
  class like [é] splits), and anything not listed in `parse` raises `UnsupportedPattern`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from migrate.errors import MigrateError

HIGH = 0x80
"""The step value that stands for any one byte 0x80-0xFF of UTF-8 text."""

CharSet = tuple[tuple[int, int], ...]
"""Sorted, disjoint, inclusive intervals of step values within [0, HIGH]."""

MAX_REPEAT = 1000
MAX_NFA_STATES = 20_000
MAX_DFA_STATES = 5_000
MAX_WORK = 200_000  # NFA edges visited while determinising
MAX_DEPTH = 100

_DIGIT: CharSet = ((0x30, 0x39),)
_WORD: CharSet = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE: CharSet = ((0x09, 0x0D), (0x20, 0x20))
_SYNTAX = "^$\\.*+?()[]{}|/-"
_CONTROL = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D}
_BRACES = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_REFUSED = {
    "b": "word boundary \\b is not supported",
    "B": "word boundary \\B is not supported",
    "0": "\\0 (NUL) is not supported; use \\x00",
    "p": "unicode property escape \\p{...} is not supported",
    "P": "unicode property escape \\P{...} is not supported",
    "k": "named backreference \\k<...> is not supported",
    "c": "control escape \\cX is not supported",
}


class UnsupportedPattern(MigrateError):
    """A regex feature the engine cannot handle exactly (it never guesses).

    `pattern` is the regex, `position` the 0-based index of the offending construct in it, and
    `reason` says in plain words what is not supported.
    """

    def __init__(self, pattern: str, position: int, reason: str) -> None:
        super().__init__(f"regex {pattern!r} at position {position}: {reason}")
        self.pattern = pattern
        self.position = position
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnsupportedPattern], tuple[str, int, str]]:
        """Rebuilt from its three fields: it crosses from a comparing worker to the parent."""
        return (UnsupportedPattern, (self.pattern, self.position, self.reason))


def union(sets: list[CharSet]) -> CharSet:
    """The union of character sets, normalised (sorted, merged)."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(iv for s in sets for iv in s):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def complement(chars: CharSet) -> CharSet:
    """Every step value in [0, HIGH] not in `chars`."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in chars:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= HIGH:
        out.append((nxt, HIGH))
    return tuple(out)


DOT: CharSet = complement(((0x0A, 0x0A), (0x0D, 0x0D)))
_CLASSES = {
    "d": _DIGIT,
    "D": complement(_DIGIT),
    "w": _WORD,
    "W": complement(_WORD),
    "s": _SPACE,
    "S": complement(_SPACE),
}


@dataclass(frozen=True, slots=True)
class Chars:
    """One step whose value is in `chars`."""

    chars: CharSet


@dataclass(frozen=True, slots=True)
class Seq:
    """The items one after the other (no items: the empty string)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    """Any one of the options."""

    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    """`item` repeated between `low` and `high` times (`high` None: unbounded)."""

    item: Node
    low: int
    high: int | None


Node = Chars | Seq | Alt | Repeat


class _Parser:
    """Recursive descent over the supported grammar; refuses everything else with a position."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0
        self.end = len(pattern)

    def fail(self, position: int, reason: str) -> NoReturn:
        raise UnsupportedPattern(self.text, position, reason)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < self.end else ""

    def parse(self) -> Node:
        text = self.text
        for index, ch in enumerate(text):
            if ord(ch) > 0x7F:
                self.fail(index, "non-ASCII character: std::regex compares UTF-8 bytes")
        if text.startswith("^"):
            self.pos = 1
        if self.end > self.pos and text.endswith("$"):
            slashes = len(text[:-1]) - len(text[:-1].rstrip("\\"))
            if slashes % 2 == 0:
                self.end -= 1
        node = self.disjunction(0)
        if self.pos < self.end:
            self.fail(self.pos, "unmatched )")
        return node

    def disjunction(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            self.fail(self.pos, f"groups nested deeper than {MAX_DEPTH}")
        options = [self.alternative(depth)]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.alternative(depth))
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def alternative(self, depth: int) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified(self.atom(depth)))
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def atom(self, depth: int) -> Node:
        start, ch = self.pos, self.peek()
        if ch == "(":
            return self.group(depth)
        if ch == "[":
            return Chars(self.bracket())
        if ch == "\\":
            chars, _ = self.escape(in_class=False)
            return Chars(chars)
        self.pos += 1
        if ch == ".":
            return Chars(DOT)
        if ch == "^":
            self.fail(start, "anchor ^ is only supported at the very start of the pattern")
        if ch == "$":
            self.fail(start, "anchor $ is only supported at the very end of the pattern")
        if ch in "*+?":
            self.fail(start, f"quantifier {ch} has nothing to repeat")
        if ch in "{}]":
            self.fail(start, f"a literal {ch} must be escaped as \\{ch}")
        return Chars(((ord(ch), ord(ch)),))

    def group(self, depth: int) -> Node:
        start = self.pos
        self.pos += 1
        if self.peek() == "?":
            ahead = self.text[self.pos + 1 : self.pos + 3]
            if ahead.startswith(":"):
                self.pos += 2
            elif ahead.startswith("="):
                self.fail(start, "lookahead (?=...) is not supported")
            elif ahead.startswith("!"):
                self.fail(start, "negative lookahead (?!...) is not supported")
            elif ahead in ("<=", "<!"):
                self.fail(start, f"lookbehind (?{ahead}...) is not supported")
            elif ahead.startswith("<"):
                self.fail(start, "named group (?<name>...) is not supported")
            else:
                self.fail(start, "(? other than (?: (inline flags, extensions) is not supported")
        node = self.disjunction(depth + 1)
        if self.peek() != ")":
            self.fail(start, "unterminated group: missing )")
        self.pos += 1
        return node

    def quantified(self, atom: Node) -> Node:
        start, ch = self.pos, self.peek()
        high: int | None
        if ch in ("*", "+", "?"):
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
            self.pos += 1
        elif ch == "{":
            found = _BRACES.match(self.text, self.pos, self.end)
            if found is None:
                self.fail(start, "{ must start a repetition like {2}, {2,} or {2,5}")
            low = int(found.group(1))
            high = low if found.group(2) is None else int(found.group(3) or -1)
            high = None if high == -1 else high
            if max(low, high or 0) > MAX_REPEAT:
                self.fail(start, f"repetition counts above {MAX_REPEAT} are not supported")
            if high is not None and high < low:
                self.fail(start, "repetition {n,m} with n > m is invalid")
            self.pos = found.end()
        else:
            return atom
        if self.peek() == "?":  # lazy: the same language for a whole-string match
            self.pos += 1
        if self.peek() in ("*", "+", "?", "{"):
            self.fail(self.pos, "a quantifier cannot follow another quantifier")
        return Repeat(atom, low, high)

    def escape(self, *, in_class: bool) -> tuple[CharSet, int | None]:
        """The set an escape stands for and, when it is one character, that character."""
        start = self.pos
        if start + 1 >= self.end:
            self.fail(start, "trailing backslash")
        ch = self.text[start + 1]
        self.pos += 2
        if ch in _CLASSES:
            return _CLASSES[ch], None
        if ch in _CONTROL:
            value = _CONTROL[ch]
        elif ch in ("x", "u"):
            width = 2 if ch == "x" else 4
            digits = self.text[self.pos : self.pos + width]
            if self.pos + width > self.end or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
                self.fail(start, f"\\{ch} must be followed by {width} hex digits")
            value = int(digits, 16)
            if value > 0x7F:
                self.fail(start, f"\\{ch} above 0x7F matches UTF-8 bytes; not supported")
            self.pos += width
        elif ch in _SYNTAX:
            value = ord(ch)
        elif ch in "123456789":
            self.fail(start, f"backreference \\{ch} is not supported")
        elif ch == "b" and in_class:
            self.fail(start, "backspace \\b inside a class is not supported")
        elif ch in _REFUSED:
            self.fail(start, _REFUSED[ch])
        else:
            self.fail(start, f"escape \\{ch} is not supported")
        return ((value, value),), value

    def class_atom(self, first: bool) -> tuple[CharSet, int | None]:
        start, ch = self.pos, self.peek()
        if ch == "\\":
            return self.escape(in_class=True)
        if ch == "[":
            self.fail(start, "unescaped [ inside a class is not supported (POSIX [:name:])")
        if ch == "-" and not first and self.text[start + 1 : start + 2] != "]":
            self.fail(start, "an unescaped - inside a class must be first or last; use \\-")
        self.pos += 1
        return ((ord(ch), ord(ch)),), ord(ch)

    def bracket(self) -> CharSet:
        start = self.pos
        self.pos += 1
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        if self.peek() == "]":
            self.fail(start, "an empty class [] or [^] is not supported")
        parts: list[CharSet] = []
        first = True
        while self.peek() not in ("", "]"):
            item = self.pos
            chars, low = self.class_atom(first)
            first = False
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                if self.peek() == "-":
                    self.fail(self.pos, "a range ending at an unescaped - is not supported")
                _, high = self.class_atom(False)
                if low is None or high is None or self.text[item] == "-":
                    self.fail(item, "a range must run between two single characters")
                if low > high:
                    self.fail(item, "a range out of order is invalid")
                chars = ((low, high),)
            parts.append(chars)
        if self.peek() != "]":
            self.fail(start, "unterminated class: missing ]")
        self.pos += 1
        chars = union(parts)
        return complement(chars) if negate else chars


def parse(pattern: str) -> Node:
    """The syntax tree of `pattern`, or UnsupportedPattern.

    Supported: literal ASCII characters; escapes of ^$\\.*+?()[]{}|/- and \\t \\n \\v \\f \\r
    \\xHH \\uHHHH (up to 0x7F) \\d \\D \\w \\W \\s \\S; `.`; classes with ranges, negation and
    those escapes ('-' literal only first or last); groups ( ) and (?: ); alternation | (empty
    alternatives too); quantifiers * + ? {n} {n,} {n,m} (counts up to 1000) and their lazy
    forms; ^ as the first and $ as the last character of the whole pattern.
    """
    return _Parser(pattern).parse()


class _Nfa:
    """A Thompson NFA: epsilon edges and character-set edges per state."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.eps: list[list[int]] = []
        self.moves: list[list[tuple[CharSet, int]]] = []

    def state(self) -> int:
        if len(self.eps) >= MAX_NFA_STATES:
            raise UnsupportedPattern(self.pattern, 0, "the pattern expands to too many states")
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1

    def emit(self, node: Node) -> tuple[int, int]:
        """Start and end state of a fragment recognising `node`."""
        if isinstance(node, Chars):
            start, end = self.state(), self.state()
            self.moves[start].append((node.chars, end))
            return start, end
        if isinstance(node, Alt):
            start, end = self.state(), self.state()
            for option in node.options:
                s, e = self.emit(option)
                self.eps[start].append(s)
                self.eps[e].append(end)
            return start, end
        if isinstance(node, Seq):
            start = end = self.state()
            for item in node.items:
                s, e = self.emit(item)
                self.eps[end].append(s)
                end = e
            return start, end
        start = end = self.state()
        for _ in range(node.low):
            s, e = self.emit(node.item)
            self.eps[end].append(s)
            end = e
        if node.high is None:
            s, e = self.emit(node.item)
            self.eps[end].append(s)
            self.eps[e].append(s)
            self.eps[s].append(e)
            return start, e
        finish = self.state()
        for _ in range(node.high - node.low):
            s, e = self.emit(node.item)
            self.eps[end].append(s)
            self.eps[end].append(finish)
            end = e
        self.eps[end].append(finish)
        return start, finish


@dataclass(frozen=True, slots=True)
class ByteDfa:
    """A minimal DFA over step classes; state 0 is the start.

    `bounds` are the first step values of the classes (bounds[0] == 0), `classes[v]` is the class
    of step value v in [0, HIGH], `trans[state][class]` the next state.
    """

    bounds: tuple[int, ...]
    classes: tuple[int, ...]
    trans: tuple[tuple[int, ...], ...]
    accept: tuple[bool, ...]

    def step_char(self, state: int, ch: str) -> int:
        """The state after reading every UTF-8 byte of `ch`."""
        cp = ord(ch)
        if cp < HIGH:
            return self.trans[state][self.classes[cp]]
        high = self.classes[HIGH]
        for _ in range(2 if cp < 0x800 else 3 if cp < 0x10000 else 4):
            state = self.trans[state][high]
        return state

    def matches(self, text: str) -> bool:
        """Whether the whole of `text` matches."""
        state = 0
        for ch in text:
            state = self.step_char(state, ch)
        return self.accept[state]


def _determinise(nfa: _Nfa, start: int, final: int) -> ByteDfa:
    edges = [chars for row in nfa.moves for chars, _ in row]
    bounds = sorted({0} | {v for chars in edges for lo, hi in chars for v in (lo, hi + 1)})
    bounds = [b for b in bounds if b <= HIGH]
    count = len(bounds)
    spans = [
        [
            (bisect_right(bounds, lo) - 1, bisect_right(bounds, hi) - 1, t)
            for c, t in row
            for lo, hi in c
        ]
        for row in nfa.moves
    ]
    closures: dict[frozenset[int], frozenset[int]] = {}

    def closure(seeds: frozenset[int]) -> frozenset[int]:
        """The epsilon closure, keeping only the states that consume or accept."""
        known = closures.get(seeds)
        if known is None:
            seen, stack = set(seeds), list(seeds)
            while stack:
                for t in nfa.eps[stack.pop()]:
                    if t not in seen:
                        seen.add(t)
                        stack.append(t)
            known = frozenset(q for q in seen if spans[q] or q == final)
            closures[seeds] = known
        return known

    first = closure(frozenset((start,)))
    index = {first: 0}
    subsets = [first]
    trans: list[tuple[int, ...]] = []
    budget = MAX_WORK
    while len(trans) < len(subsets):
        buckets: list[set[int]] = [set() for _ in range(count)]
        for q in subsets[len(trans)]:
            budget -= len(spans[q])
            if budget < 0:
                raise UnsupportedPattern(nfa.pattern, 0, "the automaton grows too large")
            for a, b, t in spans[q]:
                for c in range(a, b + 1):
                    buckets[c].add(t)
        row = []
        for bucket in buckets:
            target = closure(frozenset(bucket))
            if target not in index:
                if len(subsets) >= MAX_DFA_STATES:
                    raise UnsupportedPattern(nfa.pattern, 0, "the automaton grows too large")
                index[target] = len(subsets)
                subsets.append(target)
            row.append(index[target])
        trans.append(tuple(row))
    accept = [final in s for s in subsets]
    return _minimise(bounds, trans, accept)


def _equivalent_states(trans: list[tuple[int, ...]], accept: list[bool]) -> list[int]:
    """A block number per state; Hopcroft's refinement: equal blocks, equivalent states."""
    count = len(trans)
    inverse: list[list[list[int]]] = [[[] for _ in range(count)] for _ in trans[0]]
    for q, row in enumerate(trans):
        for c, t in enumerate(row):
            inverse[c][t].append(q)
    finals = {q for q in range(count) if accept[q]}
    blocks = [b for b in (finals, set(range(count)) - finals) if b]
    block_of = [0] * count
    for b, members in enumerate(blocks):
        for q in members:
            block_of[q] = b
    work = list(range(len(blocks)))
    while work:
        splitter = sorted(blocks[work.pop()])
        for by_class in inverse:
            touched: dict[int, set[int]] = {}
            for t in splitter:
                for q in by_class[t]:
                    touched.setdefault(block_of[q], set()).add(q)
            for b, inside in touched.items():
                if len(inside) == len(blocks[b]):
                    continue
                outside = blocks[b] - inside
                small, large = (
                    (inside, outside) if len(inside) <= len(outside) else (outside, inside)
                )
                blocks[b] = large
                blocks.append(small)
                for q in small:
                    block_of[q] = len(blocks) - 1
                work.append(len(blocks) - 1)  # the smaller half suffices, in or out of `work`
    return block_of


def _minimise(bounds: list[int], trans: list[tuple[int, ...]], accept: list[bool]) -> ByteDfa:
    """Merge equivalent states, then renumber in breadth-first order from the start."""
    block = _equivalent_states(trans, accept)
    first_of: dict[int, int] = {}
    for q, b in enumerate(block):
        first_of.setdefault(b, q)
    order = {block[0]: 0}
    queue = [0]
    rows: list[tuple[int, ...]] = []
    finals: list[bool] = []
    for q in queue:
        targets = [block[t] for t in trans[q]]
        for b in targets:
            if b not in order:
                order[b] = len(order)
                queue.append(first_of[b])
        rows.append(tuple(order[b] for b in targets))
        finals.append(accept[q])
    classes = tuple(bisect_right(bounds, v) - 1 for v in range(HIGH + 1))
    return ByteDfa(tuple(bounds), classes, tuple(rows), tuple(finals))


@lru_cache(maxsize=512)
def compile_regex(pattern: str) -> ByteDfa:
    """The minimal DFA of `pattern` (see the module docstring), or UnsupportedPattern."""
    nfa = _Nfa(pattern)
    start, final = nfa.emit(parse(pattern))
    return _determinise(nfa, start, final)
