"""Ungrouped input: `sla evaluate` on the benchmark's history sorted by time
(the shape of many exports) against the same history grouped by ticket.

The same events and the same rows, in another line order: grouped input
streams one ticket at a time; time-sorted input is detected as ungrouped,
then gathered in memory (under 256 MB, one job) or spilled to partition
files hashed by ticket (larger input, or more than one job; with more
jobs the workers spill byte ranges side by side). Every figure is a ratio
to the grouped one-job run of the same round, measured in one run (the
runs of a round are interleaved, so a busy machine moves them alike):
wall and CPU time of the process tree, and its peak memory.

    python benchmarks/bench_ungrouped.py                        # 100k tickets
    python benchmarks/bench_ungrouped.py --tickets 1000000 --repeat 1

The time-sorted copy is made once, next to the history, under
benchmarks/.data/ (sorting 1M tickets in memory takes about 3 GB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import orjson
from bench_scale import DATA, NOW, POLICY, RUN_ENV, SLA, Sample, history, measure


def by_time(path: Path) -> Path:
    """The history's lines sorted by their `at` (stably), cached beside it."""
    sorted_path = path.with_name(path.stem + "-by-time.jsonl")
    if not sorted_path.exists():
        with open(path, "rb") as handle:
            lines = handle.read().splitlines()
        instants = [orjson.loads(line)["at"] for line in lines]  # the same text form throughout
        order = sorted(range(len(lines)), key=instants.__getitem__)
        partial = sorted_path.with_suffix(".partial")
        with open(partial, "wb") as out:
            for index in order:
                out.write(lines[index] + b"\n")
        partial.rename(sorted_path)
    return sorted_path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians)")
    parser.add_argument(
        "--jobs", type=int, default=0, help="--jobs for the parallel runs (default all cores)"
    )
    parser.add_argument("--engine", choices=sorted(SLA), default="compiled")
    args = parser.parse_args()
    jobs = args.jobs or os.cpu_count() or 1
    grouped = history(args.tickets)
    sorted_by_time = by_time(grouped)
    out = DATA / "bench-output"
    subprocess.run([*SLA[args.engine], "--version"], env=RUN_ENV, stdout=subprocess.DEVNULL, check=True)

    def evaluate(path: Path, n: int) -> list[str]:
        common = ["--policies", str(POLICY), "--events", str(path), "--now", NOW, "--output", str(out)]
        return [*SLA[args.engine], "evaluate", *common, "--jobs", str(n)]

    runs = {"grouped, --jobs 1": evaluate(grouped, 1)}
    runs["time-sorted, --jobs 1"] = evaluate(sorted_by_time, 1)
    if jobs > 1:
        runs[f"grouped, --jobs {jobs}"] = evaluate(grouped, jobs)
        runs[f"time-sorted, --jobs {jobs}"] = evaluate(sorted_by_time, jobs)
    samples: dict[str, list[Sample]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, argv in runs.items():
            samples[name].append(measure(argv))
    out.unlink(missing_ok=True)
    base_wall = statistics.median(s.wall for s in samples["grouped, --jobs 1"])
    base_cpu = statistics.median(s.cpu for s in samples["grouped, --jobs 1"])
    print(f"{args.tickets:,} tickets, {args.engine} engine, medians of {args.repeat}\n")
    print("| input, run | wall s | x grouped | CPU s | x grouped | peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, taken in samples.items():
        wall = statistics.median(s.wall for s in taken)
        cpu = statistics.median(s.cpu for s in taken)
        peak = max(s.peak for s in taken) / 2**20
        print(
            f"| {name} | {wall:.2f} | {wall / base_wall:.2f} | {cpu:.2f} | {cpu / base_cpu:.2f} | {peak:.0f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
