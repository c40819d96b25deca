"""A report's running figures, ticket by ticket: :class:`ReportTally` runs
each ticket's clock once up to ``now``, judges its cycles and counts them
and the ticket's own figures into the accumulators of their groups.

This is the report's inner loop, compiled with the engine (setup.py): a
ticket's whole step (clock, judging, grouping, tallies, watch list) runs
as native calls, and :meth:`ReportTally.add_all` loops over a whole input
the same way.  The tally holds only what it counts, so parallel workers
send it back pickled; the policies, the judge and the local-time helper
are handed in by the caller (:class:`~sla.report.figures.ReportBuilder`),
which keeps the report's options and finishes the figures.

>>> from sla import load_policies
>>> from sla.engine.batch import TicketJudge
>>> from sla.engine.events import events_from_dicts
>>> from sla.report.localtime import LocalTime
>>> from datetime import UTC
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> judge = TicketJudge(policies, 7_200_000_000)
>>> tally = ReportTally(("channel",), False, frozenset())
>>> ticket = events_from_dicts(
...     [{"at": "1970-01-01T00:00:00Z", "type": "created", "fields": {"channel": "chat"}}], "T1")
>>> tally.add(ticket, judge, LocalTime(UTC, None))
>>> tally.accepted, {g: list(accs) for g, accs in tally.sla_acc.items()}, tally.overall_sla()["first_response"].breached
(1, {('chat',): ['first_response']}, 1)
>>> tally.group_values, dict(tally.breaches_by_day["1970-01-01"])
({('chat',): {'channel': 'chat'}}, {'first_response': 1})
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Final, final

from sla.engine.batch import TicketJudge
from sla.engine.clock import ClockPlan, TicketClock
from sla.engine.events import EventRange, TicketEvents, ticket_batches
from sla.engine.judge import CycleFields, Resolver, judge_fields
from sla.engine.replay import fed_clock
from sla.policy.runtime import PolicySet
from sla.report.accumulators import GroupKey, KpiAcc, SlaAcc, TicketFigures, ticket_figures, value_key
from sla.report.localtime import US_PER_HOUR, LocalTime
from sla.report.results import PERIOD_KEY
from sla.report.watch import Watchlist

#: The ``--by`` key that groups by the policy in force.
POLICY_KEY: Final = "policy"

_NO_ATTRIBUTES: Final[Mapping[str, object]] = {}


@final
class GroupMemo:
    """The group a ticket named last: its attribute state (the very object:
    a ticket's cycles mostly end under one state, which its clock keeps as
    one dict), its policy, its key and its SLA accumulators by metric."""

    __slots__ = ("attrs", "policy", "key", "accs")

    def __init__(self) -> None:
        self.attrs: Mapping[str, object] | None = None
        self.policy: object = None
        self.key: GroupKey = ()
        self.accs: dict[str, SlaAcc] = {}


class ReportTally:
    """The report's accumulators and counts, filled one ticket at a time.

    ``by``: the ``--by`` keys (attribute names and/or ``policy``);
    ``by_period``: whether a period (day, week or month of the creation or
    cycle start) is part of every group; ``judged_at_start``: the metrics
    whose cycles are grouped by the attributes at their start;
    ``watchlist``: whether to keep the watch tables (the HTML page's lists
    of breached and at-risk cycles, :mod:`sla.report.watch`), which no other
    output shows and which cost about 4% of a compiled report's work a ticket.
    """

    def __init__(
        self,
        by: tuple[str, ...] = (),
        by_period: bool = False,
        judged_at_start: frozenset[str] = frozenset(),
        watchlist: bool = True,
    ) -> None:
        # (Defaults for every argument: compiled, unpickling calls the class
        # without arguments, then sets the attributes.)
        self.by = by
        self.by_attributes = any(key != POLICY_KEY for key in by)
        self.by_policy = POLICY_KEY in by
        self.by_period = by_period
        self.judged_at_start = judged_at_start
        #: Per group, its SLA accumulators by metric.
        self.sla_acc: dict[GroupKey, dict[str, SlaAcc]] = {}
        self.kpi_acc: dict[GroupKey, KpiAcc] = {}
        #: Each group's key and the values it stands for.
        self.group_values: dict[GroupKey, dict[str, object]] = {}
        self.accepted = 0
        self.rejected = 0
        #: Tickets given to :meth:`add_all` (accepted, rejected or created after now).
        self.seen = 0
        self.events = EventRange()
        #: The watch tables, None when not kept.
        self.watch: Watchlist | None = Watchlist(by) if watchlist else None
        self.unmeasured = 0
        self.no_policy = 0
        #: Per metric, the kinds of hours its cycles were measured in.
        self.metric_hours: dict[str, set[str]] = {}
        #: Breached cycles per local day of their due time, per metric.
        self.breaches_by_day: dict[str, Counter[str]] = {}
        self.csat_scores: Counter[float] = Counter()
        #: Every attribute name the tickets had at ``now``.
        self.attribute_names: set[str] = set()
        #: Ticket creations by local weekday (0 = Monday) and hour.
        self.created_by_hour: list[list[int]] = [[0] * 24 for _ in range(7)]

    # ------------------------------------------------------------- groups
    def group_of(
        self, attrs: Mapping[str, object], policy_name: object, at: int, local: LocalTime
    ) -> tuple[GroupKey, dict[str, SlaAcc]]:
        """The key of the group of ``attrs`` (and the policy, and the period of
        ``at`` when the report has one) and its SLA accumulators by metric;
        a group met for the first time is entered, with the values it names.
        (One look-up of the key, a tuple hashed afresh each time: a group's
        accumulators and values are entered together.)"""
        # A dict's get, compiled, is a native call; a Mapping's is a method
        # called by name (the clock's attribute states are dicts).
        named = attrs if isinstance(attrs, dict) else dict(attrs)
        parts: list[object] = []
        for key in self.by:
            value = policy_name if key == POLICY_KEY else named.get(key)
            # (value_key's first answer inline: a text or null is its own key)
            parts.append(value if value is None or type(value) is str else value_key(value))
        period = local.period_of(at) if self.by_period else None
        if period is not None:
            parts.append(period)  # its own key: a string
        gkey = tuple(parts)
        accs = self.sla_acc.get(gkey)
        if accs is None:
            accs = self.sla_acc[gkey] = {}
            if gkey not in self.group_values:  # (a merged tally's groups are in both already)
                values: dict[str, object] = {}
                for key in self.by:
                    values[key] = policy_name if key == POLICY_KEY else named.get(key)
                if period is not None:
                    values[PERIOD_KEY] = period
                self.group_values[gkey] = values
        return gkey, accs

    def _named_group(
        self, memo: GroupMemo, attrs: Mapping[str, object], policy_name: object, at: int, local: LocalTime
    ) -> GroupMemo:
        """``memo`` naming the group of ``attrs`` (:meth:`group_of`).  Its
        callers call it only when the attribute state or the policy differs
        from the ticket's last (or the period, which depends on ``at``, is
        part of the key: the memo then keeps no attribute state), and test
        that inline, where a call would cost one per cycle."""
        gkey, accs = self.group_of(attrs, policy_name, at, local)
        memo.attrs = None if self.by_period else attrs  # with a period, never reused
        memo.policy, memo.key, memo.accs = policy_name, gkey, accs
        return memo

    # ------------------------------------------------------------ tickets
    def add(self, ticket: TicketEvents, judge: TicketJudge, local: LocalTime) -> None:
        """Count one ticket (a rejected one only as rejected), judged by ``judge``."""
        plan, done_statuses, derive, policies, now, resolver = judge.run_arguments()
        self._add_batch([ticket], plan, done_statuses, derive, policies, now, resolver, local, None)

    def add_all(
        self,
        tickets: Iterable[TicketEvents],
        judge: TicketJudge,
        local: LocalTime,
        rejected: list[TicketEvents],
    ) -> None:
        """Count every ticket of ``tickets`` as :meth:`add` does, appending the
        rejected ones to ``rejected`` in input order.  :attr:`seen` counts the
        tickets taken (so both hold what was read when reading stops with an
        error)."""
        plan, done_statuses, derive, policies, now, resolver = judge.run_arguments()
        for batch in ticket_batches(tickets):
            self.seen += len(batch)
            self._add_batch(batch, plan, done_statuses, derive, policies, now, resolver, local, rejected)

    def _add_batch(
        self,
        batch: list[TicketEvents],
        plan: ClockPlan,
        done_statuses: frozenset[str],
        derive: Callable[[Mapping[str, object]], dict[str, object]] | None,
        policies: PolicySet,
        now: int,
        resolver: Resolver,
        local: LocalTime,
        rejected: list[TicketEvents] | None,
    ) -> None:
        """Count a batch of tickets, each step over the whole batch (see
        ticket_batches): the clocks, the judging, the tickets' own figures,
        the cycles' counts, the watch tables, then the tickets' counts; the
        rejected tickets go to ``rejected`` if given."""
        clocked: list[tuple[TicketEvents, TicketClock]] = []
        for ticket in batch:
            if ticket.error is not None:
                if rejected is not None:
                    rejected.append(ticket)
                self.rejected += 1
                continue
            self.events.see(ticket)
            clock = fed_clock(plan, done_statuses, derive, ticket.events, now)
            if clock is not None:  # (None: created after now)
                clocked.append((ticket, clock))
        judged = [
            judge_fields(ticket.ticket_id, clock, policies, now, False, resolver) for ticket, clock in clocked
        ]
        # (a fed clock has its created_at: "or 0" only tells the type checker)
        figures = [
            ticket_figures(ticket.events, clock.created_at or 0, now, done_statuses)
            for ticket, clock in clocked
        ]
        # Each ticket's cycles, grouped by the attributes at their end (or
        # now; a memo per ticket names the groups its cycles share), then
        # the watch tables, then the ticket figures (_count).
        memos = [GroupMemo() for _ in clocked]
        for (_, clock), cycles, memo in zip(clocked, judged, memos, strict=True):
            self.tally_cycles(cycles, clock, now, local, memo)
        watch = self.watch
        if watch is not None:
            for (ticket, clock), cycles in zip(clocked, judged, strict=True):
                watch.add(ticket.ticket_id, cycles, clock, now)
        for (_, clock), cycles, counts, memo in zip(clocked, judged, figures, memos, strict=True):
            self._count(clock, cycles, counts, policies, done_statuses, local, memo)

    def _count(
        self,
        clock: TicketClock,
        judged: list[CycleFields],
        figures: TicketFigures,
        policies: PolicySet,
        done_statuses: frozenset[str],
        local: LocalTime,
        memo: GroupMemo,
    ) -> None:
        """Count an accepted ticket (created by now) whose cycles are
        counted (:meth:`tally_cycles`, with ``memo``): by its clock, its
        judged cycles and its own figures (:func:`ticket_figures`)."""
        self.accepted += 1
        created_at = clock.created_at
        assert created_at is not None

        # Ticket figures: grouped by the attributes (and policy) at now.
        attrs_now = clock.attributes
        self.attribute_names.update(attrs_now)
        if not judged:
            self.unmeasured += 1
            if policies.policy_for(attrs_now, created_at) is None:
                self.no_policy += 1
        policy_now: str | None = None
        if self.by_policy:
            policy = policies.policy_for(attrs_now, created_at)
            policy_now = None if policy is None else policy.name
        attrs = attrs_now if self.by_attributes else _NO_ATTRIBUTES
        # The memo's group, when it still names this one, taken inline (as in
        # tally_cycles): mostly the group the ticket's last cycle named.
        if memo.attrs is not attrs or (memo.policy is not policy_now and memo.policy != policy_now):
            self._named_group(memo, attrs, policy_now, created_at, local)
        gkey = memo.key
        kacc = self.kpi_acc.get(gkey)
        if kacc is None:
            kacc = self.kpi_acc[gkey] = KpiAcc()
        requester = clock.fields.get("requester")  # the events' own field, not a derived one
        done = clock.status in done_statuses
        kacc.add(figures, requester, done)
        if figures.csat is not None:
            self.csat_scores[figures.csat] += 1
        cell = local.weekday_hours.get(created_at // US_PER_HOUR)  # (weekday_hour's memo, inline)
        if cell is None:
            cell = local.weekday_hour(created_at)
        self.created_by_hour[cell[0]][cell[1]] += 1

    def tally_cycles(
        self, judged: list[CycleFields], clock: TicketClock, now: int, local: LocalTime, memo: GroupMemo
    ) -> None:
        """Count a ticket's judged cycles into the SLA accumulators: each in the
        group of the attributes at its end (or ``now``; at its start for
        metrics judged there); a breach with
        a due time also by its local day."""
        metric_hours = self.metric_hours
        by_policy, by_attributes, judged_at_start = self.by_policy, self.by_attributes, self.judged_at_start
        history_at = clock.history_at
        last_attributes = clock.history[-1] if history_at else _NO_ATTRIBUTES
        for result in judged:
            # Unpacked once: named-tuple field access adds up over every cycle.
            # (The integers not read are named, not "_": compiled, "_" is an
            # object, and each integer put in it was made into one, then dropped.)
            (
                _,
                policy_name,
                metric,
                cycle,
                started_at,
                ended_at,
                state,
                _target_us,
                hours,
                elapsed_us,
                breached,
                due_at,
                _paused_us,
                _,
                _,
            ) = result
            kinds = metric_hours.get(metric)
            if kinds is None:
                kinds = metric_hours[metric] = set()
            kinds.add(hours)
            end = ended_at if ended_at is not None else now
            if not by_attributes:
                attrs: Mapping[str, object] = _NO_ATTRIBUTES
            elif judged_at_start and metric in judged_at_start:  # (mostly none: no look-up)
                attrs = clock.judging_attributes(metric, cycle, end)
            elif history_at and end >= history_at[-1]:
                attrs = last_attributes  # (clock.attributes_at's common answer, inline)
            else:
                attrs = clock.attributes_at(end)
            # (Without --by policy the policy is no part of the key: left out,
            # the ticket's own group below is mostly the one just named.)
            policy = policy_name if by_policy else None
            # The memo's group, when it still names this one, taken inline
            # (as _named_group would: a call a cycle costs).
            if memo.attrs is not attrs or (memo.policy is not policy and memo.policy != policy):
                self._named_group(memo, attrs, policy, started_at, local)
            accs = memo.accs
            acc = accs.get(metric)
            if acc is None:
                acc = accs[metric] = SlaAcc()
            ended = ended_at is not None
            acc.add(state, ended, elapsed_us)
            if breached and due_at is not None:
                day = local.day_of(due_at)
                counts = self.breaches_by_day.get(day)
                if counts is None:
                    counts = self.breaches_by_day[day] = Counter()
                counts[metric] += 1

    # ------------------------------------------------------------ overall
    # The figures over the whole report are its groups' merged at the end,
    # not counted twice per cycle and ticket (every figure finishes the same
    # whatever order its values came in).
    def overall_sla(self) -> dict[str, SlaAcc]:
        """Each metric's SLA counts over every group; the elapsed times stay
        in the groups' accumulators (the whole report's spread is picked
        from the groups' sorted runs, so copying them here is work lost)."""
        overall: dict[str, SlaAcc] = {}
        for accs in self.sla_acc.values():
            for metric, acc in accs.items():
                whole = overall.get(metric)
                if whole is None:
                    whole = overall[metric] = SlaAcc()
                whole.merge(acc, times=False)
        return overall

    def overall_kpi(self) -> KpiAcc:
        """The ticket figures' accumulator over every group, without the first
        response times and waits (taken from the groups, as in :meth:`overall_sla`)."""
        overall = KpiAcc()
        for kacc in self.kpi_acc.values():
            overall.merge(kacc, times=False)
        return overall

    # -------------------------------------------------------------- merge
    def merge(self, other: ReportTally) -> None:
        """Add the figures of a tally that saw other tickets."""
        for gkey, accs in other.sla_acc.items():
            group_accs = self.sla_acc.setdefault(gkey, {})
            for metric, acc in accs.items():
                group_accs.setdefault(metric, SlaAcc()).merge(acc)
        for gkey, kacc in other.kpi_acc.items():
            self.kpi_acc.setdefault(gkey, KpiAcc()).merge(kacc)
        for gkey, values in other.group_values.items():
            self.group_values.setdefault(gkey, values)
        for day, counts in other.breaches_by_day.items():
            self.breaches_by_day.setdefault(day, Counter()).update(counts)
        self.csat_scores.update(other.csat_scores)
        self.attribute_names |= other.attribute_names
        for mine, theirs in zip(self.created_by_hour, other.created_by_hour, strict=False):
            for hour, count in enumerate(theirs):
                mine[hour] += count
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.seen += other.seen
        self.events.merge(other.events.first, other.events.last)
        if self.watch is not None and other.watch is not None:
            self.watch.merge(other.watch)
        self.unmeasured += other.unmeasured
        self.no_policy += other.no_policy
        for metric, kinds in other.metric_hours.items():
            self.metric_hours.setdefault(metric, set()).update(kinds)
