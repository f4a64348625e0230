"""Requests written the way a user would type them, curl-like: method, host:port and path, the
headers, then the peer and the listener. Every human-facing output writes requests this way.

    GET httpbin.foo:8000/api -H 'authorization: Bearer <valid token from i, aud a>'
        from mTLS peer cluster.local/ns/default/sa/default (HTTP, container port 80)
    TCP connection to db.ns:5432 from plaintext peer (TCP, container port 5432)

Values from the inputs (names, paths, methods, header values) are quoted the way a shell reads
them, and no control character ever passes: a value holding one is written `$'...'` with the
character as an escape (`\\x1b`), which is also what bash and zsh read back. The rest of the
text goes through `migrate.escape.terminal`, so the result is a single printable line that
the renderers may escape again without changing it.

Tokens, ports no Service declares and what the inputs do not show are placeholders
(`<valid token from ...>`, `<port>`, `<any other namespace>`), never quoted; a token sent as
a query parameter joins the path (`/api?access_token=<...>`, `&` after a query the path has).
"""

from __future__ import annotations

import re

from migrate.escape import terminal
from migrate.semantics.request import Destination, Request
from migrate.semantics.space import OTHER_NAMESPACE, OTHER_SERVICE, OTHER_WORKLOAD

_SAFE = re.compile(r"[\w@%+=:,./-]+", re.ASCII)
"""Text a shell reads as one word, unquoted (shlex's set)."""


def request_text(request: Request) -> str:
    """The request as one printable line, curl-like (see the module docstring)."""
    destination = request.destination
    tail = f"from {terminal(str(request.peer))} ({listener_text(destination)})"
    if not destination.http:
        return f"TCP connection to {_target(destination)} {tail}"
    query: tuple[str, str] | None = None
    headers = list(request.headers)
    token = request.token
    if token is not None:
        placeholder = f"<{terminal(token.description)}>"
        if token.kind == "header":
            headers.append((token.name, token.prefix + placeholder))
        else:
            query = (token.name, placeholder)
    words = [shell_quote(request.method), _target(destination, request.path, query)]
    words += [f"-H {shell_quote(f'{name}: {value}')}" for name, value in headers]
    return f"{' '.join(words)} {tail}"


def listener_text(destination: Destination) -> str:
    """What serves the request: `HTTP, container port 80`, `TCP, a port no Service declares`,
    with the condition under which it is served that way."""
    parts = ["HTTP" if destination.http else "TCP"]
    if destination.spare:
        parts.append("a port no Service declares")
    else:
        parts.append(f"container port {destination.port}")
        parts += [] if destination.service is not None else ["no Service"]
    parts += [terminal(destination.condition)] if destination.condition else []
    return ", ".join(parts)


def _target(destination: Destination, path: str = "", query: tuple[str, str] | None = None) -> str:
    """`service.namespace:port/path` (the workload's name without a Service; `<port>` for
    any port no Service declares), with the token parameter `query` joining the path. One
    shell word: quoted when a value from the inputs needs it; placeholders never do."""
    if destination.service is not None:
        name, port = destination.service, str(destination.service_port)
    else:
        name, port = destination.workload, str(destination.port)
    plain_head = f"{_plain(name)}.{_plain(destination.namespace)}:"
    head = f"{_shown(name)}.{_shown(destination.namespace)}:"
    tail = ""
    if query is not None:
        tail = ("&" if "?" in path else "?") + f"{query[0]}="
    plain = f"{plain_head}{port}{path}{'' if query is None else query[0]}"
    shown = f"{head}{'<port>' if destination.spare else port}{path}{tail}"
    shown += "" if query is None else query[1]
    return shown if _SAFE.fullmatch(plain) else shell_quote(shown)


_PLACEHOLDERS = frozenset({OTHER_WORKLOAD, OTHER_NAMESPACE, OTHER_SERVICE})
"""Names standing for what the inputs do not show, written `<any other namespace>`."""


def _plain(name: str) -> str:
    """`name` as the test for quoting sees it: a placeholder never needs quotes."""
    return "placeholder" if name in _PLACEHOLDERS else name


def _shown(name: str) -> str:
    return f"<{name[1:-1]}>" if name in _PLACEHOLDERS else name


def shell_quote(text: str) -> str:
    """`text` as a shell reads it back as one word: unquoted when safe, in single quotes, or
    as `$'...'` when it holds a character `terminal` escapes (a control character, say)."""
    if _SAFE.fullmatch(text):
        return text
    if terminal(text) == text:
        return "'" + text.replace("'", "'\"'\"'") + "'"
    return "$'" + "".join(_ansi_c(char) for char in text) + "'"


def _ansi_c(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    return terminal(char)
