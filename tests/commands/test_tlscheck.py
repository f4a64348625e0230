"""`tls-check`: the status rules of istioctl's tls-check (§E.1) and the client-side rule
lookup (§E.2), on the bookinfo story and on table cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from migrate.cli import app
from migrate.semantics.tls import Rule, _client, _status, tls_check
from migrate.workspace import open_workspace

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_bookinfo_story_conflict_for_every_traffic_generator() -> None:
    """The namespace STRICT policy against destrule-productpage's DISABLE: CONFLICT, named
    `default/bookinfo` and `destrule-productpage/bookinfo`, as the debugging story showed."""
    rows = tls_check(open_workspace([str(EXAMPLES / "bookinfo")]))
    conflicts = {(r.client, r.host, r.policy, r.rule) for r in rows if r.status == "CONFLICT"}
    assert conflicts == {
        (
            client,
            "productpage.bookinfo.svc.cluster.local",
            "default/bookinfo",
            "destrule-productpage/bookinfo",
        )
        for client in ("bookinfo", "loadgen-a", "loadgen-b", "loadgen-c")
    }


def test_cli_exits_1_on_conflicts_and_filters_by_client() -> None:
    """Conflicts exit 1; --client limits the table to one client namespace."""
    result = CliRunner().invoke(
        app,
        [
            "tls-check",
            str(EXAMPLES / "bookinfo"),
            "-o",
            "json",
            "--client",
            "loadgen-c",
            "--host",
            "productpage",
        ],
    )
    assert result.exit_code == 1, result.output
    assert '"status": "CONFLICT"' in result.stdout
    assert '"client": "loadgen-c"' in result.stdout
    assert "loadgen-a" not in result.stdout


@pytest.mark.parametrize(
    ("client", "server", "auto", "status"),
    [
        pytest.param(None, "STRICT", True, "AUTO", id="unset-auto"),
        pytest.param(None, "STRICT", False, "OK", id="unset-no-auto-quirk"),
        pytest.param("DISABLE", "DISABLE", True, "OK", id="disable-disable"),
        pytest.param("ISTIO_MUTUAL", "STRICT", True, "OK", id="mutual-strict"),
        pytest.param("DISABLE", "PERMISSIVE", True, "OK", id="disable-permissive"),
        pytest.param("DISABLE", "STRICT", True, "CONFLICT", id="disable-strict"),
        pytest.param("ISTIO_MUTUAL", "DISABLE", True, "CONFLICT", id="mutual-disable"),
        pytest.param("SIMPLE", "PERMISSIVE", True, "CONFLICT", id="simple-conflicts"),
    ],
)
def test_status_rules(client: str | None, server: str, auto: bool, status: str) -> None:
    """§E.1 EvaluateTLSState, including the quirk that unset is OK against STRICT."""
    assert _status(client, server, auto) == status


def _rule(
    name: str,
    namespace: str,
    host: str,
    spec: dict[str, object],
    *,
    exported: bool = True,
    created: str = "",
) -> Rule:
    return Rule(name, namespace, host, exported, {"host": host, **spec}, created)


TLS = {"trafficPolicy": {"tls": {"mode": "DISABLE"}}}
MUTUAL = {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}
HOST = "web.shop.svc.cluster.local"


@pytest.mark.parametrize(
    ("rules", "client", "expected"),
    [
        pytest.param(
            [
                _rule("mine", "cli", HOST, TLS, exported=False),
                _rule("theirs", "shop", HOST, MUTUAL),
            ],
            "cli",
            ("mine/cli", "DISABLE"),
            id="client-namespace-first-even-private",
        ),
        pytest.param(
            [
                _rule("private", "shop", HOST, TLS, exported=False),
                _rule("mesh", "istio-system", "*.local", MUTUAL),
            ],
            "cli",
            ("mesh/istio-system", "ISTIO_MUTUAL"),
            id="private-service-rule-skipped",
        ),
        pytest.param(
            [
                _rule("wild", "shop", "*.shop.svc.cluster.local", TLS),
                _rule("exact", "shop", HOST, MUTUAL),
            ],
            "cli",
            ("exact/shop", "ISTIO_MUTUAL"),
            id="exact-before-wildcard",
        ),
        pytest.param(
            [
                _rule("mine", "istio-system", HOST, TLS, exported=False),
                _rule("svc", "shop", HOST, MUTUAL),
            ],
            "istio-system",
            ("svc/shop", "ISTIO_MUTUAL"),
            id="root-client-skips-own-namespace",
        ),
        pytest.param(
            [
                _rule(
                    "ports",
                    "shop",
                    HOST,
                    {
                        "trafficPolicy": {
                            "tls": {"mode": "DISABLE"},
                            "portLevelSettings": [
                                {"port": {"number": 80}, "loadBalancer": {"simple": "LEAST_CONN"}}
                            ],
                        }
                    },
                )
            ],
            "cli",
            ("ports/shop", None),
            id="port-level-without-tls-resets",
        ),
        pytest.param(
            [
                _rule("new", "shop", HOST, TLS, created="2020-02-01"),
                _rule("old", "shop", HOST, MUTUAL, created="2020-01-01"),
            ],
            "cli",
            ("old/shop", "ISTIO_MUTUAL"),
            id="same-host-oldest-policy-wins",
        ),
    ],
)
def test_client_rule_lookup(
    rules: list[Rule], client: str, expected: tuple[str, str | None]
) -> None:
    """§E.2: which rule a client's proxy uses and its TLS mode for port 80."""
    assert _client(rules, client, HOST, 80, "istio-system")[:2] == expected


