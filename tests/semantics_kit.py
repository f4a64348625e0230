"""Building configurations and requests for the semantic tests from short YAML texts."""

from __future__ import annotations

from migrate.load.documents import Document, parse_text
from migrate.load.sourcefile import decode
from migrate.model.alpha import build_alpha, is_alpha_policy
from migrate.model.beta import build_beta, is_beta_resource
from migrate.model.inventory import Inventory, add_to_inventory
from migrate.semantics.decide import Applicable
from migrate.semantics.request import (
    DEFAULT_PEER,
    FOREIGN_PEER,
    Claims,
    Destination,
    Peer,
    Request,
    Signature,
    Token,
    Transport,
)
from migrate.semantics.side import Settings, Side
from migrate.semantics.space import Site, applicable

APP = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8000, targetPort: 80}
  - {name: tcp-db, port: 9000, targetPort: 90}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 80, name: http}, {containerPort: 90}]
"""
WEB = Site("ns", "web", (("app", "web"),))
HTTP = Destination("ns", "web", 80, True, "web", 8000, "http")
TCP = Destination("ns", "web", 90, False, "web", 9000, "tcp-db")
PLAIN = Peer(Transport.PLAINTEXT)
MTLS = Peer(Transport.MTLS, DEFAULT_PEER, "default")
FOREIGN = Peer(Transport.MTLS, FOREIGN_PEER, "default", foreign=True)


def documents(text: str) -> list[Document]:
    """The documents of a YAML text."""
    docs, findings, _ = parse_text(decode("t.yaml", text.encode()))
    assert not findings, findings
    return docs


SHARED_APP = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8000, targetPort: 80}
  - {name: db, port: 9000, targetPort: 90}
---
apiVersion: v1
kind: Service
metadata: {name: admin, namespace: ns}
spec:
  selector: {app: web}
  ports:
  - {name: tcp-admin, port: 8100, targetPort: 80}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 80, name: http}, {containerPort: 90}]
"""
"""The web workload as Istio cannot quite tell it: its port 9000 names no protocol (sniffing
decides), and container port 80 is behind two Services (either may build its listener)."""


def side(text: str, settings: Settings | None = None, app: str = APP) -> tuple[Side, Inventory]:
    """A configuration and its inventory from YAML (namespace `ns` when unset)."""
    inventory = Inventory()
    alpha, beta = [], []
    for doc in documents(app + "---\n" + text if text.strip() else app):
        namespace = doc.declared_namespace or ("" if doc.kind == "MeshPolicy" else "ns")
        if is_alpha_policy(doc):
            alpha.append(build_alpha(doc, namespace))
        elif is_beta_resource(doc):
            beta.append(build_beta(doc, namespace))
        else:
            add_to_inventory(inventory, doc, namespace)
    return Side.build(settings or Settings(), alpha, beta), inventory


def applies(
    text: str, destination: Destination = HTTP, settings: Settings | None = None
) -> Applicable:
    """What applies to `destination` on the web workload under the configuration `text`."""
    built, _ = side(text, settings)
    return applicable(built, WEB, destination)


def token(
    issuer: str = "iss",
    *,
    where: tuple[str, str, str] = ("header", "authorization", "Bearer "),
    sub: bool = True,
    aud: str = "aud",
    valid: bool = True,
) -> Token:
    """A token at a place in the request."""
    kind, name, prefix = where
    signature = Signature.VALID if valid else Signature.INVALID
    return Token(kind, name, prefix, Claims(issuer, sub, aud, signature))


def request(
    destination: Destination = HTTP,
    *,
    peer: Peer = PLAIN,
    tok: Token | None = None,
    path: str = "/",
    method: str = "GET",
    headers: tuple[tuple[str, str], ...] = (),
) -> Request:
    """A request to the web workload."""
    return Request(destination, peer, tok, path, method, headers)
