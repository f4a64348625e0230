"""Loading: read each source, split it into documents, and keep where every document came from."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import yaml

from migrate import progress
from migrate.findings import Finding, Location, Severity
from migrate.load.construct import (
    MAX_DEPTH,
    DocumentRejected,
    Problem,
    build_document,
    build_header,
    read_header,
)
from migrate.load.discover import Discovery, Source, discover
from migrate.load.jsontext import JsonRefused, load_json
from migrate.load.limits import check_text, current, how_to_raise
from migrate.load.regular import NotRegular, TooLarge, read_regular
from migrate.load.sourcefile import SourceText, UndecodableText, decode
from migrate.load.templates import template_at
from migrate.load.yamlio import compose_documents
from migrate.parallel import in_worker, map_chunks

PathKey = str | int
_NOTE_CODES = frozenset({"AM012"})
READ_KINDS = frozenset(
    {
        *("Policy", "MeshPolicy"),
        *("PeerAuthentication", "RequestAuthentication", "AuthorizationPolicy"),
        *("Service", "Namespace", "DestinationRule", "ConfigMap", "Kustomization", "Component"),
        "IstioOperator",
        *("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"),
        *("ReplicationController", "DeploymentConfig"),
    }
)
"""Kinds some part of the tool reads beyond their metadata (a test keeps this in step with
the models and the inventory); `*List` kinds and every `*.istio.io` kind are read too."""
LAZY_NODE_KINDS = frozenset(
    {"Service", "Namespace", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
    | {"CronJob", "Pod", "ReplicationController", "DeploymentConfig"}
)
"""Read kinds whose node trees are composed again when a message needs them, not kept."""
_WARNING_CODES = frozenset({"AM004"})
MIN_PARALLEL_SOURCES = 200
"""Files to read before it pays to fork workers."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a document came from: file, 0-based document index, 1-based line and column, and
    its index in a `kind: List` when it was one of the items."""

    path: str
    index: int
    line: int
    column: int
    item: int | None = None

    @property
    def location(self) -> Location:
        """The document's start as a Location."""
        return Location(self.path, self.line, self.column)

    def __str__(self) -> str:
        return str(self.location)


@dataclass(frozen=True, slots=True)
class Document:
    """One Kubernetes object (a mapping) with its origin and, when parsed as YAML, its node tree
    so that messages can point at any field."""

    origin: Origin
    data: dict[str, Any]
    node: yaml.Node | None = None
    offset: tuple[int, int] = (0, 0)
    """Lines and columns to add to node positions (for text embedded in another file)."""
    text: str | None = field(default=None, repr=False, compare=False)
    """The whole file's text, for a document whose node tree is not kept: composed again on
    the rare occasion a message points into it (inventory kinds, most of a repository)."""

    @property
    def api_version(self) -> str:
        """`apiVersion`, or "" when absent or not a string."""
        value = self.data.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def group(self) -> str:
        """The API group of `apiVersion` ("" for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def kind(self) -> str:
        """`kind`, or "" when absent or not a string."""
        value = self.data.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        """`metadata` when it is a mapping, else an empty one."""
        value = self.data.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def name(self) -> str:
        """`metadata.name` as text ("" when absent)."""
        value = self.metadata.get("name")
        return "" if value is None else str(value)

    @property
    def declared_namespace(self) -> str | None:
        """`metadata.namespace` as written, or None when the document has none."""
        value = self.metadata.get("namespace")
        return None if value in (None, "") else str(value)

    def locate(self, path: Sequence[PathKey] = (), *, at_key: bool = False) -> Location:
        """The location of the node at `path` (keys and list indexes), or of its deepest
        existing ancestor; with `at_key`, of the last key itself rather than its value."""
        node = self.node if self.node is not None else _composed_again(self)
        if node is None:
            return self.origin.location
        mark = node.start_mark
        for depth, step in enumerate(path, start=1):
            child = _child(node, step)
            if child is None:
                break
            key_node, node = child
            last = depth == len(path)
            mark = key_node.start_mark if (at_key and last and key_node) else node.start_mark
        lines, columns = self.offset
        return Location(self.origin.path, mark.line + 1 + lines, mark.column + 1 + columns)


def _composed_again(document: Document) -> yaml.Node | None:
    if document.text is None:
        return None
    try:
        nodes = _file_nodes(document.text)
    except yaml.YAMLError:
        return None
    index = document.origin.index
    return nodes[index] if index < len(nodes) else None


@functools.lru_cache(maxsize=4)
def _file_nodes(text: str) -> list[yaml.Node | None]:
    """Node trees of a file's documents, up to a syntax error (the last few files asked)."""
    nodes: list[yaml.Node | None] = []
    with contextlib.suppress(yaml.YAMLError):
        nodes.extend(compose_documents(text))
    return nodes


