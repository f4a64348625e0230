"""Istio's admission-webhook rules that JSON Schema cannot express, as issues at field paths."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from migrate.findings import Severity
from migrate.load.documents import PathKey

Path = tuple[PathKey, ...]
_SPEC: Path = ("spec",)
_IP_FIELDS = ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks")


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem found in a document: its code, severity and message (without the field path),
    the path of the node it is about (`at_key` for the key rather than its value), related paths."""

    code: str
    severity: Severity
    message: str
    path: Path
    at_key: bool = False
    related: tuple[Path, ...] = ()


_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check(kind: str, data: Mapping[str, Any]) -> list[Issue]:
    """The webhook rules of `kind` that `data` breaks; nothing for other kinds or a spec that is
    not a mapping (the schema reports that)."""
    rules = _RULES.get(kind)
    spec = data.get("spec")
    if rules is None or not isinstance(spec if spec is not None else {}, dict):
        return []
    return [*_object_name(data), *rules(data, spec or {})]


def _object_name(data: Mapping[str, Any]) -> Iterator[Issue]:
    """The API server accepts only lowercase RFC 1123 subdomains as custom-resource names."""
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if isinstance(name, str) and name and (len(name) > 253 or not _NAME.match(name)):
        yield _rejected(
            f"name {_quote(name)} is not a valid Kubernetes name (lowercase letters, "
            "digits, '-' and '.'); the API server refuses it",
            ("metadata", "name"),
        )


def _rejected(
    message: str, path: Path, *, at_key: bool = False, related: tuple[Path, ...] = ()
) -> Issue:
    return Issue("AM103", Severity.ERROR, message, path, at_key, related)


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def _spelling(mapping: Mapping[str, Any], snake: str, camel: str) -> str:
    """The key Istio reads: gogo jsonpb prefers the camelCase name when both are present."""
    return camel if camel in mapping or snake not in mapping else snake


def _quote(value: Any) -> str:
    text = "" if value is None else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- authentication.istio.io/v1alpha1 -------------------------------------------------------


