"""Converting every spm case, and every real scenario, with the proof.

spm: our output for each case is recorded in a golden file beside the verdicts of ours and of
the public converter's expected output; ours is never looser, and it never leaves more
non-inherent differences than theirs. Failure cases are converted where an exact form exists,
else refused with a message. Real scenarios convert with nothing looser, or are refused with a
message telling the user what to do. Regenerate goldens with AUTHN_MIGRATE_REGEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus import case_id, read_case, real_files, require_shared, spm_cases
from test_corpus_verify import HTTPBIN, _in_namespaces, _namespace, summary

from migrate.commands.convert import convert_paths
from migrate.commands.verify import verify_paths
from migrate.convert.prove import prove
from migrate.convert.run import convert_workspace
from migrate.rewrite.documents import render_documents
from migrate.semantics.equivalence import Change
from migrate.semantics.proof import VerifyReport
from migrate.workspace import WorkspaceOptions, open_workspace

require_shared()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "spm-convert"
CASES = spm_cases()


def _open(case: Path, tmp_path: Path) -> tuple[WorkspaceOptions, Path, dict[str, str]]:
    sections = read_case(case)
    (tmp_path / "before.yaml").write_text(sections["INPUT"])
    services = sections.get("SERVICES", "").strip() or HTTPBIN
    if case.parent.name == "e2e":  # the e2e suite applies its services in foo, bar and naked
        services = _in_namespaces(services, ("foo", "bar", "naked"))
    (tmp_path / "services.yaml").write_text(services)
    options = WorkspaceOptions(
        namespace=_namespace(sections["INPUT"]), inventory=(str(tmp_path / "services.yaml"),)
    )
    return options, tmp_path / "before.yaml", sections


def _unexplained(report: VerifyReport) -> int:
    """Causes that are neither inherent, nor status-only, nor compatible."""
    return sum(
        1 for c in report.causes if not c.inherent and c.change in (Change.LOOSER, Change.STRICTER)
    )


@pytest.mark.corpus
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_spm_case_converts_no_looser(case: Path, tmp_path: Path) -> None:
    """Ours is never looser, no less exact than the public converter's, and recorded."""
    options, before, sections = _open(case, tmp_path)
    workspace = open_workspace([str(before)], options)
    conversion = convert_workspace(workspace)
    ours = prove(workspace, conversion)
    assert ours.count(Change.LOOSER) == 0
    lines = [
        f"# ours: {len(conversion.resources)} resource(s)",
        *(f"# {f.code}: {f.message}" for f in conversion.findings),
    ]
    text = "\n".join(lines) + "\n" + summary(ours).replace("\n", "\n# ").join(["# ", ""])
    if "EXPECTED_OUTPUT" in sections:
        (tmp_path / "after.yaml").write_text(sections["EXPECTED_OUTPUT"])
        theirs = verify_paths([str(before)], [str(tmp_path / "after.yaml")], options)
        assert _unexplained(ours) <= _unexplained(theirs)
        text += (
            f"# theirs: {_unexplained(theirs)} unexplained cause(s), "
            f"{theirs.count(Change.LOOSER)} looser; ours: {_unexplained(ours)}\n"
        )
    else:
        assert conversion.findings or conversion.resources
    text += render_documents([r.data for r in conversion.resources])
    golden = GOLDEN / f"{case.parent.name}--{case.stem}.yaml"
    if os.environ.get("AUTHN_MIGRATE_REGEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


REAL = real_files()


@pytest.mark.corpus
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_scenario_converts_no_looser_or_says_why(path: Path) -> None:
    """Nothing looser; every policy not converted has a finding that says why."""
    workspace = open_workspace([str(path)])
    conversion = convert_workspace(workspace)
    report = prove(workspace, conversion)
    assert report.count(Change.LOOSER) == 0
    converted = {id(e) for e in conversion.converted}
    explained = {f.resource for f in conversion.findings}
    for entry in workspace.policies:
        assert id(entry) in converted or entry.ref in explained, entry.ref


@pytest.mark.corpus
@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_scenario_written_once_stays_converted(path: Path, tmp_path: Path) -> None:
    """`convert --write`, then `convert` again: nothing more to change, nothing looser. An
    earlier definition a later one of the same file replaced goes with the conversion (it was
    never applied), so it cannot come back to life once its twin is gone."""
    work = tmp_path / path.name
    work.write_bytes(path.read_bytes())
    first = convert_paths([str(work)])
    assert first.report.count(Change.LOOSER) == 0
    if first.blocked:
        return
    for change in first.changes:
        assert change.new is not None
        change.path.write_text(change.new)
    second = convert_paths([str(work)])
    assert [c.display for c in second.changes] == []
    assert second.report.count(Change.LOOSER) == 0
