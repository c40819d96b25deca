"""Writing a :class:`~sla.report.results.Report` in one of the report formats:
JSON, tidy CSV or a terminal table here, the HTML page via :mod:`sla.report.html`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Final

import orjson

from sla.errors import ArgumentError, check_argument
from sla.report.figures import ReportError
from sla.report.results import DISTRIBUTION_FIGURES, KpiGroup, Report, ReportMeta, SlaGroup
from sla.report.text import (
    GOOD,
    WARN,
    cut,
    duration_text,
    group_text,
    hours_label,
    percent_text,
    source_text,
    unmeasured_line,
)
from sla.timefmt import header_instant

FORMATS = ("table", "json", "csv", "html", "parquet")


def write_report(report: Report, out: IO[bytes], fmt: str = "json") -> None:
    """Write the report to a binary stream in ``table``, ``json``, ``csv``, ``html`` or ``parquet``."""
    check_argument("report", report, Report, "a Report, as build_report gives it")
    given: object = out  # untyped callers hand over text streams too
    if isinstance(given, io.TextIOBase):
        raise ArgumentError("out: expected a binary stream (open(path, 'wb'), io.BytesIO), got a text stream")
    if fmt == "json":
        text = render_json(report)
    elif fmt == "csv":
        text = render_csv(report)
    elif fmt == "table":
        text = render_table(report)
    elif fmt == "html":
        # Imported here: the HTML report and its charts are start-up (a few
        # ms; 8 M of a 20-line report's 1,210 M instructions) that a JSON or
        # CSV report need not pay.
        from sla.report.html import render_html

        text = render_html(report)
    elif fmt == "parquet":
        write_parquet(report, out)
        out.flush()
        return
    else:
        raise ReportError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out.write(text.encode("utf-8"))
    out.flush()


# ------------------------------------------------------------------- json
def render_json(report: Report) -> str:
    """Exactly the object of SEMANTICS.md section 7: standard JSON, so a
    figure that is not a finite number (NaN, infinity) is written ``null``."""
    return json_text(report.to_dict())


#: orjson's options for :func:`json_text`: indented by two, and any type
#: but the plain JSON ones (a subclass of str or int, a dataclass, a
#: datetime) left to Python's json, as before.
_ORJSON_OPTIONS: Final = (
    orjson.OPT_INDENT_2
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
#: A number orjson may write otherwise than Python: those below 1e-4, which
#: Python writes with an exponent of two digits (1e-05, 5e-06) and orjson
#: as 0.00001 or 5e-6 (every other float the same: tested on random bit
#: patterns).  Each holds one of these, which bytes.find looks for in C (a
#: regular expression over the whole text took 4 ms of a 100 KB report,
#: where orjson itself takes 0.15 ms).
_UNLIKE_PYTHON_MARKS: Final = (b"e-", b"0.0000")
#: Such a number on its line (group 1): a value starts the line after its
#: indent (an item of a list, or the whole text) or follows a key's ": ".
#: Text inside a string can match too: :func:`_outside_text` tells.
_UNLIKE_PYTHON: Final = re.compile(rb"(?:^ *|: )(-?(?:0\.0000|[0-9][0-9.]*e)[-+0-9.e]*)")


def _outside_text(line: bytes, at: int) -> bool:
    """Whether position ``at`` of a ``line`` of indented JSON is outside
    every string (a string never spans two lines: its line breaks are
    escaped)."""
    quotes = 0
    i = 0
    while i < at:
        char = line[i]
        if char == 0x5C:  # a backslash (only ever in a string): it and the next are one
            i += 2
            continue
        quotes += char == 0x22
        i += 1
    return quotes % 2 == 0


def _pythons_numbers(text: bytes) -> bytes:
    """orjson's indented ``text`` with every number it writes otherwise than
    Python written as Python does (``repr`` of the same float: orjson's text
    reads back as the very float it wrote)."""
    starts: set[int] = set()  # of the lines that hold a mark
    for mark in _UNLIKE_PYTHON_MARKS:
        at = text.find(mark)
        while at >= 0:
            starts.add(text.rfind(b"\n", 0, at) + 1)
            at = text.find(mark, at + 1)
    if not starts:
        return text
    parts: list[bytes] = []
    last = 0
    for start in sorted(starts):
        end = text.find(b"\n", start)
        line = text[start : len(text) if end < 0 else end]
        for match in _UNLIKE_PYTHON.finditer(line):
            first, after = match.span(1)
            if _outside_text(line, first):
                parts += (text[last : start + first], repr(float(line[first:after])).encode())
                last = start + after
    parts.append(text[last:])
    return b"".join(parts)


def json_text(data: object) -> str:
    """``data`` as indented JSON text, as ``json.dumps(data, indent=2,
    ensure_ascii=False)`` writes it, with a line break at the end and every
    NaN or infinity as ``null`` (standard JSON has neither).

    orjson writes it, in a tenth of the time (a 10,000-ticket report: 0.4 ms
    against 3.4-5.7 ms), and a number it writes otherwise than Python (below
    1e-4) is written again as Python does; what orjson would write its own
    way or not at all (a key that is not text, an integer beyond 64 bits, a
    subclass, a dataclass, a datetime) Python's json writes.

    >>> print(json_text({"compliance": 0.5, "tiny": 1e-05, "mean": float("nan"), "groups": [{}]}), end="")
    {
      "compliance": 0.5,
      "tiny": 1e-05,
      "mean": null,
      "groups": [
        {}
      ]
    }
    """
    try:
        fast = orjson.dumps(data, option=_ORJSON_OPTIONS)
    except TypeError:  # (orjson.JSONEncodeError is one)
        pass
    else:
        return _pythons_numbers(fast).decode() + "\n"
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:  # a non-finite float somewhere: rare, so only then walk the object
        return json.dumps(finite_only(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def finite_only(value: object) -> object:
    """A copy of a JSON-like value with every NaN or infinite float as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_only(v) for v in value]
    return value