def _child(node: yaml.Node, step: PathKey) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(step):
                return key_node, value_node
        return None
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(step, int)
        and 0 <= step < len(node.value)
    ):
        return None, node.value[step]
    return None


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A source after loading: its text (None if unreadable) and its documents."""

    source: Source
    text: SourceText | None
    documents: tuple[Document, ...]
    skipped: bool = False
    checks: tuple[tuple[Finding, ...] | None, ...] = ()
    """What the loader's `check` found in each document (None: not checked), empty when the
    loader was given none."""

    def checked(self, position: int) -> tuple[Finding, ...] | None:
        """The findings of the check on document `position`, None when it was not checked."""
        return self.checks[position] if self.checks else None


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Every file read, and every finding about reading them."""

    files: tuple[LoadedFile, ...]
    findings: tuple[Finding, ...]

    @property
    def documents(self) -> list[Document]:
        """All documents of all files, in input order."""
        return [doc for loaded in self.files for doc in loaded.documents]


Check = Callable[[Document], Sequence[Finding] | None]
"""Work on one document that needs only the document (schema validation, say): done where the
file is read, in a worker on large inputs, and kept in `LoadedFile.checks`."""


def load_paths(
    paths: Sequence[str], *, stdin: bytes | None = None, check: Check | None = None
) -> LoadResult:
    """Discover and load every manifest under `paths` (`-` reads `stdin`, or standard input)."""
    return load_found(discover(paths), stdin=stdin, check=check)


def load_found(
    found: Discovery,
    *,
    stdin: bytes | None = None,
    check: Check | None = None,
    known: LoadResult | None = None,
) -> LoadResult:
    """Load discovered sources; what discovery could not follow stays among the findings."""
    result = load_sources(found.sources, stdin=stdin, check=check, known=known)
    return LoadResult(result.files, found.findings + result.findings)


def load_sources(
    sources: Iterable[Source],
    *,
    stdin: bytes | None = None,
    check: Check | None = None,
    known: LoadResult | None = None,
) -> LoadResult:
    """Load each source, and `check` each of its documents; a bad file becomes findings and
    the others are still read. A source held in memory whose bytes are those of a file of
    `known` of the same name (a file a change left alone, at the base revision) is that file,
    not parsed again.

    Many files are read, parsed, built and checked in forked workers, in order: each sends
    back its files' text, values and checks, not the node trees, which are composed again
    from the text in the rare case a message points into one of them."""
    files: list[LoadedFile] = []
    findings: list[Finding] = []
    sources = list(sources)
    progress.phase("reading files", len(sources))
    again = _unchanged(sources, known, check) if known is not None else {}
    progress.advance(len(again))
    todo = [s for i, s in enumerate(sources) if i not in again]
    reads_stdin = stdin is None and any(s.path is None and s.content is None for s in todo)
    min_items = len(todo) + 1 if reads_stdin else MIN_PARALLEL_SOURCES
    parts = map_chunks(
        functools.partial(_load_chunk, stdin=stdin, check=check), todo, min_items=min_items
    )
    loads = zip(todo, (p for part in parts for p in part), strict=True)
    for index in range(len(sources)):
        if index in again:
            files.append(again[index])
            continue
        loaded, problems = _unpacked(*next(loads))
        files.append(loaded)
        findings.extend(problems)
    return LoadResult(tuple(files), tuple(findings))


def _unchanged(
    sources: Sequence[Source], known: LoadResult, check: Check | None
) -> dict[int, LoadedFile]:
    """The sources (by position) held in memory with the very bytes of a file of `known` of
    the same name, read without a finding and checked alike: that file, as theirs."""
    troubled = {f.location.path for f in known.findings}
    by_name = {
        f.source.display: f
        for f in known.files
        if f.text is not None
        and f.source.display not in troubled
        and bool(f.checks) == (check is not None)
    }
    same: dict[int, LoadedFile] = {}
    for index, source in enumerate(sources):
        twin = by_name.get(source.display)
        if twin is None or twin.text is None or source.content is None:
            continue
        if twin.text.encode(twin.text.text) == source.content:
            same[index] = replace(twin, source=source)
    return same


