"""``sla reconcile``: the vendor's own SLA verdicts against this engine's
cycles on the same tickets (SEMANTICS.md section 14).

The export is imported into a scratch file (the driver of ``sla import``),
evaluated under ``--policies`` at ``--now``, and the two sides' cycles are
matched and compared (:mod:`sla.importers.reconcile`). Exit status: 0 when
every cycle agrees and every record was read, 1 when some differ or were
skipped, or when the export holds no vendor SLA record (nothing was
compared), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import io
import os
import tempfile
import textwrap
from typing import IO

from sla.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    SHOWN_REJECTIONS,
    UsageError,
    check_distinct,
    err,
    format_option,
    now_option,
    output_option,
    policies_option,
    printable,
)
from sla.importers.base import ImportProblem, Source
from sla.importers.reconcile import Figures, Reconciliation
from sla.policy.runtime import PolicySet
from sla.timefmt import format_instant

FORMATS = ("table", "json", "csv")
SUFFIXES = {".json": "json", ".csv": "csv", ".txt": "table"}
#: Vendor names as causes print them.
VENDOR_NAMES = {"zendesk": "Zendesk", "jira": "Jira", "freshdesk": "Freshdesk", "zammad": "Zammad"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reconcile", help="compare the vendor's own SLA verdicts with this engine's")
    p.add_argument("source", metavar="SOURCE", help="the export's vendor: zendesk, jira, ...")
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or folders of the vendor's saved API responses"
    )
    p.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    p.add_argument("--now", metavar="TIMESTAMP", help="judge both sides as of this instant (default: now)")
    p.add_argument("--format", choices=FORMATS, help="default: by the --output suffix, else table")
    p.add_argument("--output", metavar="FILE", help="where to write (default: standard output)")
    p.add_argument(
        "--metric-map",
        nargs="+",
        action="extend",
        metavar="'NAME=METRIC'",
        help="the vendor's SLA names as metrics (jira; default: 'Time to first response=first_response' "
        "'Time to resolution=resolution')",
    )
    p.set_defaults(func=run)


def metric_map(values: list[str] | None, policies: PolicySet) -> dict[str, str] | None:
    """``--metric-map`` as {SLA name: metric}, each metric one the policy
    file knows. Entries follow the option (put the ``PATH`` arguments before
    it) or are joined by ``;`` in one value; they add to the defaults."""
    if not values:
        return None
    from sla.importers.jira_sla import MetricMapError, parse_metric_map

    try:
        mapping = parse_metric_map(values)
    except MetricMapError as exc:
        raise UsageError(str(exc)) from None
    for name, metric in mapping.items():
        if metric and metric not in policies.metrics:
            known = ", ".join(sorted(policies.metrics))
            raise UsageError(
                f"--metric-map: {name}={metric}: {metric!r} is not a metric; expected one of {known}"
            )
    return mapping


def make_source(word: str, mapping: dict[str, str] | None) -> Source:
    """The source of ``word``, given ``--metric-map`` if it takes one."""
    from sla.importers.registry import UnknownSource, source_class

    try:
        cls = source_class(word)
    except UnknownSource as exc:
        raise UsageError(str(exc)) from None
    if mapping is None:
        return cls()
    if "metric_map" not in inspect.signature(cls).parameters:
        raise UsageError(f"--metric-map names SLA records of jira; {cls.name} names its metrics itself")
    return cls(metric_map=mapping)  # type: ignore[call-arg]


def run(args: argparse.Namespace) -> int:
    import sla
    from sla.importers.reconcile import reconcile
    from sla.importers.run import import_events

    policies = policies_option(args.policies)
    now = now_option(args.now)
    fmt = format_option(args.format, args.output, SUFFIXES, "table")
    source = make_source(args.source, metric_map(args.metric_map, policies))
    check_distinct(args.output, args.policies, *args.paths)
    problems: list[ImportProblem] = []
    with tempfile.TemporaryDirectory(prefix="sla-reconcile-") as scratch:
        events_path = os.path.join(scratch, "events.jsonl")
        with open(events_path, "wb") as events_out:
            summary, vendor = import_events(
                source, args.paths, events_out, workdir=scratch, on_problem=problems.append
            )
        with open(events_path, "rb") as lines:
            tickets, line_errors = sla.read_jsonl(lines)
    wanted = {cycle.ticket for cycle in vendor}
    rejected = [t for t in tickets.values() if t.error is not None]
    judged = [t for t in tickets.values() if t.error is None and t.ticket_id in wanted]
    ours = sla.evaluate_many(policies, judged, now, with_warnings=False)
    name = VENDOR_NAMES.get(source.name, source.name)
    result = reconcile(
        vendor, ours, now, events=tickets, done_statuses=policies.done_statuses, vendor_name=name
    )
    with output_option(args.output) as out:
        write(result, out, fmt, source.name, name)
    for problem in problems[:SHOWN_REJECTIONS]:
        err(printable(str(problem)))
    for ticket in rejected[:SHOWN_REJECTIONS]:
        err(f"rejected: {printable(str(ticket.error))}")
    hidden = max(0, len(problems) - SHOWN_REJECTIONS) + max(0, len(rejected) - SHOWN_REJECTIONS)
    if hidden:
        err(f"... and {hidden:,} more; sla import {source.name} PATH... --rejects FILE writes all of them")
    for line in summary.lines():
        err(printable(line))
    if rejected or line_errors:
        err(f"{len(rejected) + len(line_errors)} imported ticket(s) or line(s) the engine could not read")
    if not result.agrees:
        err(f"{len(result.differences)} cycle(s) differ")
    if not result.metrics:
        err(
            f"{name}'s own SLA verdicts are not read from its exports: nothing was compared"
            if not source.reads_vendor_slas
            else f"no {name} SLA records in the export: nothing was compared (save the vendor's SLA "
            "records beside the history, see docs/importing.md)"
            if not vendor
            else f"none of {name}'s SLA cycles could be compared: nothing was compared"
        )
    clean = (
        result.agrees
        and bool(result.metrics)
        and summary.complete
        and not problems
        and not rejected
        and not line_errors
    )
    return EXIT_OK if clean else EXIT_REJECTED


def write(result: Reconciliation, out: IO[bytes], fmt: str, source: str, vendor: str) -> None:
    """The reconciliation as a table, JSON or CSV."""
    import orjson

    if fmt == "json":
        doc = {"source": source, **result.as_dict()}
        out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    elif fmt == "csv":
        out.write(csv_text(result).encode())
    else:
        out.write(table_text(result, vendor).encode())


COUNTS = ("compared", "agreeing", "differing", "only_vendor", "only_ours")
SIDE = ("state", "breached", "elapsed_seconds", "target_seconds", "started_at", "ended_at")


def csv_text(result: Reconciliation) -> str:
    """One row per metric (``section`` metric) then one per difference."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    sides = [f"{who}_{key}" for who in ("vendor", "ours") for key in SIDE]
    writer.writerow(["section", "metric", *COUNTS, "ticket_id", "cycle", "differs", *sides, "cause"])
    blank_counts = [""] * len(COUNTS)
    for metric, counts in sorted(result.metrics.items()):
        writer.writerow(["metric", metric, *(getattr(counts, c) for c in COUNTS), *[""] * (4 + len(sides))])
    for d in result.differences:
        figures = [_cell(side, key) for side in (d.vendor, d.ours) for key in SIDE]
        writer.writerow(
            ["difference", d.metric, *blank_counts, d.ticket, d.cycle, " ".join(d.what), *figures, d.cause]
        )
    return buffer.getvalue()


