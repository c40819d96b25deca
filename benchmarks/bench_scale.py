"""Scale benchmark: `sla evaluate` and `sla report` against the read floor.

The read floor is one process that orjson-parses every line and its `at`
timestamp (`datetime.fromisoformat(...).timestamp()`), nothing else: the
least any JSONL tool must do.  Every figure is a ratio measured in the same
run on the same file, so a busy machine moves both sides.  Peak memory is
the maximum summed RSS of the process and all its children (psutil, polled
every 20 ms).

    python benchmarks/bench_scale.py                      # 10k and 100k tickets
    python benchmarks/bench_scale.py --tickets 10000,100000,1000000 --repeat 3

Histories come from `sla generate` (cached under benchmarks/.data/).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
POLICY = HERE / "scale-policy.yaml"
NOW = "2026-04-01T00:00:00Z"
SLA = [sys.executable, "-m", "sla.cli"]
FLOOR = [
    sys.executable,
    "-c",
    (
        "import sys, orjson\n"
        "from datetime import datetime\n"
        "f = datetime.fromisoformat\n"
        "for line in open(sys.argv[1], 'rb'):\n"
        "    f(orjson.loads(line)['at']).timestamp()\n"
    ),
]


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the process tree."""
    start = time.perf_counter()
    process = psutil.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process] + process.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode()}")
    return elapsed, peak


def history(tickets: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"history-{tickets}.jsonl"
    if not path.exists():
        subprocess.run(
            SLA + ["generate", "--tickets", str(tickets), "--seed", "1", "--output", str(path)], check=True
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--jobs", type=int, default=0, help="--jobs for the parallel runs (default all cores)"
    )
    args = parser.parse_args()
    jobs = args.jobs or os.cpu_count() or 1
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    )
    header = f"{'tickets':>9} {'events':>9} {'run':<22} {'median s':>9} {'x floor':>8} {'tickets/s':>10} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for tickets in [int(t) for t in args.tickets.split(",")]:
        path = history(tickets)
        with open(path, "rb") as handle:
            events = sum(1 for _ in handle)
        repeat = args.repeat if tickets <= 200_000 else 1
        runs = {
            "read floor": FLOOR + [str(path)],
            "evaluate --jobs 1": SLA
            + [
                "evaluate",
                "--policies",
                str(POLICY),
                "--events",
                str(path),
                "--now",
                NOW,
                "--output",
                os.devnull,
                "--jobs",
                "1",
            ],
            f"evaluate --jobs {jobs}": SLA
            + [
                "evaluate",
                "--policies",
                str(POLICY),
                "--events",
                str(path),
                "--now",
                NOW,
                "--output",
                os.devnull,
                "--jobs",
                str(jobs),
            ],
            "report --jobs 1": SLA
            + [
                "report",
                "--policies",
                str(POLICY),
                "--events",
                str(path),
                "--now",
                NOW,
                "--by",
                "channel,priority",
                "--format",
                "json",
                "--output",
                os.devnull,
                "--jobs",
                "1",
            ],
            f"report --jobs {jobs}": SLA
            + [
                "report",
                "--policies",
                str(POLICY),
                "--events",
                str(path),
                "--now",
                NOW,
                "--by",
                "channel,priority",
                "--format",
                "json",
                "--output",
                os.devnull,
                "--jobs",
                str(jobs),
            ],
        }
        results: dict[str, tuple[float, int]] = dict.fromkeys(runs, (0.0, 0))
        samples: dict[str, list[tuple[float, int]]] = {name: [] for name in runs}
        for _ in range(repeat):  # interleaved, so load changes hit every run alike
            for name, argv in runs.items():
                samples[name].append(measure(argv))
        for name in runs:
            results[name] = (statistics.median(t for t, _ in samples[name]), max(m for _, m in samples[name]))
        floor = results["read floor"][0]
        for name, (seconds, peak) in results.items():
            print(
                f"{tickets:>9,} {events:>9,} {name:<22} {seconds:>9.2f} {seconds / floor:>8.1f} "
                f"{tickets / seconds:>10,.0f} {peak / 2**20:>8.0f}"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