def _policy(data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _policy_name(data, spec)
    yield from _target_names(spec)
    yield from _alpha_common(data, spec)


def _mesh_policy(data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    """A MeshPolicy must be named `default` and have no targets."""
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name is not None and str(name) != "default":
        yield _rejected(
            f'mesh-wide policy must be named "default", found {_quote(name)}', ("metadata", "name")
        )
    if spec.get("targets"):
        yield _rejected("mesh-wide policy must not have targets", (*_SPEC, "targets"), at_key=True)
    yield from _alpha_common(data, spec)


def _target_names(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """Every target needs a Service name; `labels` was never implemented."""
    for index, target in _items(spec.get("targets")):
        if isinstance(target, dict) and not target.get("name"):
            yield _rejected(
                "a target needs the name of a Service (selecting by labels was never implemented)",
                (*_SPEC, "targets", index),
            )


def _policy_name(data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    """A namespaced Policy without targets must be named `default`, and only such a one."""
    targets = spec.get("targets")
    if targets is not None and not isinstance(targets, list):
        return
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name is None:
        return  # the schema reports the missing name
    if not targets and str(name) != "default":
        yield _rejected(
            'authentication policy with no target rules must be named "default", '
            f"found {_quote(name)}",
            ("metadata", "name"),
        )
    elif targets and str(name) == "default":
        yield _rejected(
            'authentication policy with name "default" must not have any target rules',
            (*_SPEC, "targets"),
            at_key=True,
        )


def _alpha_common(_data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _peers(spec)
    yield from _jwt_issuers(spec)


def _peers(spec: Mapping[str, Any]) -> Iterator[Issue]:
    for index, peer in _items(spec.get("peers")):
        if not isinstance(peer, dict):
            continue
        path = (*_SPEC, "peers", index)
        if "mtls" in peer and peer["mtls"] is None:
            yield Issue(
                "AM105",
                Severity.NOTE,
                "`mtls:` without a value means STRICT only if the null survives the API "
                "server (stored as `peers: [{}]` it means no mTLS at all); write "
                "`mtls: {}`",
                (*path, "mtls"),
                at_key=True,
            )
        if "jwt" in peer:
            yield Issue(
                "AM106",
                Severity.WARNING,
                "peer JWT authentication was never available in Istio; it is not "
                "migrated (use origins for JWT)",
                (*path, "jwt"),
                at_key=True,
            )


def _jwt_specs(spec: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """Every Jwt in the order the webhook checks them: peer JWTs, then origins."""
    for field in ("peers", "origins"):
        for index, method in _items(spec.get(field)):
            jwt = method.get("jwt") if isinstance(method, dict) else None
            if isinstance(jwt, dict):
                yield (*_SPEC, field, index, "jwt"), jwt


def _jwt_issuers(spec: Mapping[str, Any]) -> Iterator[Issue]:
    first: dict[str, Path] = {}
    for path, jwt in _jwt_specs(spec):
        issuer = jwt.get("issuer")
        issuer_path = (*path, "issuer") if "issuer" in jwt else path
        if issuer is None or isinstance(issuer, str):
            text = issuer or ""
            if text in first:
                yield _rejected(
                    f"jwt with issuer {_quote(text)} already defined",
                    issuer_path,
                    related=(first[text],),
                )
            first.setdefault(text, issuer_path)
            if not text:
                yield _rejected("issuer must be set", issuer_path, at_key=issuer_path == path)
        yield from _jwt_fields(jwt, path)


def _jwt_fields(jwt: Mapping[str, Any], path: Path) -> Iterator[Issue]:
    yield from _empty_strings(jwt, path, "audiences", "audiences", "an audience")
    yield from _empty_strings(jwt, path, "jwt_headers", "jwtHeaders", "a JWT header name")
    yield from _empty_strings(jwt, path, "jwt_params", "jwtParams", "a JWT query parameter name")
    yield from _jwks_uri(jwt, path)


def _empty_strings(
    jwt: Mapping[str, Any], path: Path, snake: str, camel: str, what: str
) -> Iterator[Issue]:
    key = _spelling(jwt, snake, camel)
    for index, item in _items(jwt.get(key)):
        if item == "":
            yield _rejected(f"{what} must not be empty", (*path, key, index))


def _jwks_uri(rule: Mapping[str, Any], path: Path) -> Iterator[Issue]:
    key = _spelling(rule, "jwks_uri", "jwksUri")
    uri = rule.get(key)
    problem = _jwks_uri_problem(uri) if isinstance(uri, str) and uri else None
    if problem:
        yield _rejected(f"{problem}, found {_quote(uri)}", (*path, key))


def _jwks_uri_problem(uri: str) -> str | None:
    """What Istio's ParseJwksURI rejects: an unparsable URI, a scheme other than http(s), or a
    port that is not a number."""
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError as exc:
        return f"not a valid URI ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"URI scheme {_quote(parts.scheme)} is not supported; use http or https"
    return None


# --- security.istio.io/v1beta1 --------------------------------------------------------------


def _selector(spec: Mapping[str, Any]) -> Iterator[Issue]:
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        path = (*_SPEC, "selector", "matchLabels", key)
        pair = _quote(f"{key}={'' if value is None else value}")
        if key == "":
            yield _rejected(f"empty key is not supported in selector: {pair}", path, at_key=True)
        if "*" in key or (isinstance(value, str) and "*" in value):
            yield _rejected(
                f"wildcard is not supported in selector: {pair}", path, at_key="*" in key
            )


def _has_selector(spec: Mapping[str, Any]) -> bool:
    selector = spec.get("selector")
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    return isinstance(labels, dict) and bool(labels)


def _peer_authentication(_data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _selector(spec)
    ports = spec.get("portLevelMtls")
    if not isinstance(ports, dict):
        return
    path = (*_SPEC, "portLevelMtls")
    if not ports:
        yield _rejected(
            "port level mTLS, if defined, must have at least one element", path, at_key=True
        )
    elif not _has_selector(spec):
        yield _rejected(
            "mesh/namespace peer authentication cannot have port level mTLS; "
            "portLevelMtls needs a workload selector",
            path,
            at_key=True,
        )
    for port in ports:
        if port.strip() == "0":
            yield _rejected("port cannot be 0", (*path, port), at_key=True)


def _request_authentication(_data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _selector(spec)
    for index, rule in _items(spec.get("jwtRules")):
        if isinstance(rule, dict):
            yield from _jwks_uri(rule, (*_SPEC, "jwtRules", index))


def _authorization_policy(_data: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _selector(spec)
    if spec.get("action") == "DENY" and spec.get("rules") is None:
        yield _rejected(
            "a deny policy without `rules` is meaningless and has no effect", (*_SPEC, "action")
        )
    for index, rule in _items(spec.get("rules")):
        froms = rule.get("from") if isinstance(rule, dict) else None
        for position, item in _items(froms):
            source = item.get("source") if isinstance(item, dict) else None
            if isinstance(source, dict):
                path = (*_SPEC, "rules", index, "from", position, "source")
                yield from _ip_blocks(source, path)


def _ip_blocks(source: Mapping[str, Any], path: Path) -> Iterator[Issue]:
    for field in _IP_FIELDS:
        for index, block in _items(source.get(field)):
            if isinstance(block, str) and block and not _is_ip_or_cidr(block):
                yield _rejected(
                    f"{_quote(block)} is not an IP address or CIDR block", (*path, field, index)
                )


def _is_ip_or_cidr(text: str) -> bool:
    try:
        if "/" in text:
            ipaddress.ip_network(text, strict=False)
        else:
            ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], Iterator[Issue]]
_RULES: dict[str, _Rule] = {
    "Policy": _policy,
    "MeshPolicy": _mesh_policy,
    "PeerAuthentication": _peer_authentication,
    "RequestAuthentication": _request_authentication,
    "AuthorizationPolicy": _authorization_policy,
}