def _cell(side: Figures | None, key: str) -> object:
    if side is None:
        return ""
    value = side.as_dict()[key]
    return "" if value is None else str(value).lower() if isinstance(value, bool) else value


def table_text(result: Reconciliation, vendor: str) -> str:
    """Counts per metric, then every difference with both sides' figures."""
    lines = [
        f"{vendor}'s SLA records against --policies as of {format_instant(result.now)} "
        f"(ended cycles agree within {result.tolerance_s:g} s of elapsed time)",
        "",
    ]
    header = ("metric", "compared", "agreeing", "differing", "only vendor", "only ours")
    rows = [header] + [(m, *(str(getattr(c, k)) for k in COUNTS)) for m, c in sorted(result.metrics.items())]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    if not result.metrics:
        lines.append("(no vendor SLA records to compare)")
    if result.unmeasured:
        lines.append(
            f"{result.unmeasured} vendor cycle(s) without a target, not measured here either, set aside"
        )
    if not result.metrics:
        verdict = "nothing compared"  # no record to agree with: not "every cycle agrees"
    elif result.agrees:
        verdict = "every cycle agrees"
    else:
        verdict = f"{len(result.differences)} difference(s):"
    lines += ["", verdict]
    for d in result.differences:
        if d.vendor is None:
            what = f"{vendor} has no such cycle"
        elif d.ours is None:
            what = "this contract has no such cycle"
        else:
            what = f"differs in {', '.join(d.what)}"
        lines += [
            "",
            f"ticket {printable(d.ticket)}  {d.metric} cycle {d.cycle}: {what}",
            f"  vendor: {'-' if d.vendor is None else d.vendor.text()}",
            f"  ours:   {'-' if d.ours is None else d.ours.text()}",
            *textwrap.wrap(d.cause, 100, initial_indent="  cause:  ", subsequent_indent="          "),
        ]
    return "\n".join(lines) + "\n"
