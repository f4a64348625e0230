"""`review` on throwaway git repositories: a base with alpha policies, heads with our
conversion, a correct hand-written migration, and broken ones."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from manifests import deployment, service
from repo_kit import git

from migrate.commands.review import FailOn, review
from migrate.semantics.equivalence import Change

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

APP = "---\n".join(
    [service("shop"), service("shop", "admin"), deployment("shop"), deployment("shop", "admin")]
)
ALPHA = """\
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: shop}
spec:
  peers: [{mtls: {}}]
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: web-jwt, namespace: shop}
spec:
  targets: [{name: web}]
  peers: [{mtls: {}}]
  origins:
  - jwt:
      issuer: https://id.example
      jwksUri: https://id.example/keys
      triggerRules: [{includedPaths: [{prefix: /api}]}]
  principalBinding: USE_ORIGIN
"""
HAND_WRITTEN = """\
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: web-jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  jwtRules:
  - {issuer: https://id.example, jwksUri: https://id.example/keys, forwardOriginalToken: true}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: web-require-jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  action: DENY
  rules:
  - to: [{operation: {ports: ["8080"], paths: ["/api*"]}}]
    when: [{key: "request.auth.claims[iss]", notValues: [https://id.example]}]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A repository whose first commit holds the app and its alpha policies."""
    git(tmp_path, "init", "-q")
    (tmp_path / "app.yaml").write_text(APP)
    (tmp_path / "authn.yaml").write_text(ALPHA)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


def _changes(report: object) -> dict[Change, int]:
    return {c: report.verify.count(c) for c in Change}  # type: ignore[attr-defined]


def test_our_conversion_reviews_clean_and_pairs_by_annotation(repo: Path) -> None:
    """(a) Our own conversion: nothing looser, each removed policy paired by provenance."""
    from migrate.commands.convert import convert_paths
    from migrate.rewrite.files import write_atomically

    result = convert_paths(["."])
    write_atomically(result.changes, [repo])
    report = review("HEAD", ["."])
    assert _changes(report)[Change.LOOSER] == 0
    assert {p.how for p in report.pairings} == {"annotation"}
    assert int(report.exit_code()) == 0
    assert report.namespaces["shop"]["removed"] == ["Policy shop/default", "Policy shop/web-jwt"]


def test_correct_hand_written_migration_is_not_looser(repo: Path) -> None:
    """(b) A hand-written migration that is right: no looser difference, paired by scope."""
    (repo / "authn.yaml").write_text(HAND_WRITTEN)
    report = review("HEAD", ["."])
    assert _changes(report)[Change.LOOSER] == 0
    assert {p.how for p in report.pairings} == {"scope"}
    assert int(report.exit_code(FailOn.LOOSER)) == 0


@pytest.mark.parametrize(
    ("broken", "witness"),
    [
        pytest.param(
            HAND_WRITTEN.split(
                "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy", maxsplit=1
            )[0],
            "/api",
            id="deny-dropped",
        ),
        pytest.param(HAND_WRITTEN.replace('"/api*"', '"/api/*"'), "/api", id="prefix-mistyped"),
        pytest.param(
            HAND_WRITTEN.replace("{app: web}}\n  action", "{app: admin}}\n  action"),
            "web.shop:80",
            id="wrong-selector",
        ),
    ],
)
def test_broken_migrations_are_looser(repo: Path, broken: str, witness: str) -> None:
    """(c) A dropped DENY, a mistyped prefix, a wrong selector: looser, exit 3, a witness."""
    (repo / "authn.yaml").write_text(broken)
    report = review("HEAD", ["."])
    assert _changes(report)[Change.LOOSER] > 0
    assert int(report.exit_code()) == 3
    looser = [c for c in report.verify.causes if c.change is Change.LOOSER]
    assert any(witness in str(c.witness) for c in looser), [str(c.witness) for c in looser]


def test_wrong_selector_is_flagged_as_reaching_other_workloads(repo: Path) -> None:
    """A new resource selecting pods the old policy never reached gets AM514."""
    (repo / "authn.yaml").write_text(
        HAND_WRITTEN.replace("{app: web}}\n  action", "{app: admin}}\n  action")
    )
    report = review("HEAD", ["."])
    codes = {f.code: f for f in report.findings}
    assert "AM514" in codes
    assert "Deployment shop/admin" in codes["AM514"].message


def test_fail_on_chooses_what_fails(repo: Path) -> None:
    """--fail-on stricter fails on a stricter-only change; never fails on nothing."""
    (repo / "authn.yaml").write_text(HAND_WRITTEN.replace('"/api*"', '"/*"'))
    report = review("HEAD", ["."])
    assert _changes(report)[Change.LOOSER] == 0
    assert _changes(report)[Change.STRICTER] > 0
    assert int(report.exit_code(FailOn.LOOSER)) == 0
    assert int(report.exit_code(FailOn.STRICTER)) == 1
    assert int(report.exit_code(FailOn.NEVER)) == 0


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    """A base that is not a revision names it."""
    from migrate.load.gitread import GitError

    with pytest.raises(GitError, match="unknown revision 'nope'"):
        review("nope", ["."])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--base", "nosuchrev"],
            "--base nosuchrev: unknown revision 'nosuchrev'",
            id="bad-revision",
        ),
        pytest.param(["--base", "HEAD", "elsewhere"], "elsewhere is not in a git", id="no-repo"),
    ],
)
def test_git_errors_are_one_line_usage_errors(
    repo: Path, args: list[str], message: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A base that is not a revision, or a path outside any repository, is the user's error:
    exit 2 and one line naming it, no internal error or traceback."""
    from typer.testing import CliRunner

    from migrate.cli import app

    outside = tmp_path_factory.mktemp("outside")
    (repo / "elsewhere").symlink_to(outside, target_is_directory=True)
    result = CliRunner().invoke(app, ["review", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_repository_is_found_from_the_path_given(repo: Path) -> None:
    """Run from outside the repository, `review` reads the base of the repository that holds
    the path it is given."""
    from typer.testing import CliRunner

    from migrate.cli import app

    (repo / "authn.yaml").write_text(HAND_WRITTEN)
    os.chdir(repo.parent)
    result = CliRunner().invoke(app, ["review", "--base", "HEAD", repo.name])
    assert result.exit_code == 0, result.output
    assert "Policy shop/web-jwt" in result.output


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "review"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("output", ["text", "markdown", "json", "sarif", "github", "gitlab"])
def test_every_format_renders_a_broken_review(
    repo: Path, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each -o format of a review with a dropped DENY matches its golden file; JSON and SARIF
    validate against their schemas; the exit code is 3 whatever the format."""
    import json

    from typer.testing import CliRunner

    from migrate.cli import app

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (repo / "authn.yaml").write_text(
        HAND_WRITTEN.split(
            "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy", maxsplit=1
        )[0]
    )
    result = CliRunner().invoke(
        app, ["review", "--base", "HEAD", "-o", output, "--output-file", "report.out"]
    )
    assert result.exit_code == 3, result.output
    text = (repo / "report.out").read_text()
    if output == "json":
        _validate(json.loads(text), "review-report.schema.json")
    if output == "sarif":
        from jsonschema.validators import validator_for

        schema = json.loads((SCHEMAS / "external" / "sarif-2.1.0.schema.json").read_text())
        validator_for(schema)(schema).validate(json.loads(text))
    golden = GOLDEN / f"dropped-deny.{output}"
    if os.environ.get("AUTHN_MIGRATE_REGEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def _validate(data: object, name: str) -> None:
    import json

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*report.schema.json")}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    Draft202012Validator(schemas[name], registry=registry).validate(data)


def test_markdown_stays_under_the_comment_limit() -> None:
    """A report longer than GitHub's comment limit is cut with a note, under the limit."""
    from migrate.render.review import _fit

    text = _fit(["### head"], [f"| row {i} | " + "x" * 100 + " |" for i in range(2000)], 65_536)
    assert len(text) <= 65_536
    assert "Truncated to fit a comment" in text


def test_review_reports_a_client_that_now_conflicts(repo: Path) -> None:
    """A migration that makes a PERMISSIVE namespace STRICT while a DestinationRule sends
    plaintext: the pair that was OK is reported as a new CONFLICT with the fix (AM602)."""
    (repo / "authn.yaml").write_text(
        ALPHA.replace("peers: [{mtls: {}}]\n---", "peers: [{mtls: {mode: PERMISSIVE}}]\n---", 1)
    )
    (repo / "dr.yaml").write_text(
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: admin, namespace: shop}\n"
        "spec:\n  host: admin\n  trafficPolicy: {tls: {mode: DISABLE}}\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "permissive")
    (repo / "authn.yaml").write_text(HAND_WRITTEN)
    report = review("HEAD", ["."])
    (finding,) = [f for f in report.findings if f.code == "AM602"]
    assert "admin.shop.svc.cluster.local:80 were OK and now CONFLICT" in finding.message
    assert "set tls.mode ISTIO_MUTUAL in admin/shop" in finding.hint


def test_review_reports_a_conflict_made_by_a_changed_destination_rule(repo: Path) -> None:
    """Only a DestinationRule changes, not any server mode: the pairs its host covers are
    still compared, and the new DISABLE against STRICT is a new CONFLICT (AM602)."""
    (repo / "dr.yaml").write_text(
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: admin, namespace: shop}\n"
        "spec:\n  host: admin\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mutual")
    (repo / "dr.yaml").write_text((repo / "dr.yaml").read_text().replace("ISTIO_MUTUAL", "DISABLE"))
    report = review("HEAD", ["."])
    (finding,) = [f for f in report.findings if f.code == "AM602"]
    assert "admin.shop.svc.cluster.local:80 were OK and now CONFLICT" in finding.message


def test_a_rule_in_another_namespace_naming_a_host_is_compared(repo: Path) -> None:
    """A DestinationRule of namespace cart naming shop's admin service changes to DISABLE
    while no server changes: no namespace holds a changed policy, Service or workload, yet
    the pair from cart is a new CONFLICT (a moved client rule compares every namespace)."""
    rule = (
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: to-admin, namespace: cart}\n"
        "spec:\n  host: admin.shop.svc.cluster.local\n"
        "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"
    )
    (repo / "cart.yaml").write_text(service("cart") + "---\n" + deployment("cart"))
    (repo / "dr.yaml").write_text(rule)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "cart")
    (repo / "dr.yaml").write_text(rule.replace("ISTIO_MUTUAL", "DISABLE"))
    report = review("HEAD", ["."])
    (finding,) = [f for f in report.findings if f.code == "AM602"]
    assert "admin.shop.svc.cluster.local:80 were OK and now CONFLICT" in finding.message


def test_client_conflicts_are_looked_for_where_the_change_reaches(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change confined to shop looks for new client conflicts at shop's servers only; one
    that moves a client rule, everywhere."""
    import migrate.commands.review as module

    asked: list[set[str] | None] = []
    real = module.tls_regressions

    def spy(*args: object, **kwargs: object) -> object:
        asked.append(kwargs.get("namespaces"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "tls_regressions", spy)
    (repo / "cart.yaml").write_text(service("cart") + "---\n" + deployment("cart"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "cart")
    (repo / "authn.yaml").write_text(HAND_WRITTEN)
    review("HEAD", ["."])
    (repo / "dr.yaml").write_text(
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: admin, namespace: shop}\n"
        "spec:\n  host: admin\n  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"
    )
    review("HEAD", ["."])
    assert asked == [{"shop"}, None]
