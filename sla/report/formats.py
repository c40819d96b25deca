"""Writing a :class:`~sla.report.figures.Report` as JSON, tidy CSV, a terminal table or
one self-contained HTML page with inline SVG charts (no network, no scripts).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import IO, Any

from sla.report.figures import KpiGroup, Report, SlaGroup, period_label
from sla.timefmt import format_instant

FORMATS = ("table", "json", "csv", "html")
#: Compliance at or above GOOD is fine, below WARN is flagged as low.
GOOD, WARN = 0.95, 0.80


def write_report(report: Report, out: IO[bytes], fmt: str = "json") -> None:
    """Write the report to a binary stream in ``table``, ``json``, ``csv`` or ``html``."""
    if fmt == "json":
        text = render_json(report)
    elif fmt == "csv":
        text = render_csv(report)
    elif fmt == "table":
        text = render_table(report)
    elif fmt == "html":
        text = render_html(report)
    else:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    out.write(text.encode("utf-8"))
    out.flush()


# ------------------------------------------------------------------- json
def render_json(report: Report) -> str:
    """Exactly the object of SEMANTICS.md section 7."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


# -------------------------------------------------------------------- csv
CSV_COLUMNS = ("section", "group", "metric", "figure", "value")


def group_json(group: dict) -> str:
    return json.dumps(group, ensure_ascii=False, separators=(",", ":"))


