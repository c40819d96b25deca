"""``sla generate``: a realistic synthetic ticket history, for trying things out
and for benchmarks."""

from __future__ import annotations

import argparse
from typing import IO, cast

from sla.cli.common import EXIT_OK, output_option, positive_int


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="write a realistic synthetic ticket history (JSONL)",
        description="Write a synthetic history: tickets on email, web, chat, phone and social channels "
        "over 12 weeks from 2026-01-05, with what the example policies match on (priority, type, category, "
        "subject, tier, region, requester and their time zone, lifetime_value, followers on social "
        "channels). Teams and agents are assigned minutes after creation, some tickets move to billing or "
        "escalate to tier 2; agents reply in their desk's working hours (Berlin, New York, Singapore; "
        "urgent tickets and incidents around the clock), bots answer first on social channels; pauses, "
        "solves, reopens, CSAT, time_spent on agents' work and sentiment on customers' messages, whose "
        "body text matches it. Each ticket's events are together and in time order. The same seed gives "
        "the same file.",
    )
    p.add_argument(
        "--tickets", type=positive_int, default=1000, metavar="N", help="how many tickets (default 1000)"
    )
    p.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    p.add_argument(
        "--output",
        metavar="FILE",
        help="where to write (default: standard output); a .gz name is gzip-compressed",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.generate import write_history

    with output_option(args.output) as out:
        if args.output is not None and args.output.endswith(".gz"):
            import gzip

            # A name never lies about its content: every reader takes gzip.
            with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
                write_history(cast("IO[bytes]", packed), tickets=args.tickets, seed=args.seed)
        else:
            write_history(out, tickets=args.tickets, seed=args.seed)
    return EXIT_OK
