"""The converter and the prover agree, in every world the inputs leave open.

For generated repositories that hold the shapes where Istio's behaviour depends on more than
the policies (duplicate definitions in one file and across files, Service ports without a
protocol prefix, container ports behind several Service ports, JWT origins without keys,
PeerAuthentications already in place) and for each Istio release set and sniffing setting,
`convert` either leaves a policy unconverted with a reason or produces resources that its own
proof finds not looser; and brute force over concrete requests, on every release pair and
arrangement of duplicates, finds no request the converted repository allows that the original
refused.

CI runs a few dozen repositories (profile "ci", derandomized); HYPOTHESIS_PROFILE=long runs
hundreds."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from test_crosscheck import BOUNDARY

from migrate.commands.convert import convert_paths
from migrate.model.releases import parse_releases
from migrate.semantics.arrangements import arrangements
from migrate.semantics.environment import Environment
from migrate.semantics.equivalence import Change, differ
from migrate.semantics.proof import VerifyOptions, classes, merge_inventories, side_settings
from migrate.semantics.side import Settings, Side
from migrate.semantics.space import requests
from migrate.semantics.worlds import worlds
from migrate.workspace import open_workspace

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = 2_000 if LONG else 150
A = "apiVersion: authentication.istio.io/v1alpha1\n"
PORT_NAMES = ["http", "http-api", "web", "", "tcp-db", "grpc", "admin"]
ISSUERS = ["https://a.example", "https://b.example"]
PATHS = ["{exact: /health}", "{prefix: /api/}", "{suffix: .js}", "{prefix: /}"]


@st.composite
def services(draw: st.DrawFn) -> str:
    """Service web (one to three ports, maybe two onto one container port), maybe a second
    Service onto the same pods, and the Deployment with container ports 8080 and 9090."""
    docs = []
    ports = []
    for index in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(PORT_NAMES))
        name = f"{name}-{index}" if name and name not in ("http", "web", "grpc") else name
        name = name or ("" if index == 0 else f"p{index}")
        target = draw(st.sampled_from([8080, 9090, "main"]))
        ports.append(f"  - {{name: '{name}', port: {80 + index}, targetPort: {target!r}}}")
    docs.append(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec:\n"
        "  selector: {app: web}\n  ports:\n" + "\n".join(ports).replace("'main'", "main")
    )
    if draw(st.booleans()):
        name = draw(st.sampled_from(["http-admin", "admin", "tcp-x"]))
        docs.append(
            "apiVersion: v1\nkind: Service\nmetadata: {name: web2, namespace: ns}\nspec:\n"
            f"  selector: {{app: web}}\n  ports:\n  - {{name: {name}, port: 8081, "
            "targetPort: 8080}"
        )
    docs.append(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec:\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "      - name: web\n        ports: [{containerPort: 8080, name: main}, "
        "{containerPort: 9090}]"
    )
    return "---\n".join(d + "\n" for d in docs)


@st.composite
def alpha_policy(draw: st.DrawFn, name: str) -> str:
    """A Policy or the MeshPolicy: any scope, mTLS mode, origins with or without keys."""
    scope = draw(st.sampled_from(["mesh", "namespace", "service", "port", "web2"]))
    if scope == "mesh":
        head = f"{A}kind: MeshPolicy\nmetadata: {{name: default}}\nspec:\n"
    elif scope == "namespace":
        head = f"{A}kind: Policy\nmetadata: {{name: default, namespace: ns}}\nspec:\n"
    else:
        target = {
            "service": "[{name: web}]",
            "port": f"[{{name: web, ports: [{{number: {draw(st.sampled_from([80, 81]))}}}]}}]",
            "web2": "[{name: web2}]",
        }[scope]
        head = f"{A}kind: Policy\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n"
        head += f"  targets: {target}\n"
    body = draw(
        st.sampled_from(["", "  peers: [{mtls: {}}]\n", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"])
    )
    issuers = draw(st.lists(st.sampled_from(ISSUERS), max_size=2, unique=True))
    if issuers:
        body += "  origins:\n"
        for issuer in issuers:
            body += f"  - jwt:\n      issuer: {issuer}\n"
            if draw(st.booleans()):
                body += f"      jwksUri: {issuer}/keys\n"
            if draw(st.booleans()):
                included = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=2))
                body += f"      triggerRules: [{{includedPaths: [{', '.join(included)}]}}]\n"
        if draw(st.booleans()):
            body += "  originIsOptional: true\n"
        if draw(st.booleans()):
            body += "  principalBinding: USE_ORIGIN\n"
    return head + body


NEIGHBOUR = (
    "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: two}\n"
    "spec: {selector: {app: db}, ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: two}\nspec:\n"
    "  template:\n    metadata: {labels: {app: db}}\n"
    "    spec: {containers: [{name: db, ports: [{containerPort: 8080}]}]}\n---\n"
    f"{A}kind: Policy\nmetadata: {{name: default, namespace: two}}\nspec:\n"
)
"""Namespace two: a Service, its pods and a namespace policy, whose peers are drawn."""


@st.composite
def repository(draw: st.DrawFn) -> dict[str, str]:
    """Files of a repository: the app, policies (a later duplicate in one file, maybe one in
    another file), maybe a PeerAuthentication already converted, maybe a second namespace
    whose policy may convert looser (a peer JWT Istio never honoured), so that only part of
    the conversion is written."""
    files = {"app.yaml": draw(services())}
    if draw(st.booleans()):
        files["two/all.yaml"] = NEIGHBOUR + draw(
            st.sampled_from(
                [
                    "  peers: [{jwt: {issuer: https://a.example}}]\n",
                    "  peers: [{mtls: {}}]\n",
                    "  peers: [{mtls: {mode: PERMISSIVE}}, {jwt: {issuer: https://a.example}}]\n",
                ]
            )
        )
    policies = [draw(alpha_policy(n)) for n in ("p", "q")[: draw(st.integers(1, 2))]]
    if draw(st.booleans()):
        policies.append(draw(alpha_policy("p")))  # redefines p (or a default) in the file
    files["authn.yaml"] = "---\n".join(policies)
    if draw(st.integers(0, 4)) == 0:
        files["other/authn.yaml"] = draw(alpha_policy("p"))  # an open apply order
    if draw(st.integers(0, 4)) == 0:
        files["pa.yaml"] = (
            "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
            "metadata: {name: default, namespace: ns}\nspec:\n  mtls: {mode: STRICT}\n"
        )
    return files


ENVIRONMENTS = st.tuples(
    st.sampled_from([None, "1.5.0", "1.5", "1.6", "1.4"]), st.sampled_from([None, True, False])
)


def _environment(choice: tuple[str | None, bool | None]) -> Environment:
    version, sniffing = choice
    environment = Environment(
        sniffing=sniffing, sniffing_from="test" if sniffing is not None else ""
    )
    if version is not None:
        environment = Environment(
            parse_releases(version), sniffing, version, environment.sniffing_from
        )
    return environment


def looser_requests(before: Path, after: Path, options: VerifyOptions) -> list[object]:
    """Concrete requests the tree `after` allows and `before` refused, on every release pair
    and arrangement of duplicates, at every boundary path of every request shape."""
    first, second = open_workspace([str(before)]), open_workspace([str(after)])
    settings_ = side_settings(options, second.root_namespace)
    old = Side.build(settings_, first.alpha, first.beta)
    new = Side.build(settings_, second.alpha, second.beta)
    inventory = merge_inventories(first.inventory, second.inventory)
    environment = options.environment
    pairs, _ = worlds(
        environment.releases,
        before=(bool(old.alpha), bool(old.beta)),
        after=(bool(new.alpha), bool(new.beta)),
    )
    found = []
    for arrangement in arrangements(old, new, inventory):
        groups = classes(
            arrangement.before, arrangement.after, arrangement.inventory, environment=environment
        )
        for group in groups:
            shapes = {(r.peer, r.token, r.method, r.headers): r for r in requests(group, raw=True)}
            for witness in shapes.values():
                for path in BOUNDARY if group.destination.http else [witness.path]:
                    concrete = witness.__class__(
                        witness.destination,
                        witness.peer,
                        witness.token,
                        path,
                        witness.method,
                        witness.headers,
                    )
                    for pair in pairs:
                        difference = differ(
                            group.before,
                            group.after,
                            concrete,
                            Settings(pair.before, old.settings.root_namespace),
                            Settings(pair.after, old.settings.root_namespace),
                        )
                        if difference is not None and difference.change is Change.LOOSER:
                            found.append((pair.label, arrangement.label, concrete))
    return found


def _app(web2: bool = False) -> str:
    ports = "  - {name: 'http', port: 80, targetPort: 8080}\n"
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec:\n"
        "  selector: {app: web}\n  ports:\n" + ports
    )
    if web2:
        text += (
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: web2, namespace: ns}\n"
            "spec:\n  selector: {app: web}\n  ports:\n"
            "  - {name: http-admin, port: 8081, targetPort: 8080}\n"
        )
    return text + (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n"
        "spec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "      - name: web\n        ports: [{containerPort: 8080, name: main}, "
        "{containerPort: 9090}]\n"
    )


MESH = f"{A}kind: MeshPolicy\nmetadata: {{name: default}}\nspec:\n"
NS = f"{A}kind: Policy\nmetadata: {{name: default, namespace: ns}}\nspec:\n"
PA = (
    "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
    "metadata: {name: default, namespace: ns}\nspec:\n  mtls: {mode: STRICT}\n"
)


def _service_policy(name: str, target: str, body: str) -> str:
    return (
        f"{A}kind: Policy\nmetadata: {{name: {name}, namespace: ns}}\nspec:\n"
        f"  targets: [{{name: {target}}}]\n{body}"
    )


def _origin(issuer: str, extra: str = "") -> str:
    return f"  origins:\n  - jwt:\n      issuer: {issuer}\n{extra}"


# repositories that once broke the property, kept as regression cases
@example(  # one MeshPolicy in two files, alike on both sides of the proof
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH + "---\n" + NS,
        "other/authn.yaml": MESH + _origin("https://a.example"),
    },
    choice=(None, None),
)
@example(  # a mesh RequestAuthentication would merge with the namespace's rule for its issuer
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH + _origin("https://a.example", "      jwksUri: https://a.example/k\n"),
        "other/authn.yaml": NS + _origin("https://a.example"),
        "pa.yaml": PA,
    },
    choice=(None, None),
)
@example(  # a mesh PeerAuthentication would override a policy left unconverted
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH + "---\n" + _service_policy("p", "web2", "  peers: [{mtls: {}}]\n"),
    },
    choice=(None, None),
)
@example(  # on 1.4.0-1.4.3 an included suffix saw the query string
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH,
        "other/authn.yaml": NS
        + _origin("https://a.example", "      triggerRules: [{includedPaths: [{suffix: .js}]}]\n"),
    },
    choice=("1.4", None),
)
@example(  # a container port two Services deliver to keeps the STRICT of the mesh policy
    files={
        "app.yaml": _app(web2=True),
        "authn.yaml": MESH + "  peers: [{mtls: {}}]\n---\n" + _service_policy("p", "web", ""),
    },
    choice=(None, None),
)
@example(  # two service policies on one workload, one issuer, other keys
    files={
        "app.yaml": _app(web2=True),
        "authn.yaml": _service_policy(
            "p", "web", _origin("https://a.example", "      jwksUri: https://a.example/k\n")
        )
        + "---\n"
        + _service_policy("q", "web2", _origin("https://a.example")),
        "pa.yaml": PA,
    },
    choice=(None, None),
)
@example(  # 1.6 does not enforce the mesh policy left behind: not skipped as unchanged
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH
        + _origin("https://b.example", "      jwksUri: https://b.example/k\n")
        + "---\n"
        + NS
        + _origin("https://b.example"),
        "pa.yaml": PA,
    },
    choice=("1.6", None),
)
@example(  # two converts looser: the rest is written, the mesh-wide policy waits for two
    files={
        "app.yaml": _app(),
        "authn.yaml": MESH + "  peers: [{mtls: {}}]\n---\n" + NS + "  peers: [{mtls: {}}]\n",
        "two/all.yaml": NEIGHBOUR + "  peers: [{jwt: {issuer: https://a.example}}]\n",
    },
    choice=(None, None),
)
@settings(max_examples=EXAMPLES)
@given(files=repository(), choice=ENVIRONMENTS)
def test_conversion_is_never_looser_than_its_input(
    files: dict[str, str], choice: tuple[str | None, bool | None]
) -> None:
    """`convert --write` either refuses or writes a repository (all of the conversion, or the
    part proven when the rest would be looser) that its proof and brute force find not looser,
    in every world considered."""
    options = VerifyOptions(environment=_environment(choice))
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        for name, text in files.items():
            (before / name).parent.mkdir(parents=True, exist_ok=True)
            (before / name).write_text(text)
        shutil.copytree(before, after)
        result = convert_paths([str(after)], verify_options=options)
        # a policy left unconverted stays in force as it was; only an upgrade can change it
        # (1.6 no longer enforces v1alpha1, 1.5 no longer matches trigger rules against the
        # query): a looser cause of converting everything must come from such a policy, on an
        # upgrade; or from a peer JWT, which Istio never honoured and no conversion keeps
        # (AM106): the proof catches it, and the rest is written without it (AM411)
        left = set(result.left)
        caught = {"Policy two/default"} if "jwt" in files.get("two/all.yaml", "") else set()
        whole = result.whole or result.report
        for cause in whole.causes:
            if cause.change is Change.LOOSER and not set(cause.before.decided_by) & caught:
                assert set(cause.before.decided_by) & left, str(cause.witness)
                shown = cause.worlds or whole.worlds
                assert all("->" in w for w in shown), shown
        if result.blocked or not result.changes:
            event("refused or nothing to write" if not result.blocked else "blocked")
            return
        # a conversion looser than the start is left out, the rest written (AM411)
        event("part written" if result.whole is not None else "written")
        if result.whole is not None:
            assert {"AM411"} <= set(result.left.values()), result.left
        for change in result.changes:
            if change.new is None:
                change.path.unlink()
            else:
                change.path.write_text(change.new)
        assert looser_requests(before, after, options) == []