def _flat_figures(row: dict, prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in row.items():
        if key in ("group", "metric") and not prefix:
            continue
        if isinstance(value, dict):
            yield from _flat_figures(value, f"{prefix}{key}.")
        elif value is None and key in ("elapsed_seconds", "first_response_seconds"):
            for part in ("mean", "p50", "p90"):
                yield f"{prefix}{key}.{part}", None
        else:
            yield prefix + key, value


def csv_rows(report: Report) -> Iterable[tuple]:
    """Tidy rows: one per group and figure (``report`` rows carry now, tickets, rejected)."""
    data = report.to_dict()
    for key in ("now", "tickets", "rejected"):
        yield ("report", "{}", "", key, data[key])
    for row in data["sla"]:
        for figure, value in _flat_figures(row):
            yield ("sla", group_json(row["group"]), row["metric"], figure, value)
    for row in data["kpis"]:
        for figure, value in _flat_figures(row):
            yield ("kpis", group_json(row["group"]), "", figure, value)


def render_csv(report: Report) -> str:
    """Null values are empty cells; floats are written in full (Python's repr)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for section, group, metric, figure, value in csv_rows(report):
        writer.writerow(
            (
                section,
                group,
                metric,
                figure,
                "" if value is None else repr(value) if isinstance(value, float) else value,
            )
        )
    return buffer.getvalue()


# ------------------------------------------------------------------ texts
def duration_text(seconds: float | None) -> str:
    """A short human duration: the two largest units.

    >>> duration_text(5400), duration_text(93784), duration_text(7231), duration_text(42.4), duration_text(None)
    ('1h 30m', '1d 2h', '2h', '42s', '-')
    """
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for i, (unit, size) in enumerate(units):
        if total >= size or unit == "s":
            text = f"{total // size}{unit}"
            if i + 1 < len(units):
                next_unit, next_size = units[i + 1]
                rest = (total % size) // next_size
                if rest:
                    text += f" {rest}{next_unit}"
            return sign + text
    return sign + "0s"  # pragma: no cover - the loop always returns


def percent_text(share: float | None, digits: int = 1) -> str:
    """``0.8624 -> '86.2%'``; null is ``-``."""
    return "-" if share is None else f"{share * 100:.{digits}f}%"


def value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def group_text(group: dict) -> str:
    return " / ".join(value_text(v) for v in group.values()) if group else "(all)"


def flag(share: float | None) -> str:
    if share is None or share >= GOOD:
        return ""
    return "!!" if share < WARN else "!"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------ table
def _format_rows(header: Sequence[str], rows: list, widths: Sequence[int], left: int) -> list[str]:
    """Columns: the first ``left`` left-aligned, the rest right-aligned; one space apart.

    A first cell too long for its column goes on a line of its own above its
    row; a row given as a plain string is written as it is.
    """

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False)):
            cell = _cut(cell, width)
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


def _sla_cells(row: SlaGroup) -> tuple[str, ...]:
    el = row.elapsed_seconds
    return (
        str(row.cycles),
        str(row.achieved),
        str(row.breached),
        str(row.cancelled),
        str(row.running + row.paused),
        percent_text(row.compliance),
        flag(row.compliance),
        duration_text(el and el.p50),
        duration_text(el and el.p90),
    )


def render_table(report: Report) -> str:
    """Readable in 100 columns: compliance per metric and group, then the KPIs.

    Short group labels make one metric x group table; long ones (several
    ``--by`` keys, periods) make one block per group, headed by its label.
    """
    keys = report.group_keys
    key_title = " / ".join(keys) if keys else "group"
    out = [
        f"SLA report as of {format_instant(report.now)}: {report.tickets:,} tickets, {report.rejected:,} rejected"
    ]
    if keys:
        out.append(f"grouped by {', '.join(keys)}" + (f" (periods in {report.tz})" if report.period else ""))
    out.append("")
    out.append("SLA compliance  (achieved / (achieved + breached); ! below 95%, !! below 80%)")
    if not report.sla:
        out.append("(no cycles with a target)")
    elif max(len(group_text(r.group)) for r in report.sla) <= 20:
        rows: list = []
        previous = None
        for row in sorted(report.sla, key=lambda r: r.metric):  # stable: groups keep their order
            if keys and previous is not None and row.metric != previous:
                rows.append("")
            previous = row.metric
            rows.append((row.metric, group_text(row.group), *_sla_cells(row)))
        out += _format_rows(("metric", key_title, *SLA_HEADER), rows, (16, 20, *SLA_WIDTHS), 2)
    else:
        rows = []
        previous_group = None
        for row in report.sla:
            label = group_text(row.group)
            if label != previous_group:
                rows.append(f"{key_title}: {label}")
                previous_group = label
            rows.append(("  " + row.metric, *_sla_cells(row)))
        out += _format_rows(("metric", *SLA_HEADER), rows, (18, *SLA_WIDTHS), 1)
    out.append("")
    out.append("Tickets")
    if report.kpis:
        widths = (22, 7, 7, 7, 6, 8, 8, 8, 5, 5, 6)
        header = (
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
                    duration_text(frt and frt.mean),
                    duration_text(frt and frt.p50),
                    duration_text(frt and frt.p90),
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
    else:
        out.append("(no tickets created at or before now)")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- html
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#06b6d4", "#ec4899", "#84cc16", "#64748b")
OK_COLOR, WARN_COLOR, BAD_COLOR, NONE_COLOR = "#16a34a", "#d97706", "#dc2626", "#94a3b8"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: First-response histogram bins (seconds, label).
FRT_BINS = (
    (0, "<5m"),
    (300, "5-15m"),
    (900, "15-30m"),
    (1800, "30m-1h"),
    (3600, "1-2h"),
    (7200, "2-4h"),
    (14400, "4-8h"),
    (28800, "8-24h"),
    (86400, "1-2d"),
    (172800, "2-4d"),
    (345600, "4d+"),
)
MAX_COMPLIANCE_ROWS = 14


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    """Compact SVG coordinates."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _compliance_color(share: float | None) -> str:
    if share is None:
        return NONE_COLOR
    return OK_COLOR if share >= GOOD else WARN_COLOR if share >= WARN else BAD_COLOR


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * magnitude
        if step >= raw:
            break
    if step < 1:
        step = 1
    return step * math.ceil(value / step), step


def _svg_open(kind: str, width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" data-chart="{kind}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_e(label)}" '
        f'font-family="{_e(FONT)}" font-size="12">'
    )


def _empty_svg(kind: str, label: str, message: str, width: int = 960, height: int = 120) -> str:
    return (
        _svg_open(kind, width, height, label)
        + f'<rect x="0" y="0" width="{width}" height="{height}" rx="8" fill="#f8fafc"/>'
        f'<text x="{width // 2}" y="{height // 2 + 5}" text-anchor="middle" fill="#64748b" font-size="15">'
        f"{_e(message)}</text></svg>"
    )


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for label, color in items:
        parts.append(
            f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="11" height="11" rx="2" fill="{color}"/>'
            f'<text x="{_num(x + 16)}" y="{_num(y)}" fill="#334155">{_e(label)}</text>'
        )
        x += 26 + 7 * len(label)
    return "".join(parts)


