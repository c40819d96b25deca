"""``sla evaluate``: every ticket's clocks at ``--now``, one row per cycle."""

from __future__ import annotations

import argparse

from sla.cli.common import (
    add_input_options,
    add_scale_options,
    bulk,
    check_distinct,
    events_option,
    finish,
    jobs_option,
    now_option,
    output_option,
    policies_option,
)
from sla.io.writers import OUTPUT_FORMATS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="evaluate every ticket's clocks at --now")
    add_input_options(p)
    p.add_argument("--format", choices=OUTPUT_FORMATS, default="jsonl")
    p.add_argument("--output", metavar="FILE")
    add_scale_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.pipeline import evaluate_file

    policies = policies_option(args.policies)
    now = now_option(args.now)
    events = events_option(args.events)
    check_distinct(args.output, events, args.policies)
    with bulk(), output_option(args.output) as out:
        summary = evaluate_file(
            policies,
            events,
            now,
            out,
            args.format,
            jobs=jobs_option(args.jobs),
            input_format=args.input_format,
        )
    return finish(summary)
