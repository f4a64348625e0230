"""Validation: check each Istio authentication resource against its schema and Istio's rules."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import referencing
from jsonschema import Draft202012Validator, ValidationError

from migrate.findings import Finding, Severity, sort_findings
from migrate.load.documents import Document, PathKey
from migrate.memo import IdentityMemo
from migrate.parallel import map_chunks
from migrate.validate import webhook
from migrate.validate.webhook import Issue

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from referencing._core import Resolver  # public only as the type of Registry.resolver()

KNOWN_KINDS: Mapping[tuple[str, str], str] = {
    ("authentication.istio.io", "Policy"): "policy.authentication.istio.io.v1alpha1.json",
    ("authentication.istio.io", "MeshPolicy"): "meshpolicy.authentication.istio.io.v1alpha1.json",
    (
        "security.istio.io",
        "PeerAuthentication",
    ): "peerauthentication.security.istio.io.v1beta1.json",
    (
        "security.istio.io",
        "RequestAuthentication",
    ): "requestauthentication.security.istio.io.v1beta1.json",
    (
        "security.istio.io",
        "AuthorizationPolicy",
    ): "authorizationpolicy.security.istio.io.v1beta1.json",
}
"""(API group, kind) of each resource this module validates, with its schema file's name."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_MAX_SHOWN = 80
_SUGGEST_CUTOFF = 0.75


# --- loading -------------------------------------------------------------------------------


def _schema_dir() -> Traversable:
    """The installed `migrate.schemas` package, or `schemas/` beside `migrate/` in a checkout."""
    try:
        return resources.files("migrate.schemas")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def load_schema(kind_file: str) -> dict[str, Any]:
    """The parsed schema file `kind_file` (cached and shared: do not modify it)."""
    text = _schema_dir().joinpath(kind_file).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _registry() -> referencing.Registry[Any]:
    """Every schema file under its `$id`, so that `$ref`s between files resolve offline."""
    names = sorted(p.name for p in _schema_dir().iterdir() if p.name.endswith(".json"))
    pairs = [
        (load_schema(n)["$id"], referencing.Resource.from_contents(load_schema(n))) for n in names
    ]
    return referencing.Registry().with_resources(pairs)


@functools.cache
def validator_for(kind_file: str) -> Draft202012Validator:
    """A validator for the schema file `kind_file`, built once and reused."""
    return Draft202012Validator(load_schema(kind_file), registry=_registry())


# --- the public entry point ------------------------------------------------------------------


def validate_document(doc: Document) -> list[Finding]:
    """Findings AM101-AM105 for a Policy, MeshPolicy, PeerAuthentication, RequestAuthentication
    or AuthorizationPolicy; an empty list for any other kind."""
    kind_file = KNOWN_KINDS.get((doc.group, doc.kind))
    if kind_file is None:
        return []
    issues = [
        *_structure_issues(doc.data, kind_file),
        *(
            replace(i, message=f"{path_text(i.path)}: {i.message}")
            for i in webhook.check(doc.kind, doc.data)
        ),
    ]
    resource = _resource_name(doc)
    findings = dict.fromkeys(_finding(doc, issue, resource) for issue in issues)
    return sort_findings(list(findings))


def _structure_issues(data: Mapping[str, Any], kind_file: str) -> list[Issue]:
    """The schema's errors (AM101) and the unknown or doubly spelled fields (AM102, AM104),
    skipped for a document of a shape already found free of them."""
    tests = _string_tests(kind_file)
    shape = None if tests is None else (kind_file, _schema_shape(data, tests))
    if shape is not None and shape in _CLEAN_SHAPES:
        return []
    issues = [*_schema_issues(data, kind_file), *_field_issues(data, kind_file)]
    if shape is not None and not issues and len(_CLEAN_SHAPES) < 100_000:
        _CLEAN_SHAPES.add(shape)
    return issues


_CLEAN_SHAPES: set[tuple[str, object]] = set()
"""Shapes of documents found free of schema and field issues: thousands of policies (and
the resources a conversion writes) differ only in names, which the schemas test alike."""


@dataclass(frozen=True)
class _StringTests:
    """Every test the schemas of one kind can make of a string: the patterns it must match,
    the lengths it is held to (as `len >= n`) and the values an `enum` or `const` names."""

    patterns: tuple[re.Pattern[str], ...]
    lengths: tuple[int, ...]
    literals: frozenset[str]


