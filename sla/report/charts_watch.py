"""The watch panels of the HTML report, from ``report.extras.watch``
(:mod:`sla.report.watchlist`): the open cycles at risk and the breached
cycles, each a table due time first, and SLA misses per day per owner as a
heat table (owner × local day).

Times are local in the report's ``--tz``; durations are in the one form of
every command (:func:`sla.timefmt.duration_text`), business time where the
cycle's target is.  Each row carries its exact figures as ``data-*``
attributes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, tzinfo

from sla.report.charts_base import data_attrs, esc, local_minute, mix
from sla.report.results import Report
from sla.report.watchlist import OwnerDays, OwnerRow, WatchItem, WatchlistResult
from sla.timefmt import duration_text, format_instant

#: Rows shown before the rest of a watch table is folded away (and not printed).
SHOWN_ROWS = 15
#: Days of the misses-per-owner table a phone shows (the last week).
PHONE_DAYS = 7
HEAT_LOW, HEAT_HIGH = "#fff7ed", "#b91c1c"


def owner_label(value: object) -> str:
    """An owner value for a cell: text as it is, ``unassigned`` for none, else JSON."""
    if value is None:
        return "unassigned"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def elapsed_text(item: WatchItem) -> str:
    """``elapsed / target`` in the metric's own time (business or calendar)."""
    business = item.hours == "business"
    return f"{duration_text(item.elapsed_us, business=business)} / {duration_text(item.target_us, business=business)}"


def _row(item: WatchItem, kind: str, owner_keys: Sequence[str], zone: tzinfo, now: int) -> str:
    """One watch-table row; ``kind`` ``risk`` or ``breach``."""
    due = "paused, no due time" if item.due_at is None else local_minute(item.due_at, zone)
    if kind == "risk":
        if item.due_at is None:
            when = "paused"
        elif item.due_at == now:
            when = "now"
        elif item.due_at < now:  # at its target exactly, and paused there
            when = f"at target {duration_text(now - item.due_at, business=False)} ago"
        else:
            when = f"in {duration_text(item.due_at - now, business=False)}"
        state = item.state
    else:
        when = "" if item.due_at is None else f"{duration_text(now - item.due_at, business=False)} ago"
        state = "open" if item.open else "ended"
    attrs = data_attrs(
        ticket=item.ticket_id,
        metric=item.metric,
        cycle=item.cycle,
        policy=item.policy,
        state=item.state,
        open="1" if item.open else "0",
        due=None if item.due_at is None else format_instant(item.due_at),
        elapsed_us=item.elapsed_us,
        target_us=item.target_us,
        hours=item.hours,
        owner=json.dumps([item.owner_value(k) for k in owner_keys], ensure_ascii=False),
    )
    owners = "".join(f"<td>{esc(owner_label(item.owner_value(k)))}</td>" for k in owner_keys)
    return (
        f"<tr{attrs}><td class='due'>{esc(due)}<span class='when'>{esc(when)}</span></td>"
        f"<td class='ticket'>{esc(item.ticket_id)}</td><td>{esc(item.metric)}</td>{owners}"
        f"<td class='n'>{esc(elapsed_text(item))}</td><td>{esc(state)}</td><td>{esc(item.policy)}</td></tr>"
    )


