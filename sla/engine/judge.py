"""Judging raw cycles at ``now``: the policy in force at each cycle's end, its
target and calendar, elapsed business time, state, due time and warnings
(SEMANTICS.md sections 4 and 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sla.engine.clock import ENDED_BY_DONE, Cycle, TicketClock
from sla.policy.compile import CALENDAR, CompiledPolicy, PolicySet, ResolvedTarget
from sla.policy.model import Warnings
from sla.timefmt import MAX_US, US_PER_SECOND, duration_text, format_instant, from_us

RUNNING, PAUSED, ACHIEVED, BREACHED, CANCELLED = "running", "paused", "achieved", "breached", "cancelled"
PROJECTION_LIMIT_US = 1096 * 86_400 * US_PER_SECOND


class CycleResult(NamedTuple):
    """One cycle of one metric of one ticket, judged at ``now``.

    The fields hold instants (``started_at``, ``ended_at``, ``due_at``) and
    durations (``target_us``, ``elapsed_us``, ``paused_us``) as integers in
    epoch microseconds, exact and cheap.  Properties give the same values as
    Python objects: ``started``, ``ended`` and ``due`` as timezone-aware UTC
    datetimes; ``target``, ``elapsed``, ``remaining`` and ``paused_total`` as
    timedeltas; ``pauses`` and ``warning_times`` with datetimes (``None``
    wherever the field is ``None``).

    Immutable; a named tuple because building one is the engine's most
    frequent allocation (a frozen dataclass costs several times more).  The
    properties are computed on access and cost nothing per instance.

    >>> from sla import evaluate_ticket, load_policies
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> [row] = evaluate_ticket(policies, [
    ...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T08:45:00Z")
    >>> row.state, row.elapsed_us, row.elapsed, row.remaining
    ('running', 2700000000, datetime.timedelta(seconds=2700), datetime.timedelta(seconds=900))
    >>> row.started.isoformat(), row.ended, row.due.isoformat()
    ('2026-03-02T08:00:00+00:00', None, '2026-03-02T09:00:00+00:00')
    >>> row.elapsed.total_seconds() / 60
    45.0
    """

    ticket_id: str
    policy: str
    metric: str
    cycle: int
    started_at: int
    ended_at: int | None
    state: str
    target_us: int
    hours: str
    elapsed_us: int
    breached: bool
    due_at: int | None
    paused_us: int
    paused: tuple[tuple[int, int | None], ...]
    warnings: tuple[tuple[str, int], ...] = ()

    @property
    def remaining_us(self) -> int:
        """``target_us - elapsed_us``, negative once breached."""
        return self.target_us - self.elapsed_us

    # The same values as datetimes and timedeltas: properties, so they are
    # computed on access and a result stays a plain tuple of its fields.
    @property
    def started(self) -> datetime:
        """``started_at`` as an aware UTC datetime."""
        return from_us(self.started_at)

    @property
    def ended(self) -> datetime | None:
        """``ended_at`` as an aware UTC datetime; None while the cycle is open."""
        ended_at = self.ended_at
        return None if ended_at is None else from_us(ended_at)

    @property
    def due(self) -> datetime | None:
        """``due_at`` as an aware UTC datetime: when the elapsed time reaches
        (or reached) the target; None when it is not known (paused, ended in
        time, or beyond the projection horizon)."""
        due_at = self.due_at
        return None if due_at is None else from_us(due_at)

    @property
    def target(self) -> timedelta:
        """``target_us`` as a timedelta (business or calendar time, see ``hours``)."""
        return timedelta(microseconds=self.target_us)

    @property
    def elapsed(self) -> timedelta:
        """``elapsed_us`` as a timedelta: the time counted against the target."""
        return timedelta(microseconds=self.elapsed_us)

    @property
    def remaining(self) -> timedelta:
        """``remaining_us`` as a timedelta, negative once breached."""
        return timedelta(microseconds=self.target_us - self.elapsed_us)

    @property
    def paused_total(self) -> timedelta:
        """``paused_us`` as a timedelta: the real time spent paused (``paused``
        holds the stretches themselves)."""
        return timedelta(microseconds=self.paused_us)

    @property
    def pauses(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """``paused`` with datetimes: ``(from, to)`` pairs, ``to`` None while
        the pause goes on at ``now``."""
        return tuple((from_us(a), None if b is None else from_us(b)) for a, b in self.paused)

    @property
    def warning_times(self) -> tuple[tuple[str, datetime], ...]:
        """``warnings`` with datetimes: ``(label, instant)`` pairs in time order."""
        return tuple((label, from_us(at)) for label, at in self.warnings)

    def to_row(self) -> dict[str, object]:
        """The row ``sla evaluate`` prints (SEMANTICS.md section 6)."""
        # Unpacked once: named-tuple field access and helper calls add up
        # over millions of rows.
        (
            ticket_id,
            policy,
            metric,
            cycle,
            started_at,
            ended_at,
            state,
            target_us,
            hours,
            elapsed_us,
            breached,
            due_at,
            paused_us,
            paused,
            _,
        ) = self
        remaining_us = target_us - elapsed_us
        return {
            "ticket_id": ticket_id,
            "policy": policy,
            "metric": metric,
            "cycle": cycle,
            "started_at": format_instant(started_at),
            "ended_at": None if ended_at is None else format_instant(ended_at),
            "state": state,
            "target_seconds": target_us // 1_000_000 if target_us % 1_000_000 == 0 else target_us / 1_000_000,
            "hours": hours,
            "elapsed_seconds": elapsed_us // 1_000_000
            if elapsed_us % 1_000_000 == 0
            else elapsed_us / 1_000_000,
            "remaining_seconds": (
                remaining_us // 1_000_000 if remaining_us % 1_000_000 == 0 else remaining_us / 1_000_000
            ),
            "breached": breached,
            "due_at": None if due_at is None else format_instant(due_at),
            "paused_seconds": paused_us // 1_000_000 if paused_us % 1_000_000 == 0 else paused_us / 1_000_000,
            "paused": [[format_instant(a), None if b is None else format_instant(b)] for a, b in paused]
            if paused
            else [],
        }


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
    target: ResolvedTarget, start: int, running: list[tuple[int, int]], amount: int
) -> tuple[int | None, int]:
    """When the elapsed time of the running stretches reaches ``amount`` (or None), and the total elapsed."""
    calendar = target.calendar
    total = 0
    reached = start if amount == 0 else None
    for a, b in running:
        part = calendar.elapsed_us(a, b)
        if reached is None and total + part >= amount:
            reached = calendar.add_us(a, amount - total)
        total += part
    return reached, total


def _project(target: ResolvedTarget, now: int, amount: int) -> int | None:
    """When ``amount`` more time runs out after ``now``; None if more than
    1096 days away or past the last supported instant (``MAX_US``)."""
    if target.hours == CALENDAR:
        due = now + amount
    else:
        calendar = target.calendar
        # Ask first whether the horizon holds that much open time, so a sparse
        # calendar never makes add() search for decades.  (Past MAX_US a
        # calendar counts no open time.)
        if calendar.elapsed_us(now, now + PROJECTION_LIMIT_US) < amount:
            return None
        due = calendar.add_us(now, amount)
    return due if due <= MAX_US else None


#: Per metric name, the policy in force and its target (None: no target).
Resolved = dict[str, tuple[CompiledPolicy | None, ResolvedTarget | None]]
#: The attributes a resolution depends on, each with its type.
_ResolveKey = tuple[object, ...]

_MISSING = object()
_RESOLVERS: WeakKeyDictionary[PolicySet, tuple[tuple[str, ...], dict[_ResolveKey, Resolved]]] = (
    WeakKeyDictionary()
)


def _resolve(policies: PolicySet, attributes: Mapping[str, object], created: int | None) -> Resolved:
    """Per metric, (policy, target) for the attributes; cached across tickets.

    The key holds only the attributes some policy matches on, and the
    priority, so tickets that differ elsewhere share one entry.
    """
    entry = _RESOLVERS.get(policies)
    if entry is None:
        keys = policies.resolution_keys
        entry = _RESOLVERS[policies] = (keys, {})
    keys, cache = entry
    # Types are part of the key: 1, 1.0 and True are equal in Python but
    # "1" and "1.0" are different priority names.
    key: _ResolveKey = (
        policies.era(created),
        *[(type(v), v) for v in [attributes.get(k, _MISSING) for k in keys]],
    )
    cacheable = True
    try:
        return cache[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable attribute value: no caching
        cacheable = False
    policy = policies.policy_for(attributes, created)
    priority = attributes.get("priority")
    found = {
        metric: (policy, None if policy is None else policy.target(metric, priority, attributes))
        for metric in policies.metrics
    }
    if cacheable and len(cache) < 100_000:
        cache[key] = found
    return found


def judge_cycle(
    ticket_id: str,
    metric: str,
    cycle: Cycle,
    clock: TicketClock,
    policies: PolicySet,
    now: int,
    with_warnings: bool = False,
    memo: dict[int, Resolved] | None = None,
) -> CycleResult | None:
    end = cycle.end
    open_at_now = end is None
    if end is None:
        end = now
    # Judged at its start (group_ownership) or at its end (every other metric).
    attributes = cycle.start_attributes if cycle.start_attributes is not None else clock.attributes_at(end)
    # The clock keeps one dict per attribute state, so its identity is a
    # safe key while the clock lives: policy lookup once per state.
    resolved = memo.get(id(attributes)) if memo is not None else None
    if resolved is None:
        resolved = _resolve(policies, attributes, clock.created_at)
        if memo is not None:
            memo[id(attributes)] = resolved
    policy, target = resolved[metric]
    if policy is None or target is None:
        return None
    pauses, paused_total, running = _stretches(cycle, end, open_at_now)
    due_at, elapsed = reach_instant(target, cycle.start, running, target.us)
    breached = elapsed > target.us
    paused_now = open_at_now and cycle.pause_from is not None
    if breached:
        state = BREACHED
    elif not open_at_now:
        state = CANCELLED if cycle.ended_by == ENDED_BY_DONE else ACHIEVED
    else:
        state = PAUSED if paused_now else RUNNING
    if due_at is None and open_at_now and not paused_now:
        due_at = _project(target, now, target.us - elapsed)
    warnings: tuple[tuple[str, int], ...] = ()
    if with_warnings and open_at_now and policy.spec.warnings is not None:
        warnings = _warnings(policy.spec.warnings, target, cycle, running, elapsed, now, paused_now)
    return CycleResult(
        ticket_id,
        policy.name,
        metric,
        cycle.number,
        cycle.start,
        cycle.end,
        state,
        target.us,
        target.hours,
        elapsed,
        breached,
        due_at,
        paused_total,
        tuple(pauses),
        warnings,
    )


def _warnings(
    spec: Warnings,
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
        instant, _ = reach_instant(target, cycle.start, running, amount)
        if instant is None and not paused_now:
            instant = _project(target, now, amount - elapsed)
        if instant is not None:
            out.append((label, instant))
    return tuple(sorted(out, key=lambda item: item[1]))


def judge_ticket(
    ticket_id: str, clock: TicketClock, policies: PolicySet, now: int, with_warnings: bool = False
) -> list[CycleResult]:
    """Every row of a ticket at ``now``, by metric name then cycle number."""
    results = []
    memo: dict[int, Resolved] = {}
    for metric_clock in clock.metrics:  # the clock holds them in name order
        name = metric_clock.metric.name
        for cycle in metric_clock.cycles:
            result = judge_cycle(ticket_id, name, cycle, clock, policies, now, with_warnings, memo)
            if result is not None:
                results.append(result)
    return results
