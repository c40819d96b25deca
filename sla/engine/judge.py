"""Judging raw cycles at ``now``: the policy in force at each cycle's end, its
target and calendar, elapsed business time, state, due time and warnings
(SEMANTICS.md sections 4 and 5).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping
from typing import Final
from weakref import WeakKeyDictionary

from sla.calendar.index import Calendar
from sla.engine.clock import ENDED_BY_DONE, ClockPlan, Cycle, TicketClock
from sla.engine.events import Event
from sla.engine.replay import fed_clock
from sla.engine.results import CycleResult as CycleResult
from sla.policy.runtime import CALENDAR, CompiledPolicy, PolicySet, ResolvedTarget, WarningRule
from sla.timefmt import MAX_US, US_PER_SECOND, duration_text

# (Final: compiled, each is then a C constant or static, not a look-up.)
RUNNING: Final = "running"
PAUSED: Final = "paused"
ACHIEVED: Final = "achieved"
BREACHED: Final = "breached"
CANCELLED: Final = "cancelled"
PROJECTION_LIMIT_US: Final = 1096 * 86_400 * US_PER_SECOND


def _stretches(
    cycle: Cycle, end: int, open_at_now: bool
) -> tuple[list[tuple[int, int | None]], int, list[tuple[int, int]]]:
    """Listed pauses, their total length, and the running stretches of a cycle."""
    if not cycle.pauses and cycle.pause_from is None:  # the common case
        return [], 0, ([(cycle.start, end)] if end > cycle.start else [])
    pauses: list[tuple[int, int | None]] = list(cycle.pauses)
    total = 0
    for a, b in cycle.pauses:
        total += b - a
    closed_pauses = list(cycle.pauses)
    if cycle.pause_from is not None:
        if open_at_now:
            pauses.append((cycle.pause_from, None))
            total += end - cycle.pause_from
            closed_pauses.append((cycle.pause_from, end))
        elif end > cycle.pause_from:
            pauses.append((cycle.pause_from, end))
            total += end - cycle.pause_from
            closed_pauses.append((cycle.pause_from, end))
    running = []
    cursor = cycle.start
    for a, b in closed_pauses:
        if a > cursor:
            running.append((cursor, a))
        cursor = max(cursor, b)
    if end > cursor:
        running.append((cursor, end))
    return pauses, total, running


def reach_instant(
    calendar: Calendar, start: int, running: list[tuple[int, int]], amount: int
) -> tuple[int | None, int]:
    """When the elapsed time of the running stretches reaches ``amount`` (or None), and the total elapsed."""
    total = 0
    reached = start if amount == 0 else None
    for a, b in running:
        part = calendar.elapsed_us(a, b)
        if reached is None and total + part >= amount:
            reached = calendar.add_us(a, amount - total)
        total += part
    return reached, total


def _project(calendar: Calendar, hours: str, now: int, amount: int) -> int | None:
    """When ``amount`` more time runs out after ``now`` in ``calendar`` (or
    round the clock, ``hours`` being ``calendar``); None if more than 1096
    days away or past the last supported instant (``MAX_US``)."""
    if hours == CALENDAR:
        due = now + amount
    else:
        # Mostly the due time is near, in the stretch of the calendar's index
        # in use.  Else ask first whether the horizon holds that much open
        # time, so a sparse calendar never makes add() search for decades
        # (past MAX_US a calendar counts no open time): the same answer, as
        # the horizon holds ``amount`` exactly when the due time is in it.
        near = calendar.add_us_nearby(now, amount)
        if near is not None:
            due = near
            if due > now + PROJECTION_LIMIT_US:
                return None
        else:
            if calendar.elapsed_us(now, now + PROJECTION_LIMIT_US) < amount:
                return None
            due = calendar.add_us(now, amount)
    return due if due <= MAX_US else None


def breach_after(policies: PolicySet, clock: TicketClock, metric: str, cycle: int, now: int) -> int | None:
    """When an open, running cycle whose elapsed time has reached its
    target by ``now`` (not over it) turns breached with no new event: one
    microsecond of its hours after ``now`` (the next open instant's first
    microsecond, in business hours). None without a target, or past the
    projection horizon."""
    attributes = clock.judging_attributes(metric, cycle, now)
    applied = _resolve(policies, attributes, clock.created_at)[metric]
    if applied is None:
        return None
    return _project(applied[5], applied[4], now, 1)


#: A judged cycle's fields in the order of :class:`CycleResult`'s, as a plain
#: tuple: what the rows of ``sla evaluate`` are made from, with no named
#: tuple built (:func:`judge_fields`).
CycleFields = tuple[
    str,
    str,
    str,
    int,
    int,
    int | None,
    str,
    int,
    str,
    int,
    bool,
    int | None,
    int,
    tuple[tuple[int, int | None], ...],
    tuple[tuple[str, int], ...],
]

#: The policy in force for a metric and its target, then what judging
#: reads of them: the policy's name, and the target's length, hours and
#: calendar.  (Plain fields: compiled, a tuple's items are read natively,
#: where the attributes of the policy's classes are Python look-ups.)
Applied = tuple[CompiledPolicy, ResolvedTarget, str, int, str, Calendar]
#: Per metric name, what applies to its cycles (None: no policy or no target).
Resolved = dict[str, Applied | None]
#: The attributes a resolution depends on, each with its type.
_ResolveKey = tuple[object, ...]

_MISSING: Final = object()


class Resolver:
    """The resolution cache of one policy set: the attributes some policy
    matches on, and per their values (and types) the policy and target of
    each metric."""

    __slots__ = ("policies", "keys", "era_bounds", "cache")

    def __init__(self, policies: PolicySet):
        self.policies = policies
        self.keys: tuple[str, ...] = policies.resolution_keys
        self.era_bounds: list[int] = policies.era_bounds  # PolicySet.era's, read inline by _resolve
        self.cache: dict[_ResolveKey, Resolved] = {}


_RESOLVERS: WeakKeyDictionary[PolicySet, Resolver] = WeakKeyDictionary()


def resolver_of(policies: PolicySet) -> Resolver:
    """The shared resolution cache of a policy set."""
    entry = _RESOLVERS.get(policies)
    if entry is None:
        entry = _RESOLVERS[policies] = Resolver(policies)
    return entry


def _resolve(
    policies: PolicySet,
    attributes: Mapping[str, object],
    created: int | None,
    resolver: Resolver | None = None,
) -> Resolved:
    """Per metric, (policy, target) for the attributes; cached across tickets.

    The key holds only the attributes some policy matches on, and the
    priority, so tickets that differ elsewhere share one entry.
    """
    entry = resolver if resolver is not None else resolver_of(policies)
    cache = entry.cache
    bounds = entry.era_bounds  # policies.era(created), inline
    parts: list[object] = [bisect_right(bounds, created) if bounds and created is not None else 0]
    # Types are part of the key: 1, 1.0 and True are equal in Python but
    # "1" and "1.0" are different priority names.  A str stands for itself
    # (only a str equals a str, and never a tuple); any other value goes in
    # with its type.
    # (A dict read as one: compiled, a direct look-up, not a method call.)
    plain = attributes if isinstance(attributes, dict) else dict(attributes)
    for name in entry.keys:
        value = plain.get(name, _MISSING)
        parts.append(value if type(value) is str else (type(value), value))
    key: _ResolveKey = tuple(parts)
    cacheable = True
    try:
        return cache[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable attribute value: no caching
        cacheable = False
    policy = policies.policy_for(attributes, created)
    priority = attributes.get("priority")
    found: Resolved = {}
    for metric in policies.metrics:
        target = None if policy is None else policy.target(metric, priority, attributes)
        found[metric] = (
            None
            if policy is None or target is None
            else (policy, target, policy.name, target.us, target.hours, target.calendar)
        )
    if cacheable and len(cache) < 100_000:
        cache[key] = found
    return found


def _judge(
    ticket_id: str,
    metric: str,
    cycle: Cycle,
    applied: Applied,
    now: int,
    with_warnings: bool,
) -> CycleFields:
    """One cycle judged under its policy and target."""
    policy, target, policy_name, amount, hours, calendar = applied
    end = cycle.end
    open_at_now = end is None
    if end is None:
        end = now
    start = cycle.start
    pause_from = cycle.pause_from
    if not cycle.pauses and (pause_from is None or (not open_at_now and pause_from >= end)):
        # The common case inline: one running stretch, no pauses (as
        # _stretches and reach_instant would find).  A pause from the end
        # on is none: a resumable cycle that stopped counts as paused from
        # its end, until it resumes.
        paused: tuple[tuple[int, int | None], ...] = ()
        paused_total = 0
        running: list[tuple[int, int]] | None = None  # built for warnings only
        elapsed = calendar.elapsed_us(start, end) if end > start else 0
        if amount == 0:
            due_at: int | None = start
        elif elapsed >= amount:
            due_at = calendar.add_us(start, amount)
        else:
            due_at = None
        paused_now = False
    else:
        pauses, paused_total, running = _stretches(cycle, end, open_at_now)
        paused = tuple(pauses)
        due_at, elapsed = reach_instant(calendar, start, running, amount)
        paused_now = open_at_now and pause_from is not None
    breached = elapsed > amount
    if breached:
        state = BREACHED
    elif not open_at_now:
        state = CANCELLED if cycle.ended_by == ENDED_BY_DONE else ACHIEVED
    else:
        state = PAUSED if paused_now else RUNNING
    if due_at is None and open_at_now and not paused_now:
        due_at = _project(calendar, hours, now, amount - elapsed)
    warnings: tuple[tuple[str, int], ...] = ()
    if with_warnings and open_at_now and policy.warnings is not None:
        if running is None:
            running = [(start, end)] if end > start else []
        warnings = _warnings(policy.warnings, target, cycle, running, elapsed, now, paused_now)
    return (
        ticket_id,
        policy_name,
        metric,
        cycle.number,
        start,
        cycle.end,
        state,
        amount,
        hours,
        elapsed,
        breached,
        due_at,
        paused_total,
        paused,
        warnings,
    )


#: Builds a result from its fields without the named tuple's Python-level
#: ``__new__``: ``new_result(CycleResult, fields)``.
new_result: Final = tuple.__new__


def _warnings(
    spec: WarningRule,
    target: ResolvedTarget,
    cycle: Cycle,
    running: list[tuple[int, int]],
    elapsed: int,
    now: int,
    paused_now: bool,
) -> tuple[tuple[str, int], ...]:
    amounts = [(f"{p:g}%", int(target.us * p / 100)) for p in spec.at_percent]
    amounts += [
        (f"{duration_text(d, exact=True)} before due", target.us - d)
        for d in spec.before_due
        if d < target.us
    ]
    out: list[tuple[str, int]] = []
    for label, amount in amounts:
        instant, _ = reach_instant(target.calendar, cycle.start, running, amount)
        if instant is None and not paused_now:
            instant = _project(target.calendar, target.hours, now, amount - elapsed)
        if instant is not None:
            out.append((label, instant))
    return tuple(sorted(out, key=lambda item: item[1]))


def judge_ticket(
    ticket_id: str,
    clock: TicketClock,
    policies: PolicySet,
    now: int,
    with_warnings: bool = False,
    resolver: Resolver | None = None,
) -> list[CycleResult]:
    """Every row of a ticket at ``now``, by metric name then cycle number
    (``resolver``: the policy set's, from :func:`resolver_of`, to skip its look-up)."""
    return [
        new_result(CycleResult, fields)
        for fields in judge_fields(ticket_id, clock, policies, now, with_warnings, resolver)
    ]


def run_and_judge(
    ticket_id: str,
    events: list[Event],
    clock_plan: ClockPlan,
    done_statuses: frozenset[str],
    derive: Callable[[Mapping[str, object]], dict[str, object]] | None,
    policies: PolicySet,
    now: int,
    with_warnings: bool,
    resolver: Resolver,
) -> list[CycleFields]:
    """A ticket's clock fed its events up to ``now``, then judged
    (:func:`judge_fields`); none when it was created after ``now``.  One
    call for the batch judge: compiled, the clock's construction, its run
    and the judging are then native calls."""
    clock = fed_clock(clock_plan, done_statuses, derive, events, now)
    if clock is None:
        return []
    return judge_fields(ticket_id, clock, policies, now, with_warnings, resolver)


def judge_fields(
    ticket_id: str,
    clock: TicketClock,
    policies: PolicySet,
    now: int,
    with_warnings: bool = False,
    resolver: Resolver | None = None,
) -> list[CycleFields]:
    """:func:`judge_ticket`'s results as plain tuples of their fields."""
    results: list[CycleFields] = []
    memo: dict[int, Resolved] = {}
    history_at, history = clock.history_at, clock.history
    created = clock.created_at
    if resolver is None:
        resolver = resolver_of(policies)
    # Most cycles are judged by the ticket's last attributes: those and their
    # resolution are kept at hand, the memo holds any others.
    last_at = history_at[-1] if history_at else None
    last: Mapping[str, object] | None = None
    last_resolved: Resolved | None = None
    names = clock.plan.names
    for i, metric_clock in enumerate(clock.metrics):  # in the plan's order
        name = names[i]
        for cycle in metric_clock.cycles:
            # The attributes at the cycle's start or end, the
            # policy and target they resolve to (once per attribute state).
            attributes = cycle.start_attributes
            if attributes is None:
                end = cycle.end
                if end is None:
                    end = now
                if last_at is not None and end >= last_at:
                    if last_resolved is None:
                        last = history[-1]
                        last_resolved = memo[id(last)] = _resolve(policies, last, created, resolver)
                    applied = last_resolved[name]
                    if applied is not None:
                        results.append(_judge(ticket_id, name, cycle, applied, now, with_warnings))
                    continue
                i = bisect_right(history_at, end) - 1
                attributes = history[i] if i >= 0 else _NO_ATTRIBUTES
            found = memo.get(id(attributes))
            if found is None:
                found = memo[id(attributes)] = _resolve(policies, attributes, created, resolver)
            applied = found[name]
            if applied is not None:
                results.append(_judge(ticket_id, name, cycle, applied, now, with_warnings))
    return results


_NO_ATTRIBUTES: Final[Mapping[str, object]] = {}
