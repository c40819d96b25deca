"""The SLA charts of the HTML report: compliance per group, worst first, and
SLA misses per day.

Each ``chart_*`` function takes a :class:`~sla.report.results.Report` and
returns HTML text (no scripts, no external resources).  The compliance
chart is drawn with HTML bars so that it reflows on a phone; misses per day
are an inline SVG.  The other charts live beside this module: the trend
per period in :mod:`sla.report.charts_trend`, the ticket charts in
:mod:`sla.report.charts_tickets`, the watch tables in
:mod:`sla.report.charts_watch`, and the shared drawing helpers in
:mod:`sla.report.charts_base` (re-exported here for the compare page).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from sla.report.charts_base import (
    FONT,
    GOOD,
    MUTED,
    PALETTE,
    compliance_color,
    data_attrs,
    empty_svg,
    esc,
    gridlines,
    legend_svg,
    nice_max,
    number_text,
    percent_text,
    share_class,
    svg_open,
)
from sla.report.charts_tickets import DAYS, FRT_BINS, chart_csat, chart_first_response, chart_heatmap
from sla.report.results import Report, SlaGroup
from sla.report.text import group_text, hours_label

__all__ = [
    "DAYS",
    "FONT",
    "FRT_BINS",
    "MAX_COMPLIANCE_ROWS",
    "PALETTE",
    "chart_compliance",
    "chart_csat",
    "chart_first_response",
    "chart_heatmap",
    "chart_misses_per_day",
    "compliance_color",
    "empty_svg",
    "legend_svg",
    "number_text",
    "rank_groups",
    "svg_open",
]

#: Groups drawn per metric in the compliance chart (the table lists all).
MAX_COMPLIANCE_ROWS = 14


def excess_breaches(row: SlaGroup) -> float:
    """Breaches beyond what the 95 % goal allows: ``breached - 5% of (achieved + breached)``.

    >>> from sla.report.results import SlaGroup
    >>> excess_breaches(SlaGroup({}, "m", 100, 80, 20, 0, 0, 0, 0.8, None))
    15.0
    """
    return row.breached - (row.achieved + row.breached) * (100 - round(GOOD * 100)) / 100


def rank_groups(rows: Sequence[SlaGroup]) -> list[SlaGroup]:
    """One metric's groups, the ones that pull compliance down most first.

    Groups below the 95 % goal come first, most breaches beyond the goal
    first (so a big group at 82 % ranks above a group with one cycle, missed);
    then groups at or above the goal, lowest compliance first; then groups
    without a compliance (only open or cancelled cycles), most cycles first.
    Ties keep the report's order.
    """

    def key(item: tuple[int, SlaGroup]) -> tuple[int, float, int, int]:
        index, row = item
        if row.compliance is None:
            return (2, -row.cycles, 0, index)
        excess = excess_breaches(row)
        if excess > 0:
            return (0, -excess, -row.breached, index)
        return (1, row.compliance, -row.breached, index)

    return [row for _, row in sorted(enumerate(rows), key=key)]


def _bar_row(metric: str, row: SlaGroup) -> str:
    """One group's bar: label, filled track with the 80 % and 95 % guides, figures."""
    name = group_text(row.group) if row.group else "all tickets"
    share = row.compliance
    if share is None:
        text = f"n/a · {row.cycles:,} open or cancelled"
        fill = ""
    else:
        text = f"{percent_text(share)} · {row.breached:,} breached of {row.achieved + row.breached:,}"
        fill = f'<span class="fill {share_class(share)}" style="width:{share * 100:.2f}%"></span>'
    attrs = data_attrs(
        metric=metric,
        group=json.dumps(row.group, sort_keys=True, ensure_ascii=False),
        cycles=row.cycles,
        achieved=row.achieved,
        breached=row.breached,
        compliance=None if share is None else repr(share),
    )
    return (
        f'<div class="bar-row"{attrs}><span class="bar-label" title="{esc(name)}">{esc(name)}</span>'
        f'<span class="track">{fill}<i class="g80"></i><i class="g95"></i></span>'
        f'<span class="bar-text">{esc(text)}</span></div>'
    )


