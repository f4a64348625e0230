"""Time `python -m migrate verify ALPHA BETA -o json` as a whole process on generated meshes.

Two series, each point on a fresh repository from `generate.py` (see README.md):

- workload scaling at 4 path conditions per JWT policy, policies = 15% of the workloads;
- path-condition scaling at a fixed number of workloads.

Each measurement runs in a fresh helper process that starts `verify` and reports the child's
wall time and peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss` is a maximum over all children
ever waited for, so a helper per run keeps the figures apart). The floor is the time PyYAML's
C loader alone takes to parse the same files, in this process.

    python benchmarks/bench_verify.py            # the full run (a few minutes)
    python benchmarks/bench_verify.py --quick    # the smallest size once (CI)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
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

SERVICES_PER_NAMESPACE = 25
POLICY_SHARE = 0.15
"""Alpha policies per workload (2,000 workloads -> 300 policies)."""
BASE_CONDITIONS = 4
ACCEPTED_EXIT_CODES = (0, 1, 3)
"""verify's verdicts (equivalent, stricter, looser); 2 and 4 mean the benchmark is broken."""

_MEASURE = """\
import json, resource, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE, check=False)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
tail = done.stderr.decode("utf-8", "replace")[-4000:]
print(json.dumps({"wall": wall, "maxrss": peak, "rc": done.returncode, "stderr": tail}))
"""


@dataclass(frozen=True, slots=True)
class Size:
    """One point: how many workloads, and how many path conditions per JWT policy."""

    workloads: int
    conditions: int

    def config(self, seed: int) -> Config:
        per_namespace = min(SERVICES_PER_NAMESPACE, self.workloads)
        namespaces = math.ceil(self.workloads / per_namespace)
        policies = round(POLICY_SHARE * per_namespace * namespaces)
        return Config(namespaces, per_namespace, policies, self.conditions, seed, unrelated=False)


@dataclass(slots=True)
class Result:
    size: Size
    workloads: int
    policies: int
    jwt_policies: int
    figures: dict[str, int] = field(default_factory=dict)
    walls: list[float] = field(default_factory=list)
    peaks_mib: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def peak_mib(self) -> float:
        return max(self.peaks_mib)


def measure_once(workdir: Path) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, peak RSS in MiB, the report's figures) of one verify process."""
    output = workdir / "verify.json"
    command = [sys.executable, "-m", "migrate", "verify", "alpha", "beta", "-o", "json"]
    helper = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(output), *command],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(helper.stdout)
    if run["rc"] not in ACCEPTED_EXIT_CODES:
        raise RuntimeError(f"verify exited {run['rc']} in {workdir}:\n{run['stderr']}")
    figures = json.loads(output.read_text(encoding="utf-8"))["figures"]
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = run["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return run["wall"], peak, figures


def run_size(size: Size, root: Path, repeat: int, seed: int) -> Result:
    """Generate the repository for `size` under `root` and time verify `repeat` times."""
    workdir = root / f"w{size.workloads}-k{size.conditions}"
    mesh = generate(size.config(seed), workdir, "both")
    result = Result(size, mesh.workload_count, mesh.policy_count, len(mesh.jwt_policies))
    for attempt in range(repeat):
        wall, peak, result.figures = measure_once(workdir)
        result.walls.append(wall)
        result.peaks_mib.append(peak)
        print(
            f"  {size.workloads} workloads, K={size.conditions}, run {attempt + 1}/{repeat}: "
            f"{wall:.2f} s, {peak:.0f} MiB",
            file=sys.stderr,
            flush=True,
        )
    return result


def yaml_floor(workdir: Path, repeat: int) -> tuple[float, str, int]:
    """Median seconds to read and parse every YAML file of both sides with PyYAML alone."""
    loader = getattr(yaml, "CSafeLoader", None)
    name = "CSafeLoader" if loader else "SafeLoader (no libyaml: not the C floor)"
    files = sorted(workdir.rglob("*.yaml"))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for path in files:
            for _document in yaml.load_all(path.read_bytes(), Loader=loader or yaml.SafeLoader):
                pass
        times.append(time.perf_counter() - start)
    return statistics.median(times), name, len(files)


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'series':<11} {'workloads':>9} {'policies':>8} {'jwt':>4} {'K':>3} "
        f"{'requests':>10} {'classes':>7} {'destinations':>12} "
        f"{'median s':>9} {'min s':>7} {'max s':>7} {'peak MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        series = "conditions" if r.size.conditions != BASE_CONDITIONS else "workloads"
        print(
            f"{series:<11} {r.workloads:>9,} {r.policies:>8,} {r.jwt_policies:>4} "
            f"{r.size.conditions:>3} {r.figures['requests']:>10,} {r.figures['classes']:>7,} "
            f"{r.figures['destinations']:>12,} {r.median:>9.2f} {min(r.walls):>7.2f} "
            f"{max(r.walls):>7.2f} {r.peak_mib:>9.0f}"
        )


