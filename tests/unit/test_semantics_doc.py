"""docs/semantics.md is the document the code cites: every `§` citation in the code, the tests,
README and the document itself names one of its headings, and every numbered section cites a
source in Istio, Envoy or the proxy.

A heading declares a number when its text starts with `§` and the number: `## §A`,
`### §A.5 Targets and policy selection`, `#### §D.5a A valid token without sub`. Citations
take the forms `§A`, `§A.5`, `§D.5a`, and ranges `§D.2-§D.4` or `§B.1-B.4`, with a hyphen or
an en dash (every number in between is cited)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "semantics.md"

HEADING = re.compile(r"^(#{2,4}) §([0-9A-Z](?:\.\d+[a-z]?)?)(?= |$)", re.MULTILINE)
ANY_HEADING = re.compile(r"^(#{1,6}) ", re.MULTILINE)
CITATION = re.compile(
    r"§(?P<letter>[0-9A-Z])(?:\.(?P<number>\d+)(?P<sub>[a-z]?))?"
    r"(?:\s*[-\u2013]\s*§?(?:(?P<to_letter>[A-Z])\.)?(?P<to>\d+)\b)?"
)
SOURCE = re.compile(
    r"`(?:api|istio|proxy|envoy|jvl|gogo|spm)@[^`:\s]+(?::[^`]*)?`"  # istio@1.4.0:path:line
    r"|`istio\.io:[^`]+@[0-9a-f]+`"  # a documentation page at a commit
    r"|\b[\w.-]+/[\w.-]+#\d+"  # a pull request or issue, istio/istio#22607
    r"|\bcommit [0-9a-f]{7,40}\b"  # a commit named in the text
)


def cited_numbers(text: str) -> list[str]:
    """Every section number `text` cites, ranges expanded, in order of appearance."""
    found = []
    for match in CITATION.finditer(text):
        letter, number, sub = match["letter"], match["number"], match["sub"]
        if number is None:
            found.append(letter)
            continue
        found.append(f"{letter}.{number}{sub}")
        end = match["to"]
        if end is not None and (match["to_letter"] or letter) == letter and not sub:
            found += [f"{letter}.{n}" for n in range(int(number) + 1, int(end) + 1)]
    return found


def headings(text: str) -> dict[str, str]:
    """Section number -> the section's text, subsections included (up to the next heading of
    the same or a higher level)."""
    marks = [(m.start(), len(m[1])) for m in ANY_HEADING.finditer(text)]
    sections = {}
    for match in HEADING.finditer(text):
        level = len(match[1])
        end = next(
            (start for start, depth in marks if start > match.start() and depth <= level),
            len(text),
        )
        sections[match[2]] = text[match.start() : end]
    return sections


def unresolved(citations: dict[str, list[str]], numbers: set[str]) -> list[str]:
    """`where: §X` for every citation without a heading."""
    return [
        f"{where}: §{n}" for where, cited in citations.items() for n in cited if n not in numbers
    ]


def _citing_files() -> list[Path]:
    code = sorted((ROOT / "migrate").rglob("*.py"))
    tests = [p for p in sorted((ROOT / "tests").rglob("*.py")) if p != Path(__file__).resolve()]
    return [*code, *tests, ROOT / "README.md", DOCUMENT]


def _citations() -> dict[str, list[str]]:
    found = {}
    for path in _citing_files():
        text = path.read_text(encoding="utf-8")
        if path == DOCUMENT:
            text = HEADING.sub("", text)  # a heading declares its number, it does not cite it
        found[str(path.relative_to(ROOT))] = cited_numbers(text)
    return found


def test_every_citation_names_a_heading() -> None:
    """Every `§` the code, the tests, README and the document cite is a heading of the document."""
    citations = _citations()
    numbers = set(headings(DOCUMENT.read_text(encoding="utf-8")))
    missing = unresolved(citations, numbers)
    assert not missing, "no heading in docs/semantics.md for:\n" + "\n".join(missing)
    in_code = [
        n for where, cited in citations.items() if where.startswith("migrate") for n in cited
    ]
    assert len(in_code) > 100  # the scan found the code's citations, not nothing


def test_every_numbered_section_cites_a_source() -> None:
    """Each numbered section (with its subsections) names a source: a repository at a tag or
    commit, a documentation page at a commit, a pull request or issue, or a commit."""
    sections = headings(DOCUMENT.read_text(encoding="utf-8"))
    unsourced = [f"§{n}" for n, body in sections.items() if not SOURCE.search(body)]
    assert not unsourced, "sections without a source: " + ", ".join(unsourced)


def test_numbers_are_declared_once() -> None:
    """No section number is declared by two headings."""
    declared = [m[2] for m in HEADING.finditer(DOCUMENT.read_text(encoding="utf-8"))]
    assert sorted(n for n in set(declared) if declared.count(n) > 1) == []


def _messages(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string in a module that is not a docstring (of a module, class,
    function or attribute): what people read."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def test_messages_cite_the_document_by_its_path() -> None:
    """A message people read cites `docs/semantics.md §X`; docstrings and comments may say
    `§X`; nothing cites the research notes the engine was first built on."""
    offenders = []
    for path in sorted((ROOT / "migrate").rglob("*.py")):
        where = path.relative_to(ROOT)
        for line, text in _messages(path):
            if "§" in text and "docs/semantics.md §" not in text.split("§", 1)[0] + "§":
                offenders.append(f"{where}:{line}: {text}")
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "reference §" in text:
                offenders.append(f"{where}:{number}: {text}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("(§A.5)", ["A.5"], id="section"),
        pytest.param("reduces to §A or §B.", ["A", "B"], id="part-before-a-full-stop"),
        pytest.param("§D.5a and §D.5c", ["D.5a", "D.5c"], id="lettered-item"),
        pytest.param("(§A.3, §D.2-§D.4)", ["A.3", "D.2", "D.3", "D.4"], id="range"),
        pytest.param("§B.1-B.4 (beta", ["B.1", "B.2", "B.3", "B.4"], id="range-short-end"),
        pytest.param("§A.5\u2013§A.7", ["A.5", "A.6", "A.7"], id="range-en-dash"),
        pytest.param("§D.5a\u2013§D.5d", ["D.5a", "D.5d"], id="lettered-ends-only"),
        pytest.param("(§A.7, CVE-2020-8595)", ["A.7"], id="not-a-range"),
        pytest.param("§E.1 EvaluateTLSState", ["E.1"], id="followed-by-a-word"),
    ],
)
def test_citation_forms(text: str, expected: list[str]) -> None:
    """Each form a citation takes in the code yields the numbers it names."""
    assert cited_numbers(text) == expected


def test_a_citation_without_a_heading_is_caught() -> None:
    """A citation of a number no heading declares is reported with where it stands."""
    document = "## §A Part\n\n### §A.5 Targets `istio@1.4.0:x.go:1`\n"
    citations = {"migrate/x.py": cited_numbers("see §A.5 and §A.6, §B")}
    assert unresolved(citations, set(headings(document))) == [
        "migrate/x.py: §A.6",
        "migrate/x.py: §B",
    ]


def test_a_section_without_a_source_is_caught() -> None:
    """A numbered section whose text names no source is found."""
    document = "## §A Part\n\n### §A.1 Cited `istio@1.4.0:x.go:1`\n\n### §A.2 Uncited\n\nprose\n"
    sections = headings(document)
    assert [n for n, body in sections.items() if not SOURCE.search(body)] == ["A.2"]
