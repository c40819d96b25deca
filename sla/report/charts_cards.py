"""The summary cards of the HTML report: one compliance card per metric, and
the cards of what needs action now (breached cycles still open, cycles due
within a day) and of the ticket figures (volume, first response and reply
times, resolution, CSAT, handle time, sentiment, bot coverage).

Every card says how its time is counted: a metric's targets in business or
calendar time, response and reply times in calendar time, handle time as
logged.  The figures of SEMANTICS.md section 13 are read with ``getattr``
so the page works with and without them; a card whose figure has no data
is left out.
"""

from __future__ import annotations

from sla.report.charts_base import data_attrs, duration_text, esc, hours_label, percent_text, share_class
from sla.report.results import Distribution, KpiGroup, Report


def card(name: str, value: str, subs: list[str], cls: str = "", attrs: str = "") -> str:
    """One card: title, big value, lines of small print; ``attrs`` carries its exact figures."""
    small = "".join(f'<div class="s">{esc(s)}</div>' for s in subs if s)
    return f'<div class="card"{attrs}><div class="k">{esc(name)}</div><div class="v {cls}">{esc(value)}</div>{small}</div>'


def metric_cards(report: Report) -> str:
    """One compliance card per metric, over the whole report."""
    cards = []
    for r in report.extras.overall_sla:
        hours = report.meta.hours_of(r.metric)
        open_ = r.running + r.paused
        p50 = None if r.elapsed_seconds is None else r.elapsed_seconds.p50
        attrs = data_attrs(
            metric=r.metric,
            cycles=r.cycles,
            achieved=r.achieved,
            breached=r.breached,
            open=open_,
            compliance=None if r.compliance is None else repr(r.compliance),
            hours=hours,
        )
        cards.append(
            card(
                r.metric,
                percent_text(r.compliance),
                [
                    f"{r.breached:,} breached of {r.achieved + r.breached:,} · {open_:,} open",
                    f"median elapsed {duration_text(p50, hours == 'business')} · {hours_label(hours)}",
                ],
                share_class(r.compliance),
                attrs,
            )
        )
    return "".join(cards) or card("SLA compliance", "-", ["no cycles with a target"])


def ticket_cards(report: Report) -> str:
    """What needs action now, and the ticket figures over the whole report."""
    watch = report.extras.watch
    k: KpiGroup | None = report.extras.overall_kpis
    cards = []
    if watch is not None:
        cards.append(
            card(
                "Breached, still open",
                f"{watch.breached_open:,}",
                [f"of {watch.breached_total:,} breached cycles"],
                "bad" if watch.breached_open else "ok",
                data_attrs(breached_open=watch.breached_open, breached_total=watch.breached_total),
            )
        )
        cards.append(
            card(
                "Due within 24 h",
                f"{watch.due_within_day:,}",
                [f"of {watch.at_risk_total:,} open cycles not breached"],
                "warn" if watch.due_within_day else "",
                data_attrs(due_within_day=watch.due_within_day, at_risk_total=watch.at_risk_total),
            )
        )
    cards.append(card("Tickets", f"{report.tickets:,}", [f"{report.rejected:,} rejected"]))
    if k is None:
        return "".join(cards)
    frt = k.first_response_seconds
    cards.append(
        card(
            "First response",
            duration_text(frt.p50) if frt else "-",
            ["median, calendar time", f"p90 {duration_text(frt.p90)}" if frt else "no response yet"],
        )
    )
    reply: Distribution | None = getattr(k, "reply_seconds", None)
    if reply is not None:
        cards.append(
            card(
                "Reply time",
                duration_text(reply.p50),
                ["median wait, calendar time", f"p90 {duration_text(reply.p90)}"],
            )
        )
    cards.append(
        card(
            "Resolved",
            percent_text(k.resolution_rate),
            [f"reopened {percent_text(k.reopen_rate)}", f"FCR {percent_text(k.fcr_rate)}"],
        )
    )
    cards.append(
        card(
            "CSAT",
            "-" if k.csat.mean is None else f"{k.csat.mean:.2f}",
            ["no responses"]
            if not k.csat.responses
            else [f"{k.csat.responses:,} responses", f"{percent_text(k.csat.satisfied_share, 0)} satisfied"],
        )
    )
    handle = getattr(k, "handle_seconds", None)
    if handle is not None and handle.tickets:
        cards.append(
            card(
                "Handle time",
                duration_text(handle.mean, business=True),
                [
                    "mean per ticket, logged time",
                    f"{duration_text(handle.total, business=True)} over {handle.tickets:,} tickets",
                ],
            )
        )
    sentiment = getattr(k, "sentiment", None)
    if sentiment is not None and sentiment.tickets and sentiment.last_mean is not None:
        cards.append(
            card(
                "Sentiment",
                f"{sentiment.last_mean:+.2f}",
                [
                    f"last message; first {sentiment.first_mean:+.2f}",
                    f"change {sentiment.change_mean:+.2f} · {sentiment.tickets:,} tickets",
                ],
            )
        )
    bot_share = getattr(k, "bot_share", None)
    if bot_share is not None:
        cards.append(
            card(
                "Bot coverage",
                percent_text(bot_share),
                [
                    "of agent and bot messages",
                    f"bot-only resolved {percent_text(getattr(k, 'bot_resolved_rate', None))}",
                ],
            )
        )
    return "".join(cards)
