"""``sla report``: compliance and support KPIs over a history, as a table,
JSON, CSV or an HTML page."""

from __future__ import annotations

import argparse
import sys

from sla.cli.common import (
    add_input_options,
    add_run_options,
    bulk,
    by_option,
    err,
    finish,
    format_option,
    jobs_option,
    output_option,
    run_inputs,
    stale_now_note,
)

REPORT_SUFFIXES = {
    ".json": "json",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".txt": "table",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="compliance and support KPIs over a history")
    add_input_options(p)
    p.add_argument(
        "--by",
        metavar="FIELD,...",
        help="group by ticket attributes (value at a cycle's end / at --now) and/or policy",
    )
    p.add_argument(
        "--period",
        choices=("day", "week", "month"),
        help="also group by the local day, ISO week or month of a cycle's start / a ticket's creation",
    )
    p.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="IANA time zone of --period and the charts (default UTC)"
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "html", "parquet"),
        help="default: by the --output suffix (.json, .csv, .html, .parquet, .txt for a table), else a "
        "table on a terminal and json otherwise",
    )
    p.add_argument(
        "--score-sentiment",
        action="store_true",
        help="score the body of public customer messages that carry no sentiment with VADER "
        '(English only; supplied scores win; needs pip install "sla[sentiment]"); see docs/sentiment.md',
    )
    add_run_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.cli.progress import input_progress
    from sla.io.pipeline import report_file
    from sla.report.figures import unknown_group_keys
    from sla.report.formats import write_report
    from sla.report.text import unmeasured_line

    policies, now, events = run_inputs(args)
    fallback = "table" if sys.stdout.isatty() and not args.output else "json"
    fmt = format_option(args.format, args.output, REPORT_SUFFIXES, fallback)  # before the work
    by = by_option(args.by)
    prepare = None
    if args.score_sentiment:
        from sla.io.sentiment import sentiment_scorer

        prepare = sentiment_scorer()  # a missing package stops here, before any event is read
    with bulk():
        progress = input_progress(events)
        report, summary = report_file(
            policies,
            events,
            now,
            by=by,
            period=args.period,
            tz=args.tz,
            jobs=jobs_option(args.jobs),
            input_format=args.input_format,
            progress=progress,
            prepare=prepare,
            watchlist=fmt == "html",  # (the only output that shows the watch tables)
        )
        progress.close()
    stale_now_note("report", args.now, now, report.meta.last_event)
    for warning in unknown_group_keys(report):
        err(f"sla report: {warning}")
    unmeasured = unmeasured_line(report)
    if unmeasured and fmt != "table":
        err(f"sla report: {unmeasured}")
    with output_option(args.output) as out:
        write_report(report, out, fmt)
    return finish(summary, args.rejects)
