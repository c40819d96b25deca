"""The output formats of ``sla compare``: JSON, CSV, a terminal table, and a
self-contained HTML page in the style of the report (its CSS, panels, pills
and chart helpers, imported from :mod:`sla.report.html`, :mod:`sla.report.charts`
and :mod:`sla.report.text`). The figures come from :mod:`sla.report.compare`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import IO

from sla.report.charts import (
    MAX_COMPLIANCE_ROWS,
    compliance_color,
    empty_svg,
    legend_svg,
    number_text,
    svg_open,
)
from sla.report.compare import (
    CHANGES,
    DROPPED,
    NEW,
    NEWLY_BREACHED,
    NO_LONGER_BREACHED,
    Comparison,
    MetricDelta,
    verdict_text,
)
from sla.report.figures import ReportError
from sla.report.formats import group_json, json_text
from sla.report.html import CSS, cards_html, panel, share_class, table_cell
from sla.report.text import cut, esc, group_text, percent_text, value_text
from sla.texts import printable
from sla.timefmt import format_instant

FORMATS = ("table", "json", "csv", "html")
CHANGE_TITLES = {
    "newly_breached": "Newly breached",
    "no_longer_breached": "No longer breached",
    "new": "New (a target only after)",
    "dropped": "Dropped (a target only before)",
}
BEFORE_COLOR = "#cbd5e1"


def write_comparison(comparison: Comparison, out: IO[bytes], fmt: str = "json") -> None:
    """Write the comparison to a binary stream as ``table``, ``json``, ``csv`` or ``html``."""
    renderers = {"table": render_table, "json": render_json, "csv": render_csv, "html": render_html}
    if fmt not in renderers:
        raise ReportError(f"unknown compare format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out.write(renderers[fmt](comparison).encode("utf-8"))
    out.flush()


def render_json(comparison: Comparison) -> str:
    """The JSON object of docs/compare.md (every figure a finite number or null)."""
    return json_text(comparison.to_dict())


SIDES = ("before", "after")
FIGURES = ("cycles", "achieved", "breached", "compliance")
VERDICT_FIELDS = ("policy", "state", "target_seconds", "hours", "elapsed_seconds")
CSV_COLUMNS = (
    *("section", "group", "metric"),
    *(f"{side}_{name}" for side in SIDES for name in FIGURES),
    *("delta_points", "ticket_id", "cycle", "change"),
    *(f"{side}_{name}" for side in SIDES for name in VERDICT_FIELDS),
)


def csv_records(comparison: Comparison) -> Iterator[dict[str, object]]:
    """The CSV rows as dicts (a missing column is an empty cell): ``sla`` and
    ``overall`` rows of figures, then a ``cycle`` row per listed change."""
    for section, rows in (("sla", comparison.sla), ("overall", comparison.overall)):
        for row in rows:
            record: dict[str, object] = {"section": section, "group": group_json(row.group)}
            record |= {f"{s}_{n}": getattr(getattr(row, s), n) for s in SIDES for n in FIGURES}
            yield record | {"metric": row.metric, "delta_points": row.delta_points}
    for change in (c for kind in CHANGES for c in comparison.changed_cycles[kind]):
        record = {"section": "cycle", "metric": change.metric, "ticket_id": change.ticket_id}
        record |= {"cycle": change.cycle, "change": change.change}
        for side, verdict in (("before", change.before), ("after", change.after)):
            if verdict is not None:
                data = verdict.to_dict()
                record |= {f"{side}_{name}": data[name] for name in VERDICT_FIELDS}
        yield record


def render_csv(comparison: Comparison) -> str:
    """One header, then ``sla``, ``overall`` and ``cycle`` rows; null is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in csv_records(comparison):
        writer.writerow(_cell(record.get(column)) for column in CSV_COLUMNS)
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


def delta_text(points: float | None) -> str:
    """``-6.8`` percentage points, ``+1.2``, ``0.0``; ``-`` when a side has no judged cycle."""
    if points is None:
        return "-"
    return "0.0" if points == 0 else f"{points:+.1f}"


# ------------------------------------------------------------------ table
def _table_rows(comparison: Comparison) -> list[tuple[str, ...] | None]:
    """Metric blocks (None between them); grouped blocks end with the metric's ``(all)`` row."""
    overall = {row.metric: row for row in comparison.overall}
    rows: list[tuple[str, ...] | None] = []
    metrics = sorted({row.metric for row in comparison.sla})
    for metric in metrics:
        if rows:
            rows.append(None)
        block = [row for row in comparison.sla if row.metric == metric]
        if comparison.by:
            block.append(overall[metric])
        for row in block:
            label = printable(group_text(row.group) if row.group or not comparison.by else "(all)")
            b, a = row.before, row.after
            figures = (str(b.cycles), str(a.cycles), percent_text(b.compliance), percent_text(a.compliance))
            rows.append((metric, label, *figures, delta_text(row.delta_points)))
    return rows


