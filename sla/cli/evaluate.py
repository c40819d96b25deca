"""``sla evaluate``: every ticket's clocks at ``--now``, one row per cycle."""

from __future__ import annotations

import argparse

from sla.cli.common import (
    add_input_options,
    add_scale_options,
    bulk,
    finish,
    jobs_option,
    output_option,
    run_inputs,
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

    policies, now, events = run_inputs(args)
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
