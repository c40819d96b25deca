"""The HTML report: one self-contained page (no network, no scripts) for the
morning stand-up.

Top to bottom: the header (as of, zone, policy files, events' range), cards
(compliance per metric, what needs action now, ticket figures), the open
cycles at risk and the breached ones, SLA misses per day per owner, each
metric's trend over ``--period``, compliance per group worst first, misses
per day, the ticket charts, and the full ``sla`` and ``kpis`` tables.  The
pieces are drawn by the ``sla.report.charts*`` modules; the page prints in a
few pages (folded rows are not printed) and reflows down to a phone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import tzinfo

from sla.report.charts import chart_compliance, chart_misses_per_day, misses_table
from sla.report.charts_base import (
    cards_html,
    duration_text,
    esc,
    local_minute,
    panel,
    percent_text,
    share_class,
    table_cell,
    zone_of,
)
from sla.report.charts_cards import metric_cards, ticket_cards
from sla.report.charts_style import CSS
from sla.report.charts_tickets import chart_csat, chart_first_response, chart_heatmap
from sla.report.charts_trend import trend_panel
from sla.report.charts_watch import owner_panels, watch_note, watch_table
from sla.report.results import Distribution, KpiGroup, Report
from sla.report.text import events_text, hours_label, policies_text, unmeasured_line
from sla.report.watchlist import MISS_DAYS, MISS_OWNERS
from sla.timefmt import header_instant

__all__ = ["CSS", "cards_html", "panel", "render_html", "share_class", "table_cell"]

#: Tables with more rows than this are folded (and so not printed).
FOLD_ROWS = 40


def report_zone(report: Report) -> tzinfo:
    """The zone of the report's local times (see :func:`~sla.report.charts_base.zone_of`)."""
    return zone_of(report.tz)


def _duration_td(seconds: float | None, hours: str = "calendar") -> str:
    """A duration cell; ``hours``: ``business`` or ``logged`` time is written
    in hours (no days), ``calendar`` time from a week up in days."""
    return table_cell(
        None if seconds is None else duration_text(seconds, hours != "calendar"),
        title=None if seconds is None else f"{seconds:g} s, {hours_label(hours)}",
    )


def _rate_td(share: float | None) -> str:
    return table_cell(
        None if share is None else percent_text(share), title=None if share is None else f"{share:.6g}"
    )


def _number_td(value: float | None, digits: int = 2) -> str:
    return table_cell(
        None if value is None else f"{value:+.{digits}f}", title=None if value is None else repr(value)
    )


def _group_cells(report: Report, group: Mapping[str, object]) -> str:
    """The group key cells of a row: text as it is, null as ``null``, other values as JSON."""
    return "".join(
        table_cell(group.get(k), numeric=False)
        if group.get(k) is None or isinstance(group.get(k), str)
        else table_cell(json.dumps(group.get(k)), numeric=False)
        for k in report.group_keys
    )