def chart_compliance(report: Report) -> str:
    """Horizontal bars: compliance per metric and group, coloured by threshold."""
    label = "SLA compliance per metric and group"
    rows = [r for r in report.sla if r.cycles]
    if not rows:
        return _empty_svg("compliance", label, "No cycles with a target")
    by_metric: dict[str, list[SlaGroup]] = {}
    for row in rows:
        by_metric.setdefault(row.metric, []).append(row)
    width, label_w, bar_x, bar_w = 960, 230, 240, 470
    line, y = 24, 14
    body = []
    hidden = 0
    for m_index, (metric, group_rows) in enumerate(by_metric.items()):
        shown = sorted(group_rows, key=lambda r: -r.cycles)[:MAX_COMPLIANCE_ROWS]
        hidden += len(group_rows) - len(shown)
        shown.sort(key=lambda r: report.sla.index(r))
        y += 18
        body.append(
            f'<text x="0" y="{y}" font-weight="600" font-size="13" fill="#0f172a">{_e(metric)}</text>'
        )
        y += 8
        for row in shown:
            top = y
            title = (
                f"{metric} · {group_text(row.group)}: {percent_text(row.compliance)} compliance, "
                f"{row.achieved} achieved, {row.breached} breached, {row.cycles} cycles"
            )
            body.append(f'<g class="bar"><title>{_e(title)}</title>')
            name = _cut(group_text(row.group) if row.group else "all tickets", 34)
            body.append(
                f'<text x="{label_w}" y="{top + 15}" text-anchor="end" fill="#334155">{_e(name)}</text>'
            )
            body.append(
                f'<rect x="{bar_x}" y="{top + 4}" width="{bar_w}" height="15" rx="3" fill="#f1f5f9"/>'
            )
            if row.compliance is not None:
                w = max(bar_w * row.compliance, 1.5)
                body.append(
                    f'<rect x="{bar_x}" y="{top + 4}" width="{_num(w)}" height="15" rx="3" '
                    f'fill="{_compliance_color(row.compliance)}"/>'
                )
            text = (
                f"{percent_text(row.compliance)}  ·  {row.breached:,} breached / {row.achieved + row.breached:,}"
                if row.compliance is not None
                else f"n/a  ·  {row.cycles:,} open or cancelled"
            )
            body.append(f'<text x="{bar_x + bar_w + 10}" y="{top + 15}" fill="#0f172a">{_e(text)}</text></g>')
            y += line
        if m_index < len(by_metric) - 1:
            y += 4
    # Target lines at 80% and 95% over the whole plot.
    guides = []
    for share, color in ((WARN, WARN_COLOR), (GOOD, OK_COLOR)):
        gx = bar_x + bar_w * share
        guides.append(
            f'<line x1="{_num(gx)}" y1="22" x2="{_num(gx)}" y2="{y}" stroke="{color}" '
            f'stroke-dasharray="3 3" stroke-width="1" opacity="0.8"/>'
            f'<text x="{_num(gx)}" y="14" text-anchor="middle" fill="{color}" font-size="11">'
            f"{int(share * 100)}%</text>"
        )
    note = ""
    if hidden:
        y += 6
        note = (
            f'<text x="0" y="{y + 10}" fill="#64748b" font-size="11">{hidden} smaller group rows not drawn; '
            f"every group is in the table below.</text>"
        )
        y += 14
    height = y + 8
    return _svg_open("compliance", width, height, label) + "".join(guides) + "".join(body) + note + "</svg>"