class _Packed(NamedTuple):
    """A loaded file as a worker sends it back: its text and documents as plain tuples and
    values (they cross the process boundary several times faster than the objects), the rest
    as is."""

    head: tuple[str, str, bytes, str, bool]
    rows: list[tuple[int, int, int, dict[str, Any], bool]]
    checks: tuple[tuple[Finding, ...] | None, ...]
    findings: list[Finding]
    skipped: bool


_Loaded = tuple[LoadedFile, list[Finding]]


def _load_chunk(
    sources: Sequence[Source], *, stdin: bytes | None, check: Check | None
) -> list[_Loaded | _Packed]:
    """`load_source` and `check` of each source; in a worker, packed without the node trees
    that the text gives back."""
    done: list[_Loaded | _Packed] = []
    for source in sources:
        loaded, problems = load_source(source, stdin=stdin)
        if check is not None:
            loaded = replace(loaded, checks=tuple(_checked(check, d) for d in loaded.documents))
        done.append(_packed(loaded, problems) if in_worker() else (loaded, problems))
        progress.advance()
    return done


def _checked(check: Check, document: Document) -> tuple[Finding, ...] | None:
    found = check(document)
    return None if found is None else tuple(found)


def _packed(loaded: LoadedFile, findings: list[Finding]) -> _Loaded | _Packed:
    """The file packed for the trip back, its node trees left to be composed again from the
    text in the rare case a message points into one; as is when a document's node cannot be
    (an item of a list)."""
    text = loaded.text
    if text is None or not all(_packable(d, text.text) for d in loaded.documents):
        return loaded, findings
    rows = [
        (
            d.origin.index,
            d.origin.line,
            d.origin.column,
            d.data,
            d.node is not None or d.text is not None,
        )
        for d in loaded.documents
    ]
    head = (text.text, text.encoding, text.bom, text.newline, text.ends_with_newline)
    return _Packed(head, rows, loaded.checks, findings, loaded.skipped)


def _packable(document: Document, text: str) -> bool:
    """True when composing the file's `text` again gives the document's node, if it has one
    (a whole document at its index; not an item of a list)."""
    return (
        document.origin.item is None
        and document.offset == (0, 0)
        and (document.text is None or document.text is text)
    )


def _unpacked(source: Source, loaded: _Loaded | _Packed) -> _Loaded:
    """A loaded file back from `_packed`."""
    if not isinstance(loaded, _Packed):
        return loaded
    text = SourceText(source.display, *loaded.head)
    documents = tuple(
        Document(
            Origin(text.path, index, line, column),
            data,
            None,
            text=text.text if composed else None,
        )
        for index, line, column, data, composed in loaded.rows
    )
    return LoadedFile(source, text, documents, loaded.skipped, loaded.checks), loaded.findings


def load_source(source: Source, *, stdin: bytes | None = None) -> tuple[LoadedFile, list[Finding]]:
    """Read and parse one source."""
    limits = current()
    try:
        data = _read(source, stdin, limits.bytes)
    except TooLarge as exc:
        message = f"more than {exc.limit:,} bytes (bytes limit); not read"
        return LoadedFile(source, None, ()), [_over_limit("bytes", message, source.display)]
    except NotRegular:
        where = Location(source.display)
        return LoadedFile(source, None, ()), [
            _error("AM006", "not a regular file; not read", where)
        ]
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return LoadedFile(source, None, ()), [
            _error("AM006", f"cannot read file: {reason}", Location(source.display))
        ]
    try:
        text = decode(source.display, data)
    except UndecodableText as exc:
        return LoadedFile(source, None, ()), [
            _error("AM003", str(exc), Location(source.display, exc.line, exc.column))
        ]
    documents, findings, skipped = parse_text(text, is_json=_is_json(source))
    return LoadedFile(source, text, tuple(documents), skipped), findings


def _read(source: Source, stdin: bytes | None, limit: int) -> bytes:
    """The source's bytes; TooLarge beyond `limit`, NotRegular for a path that is not a
    regular file."""
    if source.content is None and source.path is not None:
        return read_regular(source.path, limit)
    data = source.content if source.content is not None else stdin
    if data is None:
        data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data