_SHAPE_SAFE_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "default",
        "examples", "x-message", "type", "properties", "required", "additionalProperties",
        "patternProperties", "propertyNames", "minProperties", "maxProperties", "items",
        "minItems", "maxItems", "minLength", "maxLength", "pattern", "enum", "const", "anyOf",
        "oneOf", "allOf", "not", "if", "then", "else", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    }
)  # fmt: skip
"""Keywords whose verdict on a document `_schema_shape` keeps: each tests one value alone,
by its type, its length or what `_StringTests` records. Any other (`uniqueItems` compares
values, `format` tests strings in ways not recorded) turns the shortcut off for the kind."""


@functools.cache
def _string_tests(kind_file: str) -> _StringTests | None:
    """The string tests of `kind_file` and every schema file it refers to; None when one of
    them uses a keyword the shape of a document cannot stand for."""
    found = _StringTests((), (), frozenset())
    seen: set[str] = set()
    files = [kind_file]
    while files:
        name = files.pop()
        if name not in seen:
            seen.add(name)
            more = _tests_in(load_schema(name), files)
            if more is None:
                return None
            found = _StringTests(
                (*found.patterns, *more.patterns),
                (*found.lengths, *more.lengths),
                found.literals | more.literals,
            )
    patterns = {p.pattern: p for p in found.patterns}
    return _StringTests(
        tuple(patterns[p] for p in sorted(patterns)),
        tuple(sorted(set(found.lengths))),
        found.literals,
    )


def _tests_in(schema: Mapping[str, Any], files: list[str]) -> _StringTests | None:
    """The string tests of one schema file (adding the files it refers to to `files`)."""
    patterns: list[re.Pattern[str]] = []
    lengths: list[int] = []
    literals: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not node.keys() <= _SHAPE_SAFE_KEYWORDS:
            return None
        stack += _subschemas(node)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.split("#", 1)[0]:
            files.append(ref.split("#", 1)[0])
        if isinstance(node.get("pattern"), str):
            patterns.append(re.compile(node["pattern"]))
        lengths += [node["minLength"]] if isinstance(node.get("minLength"), int) else []
        lengths += [node["maxLength"] + 1] if isinstance(node.get("maxLength"), int) else []
        choices = [*node.get("enum", ()), *([node["const"]] if "const" in node else [])]
        if any(isinstance(choice, (dict, list)) for choice in choices):
            return None
        literals |= {choice for choice in choices if isinstance(choice, str)}
    return _StringTests(tuple(patterns), tuple(lengths), frozenset(literals))


def _subschemas(node: Mapping[str, Any]) -> list[Any]:
    """The schemas directly inside a schema (where `_SHAPE_SAFE_KEYWORDS` can put them)."""
    found: list[Any] = []
    for key in ("properties", "$defs", "patternProperties"):
        found += node.get(key, {}).values()
    for key in ("items", "additionalProperties", "propertyNames", "not", "if", "then", "else"):
        if isinstance(node.get(key), dict):
            found.append(node[key])
    for key in ("anyOf", "oneOf", "allOf"):
        found += node.get(key, ())
    return found


def _schema_shape(value: object, tests: _StringTests) -> object:
    """What the schemas can tell apart in a value: its structure with mapping keys, numbers
    and booleans as they are, and each string by the answers to the tests of `tests` (and
    itself, when an enum or const names it). Two documents of one kind and one shape get
    the same verdict from every keyword of the kind's schemas (`_string_tests` keeps to
    keywords that test one value alone), and the same unknown or doubly spelled fields."""
    if isinstance(value, str):
        return (
            "s",
            value if value in tests.literals else None,
            tuple(p.search(value) is not None for p in tests.patterns),
            tuple(len(value) >= n for n in tests.lengths),
        )
    if isinstance(value, dict):
        return tuple((k, _schema_shape(v, tests)) for k, v in value.items())
    if isinstance(value, list):
        return ("[]", *(_schema_shape(v, tests) for v in value))
    return (type(value).__name__, value)


MIN_PARALLEL_DOCUMENTS = 256
"""Documents to validate before it pays to fork workers."""


