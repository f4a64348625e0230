"""The inventory's lookups agree with a plain scan of it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from migrate.load.documents import Origin
from migrate.model.inventory import Inventory, Service

LABELS = st.dictionaries(
    st.sampled_from(["app", "tier", "version"]), st.sampled_from(["a", "b"]), max_size=3
)


@given(
    selectors=st.lists(st.one_of(st.none(), LABELS), max_size=8),
    namespaces=st.lists(st.sampled_from(["x", "y"]), min_size=8, max_size=8),
    labels=LABELS,
)
def test_fronting_is_every_service_whose_selector_the_labels_include(
    selectors: list[dict[str, str] | None], namespaces: list[str], labels: dict[str, str]
) -> None:
    inventory = Inventory()
    for index, selector in enumerate(selectors):
        name = f"s{index}"
        inventory.services[(namespaces[index], name)] = Service(
            name, namespaces[index], selector, (), Origin("f.yaml", index, 1, 1)
        )
    for namespace in ("x", "y"):
        expected = [
            s
            for s in inventory.services_in(namespace)
            if s.selector and all(labels.get(k) == v for k, v in s.selector.items())
        ]
        assert inventory.fronting(namespace, labels) == expected
