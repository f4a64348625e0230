"""The YAML factory: round-trip instances keep what people wrote."""

from __future__ import annotations

import io

from migrate.load.yamlio import FAST_LOADER_IS_C, make_yaml

TEXT = """\
# head comment
kind: Policy   # inline
metadata:
  name: 'quoted'
spec:
    peers:
    -   mtls: {}
"""


def test_round_trip_instance_keeps_comments_and_quotes() -> None:
    """Loading and dumping with a round-trip instance gives the same text back."""
    yaml = make_yaml("rt")
    yaml.indent(mapping=4, sequence=8, offset=4)
    out = io.StringIO()
    yaml.dump(yaml.load(TEXT), out)
    assert "# head comment" in out.getvalue()
    assert "kind: Policy   # inline" in out.getvalue()
    assert "name: 'quoted'" in out.getvalue()


def test_each_call_makes_a_new_instance() -> None:
    """No instance is shared, so no caller's settings leak into another's."""
    assert make_yaml() is not make_yaml()


def test_fast_loader_uses_libyaml_when_installed() -> None:
    """PyYAML ships libyaml wheels for this platform; the fast path must use them."""
    assert FAST_LOADER_IS_C