def validate_documents(docs: Sequence[Document]) -> list[list[Finding]]:
    """`validate_document` of each document, in order. The first ones are validated here:
    when their shapes repeat (fewer than one in `REPEATED_SHAPES` new or with findings, which
    are never skipped), so will the rest's, and a document of a shape found clean costs
    little, less than forking; else the rest go to forked workers (documents are
    independent, and only the findings come back)."""
    sample = docs[:MIN_PARALLEL_DOCUMENTS]
    known = len(_CLEAN_SHAPES)
    checked = _validate_all(sample)
    rest = docs[len(sample) :]
    costly = len(_CLEAN_SHAPES) - known + sum(1 for findings in checked if findings)
    if costly * REPEATED_SHAPES <= len(sample):
        return checked + _validate_all(rest)
    parts = map_chunks(_validate_all, rest, min_items=MIN_PARALLEL_DOCUMENTS)
    return checked + [findings for part in parts for findings in part]


REPEATED_SHAPES = 8
"""Shapes repeat when at most one document in this many brings a new clean one (or has
findings)."""


def _validate_all(docs: Sequence[Document]) -> list[list[Finding]]:
    return [validate_document(doc) for doc in docs]


INVENTORY_SCHEMA = "inventory.kubernetes.json"


def validate_inventory_document(doc: Document) -> list[Finding]:
    """AM101 for an inventory document (Service, workload, Namespace...) whose fields that
    authn-migrate reads have the wrong type (a port that is not a number, ports that are not
    a list...), which would otherwise be read as absent."""
    shape = (doc.kind, _shape(doc.data))
    if shape in _VALID_SHAPES:
        return []
    resource = _resource_name(doc)
    errors = _inventory_validator(doc.kind).iter_errors(doc.data)
    issues = [_schema_issue(error) for error in sorted(errors, key=_error_order)]
    if not issues and len(_VALID_SHAPES) < 100_000:
        _VALID_SHAPES.add(shape)
    return sort_findings(list(dict.fromkeys(_finding(doc, issue, resource) for issue in issues)))


_VALID_SHAPES: set[tuple[str, object]] = set()
"""Shapes of inventory documents found valid: thousands of Deployments share a few."""


def _shape(value: object) -> object:
    """What the inventory schema can tell apart in a value: types, whether an integer is a
    port number (1-65535) and whether a string is empty; a list by the set of its items'
    shapes (each item is checked alone). Two documents of one kind and one shape are both
    valid or both not, so a shape found valid is not checked again. (Keep this in step with
    schemas/inventory.kubernetes.json; a test compares the two on generated documents.)"""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[]", frozenset(_shape(v) for v in value))
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "port" if 1 <= value <= 65535 else "int"
    if isinstance(value, str):
        return "str" if value else "empty"
    return type(value).__name__


@functools.cache
def _inventory_validator(kind: str) -> Draft202012Validator:
    """The inventory schema with only the branch for `kind` (its `allOf` of `if kind ...
    then ...` branches, resolved once per kind rather than tested on every document)."""
    base = load_schema(INVENTORY_SCHEMA)
    derived = {k: v for k, v in base.items() if k != "allOf"}
    branches = [b["then"] for b in base.get("allOf", ()) if _branch_kinds(b) & {kind}]
    if branches:
        derived["allOf"] = branches
    return Draft202012Validator(derived, registry=_registry())


def _branch_kinds(branch: Mapping[str, Any]) -> set[str]:
    test = branch["if"]["properties"]["kind"]
    return {test["const"]} if "const" in test else set(test["enum"])


def _resource_name(doc: Document) -> str:
    namespace = doc.metadata.get("namespace")
    if isinstance(namespace, str) and namespace:
        return f"{doc.kind} {namespace}/{doc.name}"
    return f"{doc.kind} {doc.name}"


def _finding(doc: Document, issue: Issue, resource: str) -> Finding:
    related = tuple(doc.locate(path) for path in issue.related)
    return Finding(
        issue.code,
        issue.severity,
        issue.message,
        doc.locate(issue.path, at_key=issue.at_key),
        resource=resource,
        related=related,
    )


# --- schema errors (AM101) -------------------------------------------------------------------


def _schema_issues(data: Mapping[str, Any], kind_file: str) -> list[Issue]:
    errors = validator_for(kind_file).iter_errors(data)
    return [_schema_issue(error) for error in sorted(errors, key=_error_order)]


def _error_order(error: ValidationError) -> tuple[list[str], str]:
    return [str(step) for step in error.absolute_path], str(error.validator)


