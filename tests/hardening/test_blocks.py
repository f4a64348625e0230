"""Deciding a destination's requests a block at a time (`migrate.semantics.grid`) against
deciding them one by one: the same outcome for every request, and the same causes, in the
same order, with the same witnesses, counts and worlds. One disagreement fails the suite."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_strategies import alpha_policy, beta_config
from semantics_kit import APP, SHARED_APP, side

from migrate.model.releases import RELEASES
from migrate.semantics.authz import CellAuthorizer, Identity, authorize
from migrate.semantics.decide import decide
from migrate.semantics.environment import Environment
from migrate.semantics.equivalence import _tally
from migrate.semantics.grid import Interner, rows
from migrate.semantics.proof import classes
from migrate.semantics.request import Claims, Request, Signature
from migrate.semantics.side import Settings
from migrate.semantics.space import blocks
from migrate.semantics.worlds import worlds

CONFIGS = st.tuples(
    st.lists(alpha_policy("p"), max_size=2).map("".join),
    st.one_of(st.just(""), beta_config()),
)
"""A configuration: alpha policies, and beta resources beside them (or none)."""


def _found(tally: dict[tuple[object, ...], object]) -> list[tuple[object, ...]]:
    """A class's causes in order, with everything of their first difference."""
    found = []
    for key, one in tally.items():
        first = one.first  # type: ignore[attr-defined]
        found.append(
            (
                key,
                first.request,
                first.before,
                first.before.decided_by,
                first.after,
                first.after.decided_by,
                first.twin,
                first.twin and first.twin.decided_by,
                first.inherent,
                one.worlds,  # type: ignore[attr-defined]
                one.count,  # type: ignore[attr-defined]
            )
        )
    return found


@settings(max_examples=settings.default.max_examples // 3)
@given(
    before=CONFIGS,
    after=CONFIGS,
    app=st.sampled_from([APP, SHARED_APP]),
    release=st.sampled_from(RELEASES),
)
def test_block_rows_decide_every_request_alike(
    before: tuple[str, str], after: tuple[str, str], app: str, release: object
) -> None:
    """Every cell of every token row is the outcome `decide` gives that request, deciding
    resources included, on both sides."""
    old, inventory = side("".join(before), app=app)
    new, _ = side("".join(after), app=app)
    config = Settings(release)  # type: ignore[arg-type]
    raw = not config.release.strip_query
    for group in classes(old, new, inventory, environment=Environment()):
        if not group.destination.http:
            continue
        for where in blocks(group, raw=raw):
            for applicable in (group.before, group.after):
                intern = Interner()
                table = rows(applicable, config, where, intern)
                for token, row in zip(where.tokens, table, strict=True):
                    for cell, got in zip(where.cells, row, strict=True):
                        request = Request(
                            cell.destination,
                            cell.peer,
                            token,
                            cell.path,
                            cell.method,
                            cell.headers,
                        )
                        want = decide(applicable, request, config)
                        assert intern(want) == got, (request, want, intern.outcomes[got])


@settings(max_examples=settings.default.max_examples // 5)  # each compares 10 worlds
@given(before=CONFIGS, after=CONFIGS, app=st.sampled_from([APP, SHARED_APP]))
def test_block_tally_is_the_one_by_one_tally(
    before: tuple[str, str], after: tuple[str, str], app: str
) -> None:
    """Over every world an unset environment leaves open, the causes of each class by
    blocks are those of deciding request by request: keys in the same order, the same first
    difference (request, outcomes, deciding resources, twin), worlds and count; and the
    same number of requests evaluated."""
    old, inventory = side("".join(before), app=app)
    new, _ = side("".join(after), app=app)
    pairs, _ = worlds(
        Environment().releases,
        before=(bool(old.alpha), bool(old.beta)),
        after=(bool(new.alpha), bool(new.beta)),
    )
    groups = classes(old, new, inventory, environment=Environment())
    common = {"worlds": tuple(pairs), "root": "istio-system", "every": False, "label": ""}
    by_blocks, counted = _tally(groups, **common, blocks=True)  # type: ignore[arg-type]
    one_by_one, expected = _tally(groups, **common, blocks=False)  # type: ignore[arg-type]
    assert counted == expected
    for group, fast, slow in zip(groups, by_blocks, one_by_one, strict=True):
        assert _found(fast) == _found(slow), group.destination


IDENTITIES = [
    Identity("", None),
    Identity("iss-a/subject", Claims("iss-a", True, "aud", Signature.VALID)),
    Identity("iss-b/subject", Claims("iss-b", True, "aud", Signature.VALID)),
    Identity("", Claims("iss-b", False, "aud", Signature.VALID)),
    Identity("cluster.local/ns/default/sa/default", None),
]
"""No token; tokens of each issuer, with and without `sub`; a peer principal (USE_PEER)."""


@settings(max_examples=settings.default.max_examples // 3)
@given(config=beta_config(), app=st.sampled_from([APP, SHARED_APP]))
def test_rbac_by_cell_and_identity_is_authorize(config: str, app: str) -> None:
    """RBAC evaluated a part per cell and a part per identity decides every request and
    identity as `authorize` does, with the same deciding resources; also when the part per
    cell comes from another peer's block."""
    old, inventory = side("", app=app)
    new, _ = side(config, app=app)
    for group in classes(old, new, inventory, environment=Environment()):
        if not group.destination.http or not group.after.authz:
            continue
        previous = None
        for where in blocks(group, raw=False):
            # alone, and from what the block of the peer before found of each cell (taken
            # only when no condition reads the peer)
            alone = CellAuthorizer(group.after.authz, where.cells)
            reused = CellAuthorizer(group.after.authz, where.cells, like=previous)
            # an authorizer of other cells (the same, in reverse order) is never taken
            other = CellAuthorizer(group.after.authz, list(reversed(where.cells)))
            refused = CellAuthorizer(group.after.authz, where.cells, like=other)
            previous = alone
            for identity in IDENTITIES:
                want = [authorize(group.after.authz, cell, identity) for cell in where.cells]
                assert alone.decisions(identity) == want, identity
                assert reused.decisions(identity) == want, identity
                assert refused.decisions(identity) == want, identity
