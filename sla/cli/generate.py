"""``sla generate``: a realistic synthetic ticket history, for trying things out
and for benchmarks."""

from __future__ import annotations

import argparse

from sla.cli.common import EXIT_OK, output_option, positive_int


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="write a realistic synthetic ticket history (JSONL)",
        description="Write a synthetic history: tickets on email, chat, web and social channels over 12 "
        "weeks from 2026-01-05, with priorities, tiers, regions, replies, pauses, solves, reopens and CSAT, "
        "each ticket's events together and in time order. The same seed gives the same file.",
    )
    p.add_argument(
        "--tickets", type=positive_int, default=1000, metavar="N", help="how many tickets (default 1000)"
    )
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    p.add_argument("--output", metavar="FILE", help="where to write (default: standard output)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.generate import write_history

    with output_option(args.output) as out:
        write_history(out, tickets=args.tickets, seed=args.seed)
    return EXIT_OK