def watch_table(report: Report, kind: str, zone: tzinfo) -> str:
    """The at-risk (``kind`` ``risk``) or breached (``breach``) cycles as a
    table: the first :data:`SHOWN_ROWS` rows, the rest folded under them."""
    watch = report.extras.watch
    if watch is None or watch.now is None:
        return '<p class="empty">No tickets.</p>'
    items = watch.at_risk if kind == "risk" else watch.breached
    if not items:
        return f'<p class="empty">{"No open cycle" if kind == "risk" else "No breached cycle"}.</p>'
    keys = watch.owner_keys
    head = (
        f"<th>due ({esc(report.tz)})</th><th>ticket</th><th>metric</th>"
        + "".join(f"<th>{esc(k)}</th>" for k in keys)
        + "<th class=n>elapsed / target</th><th>state</th><th>policy</th>"
    )
    rows = [_row(item, kind, keys, zone, watch.now) for item in items]

    def table(body: Sequence[str]) -> str:
        return (
            f'<div class="scroll"><table class="watch {kind}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )

    out = table(rows[:SHOWN_ROWS])
    if len(rows) > SHOWN_ROWS:
        out += f"<details><summary>{len(rows) - SHOWN_ROWS:,} more rows</summary>{table(rows[SHOWN_ROWS:])}</details>"
    return out


def watch_note(watch: WatchlistResult | None, kind: str) -> str:
    """What a watch table lists, out of how many."""
    if watch is None:
        return ""
    if kind == "risk":
        listed = len(watch.at_risk)
        return (
            f"Open cycles not breached yet, soonest due first: {listed:,} of {watch.at_risk_total:,} "
            f"({watch.due_within_day:,} due within 24 hours; {watch.at_risk_paused:,} paused, with no "
            "due time while paused, listed last). Elapsed and target in the metric's own time; due in, calendar time."
        )
    listed = len(watch.breached)
    return (
        f"Breached cycles, most recently due first: {listed:,} of {watch.breached_total:,} "
        f"({watch.breached_open:,} still open). Elapsed and target in the metric's own time."
    )


def _heat_cell(count: int, peak: int, cls: str) -> str:
    """A day cell, its red deeper with more misses (``cls``: weekend, older day)."""
    if not count:
        return f'<td class="n {cls}"></td>'
    t = 0.15 + 0.85 * count / peak
    ink = "#ffffff" if t > 0.55 else "#7f1d1d"
    return f'<td class="n {cls}" style="background:{mix(HEAT_LOW, HEAT_HIGH, t)};color:{ink}">{count:,}</td>'


def _day_classes(days: Sequence[date]) -> list[str]:
    """Per day column: ``we`` on weekends, ``old`` before the last :data:`PHONE_DAYS` (hidden on a phone)."""
    return [
        " ".join(
            c for c in ("we" if d.weekday() >= 5 else "", "old" if i < len(days) - PHONE_DAYS else "") if c
        )
        for i, d in enumerate(days)
    ]


def _owner_row(label: str, row: OwnerRow, classes: Sequence[str], peak: int, cls: str = "") -> str:
    """One owner's row of day cells and total."""
    attrs = data_attrs(
        owner=json.dumps(row.owner, ensure_ascii=False), total=row.total, counts=json.dumps(row.counts)
    )
    cells = "".join(_heat_cell(c, peak, k) for c, k in zip(row.counts, classes, strict=True))
    return (
        f'<tr class="{cls}"{attrs}><th class="owner" title="{esc(label)}">{esc(label)}</th>{cells}'
        f'<td class="n total">{row.total:,}</td></tr>'
    )


def owner_days_table(table: OwnerDays) -> str:
    """Misses per local day per owner as a heat table, weekends shaded; on a
    phone only the last :data:`PHONE_DAYS` days (the totals still cover all)."""
    if not table.total:
        return f'<p class="empty">No breached cycle fell due in these {len(table.days)} days.</p>'
    days = [date.fromisoformat(d) for d in table.days]
    classes = _day_classes(days)
    peak = max(max(row.counts) for row in (*table.rows, *([table.other] if table.other else [])))
    months: list[tuple[str, int]] = []
    for d in days:
        name = d.strftime("%b")
        if months and months[-1][0] == name:
            months[-1] = (name, months[-1][1] + 1)
        else:
            months.append((name, 1))
    head1 = (
        '<tr class="months"><th></th>'
        + "".join(f'<th colspan="{n}" class="month">{esc(m if n > 2 else "")}</th>' for m, n in months)
        + "<th></th></tr>"
    )
    head2 = (
        f"<tr><th>{esc(table.key)}</th>"
        + "".join(
            f'<th class="n day {k}" title="{d.isoformat()}">{d.day}</th>'
            for d, k in zip(days, classes, strict=True)
        )
        + f'<th class="n">total<span class="phone">{len(days)} days</span></th></tr>'
    )
    body = [_owner_row(owner_label(row.owner), row, classes, peak) for row in table.rows]
    if table.other is not None:
        body.append(
            _owner_row(
                f"{table.other_owners:,} other {table.key} values", table.other, classes, peak, "other"
            )
        )
    totals = "".join(
        f'<td class="n {k}">{c or ""}</td>' for c, k in zip(table.day_totals, classes, strict=True)
    )
    body.append(
        f'<tr class="totals"{data_attrs(total=table.total, counts=json.dumps(table.day_totals))}>'
        f'<th>all</th>{totals}<td class="n total">{table.total:,}</td></tr>'
    )
    return (
        f'<div class="scroll"><table class="owners" data-key="{esc(table.key)}"{data_attrs(days=json.dumps(table.days))}>'
        f"<thead>{head1}{head2}</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def owner_panels(report: Report, zone: tzinfo) -> list[tuple[str, str]]:
    """Per ``--by`` key naming an owner attribute: (title, table)."""
    watch = report.extras.watch
    if watch is None:
        return []
    out = []
    for key in watch.miss_keys:
        table = watch.misses_per_day(key, zone)
        out.append((key, owner_days_table(table)))
    return out
