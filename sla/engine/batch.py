"""Batch evaluation: events in, judged cycles out; a pure function of the
events and ``now`` (no clock reads, no files).

>>> from sla import load_policies
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> rows = evaluate_ticket(policies, [
...     {"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}},
...     {"ticket_id": "T1", "at": "2026-03-02T08:20:00Z", "type": "message", "author": "agent"},
... ], now="2026-03-02T09:00:00Z")
>>> rows[0].state, rows[0].elapsed_us // 1_000_000
('achieved', 1200)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from weakref import WeakKeyDictionary

from sla.engine.clock import ClockPlan, TicketClock, plan
from sla.engine.events import Event, TicketEvents, events_from_dicts
from sla.engine.judge import (
    CycleFields,
    CycleResult,
    Resolver,
    judge_fields,
    judge_ticket,
    resolver_of,
    run_and_judge,
)
from sla.engine.replay import fed_clock
from sla.errors import ArgumentError, EventError, check_argument
from sla.policy.runtime import PolicySet
from sla.timefmt import check_range, parse_instant, to_us


def as_us(now: datetime | str | int) -> int:
    """``now`` as epoch microseconds, from a datetime, a timestamp string or µs;
    a :class:`~sla.errors.TimestampError` outside the supported instants."""
    if isinstance(now, datetime):
        return to_us(now)
    if isinstance(now, str):
        return parse_instant(now)
    check_argument("now", now, int, "an aware datetime, an RFC 3339 timestamp or epoch microseconds")
    if isinstance(now, bool):
        raise ArgumentError(
            "now: expected an aware datetime, an RFC 3339 timestamp or epoch microseconds, got bool"
        )
    return check_range(now)


_PLANS: WeakKeyDictionary[PolicySet, ClockPlan] = WeakKeyDictionary()


def plan_of(policies: PolicySet) -> ClockPlan:
    """The clock plan of a policy set (the metrics some policy targets), shared."""
    clock_plan = _PLANS.get(policies)
    if clock_plan is None:
        clock_plan = _PLANS[policies] = plan(policies.metrics[name] for name in policies.active_metrics)
    return clock_plan


def new_clock(policies: PolicySet) -> TicketClock:
    """An empty clock for one ticket, running the metrics some policy targets."""
    return TicketClock(plan_of(policies), policies.done_statuses, policies.derive)


def run_clock(policies: PolicySet, events: Iterable[Event], now: int) -> TicketClock | None:
    """Feed a ticket's sorted events up to ``now``; None if it was created after ``now``."""
    return fed_clock(plan_of(policies), policies.done_statuses, policies.derive, events, now)


def evaluate_events(
    policies: PolicySet, ticket: TicketEvents, now: int, with_warnings: bool = False
) -> list[CycleResult]:
    """Judge one validated ticket at ``now`` (raises EventError if it was rejected)."""
    if ticket.error is not None:
        raise ticket.error
    clock = run_clock(policies, ticket.events, now)
    if clock is None:
        return []
    return judge_ticket(ticket.ticket_id, clock, policies, now, with_warnings)


class TicketJudge:
    """:func:`evaluate_events` for many tickets of one policy set at one
    ``now``: the policy set's plan and caches looked up once, not per ticket.

    >>> from sla import load_policies
    >>> from sla.engine.events import events_from_dicts
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> judge = TicketJudge(policies, as_us("2026-03-02T09:30:00Z"))
    >>> ticket = events_from_dicts([{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], "T1")
    >>> [(r.ticket_id, r.state) for r in judge(ticket)]
    [('T1', 'breached')]
    """

    __slots__ = ("policies", "now", "with_warnings", "plan", "done_statuses", "derive", "resolver")

    def __init__(self, policies: PolicySet, now: int, with_warnings: bool = False):
        self.policies, self.now, self.with_warnings = policies, now, with_warnings
        self.plan = plan_of(policies)
        self.done_statuses = policies.done_statuses
        self.derive = policies.derive
        self.resolver = resolver_of(policies)

    def __call__(self, ticket: TicketEvents) -> list[CycleResult]:
        """As ``evaluate_events(policies, ticket, now, with_warnings)``."""
        if ticket.error is not None:
            raise ticket.error
        clock = self.clock_of(ticket)
        if clock is None:
            return []
        return self.judge(ticket.ticket_id, clock)

    def clock_of(self, ticket: TicketEvents) -> TicketClock | None:
        """The ticket's clock fed its events up to ``now`` (as :func:`run_clock`);
        None when it was created after ``now``."""
        return fed_clock(self.plan, self.done_statuses, self.derive, ticket.events, self.now)

    def judge(self, ticket_id: str, clock: TicketClock) -> list[CycleResult]:
        """Every row of the ticket whose clock is ``clock`` (as :func:`judge_ticket`)."""
        return judge_ticket(ticket_id, clock, self.policies, self.now, self.with_warnings, self.resolver)

    def judge_fields(self, ticket_id: str, clock: TicketClock) -> list[CycleFields]:
        """What :meth:`judge` gives, as plain tuples of the results' fields."""
        return judge_fields(ticket_id, clock, self.policies, self.now, self.with_warnings, self.resolver)

    def run_arguments(
        self,
    ) -> tuple[
        ClockPlan,
        frozenset[str],
        Callable[[Mapping[str, object]], dict[str, object]] | None,
        PolicySet,
        int,
        Resolver,
    ]:
        """What :class:`~sla.engine.jsonl_run.JsonlRun` takes to judge as this
        judge does (without warnings, as rows carry none)."""
        return self.plan, self.done_statuses, self.derive, self.policies, self.now, self.resolver

    def fields(self, ticket: TicketEvents) -> list[CycleFields]:
        """What calling the judge gives, as plain tuples of the results'
        fields (no named tuple built: what rows are made from)."""
        if ticket.error is not None:
            raise ticket.error
        return run_and_judge(
            ticket.ticket_id,
            ticket.events,
            self.plan,
            self.done_statuses,
            self.derive,
            self.policies,
            self.now,
            self.with_warnings,
            self.resolver,
        )