# -------------------------------------------------------------------- csv
CSV_FIGURE_COLUMNS = ("metric", "figure", "value")


def group_json(group: Mapping[str, object]) -> str:
    return json.dumps(group, ensure_ascii=False, separators=(",", ":"))


def group_cell(value: object) -> str:
    """A group key's value in a cell: text as it is, null empty, others as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _parquet_group_cell(value: object) -> str | None:
    """A group key's value in a Parquet text column: null stays null."""
    return None if value is None else group_cell(value)


def group_columns(report: Report) -> list[str]:
    """One column per group key; a key named like a fixed column is written ``group.<key>``."""
    fixed = {"section", *CSV_FIGURE_COLUMNS}
    return [f"group.{k}" if k in fixed else k for k in report.group_keys]


def _flat_figures(row: Mapping[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    for key, value in row.items():
        if key in ("group", "metric") and not prefix:
            continue
        if isinstance(value, dict):
            yield from _flat_figures(value, f"{prefix}{key}.")
        elif value is None and key in DISTRIBUTION_FIGURES:
            for part in ("mean", "p50", "p90"):
                yield f"{prefix}{key}.{part}", None
        else:
            yield prefix + key, value


def csv_rows(report: Report) -> Iterable[tuple[str, tuple[str, ...], str, str, object]]:
    """Tidy rows: (section, group cells, metric, figure, value), one per group
    and figure; ``report`` rows carry now, tickets, rejected and the ``meta``
    figures, with empty group cells."""
    data = report.to_dict()
    keys = report.group_keys
    none = ("",) * len(keys)
    for figure in ("now", "tickets", "rejected"):
        yield ("report", none, "", figure, data[figure])
    for figure, value in _flat_figures(dict(data["meta"]), "meta."):
        yield ("report", none, "", figure, ", ".join(value) if isinstance(value, list) else value)
    for row in data["sla"]:
        cells = tuple(group_cell(row["group"].get(k)) for k in keys)
        for figure, value in _flat_figures(row):
            yield ("sla", cells, row["metric"], figure, value)
    for kpis in data["kpis"]:
        cells = tuple(group_cell(kpis["group"].get(k)) for k in keys)
        for figure, value in _flat_figures(kpis):
            yield ("kpis", cells, "", figure, value)


def render_csv(report: Report) -> str:
    """Null values are empty cells, as are figures that are not finite (JSON
    writes them null); floats are written in full (Python's repr)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", *group_columns(report), *CSV_FIGURE_COLUMNS))
    for section, cells, metric, figure, value in csv_rows(report):
        shown: object = value
        if isinstance(value, float):
            shown = repr(value) if math.isfinite(value) else ""
        elif value is None:
            shown = ""
        writer.writerow((section, *cells, metric, figure, shown))
    return buffer.getvalue()


# ---------------------------------------------------------------- parquet
def write_parquet(report: Report, out: IO[bytes]) -> None:
    """One row per SLA group and metric (``section`` ``sla``) and per ticket
    group (``kpis``): the section, one text column per group key, ``metric``,
    then every figure flattened (``elapsed_seconds.p50``); the report's
    ``now``, counts and ``meta`` are the file's key-value metadata (JSON)."""
    try:
        import pyarrow
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError('--format parquet needs pyarrow: pip install "sla[arrow]"') from None
    keys, columns = report.group_keys, group_columns(report)
    rows: list[dict[str, object]] = []
    for section, groups in (("sla", report.sla), ("kpis", report.kpis)):
        for group in groups:
            record: dict[str, object] = {"section": section}
            record.update(  # null for a missing value; "" stays text, a group of its own
                {c: _parquet_group_cell(group.group.get(k)) for c, k in zip(columns, keys, strict=True)}
            )
            record["metric"] = getattr(group, "metric", None)
            record.update(_flat_figures(group.to_dict()))
            rows.append(record)
    text = pyarrow.string()
    # Every row gets every column (null where a figure belongs to the other
    # section): from_pylist takes its columns from the first row alone.
    names = list(dict.fromkeys(name for row in rows for name in row))
    rows = [{name: row.get(name) for name in names} for row in rows]
    table = pyarrow.Table.from_pylist(rows) if rows else pyarrow.table({"section": pyarrow.array([], text)})
    for name in columns:  # a key no ticket has is all null: still a text column
        if name in table.column_names and table.schema.field(name).type != text:
            table = table.set_column(table.column_names.index(name), name, table[name].cast(text))
    data = report.to_dict()
    head = {k: v for k, v in data.items() if k not in ("sla", "kpis")}
    table = table.replace_schema_metadata({"sla.report": json.dumps(head, ensure_ascii=False)})
    pq.write_table(table, out)


def flag(share: float | None) -> str:
    if share is None or share >= GOOD:
        return ""
    return "!!" if share < WARN else "!"


# ------------------------------------------------------------------ table
def _format_rows(
    header: Sequence[str], rows: Sequence[str | tuple[str, ...]], widths: Sequence[int], left: int
) -> list[str]:
    """Columns: the first ``left`` left-aligned, the rest right-aligned; one space apart.

    A first cell too long for its column goes on a line of its own above its
    row; a row given as a plain string is written as it is.
    """

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False)):
            cell = cut(cell, width)
            parts.append(cell.ljust(width) if i < left else cell.rjust(width))
        return " ".join(parts).rstrip()

    lines = [line(header), " ".join("-" * w for w in widths)]
    for cells in rows:
        if isinstance(cells, str):
            lines.append(cells)
            continue
        if len(cells[0]) > widths[0]:
            lines.append(cells[0])
            cells = ("", *cells[1:])
        lines.append(line(cells))
    return lines