def test_fix_turns_the_bookinfo_conflict_ok_and_keeps_least_conn(tmp_path: Path) -> None:
    """--fix --write changes only destrule-productpage's tls mode; no conflict remains."""
    import shutil

    repo = tmp_path / "bookinfo"
    shutil.copytree(EXAMPLES / "bookinfo", repo)
    rules = repo / "bookinfo" / "destination-rules.yaml"
    before = rules.read_text().splitlines()
    result = CliRunner().invoke(app, ["tls-check", str(repo), "--fix", "--write"])
    assert result.exit_code == 0, result.output
    after = rules.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("      mode: DISABLE", "      mode: ISTIO_MUTUAL")]
    assert "simple: LEAST_CONN" in rules.read_text()
    again = CliRunner().invoke(app, ["tls-check", str(repo)])
    assert again.exit_code == 0, again.output


MODES_DR = st.sampled_from(["DISABLE", "ISTIO_MUTUAL", "SIMPLE"])


@st.composite
def conflicting_repos(draw: st.DrawFn) -> str:
    server = draw(
        st.sampled_from(["", "  peers: [{mtls: {}}]\n", "  peers: [{mtls: {mode: PERMISSIVE}}]\n"])
    )
    docs = [
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
        "spec: {selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}, "
        "{name: grpc, port: 90, targetPort: 9090}]}\n"
    ]
    if server:
        docs.append(
            "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
            f"metadata: {{name: default, namespace: shop}}\nspec:\n{server}"
        )
    policy = [f"    loadBalancer: {{simple: {draw(st.sampled_from(['LEAST_CONN', 'RANDOM']))}}}\n"]
    if draw(st.booleans()):
        policy.append(f"    tls: {{mode: {draw(MODES_DR)}}}\n")
    if draw(st.booleans()):
        tls = f", tls: {{mode: {draw(MODES_DR)}}}" if draw(st.booleans()) else ""
        policy.append(
            f"    portLevelSettings:\n    - {{port: {{number: 90}}, "
            f"connectionPool: {{tcp: {{maxConnections: 7}}}}{tls}}}\n"
        )
    docs.append(
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: web, namespace: shop}\nspec:\n  host: web\n"
        "  trafficPolicy:\n" + "".join(policy)
    )
    return "---\n".join(docs)


