"""Folding the variants of one cause for people: causes that share their change, outcomes,
deciding resources, plaintext twin, worlds and kind of destination, and differ only in being a
CORS preflight, in the token sent or in being inherent, are one entry whose witness is the
plainest variant; machine outputs keep every cause."""

from __future__ import annotations

import io

from rich.console import Console
from semantics_kit import HTTP, MTLS, TCP, request, token

from migrate.render.fold import fold
from migrate.render.verify import render_markdown, render_text, verify_data
from migrate.semantics.equivalence import Cause, Change
from migrate.semantics.proof import VerifyReport
from migrate.semantics.request import UNCONFIGURED_ISSUER, Outcome, Request, Verdict

ALLOWED = Outcome(Verdict.ALLOW)
BY = ("AuthorizationPolicy ns/a",)
DENIED = Outcome(Verdict.DENY_403, "RBAC: access denied", decided_by=BY)
REJECTED = Outcome(Verdict.DENY_401, "Jwt verification fails", decided_by=BY)
WHY = "a RequestAuthentication rejects a bad token"
PREFLIGHT = (("origin", "x"), ("access-control-request-method", "x"))


def _cause(
    witness: Request,
    requests: int,
    *,
    after: Outcome = DENIED,
    inherent: str = "",
    workload: str = "web",
    worlds: tuple[str, ...] = (),
) -> Cause:
    return Cause(
        Change.STRICTER,
        ALLOWED,
        after,
        inherent,
        witness,
        requests,
        {("ns", workload)},
        worlds=worlds,
    )


def _preflight(**kwargs: object) -> Request:
    return request(method="OPTIONS", headers=PREFLIGHT, **kwargs)  # type: ignore[arg-type]


def test_variants_fold_into_the_plainest_with_a_line_each_and_counts_that_add_up() -> None:
    """Bad token first in, no token out as the witness; requests summed, workloads united."""
    causes = [
        _preflight(tok=token(valid=False)),
        _preflight(),
        request(tok=token(valid=False)),
        request(tok=token(sub=False)),
        request(),
    ]
    counts = [24, 3, 8, 9, 2]
    pairs = zip(causes, counts, strict=True)
    made = [_cause(r, n, workload=f"w{i % 2}") for i, (r, n) in enumerate(pairs)]
    [entry] = fold(made)
    assert entry.cause.witness == request()
    assert entry.requests == sum(counts)
    assert entry.workloads == {("ns", "w0"), ("ns", "w1")}
    assert entry.variant_lines() == [
        "also with a valid token without sub (9 request(s))",
        "also with an invalid token (8 request(s))",
        "also as a CORS preflight (3 request(s))",
        "also as a CORS preflight with an invalid token (24 request(s))",
    ]


def test_an_inherent_variant_still_says_so_and_why() -> None:
    """Inherent labelling is never lost in a fold: the reason, or `as above` when the witness
    has the same one."""
    plain = _cause(request(), 2, after=REJECTED)
    inherent = _cause(request(tok=token(valid=False)), 24, after=REJECTED, inherent=WHY)
    [entry] = fold([inherent, plain])
    assert entry.cause is plain
    assert entry.variant_lines() == [f"also with an invalid token (24 request(s); inherent: {WHY})"]
    both = _cause(_preflight(tok=token(valid=False)), 7, after=REJECTED, inherent=WHY)
    [entry] = fold([both, inherent])
    assert entry.cause is inherent
    assert all(c.inherent for c in (entry.cause, *entry.variants))
    assert entry.variant_lines() == ["also as a CORS preflight (7 request(s))"]


def test_a_token_from_an_unconfigured_issuer_is_named_apart_from_an_invalid_one() -> None:
    """Both are bad tokens; the line says which."""
    [entry] = fold([_cause(request(), 1), _cause(request(tok=token(UNCONFIGURED_ISSUER)), 4)])
    assert entry.variant_lines() == [
        "also with a token from an issuer no rule configures (4 request(s))"
    ]


def test_causes_that_differ_in_more_than_their_variant_stay_apart() -> None:
    """Another outcome, deciding resource, kind of destination or set of worlds is another
    entry."""
    other_by = Outcome(Verdict.DENY_403, "RBAC: access denied", decided_by=("X ns/b",))
    causes = [
        _cause(request(), 1),
        _cause(request(tok=token()), 1, after=REJECTED),
        _cause(request(tok=token(sub=False)), 1, after=other_by),
        _cause(request(TCP, peer=MTLS), 1),
        _cause(_preflight(), 1, worlds=("1.4.0 -> 1.5.0",)),
    ]
    assert [len(e.variants) for e in fold(causes)] == [0, 0, 0, 0, 0]
    assert fold([*causes, _cause(_preflight(tok=token()), 1)])[0].variants != ()


def _report(causes: list[Cause]) -> VerifyReport:
    return VerifyReport(causes, [], origins={}, policies=())


def test_text_and_markdown_fold_while_json_carries_every_cause() -> None:
    """One entry in text and markdown; every cause in JSON; the headline counts causes in all."""
    causes = [_cause(_preflight(), 3), _cause(request(), 2), _cause(request(tok=token()), 5)]
    report = _report(causes)
    out = io.StringIO()
    render_text(report, Console(file=out, width=400, color_system=None), max_causes=1)
    text = out.getvalue()
    assert text.count("STRICTER  ") == 1
    assert "STRICTER  GET web.ns:8000/ from plaintext peer (HTTP, container port 80)\n" in text
    also = "    also with a valid token (5 request(s)); as a CORS preflight (3 request(s))\n"
    assert also in text
    assert "    10 request(s) on 1 workload(s): ns/web" in text
    assert "more cause(s)" not in text
    assert "NOT EQUIVALENT: 3 stricter cause(s)" in text
    markdown = render_markdown(report)
    assert markdown.count("| stricter |") == 1
    assert "<br>`also with a valid token (5 request(s))`" in markdown
    assert "| 10 |" in markdown
    data = verify_data(report)
    assert len(data["causes"]) == 3
    assert data["summary"]["stricter"] == 3


def test_all_shows_every_cause_unfolded() -> None:
    """`--all` lists every cause and every request, as JSON does."""
    causes = [_cause(_preflight(), 3), _cause(request(), 2)]
    out = io.StringIO()
    render_text(_report(causes), Console(file=out, width=400, color_system=None), every=True)
    assert out.getvalue().count("STRICTER  ") == 2
    assert "also as" not in out.getvalue()


def test_the_cap_counts_entries_and_names_the_causes_it_hides() -> None:
    """`--max-causes` caps entries; the note says how many causes they fold."""
    causes = [
        _cause(request(), 1),
        _cause(request(tok=token()), 1),
        _cause(request(HTTP, peer=MTLS), 1, after=REJECTED),
        _cause(request(HTTP, peer=MTLS, tok=token()), 1, after=REJECTED),
    ]
    out = io.StringIO()
    render_text(_report(causes), Console(file=out, width=400, color_system=None), max_causes=1)
    text = out.getvalue()
    assert text.count("STRICTER  ") == 1
    assert "... and 1 more cause(s) of AuthorizationPolicy ns/a (2 with their variants;" in text
