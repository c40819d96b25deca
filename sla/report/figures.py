"""``sla report``: SLA compliance and support KPIs over a whole history
(SEMANTICS.md section 7; every formula is written out in docs/reports.md).

This module holds the builder: :class:`ReportBuilder` checks the report
options, groups each ticket's figures into mergeable accumulators
(:mod:`sla.report.accumulators`) and finishes them into a typed
:class:`~sla.report.results.Report`; :func:`build_report` runs it over a
history.  One pass per ticket: its clock is run once up to ``now`` and serves
both the clock figures (its judged cycles) and the ticket figures (messages,
rates, CSAT).  ``Report.to_dict()`` is the exact JSON object of
``sla report --format json``.

>>> from sla import load_policies
>>> from sla.engine.jsonl import read_jsonl
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> tickets, _ = read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"channel": "email"}}',
...     '{"ticket_id": "T1", "at": "2026-03-02T08:20:00Z", "type": "message", "author": "agent"}',
... ])
>>> report = build_report(policies, tickets, "2026-03-02T09:00:00Z", by=["channel"])
>>> row = report.sla[0]
>>> row.group, row.metric, row.achieved, row.compliance, row.elapsed_seconds.p50
({'channel': 'email'}, 'first_response', 1, 1.0, 1200.0)
>>> report.kpis[0].response_rate, report.kpis[0].first_response_seconds.mean
(1.0, 1200.0)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.calendar.index import zone_suggestion
from sla.engine.batch import TicketJudge, as_us
from sla.engine.events import EventRange, TicketEvents
from sla.errors import SlaError
from sla.policy.compile import PolicySet
from sla.policy.messages import suggest
from sla.report.accumulators import (
    GroupKey,
    KpiAcc,
    SlaAcc,
    kpi_row,
    sla_row,
    tally_cycles,
    ticket_figures,
    value_key,
)
from sla.report.localtime import LocalTime
from sla.report.results import PERIOD_KEY, Report, ReportExtras, ReportMeta
from sla.report.watchlist import Watchlist
from sla.timefmt import US_PER_SECOND

PERIODS = ("day", "week", "month")
POLICY_KEY = "policy"


class ReportError(SlaError):
    """Bad report options (an unknown time zone or period): usage error."""


class ProgressSink(Protocol):
    def update(self, done: int) -> None: ...

    def close(self) -> None: ...


def sort_token(value: object) -> tuple[object, ...]:
    if value is None:
        return (3,)
    if isinstance(value, str):
        return (0, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def _zone(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"--tz: unknown time zone {tz!r}"
            + (zone_suggestion(tz) or "; expected an IANA name like Europe/Berlin")
        ) from None


# ------------------------------------------------------------------ build
class ReportBuilder:
    """Accumulates tickets into report figures; partial builders merge.

    Feed tickets with :meth:`add` (any order), combine builders that saw
    disjoint sets of tickets with :meth:`merge` (parallel jobs do that), and
    get the :class:`Report` from :meth:`finish`.
    """

    def __init__(
        self,
        policies: PolicySet,
        now_us: int | str | datetime,
        by: Sequence[str] = (),
        period: str | None = None,
        tz: str | tzinfo = "UTC",
    ):
        self.now = as_us(now_us)
        self.by = tuple(by)
        if period is not None and period not in PERIODS:
            raise ReportError(f"--period: {period!r}; expected day, week or month")
        if period is not None and PERIOD_KEY in self.by:
            raise ReportError(
                "--by period clashes with the group key of --period; rename the attribute or drop --period"
            )
        if len(set(self.by)) != len(self.by):
            raise ReportError(f"--by names a key twice: {', '.join(self.by)}")
        self.period = period
        self.tz = tz
        zone = _zone(tz)
        self.tz_name = getattr(zone, "key", None) or str(tz)
        self.local = LocalTime(zone, period)
        self.policies = policies
        self.judge: TicketJudge | None = TicketJudge(policies, self.now)
        self.attr_keys = tuple(k for k in self.by if k != POLICY_KEY)
        self.by_policy = POLICY_KEY in self.by
        self.judged_at_start = frozenset(n for n, m in policies.metrics.items() if m.judged_at_start)
        self.sla_acc: dict[tuple[GroupKey, str], SlaAcc] = {}
        self.kpi_acc: dict[GroupKey, KpiAcc] = {}
        self.overall_sla: dict[str, SlaAcc] = {}
        self.overall_kpi = KpiAcc()
        self.group_values: dict[GroupKey, dict[str, object]] = {}
        self.extras = ReportExtras()
        self.accepted = 0
        self.rejected = 0
        self.events = EventRange()
        self.watch = Watchlist(self.by)
        self.unmeasured = 0
        self.no_policy = 0
        self.metric_hours: dict[str, set[str]] = {}

    def __getstate__(self) -> dict[str, object]:
        # Workers send builders back to the parent; the policies and the
        # zone cache stay behind (the parent has its own).
        state = dict(self.__dict__)
        state["policies"] = None
        state["judge"] = None
        state["local"] = None
        return state

    def _group_of(self, attrs: Mapping[str, object], policy_name: object, at: int) -> GroupKey:
        values: dict[str, object] = {}
        for key in self.by:
            values[key] = policy_name if key == POLICY_KEY else attrs.get(key)
        if self.period is not None:
            values[PERIOD_KEY] = self.local.period_of(at)
        gkey = tuple(value_key(values[k]) for k in values)
        if gkey not in self.group_values:
            self.group_values[gkey] = values
        return gkey

    def add(self, ticket: TicketEvents) -> None:
        """Count one ticket (a rejected one only as rejected)."""
        if ticket.error is not None:
            self.rejected += 1
            return
        policies, now, local, extras = self.policies, self.now, self.local, self.extras
        judge = self.judge
        assert judge is not None, "a builder sent back by a worker only merges"
        self.events.see(ticket)
        clock = judge.clock_of(ticket)
        if clock is None:  # created after now
            return
        self.accepted += 1
        created_at = clock.created_at
        assert created_at is not None

        # Clock figures: each cycle grouped by the attributes at its end (or now).
        judged = judge.judge_fields(ticket.ticket_id, clock)  # plain tuples: no named result built
        measured = bool(judged)
        tally_cycles(
            judged,
            clock,
            now,
            bool(self.attr_keys),
            self.judged_at_start,
            self._group_of,
            self.period is not None,
            self.metric_hours,
            self.sla_acc,
            self.overall_sla,
            local,
            extras.breaches_by_day,
        )

        self.watch.add(ticket.ticket_id, judged, clock, now)

        # Ticket figures: grouped by the attributes (and policy) at now.
        attrs_now = clock.attributes
        extras.attribute_names.update(attrs_now)
        if not measured:
            self.unmeasured += 1
            if policies.policy_for(attrs_now, created_at) is None:
                self.no_policy += 1
        policy_now = None
        if self.by_policy:
            policy = policies.policy_for(attrs_now, created_at)
            policy_now = None if policy is None else policy.name
        gkey = self._group_of(attrs_now, policy_now, created_at)
        kacc = self.kpi_acc.get(gkey)
        if kacc is None:
            kacc = self.kpi_acc[gkey] = KpiAcc()
        figures = ticket_figures(ticket.events, created_at, now, policies.done_statuses)
        requester = clock.fields.get("requester")  # the events' own field, not a derived one
        done = clock.status in policies.done_statuses
        kacc.add(figures, requester, done)
        self.overall_kpi.add(figures, requester, done)
        if figures.csat is not None:
            extras.csat_scores[figures.csat] += 1
        weekday, hour = local.weekday_hour(created_at)
        extras.created_by_hour[weekday][hour] += 1

    def merge(self, other: ReportBuilder) -> None:
        """Add the figures of a builder that saw other tickets."""
        for key, acc in other.sla_acc.items():
            self.sla_acc.setdefault(key, SlaAcc()).merge(acc)
        for gkey, kacc in other.kpi_acc.items():
            self.kpi_acc.setdefault(gkey, KpiAcc()).merge(kacc)
        for metric, acc in other.overall_sla.items():
            self.overall_sla.setdefault(metric, SlaAcc()).merge(acc)
        self.overall_kpi.merge(other.overall_kpi)
        for gkey, values in other.group_values.items():
            self.group_values.setdefault(gkey, values)
        for day, counts in other.extras.breaches_by_day.items():
            self.extras.breaches_by_day.setdefault(day, Counter()).update(counts)
        self.extras.csat_scores.update(other.extras.csat_scores)
        self.extras.attribute_names |= other.extras.attribute_names
        for mine, theirs in zip(self.extras.created_by_hour, other.extras.created_by_hour, strict=False):
            for hour, count in enumerate(theirs):
                mine[hour] += count
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.events.merge(other.events.first, other.events.last)
        self.watch.merge(other.watch)
        self.unmeasured += other.unmeasured
        self.no_policy += other.no_policy
        for metric, kinds in other.metric_hours.items():
            self.metric_hours.setdefault(metric, set()).update(kinds)

    def finish(self, rejected: int | None = None) -> Report:
        extras = self.extras
        extras.watch = self.watch.finish()
        extras.overall_sla = [
            sla_row({}, metric, self.overall_sla[metric]) for metric in sorted(self.overall_sla)
        ]
        extras.overall_kpis = kpi_row({}, self.overall_kpi)
        extras.first_response_seconds = [us / US_PER_SECOND for us in self.overall_kpi.first_response]
        group_values, period, by = self.group_values, self.period, self.by

        def order(gkey: GroupKey) -> tuple[object, ...]:
            values = group_values[gkey]
            head = (values[PERIOD_KEY],) if period is not None else ()
            return head + tuple(sort_token(values[k]) for k in by)

        sla_rows = [
            sla_row(group_values[gkey], metric, self.sla_acc[(gkey, metric)])
            for gkey, metric in sorted(self.sla_acc, key=lambda item: (order(item[0]), item[1]))
        ]
        kpi_rows = [
            kpi_row(group_values[gkey], self.kpi_acc[gkey]) for gkey in sorted(self.kpi_acc, key=order)
        ]
        return Report(
            self.now,
            self.accepted,
            self.rejected if rejected is None else rejected,
            sla_rows,
            kpi_rows,
            by,
            period,
            self.tz_name,
            extras,
            ReportMeta(
                () if self.policies is None or self.policies.source is None else (self.policies.source,),
                self.events.first,
                self.events.last,
                self.unmeasured,
                self.no_policy,
                {
                    m: next(iter(kinds)) if len(kinds) == 1 else "mixed"
                    for m, kinds in sorted(self.metric_hours.items())
                },
            ),
        )


def unknown_group_keys(report: Report) -> list[str]:
    """Warnings for ``--by`` attribute keys that no ticket had, with the
    nearest attribute name the tickets do have.

    >>> from sla.report.results import Report
    >>> report = Report(0, 1, 0, [], [], by=("tier",))
    >>> report.extras.attribute_names.update({"tiers", "channel"})
    >>> unknown_group_keys(report)
    ["--by tier: no ticket has this attribute, so it groups every ticket as null; did you mean 'tiers'?"]
    """
    names = report.extras.attribute_names
    out = []
    for key in report.by:
        if key != POLICY_KEY and key not in names and report.tickets:
            out.append(
                f"--by {key}: no ticket has this attribute, so it groups every ticket as null"
                + (
                    suggest(key, sorted(names))
                    or f"; the tickets have {', '.join(sorted(names)) or 'no attributes'}"
                )
            )
    return out


def build_report(
    policies: PolicySet,
    tickets: Mapping[str, TicketEvents] | Iterable[TicketEvents],
    now_us: int | str | datetime,
    by: Sequence[str] = (),
    period: str | None = None,
    tz: str | tzinfo = "UTC",
    rejected: int | None = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Aggregate every accepted ticket created at or before ``now`` (section 7).

    ``tickets``: as returned by :func:`sla.engine.jsonl.read_jsonl` (or any iterable
    of :class:`TicketEvents`); rejected ones are skipped and, unless
    ``rejected`` is given, counted.  ``by``: attribute names and/or
    ``policy``; ``period``: ``day``, ``week`` or ``month`` in ``tz``.
    """
    builder = ReportBuilder(policies, now_us, by, period, tz)
    items = tickets.values() if isinstance(tickets, Mapping) else tickets
    add = builder.add
    for index, ticket in enumerate(items, 1):
        if progress is not None:
            progress.update(index)
        add(ticket)
    if progress is not None:
        progress.close()
    return builder.finish(rejected)
