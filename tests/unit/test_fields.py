"""Field-level changes of a resource both sides define (dyff-style paths)."""

from __future__ import annotations

from ruamel.yaml import YAML

from migrate.commands.fields import FieldChange, field_changes, resource_edits


def test_each_changed_field_with_its_path_and_values() -> None:
    before = {
        "metadata": {"annotations": {"authn-migrate.io/converted-from": "Policy a/b"}},
        "spec": {"jwtRules": [{"issuer": "a", "audiences": ["x"]}], "selector": {"app": "w"}},
    }
    after = {
        "metadata": {"annotations": {"authn-migrate.io/converted-from": "Policy a/c"}},
        "spec": {
            "jwtRules": [{"issuer": "b", "audiences": ["x", "y"]}],
            "mtls": {"mode": "STRICT"},
        },
    }
    assert field_changes(before, after) == [
        FieldChange(
            'metadata.annotations["authn-migrate.io/converted-from"]',
            "changed",
            "Policy a/b",
            "Policy a/c",
        ),
        FieldChange("spec.jwtRules[0].audiences[1]", "added", None, "y"),
        FieldChange("spec.jwtRules[0].issuer", "changed", "a", "b"),
        FieldChange("spec.mtls", "added", None, {"mode": "STRICT"}),
        FieldChange("spec.selector", "removed", {"app": "w"}, None),
    ]


def test_quoting_comments_and_key_order_are_not_changes() -> None:
    yaml = YAML()
    before = yaml.load("spec:\n  mtls: {mode: STRICT}  # strict\n  port: 8080\n")
    after = yaml.load("spec:\n  port: 8080\n  mtls:\n    mode: 'STRICT'\n")
    assert field_changes(before, after) == []
    assert resource_edits({"X a/b": before}, {"X a/b": after}) == []


def test_only_resources_both_sides_define_are_edits() -> None:
    edits = resource_edits(
        {"A n/x": {"spec": {"k": 1}}, "A n/gone": {}},
        {"A n/x": {"spec": {"k": 2}}, "A n/new": {"spec": {}}},
    )
    assert [(e.ref, e.changes) for e in edits] == [
        ("A n/x", (FieldChange("spec.k", "changed", 1, 2),))
    ]