def _is_json(source: Source) -> bool:
    return source.display.lower().endswith(".json")


def parse_text(
    text: SourceText, *, is_json: bool = False
) -> tuple[list[Document], list[Finding], bool]:
    """Documents of one decoded file, the findings, and whether it was skipped as a template.

    `.json` files are held to JSON's grammar (as kubectl's decoder holds them); other text that
    starts like JSON (`kubectl get -o json` on standard input) is tried as JSON first. YAML then
    supplies the positions when it can read the same text.
    """
    parsed: tuple[list[Document], list[Finding]] | Finding | None = None
    if is_json or text.text.lstrip()[:1] in ("{", "["):
        parsed = _parse_json(text)
        if isinstance(parsed, Finding):
            if is_json:
                return [], [parsed], False
            parsed = None
    limits = current()
    exceeded = check_text(text.text, limits)
    if exceeded is not None:
        where = Location(text.path, exceeded.line, exceeded.column)
        return [], [_over_limit(exceeded.name, exceeded.message, where)], False
    aliases = "*" in text.text  # no `*`, no alias: the expansion count can be skipped
    documents: list[Document] = []
    findings: list[Finding] = []
    try:
        for index, node in enumerate(compose_documents(text.text)):
            if index >= limits.documents:
                return [], [_too_many_documents(text.path, node, limits.documents)], False
            if node is not None:
                _add_document(
                    text.path,
                    index,
                    node,
                    documents,
                    findings,
                    aliases=aliases,
                    text=text.text,
                    depth=limits.depth,
                )
    except yaml.YAMLError as exc:
        if isinstance(parsed, tuple):
            return parsed[0], parsed[1], False
        return _syntax_error(text, exc, documents, findings)
    if any(f.code == "AM001" for f in findings) and template_at(text.text) >= 0:
        return [], [_template_note(text)], True
    return documents, findings, False


def _syntax_error(
    text: SourceText, exc: yaml.YAMLError, documents: list[Document], findings: list[Finding]
) -> tuple[list[Document], list[Finding], bool]:
    where = _mark_location(text.path, exc, text.text)
    if template_at(text.text) >= 0:
        return [], [_template_note(text)], True
    if isinstance(exc, yaml.reader.ReaderError):  # no mark: locate the character itself
        offset = text.text.find(chr(exc.character))
        line = text.text.count("\n", 0, offset) + 1
        where = Location(text.path, line, offset - text.text.rfind("\n", 0, offset))
        exc = yaml.YAMLError(f"unacceptable character #x{exc.character:04x}: {exc.reason}")
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{problem} ({context})" if context else str(problem)
    return documents, [*findings, _error("AM001", message, where)], False


def _too_many_documents(path: str, node: yaml.Node | None, limit: int) -> Finding:
    """The documents limit exceeded at `node`, the first document over it."""
    where = Location(path)
    if node is not None:
        where = Location(path, node.start_mark.line + 1, node.start_mark.column + 1)
    message = f"more than {limit:,} documents (documents limit); not read"
    return _over_limit("documents", message, where)


def _over_limit(name: str, message: str, where: Location | str) -> Finding:
    """A file refused for exceeding limit `name`, with how to raise it."""
    location = where if isinstance(where, Location) else Location(where)
    return Finding("AM019", Severity.ERROR, message, location, hint=how_to_raise(name))


def _template_note(text: SourceText) -> Finding:
    """A skipped template, located at its first directive."""
    offset = max(template_at(text.text), 0)
    line = text.text.count("\n", 0, offset) + 1
    where = Location(text.path, line, offset - (text.text.rfind("\n", 0, offset) + 1) + 1)
    return Finding(
        "AM004",
        Severity.WARNING,
        "file holds template directives ({{ ... }}) and is not valid YAML; skipped",
        where,
        hint="render it first: helm template RELEASE CHART | authn-migrate scan -",
    )


def _mark_location(path: str, exc: yaml.YAMLError, text: str = "") -> Location:
    """Where the problem is; for one found only at the end of the file (an unclosed quote,
    bracket or brace), where the construct that was never closed starts."""
    found = getattr(exc, "problem_mark", None)
    opened = getattr(exc, "context_mark", None)
    at_end = found is not None and not text[found.index :].strip()
    if opened is not None and (at_end or "end of stream" in str(getattr(exc, "problem", ""))):
        return Location(path, opened.line + 1, opened.column + 1)
    mark = found or opened
    if mark is None:
        return Location(path)
    return Location(path, mark.line + 1, mark.column + 1)


