"""``sla report``: SLA compliance and support KPIs over a whole history
(SEMANTICS.md section 7; every formula is written out in docs/reports.md).

This module holds the builder: :class:`ReportBuilder` checks the report
options, has its tally (:mod:`sla.report.tally`) group each ticket's figures
into mergeable accumulators (:mod:`sla.report.accumulators`) and finishes
them into a typed :class:`~sla.report.results.Report`; :func:`build_report`
runs it over a history.  One pass per ticket: its clock is run once up to
``now`` and serves both the clock figures (its judged cycles) and the ticket
figures (messages, rates, CSAT).  ``Report.to_dict()`` is the exact JSON object of
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
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.calendar.zones import zone_suggestion
from sla.engine.batch import TicketJudge, as_us
from sla.engine.events import TicketEvents
from sla.errors import ArgumentError, SlaError, check_argument
from sla.policy.runtime import PolicySet
from sla.policy.wording import suggest
from sla.report.accumulators import GroupKey, kpi_row, merged_seconds, sla_row, sorted_list
from sla.report.localtime import LocalTime
from sla.report.results import PERIOD_KEY, KpiGroup, Report, ReportExtras, ReportMeta, SlaGroup
from sla.report.tally import POLICY_KEY, ReportTally

PERIODS = ("day", "week", "month")


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


def group_keys(by: Sequence[str]) -> tuple[str, ...]:
    """The group keys a report is asked for: names, never one string read
    as its letters (a str is a sequence of str).

    >>> group_keys(["channel", "policy"])
    ('channel', 'policy')
    >>> group_keys("tier")
    Traceback (most recent call last):
    ...
    sla.errors.ArgumentError: by: expected a list of attribute names, like ['tier'], got the string 'tier'
    """
    if isinstance(by, str):
        raise ArgumentError(f"by: expected a list of attribute names, like [{by!r}], got the string {by!r}")
    keys = tuple(by)
    for key in keys:
        check_argument("by", key, str, "attribute names")
    return keys


class ReportBuilder:
    """Accumulates tickets into report figures; partial builders merge.

    Feed tickets with :meth:`add` (any order), combine builders that saw
    disjoint sets of tickets with :meth:`merge` (parallel jobs do that), and
    get the :class:`Report` from :meth:`finish`.

    ``watchlist=False`` skips the watch tables (``report.extras.watch`` is
    then None): only the HTML page shows them, and a report meant for JSON,
    CSV or a table is about 4% cheaper a ticket without them.  Builders that
    merge must agree on it (:meth:`merge` says so otherwise).
    """

    def __init__(
        self,
        policies: PolicySet,
        now_us: int | str | datetime,
        by: Sequence[str] = (),
        period: str | None = None,
        tz: str | tzinfo = "UTC",
        watchlist: bool = True,
    ):
        check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
        self.now = as_us(now_us)
        self.by = group_keys(by)
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
        judged_at_start = frozenset(n for n, m in policies.metrics.items() if m.judged_at_start)
        #: What the report counts (the figures of every ticket added or merged).
        self.tally = ReportTally(self.by, period is not None, judged_at_start, watchlist)

    def __getstate__(self) -> dict[str, object]:
        # Workers send builders back to the parent; the policies and the
        # zone cache stay behind (the parent has its own).
        state = dict(self.__dict__)
        state["policies"] = None
        state["judge"] = None
        state["local"] = None
        return state

    def add(self, ticket: TicketEvents) -> None:
        """Count one ticket (a rejected one only as rejected)."""
        assert self.judge is not None, "a builder sent back by a worker only merges"
        self.tally.add(ticket, self.judge, self.local)

    def add_all(
        self, tickets: Iterable[TicketEvents], rejected: list[TicketEvents] | None = None
    ) -> list[TicketEvents]:
        """Count every ticket (as :meth:`add` does); the rejected ones, in input
        order, appended to ``rejected`` if given (which then also holds those
        read before an error).  Compiled, the loop runs native
        (:mod:`sla.report.tally`).

        >>> from sla import load_policies
        >>> from sla.engine.events import events_from_dicts
        >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
        >>> builder = ReportBuilder(policies, "2026-03-02T09:00:00Z")
        >>> good = events_from_dicts([{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], "T1")
        >>> bad = events_from_dicts([{"at": "2026-03-02T08:00:00Z", "type": "nope"}], "T2")
        >>> [t.ticket_id for t in builder.add_all([good, bad])], builder.finish().tickets
        (['T2'], 1)
        """
        assert self.judge is not None, "a builder sent back by a worker only merges"
        if rejected is None:
            rejected = []
        self.tally.add_all(tickets, self.judge, self.local, rejected)
        return rejected

    def merge(self, other: ReportBuilder) -> None:
        """Add the figures of a builder that saw other tickets (both made
        with the same ``watchlist``: a watch list merged with none would
        silently lack the other's tickets)."""
        if (self.tally.watch is None) != (other.tally.watch is None):
            raise ArgumentError(
                "merge: one builder keeps the watch tables and the other does not; "
                "make both with the same watchlist="
            )
        self.tally.merge(other.tally)

    def finish(self, rejected: int | None = None) -> Report:
        tally = self.tally
        group_values, period, by = tally.group_values, self.period, self.by

        def order(gkey: GroupKey) -> tuple[object, ...]:
            values = group_values[gkey]
            head = (values[PERIOD_KEY],) if period is not None else ()
            return head + tuple(sort_token(values[k]) for k in by)

        # Each group's times are sorted once, for its percentiles; the whole
        # report's are its groups' sorted runs merged.  SLA times go metric
        # by metric, so only one metric's are held as floats at once.
        overall_sla, overall_kpi = tally.overall_sla(), tally.overall_kpi()
        sla_cells: dict[tuple[GroupKey, str], SlaGroup] = {}
        overall_rows: list[SlaGroup] = []
        for metric in sorted(overall_sla):
            runs: list[list[float]] = []
            for gkey, accs in tally.sla_acc.items():
                acc = accs.get(metric)
                if acc is not None:
                    elapsed = sorted_list(acc.elapsed_seconds())
                    runs.append(elapsed)
                    sla_cells[(gkey, metric)] = sla_row(group_values[gkey], metric, acc, [elapsed])
            # (the whole report's figures picked from the groups' runs: not merged)
            overall_rows.append(sla_row({}, metric, overall_sla[metric], runs))
        sla_rows = [sla_cells[cell] for cell in sorted(sla_cells, key=lambda cell: (order(cell[0]), cell[1]))]
        kpi_cells: dict[GroupKey, KpiGroup] = {}
        first_runs: list[list[float]] = []
        wait_runs: list[list[float]] = []
        for gkey, kacc in tally.kpi_acc.items():
            first, waits = sorted_list(kacc.first_response.values()), sorted_list(kacc.waits.values())
            first_runs.append(first)
            wait_runs.append(waits)
            kpi_cells[gkey] = kpi_row(group_values[gkey], kacc, [first], [waits])
        kpi_rows = [kpi_cells[gkey] for gkey in sorted(kpi_cells, key=order)]
        first_responses = merged_seconds(first_runs)
        extras = ReportExtras(
            breaches_by_day=tally.breaches_by_day,
            first_response_seconds=first_responses,  # (smallest first)
            created_by_hour=tally.created_by_hour,
            csat_scores=tally.csat_scores,
            overall_sla=overall_rows,
            overall_kpis=kpi_row({}, overall_kpi, [first_responses], wait_runs),
            attribute_names=tally.attribute_names,
            watch=None if tally.watch is None else tally.watch.finish(),
        )
        return Report(
            self.now,
            tally.accepted,
            tally.rejected if rejected is None else rejected,
            sla_rows,
            kpi_rows,
            by,
            period,
            self.tz_name,
            extras,
            ReportMeta(
                () if self.policies is None or self.policies.source is None else (self.policies.source,),
                tally.events.first,
                tally.events.last,
                tally.unmeasured,
                tally.no_policy,
                {
                    m: next(iter(kinds)) if len(kinds) == 1 else "mixed"
                    for m, kinds in sorted(tally.metric_hours.items())
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
    if progress is None:
        builder.add_all(items)
        return builder.finish(rejected)
    add = builder.add
    for index, ticket in enumerate(items, 1):
        progress.update(index)
        add(ticket)
    progress.close()
    return builder.finish(rejected)
