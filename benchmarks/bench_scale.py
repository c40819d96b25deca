"""Scale benchmark: `sla evaluate` and `sla report` against the read floor,
on the interpreted and the compiled engine, with one job and with all cores.

The read floor is one process that orjson-parses every line and its `at`
timestamp (`datetime.fromisoformat(...).timestamp()`), nothing else: the
least any JSONL tool must do.  Every figure is a ratio measured in the same
run on the same file, so a busy machine moves both sides: the floor is
measured before the first run and after every run, and each run's ratio is
to the mean of the two floors beside it (the table gives the median of a
run's ratios), so that the load's drift over the minutes a table takes
moves a ratio as little as it can.  Wall time and
CPU time (user + system of the process and all its children) are both
measured; peak memory is the maximum summed RSS of the process and all its
children (psutil, polled every 20 ms).  "tickets/s/core" is tickets per
CPU-second: what a run costs when cores are paid for by the hour.

The interpreted engine runs through tests/engine_shim.py (the compiled
modules bypassed); the compiled one is the installed package, when its
modules are compiled (`pip install .` with a C compiler; see setup.py).

    python benchmarks/bench_scale.py                      # 10k and 100k tickets
    python benchmarks/bench_scale.py --tickets 10000,100000,1000000 --repeat 3 \\
        --repeat-large 3 --markdown table.md --chart docs/performance-scale.svg

A last section times the batch calendar API (`sla.calendar.batch`, numpy)
against the scalar `Calendar.elapsed_us`.

Histories come from `sla generate --seed 1` (cached under benchmarks/.data/);
rows are written to a regular file there (then removed), as a user would.

The runs use a policy cache of their own (benchmarks/.data/policy-cache,
see sla.io.policy_cache), filled before the first measured run as a user's
is after their first command; `--policy-cache off` measures every run
compiling the policy file (SLA_NO_CACHE=1), as a first command does.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
POLICY = HERE / "scale-policy.yaml"
NOW = "2026-04-01T00:00:00Z"
SHIM = ROOT / "tests" / "engine_shim.py"
SLA = {"interpreted": [sys.executable, str(SHIM)], "compiled": [sys.executable, "-m", "sla.cli"]}
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

#: The runs' environment: this one, with Python's bytecode cache on as in an
#: installed package (a sandbox that sets PYTHONDONTWRITEBYTECODE would have
#: every run compile the package's sources again, a start-up cost no user pays).
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
RUN_ENV["SLA_CACHE_DIR"] = str(DATA / "policy-cache")


@dataclass
class Sample:
    wall: float
    cpu: float
    peak: int


def measure(argv: list[str]) -> Sample:
    """Wall and CPU seconds and peak RSS (bytes) of the process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = psutil.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=RUN_ENV)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process] + process.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if process.returncode not in (0, 1):
        assert process.stderr is not None
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode()}")
    return Sample(elapsed, cpu, peak)


def history(tickets: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"history-{tickets}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        subprocess.run(
            SLA["compiled"]
            + ["generate", "--tickets", str(tickets), "--seed", "1", "--output", str(partial)],
            check=True,
        )
        partial.rename(path)
    return path


