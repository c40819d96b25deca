"""The trend of each metric over ``--period``: compliance and breaches per
period, summed from the report's ``sla`` rows over the other group keys.

A period with open cycles (running or paused at ``now``) is *incomplete*:
its compliance leaves out cycles that may still breach, so it tends to read
better than it will end.  The chart draws such a period hollow and dashed,
and the line under it says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sla.report.charts_base import (
    BAD_COLOR,
    GOOD,
    GRID,
    INK,
    LABEL,
    MUTED,
    OK_COLOR,
    WARN,
    WARN_COLOR,
    compliance_color,
    data_attrs,
    esc,
    hours_label,
    nice_max,
    number_text,
    percent_text,
    svg_open,
)
from sla.report.results import PERIOD_KEY, Report

BREACH_COLOR = "#f87171"


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One metric's cycles in one period, over every other group key."""

    period: str
    cycles: int
    achieved: int
    breached: int
    open: int

    @property
    def compliance(self) -> float | None:
        """``achieved / (achieved + breached)``; None when both are 0."""
        judged = self.achieved + self.breached
        return self.achieved / judged if judged else None

    @property
    def incomplete(self) -> bool:
        """Open cycles remain: the period's figures can still change."""
        return self.open > 0


def trend_series(report: Report) -> dict[str, list[TrendPoint]]:
    """Per metric (by name), its periods in order with their summed counts;
    empty without ``--period``."""
    if report.period is None:
        return {}
    sums: dict[str, dict[str, list[int]]] = {}
    for row in report.sla:
        period = str(row.group.get(PERIOD_KEY))
        acc = sums.setdefault(row.metric, {}).setdefault(period, [0, 0, 0, 0])
        acc[0] += row.cycles
        acc[1] += row.achieved
        acc[2] += row.breached
        acc[3] += row.running + row.paused
    return {
        metric: [TrendPoint(p, *periods[p]) for p in sorted(periods)]
        for metric, periods in sorted(sums.items())
    }


def short_period(period: str, periods: Sequence[str]) -> str:
    """A period label for the axis: ``W13`` and ``03-09`` when every period is in one year.

    >>> short_period("2026-W13", ["2026-W12", "2026-W13"]), short_period("2026-03-09", ["2025-12-31", "2026-03-09"])
    ('W13', '2026-03-09')
    """
    one_year = len({p[:4] for p in periods}) == 1
    if one_year and ("-W" in period or len(period) == 10):
        return period[5:]
    return period