def render_table(comparison: Comparison) -> str:
    """The compliance per metric and group under both files, then the changed cycles, one line each."""
    keys = comparison.by
    out = [
        f"SLA compare as of {format_instant(comparison.now)}: "
        f"{comparison.tickets:,} tickets, {comparison.rejected:,} rejected",
        f"before: {printable(comparison.before_name)}",
        f"after:  {printable(comparison.after_name)}",
    ]
    if comparison.events_text:
        out.append(comparison.events_text)
    if keys:
        out.append(f"grouped by {', '.join(keys)}")
    out += ["", "Compliance  (achieved / (achieved + breached); delta in percentage points)"]
    rows = _table_rows(comparison)
    if not rows:
        out.append("(no cycles with a target)")
    else:
        labels = [row[1] for row in rows if row is not None]
        group_width = min(max(len(" / ".join(keys) or "group"), *(len(label) for label in labels)), 30)
        widths = (max(len(row[0]) for row in rows if row is not None), group_width, 7, 7, 7, 7, 7)
        header = ("metric", " / ".join(keys) or "group", "before", "after", "before", "after", "delta")
        lead = widths[0] + widths[1] + 2
        titles = "cycles".center(widths[2] + widths[3] + 1) + " " + "compliance".center(23)
        out.append((" " * lead + titles).rstrip())
        out += [_row(header, widths), " ".join("-" * w for w in widths)]
        out += ["" if row is None else _row(row, widths) for row in rows]
    out.append("")
    counts = comparison.changes
    out.append("Changed cycles: " + ", ".join(f"{counts[c]:,} {c.replace('_', ' ')}" for c in CHANGES))
    for kind in CHANGES:
        listed = comparison.changed_cycles[kind]
        if not listed:
            continue
        shown = f"{counts[kind]:,}" + (
            f", the first {len(listed):,} listed" if len(listed) < counts[kind] else ""
        )
        out += ["", f"{CHANGE_TITLES[kind]} ({shown})"]
        out += [f"  {printable(change.text())}" for change in listed]
    return "\n".join(out).rstrip() + "\n"


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [
        cut(cell, width).ljust(width) if i < 2 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return " ".join(parts).rstrip()


# ------------------------------------------------------------------- html
def _pill(share: float | None) -> str:
    title = "-" if share is None else f"{share:.6g}"
    return f'<td class="n" title="{esc(title)}"><span class="pill {share_class(share)}">{esc(percent_text(share))}</span></td>'


def _overall_share(rows: Sequence[MetricDelta], side: str) -> float | None:
    achieved = sum(getattr(r, side).achieved for r in rows)
    judged = achieved + sum(getattr(r, side).breached for r in rows)
    return achieved / judged if judged else None


def _cards(comparison: Comparison) -> str:
    before = _overall_share(comparison.overall, "before")
    after = _overall_share(comparison.overall, "after")
    delta = None if before is None or after is None else (after - before) * 100
    counts = comparison.changes
    worse = "bad" if counts[NEWLY_BREACHED] else ""
    cards = [
        ("Tickets", f"{comparison.tickets:,}", f"{comparison.rejected:,} rejected", ""),
        ("Compliance before", percent_text(before), "all metrics", share_class(before)),
        ("Compliance after", percent_text(after), f"{delta_text(delta)} points", share_class(after)),
        ("Newly breached", f"{counts[NEWLY_BREACHED]:,}", "cycles", worse),
        ("No longer breached", f"{counts[NO_LONGER_BREACHED]:,}", "cycles", ""),
        ("New · dropped", f"{counts[NEW]:,} · {counts[DROPPED]:,}", "cycles gaining · losing a target", ""),
    ]
    return cards_html(cards)


def chart_before_after(comparison: Comparison) -> str:
    """Per metric and group, a grey bar for the compliance before and a coloured one for after."""
    label = "SLA compliance before and after per metric and group"
    rows = comparison.sla
    if not rows:
        return empty_svg("compare", label, "No cycles with a target")
    width, label_w, bar_x, bar_w, y = 960, 230, 240, 470, 14
    body: list[str] = []
    for metric in dict.fromkeys(r.metric for r in rows):
        group_rows = [r for r in rows if r.metric == metric]
        shown = sorted(group_rows, key=lambda r: -max(r.before.cycles, r.after.cycles))[:MAX_COMPLIANCE_ROWS]
        y += 18
        body.append(
            f'<text x="0" y="{y}" font-weight="600" font-size="13" fill="#0f172a">{esc(metric)}</text>'
        )
        y += 8
        for row in (r for r in group_rows if r in shown):
            before, after = row.before.compliance, row.after.compliance
            name = cut(group_text(row.group) if row.group else "all tickets", 34)
            text = f"{percent_text(before)} → {percent_text(after)}  ({delta_text(row.delta_points)} points)"
            body.append(f'<g class="bar"><title>{esc(f"{metric} · {name}: {text}")}</title>')
            body.append(
                f'<text x="{label_w}" y="{y + 17}" text-anchor="end" fill="#334155">{esc(name)}</text>'
            )
            for offset, share, color in ((4, before, BEFORE_COLOR), (15, after, compliance_color(after))):
                body.append(
                    f'<rect x="{bar_x}" y="{y + offset}" width="{bar_w}" height="9" rx="2" fill="#f1f5f9"/>'
                )
                if share is not None:
                    body.append(
                        f'<rect x="{bar_x}" y="{y + offset}" width="{number_text(max(bar_w * share, 1.5))}" '
                        f'height="9" rx="2" fill="{color}"/>'
                    )
            body.append(f'<text x="{bar_x + bar_w + 10}" y="{y + 17}" fill="#0f172a">{esc(text)}</text></g>')
            y += 30
    key = legend_svg((("before", BEFORE_COLOR), ("after (by threshold)", compliance_color(1.0))), bar_x, 12)
    return svg_open("compare", width, y + 10, label) + key + "".join(body) + "</svg>"


def table_deltas(comparison: Comparison) -> str:
    """Every metric and group: cycles, breached cycles and compliance before and after, and the delta."""
    if not comparison.sla:
        return '<p class="note">No cycles with a target.</p>'
    head = "".join(f"<th>{esc(k)}</th>" for k in comparison.by) + "<th>metric</th>"
    head += "".join(
        f"<th class=n>{name} {side}</th>" for name in ("cycles", "breached", "compliance") for side in SIDES
    )
    head += "<th class=n>delta (points)</th>"
    body = []
    for row in comparison.sla:
        values = (row.group.get(k) for k in comparison.by)
        cells = "".join(table_cell(None if v is None else value_text(v), numeric=False) for v in values)
        cells += f"<td>{esc(row.metric)}</td>" + "".join(
            table_cell(getattr(side, name))
            for name in ("cycles", "breached")
            for side in (row.before, row.after)
        )
        cells += _pill(row.before.compliance) + _pill(row.after.compliance)
        points = row.delta_points
        tone = "" if not points else " bad" if points < 0 else " ok"
        body.append(f'<tr>{cells}<td class="n{tone}">{esc(delta_text(points))}</td></tr>')
    return f'<div class="scroll"><table class="compare"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def table_changes(comparison: Comparison, kind: str) -> str:
    """The listed cycles of one kind of change, with both verdicts."""
    listed, total = comparison.changed_cycles[kind], comparison.changes[kind]
    if not listed:
        return ""
    head = "<th>ticket</th><th>metric</th><th class=n>cycle</th><th>before</th><th>after</th>"
    body = "".join(
        f"<tr><td>{esc(c.ticket_id)}</td><td>{esc(c.metric)}</td>{table_cell(c.cycle)}"
        f"<td>{esc(verdict_text(c.before))}</td><td>{esc(verdict_text(c.after))}</td></tr>"
        for c in listed
    )
    more = f" (the first {len(listed):,} listed)" if len(listed) < total else ""
    return (
        f'<h3>{esc(CHANGE_TITLES[kind])}: {total:,}{more}</h3><div class=scroll><table class="changes {kind}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def render_html(comparison: Comparison) -> str:
    """One self-contained page: summary cards, the before/after chart, the tables."""
    now = format_instant(comparison.now)
    grouping = f"grouped by {', '.join(comparison.by)}" if comparison.by else "all tickets in one group"
    changes = "".join(table_changes(comparison, kind) for kind in CHANGES)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SLA policy comparison as of {esc(now)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>SLA policy comparison</h1><p>as of <b>{esc(now)}</b> · before <b>{esc(comparison.before_name)}</b>"
        f" · after <b>{esc(comparison.after_name)}</b> · {esc(grouping)}</p>"
        + (f"<p>{esc(comparison.events_text)}</p>" if comparison.events_text else "")
        + "</header>",
        _cards(comparison),
        panel(
            "compliance",
            "SLA compliance before and after",
            "Achieved ÷ (achieved + breached) per metric and group under each policy file; "
            "the delta is after minus before in percentage points.",
            chart_before_after(comparison),
        ),
        panel(
            "compare-table",
            "Figures per metric and group",
            "Cycles with a target under each file, grouped by the attributes in force at their end (or now).",
            table_deltas(comparison),
        ),
        panel(
            "changes",
            "Changed cycles",
            "Cycles (by ticket, metric and cycle number) judged differently by the two files, in input order.",
            changes or '<p class="note">No cycle changes its verdict.</p>',
        ),
        f"<footer>Generated by sla compare · now {esc(now)} · {comparison.tickets:,} tickets, "
        f"{comparison.rejected:,} rejected. Fields: docs/compare.md.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


__all__ = ["FORMATS", "render_csv", "render_html", "render_json", "render_table", "write_comparison"]