def _schema_issue(error: ValidationError) -> Issue:
    path: tuple[PathKey, ...] = tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        path, at_key = (*path, str(error.instance)), True
    else:
        at_key = error.validator == "required"
    return Issue("AM101", Severity.ERROR, f"{path_text(path)}: {_explain(error)}", path, at_key)


def _explain(error: ValidationError) -> str:
    """The error in plain words: the schema's own `x-message` when it has one."""
    keyword = str(error.validator)
    custom = error.schema.get("x-message") if isinstance(error.schema, Mapping) else None
    if isinstance(custom, str) and keyword not in ("type", "required"):
        return custom + _found(error.instance)
    explain = _EXPLAIN.get(keyword)
    return explain(error) if explain else error.message


def _found(value: Any) -> str:
    return "" if isinstance(value, (dict, list)) else f", found {_show(value)}"


def _show(value: Any) -> str:
    """A value as a user would write it in JSON: strings quoted and shortened."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 4] + '..."'


def _what(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _show(value)
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, (int, float)):
        return f"the number {_show(value)}"
    return _show(value)


def _explain_type(error: ValidationError) -> str:
    expected: Any = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    words = [_TYPE_WORDS.get(n, n) for n in names if n != "null" or len(names) == 1]
    return f"expected {' or '.join(words)}, found {_what(error.instance)}"


def _explain_required(error: ValidationError) -> str:
    instance = error.instance if isinstance(error.instance, dict) else {}
    required: Any = error.validator_value
    missing = [name for name in required if name not in instance]
    return "missing required field " + ", ".join(f'"{name}"' for name in missing)


def _explain_enum(error: ValidationError) -> str:
    allowed: Any = error.validator_value
    choices = ", ".join(str(choice) for choice in allowed)
    text = f"{_show(error.instance)} is not one of {choices}"
    if isinstance(error.instance, bool):
        text += " (YAML reads an unquoted yes, no, on or off as true or false: quote the value)"
    return text


def _explain_length(error: ValidationError) -> str:
    limit = error.validator_value
    if limit == 1 and str(error.validator) in ("minLength", "minItems"):
        return "must not be empty"
    unit = "characters" if "Length" in str(error.validator) else "items"
    bound = "at least" if str(error.validator).startswith("min") else "at most"
    return f"must have {bound} {limit} {unit}"


_EXPLAIN: dict[str, Callable[[ValidationError], str]] = {
    "type": _explain_type,
    "required": _explain_required,
    "enum": _explain_enum,
    "const": lambda e: f"must be {_show(e.validator_value)}{_found(e.instance)}",
    "maximum": lambda e: f"{_show(e.instance)} is greater than the maximum {e.validator_value}",
    "minimum": lambda e: f"{_show(e.instance)} is less than the minimum {e.validator_value}",
    "minLength": _explain_length,
    "maxLength": _explain_length,
    "minItems": _explain_length,
    "maxItems": _explain_length,
    "pattern": lambda e: f"{_show(e.instance)} does not match the pattern {e.validator_value}",
    "oneOf": lambda _e: "must match exactly one of the allowed forms",
    "anyOf": lambda _e: "matches none of the allowed forms",
}


def path_text(path: Sequence[PathKey]) -> str:
    """A field path as users write it: `spec.targets[0].ports[1].number`."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _IDENTIFIER.match(step):
            text += f".{step}" if text else step
        else:
            text += f"[{json.dumps(step, ensure_ascii=False)}]"
    return text or "the document"


# --- unknown fields (AM102) and both spellings (AM104) ----------------------------------------


@dataclass(frozen=True, slots=True)
class _Schema:
    """A subschema with the resolver that its `$ref`s are relative to."""

    contents: Mapping[str, Any]
    resolver: Resolver[Any]


def _field_issues(data: Mapping[str, Any], kind_file: str) -> list[Issue]:
    schema = load_schema(kind_file)
    root = _Schema(schema, _registry().resolver(base_uri=schema["$id"]))
    issues: list[Issue] = []
    _walk(data, [root], (), issues)
    return issues


_FLAT: IdentityMemo[list[_Schema]] = IdentityMemo(1 << 20)


def _flatten(schema: _Schema) -> list[_Schema]:
    """The schema and everything it includes through `$ref` and `allOf`, memoized: schema
    contents live as long as the process, and each belongs to a single file."""
    return _FLAT.get((schema.contents,), lambda: _flattened(schema))