def _day_range(first: str, last: str) -> list[str]:
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def chart_misses_per_day(report: Report) -> str:
    """Stacked bars: breached cycles per local day of their due time, per metric."""
    label = f"SLA misses per day ({report.tz})"
    data = report.extras.breaches_by_day
    if not data:
        return _empty_svg("misses", label, "No breached cycles")
    days = _day_range(min(data), max(data))
    metrics = sorted({m for counts in data.values() for m in counts})
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    totals = [sum(data.get(d, {}).values()) for d in days]
    top, step = _nice_max(max(totals))
    width, height, left, right, plot_top, plot_bottom = 960, 300, 48, 12, 34, 250
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    slot = plot_w / len(days)
    bar_w = min(max(slot * 0.78, 0.6), 44)
    parts = [_legend([(m, colors[m]) for m in metrics], left, 14)]
    parts += _gridlines(top, step, left, width - right, plot_bottom, plot_h)
    for i, day in enumerate(days):
        counts = data.get(day, {})
        x = left + i * slot + (slot - bar_w) / 2
        y = plot_bottom
        total = sum(counts.values())
        if total:
            detail = ", ".join(f"{m} {counts[m]}" for m in metrics if counts.get(m))
            parts.append(f'<g class="day"><title>{_e(day)}: {total} missed ({_e(detail)})</title>')
            for m in metrics:
                c = counts.get(m, 0)
                if not c:
                    continue
                h = plot_h * c / top
                y -= h
                parts.append(
                    f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" height="{_num(h)}" '
                    f'fill="{colors[m]}"/>'
                )
            parts.append("</g>")
    every = max(1, math.ceil(len(days) / 12))
    for i in range(0, len(days), every):
        x = left + i * slot + slot / 2
        parts.append(
            f'<text x="{_num(x)}" y="{plot_bottom + 18}" text-anchor="middle" fill="#64748b">'
            f"{_e(days[i][5:] if len(days) <= 400 else days[i])}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 8}" fill="#64748b" font-size="11">'
        f"{_e(days[0])} to {_e(days[-1])}: {sum(totals):,} breached cycles by the day they fell due</text>"
    )
    return _svg_open("misses", width, height, label) + "".join(parts) + "</svg>"


def _gridlines(
    top: float, step: float, left: float, right_x: float, plot_bottom: float, plot_h: float
) -> list[str]:
    """Horizontal grid lines with their values on the left axis."""
    out = []
    tick = 0.0
    while tick <= top + 1e-9:
        ty = plot_bottom - plot_h * tick / top
        out.append(
            f'<line x1="{left}" y1="{_num(ty)}" x2="{right_x}" y2="{_num(ty)}" stroke="#e2e8f0"/>'
            f'<text x="{left - 6}" y="{_num(ty + 4)}" text-anchor="end" fill="#64748b">{tick:g}</text>'
        )
        tick += step
    return out


def _bars(
    kind: str,
    label: str,
    labels: Sequence[str],
    counts: Sequence[int],
    colors: Sequence[str],
    caption: str,
    width: int = 560,
) -> str:
    """A vertical bar chart with a count above each bar."""
    height, left, right, plot_top, plot_bottom = 280, 40, 8, 26, 230
    top, step = _nice_max(max(counts) if counts else 0)
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.72, 70)
    parts = []
    parts += _gridlines(top, step, left, width - right, plot_bottom, plot_h)
    total = sum(counts) or 1
    for i, (name, count, color) in enumerate(zip(labels, counts, colors, strict=False)):
        x = left + i * slot + (slot - bar_w) / 2
        h = plot_h * count / top
        parts.append(
            f'<g class="bar"><title>{_e(name)}: {count:,} ({count / total:.0%})</title>'
            f'<rect x="{_num(x)}" y="{_num(plot_bottom - h)}" width="{_num(bar_w)}" height="{_num(h)}" '
            f'rx="3" fill="{color}"/>'
        )
        if count:
            parts.append(
                f'<text x="{_num(x + bar_w / 2)}" y="{_num(plot_bottom - h - 5)}" text-anchor="middle" '
                f'fill="#0f172a" font-size="11">{count:,}</text>'
            )
        parts.append(
            f'</g><text x="{_num(x + bar_w / 2)}" y="{plot_bottom + 17}" text-anchor="middle" '
            f'fill="#334155" font-size="{11 if slot > 44 else 10}">{_e(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(f'<text x="{left}" y="{height - 8}" fill="#64748b" font-size="11">{_e(caption)}</text>')
    return _svg_open(kind, width, height, label) + "".join(parts) + "</svg>"


def frt_histogram(seconds: Iterable[float]) -> list[int]:
    counts = [0] * len(FRT_BINS)
    bounds = [b for b, _ in FRT_BINS]
    from bisect import bisect_right

    for value in seconds:
        counts[max(0, bisect_right(bounds, value) - 1)] += 1
    return counts


def chart_first_response(report: Report) -> str:
    label = "Time to first response (calendar time, tickets with a response)"
    values = report.extras.first_response_seconds
    if not values:
        return _empty_svg("first-response", label, "No ticket has a response yet", 560, 280)
    counts = frt_histogram(values)
    overall = report.extras.overall_kpis
    frt = overall.first_response_seconds if overall else None
    caption = f"{len(values):,} ticket{'s' if len(values) != 1 else ''}"
    if frt is not None:
        caption += (
            f" · mean {duration_text(frt.mean)} · median {duration_text(frt.p50)}"
            f" · 90th percentile {duration_text(frt.p90)}"
        )
    colors = ["#3b82f6"] * len(counts)
    return _bars("first-response", label, [name for _, name in FRT_BINS], counts, colors, caption)


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=False))


