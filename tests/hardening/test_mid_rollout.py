"""Trees in the middle of a rollout: a repository holding the resources of its own conversion
beside its policies (as `convert -o yaml` prints them, or a `plan` stage applies them) is
recognised, and what `convert` then writes is not looser than that tree, by brute force."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import event, given, settings
from test_convert_sound import EXAMPLES, looser_requests, repository

from migrate.commands.convert import convert_paths
from migrate.rewrite.documents import render_documents
from migrate.semantics.proof import VerifyOptions


@settings(max_examples=max(EXAMPLES // 5, 20))
@given(files=repository())
def test_a_tree_holding_its_own_conversion_only_loses_its_policies(files: dict[str, str]) -> None:
    """Every policy whose resources are committed beside it is taken as replaced (AM412) with
    nothing new written for it, and the tree `convert --write` leaves is not looser than the
    tree it started from (alpha and beta together)."""
    if "pa.yaml" in files:
        return  # a PeerAuthentication of its own: which policy it replaces is the proof's call
    with tempfile.TemporaryDirectory() as tmp:
        start, after = Path(tmp) / "start", Path(tmp) / "after"
        for name, text in files.items():
            (start / name).parent.mkdir(parents=True, exist_ok=True)
            (start / name).write_text(text)
        first = convert_paths([str(start)])
        made = first.conversion.resources
        if not made:
            event("nothing converted")
            return
        (start / "replacements.yaml").write_text(render_documents([r.data for r in made]))
        shutil.copytree(start, after)
        second = convert_paths([str(after)])
        replaced = {id(r.source) for r in made}
        sources = {r.source.ref for r in made}
        assert not [r.ref for r in second.conversion.resources if r.source.ref in sources]
        notes = {f.resource for f in second.conversion.findings if f.code == "AM412"}
        assert notes == sources, (notes, sources)
        event(f"{len(replaced)} replaced")
        for change in second.changes:
            if change.new is None:
                change.path.unlink()
            else:
                change.path.write_text(change.new)
        assert looser_requests(start, after, VerifyOptions()) == []
