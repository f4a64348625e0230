"""`tls-check`: the status rules of istioctl's tls-check (§E.1) and the client-side rule
lookup (§E.2), on the bookinfo story and on table cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrate.cli import app
from migrate.tlscheck import Rule, _client, _status, tls_check
from migrate.workspace import open_workspace

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


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
    assert _client(rules, client, HOST, 80, "istio-system") == expected