@settings(max_examples=100)
@given(text=conflicting_repos())
def test_applying_the_fix_leaves_no_conflict_and_only_tls_changes(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """After the --fix edits no CONFLICT remains, and every trafficPolicy field but tls is as
    it was."""
    import yaml

    from migrate.commands.tls_fix import fix
    from migrate.rewrite.files import write_atomically

    folder = tmp_path_factory.mktemp("repo")
    (folder / "all.yaml").write_text(text)
    changes, manual = fix(open_workspace([str(folder)]))
    assert manual == []
    write_atomically(changes, [folder])
    assert all(r.status != "CONFLICT" for r in tls_check(open_workspace([str(folder)])))

    def without_tls(source: str) -> object:
        rule = next(d for d in yaml.safe_load_all(source) if d["kind"] == "DestinationRule")
        policy = rule["spec"]["trafficPolicy"]
        policy.pop("tls", None)
        for setting in policy.get("portLevelSettings", []):
            setting.pop("tls", None)
        return rule

    assert without_tls((folder / "all.yaml").read_text()) == without_tls(text)


def test_longest_wildcard_wins_among_wildcards() -> None:
    """§E.2: among wildcard hosts the longest (most specific) one is used."""
    rules = [
        _rule("wide", "shop", "*.local", TLS),
        _rule("narrow", "shop", "*.shop.svc.cluster.local", MUTUAL),
    ]
    assert _client(rules, "cli", HOST, 80, "istio-system")[:2] == ("narrow/shop", "ISTIO_MUTUAL")


def test_only_the_first_export_to_entry_counts_and_short_hosts_are_local() -> None:
    """§E.2: `exportTo: [".", "*"]` is private (first entry); a short host is the rule's own
    namespace's service."""
    from migrate.load.documents import Document, Origin
    from migrate.model.inventory import Placed
    from migrate.semantics.tls import _rule as read_rule

    doc = Document(
        Origin("r.yaml", 0, 1, 1),
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "DestinationRule",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"host": "web", "exportTo": [".", "*"]},
        },
    )
    rule = read_rule(Placed(doc, "shop"))
    assert rule is not None
    assert (rule.host, rule.exported) == (HOST, False)


def test_subset_rows_use_only_the_subsets_own_policy() -> None:
    """§E.1: a row per subset, whose CLIENT is the subset's own tls (not the top level)."""
    from migrate.load.documents import Document, Origin
    from migrate.model.inventory import Placed
    from migrate.semantics.tls import _rule as read_rule
    from migrate.semantics.tls import _subsets

    doc = Document(
        Origin("r.yaml", 0, 1, 1),
        {
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "DestinationRule",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "host": "web",
                "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
                "subsets": [
                    {"name": "v1", "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
                    {"name": "v2"},
                ],
            },
        },
    )
    rule = read_rule(Placed(doc, "shop"))
    assert rule is not None
    assert _subsets([rule], 80) == [("v1", "DISABLE"), ("v2", None)]


def _kustomized_shop(folder: Path) -> Path:
    """A kustomization placing everything in `shop`: web's STRICT policy and a DestinationRule
    for web that sends plaintext; none of the documents writes its namespace. Beside it,
    `other/` holds a rule of the same name written in `default`, which `--fix` must not edit."""
    shop = folder / "shop"
    shop.mkdir()
    (shop / "kustomization.yaml").write_text(
        "namespace: shop\nresources: [app.yaml, policy.yaml, rule.yaml]\n"
    )
    from manifests import app

    (shop / "app.yaml").write_text(app("shop").replace(", namespace: shop", ""))
    (shop / "policy.yaml").write_text(
        "apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\n"
        "metadata: {name: default}\nspec:\n  peers: [{mtls: {}}]\n"
    )
    rule = (
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {{name: web{namespace}}}\n"
        "spec:\n  host: {host}\n  trafficPolicy:\n    tls: {{mode: DISABLE}}\n"
    )
    (shop / "rule.yaml").write_text(rule.format(namespace="", host="web"))
    other = folder / "other"
    other.mkdir()
    (other / "rule.yaml").write_text(
        rule.format(namespace=", namespace: default", host="web.elsewhere.svc.cluster.local")
    )
    return folder