def _folded(cls: str, head: str, rows: list[str], what: str) -> str:
    """A table; folded under a summary (and so not printed) beyond :data:`FOLD_ROWS` rows."""
    table = (
        f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    if len(rows) <= FOLD_ROWS:
        return table
    return f"<details><summary>All {len(rows):,} {what} (folded; not printed)</summary>{table}</details>"


def table_sla(report: Report) -> str:
    """Every ``sla`` row, in the JSON's order."""
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
        hours = report.meta.hours_of(r.metric)
        rows.append(
            "<tr>"
            + _group_cells(report, r.group)
            + f"<td>{esc(r.metric)}</td>"
            + "".join(
                table_cell(v) for v in (r.cycles, r.achieved, r.breached, r.cancelled, r.running, r.paused)
            )
            + pill
            + "".join(
                _duration_td(None if el is None else getattr(el, p), hours) for p in ("mean", "p50", "p90")
            )
            + f"<td>{esc(hours_label(hours))}</td></tr>"
        )
    if not rows:
        return '<p class="empty">No cycles with a target.</p>'
    return _folded("sla", head, rows, "rows")


def _has_new_figures(rows: list[KpiGroup]) -> bool:
    """Whether the ticket figures of SEMANTICS.md section 13 are there and say anything."""
    for k in rows:
        handle = getattr(k, "handle_seconds", None)
        sentiment = getattr(k, "sentiment", None)
        if (
            getattr(k, "reply_seconds", None) is not None
            or getattr(k, "bot_share", None) is not None
            or (handle is not None and handle.tickets)
            or (sentiment is not None and sentiment.tickets)
        ):
            return True
    return False


def table_kpis(report: Report) -> str:
    """The ticket figures: volume and response times, rates and CSAT, and
    replies, handle time, sentiment and bots when the report has them."""
    if not report.kpis:
        return '<p class="empty">No tickets created at or before now.</p>'
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
    head3 = groups + (
        "<th class=n>reply p50 (calendar time)</th><th class=n>reply p90</th><th class=n>tickets with time logged</th>"
        "<th class=n>handle total (logged)</th><th class=n>handle mean</th><th class=n>tickets with sentiment</th>"
        "<th class=n>first</th><th class=n>last</th><th class=n>change</th><th class=n>bot share</th>"
        "<th class=n>bot-only resolved</th>"
    )
    rows1, rows2, rows3 = [], [], []
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
        reply: Distribution | None = getattr(k, "reply_seconds", None)
        handle = getattr(k, "handle_seconds", None)
        sentiment = getattr(k, "sentiment", None)
        rows3.append(
            "<tr>"
            + cells
            + "".join(_duration_td(None if reply is None else getattr(reply, p)) for p in ("p50", "p90"))
            + table_cell(None if handle is None else handle.tickets)
            + _duration_td(None if handle is None else handle.total, "logged")
            + _duration_td(None if handle is None else handle.mean, "logged")
            + table_cell(None if sentiment is None else sentiment.tickets)
            + "".join(
                _number_td(None if sentiment is None else getattr(sentiment, p))
                for p in ("first_mean", "last_mean", "change_mean")
            )
            + _rate_td(getattr(k, "bot_share", None))
            + _rate_td(getattr(k, "bot_resolved_rate", None))
            + "</tr>"
        )
    out = _folded("kpis kpis-volume", head1, rows1, "rows") + "<h3>Rates and CSAT</h3>"
    out += _folded("kpis kpis-rates", head2, rows2, "rows")
    if _has_new_figures(report.kpis):
        out += "<h3>Replies, handle time, sentiment and bots</h3>" + _folded(
            "kpis kpis-more", head3, rows3, "rows"
        )
    return out


def header_html(report: Report, zone: tzinfo) -> str:
    """Title, as-of instant (UTC and local), zone, grouping, policy files and events' range."""
    now = header_instant(report.now)
    keys = report.by
    grouping = ", ".join(keys) if keys else "all tickets in one group"
    if report.period:
        grouping += f"; per {report.period}"
    items = [
        ("as of", f"{now} · {local_minute(report.now, zone)} local"),
        ("policies", policies_text(report)),
        ("time zone", f"{report.tz} (every local time and day on this page)"),
        ("events", events_text(report) or "none"),
        ("grouped by", grouping),
    ]
    unmeasured = unmeasured_line(report)
    return (
        '<header><h1>SLA report</h1><dl class="meta">'
        + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
        + "</dl>"
        + (f'<p class="note">{esc(unmeasured)}</p>' if unmeasured else "")
        + "</header>"
    )


def render_html(report: Report) -> str:
    """One self-contained page: header, cards, watch tables, charts, the full tables."""
    now = header_instant(report.now)
    zone = report_zone(report)
    watch = report.extras.watch
    owners = [
        panel(
            f"owners-{key}",
            f"SLA misses per day per {key}",
            f"Breached cycles by the local day (in {report.tz}) their target fell due, and the {key} "
            f"at that instant; the last {MISS_DAYS} days up to now, the {MISS_OWNERS} with the most misses "
            "(a phone shows the last week).",
            table,
        )
        for key, table in owner_panels(report, zone)
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SLA report as of {esc(now)}</title><style>{CSS}</style></head><body><main>",
        header_html(report, zone),
        f'<h2 class="set">SLA compliance by metric</h2><div class="cards metrics">{metric_cards(report)}</div>',
        f'<h2 class="set">Now and tickets</h2><div class="cards">{ticket_cards(report)}</div>',
        panel("at-risk", "Open cycles at risk", watch_note(watch, "risk"), watch_table(report, "risk", zone)),
        panel(
            "breached", "Breached cycles", watch_note(watch, "breach"), watch_table(report, "breach", zone)
        ),
        *owners,
        panel(
            "trend",
            "Trend per metric",
            f"Compliance and breached cycles per {report.period or 'period'}, summed over the other group keys "
            "(cycles by the local day they started); dashed lines at 80% and 95%. A period with open cycles is "
            "incomplete (hollow): its compliance can still fall.",
            trend_panel(report),
        ),
        panel(
            "compliance",
            "SLA compliance by group, worst first",
            "Achieved ÷ (achieved + breached). Groups below 95% first, most breaches beyond the 95% goal first; "
            "dashed lines at 80% and 95%. Cancelled and open, unbreached cycles are outside the ratio.",
            chart_compliance(report),
        ),
        panel(
            "misses",
            "SLA misses per day",
            f"Breached cycles, open or ended, counted on the day (in {report.tz}) "
            "their target fell due, stacked by metric.",
            chart_misses_per_day(report) + misses_table(report),
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