def _parse_json(text: SourceText) -> tuple[list[Document], list[Finding]] | Finding:
    """A JSON file that YAML could not read (JSON allows what YAML forbids, e.g. some tabs):
    its documents and findings, or the finding that refuses it."""
    try:
        value, problems = load_json(text.text)
    except JsonRefused as exc:
        return _error(exc.code, exc.message, Location(text.path, exc.line, exc.column))
    origin = Origin(text.path, 0, 1, 1)
    if not isinstance(value, dict):
        return _error("AM002", f"document is a {_type_name(value)}, not a mapping", origin.location)
    findings = [_error(p.code, p.message, Location(text.path, p.line, p.column)) for p in problems]
    return _expand_list(Document(origin, value), findings), findings


def _add_document(
    path: str,
    index: int,
    node: yaml.Node,
    documents: list[Document],
    findings: list[Finding],
    *,
    aliases: bool = True,
    text: str | None = None,
    depth: int = MAX_DEPTH,
) -> None:
    mark = node.start_mark
    origin = Origin(path, index, mark.line + 1, mark.column + 1)
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return  # an empty document, e.g. between two `---`
    header = read_header(node)
    unread = header is not None and not is_read(*header)
    try:
        if unread:
            value, problems = build_header(node, aliases=aliases, depth=depth)  # type: ignore[arg-type]
        else:
            value, problems = build_document(node, aliases=aliases, depth=depth)
    except DocumentRejected as exc:
        findings.append(_from_problem(path, exc.problem))
        return
    findings.extend(_from_problem(path, p) for p in problems)
    if not isinstance(value, dict):
        findings.append(
            _error("AM002", f"document is a {_type_name(value)}, not a mapping", origin.location)
        )
        return
    # the node tree is kept for pointing at fields of the kinds read; inventory kinds (most of
    # what is read) compose theirs again from the text if a message needs it
    if unread:
        documents.extend(_expand_list(Document(origin, value), findings))
    elif header is not None and header[1] in LAZY_NODE_KINDS:
        documents.append(Document(origin, value, None, text=text))
    else:
        documents.extend(_expand_list(Document(origin, value, node), findings))


def is_read(api_version: str, kind: str) -> bool:
    """True for the kinds some part of the tool reads beyond their metadata: the others are
    only half built (apiVersion, kind, metadata), which is most of a large repository."""
    group = api_version.rpartition("/")[0]
    return kind in READ_KINDS or kind.endswith("List") or group.endswith("istio.io")


def _expand_list(document: Document, findings: list[Finding]) -> list[Document]:
    """`kind: List` and `*List` (kubectl output) become their items, each with its own origin."""
    items = document.data.get("items")
    if not (document.kind.endswith("List") and isinstance(items, list)):
        return [document]
    result = []
    for position, item in enumerate(items):
        origin_location = document.locate(("items", position))
        origin = Origin(
            document.origin.path,
            document.origin.index,
            origin_location.line,
            origin_location.column,
            item=position,
        )
        if not isinstance(item, dict):
            findings.append(
                _error(
                    "AM002", f"list item is a {_type_name(item)}, not a mapping", origin.location
                )
            )
            continue
        node = _item_node(document.node, position)
        result.append(Document(origin, item, node))
    return result


def _item_node(node: yaml.Node | None, position: int) -> yaml.Node | None:
    found = _child(node, "items") if node is not None else None
    if found is None:
        return None
    nested = _child(found[1], position)
    return nested[1] if nested else None


def _from_problem(path: str, problem: Problem) -> Finding:
    severity = (
        Severity.NOTE
        if problem.code in _NOTE_CODES
        else Severity.WARNING
        if problem.code in _WARNING_CODES
        else Severity.ERROR
    )
    return Finding(
        problem.code,
        severity,
        problem.message,
        Location(path, problem.line + 1, problem.column + 1),
    )


def _error(code: str, message: str, location: Location) -> Finding:
    return Finding(code, Severity.ERROR, message, location)


def _type_name(value: Any) -> str:
    names = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return names.get(type(value), type(value).__name__)