SLA_WIDTHS = (6, 6, 6, 5, 5, 7, 2, 7, 7)
SLA_HEADER = ("cycles", "achvd", "brchd", "canc", "open", "compl", "", "p50", "p90")


def _sla_cells(row: SlaGroup, meta: ReportMeta) -> tuple[str, ...]:
    el = row.elapsed_seconds
    business = meta.hours_of(row.metric) != "calendar"
    return (
        str(row.cycles),
        str(row.achieved),
        str(row.breached),
        str(row.cancelled),
        str(row.running + row.paused),
        percent_text(row.compliance),
        flag(row.compliance),
        duration_text(None if el is None else el.p50, business),
        duration_text(None if el is None else el.p90, business),
    )


#: The third ticket table (SEMANTICS.md section 13): replies, logged work,
#: sentiment and bots, with a note under it that says what each column counts.
WORK_TITLE = "Replies, work, sentiment, bots  (durations in calendar time)"
WORK_HEADER = ("reply p50", "reply p90", "logged", "handle avg", "sentim.", "change", "bot share", "bot solo")
WORK_WIDTHS = (9, 9, 7, 10, 7, 6, 9, 8)
WORK_NOTE = (
    "reply: a customer's wait for an agent reply; logged: tickets with time_spent, handle avg: "
    "their mean total; sentim.: tickets with a customer sentiment, change: mean last - first; "
    "bot share: of public agent and bot messages; bot solo: of the done tickets, those only a bot answered"
)


def _work_cells(k: KpiGroup) -> tuple[str, ...]:
    """Reply times, tickets with logged work and its mean, tickets with a
    sentiment and its mean change, the bot share and the bot-alone rate."""
    reply, handle, mood = k.reply_seconds, k.handle_seconds, k.sentiment
    return (
        duration_text(None if reply is None else reply.p50),
        duration_text(None if reply is None else reply.p90),
        str(handle.tickets),
        duration_text(handle.mean if handle.mean is not None and math.isfinite(handle.mean) else None),
        str(mood.tickets),
        "-" if mood.change_mean is None else f"{mood.change_mean:+.2f}",
        percent_text(k.bot_share),
        percent_text(k.bot_resolved_rate),
    )


def header_lines(report: Report) -> list[str]:
    """Where the figures come from: ``now``, the policy file(s), the events' time range."""
    lines = [
        f"SLA report as of {header_instant(report.now)}: {report.tickets:,} tickets, {report.rejected:,} rejected"
    ]
    lines += source_text(report).split("; ")
    return lines