def test_destination_rules_take_their_namespace_from_the_kustomization(tmp_path: Path) -> None:
    """A DestinationRule without metadata.namespace is in its kustomization's namespace, as
    scan places it (AM013): its plaintext to STRICT web is a CONFLICT, and --fix edits that
    rule, not the one of the same name written in `default`."""
    repo = _kustomized_shop(tmp_path)
    rows = tls_check(open_workspace([str(repo)]))
    web = {(r.status, r.rule) for r in rows if r.host == "web.shop.svc.cluster.local"}
    assert web == {("CONFLICT", "web/shop")}
    result = CliRunner().invoke(app, ["tls-check", str(repo), "--fix", "--write"])
    assert result.exit_code == 0, result.output
    assert "mode: ISTIO_MUTUAL" in (repo / "shop" / "rule.yaml").read_text()
    assert "mode: DISABLE" in (repo / "other" / "rule.yaml").read_text()


def test_the_compact_table_reads_as_every_client_computed_alone(tmp_path: Path) -> None:
    """Clients without DestinationRules of their own share one computation: the rows, the
    conflicts and the counts are those of computing every client namespace on its own (the
    reference enumeration), whether a client has rules or not. In the
    shop repository, with two more namespaces, the conflict sits in the shared rows (every
    namespace resolves web through shop's rule), so each client gets it under its own
    name."""
    from collections import Counter

    from manifests import app

    from migrate.semantics.tls import _Table

    shop = _kustomized_shop(tmp_path)
    (shop / "more.yaml").write_text(app("a") + "---\n" + app("b"))  # two clients, no rules
    for workspace in (
        open_workspace([str(EXAMPLES / "bookinfo")]),
        open_workspace([str(shop)]),
    ):
        check = tls_check(workspace)
        reference = _Table(workspace, None, None).rows((), (), None)
        assert list(check) == reference
        assert list(check.conflicts()) == [r for r in reference if r.status == "CONFLICT"]
        assert check.counts() == Counter(r.status for r in reference)
        assert any(r.status == "CONFLICT" for r in reference)
    shared = [r for r in check.conflicts() if r.host == "web.shop.svc.cluster.local"]
    assert [r.client for r in shared] == ["a", "b", "shop"]


def test_regressions_of_clients_without_rules_are_found_once_and_named_for_each(
    tmp_path: Path,
) -> None:
    """web turns STRICT while shop's rule sends plaintext: every client namespace that reads
    that rule (a and b have no rules of their own, shop has) now conflicts, one AM602 each,
    as the reference enumeration of every client and port finds them."""
    from manifests import app

    from migrate.semantics.tls import _Table, regressions, tls_regressions

    shop = _kustomized_shop(tmp_path)
    (shop / "more.yaml").write_text(app("a") + "---\n" + app("b"))
    before = open_workspace([str(shop)])
    (shop / "shop" / "policy.yaml").write_text("")
    start = open_workspace([str(shop)])  # no policy: PERMISSIVE, and plaintext is OK
    calls = []
    row_set = _Table.row_set

    def counted(table: _Table, client: str, key: tuple[str, str, int]) -> list[object]:
        calls.append(client)
        return row_set(table, client, key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_Table, "row_set", counted)
        found = tls_regressions(start, before)
    assert [f.message.split(" -> ")[0] for f in found] == [
        "clients in a",
        "clients in b",
        "clients in shop",
    ]
    assert len(calls) == 4  # per side: the shared rows once, and shop's (not a, b and shop)
    reference = regressions(
        _Table(start, None, None).rows((), (), None), _Table(before, None, None).rows((), (), None)
    )
    assert found == reference
