"""``sla generate``: a realistic synthetic ticket history, for trying things out
and for benchmarks."""

from __future__ import annotations

import argparse

from sla.cli.common import EXIT_OK, output_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="write a realistic synthetic ticket history (JSONL)")
    p.add_argument("--tickets", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.generate import write_history

    with output_option(args.output) as out:
        write_history(out, tickets=args.tickets, seed=args.seed)
    return EXIT_OK
