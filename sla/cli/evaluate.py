"""``sla evaluate``: every ticket's clocks at ``--now``, one row per cycle,
optionally filtered (state, metric, policy, due soon) and sorted by due time."""

from __future__ import annotations

import argparse

from sla.cli.common import (
    UsageError,
    add_input_options,
    add_run_options,
    bulk,
    finish,
    format_option,
    jobs_option,
    names_option,
    output_option,
    run_inputs,
    stale_now_note,
    tz_option,
)
from sla.errors import SlaError
from sla.io.row_filter import STATES, RowFilter
from sla.io.writers import OUTPUT_FORMATS
from sla.policy.runtime import PolicySet

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
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA zone of the table's due times and of a bare --now date (default UTC; rows stay UTC)",
    )
    p.add_argument("--state", metavar="STATE,...", help=f"keep rows in these states ({', '.join(STATES)})")
    p.add_argument("--metric", metavar="METRIC,...", help="keep rows of these metrics")
    p.add_argument("--policy", metavar="POLICY,...", help="keep rows judged by these policies")
    p.add_argument(
        "--due-within",
        metavar="DURATION",
        help="keep open cycles due within DURATION of --now (like 2h or 30m), overdue ones included; "
        "sorts by due time",
    )
    p.add_argument(
        "--sort",
        choices=("input", "due"),
        help="row order: input (tickets in input order; the default) or due (soonest due first, "
        "rows without a due time last; held in memory)",
    )
    add_run_options(p)
    p.set_defaults(func=run)


def _row_filter(args: argparse.Namespace, policies: PolicySet, now: int) -> RowFilter:
    due_by = None
    if args.due_within is not None:
        # (imported here: with the decimal module, it costs a command 3 ms to import)
        from sla.policy.duration import parse_duration_us

        try:
            due_by = now + parse_duration_us(args.due_within)
        except SlaError as exc:
            raise UsageError(f"--due-within: {exc}") from None
    return RowFilter(
        states=names_option("--state", args.state, STATES, "a cycle state"),
        metrics=names_option("--metric", args.metric, policies.metrics, "a metric of the policy file"),
        policies=names_option(
            "--policy", args.policy, [p.name for p in policies.policies], "a policy of the file"
        ),
        due_by=due_by,
    )


def run(args: argparse.Namespace) -> int:
    from sla.cli.progress import input_progress
    from sla.io.pipeline import run as run_pipeline
    from sla.io.sinks import RowSink
    from sla.io.writers import TableOptions

    tz_option(args.tz)
    policies, now, events = run_inputs(args)
    fmt = format_option(args.format, args.output, ROW_SUFFIXES, "jsonl")
    keep = _row_filter(args, policies, now)
    sort_due = args.sort == "due" or (args.sort is None and args.due_within is not None)
    with bulk(), output_option(args.output) as out:
        sink = RowSink(
            policies,
            now,
            out,
            fmt,
            keep=keep,
            sort_due=sort_due,
            table=TableOptions(now, args.tz, policies.source),
        )
        progress = input_progress(events)
        summary = run_pipeline(
            sink, events, jobs=jobs_option(args.jobs), input_format=args.input_format, progress=progress
        )
        progress.close()
        summary.rows = sink.finish()
    stale_now_note("evaluate", args.now, now, sink.range.last)
    return finish(summary, args.rejects)
