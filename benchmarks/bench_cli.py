"""Time `scan`, `convert --check`, `review`, `plan` and `tls-check` as whole processes on
generated repositories of growing size, against the cost of just reading the same files.

Each size is a fresh repository from `generate.py` (alpha side, with the unrelated bulk of a
real repository: see README.md): 10 services per namespace, alpha policies = 30% of the
services. Each command runs in a fresh helper process that reports the child's wall time and
peak RSS. The floor is the time PyYAML's C loader alone takes to parse every file of the same
repository, in this process, measured in the same run.

`review` needs a base revision: the generated repository is committed, converted with
`convert --write` (not timed), and `review --base HEAD` compares the two. Two more review
series change less: `review-ns` converts one namespace's folder only (a pull request that
migrates one namespace: only that namespace's classes need proving), `review-mesh` only the
mesh-wide MeshPolicy's folder (everything needs proving again). The table gives the classes
each review proved (`verify.figures.classes` of `review -o json`).

    python benchmarks/bench_cli.py                     # 1k, 3k, 10k, 30k services (long)
    python benchmarks/bench_cli.py --sizes 1000 10000 --repeat 3
    python benchmarks/bench_cli.py --quick             # a tiny repository once (CI)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from generate import Config, generate

SERVICES_PER_NAMESPACE = 10
POLICY_SHARE = 0.3
"""Alpha policies per service (10,000 services -> 3,000 policies)."""
CONDITIONS = 4
COMMANDS = ("scan", "convert", "review", "review-ns", "review-mesh", "plan", "tls-check")
REVIEWS = {"review": None, "review-ns": "namespace", "review-mesh": "mesh"}
"""Each review series and what its pull request converts (None: the whole repository)."""
MESH_FOLDER = "istio-system"
"""Where the generator writes the MeshPolicy (and nothing else the conversion changes)."""
ACCEPTED_EXIT_CODES = {
    "scan": (0, 1),
    "convert": (0, 1),
    "review": (0, 1),
    "review-ns": (0, 1),
    "review-mesh": (0, 1),
    "plan": (0,),
    "tls-check": (0, 1),
}
"""What each command may answer on a generated repository; anything else is a broken run."""

_MEASURE = """\
import json, re, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
tail = done.stderr.decode("utf-8", "replace")[-4000:]
classes = None
try:
    verify = json.loads(done.stdout)["verify"]
    notes = " ".join(verify["assumptions"]["notes"])
    left = re.search(r"(\\d+) other namespace\\(s\\) hold no changed resource", notes)
    classes = [verify["figures"]["classes"], int(left[1]) if left else 0]
except (ValueError, KeyError, TypeError):
    pass
print(json.dumps(
    {"wall": wall, "maxrss": peak, "rc": done.returncode, "stderr": tail, "classes": classes}
))
"""


@dataclass(slots=True)
class Point:
    """One repository size and what was measured on it."""

    services: int
    policies: int = 0
    files: int = 0
    documents: int = 0
    megabytes: float = 0.0
    floor: list[float] = field(default_factory=list)
    walls: dict[str, list[float]] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)
    classes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Classes each review proved, and the namespaces it left uncompared."""
    namespace: str = ""
    """The namespace `review-ns` converts."""

    def median(self, command: str) -> float:
        return statistics.median(self.walls[command])

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor)


def command_line(command: str, plan_out: Path) -> list[str]:
    base = [sys.executable, "-m", "migrate"]
    return {
        "scan": [*base, "scan", ".", "-o", "json"],
        "convert": [*base, "convert", "--check", "."],
        "review": [*base, "review", "--base", "HEAD", "-o", "json"],
        "review-ns": [*base, "review", "--base", "HEAD", "-o", "json"],
        "review-mesh": [*base, "review", "--base", "HEAD", "-o", "json"],
        "plan": [*base, "plan", ".", "--out", str(plan_out)],
        "tls-check": [*base, "tls-check", "."],
    }[command]


