"""Requests as the human-facing outputs write them: curl-like (method, host:port and path, the
headers, then the peer and the listener), values from the inputs quoted the way a shell reads
them back, and no control character ever let through."""

from __future__ import annotations

import shlex

import pytest
from semantics_kit import MTLS, PLAIN, TCP, request, token

from migrate.escape import terminal
from migrate.semantics.curl import request_text, shell_quote
from migrate.semantics.request import Destination, Peer, Request
from migrate.semantics.space import OTHER_NAMESPACE, OTHER_WORKLOAD

SNIFFED = "if inbound protocol sniffing is on"
SPARE = Destination("ns", "web", 15000, True, condition=SNIFFED, spare=True)
POD = Destination("ns", "web", 8080, True)


@pytest.mark.parametrize(
    ("sent", "text"),
    [
        pytest.param(
            request(
                peer=MTLS,
                tok=token("testing@secure.istio.io", valid=False),
                path="/admin",
                method="OPTIONS",
                headers=(("origin", "x"), ("access-control-request-method", "x")),
            ),
            "OPTIONS web.ns:8000/admin -H 'origin: x' -H 'access-control-request-method: x' "
            "-H 'authorization: Bearer <invalid token from testing@secure.istio.io>' "
            "from mTLS peer cluster.local/ns/default/sa/default (HTTP, container port 80)",
            id="header-token-after-the-headers",
        ),
        pytest.param(
            request(tok=token(where=("query", "access_token", "")), path="/api"),
            "GET web.ns:8000/api?access_token=<valid token from iss, aud aud> "
            "from plaintext peer (HTTP, container port 80)",
            id="query-token-joins-the-path",
        ),
        pytest.param(
            request(tok=token(where=("query", "access_token", ""), sub=False), path="/api?a=1"),
            "GET 'web.ns:8000/api?a=1&access_token=<valid token from iss without sub, aud aud>' "
            "from plaintext peer (HTTP, container port 80)",
            id="query-token-after-a-query-the-path-has",
        ),
        pytest.param(
            request(TCP, method=""),
            "TCP connection to web.ns:9000 from plaintext peer (TCP, container port 90)",
            id="tcp",
        ),
        pytest.param(
            request(SPARE),
            "GET web.ns:<port>/ from plaintext peer "
            "(HTTP, a port no Service declares, if inbound protocol sniffing is on)",
            id="port-no-service-declares",
        ),
        pytest.param(
            request(POD, path="/x"),
            "GET web.ns:8080/x from plaintext peer (HTTP, container port 8080, no Service)",
            id="no-service",
        ),
        pytest.param(
            request(Destination(OTHER_NAMESPACE, OTHER_WORKLOAD, 1, False, spare=True)),
            "TCP connection to <any workload the inputs do not show>.<any other namespace>:<port> "
            "from plaintext peer (TCP, a port no Service declares)",
            id="what-the-inputs-do-not-show-is-a-placeholder",
        ),
    ],
)
def test_request_text(sent: Request, text: str) -> None:
    """Method, host:port and path first, then headers, then the peer and the listener."""
    assert request_text(sent) == text


HOSTILE = [
    "it's",
    "a\x1b]8;;https://evil/\x1b\\link",
    "x\n::error::forged",
    "\u202eevil",
    "back\\slash 'and' quotes\"",
    "\x00\x7f\x9b",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_header_value_pastes_back_and_lets_no_control_character_through(
    value: str,
) -> None:
    """A header value is one shell word that reads back as the value; with a control character
    it is written `$'...'` with the character as an escape."""
    text = request_text(request(headers=(("x-h", value),)))
    assert terminal(text) == text
    assert "\n" not in text
    assert "\x1b" not in text
    word = shell_quote(f"x-h: {value}")
    assert f" -H {word} " in text
    if terminal(value) == value:
        assert shlex.split(word) == [f"x-h: {value}"]
    else:
        assert word.startswith("$'")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_names_and_paths_are_quoted_and_escaped(value: str) -> None:
    """Names, paths, methods and principals from the inputs never act on a terminal."""
    destination = Destination(value, value, 80, True, value, 8000, condition=value)
    peer = Peer(MTLS.transport, value, "ns")
    tok = token(value, where=("query", value, ""), aud=value)
    text = request_text(request(destination, peer=peer, tok=tok, path=f"/{value}", method=value))
    assert terminal(text) == text
    assert not any(char in text for char in "\x00\x1b\x7f\x9b\n\u202e")


def test_a_plain_value_is_not_quoted_and_a_quote_is_closed() -> None:
    """Shell-style quoting: safe words as they are, single quotes otherwise."""
    assert shell_quote("GET") == "GET"
    assert shell_quote("a b") == "'a b'"
    assert shlex.split(shell_quote("it's")) == ["it's"]
    assert shell_quote("a\x1bb") == "$'a\\x1bb'"
    assert shell_quote("it's\n") == "$'it\\'s\\n'"


def test_json_keeps_the_structured_fields_and_adds_the_curl_text() -> None:
    """`text` stays the request as before (scripts may match it); `curl` is what people read."""
    from migrate.render.verify import _request_data

    sent = request(peer=PLAIN, tok=token(), path="/api")
    data = _request_data(sent)
    assert data["text"] == str(sent)
    assert data["curl"] == request_text(sent)
    assert data["path"] == "/api"
    assert data["token"] == str(sent.token)