def chart_heatmap(report: Report) -> str:
    """Ticket creations by local weekday and hour (7 x 24)."""
    label = f"Tickets created by hour of week ({report.tz})"
    grid = report.extras.created_by_hour
    peak = max(max(row) for row in grid)
    if peak == 0:
        return _empty_svg("heatmap", label, "No tickets")
    left, top, cell_w, cell_h, gap = 46, 24, 36, 26, 2
    width = left + 24 * cell_w + 10
    height = top + 7 * cell_h + 46
    low, high = "#eff6ff", "#1e3a8a"
    least = min(c for row in grid for c in row if c)  # the scale spans the busiest and quietest slots
    parts = []
    for hour in range(24):
        parts.append(
            f'<text x="{left + hour * cell_w + cell_w / 2:.0f}" y="{top - 8}" text-anchor="middle" '
            f'fill="#64748b" font-size="11">{hour:02d}</text>'
        )
    for day in range(7):
        y = top + day * cell_h
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end" fill="#334155">'
            f"{DAYS[day]}</text>"
        )
        for hour in range(24):
            count = grid[day][hour]
            t = 0.12 + 0.88 * (count - least) / (peak - least) if peak > least else 0.6
            color = _mix(low, high, t) if count else "#f8fafc"
            x = left + hour * cell_w
            parts.append(
                f'<g class="cell"><title>{DAYS[day]} {hour:02d}:00-{hour:02d}:59: {count:,} tickets</title>'
                f'<rect x="{x}" y="{y}" width="{cell_w - gap}" height="{cell_h - gap}" rx="3" fill="{color}"/>'
            )
            if count:
                ink = "#ffffff" if t > 0.55 else "#1e293b"
                parts.append(
                    f'<text x="{x + (cell_w - gap) / 2:.0f}" y="{y + cell_h / 2 + 3:.0f}" '
                    f'text-anchor="middle" fill="{ink}" font-size="10">{_short(count)}</text>'
                )
            parts.append("</g>")
    # Legend: a gradient strip drawn as steps (no defs needed).
    ly = top + 7 * cell_h + 16
    parts.append(f'<text x="{left}" y="{ly + 10}" fill="#64748b" font-size="11">fewer</text>')
    for i in range(10):
        parts.append(
            f'<rect x="{left + 40 + i * 18}" y="{ly}" width="18" height="12" '
            f'fill="{_mix(low, high, 0.12 + 0.88 * (i + 0.5) / 10)}"/>'
        )
    parts.append(
        f'<text x="{left + 226}" y="{ly + 10}" fill="#64748b" font-size="11">more (quietest slot with tickets: {least:,}, '
        f"busiest: {peak:,})</text>"
    )
    return _svg_open("heatmap", width, height, label) + "".join(parts) + "</svg>"


def _short(count: int) -> str:
    if count >= 10000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def csat_bins(scores: dict[float, int]) -> tuple[list[str], list[int], list[float]]:
    """Per distinct score when there are few, else ten equal bins; with each bar's middle score."""
    values = sorted(scores)
    if len(values) <= 11:
        return [f"{v:g}" for v in values], [scores[v] for v in values], values
    lo, hi = values[0], values[-1]
    size = (hi - lo) / 10
    counts = [0] * 10
    for v, n in scores.items():
        counts[min(9, int((v - lo) / size))] += n
    labels = [f"{lo + i * size:.3g}-{lo + (i + 1) * size:.3g}" for i in range(10)]
    return labels, counts, [lo + (i + 0.5) * size for i in range(10)]


