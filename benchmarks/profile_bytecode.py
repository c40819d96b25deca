"""Bytecode per ticket: where the interpreted engine's `sla evaluate` or
`sla report` spends its Python bytecode, function by function, counted (not
sampled), so two runs give the same table.

Time profilers (cProfile) add a cost to every call, which inflates code
made of many small calls; instruction counts (bench_instructions.py) say how
much a run costs but not which Python function the instructions ran for.
This counts the bytecode instructions each function executes (a
``sys.settrace`` tracer with ``f_trace_opcodes``), on the first N and the
first N/2 tickets of the bench history; the difference over the tickets
between is the bytecode per ticket once caches are warm, as in
bench_instructions.py.  Only the interpreted engine runs bytecode in the hot
modules, so it always runs interpreted (``tests/engine_shim.py``).

    python benchmarks/profile_bytecode.py --run report
    python benchmarks/profile_bytecode.py --run evaluate --tickets 4000 --top 40

A bytecode instruction is not a unit of time: one that calls, allocates or
looks up a dict costs many machine instructions, one that loads a local a
few (docs/performance.md, twenty-fifth session, compares the two).  Use it
to find where a ticket's bytecode goes, then measure a change with
bench_instructions.py and bench_scale.py.
"""

from __future__ import annotations

import argparse
import collections
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from bench_instructions import SOURCE_TICKETS, first_tickets
from bench_scale import NOW, POLICY, ROOT, RUN_ENV, history

#: Functions are named by their file (from the repository root), first line and name.
FunctionKey = tuple[str, int, str]
#: What sys.settrace calls, and what it returns for a frame (a local tracer).
Tracer = Callable[[FrameType, str, Any], Any]


def _child(out: str, argv: list[str]) -> None:
    """Run ``sla`` interpreted on ``argv`` with every bytecode instruction
    counted by function, and pickle the counts to ``out``."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    import engine_shim

    engine_shim.install()
    counts: collections.Counter[FunctionKey] = collections.Counter()
    root = str(ROOT) + os.sep

    def tracer(frame: FrameType, event: str, arg: Any) -> Tracer:
        code = frame.f_code
        key = (code.co_filename.replace(root, ""), code.co_firstlineno, code.co_name)
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False

        def local(frame: FrameType, event: str, arg: Any) -> Tracer:
            if event == "opcode":
                counts[key] += 1
            return local

        return local

    from sla.cli import main

    sys.argv = ["sla", *argv]
    sys.settrace(tracer)
    try:
        main()
    except SystemExit as exit:
        if exit.code not in (0, None):
            raise
    finally:
        sys.settrace(None)
    with open(out, "wb") as file:
        pickle.dump(dict(counts), file)


def counted(run: str, events: Path, folder: Path) -> dict[FunctionKey, int]:
    """The bytecode each function executed in one interpreted run."""
    argv = [run, "--policies", str(POLICY), "--events", str(events), "--now", NOW]
    argv += ["--output", str(folder / "out"), "--jobs", "1"]
    if run == "report":
        argv += ["--by", "channel,priority", "--format", "json"]
    out = folder / "counts.pickle"
    # One run first: Python's bytecode cache and the policy cache are then
    # filled, and the counted run pays for neither (as a user's second run).
    for _ in range(2):
        subprocess.run(
            [sys.executable, __file__, "--child", str(out), *argv],
            env=RUN_ENV,
            check=True,
            capture_output=True,
        )
    with open(out, "rb") as file:
        counts: dict[FunctionKey, int] = pickle.load(file)
    return counts


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--run", choices=("evaluate", "report"), default="report")
    parser.add_argument("--tickets", type=int, default=2000, help="tickets in the larger sample")
    parser.add_argument("--top", type=int, default=30, help="functions shown")
    args = parser.parse_args()
    sizes = (args.tickets // 2, args.tickets)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = history(SOURCE_TICKETS)
        small, large = (counted(args.run, first_tickets(source, n, folder), folder) for n in sizes)
    per_ticket = {key: (large[key] - small.get(key, 0)) / (sizes[1] - sizes[0]) for key in large}
    total = sum(per_ticket.values())
    print(
        f"interpreted {args.run}: {total:,.0f} bytecode instructions a ticket (first {sizes[0]:,} and {sizes[1]:,} tickets)"
    )
    print(f"{'per ticket':>11}{'share':>8}  function")
    for (path, line, name), count in sorted(per_ticket.items(), key=lambda item: -item[1])[: args.top]:
        print(f"{count:>11.1f}{count / total:>8.1%}  {path}:{line} {name}")


if __name__ == "__main__":
    main()
