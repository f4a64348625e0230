"""The conversion's index of alpha policies by issuer and jwtRule: the policies whose rule for
an issuer may differ are exactly those a comparison of every pair finds, in the same order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from semantics_kit import side

from migrate.convert.jwt import jwt_rule
from migrate.convert.run import _ByIssuer

A = "apiVersion: authentication.istio.io/v1alpha1\n"
ORIGIN = st.tuples(
    st.sampled_from(["iss-a", "iss-b", "iss-c"]),
    st.sampled_from(["", "      jwksUri: https://k/1\n", "      jwksUri: https://k/2\n"]),
    st.sampled_from(["", "      audiences: [x]\n"]),
)


def _policy(index: int, origins: list[tuple[str, str, str]]) -> str:
    lines = [f"---\n{A}kind: Policy\nmetadata: {{name: p{index}, namespace: ns}}\nspec:\n"]
    lines.append(f"  targets: [{{name: w{index}}}]\n  origins:\n")
    lines += [f"  - jwt:\n      issuer: {i}\n{keys}{aud}" for i, keys, aud in origins]
    return "".join(lines)


@given(
    policies=st.lists(st.lists(ORIGIN, min_size=1, max_size=3), min_size=1, max_size=8),
    mine=st.dictionaries(st.sampled_from(["iss-a", "iss-b", "iss-c"]), ORIGIN, min_size=1),
)
def test_differing_is_what_every_pair_would_find(
    policies: list[list[tuple[str, str, str]]], mine: dict[str, tuple[str, str, str]]
) -> None:
    built, _ = side("".join(_policy(n, origins) for n, origins in enumerate(policies)))
    index = _ByIssuer(built.alpha)
    reference, _ = side(_policy(99, [(issuer, k, a) for issuer, (_, k, a) in mine.items()]))
    rules = {o.issuer: jwt_rule(o) for o in reference.alpha[0].origins}
    every_pair = [
        p
        for p in index.get_many(rules)
        if any(o.issuer in rules and rules[o.issuer] != jwt_rule(o) for o in p.origins)
    ]
    found = index.differing(rules)
    assert [p.ref for p in found if p in every_pair] == [p.ref for p in every_pair]
    assert all(p in index.get_many(rules) for p in found)