def chart_csat(report: Report) -> str:
    label = "CSAT: last score per ticket"
    scores = report.extras.csat_scores
    if not scores:
        return _empty_svg("csat", label, "No CSAT responses", 560, 280)
    labels, counts, middles = csat_bins(scores)
    lo, hi = min(middles), max(middles)
    colors = []
    for m in middles:
        t = 0.5 if hi == lo else (m - lo) / (hi - lo)
        colors.append(
            _mix("#ef4444", "#f59e0b", t * 2) if t < 0.5 else _mix("#f59e0b", "#16a34a", (t - 0.5) * 2)
        )
    csat = report.extras.overall_kpis.csat if report.extras.overall_kpis else None
    caption = f"{sum(counts):,} responses"
    if csat is not None and csat.mean is not None:
        caption += f" · mean {csat.mean:.2f} · satisfied (score ≥ 4) {percent_text(csat.satisfied_share)}"
    return _bars("csat", label, labels, counts, colors, caption)


CSS = f"""
:root {{ --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f1f5f9; --card:#ffffff; --accent:#2563eb; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 {FONT}; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }}
header h1 {{ font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }}
header p {{ margin: 0; color: var(--muted); }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin: 22px 0; }}
.card {{ background: var(--card); border-radius: 12px; box-shadow: 0 1px 2px rgba(15,23,42,.06), 0 1px 8px rgba(15,23,42,.04);
        padding: 14px 16px; }}
.card .k {{ color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }}
.card .v {{ font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }}
.card .s {{ color: var(--muted); font-size: 12px; }}
.ok {{ color: #15803d; }} .warn {{ color: #b45309; }} .bad {{ color: #b91c1c; }}
section.panel {{ background: var(--card); border-radius: 12px; padding: 18px 20px 14px; margin: 16px 0;
                box-shadow: 0 1px 2px rgba(15,23,42,.06), 0 1px 8px rgba(15,23,42,.04); }}
section.panel h2 {{ font-size: 17px; margin: 0 0 2px; }}
section.panel h3 {{ font-size: 14px; margin: 18px 0 6px; }}
section.panel p.note {{ margin: 0 0 12px; color: var(--muted); font-size: 13px; }}
.grid2 {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }}
.grid2 section.panel {{ margin: 0; }}
@media (max-width: 900px) {{ .grid2 {{ grid-template-columns: 1fr; }} }}
svg.chart {{ display: block; height: auto; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 6px 9px; border-bottom: 1px solid var(--line); white-space: nowrap; }}
th {{ text-align: left; color: var(--muted); font-weight: 600; background: #f8fafc; position: sticky; top: 0; }}
td.n, th.n {{ text-align: right; }}
tr:hover td {{ background: #f8fafc; }}
.pill {{ display: inline-block; min-width: 58px; text-align: center; padding: 1px 8px; border-radius: 999px;
        font-weight: 600; font-size: 12px; }}
.pill.ok {{ background: #dcfce7; }} .pill.warn {{ background: #fef3c7; }} .pill.bad {{ background: #fee2e2; }}
.pill.none {{ background: #f1f5f9; color: var(--muted); }}
td.null {{ color: #cbd5e1; }}
details {{ margin-top: 10px; }} summary {{ cursor: pointer; color: var(--accent); font-size: 13px; }}
footer {{ color: var(--muted); font-size: 12px; margin-top: 24px; }}
"""


def _cls(share: float | None) -> str:
    if share is None:
        return "none"
    return "ok" if share >= GOOD else "warn" if share >= WARN else "bad"


def _td(value: Any, numeric: bool = True, title: str | None = None) -> str:
    t = f' title="{_e(title)}"' if title else ""
    if value is None:
        return f'<td class="n null"{t}>–</td>' if numeric else f'<td class="null"{t}>null</td>'
    return f'<td class="n"{t}>{_e(value)}</td>' if numeric else f"<td{t}>{_e(value)}</td>"


def _duration_td(seconds: float | None) -> str:
    return _td(
        None if seconds is None else duration_text(seconds),
        title=None if seconds is None else f"{seconds:g} s",
    )


def _rate_td(share: float | None) -> str:
    return _td(
        None if share is None else percent_text(share), title=None if share is None else f"{share:.6g}"
    )


