"""``sla evaluate``: every ticket's clocks at ``--now``, one row per cycle."""

from __future__ import annotations

import argparse

from sla.cli.common import (
    add_input_options,
    add_run_options,
    bulk,
    finish,
    format_option,
    jobs_option,
    output_option,
    run_inputs,
)
from sla.io.writers import OUTPUT_FORMATS

ROW_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "table",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="evaluate every ticket's clocks at --now")
    add_input_options(p)
    p.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        help="default: by the --output suffix (.jsonl, .csv, .parquet, .txt for a table), else jsonl",
    )
    add_run_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.pipeline import evaluate_file

    policies, now, events = run_inputs(args)
    fmt = format_option(args.format, args.output, ROW_SUFFIXES, "jsonl")
    with bulk(), output_option(args.output) as out:
        summary = evaluate_file(
            policies,
            events,
            now,
            out,
            fmt,
            jobs=jobs_option(args.jobs),
            input_format=args.input_format,
        )
    return finish(summary, args.rejects)