def hours_line(report: Report) -> str | None:
    """Which metrics' elapsed times are business time and which calendar time."""
    kinds: dict[str, list[str]] = {}
    for metric, hours in report.meta.hours.items():
        kinds.setdefault(hours_label(hours), []).append(metric)
    if not kinds:
        return None
    return "p50/p90: elapsed time counted in the target's hours; " + "; ".join(
        f"{label}: {', '.join(metrics)}" for label, metrics in sorted(kinds.items())
    )


def _wrapped(note: str) -> list[str]:
    """A note of the table as lines of 100 characters at most, indented after
    the first.  (textwrap imported here: only tables need it, and a report in
    any other format starts 1 ms sooner without it.)"""
    import textwrap

    return textwrap.wrap(note, 100, subsequent_indent="  ")


def render_table(report: Report) -> str:
    """Readable in 100 columns: compliance per metric and group, then the KPIs.

    Short group labels make one metric x group table; long ones (several
    ``--by`` keys, periods) make one block per group, headed by its label.
    """
    keys = report.group_keys
    key_title = " / ".join(keys) if keys else "group"
    out = header_lines(report)
    if keys:
        out.append(f"grouped by {', '.join(keys)}" + (f" (periods in {report.tz})" if report.period else ""))
    out.append("")
    out.append("SLA compliance  (achieved / (achieved + breached); ! below 95%, !! below 80%)")
    meta = report.meta
    if not report.sla:
        out.append("(no cycles with a target)")
    elif max(len(group_text(r.group)) for r in report.sla) <= 20:
        rows: list[str | tuple[str, ...]] = []
        previous = None
        for row in sorted(report.sla, key=lambda r: r.metric):  # stable: groups keep their order
            if keys and previous is not None and row.metric != previous:
                rows.append("")
            previous = row.metric
            rows.append((row.metric, group_text(row.group), *_sla_cells(row, meta)))
        out += _format_rows(("metric", key_title, *SLA_HEADER), rows, (16, 20, *SLA_WIDTHS), 2)
    else:
        rows = []
        previous_group = None
        for row in report.sla:
            label = group_text(row.group)
            if label != previous_group:
                rows.append(f"{key_title}: {label}")
                previous_group = label
            rows.append(("  " + row.metric, *_sla_cells(row, meta)))
        out += _format_rows(("metric", *SLA_HEADER), rows, (18, *SLA_WIDTHS), 1)
    for note in (hours_line(report), unmeasured_line(report)):
        if note:
            out += _wrapped(note)
    out.append("")
    out.append("Tickets  (FRT: first response time, calendar time)")
    if report.kpis:
        widths: tuple[int, ...] = (22, 7, 7, 7, 6, 8, 8, 8, 5, 5, 6)
        header: tuple[str, ...] = (
            key_title,
            "tickets",
            "msg in",
            "msg out",
            "reqs",
            "FRT avg",
            "FRT p50",
            "FRT p90",
            "csat",
            "avg",
            "sat",
        )
        rows = []
        for k in report.kpis:
            frt = k.first_response_seconds
            rows.append(
                (
                    group_text(k.group),
                    str(k.tickets),
                    str(k.messages_in),
                    str(k.messages_out),
                    str(k.unique_requesters),
                    duration_text(None if frt is None else frt.mean),
                    duration_text(None if frt is None else frt.p50),
                    duration_text(None if frt is None else frt.p90),
                    str(k.csat.responses),
                    "-" if k.csat.mean is None else f"{k.csat.mean:.2f}",
                    percent_text(k.csat.satisfied_share, 0),
                )
            )
        out += _format_rows(header, rows, widths, 1)
        out.append("")
        out.append("Ticket rates  (share of tickets; FCR: of the tickets done)")
        widths = (22, 10, 10, 10, 10, 10)
        header = (key_title, "responded", "resolved", "reopened", "FCR", "redirected")
        rows = [
            (
                group_text(k.group),
                percent_text(k.response_rate),
                percent_text(k.resolution_rate),
                percent_text(k.reopen_rate),
                percent_text(k.fcr_rate),
                percent_text(k.redirect_rate),
            )
            for k in report.kpis
        ]
        out += _format_rows(header, rows, widths, 1)
        out.append("")
        out.append(WORK_TITLE)
        rows = [(group_text(k.group), *_work_cells(k)) for k in report.kpis]
        out += _format_rows((key_title, *WORK_HEADER), rows, (22, *WORK_WIDTHS), 1)
        out += _wrapped(WORK_NOTE)
    else:
        out.append("(no tickets created at or before now)")
    return "\n".join(out) + "\n"


__all__ = [
    "FORMATS",
    "write_report",
    "render_json",
    "render_csv",
    "render_table",
    "csv_rows",
]
