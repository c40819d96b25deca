"""The HTML report: one self-contained page (no network, no scripts) of summary
cards, the inline SVG charts of :mod:`sla.report.charts` and the full tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sla.report.charts import (
    FONT,
    chart_compliance,
    chart_csat,
    chart_first_response,
    chart_heatmap,
    chart_misses_per_day,
)
from sla.report.results import KpiGroup, Report
from sla.report.text import (
    GOOD,
    WARN,
    duration_text,
    esc,
    hours_label,
    percent_text,
    source_text,
    unmeasured_line,
)
from sla.timefmt import header_instant

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


def share_class(share: float | None) -> str:
    if share is None:
        return "none"
    return "ok" if share >= GOOD else "warn" if share >= WARN else "bad"


def table_cell(value: object, numeric: bool = True, title: str | None = None) -> str:
    t = f' title="{esc(title)}"' if title else ""
    if value is None:
        return f'<td class="n null"{t}>–</td>' if numeric else f'<td class="null"{t}>null</td>'
    return f'<td class="n"{t}>{esc(value)}</td>' if numeric else f"<td{t}>{esc(value)}</td>"


def _duration_td(seconds: float | None, hours: str = "calendar") -> str:
    return table_cell(
        None if seconds is None else duration_text(seconds, hours == "business"),
        title=None if seconds is None else f"{seconds:g} s, {hours_label(hours)}",
    )


def _rate_td(share: float | None) -> str:
    return table_cell(
        None if share is None else percent_text(share), title=None if share is None else f"{share:.6g}"
    )


def _group_cells(report: Report, group: Mapping[str, object]) -> str:
    return "".join(
        table_cell(group.get(k), numeric=False)
        if group.get(k) is None or isinstance(group.get(k), str)
        else table_cell(json.dumps(group.get(k)), numeric=False)
        for k in report.group_keys
    )


def table_sla(report: Report) -> str:
    head = "".join(f"<th>{esc(k)}</th>" for k in report.group_keys)
    head += (
        "<th>metric</th><th class=n>cycles</th><th class=n>achieved</th><th class=n>breached</th>"
        "<th class=n>cancelled</th><th class=n>running</th><th class=n>paused</th><th class=n>compliance</th>"
        "<th class=n>elapsed mean</th><th class=n>p50</th><th class=n>p90</th><th>time counted</th>"
    )
    rows = []
    for r in report.sla:
        el = r.elapsed_seconds
        pill = (
            f'<td class="n" title="{esc("-" if r.compliance is None else f"{r.compliance:.6g}")}">'
            f'<span class="pill {share_class(r.compliance)}">{esc(percent_text(r.compliance))}</span></td>'
        )
        rows.append(
            "<tr>"
            + _group_cells(report, r.group)
            + f"<td>{esc(r.metric)}</td>"
            + "".join(
                table_cell(v) for v in (r.cycles, r.achieved, r.breached, r.cancelled, r.running, r.paused)
            )
            + pill
            + "".join(
                _duration_td(None if el is None else getattr(el, p), report.meta.hours_of(r.metric))
                for p in ("mean", "p50", "p90")
            )
            + f"<td>{esc(hours_label(report.meta.hours_of(r.metric)))}</td>"
            + "</tr>"
        )
    if not rows:
        return '<p class="note">No cycles with a target.</p>'
    return f'<div class="scroll"><table class="sla"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def table_kpis(report: Report) -> str:
    """Two tables of the ticket figures: volume and response times, then rates and CSAT."""
    if not report.kpis:
        return '<p class="note">No tickets created at or before now.</p>'
    groups = "".join(f"<th>{esc(k)}</th>" for k in report.group_keys)
    head1 = groups + (
        "<th class=n>tickets</th><th class=n>messages in</th><th class=n>messages out</th>"
        "<th class=n>unique requesters</th><th class=n>first response mean (calendar time)</th>"
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
            + "".join(table_cell(v) for v in (k.tickets, k.messages_in, k.messages_out, k.unique_requesters))
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
            + table_cell(k.csat.responses)
            + table_cell(None if k.csat.mean is None else f"{k.csat.mean:.2f}")
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
    head = "<th>day</th>" + "".join(f"<th class=n>{esc(m)}</th>" for m in metrics) + "<th class=n>total</th>"
    rows = "".join(
        "<tr>"
        + f"<td>{esc(d)}</td>"
        + "".join(table_cell(data[d].get(m, 0)) for m in metrics)
        + table_cell(sum(data[d].values()))
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
            share_class(share),
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
    return cards_html(cards)


def cards_html(cards: Sequence[tuple[str, str, str, str]]) -> str:
    """Summary cards: (title, big value, small print, CSS class of the value) each."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{esc(name)}</div><div class="v {cls}">{esc(value)}</div>'
            f'<div class="s">{esc(sub)}</div></div>'
            for name, value, sub, cls in cards
        )
        + "</div>"
    )


def panel(ident: str, title: str, note: str, body: str) -> str:
    return f'<section class="panel" id="{ident}"><h2>{esc(title)}</h2><p class="note">{esc(note)}</p>{body}</section>'


def render_html(report: Report) -> str:
    """One self-contained page: summary cards, five inline SVG charts, the full tables."""
    now = header_instant(report.now)
    source = source_text(report)
    unmeasured = unmeasured_line(report)
    keys = report.group_keys
    grouping = f"grouped by {', '.join(keys)}" if keys else "all tickets in one group"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SLA report as of {esc(now)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>SLA report</h1><p>as of <b>{esc(now)}</b> · {esc(grouping)} · "
        f"local times in {esc(report.tz)}</p><p>{esc(source)}</p>"
        + (f'<p class="note">{esc(unmeasured)}</p>' if unmeasured else "")
        + "</header>",
        _cards(report),
        panel(
            "compliance",
            "SLA compliance",
            "Achieved ÷ (achieved + breached) per metric and group; dashed lines at 80% and 95%. "
            "Cancelled and open, unbreached cycles are outside the ratio.",
            chart_compliance(report),
        ),
        panel(
            "misses",
            "SLA misses per day",
            f"Breached cycles, open or ended, counted on the day (in {report.tz}) "
            "their target fell due, stacked by metric.",
            chart_misses_per_day(report) + _misses_table(report),
        ),
        '<div class="grid2">',
        panel(
            "first-response",
            "Time to first response",
            "Calendar time from creation to the first public agent message.",
            chart_first_response(report),
        ),
        panel("csat", "CSAT", "Each ticket's last score; satisfied means 4 or more.", chart_csat(report)),
        "</div>",
        panel(
            "volume",
            "Ticket volume by hour of week",
            f"Tickets created, by local weekday and hour in {report.tz}.",
            chart_heatmap(report),
        ),
        panel(
            "sla-table",
            "SLA figures",
            "Every cycle with a target, grouped by the attributes in force at its end "
            "(or now); elapsed times over ended cycles that were achieved or breached.",
            table_sla(report),
        ),
        panel(
            "kpi-table",
            "Support KPIs",
            "Tickets created at or before now, grouped by their attributes at now; "
            "FCR is a share of the tickets done at now.",
            table_kpis(report),
        ),
        f"<footer>Generated by sla report · now {esc(now)} · {report.tickets:,} tickets, {report.rejected:,} rejected. "
        "Formulas: docs/reports.md.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"
