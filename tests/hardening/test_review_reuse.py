"""`review` parses at the base revision only the files the change touched: a file whose bytes
are the work tree's is the work tree's file, and the review is the one that parses both
revisions in full."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from repo_kit import generate_repo, git

from migrate.commands.review import review
from migrate.load import documents as documents_module
from migrate.load.discover import Source
from migrate.load.documents import LoadedFile
from migrate.render.review import review_data, review_markdown

BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata: [unclosed\n"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated mesh with a file that does not parse, committed; then one namespace's
    folder converted and one unrelated file edited in the work tree."""
    root = generate_repo(
        tmp_path_factory.mktemp("review-reuse") / "mesh", namespaces=4, services=3, policies=8
    )
    folders = sorted(p.parent for p in root.glob("*/authn-policies.yaml"))
    (folders[-1] / "broken.yaml").write_text(BROKEN)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    subprocess.run(
        [sys.executable, "-m", "migrate", "convert", "--write", folders[0].name],
        cwd=root,
        check=False,
        capture_output=True,
    )
    services = folders[-1] / "services.yaml"
    services.write_text(services.read_text().replace("port: 80\n", "port: 81\n", 1))
    changed = git_changed(root)
    assert f"{folders[0].name}/authn-policies.yaml" in changed
    assert f"{folders[-1].name}/services.yaml" in changed
    return root


def git_changed(root: Path) -> set[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    return {line[3:] for line in done.stdout.splitlines()}


def _parsed_at_base(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files parsed from memory (the base revision's), as they are parsed."""
    parsed: list[str] = []
    load = documents_module.load_source

    def recording(source: Source, *, stdin: bytes | None = None) -> tuple[LoadedFile, list]:
        if source.content is not None:
            parsed.append(source.display)
        return load(source, stdin=stdin)

    monkeypatch.setattr(documents_module, "load_source", recording)
    return parsed


def test_only_the_changed_files_and_the_unreadable_one_are_parsed_at_the_base(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The converted policies, the edited Service file and the file that failed to parse in
    the work tree (its findings are the base's own) are parsed again; nothing else is."""
    monkeypatch.chdir(repo)
    parsed = _parsed_at_base(monkeypatch)
    review("HEAD", ["."])
    broken = next(str(p.relative_to(repo)) for p in repo.glob("*/broken.yaml"))
    assert sorted(parsed) == sorted(git_changed(repo) | {broken})


def test_the_review_is_the_one_that_parses_both_revisions_in_full(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same JSON and markdown, findings of the base's broken file included."""
    monkeypatch.chdir(repo)
    shared = review("HEAD", ["."])
    monkeypatch.setattr(documents_module, "_unchanged", lambda *_: {})
    parsed = _parsed_at_base(monkeypatch)
    alone = review("HEAD", ["."])
    assert len(parsed) > len(git_changed(repo)) + 1
    assert json.dumps(review_data(shared)) == json.dumps(review_data(alone))
    assert review_markdown(shared) == review_markdown(alone)
    assert [f.code for f in alone.verify.findings].count("AM001") == 2  # head and base