def warm_policy_cache(path: Path, engines: list[str]) -> None:
    """Fill the policy cache as a first command would: the compiled file and
    the holidays of the history's years (read from its first lines)."""
    if RUN_ENV.get("SLA_NO_CACHE"):
        return
    sample = DATA / "warm-sample.jsonl"
    with open(path, "rb") as source, open(sample, "wb") as target:
        for _, line in zip(range(5000), source, strict=False):
            target.write(line)
    for engine in engines:
        for argv in commands(engine, sample, 1, DATA / "warm-output").values():
            subprocess.run(
                argv, env=RUN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
    sample.unlink()
    (DATA / "warm-output").unlink(missing_ok=True)


def compiled_installed() -> bool:
    code = "import sla.engine; print(sla.engine.engine_kind())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "compiled"


def commands(engine: str, path: Path, jobs: int, out: Path) -> dict[str, list[str]]:
    common = ["--policies", str(POLICY), "--events", str(path), "--now", NOW, "--output", str(out)]
    report = ["--by", "channel,priority", "--format", "json"]
    sla = SLA[engine]
    runs = {}
    for n in sorted({1, jobs}):
        runs[f"evaluate --jobs {n}"] = sla + ["evaluate", *common, "--jobs", str(n)]
    for n in sorted({1, jobs}):
        runs[f"report --jobs {n}"] = sla + ["report", *common, *report, "--jobs", str(n)]
    return runs


@dataclass
class Row:
    tickets: int
    events: int
    engine: str
    run: str
    jobs: int
    wall: float
    cpu: float
    peak: int
    floor_wall: float
    floor_cpu: float
    wall_ratio: float  # median over the runs of wall / the adjacent floors' mean
    cpu_ratio: float  # the same, of CPU time


def scale(sizes: list[int], repeat: int, jobs: int, engines: list[str], repeat_large: int = 1) -> list[Row]:
    header = (
        f"{'tickets':>9} {'events':>9} {'engine':<11} {'run':<19} {'wall s':>7} {'x floor':>7} "
        f"{'cpu s':>7} {'x floor':>7} {'tickets/s':>9} {'t/s/core':>8} {'peak MB':>7}"
    )
    print(header)
    print("-" * len(header))
    rows: list[Row] = []
    out = DATA / "bench-output"
    for engine in engines:  # bytecode cached before the first measured run
        subprocess.run([*SLA[engine], "--version"], env=RUN_ENV, stdout=subprocess.DEVNULL, check=True)
    for tickets in sizes:
        path = history(tickets)
        with open(path, "rb") as handle:
            events = sum(1 for _ in handle)
        warm_policy_cache(path, engines)
        floor_key = ("-", "read floor")
        floor_argv = FLOOR + [str(path)]
        runs: dict[tuple[str, str], list[str]] = {}
        for engine in engines:
            for name, argv in commands(engine, path, jobs, out).items():
                runs[(engine, name)] = argv
        samples: dict[tuple[str, str], list[Sample]] = {key: [] for key in [floor_key, *runs]}
        # Each run's ratio is to the floor measured just before and just
        # after it (their mean): the host's load drifts over minutes, and a
        # floor measured once for the whole table (a single run at 1M) made
        # every ratio of the size as lucky or unlucky as that one sample.
        wall_ratios: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
        cpu_ratios: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
        times = repeat if tickets <= 200_000 else repeat_large
        for _ in range(times):  # interleaved, so load changes hit every run alike
            before = measure(floor_argv)
            samples[floor_key].append(before)
            for key, argv in runs.items():
                taken = measure(argv)
                after = measure(floor_argv)
                samples[key].append(taken)
                samples[floor_key].append(after)
                wall_ratios[key].append(taken.wall / ((before.wall + after.wall) / 2))
                cpu_ratios[key].append(taken.cpu / ((before.cpu + after.cpu) / 2))
                before = after
        out.unlink(missing_ok=True)
        floor_wall = statistics.median(s.wall for s in samples[floor_key])
        floor_cpu = statistics.median(s.cpu for s in samples[floor_key])
        for (engine, name), taken in samples.items():
            wall = statistics.median(s.wall for s in taken)
            cpu = statistics.median(s.cpu for s in taken)
            peak = max(s.peak for s in taken)
            n = int(name.rsplit(" ", 1)[1]) if "--jobs" in name else 1
            key = (engine, name)
            wall_ratio = statistics.median(wall_ratios[key]) if key in runs else 1.0
            cpu_ratio = statistics.median(cpu_ratios[key]) if key in runs else 1.0
            row = Row(
                tickets,
                events,
                engine,
                name,
                n,
                wall,
                cpu,
                peak,
                floor_wall,
                floor_cpu,
                wall_ratio,
                cpu_ratio,
            )
            rows.append(row)
            print(
                f"{tickets:>9,} {events:>9,} {engine:<11} {name:<19} {wall:>7.2f} {wall_ratio:>7.2f} "
                f"{cpu:>7.2f} {cpu_ratio:>7.2f} {tickets / wall:>9,.0f} {tickets / cpu:>8,.0f} "
                f"{peak / 2**20:>7.0f}"
            )
        sys.stdout.flush()
    return rows


def markdown(rows: list[Row]) -> str:
    lines = [
        "| tickets | events | engine | run | wall x floor | CPU x floor | tickets/s | tickets/s per core | peak MB |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.run == "read floor":
            lines.append(
                f"| {r.tickets:,} | {r.events:,} | | read floor ({r.wall:.2f} s) | 1.0 | 1.0 | "
                f"{r.tickets / r.wall:,.0f} | {r.tickets / r.cpu:,.0f} | {r.peak / 2**20:.0f} |"
            )
            continue
        lines.append(
            f"| {r.tickets:,} | {r.events:,} | {r.engine} | {r.run} | {r.wall_ratio:.2f} | "
            f"{r.cpu_ratio:.2f} | {r.tickets / r.wall:,.0f} | {r.tickets / r.cpu:,.0f} | "
            f"{r.peak / 2**20:.0f} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[Row], path: Path) -> None:
    """An SVG line chart: tickets per CPU-second against ticket count (log
    scale), one line per engine and run; a flat line is linear scaling."""
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r.run != "read floor":
            series.setdefault(f"{r.engine}, {r.run}", []).append((r.tickets, r.tickets / r.cpu))
    if not series:
        return
    width, height, left, right, top, bottom = 760, 380, 70, 250, 20, 50
    xs = sorted({x for points in series.values() for x, _ in points})
    ymax = max(y for points in series.values() for _, y in points) * 1.15
    import math

    lo, hi = math.log10(xs[0]), math.log10(xs[-1]) if len(xs) > 1 else math.log10(xs[0]) + 1

    def px(x: int) -> float:
        return left + (math.log10(x) - lo) / ((hi - lo) or 1) * (width - left - right)

    def py(y: float) -> float:
        return top + (1 - y / ymax) * (height - top - bottom)

    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{py(0)}" x2="{width - right}" y2="{py(0)}" stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{py(0)}" stroke="black"/>',
        f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">tickets in the history</text>',
        f'<text x="15" y="{(top + height - bottom) / 2}" transform="rotate(-90 15 {(top + height - bottom) / 2})" '
        'text-anchor="middle">tickets per CPU-second</text>',
    ]
    for x in xs:
        parts.append(f'<text x="{px(x)}" y="{py(0) + 18}" text-anchor="middle">{x:,}</text>')
    step = 10 ** max(0, int(math.log10(ymax)) - 0)
    step = step if ymax / step >= 3 else step // 2 or 1
    tick = 0
    while tick <= ymax:
        parts.append(f'<text x="{left - 6}" y="{py(tick) + 4}" text-anchor="end">{tick:,}</text>')
        parts.append(
            f'<line x1="{left}" y1="{py(tick)}" x2="{width - right}" y2="{py(tick)}" stroke="#ddd"/>'
        )
        tick += step
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = colours[index % len(colours)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = top + 10 + index * 18
        parts.append(
            f'<line x1="{width - right + 10}" y1="{ly}" x2="{width - right + 30}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{width - right + 36}" y="{ly + 4}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def calendar_batch(pairs: int, repeat: int) -> tuple[float, float] | None:
    """Scalar `elapsed_us` against the numpy batch API on the same pairs:
    (scalar, batch) queries per second, medians; None without numpy."""
    try:
        import numpy as np

        from sla.calendar.batch import elapsed_us_many
    except ImportError:
        print("batch calendar API: numpy is not installed; skipped")
        return None
    from sla.calendar.index import Calendar
    from sla.timefmt import parse_instant

    calendar = Calendar.from_dict(
        {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]},
            "holidays": {"country": "DE"},
        }
    )
    rng = random.Random(1)
    base = parse_instant("2024-01-01T00:00:00Z")
    span = parse_instant("2028-01-01T00:00:00Z") - base
    starts = [base + rng.randrange(span) for _ in range(pairs)]
    ends = [s + int(10 ** rng.uniform(6, 12.9)) for s in starts]  # 1 s to 90 days
    a, b = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    elapsed = calendar.elapsed_us
    want = [elapsed(x, y) for x, y in zip(starts, ends, strict=True)]  # warm-up: builds the index
    assert elapsed_us_many(calendar, a, b).tolist() == want, "the batch API disagrees with the scalar one"
    scalar, batch = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        [elapsed(x, y) for x, y in zip(starts, ends, strict=True)]
        scalar.append(time.perf_counter() - t)
        t = time.perf_counter()
        elapsed_us_many(calendar, a, b)
        batch.append(time.perf_counter() - t)
    rates = pairs / statistics.median(scalar), pairs / statistics.median(batch)
    print(
        f"calendar elapsed, {pairs:,} pairs: scalar {rates[0]:,.0f}/s, numpy batch {rates[1]:,.0f}/s "
        f"({rates[1] / rates[0]:.1f}x)"
    )
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (medians) up to 200k tickets")
    parser.add_argument(
        "--repeat-large",
        type=int,
        default=1,
        help="runs per figure above 200k tickets (default 1: a 1M round takes minutes; one sample "
        "there moved by 15%% between two identical runs on 2026-12-03, so a claim needs 3)",
    )
    parser.add_argument(
        "--jobs", type=int, default=0, help="--jobs for the parallel runs (default all cores)"
    )
    parser.add_argument(
        "--engines", default="", help="interpreted,compiled (default: both where compiled is installed)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument(
        "--chart", type=Path, help="also write an SVG chart of tickets/s per core to this file"
    )
    parser.add_argument(
        "--policy-cache",
        choices=("on", "off"),
        default="on",
        help="off: every run compiles the policy file, as a first command does (default on, warmed)",
    )
    parser.add_argument(
        "--calendar-pairs", type=int, default=200_000, help="pairs for the calendar batch API (0: skip it)"
    )
    args = parser.parse_args()
    if args.policy_cache == "off":
        RUN_ENV["SLA_NO_CACHE"] = "1"
    jobs = args.jobs or os.cpu_count() or 1
    engines = [e for e in args.engines.split(",") if e] or (
        ["interpreted", "compiled"] if compiled_installed() else ["interpreted"]
    )
    if "compiled" in engines and not compiled_installed():
        raise SystemExit("the compiled engine is not installed (pip install . with a C compiler)")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"engines: {', '.join(engines)}; policy cache: {args.policy_cache}"
    )
    sizes = [int(t) for t in args.tickets.split(",")]
    rows = scale(sizes, args.repeat, jobs, engines, args.repeat_large)
    if args.markdown is not None:
        args.markdown.write_text(markdown(rows))
    if args.chart is not None:
        chart(rows, args.chart)
    if args.calendar_pairs > 0:
        calendar_batch(args.calendar_pairs, args.repeat)


if __name__ == "__main__":
    main()