def _group_cells(report: Report, group: dict) -> str:
    return "".join(
        _td(group.get(k), numeric=False)
        if group.get(k) is None or isinstance(group.get(k), str)
        else _td(json.dumps(group.get(k)), numeric=False)
        for k in report.group_keys
    )


def table_sla(report: Report) -> str:
    head = "".join(f"<th>{_e(k)}</th>" for k in report.group_keys)
    head += (
        "<th>metric</th><th class=n>cycles</th><th class=n>achieved</th><th class=n>breached</th>"
        "<th class=n>cancelled</th><th class=n>running</th><th class=n>paused</th><th class=n>compliance</th>"
        "<th class=n>elapsed mean</th><th class=n>p50</th><th class=n>p90</th>"
    )
    rows = []
    for r in report.sla:
        el = r.elapsed_seconds
        pill = (
            f'<td class="n" title="{_e("-" if r.compliance is None else f"{r.compliance:.6g}")}">'
            f'<span class="pill {_cls(r.compliance)}">{_e(percent_text(r.compliance))}</span></td>'
        )
        rows.append(
            "<tr>"
            + _group_cells(report, r.group)
            + f"<td>{_e(r.metric)}</td>"
            + "".join(_td(v) for v in (r.cycles, r.achieved, r.breached, r.cancelled, r.running, r.paused))
            + pill
            + "".join(_duration_td(None if el is None else getattr(el, p)) for p in ("mean", "p50", "p90"))
            + "</tr>"
        )
    if not rows:
        return '<p class="note">No cycles with a target.</p>'
    return f'<div class="scroll"><table class="sla"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def table_kpis(report: Report) -> str:
    """Two tables of the ticket figures: volume and response times, then rates and CSAT."""
    if not report.kpis:
        return '<p class="note">No tickets created at or before now.</p>'
    groups = "".join(f"<th>{_e(k)}</th>" for k in report.group_keys)
    head1 = groups + (
        "<th class=n>tickets</th><th class=n>messages in</th><th class=n>messages out</th>"
        "<th class=n>unique requesters</th><th class=n>first response mean</th>"
        "<th class=n>p50</th><th class=n>p90</th>"
    )
    head2 = groups + (
        "<th class=n>responded</th><th class=n>resolved</th><th class=n>reopened</th>"
        "<th class=n>FCR</th><th class=n>redirected</th><th class=n>CSAT responses</th>"
        "<th class=n>CSAT mean</th><th class=n>satisfied</th>"
    )
    rows1, rows2 = [], []
    for k in report.kpis:
        frt = k.first_response_seconds
        cells = _group_cells(report, k.group)
        rows1.append(
            "<tr>"
            + cells
            + "".join(_td(v) for v in (k.tickets, k.messages_in, k.messages_out, k.unique_requesters))
            + "".join(_duration_td(None if frt is None else getattr(frt, p)) for p in ("mean", "p50", "p90"))
            + "</tr>"
        )
        rows2.append(
            "<tr>"
            + cells
            + "".join(
                _rate_td(v)
                for v in (k.response_rate, k.resolution_rate, k.reopen_rate, k.fcr_rate, k.redirect_rate)
            )
            + _td(k.csat.responses)
            + _td(None if k.csat.mean is None else f"{k.csat.mean:.2f}")
            + _rate_td(k.csat.satisfied_share)
            + "</tr>"
        )
    return (
        f'<div class="scroll"><table class="kpis kpis-volume"><thead><tr>{head1}</tr></thead>'
        f"<tbody>{''.join(rows1)}</tbody></table></div>"
        f'<h3>Rates and CSAT</h3><div class="scroll"><table class="kpis kpis-rates"><thead><tr>{head2}</tr>'
        f"</thead><tbody>{''.join(rows2)}</tbody></table></div>"
    )


def _misses_table(report: Report) -> str:
    data = report.extras.breaches_by_day
    if not data:
        return ""
    metrics = sorted({m for counts in data.values() for m in counts})
    head = "<th>day</th>" + "".join(f"<th class=n>{_e(m)}</th>" for m in metrics) + "<th class=n>total</th>"
    rows = "".join(
        "<tr>"
        + f"<td>{_e(d)}</td>"
        + "".join(_td(data[d].get(m, 0)) for m in metrics)
        + _td(sum(data[d].values()))
        + "</tr>"
        for d in sorted(data)
    )
    return (
        f"<details><summary>Misses per day as a table ({len(data)} days)</summary><div class=scroll>"
        f'<table class="misses"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></details>'
    )