def chart_compliance(report: Report) -> str:
    """Compliance bars per metric: the :data:`MAX_COMPLIANCE_ROWS` groups that
    pull compliance down most (:func:`rank_groups`), coloured by threshold,
    with guides at 80 % and 95 %."""
    rows = [r for r in report.sla if r.cycles]
    if not rows:
        return '<div class="bars" data-chart="compliance"><p class="empty">No cycles with a target</p></div>'
    by_metric: dict[str, list[SlaGroup]] = {}
    for row in rows:
        by_metric.setdefault(row.metric, []).append(row)
    parts = ['<div class="bars" data-chart="compliance">']
    for metric in sorted(by_metric):
        ranked = rank_groups(by_metric[metric])
        shown, hidden = ranked[:MAX_COMPLIANCE_ROWS], ranked[MAX_COMPLIANCE_ROWS:]
        parts.append(
            f'<div class="bar-metric" data-metric="{esc(metric)}"><h3>{esc(metric)} '
            f'<span class="muted">· {len(ranked):,} group{"s" if len(ranked) != 1 else ""} · targets in '
            f"{esc(hours_label(report.meta.hours_of(metric)))}</span></h3>"
        )
        parts += [_bar_row(metric, row) for row in shown]
        if hidden:
            failing = sum(1 for r in hidden if r.compliance is not None and r.compliance < GOOD)
            parts.append(
                f'<p class="more">{len(hidden):,} more group{"s" if len(hidden) != 1 else ""} not drawn'
                f" ({failing:,} of them below 95%); every group is in the SLA figures table.</p>"
            )
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def day_range(first: str, last: str) -> list[str]:
    """Every ISO date from ``first`` to ``last``, both included."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def chart_misses_per_day(report: Report) -> str:
    """Stacked bars: breached cycles per local day of their due time, per metric."""
    label = f"SLA misses per day ({report.tz})"
    data = report.extras.breaches_by_day
    if not data:
        return empty_svg("misses", label, "No breached cycles")
    days = day_range(min(data), max(data))
    metrics = sorted({m for counts in data.values() for m in counts})
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    totals = [sum(data.get(d, {}).values()) for d in days]
    top, step = nice_max(max(totals))
    width, height, left, right, plot_top, plot_bottom = 960, 300, 48, 12, 34, 250
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    slot = plot_w / len(days)
    bar_w = min(max(slot * 0.78, 0.6), 44)
    parts = [legend_svg([(m, colors[m]) for m in metrics], left, 14)]
    parts += gridlines(top, step, left, width - right, plot_bottom, plot_h)
    for i, day in enumerate(days):
        counts: Mapping[str, int] = data.get(day, {})
        x = left + i * slot + (slot - bar_w) / 2
        y: float = plot_bottom
        total = sum(counts.values())
        if total:
            detail = ", ".join(f"{m} {counts[m]}" for m in metrics if counts.get(m))
            attrs = data_attrs(day=day, total=total, counts=json.dumps(dict(sorted(counts.items()))))
            parts.append(f'<g class="day"{attrs}><title>{esc(day)}: {total} missed ({esc(detail)})</title>')
            for m in metrics:
                c = counts.get(m, 0)
                if not c:
                    continue
                h = plot_h * c / top
                y -= h
                parts.append(
                    f'<rect x="{number_text(x)}" y="{number_text(y)}" width="{number_text(bar_w)}" '
                    f'height="{number_text(h)}" fill="{colors[m]}"/>'
                )
            parts.append("</g>")
    every = max(1, math.ceil(len(days) / 12))
    for i in range(0, len(days), every):
        x = left + i * slot + slot / 2
        parts.append(
            f'<text x="{number_text(x)}" y="{plot_bottom + 18}" text-anchor="middle" fill="{MUTED}">'
            f"{esc(days[i][5:] if len(days) <= 400 else days[i])}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - right}" y2="{plot_bottom}" stroke="#94a3b8"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 8}" fill="{MUTED}" font-size="11">'
        f"{esc(days[0])} to {esc(days[-1])}: {sum(totals):,} breached cycles by the day they fell due</text>"
    )
    return svg_open("misses", width, height, label) + "".join(parts) + "</svg>"


def misses_table(report: Report) -> str:
    """SLA misses per day and metric as a table, folded under the chart."""
    data = report.extras.breaches_by_day
    if not data:
        return ""
    metrics = sorted({m for counts in data.values() for m in counts})
    head = "<th>day</th>" + "".join(f"<th class=n>{esc(m)}</th>" for m in metrics) + "<th class=n>total</th>"
    rows = "".join(
        f"<tr><td>{esc(d)}</td>"
        + "".join(f'<td class="n">{data[d].get(m, 0):,}</td>' for m in metrics)
        + f'<td class="n">{sum(data[d].values()):,}</td></tr>'
        for d in sorted(data)
    )
    return (
        f"<details><summary>Misses per day as a table ({len(data)} days)</summary><div class=scroll>"
        f'<table class="misses"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></details>'
    )