def _y_range(points: Sequence[TrendPoint]) -> tuple[float, float]:
    """The compliance axis: from a round value under the lowest share (at most
    75 %) up to 100 %, and its step (whole percents, so no float drift).

    >>> _y_range([TrendPoint("W1", 100, 87, 13, 0)]), _y_range([TrendPoint("W1", 10, 4, 6, 0)])
    ((0.7, 0.1), (0.25, 0.25))
    """
    shares = [p.compliance for p in points if p.compliance is not None]
    low = math.floor(min([WARN - 0.05, *shares]) * 100) - 2
    span = 100 - max(low - low % 5, 0)
    step = 5 if span <= 25 else 10 if span <= 50 else 25
    return max(100 - step * -(-span // step), 0) / 100, step / 100


def chart_trend(metric: str, points: Sequence[TrendPoint]) -> str:
    """Compliance (line, dots coloured by threshold, dashed guides at 80 % and
    95 %) over breached cycles (bars) per period; incomplete periods hollow."""
    width, height, left, right = 520, 262, 46, 16
    c_top, c_bottom, b_top, b_bottom = 16, 142, 166, 214
    plot_w = width - left - right
    n = len(points)
    slot = plot_w / max(n, 1)
    labels = [short_period(p.period, [q.period for q in points]) for p in points]
    parts: list[str] = []
    bottom, step = _y_range(points)

    def cy(share: float) -> float:
        return c_bottom - (c_bottom - c_top) * (share - bottom) / (1 - bottom)

    tick = 1.0
    while tick >= bottom - 1e-9:
        y = cy(tick)
        parts.append(
            f'<line x1="{left}" y1="{number_text(y)}" x2="{width - right}" y2="{number_text(y)}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{number_text(y + 4)}" text-anchor="end" fill="{MUTED}" font-size="11">'
            f"{tick * 100:.0f}%</text>"
        )
        tick = round(tick - step, 6)
    for share, color in ((WARN, WARN_COLOR), (GOOD, OK_COLOR)):
        if share >= bottom:
            gy = number_text(cy(share))
            parts.append(
                f'<line x1="{left}" y1="{gy}" x2="{width - right}" y2="{gy}" stroke="{color}" '
                f'stroke-dasharray="4 3" opacity="0.8"/>'
            )
    top_b, _ = nice_max(max((p.breached for p in points), default=0))
    parts.append(
        f'<text x="{left - 6}" y="{b_top + 9}" text-anchor="end" fill="{MUTED}" font-size="10">{top_b:g}</text>'
        f'<line x1="{left}" y1="{b_bottom}" x2="{width - right}" y2="{b_bottom}" stroke="#94a3b8"/>'
    )
    xs = [left + (i + 0.5) * slot for i in range(n)]
    line_at: list[tuple[float, float, bool] | None] = [
        None if p.compliance is None else (xs[i], cy(p.compliance), p.incomplete)
        for i, p in enumerate(points)
    ]
    for a, b in zip(line_at, line_at[1:], strict=False):
        if a is not None and b is not None:
            dash = ' stroke-dasharray="4 3"' if a[2] or b[2] else ""
            parts.append(
                f'<line x1="{number_text(a[0])}" y1="{number_text(a[1])}" x2="{number_text(b[0])}" '
                f'y2="{number_text(b[1])}" stroke="{INK}" stroke-width="1.6"{dash}/>'
            )
    bar_w = min(slot * 0.6, 28)
    label_every = max(1, -(-int(6.4 * max(len(t) for t in labels) + 10) // max(int(slot), 1)))
    value_labels = slot >= 44
    for i, p in enumerate(points):
        x = xs[i]
        title = (
            f"{metric} {p.period}: {percent_text(p.compliance)} compliance, {p.achieved:,} achieved, "
            f"{p.breached:,} breached, {p.open:,} open" + (" (incomplete)" if p.incomplete else "")
        )
        attrs = data_attrs(
            period=p.period,
            cycles=p.cycles,
            achieved=p.achieved,
            breached=p.breached,
            open=p.open,
            compliance=None if p.compliance is None else repr(p.compliance),
            incomplete="1" if p.incomplete else "0",
        )
        parts.append(
            f'<g class="pt{" incomplete" if p.incomplete else ""}"{attrs}><title>{esc(title)}</title>'
        )
        h = (b_bottom - b_top) * p.breached / top_b
        style = ' opacity="0.45" stroke="#b91c1c" stroke-dasharray="2 2"' if p.incomplete else ""
        parts.append(
            f'<rect x="{number_text(x - bar_w / 2)}" y="{number_text(b_bottom - h)}" width="{number_text(bar_w)}" '
            f'height="{number_text(h)}" fill="{BREACH_COLOR}"{style}/>'
        )
        if p.compliance is not None:
            color = compliance_color(p.compliance)
            y = cy(p.compliance)
            fill = "#ffffff" if p.incomplete else color
            parts.append(
                f'<circle cx="{number_text(x)}" cy="{number_text(y)}" r="4" fill="{fill}" stroke="{color}" '
                f'stroke-width="2"/>'
            )
            if value_labels or i == n - 1:
                anchor = "end" if i == n - 1 and not value_labels else "middle"
                ly = y - 8 if y - 8 > c_top + 4 else y + 16
                parts.append(
                    f'<text x="{number_text(x + (4 if anchor == "end" else 0))}" y="{number_text(ly)}" '
                    f'text-anchor="{anchor}" fill="{INK}" font-size="10">{percent_text(p.compliance, 0)}</text>'
                )
        if value_labels and p.breached:
            parts.append(
                f'<text x="{number_text(x)}" y="{number_text(b_bottom - h - 3)}" text-anchor="middle" '
                f'fill="{BAD_COLOR}" font-size="10">{p.breached:,}</text>'
            )
        parts.append("</g>")
        if (n - 1 - i) % label_every == 0:
            parts.append(
                f'<text x="{number_text(x)}" y="{b_bottom + 15}" text-anchor="middle" fill="{LABEL}" '
                f'font-size="10">{esc(labels[i])}</text>'
            )
    legend = [("compliance", INK, "line"), ("breached cycles", BREACH_COLOR, "bar")]
    if any(p.incomplete for p in points):
        legend.append(("incomplete: open cycles", MUTED, "hollow"))
    x = float(left)
    for name, color, kind in legend:
        if kind == "bar":
            mark = f'<rect x="{number_text(x)}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
        elif kind == "line":
            mark = f'<circle cx="{number_text(x + 5)}" cy="{height - 11}" r="4" fill="{OK_COLOR}"/>'
        else:
            mark = f'<circle cx="{number_text(x + 5)}" cy="{height - 11}" r="4" fill="#fff" stroke="{color}" stroke-width="2"/>'
        parts.append(
            mark
            + f'<text x="{number_text(x + 15)}" y="{height - 7}" fill="{MUTED}" font-size="11">{esc(name)}</text>'
        )
        x += 30 + 6.2 * len(name)
    label = f"{metric}: compliance and breached cycles per period"
    return (
        svg_open("trend", width, height, label, f' data-metric="{esc(metric)}"') + "".join(parts) + "</svg>"
    )


def trend_summary(points: Sequence[TrendPoint]) -> str:
    """One line of text under a trend chart: the latest complete period and the incomplete ones."""
    complete = [p for p in points if not p.incomplete and p.compliance is not None]
    parts = []
    if complete:
        last = complete[-1]
        parts.append(
            f"last complete period {last.period}: {percent_text(last.compliance)} "
            f"({last.breached:,} breached of {last.achieved + last.breached:,})"
        )
    open_points = [p for p in points if p.incomplete]
    if open_points:
        names = ", ".join(p.period for p in open_points[-3:])
        more = f" and {len(open_points) - 3} earlier" if len(open_points) > 3 else ""
        parts.append(
            f"incomplete: {names}{more} ({sum(p.open for p in open_points):,} open cycles; "
            "their compliance can still fall)"
        )
    if not parts:
        return "No cycle is achieved or breached yet."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def trend_panel(report: Report) -> str:
    """Each metric's compliance and breaches per period; a note without ``--period``."""
    series = trend_series(report)
    if report.period is None:
        return '<p class="empty">Run the report with <code>--period week</code> (or day, month) for each metric\'s trend.</p>'
    if not series:
        return '<p class="empty">No cycles with a target.</p>'
    figures = [
        f'<figure class="trend"><h3>{esc(metric)} <span class="muted">· targets in '
        f"{esc(hours_label(report.meta.hours_of(metric)))}</span></h3>"
        f"{chart_trend(metric, points)}<figcaption>{esc(trend_summary(points))}</figcaption></figure>"
        for metric, points in series.items()
    ]
    return f'<div class="trend-grid">{"".join(figures)}</div>'
