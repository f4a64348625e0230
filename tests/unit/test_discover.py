"""Discovery: which files a path stands for, and what is skipped or refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from migrate.load.discover import discover, git_ignored, listed_ignored


def _names(paths: list[str]) -> list[str]:
    return [s.display for s in discover(paths).sources]


def test_directories_are_read_recursively_in_a_stable_order(in_tmp: Path) -> None:
    """YAML and JSON files below a directory, sorted; other files are not manifests."""
    for name in ("b/z.yaml", "a.yml", "b/c.json", "notes.txt", "b/d/e.YAML"):
        (in_tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (in_tmp / name).write_text("a: 1\n")
    assert _names(["."]) == ["a.yml", "b/c.json", "b/d/e.YAML", "b/z.yaml"]


def test_hidden_entries_and_git_are_skipped(in_tmp: Path) -> None:
    """Hidden folders and files, `.git` included, are never read."""
    for name in (".git/config.yaml", ".github/workflows/ci.yaml", ".hidden.yaml", "ok.yaml"):
        (in_tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (in_tmp / name).write_text("a: 1\n")
    assert _names(["."]) == ["ok.yaml"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_ignored_files_are_skipped(in_tmp: Path) -> None:
    """Inside a work tree, what git ignores is not read."""
    subprocess.run(["git", "init", "-q", str(in_tmp)], check=True)
    (in_tmp / ".gitignore").write_text("build/\n*.generated.yaml\n")
    for name in ("build/out.yaml", "x.generated.yaml", "kept.yaml"):
        (in_tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (in_tmp / name).write_text("a: 1\n")
    assert _names(["."]) == ["kept.yaml"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("below", [".", "sub", "a", "linked", "build", "secret"])
def test_one_listing_of_ignored_files_agrees_with_asking_git_about_each(
    tmp_path: Path, below: str
) -> None:
    """Whatever the rules (folders, globs, negation, anchored names, a folder's own
    .gitignore, info/exclude), a tracked file that matches one, a repository nested in an
    ignored folder, a folder reached through a link: the files the walk finds that git's
    listing marks ignored are those `git check-ignore` names, asked about one by one."""

    def git(*args: str, where: Path = tmp_path) -> None:
        subprocess.run(["git", "-C", str(where), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / ".gitignore").write_text(
        "build/\n*.generated.yaml\n!keep.generated.yaml\nsecret/\n/top-only.yaml\n"
    )
    (tmp_path / ".git" / "info" / "exclude").write_text("excluded.yaml\n")
    names = [
        "build/out.yaml", "x.generated.yaml", "keep.generated.yaml", "a/b/y.generated.yaml",
        "top-only.yaml", "a/top-only.yaml", "tracked.generated.yaml", "secret/s.yaml",
        "sub/local.yaml", "sub/other.yaml", "sub/deep/local.yaml", "excluded.yaml",
        "a/excluded.yaml", "plain.yaml", "a/plain.yaml",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a: 1\n")
    (tmp_path / "sub" / ".gitignore").write_text("local.yaml\n")
    (tmp_path / "linked").symlink_to(tmp_path / "a", target_is_directory=True)
    git("init", "-q", where=tmp_path / "secret")
    git("add", "-f", "tracked.generated.yaml", "plain.yaml")
    root = tmp_path / below
    files = [p for p in root.rglob("*.yaml") if ".git" not in p.parts]
    if below == ".":  # rglob does not enter the link: the walk does
        files += list((tmp_path / "linked").rglob("*.yaml"))
    listed = listed_ignored(root, files)
    assert listed == git_ignored(root, files)
    if below == ".":
        ignored = {p.relative_to(tmp_path).as_posix() for p in listed}
        assert {"build/out.yaml", "secret/s.yaml", "sub/local.yaml", "excluded.yaml"} <= ignored
        assert {"plain.yaml", "keep.generated.yaml", "tracked.generated.yaml"}.isdisjoint(ignored)
        assert "linked/b/y.generated.yaml" in ignored


def test_explicit_file_is_read_whatever_its_suffix(in_tmp: Path) -> None:
    """A file named on the command line is read even without a YAML suffix."""
    (in_tmp / "policies.txt").write_text("a: 1\n")
    assert _names(["policies.txt"]) == ["policies.txt"]


def test_the_same_file_named_twice_is_read_once(in_tmp: Path) -> None:
    """Overlapping paths do not read a file twice."""
    (in_tmp / "d").mkdir()
    (in_tmp / "d" / "a.yaml").write_text("a: 1\n")
    assert _names(["d", "d/a.yaml", "-", "-"]) == ["d/a.yaml", "<stdin>"]


def test_symlink_leaving_the_tree_is_refused(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A link to a file outside the tree is not followed and gives AM007."""
    outside = tmp_path_factory.mktemp("outside") / "secret.yaml"
    outside.write_text("a: 1\n")
    (in_tmp / "repo").mkdir()
    (in_tmp / "repo" / "link.yaml").symlink_to(outside)
    (in_tmp / "repo" / "ok.yaml").write_text("a: 1\n")
    found = discover(["repo"])
    assert [s.display for s in found.sources] == ["repo/ok.yaml"]
    assert [(f.code, str(f.location)) for f in found.findings] == [("AM007", "repo/link.yaml")]


def test_symlink_inside_the_tree_is_followed_once(in_tmp: Path) -> None:
    """A link within the tree is followed; a loop back to a parent is read once."""
    (in_tmp / "real").mkdir()
    (in_tmp / "real" / "a.yaml").write_text("a: 1\n")
    (in_tmp / "real" / "loop").symlink_to(in_tmp / "real")
    (in_tmp / "alias").symlink_to(in_tmp / "real")
    found = discover(["."])
    assert [s.display for s in found.sources] == ["real/a.yaml"]
    assert found.findings == ()


def test_broken_symlink_is_a_finding(in_tmp: Path) -> None:
    """A dangling link gives AM006 and the rest is still read."""
    (in_tmp / "gone.yaml").symlink_to(in_tmp / "nowhere.yaml")
    (in_tmp / "ok.yaml").write_text("a: 1\n")
    found = discover(["."])
    assert [s.display for s in found.sources] == ["ok.yaml"]
    assert [(f.code, str(f.location)) for f in found.findings] == [("AM006", "gone.yaml")]


def test_missing_path_is_a_finding(in_tmp: Path) -> None:
    """A path that does not exist gives AM011."""
    found = discover(["nope"])
    assert [(f.code, f.message) for f in found.findings] == [
        ("AM011", "no such file or directory: nope")
    ]
