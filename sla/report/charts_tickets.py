"""The ticket charts of the HTML report: time to first response, CSAT scores
and ticket creations by hour of week (inline SVG, no scripts).

Each ``chart_*`` function takes a :class:`~sla.report.results.Report` and
returns one ``<svg>`` element as text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence

from sla.report.charts_base import (
    INK,
    LABEL,
    MUTED,
    data_attrs,
    duration_text,
    empty_svg,
    esc,
    gridlines,
    mix,
    nice_max,
    number_text,
    percent_text,
    short_count,
    svg_open,
)
from sla.report.results import Report

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


def bar_chart(
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
    top, step = nice_max(max(counts) if counts else 0)
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    slot = plot_w / max(len(labels), 1)
    bar_w = min(slot * 0.72, 70)
    parts = []
    parts += gridlines(top, step, left, width - right, plot_bottom, plot_h)
    total = sum(counts) or 1
    for i, (name, count, color) in enumerate(zip(labels, counts, colors, strict=False)):
        x = left + i * slot + (slot - bar_w) / 2
        h = plot_h * count / top
        parts.append(
            f'<g class="bar"{data_attrs(label=name, count=count)}><title>{esc(name)}: {count:,} ({count / total:.0%})</title>'
            f'<rect x="{number_text(x)}" y="{number_text(plot_bottom - h)}" width="{number_text(bar_w)}" height="{number_text(h)}" '
            f'rx="3" fill="{color}"/>'
        )
        if count:
            parts.append(
                f'<text x="{number_text(x + bar_w / 2)}" y="{number_text(plot_bottom - h - 5)}" text-anchor="middle" '
                f'fill="{INK}" font-size="11">{count:,}</text>'
            )
        parts.append(
            f'</g><text x="{number_text(x + bar_w / 2)}" y="{plot_bottom + 17}" text-anchor="middle" '
            f'fill="{LABEL}" font-size="{11 if slot > 44 else 10}">{esc(name)}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(f'<text x="{left}" y="{height - 8}" fill="{MUTED}" font-size="11">{esc(caption)}</text>')
    return svg_open(kind, width, height, label) + "".join(parts) + "</svg>"


def frt_histogram(seconds: Iterable[float]) -> list[int]:
    """How many of ``seconds`` fall in each of :data:`FRT_BINS`."""
    counts = [0] * len(FRT_BINS)
    bounds = [b for b, _ in FRT_BINS]
    for value in seconds:
        counts[max(0, bisect_right(bounds, value) - 1)] += 1
    return counts


def chart_first_response(report: Report) -> str:
    """A histogram of every ticket's calendar time to its first response."""
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
    return bar_chart("first-response", label, [name for _, name in FRT_BINS], counts, colors, caption)


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
            f'fill="{MUTED}" font-size="11">{hour:02d}</text>'
        )
    for day in range(7):
        y = top + day * cell_h
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end" fill="{LABEL}">'
            f"{DAYS[day]}</text>"
        )
        for hour in range(24):
            count = grid[day][hour]
            t = 0.12 + 0.88 * (count - least) / (peak - least) if peak > least else 0.6
            color = mix(low, high, t) if count else "#f8fafc"
            x = left + hour * cell_w
            parts.append(
                f'<g class="cell"><title>{DAYS[day]} {hour:02d}:00-{hour:02d}:59: {count:,} tickets</title>'
                f'<rect x="{x}" y="{y}" width="{cell_w - gap}" height="{cell_h - gap}" rx="3" fill="{color}"/>'
            )
            if count:
                ink = "#ffffff" if t > 0.55 else "#1e293b"
                parts.append(
                    f'<text x="{x + (cell_w - gap) / 2:.0f}" y="{y + cell_h / 2 + 3:.0f}" '
                    f'text-anchor="middle" fill="{ink}" font-size="10">{short_count(count)}</text>'
                )
            parts.append("</g>")
    # Legend: a gradient strip drawn as steps (no defs needed).
    ly = top + 7 * cell_h + 16
    parts.append(f'<text x="{left}" y="{ly + 10}" fill="{MUTED}" font-size="11">fewer</text>')
    for i in range(10):
        parts.append(
            f'<rect x="{left + 40 + i * 18}" y="{ly}" width="18" height="12" '
            f'fill="{mix(low, high, 0.12 + 0.88 * (i + 0.5) / 10)}"/>'
        )
    parts.append(
        f'<text x="{left + 226}" y="{ly + 10}" fill="{MUTED}" font-size="11">more (quietest slot with tickets: {least:,}, '
        f"busiest: {peak:,})</text>"
    )
    return svg_open("heatmap", width, height, label) + "".join(parts) + "</svg>"


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
    """Each ticket's last CSAT score, counted per score (red to green)."""
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
            mix("#ef4444", "#f59e0b", t * 2) if t < 0.5 else mix("#f59e0b", "#16a34a", (t - 0.5) * 2)
        )
    csat = report.extras.overall_kpis.csat if report.extras.overall_kpis else None
    caption = f"{sum(counts):,} responses"
    if csat is not None and csat.mean is not None:
        caption += f" · mean {csat.mean:.2f} · satisfied (score ≥ 4) {percent_text(csat.satisfied_share)}"
    return bar_chart("csat", label, labels, counts, colors, caption)
