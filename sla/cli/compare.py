"""``sla compare``: what a policy change would have done. One pass over a
history, each ticket evaluated under the current policy file (``--policies``)
and the proposed one (``--against``): compliance per metric and group under
both, and the cycles whose verdict changes, as a table, JSON, CSV or an HTML
page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla.cli.common import (
    UsageError,
    add_input_options,
    add_run_options,
    bulk,
    by_option,
    check_distinct,
    err,
    events_option,
    finish,
    format_option,
    jobs_option,
    map_option,
    now_option,
    output_option,
    stale_now_note,
)
from sla.errors import PolicyError
from sla.io.csv_rows import MappedPath
from sla.policy.runtime import PolicySet

COMPARE_SUFFIXES = {".json": "json", ".csv": "csv", ".html": "html", ".htm": "html", ".txt": "table"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compare",
        help="what a policy change would have done: one history under two policy files",
        description="Evaluate one history under --policies (before) and --against (after): compliance "
        "per metric and group under both, and every cycle whose verdict changes.",
    )
    add_input_options(p)
    p.add_argument(
        "--against", required=True, metavar="FILE", help="the policy file to compare with --policies (after)"
    )
    p.add_argument(
        "--by",
        metavar="FIELD,...",
        help="group by ticket attributes (their value at a cycle's end) and/or policy",
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "html"),
        help="default: by the --output suffix (.json, .csv, .html, .txt for a table), else a table on a "
        "terminal and json otherwise",
    )
    add_run_options(p)
    p.set_defaults(func=run)


def _load(option: str, path: str) -> PolicySet:
    from sla.io.policy_files import load_policies

    if not Path(path).exists():
        raise UsageError(f"{option}: no such file: {path}")
    return load_policies(Path(path))


def load_both(before_path: str, after_path: str) -> tuple[PolicySet, PolicySet]:
    """Both policy files, compiled; the errors of both are reported before failing."""
    loaded: list[PolicySet] = []
    errors: list[PolicyError | UsageError] = []
    for option, path in (("--policies", before_path), ("--against", after_path)):
        try:
            loaded.append(_load(option, path))
        except (PolicyError, UsageError) as exc:  # a missing file too: the other's errors still count
            errors.append(exc)
    if len(errors) == 2:
        # The app reports the last one, each kind as it reports any.
        first = errors[0]
        err(str(first) if isinstance(first, PolicyError) else f"sla compare: {first}")
    if errors:
        raise errors[-1]
    return loaded[0], loaded[1]


def run(args: argparse.Namespace) -> int:
    from sla.cli.progress import Progress
    from sla.io.compare_sink import compare_file
    from sla.report.compare_html import write_comparison

    before, after = load_both(args.policies, args.against)  # both checked before any event is read
    now = now_option(args.now)
    events = events_option(args.events)
    mapping = map_option(args, events)
    inputs = (events, args.policies, args.against, *([args.map] if mapping else []))
    check_distinct(args.output, *inputs)
    check_distinct(args.rejects, *inputs, option="--rejects")
    fallback = "table" if sys.stdout.isatty() and not args.output else "json"
    fmt = format_option(args.format, args.output, COMPARE_SUFFIXES, fallback)
    by = by_option(args.by)
    with bulk():
        progress = Progress(0, "tickets")
        comparison, summary = compare_file(
            before,
            after,
            events if mapping is None else MappedPath(events, mapping),
            now,
            by=by,
            names=(args.policies, args.against),
            jobs=jobs_option(args.jobs),
            input_format=args.input_format,
            progress=progress,
        )
        progress.close()
    stale_now_note("compare", args.now, now, comparison.last_event)
    with output_option(args.output) as out:
        write_comparison(comparison, out, fmt)
    return finish(summary, args.rejects)


__all__ = ["load_both", "register", "run"]