def measure(
    command: str, workdir: Path, scratch: Path
) -> tuple[float, float, tuple[int, int] | None]:
    """(wall seconds, peak RSS MiB, classes proven and namespaces not compared if the command
    reports them) of one run of `command` in `workdir`."""
    plan_out = scratch / "plan"
    shutil.rmtree(plan_out, ignore_errors=True)
    helper = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command_line(command, plan_out)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(helper.stdout)
    if run["rc"] not in ACCEPTED_EXIT_CODES[command]:
        raise RuntimeError(f"{command} exited {run['rc']} in {workdir}:\n{run['stderr']}")
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = run["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    classes = run["classes"]
    return run["wall"], peak, (classes[0], classes[1]) if classes else None


def yaml_floor(workdir: Path) -> tuple[float, int, int, int]:
    """Seconds PyYAML's C loader takes to read and parse every YAML file; files, documents,
    bytes."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    files = sorted(p for p in workdir.rglob("*.yaml") if ".git" not in p.parts)
    start = time.perf_counter()
    documents = size = 0
    for path in files:
        data = path.read_bytes()
        size += len(data)
        documents += sum(1 for d in yaml.load_all(data, Loader=loader) if d is not None)
    return time.perf_counter() - start, len(files), documents, size


def git(workdir: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", *args], cwd=workdir, env=env, check=True, capture_output=True)


def prepare_review(workdir: Path, review_dir: Path, change: str | None) -> str:
    """A copy of the repository committed as the base, then converted in the work tree: all
    of it (`change` None), one namespace's folder (`namespace`: the first, in name order,
    that holds a namespace-wide Policy) or the MeshPolicy's folder (`mesh`). Returns the
    folder converted."""
    shutil.copytree(workdir, review_dir)
    git(review_dir, "init", "-q")
    git(review_dir, "add", "-A")
    git(review_dir, "commit", "-qm", "base")
    folder = {None: ".", "namespace": one_namespace(review_dir), "mesh": MESH_FOLDER}[change]
    subprocess.run(
        [sys.executable, "-m", "migrate", "convert", "--write", folder],
        cwd=review_dir,
        check=False,
        capture_output=True,
    )
    if not subprocess.run(
        ["git", "status", "--porcelain"], cwd=review_dir, capture_output=True, text=True, check=True
    ).stdout.strip():
        raise RuntimeError(f"convert --write {folder} changed nothing in {review_dir}")
    return folder


def one_namespace(root: Path) -> str:
    """The first namespace folder (in name order) whose policies include a namespace-wide one,
    else the first with any policy."""
    folders = sorted(p.parent for p in root.glob("*/authn-policies.yaml"))
    for folder in folders:
        for document in yaml.safe_load_all((folder / "authn-policies.yaml").read_text()):
            if (
                document
                and document.get("kind") == "Policy"
                and not document["spec"].get("targets")
            ):
                return folder.name
    return folders[0].name


def run_point(services: int, root: Path, repeat: int, seed: int, commands: Sequence[str]) -> Point:
    namespaces = max(1, services // SERVICES_PER_NAMESPACE)
    config = Config(
        namespaces, SERVICES_PER_NAMESPACE, round(POLICY_SHARE * services), CONDITIONS, seed
    )
    workdir = root / f"s{services}"
    mesh = generate(config, workdir, "alpha")
    point = Point(mesh.workload_count, mesh.policy_count)
    for command in commands:
        if command in REVIEWS:
            folder = prepare_review(workdir, root / f"s{services}-{command}", REVIEWS[command])
            if command == "review-ns":
                point.namespace = folder
    for attempt in range(repeat):
        seconds, point.files, point.documents, size = yaml_floor(workdir)
        point.floor.append(seconds)
        point.megabytes = size / 1e6
        for command in commands:
            where = root / f"s{services}-{command}" if command in REVIEWS else workdir
            wall, peak, classes = measure(command, where, root)
            point.walls.setdefault(command, []).append(wall)
            point.peaks[command] = max(point.peaks.get(command, 0.0), peak)
            if classes is not None:
                point.classes[command] = classes
            print(
                f"  {point.services:,} services, {command}, run {attempt + 1}/{repeat}: "
                f"{wall:.2f} s, {peak:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    shutil.rmtree(workdir, ignore_errors=True)
    for command in REVIEWS:
        shutil.rmtree(root / f"s{services}-{command}", ignore_errors=True)
    return point


def print_report(points: Sequence[Point], commands: Sequence[str], repeat: int) -> None:
    print_classes(points, commands)
    print(f"\nwhole processes, median of {repeat} run(s), Python {sys.version.split()[0]}")
    head = f"{'services':>8} {'policies':>8} {'files':>6} {'documents':>9} {'MB':>6} {'floor s':>7}"
    for command in commands:
        head += f" {command + ' s':>10} {'xfloor':>6} {'MiB':>5}"
    print(head)
    print("-" * len(head))
    for p in points:
        line = (
            f"{p.services:>8,} {p.policies:>8,} {p.files:>6,} {p.documents:>9,} "
            f"{p.megabytes:>6.1f} {p.floor_median:>7.2f}"
        )
        for command in commands:
            seconds = p.median(command)
            line += f" {seconds:>10.2f} {seconds / p.floor_median:>6.1f} {p.peaks[command]:>5.0f}"
        print(line)
    for small, large in itertools.pairwise(points):
        grew = large.services / small.services
        ratios = ", ".join(f"{c} x{large.median(c) / small.median(c):.2f}" for c in commands)
        print(f"  {small.services:,} -> {large.services:,} services (x{grew:.1f}): {ratios}")


def print_classes(points: Sequence[Point], commands: Sequence[str]) -> None:
    """How many classes each review series proved."""
    reviews = [c for c in commands if c in REVIEWS]
    if reviews:
        print("destination classes each review proved; namespaces it did not compare:")
    for p in points:
        proven = ", ".join(
            (f"{c} ({p.namespace})" if c == "review-ns" else c)
            + f" {p.classes[c][0]:,} classes; {p.classes[c][1]:,} namespaces"
            for c in reviews
            if c in p.classes
        )
        if proven:
            print(f"  {p.services:,} services: {proven}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000, 30000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median reported)")
    parser.add_argument("--commands", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="100 services once (for CI)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes, repeat = ([100], 1) if args.quick else (sorted(args.sizes), args.repeat)
    with tempfile.TemporaryDirectory(prefix="authn-migrate-bench-") as temp:
        points = [run_point(s, Path(temp), repeat, args.seed, args.commands) for s in sizes]
    print_report(points, args.commands, repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