def _flattened(schema: _Schema) -> list[_Schema]:
    found = [schema]
    ref = schema.contents.get("$ref")
    if isinstance(ref, str):
        resolved = schema.resolver.lookup(ref)
        found += _flatten(_Schema(resolved.contents, resolved.resolver))
    for part in schema.contents.get("allOf", ()):
        found += _flatten(_Schema(part, schema.resolver))
    return found


def _walk(
    value: Any, schemas: Iterable[_Schema], path: tuple[PathKey, ...], issues: list[Issue]
) -> None:
    flat = [part for schema in schemas for part in _flatten(schema)]
    if isinstance(value, dict):
        _check_keys(value, flat, path, issues)
        for key, item in value.items():
            children = _children(flat, key)
            if children:
                _walk(item, children, (*path, key), issues)
    elif isinstance(value, list):
        items = [
            _Schema(s.contents["items"], s.resolver)
            for s in flat
            if isinstance(s.contents.get("items"), dict)
        ]
        for index, item in enumerate(value if items else ()):
            _walk(item, items, (*path, index), issues)


def _children(flat: Iterable[_Schema], key: str) -> list[_Schema]:
    children = []
    for schema in flat:
        properties = schema.contents.get("properties", {})
        extra = schema.contents.get("additionalProperties")
        if key in properties:
            children.append(_Schema(properties[key], schema.resolver))
        elif isinstance(extra, dict):
            children.append(_Schema(extra, schema.resolver))
    return children


def _known_fields(flat: Sequence[_Schema]) -> list[str] | None:
    """The field names an object may have, or None when it is an open map."""
    if any("additionalProperties" in s.contents or "patternProperties" in s.contents for s in flat):
        return None
    names = {name for s in flat for name in s.contents.get("properties", {})}
    return sorted(names) if names else None


def _check_keys(
    value: Mapping[str, Any],
    flat: Sequence[_Schema],
    path: tuple[PathKey, ...],
    issues: list[Issue],
) -> None:
    known = _known_fields(flat)
    if known is None:
        return
    issues.extend(_unknown(key, known, flat, path) for key in value if key not in known)
    for snake in known:
        camel = _camel(snake)
        if camel != snake and camel in known and snake in value and camel in value:
            where = (*path, snake)
            issues.append(
                Issue(
                    "AM104",
                    Severity.WARNING,
                    f'{path_text(where)}: both "{snake}" and "{camel}" are set; Istio reads '
                    f'"{camel}" and ignores "{snake}"',
                    where,
                    at_key=True,
                )
            )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _unknown(
    key: str, known: Sequence[str], flat: Sequence[_Schema], path: tuple[PathKey, ...]
) -> Issue:
    where = (*path, key)
    dropper = "Kubernetes" if path[:1] == ("metadata",) else "Istio"
    advice = _suggest(key, known) or _elsewhere(key, flat, path)
    message = f"{path_text(where)}: unknown field; {dropper} silently drops it{advice}"
    return Issue("AM102", Severity.WARNING, message, where, at_key=True)


def _suggest(key: str, known: Sequence[str]) -> str:
    """A did-you-mean among the known names, ignoring case and underscores first."""
    by_form: dict[str, str] = {}
    for name in sorted(known, key=lambda n: "_" in n):  # camelCase first: it is what Istio reads
        by_form.setdefault(name.replace("_", "").lower(), name)
    form = key.replace("_", "").replace("-", "").lower()
    close = (
        [form]
        if form in by_form
        else difflib.get_close_matches(form, list(by_form), n=1, cutoff=_SUGGEST_CUTOFF)
    )
    return f' (did you mean "{by_form[close[0]]}"?)' if close else ""


def _elsewhere(key: str, flat: Sequence[_Schema], path: tuple[PathKey, ...]) -> str:
    """Where the field belongs when it is a field of one of this object's children."""
    for schema in flat:
        for name, child in schema.contents.get("properties", {}).items():
            inner = child.get("items", child) if isinstance(child, dict) else None
            if not isinstance(inner, dict):
                continue
            for part in _flatten(_Schema(inner, schema.resolver)):
                if key in part.contents.get("properties", {}):
                    each = "each item of " if "items" in child else ""
                    return f" (it belongs inside {each}{path_text((*path, name))})"
    return ""
