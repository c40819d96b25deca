"""The inline SVG charts of the HTML report: compliance bars, misses per day,
time to first response, CSAT scores and the hour-of-week heatmap.

Each ``chart_*`` function takes a :class:`~sla.report.results.Report` and
returns one ``<svg>`` element as text (no scripts, no external resources).
The five charts share their drawing helpers (axes, bars, legend, colours),
which is why they stay in one module of about 400 lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from sla.report.results import Report, SlaGroup
from sla.report.text import GOOD, WARN, cut, duration_text, esc, group_text, percent_text

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


def number_text(value: float) -> str:
    """Compact SVG coordinates."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def compliance_color(share: float | None) -> str:
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


def svg_open(kind: str, width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" data-chart="{kind}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{esc(label)}" '
        f'font-family="{esc(FONT)}" font-size="12">'
    )


def empty_svg(kind: str, label: str, message: str, width: int = 960, height: int = 120) -> str:
    return (
        svg_open(kind, width, height, label)
        + f'<rect x="0" y="0" width="{width}" height="{height}" rx="8" fill="#f8fafc"/>'
        f'<text x="{width // 2}" y="{height // 2 + 5}" text-anchor="middle" fill="#64748b" font-size="15">'
        f"{esc(message)}</text></svg>"
    )


def legend_svg(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for label, color in items:
        parts.append(
            f'<rect x="{number_text(x)}" y="{number_text(y - 9)}" width="11" height="11" rx="2" fill="{color}"/>'
            f'<text x="{number_text(x + 16)}" y="{number_text(y)}" fill="#334155">{esc(label)}</text>'
        )
        x += 26 + 7 * len(label)
    return "".join(parts)


def chart_compliance(report: Report) -> str:
    """Horizontal bars: compliance per metric and group, coloured by threshold."""
    label = "SLA compliance per metric and group"
    rows = [r for r in report.sla if r.cycles]
    if not rows:
        return empty_svg("compliance", label, "No cycles with a target")
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
            f'<text x="0" y="{y}" font-weight="600" font-size="13" fill="#0f172a">{esc(metric)}</text>'
        )
        y += 8
        for row in shown:
            top = y
            title = (
                f"{metric} · {group_text(row.group)}: {percent_text(row.compliance)} compliance, "
                f"{row.achieved} achieved, {row.breached} breached, {row.cycles} cycles"
            )
            body.append(f'<g class="bar"><title>{esc(title)}</title>')
            name = cut(group_text(row.group) if row.group else "all tickets", 34)
            body.append(
                f'<text x="{label_w}" y="{top + 15}" text-anchor="end" fill="#334155">{esc(name)}</text>'
            )
            body.append(
                f'<rect x="{bar_x}" y="{top + 4}" width="{bar_w}" height="15" rx="3" fill="#f1f5f9"/>'
            )
            if row.compliance is not None:
                w = max(bar_w * row.compliance, 1.5)
                body.append(
                    f'<rect x="{bar_x}" y="{top + 4}" width="{number_text(w)}" height="15" rx="3" '
                    f'fill="{compliance_color(row.compliance)}"/>'
                )
            text = (
                f"{percent_text(row.compliance)}  ·  {row.breached:,} breached / {row.achieved + row.breached:,}"
                if row.compliance is not None
                else f"n/a  ·  {row.cycles:,} open or cancelled"
            )
            body.append(
                f'<text x="{bar_x + bar_w + 10}" y="{top + 15}" fill="#0f172a">{esc(text)}</text></g>'
            )
            y += line
        if m_index < len(by_metric) - 1:
            y += 4
    # Target lines at 80% and 95% over the whole plot.
    guides = []
    for share, color in ((WARN, WARN_COLOR), (GOOD, OK_COLOR)):
        gx = bar_x + bar_w * share
        guides.append(
            f'<line x1="{number_text(gx)}" y1="22" x2="{number_text(gx)}" y2="{y}" stroke="{color}" '
            f'stroke-dasharray="3 3" stroke-width="1" opacity="0.8"/>'
            f'<text x="{number_text(gx)}" y="14" text-anchor="middle" fill="{color}" font-size="11">'
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
    return svg_open("compliance", width, height, label) + "".join(guides) + "".join(body) + note + "</svg>"


def _day_range(first: str, last: str) -> list[str]:
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def chart_misses_per_day(report: Report) -> str:
    """Stacked bars: breached cycles per local day of their due time, per metric."""
    label = f"SLA misses per day ({report.tz})"
    data = report.extras.breaches_by_day
    if not data:
        return empty_svg("misses", label, "No breached cycles")
    days = _day_range(min(data), max(data))
    metrics = sorted({m for counts in data.values() for m in counts})
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    totals = [sum(data.get(d, {}).values()) for d in days]
    top, step = _nice_max(max(totals))
    width, height, left, right, plot_top, plot_bottom = 960, 300, 48, 12, 34, 250
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    slot = plot_w / len(days)
    bar_w = min(max(slot * 0.78, 0.6), 44)
    parts = [legend_svg([(m, colors[m]) for m in metrics], left, 14)]
    parts += _gridlines(top, step, left, width - right, plot_bottom, plot_h)
    for i, day in enumerate(days):
        counts: Mapping[str, int] = data.get(day, {})
        x = left + i * slot + (slot - bar_w) / 2
        y: float = plot_bottom
        total = sum(counts.values())
        if total:
            detail = ", ".join(f"{m} {counts[m]}" for m in metrics if counts.get(m))
            parts.append(f'<g class="day"><title>{esc(day)}: {total} missed ({esc(detail)})</title>')
            for m in metrics:
                c = counts.get(m, 0)
                if not c:
                    continue
                h = plot_h * c / top
                y -= h
                parts.append(
                    f'<rect x="{number_text(x)}" y="{number_text(y)}" width="{number_text(bar_w)}" height="{number_text(h)}" '
                    f'fill="{colors[m]}"/>'
                )
            parts.append("</g>")
    every = max(1, math.ceil(len(days) / 12))
    for i in range(0, len(days), every):
        x = left + i * slot + slot / 2
        parts.append(
            f'<text x="{number_text(x)}" y="{plot_bottom + 18}" text-anchor="middle" fill="#64748b">'
            f"{esc(days[i][5:] if len(days) <= 400 else days[i])}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 8}" fill="#64748b" font-size="11">'
        f"{esc(days[0])} to {esc(days[-1])}: {sum(totals):,} breached cycles by the day they fell due</text>"
    )
    return svg_open("misses", width, height, label) + "".join(parts) + "</svg>"


def _gridlines(
    top: float, step: float, left: float, right_x: float, plot_bottom: float, plot_h: float
) -> list[str]:
    """Horizontal grid lines with their values on the left axis."""
    out = []
    tick = 0.0
    while tick <= top + 1e-9:
        ty = plot_bottom - plot_h * tick / top
        out.append(
            f'<line x1="{left}" y1="{number_text(ty)}" x2="{right_x}" y2="{number_text(ty)}" stroke="#e2e8f0"/>'
            f'<text x="{left - 6}" y="{number_text(ty + 4)}" text-anchor="end" fill="#64748b">{tick:g}</text>'
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
            f'<g class="bar"><title>{esc(name)}: {count:,} ({count / total:.0%})</title>'
            f'<rect x="{number_text(x)}" y="{number_text(plot_bottom - h)}" width="{number_text(bar_w)}" height="{number_text(h)}" '
            f'rx="3" fill="{color}"/>'
        )
        if count:
            parts.append(
                f'<text x="{number_text(x + bar_w / 2)}" y="{number_text(plot_bottom - h - 5)}" text-anchor="middle" '
                f'fill="#0f172a" font-size="11">{count:,}</text>'
            )
        parts.append(
            f'</g><text x="{number_text(x + bar_w / 2)}" y="{plot_bottom + 17}" text-anchor="middle" '
            f'fill="#334155" font-size="{11 if slot > 44 else 10}">{esc(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(f'<text x="{left}" y="{height - 8}" fill="#64748b" font-size="11">{esc(caption)}</text>')
    return svg_open(kind, width, height, label) + "".join(parts) + "</svg>"


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
        return empty_svg("first-response", label, "No ticket has a response yet", 560, 280)
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
        return empty_svg("heatmap", label, "No tickets")
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
    return svg_open("heatmap", width, height, label) + "".join(parts) + "</svg>"


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
        return empty_svg("csat", label, "No CSAT responses", 560, 280)
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