def print_ratios(title: str, results: Sequence[Result], key: str) -> None:
    """time(next)/time(previous) along a series, with the growth of its variable."""
    if len(results) < 2:
        return
    print(f"\ngrowth along {title}:")
    for small, large in itertools.pairwise(results):
        grew = _variable(large, key) / _variable(small, key)
        print(
            f"  {key} {_variable(small, key):>5,} -> {_variable(large, key):>5,} (x{grew:.1f}): "
            f"time x{large.median / small.median:.2f}, "
            f"requests x{large.figures['requests'] / small.figures['requests']:.2f}, "
            f"peak RSS x{large.peak_mib / small.peak_mib:.2f}"
        )


def _variable(result: Result, key: str) -> int:
    return result.workloads if key == "workloads" else result.size.conditions


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median reported)")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[250, 500, 1000, 2000],
        help="workload counts of the workload series (K=4, policies = 15%% of workloads)",
    )
    parser.add_argument(
        "--conditions",
        type=int,
        nargs="*",
        default=[2, 4, 8, 16],
        help="path conditions per JWT policy for the condition series",
    )
    parser.add_argument(
        "--conditions-workloads", type=int, default=500, help="workloads of the condition series"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="only the smallest size, once")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workload_series = [Size(w, BASE_CONDITIONS) for w in sorted(args.sizes)]
    condition_series = [Size(args.conditions_workloads, k) for k in sorted(args.conditions)]
    repeat = args.repeat
    if args.quick:
        workload_series, condition_series, repeat = workload_series[:1], [], 1
    done: dict[Size, Result] = {}
    with tempfile.TemporaryDirectory(prefix="authn-migrate-bench-") as temp:
        root = Path(temp)
        for size in [*workload_series, *condition_series]:
            if size not in done:
                done[size] = run_size(size, root, repeat, args.seed)
        largest = max(workload_series or condition_series, key=lambda s: s.workloads)
        floor = yaml_floor(root / f"w{largest.workloads}-k{largest.conditions}", repeat)
    _report(
        done,
        workload_series=workload_series,
        condition_series=condition_series,
        largest=largest,
        floor=floor,
        repeat=repeat,
    )
    return 0


def _report(
    done: dict[Size, Result],
    *,
    workload_series: list[Size],
    condition_series: list[Size],
    largest: Size,
    floor: tuple[float, str, int],
    repeat: int,
) -> None:
    print(f"\nverify as a whole process, {repeat} run(s) per size, Python {sys.version.split()[0]}")
    print_table(list(done.values()))
    print_ratios("the workload series", [done[s] for s in workload_series], "workloads")
    print_ratios("the path-condition series", [done[s] for s in condition_series], "K")
    seconds, loader, files = floor
    verify = done[largest].median
    print(
        f"\nfloor: PyYAML {loader} parses the {files} files of the largest size "
        f"({done[largest].workloads:,} workloads, both sides) in {seconds:.2f} s "
        f"(median of {repeat}); verify takes {verify:.2f} s = x{verify / seconds:.1f} the floor"
    )
    _print_target(done, largest)


def _print_target(done: dict[Size, Result], largest: Size) -> None:
    result = done[largest]
    if result.workloads < 2000:
        return
    met = result.median < 10 and result.peak_mib < 500
    print(
        f"target (2,000 workloads, 300 policies: < 10 s, < 500 MiB): "
        f"{'MET' if met else 'NOT MET'} ({result.median:.2f} s, {result.peak_mib:.0f} MiB)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