def _cards(report: Report) -> str:
    overall = report.extras.overall_sla
    achieved = sum(r.achieved for r in overall)
    breached = sum(r.breached for r in overall)
    cycles = sum(r.cycles for r in overall)
    share = achieved / (achieved + breached) if achieved + breached else None
    k: KpiGroup | None = report.extras.overall_kpis
    frt = k.first_response_seconds if k else None
    cards = [
        ("Tickets", f"{report.tickets:,}", f"{report.rejected:,} rejected", ""),
        (
            "SLA compliance",
            percent_text(share),
            f"{achieved:,} achieved · {breached:,} breached",
            _cls(share),
        ),
        (
            "SLA cycles",
            f"{cycles:,}",
            f"{sum(r.running + r.paused for r in overall):,} open · "
            f"{sum(r.cancelled for r in overall):,} cancelled",
            "",
        ),
        ("First response", duration_text(frt.p50) if frt else "-", "median, calendar time", ""),
        (
            "Resolved",
            percent_text(k.resolution_rate if k else None),
            f"reopened {percent_text(k.reopen_rate if k else None)}",
            "",
        ),
        (
            "CSAT",
            "-" if not k or k.csat.mean is None else f"{k.csat.mean:.2f}",
            "no responses"
            if not k or not k.csat.responses
            else f"{k.csat.responses:,} responses · {percent_text(k.csat.satisfied_share, 0)} satisfied",
            "",
        ),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{_e(name)}</div><div class="v {cls}">{_e(value)}</div>'
            f'<div class="s">{_e(sub)}</div></div>'
            for name, value, sub, cls in cards
        )
        + "</div>"
    )


def _panel(ident: str, title: str, note: str, body: str) -> str:
    return f'<section class="panel" id="{ident}"><h2>{_e(title)}</h2><p class="note">{_e(note)}</p>{body}</section>'


def render_html(report: Report) -> str:
    """One self-contained page: summary cards, five inline SVG charts, the full tables."""
    now = format_instant(report.now)
    keys = report.group_keys
    grouping = f"grouped by {', '.join(keys)}" if keys else "all tickets in one group"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SLA report as of {_e(now)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>SLA report</h1><p>as of <b>{_e(now)}</b> · {_e(grouping)} · "
        f"local times in {_e(report.tz)}</p></header>",
        _cards(report),
        _panel(
            "compliance",
            "SLA compliance",
            "Achieved ÷ (achieved + breached) per metric and group; dashed lines at 80% and 95%. "
            "Cancelled and open, unbreached cycles are outside the ratio.",
            chart_compliance(report),
        ),
        _panel(
            "misses",
            "SLA misses per day",
            f"Breached cycles, open or ended, counted on the day (in {report.tz}) "
            "their target fell due, stacked by metric.",
            chart_misses_per_day(report) + _misses_table(report),
        ),
        '<div class="grid2">',
        _panel(
            "first-response",
            "Time to first response",
            "Calendar time from creation to the first public agent message.",
            chart_first_response(report),
        ),
        _panel("csat", "CSAT", "Each ticket's last score; satisfied means 4 or more.", chart_csat(report)),
        "</div>",
        _panel(
            "volume",
            "Ticket volume by hour of week",
            f"Tickets created, by local weekday and hour in {report.tz}.",
            chart_heatmap(report),
        ),
        _panel(
            "sla-table",
            "SLA figures",
            "Every cycle with a target, grouped by the attributes in force at its end "
            "(or now); elapsed times over ended cycles that were achieved or breached.",
            table_sla(report),
        ),
        _panel(
            "kpi-table",
            "Support KPIs",
            "Tickets created at or before now, grouped by their attributes at now; "
            "FCR is a share of the tickets done at now.",
            table_kpis(report),
        ),
        f"<footer>Generated by sla report · now {_e(now)} · {report.tickets:,} tickets, {report.rejected:,} rejected. "
        "Formulas: docs/reports.md.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


__all__ = [
    "write_report",
    "render_json",
    "render_csv",
    "render_table",
    "render_html",
    "csv_rows",
    "duration_text",
    "percent_text",
    "period_label",
]
