"""Policy-language benchmark: the second edition's cost next to the first's.

On one synthetic history (`sla generate`), in one process, it times `sla
evaluate` (the whole pipeline: reading, clocks, judging, JSONL rows into
memory) under two policies over the same desks:

- `scale-policy.yaml`, first-edition: plain matches, a calendar per policy;
- `second-edition-policy.yaml`: five derive rules, operators in every match,
  a calendar chosen per region.

It prints the CPU seconds of each (best of --repeat, runs alternating) and
their ratio; the issue's limit is 1.5x.

    python benchmarks/bench_policy.py --tickets 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import io
import platform
import time
from pathlib import Path

from sla.cli.app import main as sla_main
from sla.io.pipeline import evaluate_file
from sla.io.policy_files import load_policies
from sla.timefmt import parse_instant

HERE = Path(__file__).resolve().parent
NOW = parse_instant("2026-04-01T00:00:00Z")


def history(tickets: int) -> Path:
    path = HERE / ".data" / f"policy-bench-{tickets}.jsonl"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        assert sla_main(["generate", "--tickets", str(tickets), "--seed", "5", "--output", str(path)]) == 0
    return path


def cpu_seconds(policy: str, events: Path) -> tuple[float, int]:
    policies = load_policies(HERE / policy)
    out = io.BytesIO()
    start = time.process_time()
    summary = evaluate_file(policies, str(events), NOW, out, "jsonl", jobs=1)
    return time.process_time() - start, summary.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    events = history(args.tickets)
    best = {"scale-policy.yaml": float("inf"), "second-edition-policy.yaml": float("inf")}
    rows = {}
    for _ in range(args.repeat):
        for policy in best:
            seconds, rows[policy] = cpu_seconds(policy, events)
            best[policy] = min(best[policy], seconds)
    first, second = best["scale-policy.yaml"], best["second-edition-policy.yaml"]
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{args.tickets} tickets, best of {args.repeat}, CPU seconds")
    print(f"  first edition:  {first:.3f} s  ({rows['scale-policy.yaml']} rows)")
    print(f"  second edition: {second:.3f} s  ({rows['second-edition-policy.yaml']} rows)")
    print(f"  ratio: {second / first:.2f}x (limit 1.5x)")


if __name__ == "__main__":
    main()