def evaluate_ticket(
    policies: PolicySet,
    events: Iterable[Mapping[str, object] | Event],
    now: datetime | str | int,
    ticket_id: str | None = None,
    with_warnings: bool = True,
) -> list[CycleResult]:
    """Evaluate one ticket's events (dicts as in the JSONL format, or typed events) at ``now``.

    One :class:`~sla.CycleResult` per cycle, by metric name then cycle
    number; none when the ticket was created after ``now``.  ``warnings``
    holds each open cycle's warning instants (the policy's ``warnings``);
    ``with_warnings=False`` skips them, as ``sla evaluate`` does (its rows
    do not carry them).  :meth:`sla.Tracker.snapshot` gives the same list
    for the same events and ``now``.  A malformed ticket raises
    :class:`~sla.errors.EventError`.

    >>> from sla import load_policies
    >>> policies = load_policies(
    ...     "policies: [{name: all, targets: {first_response: 1h}, warnings: {at_percent: [50]}}]")
    >>> [row] = evaluate_ticket(policies, [{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}],
    ...                         now="2026-03-02T08:10:00Z", ticket_id="T1")
    >>> row.state, row.due.isoformat(), [(label, at.isoformat()) for label, at in row.warning_times]
    ('running', '2026-03-02T09:00:00+00:00', [('50%', '2026-03-02T08:30:00+00:00')])
    """
    check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
        raise ArgumentError(
            f"events: expected a list of events (dicts or sla Events), got {type(events).__name__}"
        )
    if ticket_id is not None:
        check_argument("ticket_id", ticket_id, str, "a string")
    check_argument("with_warnings", with_warnings, bool, "True or False")
    ticket = events_from_dicts(events, ticket_id)
    return evaluate_events(policies, ticket, as_us(now), with_warnings)


def evaluate_many(
    policies: PolicySet,
    tickets: Iterable[TicketEvents],
    now: datetime | str | int,
    rejected: list[EventError] | None = None,
    with_warnings: bool = True,
) -> Iterator[CycleResult]:
    """Evaluate tickets in order; rejected ones are appended to ``rejected`` and skipped.

    ``tickets``: the :class:`TicketEvents` of :func:`~sla.read_jsonl`.
    Yields what :func:`evaluate_ticket` returns for each ticket, one ticket
    after the other (``with_warnings`` as there).

    >>> from sla import load_policies, read_jsonl
    >>> policies = load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
    >>> tickets, _ = read_jsonl([
    ...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}',
    ...     '{"ticket_id": "T2", "at": "2026-03-02T08:00:00Z", "type": "message", "author": "agent"}',
    ... ])
    >>> rejected = []
    >>> [(r.ticket_id, r.state) for r in evaluate_many(policies, tickets.values(), "2026-03-02T10:00:00Z",
    ...                                               rejected=rejected)]
    [('T1', 'breached')]
    >>> print(rejected[0])
    line 2: ticket T2: the ticket has no created event
    """
    check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
    if rejected is not None:
        check_argument("rejected", rejected, list, "a list the rejected tickets' errors are added to")
    check_argument("with_warnings", with_warnings, bool, "True or False")
    now_us = as_us(now)
    for ticket in tickets:
        check_argument(
            "tickets", ticket, TicketEvents, "TicketEvents, as sla.engine.jsonl.read_jsonl gives them"
        )
        if ticket.error is not None:
            if rejected is not None:
                rejected.append(ticket.error)
            continue
        yield from evaluate_events(policies, ticket, now_us, with_warnings)
