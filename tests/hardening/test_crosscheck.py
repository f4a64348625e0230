"""The exact engine against brute force: for generated configuration pairs, every concrete
request (boundary and random paths, every peer, token, method and header combination) is
decided exactly as the witness of the cell it falls in. One disagreement fails the suite."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_strategies import LITERAL, alpha_policy, beta_config
from semantics_kit import APP, SHARED_APP, side

from migrate.model.releases import RELEASES, Release
from migrate.semantics.environment import Environment
from migrate.semantics.equivalence import differ
from migrate.semantics.proof import classes
from migrate.semantics.side import Settings
from migrate.semantics.space import path_patterns, requests
from migrate.semantics.strings import signature

BOUNDARY = ["/", "/a", "/ab", "/a/", "/api/", "/api/x.js", "/b/", "/aa", "/x"]


@settings(max_examples=max(500, settings.default.max_examples))
@given(
    before=st.lists(alpha_policy("p"), max_size=2).map("".join),
    after=beta_config(),
    extra=st.lists(LITERAL.filter(lambda p: p.startswith("/")), max_size=4),
    app=st.sampled_from([APP, SHARED_APP]),
    release=st.sampled_from(RELEASES),
    data=st.data(),
)
def test_every_concrete_request_agrees_with_its_cell(
    before: str,
    after: str,
    extra: list[str],
    *,
    app: str,
    release: Release,
    data: st.DataObject,
) -> None:
    """Concrete requests decide like the witness of their cell, on both sides, on every
    release, through every chain a port may have (sniffed, or built by either of two Service
    ports), with tokens signed for every combination of key sources and peers of another
    trust domain where peerIsOptional makes them matter."""
    config = Settings(release)
    raw = not release.strip_query
    old, inventory = side(before, app=app)
    new, _ = side(after, app=app)
    for group in classes(old, new, inventory, environment=Environment()):
        if not group.destination.http:
            continue
        policies = [*group.before.authz, *group.after.authz]
        patterns = path_patterns(group, policies, raw=raw)
        witnesses = {}
        for request in requests(group, raw=raw):
            key = (
                request.peer,
                request.token,
                request.method,
                request.headers,
                signature(patterns, request.path),
            )
            witnesses.setdefault(key, request)
        sample = data.draw(
            st.lists(st.sampled_from(sorted(witnesses, key=str)), max_size=12, unique=True)
        )
        paths = BOUNDARY + extra + (["/a?x", "/ab?.js", "/api/?q"] if raw else [])
        for request in (witnesses[k] for k in sample):
            for path in paths:
                concrete = request.__class__(
                    request.destination,
                    request.peer,
                    request.token,
                    path,
                    request.method,
                    request.headers,
                )
                key = (
                    concrete.peer,
                    concrete.token,
                    concrete.method,
                    concrete.headers,
                    signature(patterns, path),
                )
                witness = witnesses[key]  # completeness: the cell was enumerated
                got = differ(group.before, group.after, concrete, config, config)
                want = differ(group.before, group.after, witness, config, config)
                assert (got and (got.change, got.before, got.after, got.twin)) == (
                    want and (want.change, want.before, want.after, want.twin)
                ), (concrete, witness)
