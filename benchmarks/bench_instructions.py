"""Instruction counts: `sla evaluate` and `sla report` against the read
floor, in instructions executed (valgrind's callgrind), not seconds.

This machine is shared: the same commit measured 6.3x and 8.7x the floor in
wall time on the same day (docs/performance.md). Instructions executed do not
depend on what else runs, so this bench gives a ratio that stays put from
one run to the next, for telling a change of a few percent from noise. It is
a complement to `bench_scale.py`, not a replacement: an instruction of the
interpreter's main loop costs more time than one of orjson's parser, so the
time ratio is higher than the instruction ratio.

Each command runs twice under callgrind: on the first N and the first N/3
tickets of the bench history. The difference over the tickets between is
the work per ticket once caches are warm (the calendar's yearly index, the
policy resolution per attribute state); what is left of a run is its
start-up, warm-up included (imports, the policy file, holiday tables).
From both, the ratio to the floor is worked out for any history size:
(start-up + n x per ticket) / (floor start-up + n x floor per ticket).

    python benchmarks/bench_instructions.py                # 3,000 tickets, interpreted
    python benchmarks/bench_instructions.py --engines interpreted,compiled

It needs valgrind (`apt-get install valgrind`); under it a run is about 50
times slower, so 3,000 tickets take a few minutes in all.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench_scale import FLOOR, NOW, POLICY, RUN_ENV, SLA, compiled_installed, history

#: The history the samples are cut from: the 100k-ticket bench history (its
#: first tickets; generated once, as bench_scale.py does).
SOURCE_TICKETS = 100_000
#: Sizes the ratio is extrapolated to.
AT_SIZES = (10_000, 100_000, 1_000_000)
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass
class Count:
    name: str
    startup: int  # instructions of the one-line run
    per_ticket: float  # instructions per ticket beyond it

    def at(self, tickets: int) -> float:
        return self.startup + self.per_ticket * tickets


def first_tickets(source: Path, tickets: int, folder: Path) -> Path:
    """The lines of the first ``tickets`` tickets of ``source`` (a ticket's
    lines are together there) as a file in ``folder``."""
    sample = folder / f"first-{tickets}.jsonl"
    seen = 0
    previous = None
    with source.open("rb") as lines, sample.open("wb") as out:
        for line in lines:
            ticket = line[: line.index(b",")]  # '{"ticket_id":"T000001"' as generated
            if ticket != previous:
                seen += 1
                previous = ticket
                if seen > tickets:
                    break
            out.write(line)
    return sample


def instructions(argv: list[str]) -> int:
    """Instructions the command executes, start to exit (callgrind's total)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        capture_output=True,
        text=True,
        env={**RUN_ENV, "PYTHONHASHSEED": "0"},  # the same dict layouts in every run
        check=False,
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(argv)} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def command(engine: str, run: str, events: Path, out: Path) -> list[str]:
    argv = SLA[engine] + [run, "--policies", str(POLICY), "--events", str(events), "--now", NOW]
    argv += ["--output", str(out), "--jobs", "1"]
    if run == "report":
        argv += ["--by", "channel,priority", "--format", "json"]
    return argv


def count(
    name: str, make: Callable[[Path], list[str]], samples: tuple[Path, Path], sizes: tuple[int, int]
) -> Count:
    """Instructions of the command ``make`` gives for a history file, split
    into start-up and per ticket (from the runs on both samples)."""
    # One run outside valgrind first: Python's bytecode cache is then written,
    # and neither counted run pays for compiling the sources.
    subprocess.run(make(samples[0]), env=RUN_ENV, capture_output=True, check=True)
    small, large = (instructions(make(sample)) for sample in samples)
    per_ticket = (large - small) / (sizes[1] - sizes[0])
    return Count(name, round(small - per_ticket * sizes[0]), per_ticket)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000, help="tickets per measured run")
    parser.add_argument("--engines", default="interpreted", help="interpreted,compiled")
    parser.add_argument("--runs", default="evaluate,report")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    engines = [e for e in args.engines.split(",") if e]
    if "compiled" in engines and not compiled_installed():
        raise SystemExit("the compiled engine is not installed (pip install . with a C compiler)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = (args.tickets // 3, args.tickets)
        source = history(SOURCE_TICKETS)
        samples = (first_tickets(source, sizes[0], folder), first_tickets(source, sizes[1], folder))
        out = folder / "out"
        counts = [count("read floor", lambda path: [*FLOOR, str(path)], samples, sizes)]
        for engine in engines:
            for run in args.runs.split(","):
                counts.append(
                    count(
                        f"{engine} {run} --jobs 1",
                        lambda path, e=engine, r=run: command(e, r, path, out),
                        samples,
                        sizes,
                    )
                )
    floor = counts[0]
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; "
        f"runs on the first {sizes[0]:,} and {sizes[1]:,} tickets"
    )
    at_sizes = "".join(f"{'x floor, ' + format(n, ',') + ' tickets':>27}" for n in AT_SIZES)
    print(f"{'run':<32}{'start-up':>10}{'per ticket':>12}{'x floor/ticket':>16}{at_sizes}")
    for c in counts:
        ratios = "".join(f"{c.at(n) / floor.at(n):>27.2f}" for n in AT_SIZES)
        print(
            f"{c.name:<32}{c.startup / 1e6:>9.0f}M{c.per_ticket / 1e3:>11.1f}k"
            f"{c.per_ticket / floor.per_ticket:>16.2f}{ratios}"
        )


if __name__ == "__main__":
    main()
