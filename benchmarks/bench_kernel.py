"""The Arrow batch kernel (what the Spark and Dask drivers run in their
workers) against the read floor and `sla evaluate --jobs 1`, in CPU time.

The history is bench_scale.py's, also written once as Parquet under
benchmarks/.data/ (`fields` as JSON text, the input line in `line`: what
`evaluate_spark` hands its workers). Each round runs, one after the other
and each in a fresh process, the read floor over the JSONL file, the kernel
over the Parquet file's batches, and `sla evaluate --jobs 1` over the JSONL
file; medians over the rounds. For the kernel two figures are given: the
whole process, and the kernel's own loop (Arrow batches already in memory
to row batches), which is what a Spark or Dask worker spends per partition
beyond reading its input.

    python benchmarks/bench_kernel.py --tickets 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from bench_scale import DATA, FLOOR, NOW, POLICY, RUN_ENV, SLA, compiled_installed, history, measure

#: Runs the kernel over a Parquet file; prints the loop's CPU seconds and rows.
KERNEL = """
import json, sys, time
import pyarrow.parquet as pq
from sla.adapters.kernel import ArrowKernel
from sla.io.policy_files import load_policies
policies = load_policies(open(sys.argv[2]).read())
batches = list(pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=65_536))
start = time.process_time()
rows = sum(batch.num_rows for batch in ArrowKernel(policies, sys.argv[3])(batches))
print(json.dumps({"loop": time.process_time() - start, "rows": rows}))
"""


def parquet_history(tickets: int) -> Path:
    """The bench history as Parquet, made once from the JSONL file."""
    path = DATA / f"history-{tickets}.parquet"
    if not path.exists():
        import orjson
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sla.io.sources import EVENT_COLUMNS

        columns: dict[str, list[object]] = {name: [] for name in (*EVENT_COLUMNS, "line")}
        with open(history(tickets), "rb") as lines:
            for number, line in enumerate(lines, 1):
                record = orjson.loads(line)
                for name in EVENT_COLUMNS:
                    value = record.get(name)
                    if name == "fields" and value is not None:
                        value = orjson.dumps(value).decode()
                    elif name in ("score", "time_spent", "sentiment") and value is not None:
                        value = float(value)
                    columns[name].append(value)
                columns["line"].append(number)
        partial = path.with_suffix(".partial")
        pq.write_table(pa.table(columns), partial)
        partial.rename(path)
    return path


def kernel_run(path: Path) -> tuple[float, float, int]:
    """CPU seconds of the whole process and of the kernel's loop, and rows."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", KERNEL, str(path), str(POLICY), NOW],
        env=RUN_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = json.loads(done.stdout)
    whole = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return whole, found["loop"], found["rows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = "compiled" if compiled_installed() else "interpreted"
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; engine: {engine}"
    )
    jsonl, parquet = history(args.tickets), parquet_history(args.tickets)
    out = DATA / "bench-output"
    evaluate = SLA[engine] + ["evaluate", "--policies", str(POLICY), "--events", str(jsonl)]
    evaluate += ["--now", NOW, "--output", str(out), "--jobs", "1"]
    floor, whole, loop, cli, rows = [], [], [], [], 0
    for _ in range(args.repeat):
        floor.append(measure(FLOOR + [str(jsonl)]).cpu)
        cpu, own, rows = kernel_run(parquet)
        whole.append(cpu)
        loop.append(own)
        cli.append(measure(evaluate).cpu)
        out.unlink(missing_ok=True)
    base = statistics.median(floor)
    print(f"{args.tickets:,} tickets, {rows:,} rows; CPU seconds, medians of {args.repeat}")
    print(f"{'run':<44} {'cpu s':>7} {'x floor':>7} {'tickets/s per core':>19}")
    for name, taken in (
        ("read floor (JSONL)", floor),
        ("Arrow kernel, whole process (Parquet in)", whole),
        ("Arrow kernel, its loop alone", loop),
        (f"sla evaluate --jobs 1 ({engine})", cli),
    ):
        cpu = statistics.median(taken)
        print(f"{name:<44} {cpu:>7.2f} {cpu / base:>7.1f} {args.tickets / cpu:>19,.0f}")


if __name__ == "__main__":
    main()
