"""The tickets a support lead acts on first: breached cycles and open cycles
at risk, and SLA misses per day per owner.

Pure and mergeable like every report accumulator: :class:`Watchlist` sees
each ticket's judged cycles and its clock in :meth:`ReportBuilder.add
<sla.report.figures.ReportBuilder.add>`, merges with the watchlists of other
parts, and finishes into a :class:`WatchlistResult` (``report.extras.watch``;
never part of the JSON object).

Memory is bounded whatever the history's size: the ``limit`` (200) open,
unbreached cycles due soonest and the ``limit`` breached cycles due most
recently are kept, each list in one total order (due time, then ticket id,
metric and cycle), so the result is the same in whatever order tickets and
parts arrive; every other cycle only adds to the counts.  Misses per owner
are counted per UTC quarter hour over the :data:`MISS_WINDOW_DAYS` before
``now`` only, which :meth:`WatchlistResult.misses_per_day` turns into local
days in any zone (exact in every zone whose offsets are whole quarter hours,
which every zone has been since 1979).

>>> from sla import load_policies
>>> from sla.engine.batch import run_clock
>>> from sla.engine.jsonl import read_jsonl
>>> from sla.engine.judge import judge_ticket
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> tickets, _ = read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"assignee": "ana"}}',
...     '{"ticket_id": "T2", "at": "2026-03-02T09:30:00Z", "type": "created", "fields": {"assignee": "bo"}}',
... ])
>>> now = 1772445600_000_000  # 2026-03-02T10:00:00Z
>>> watch = Watchlist(["assignee"])
>>> for ticket in tickets.values():
...     clock = run_clock(policies, ticket.events, now)
...     watch.add(ticket.ticket_id, judge_ticket(ticket.ticket_id, clock, policies, now), clock, now)
>>> result = watch.finish()
>>> [(i.ticket_id, i.owner) for i in result.breached], [(i.ticket_id, i.owner) for i in result.at_risk]
([('T1', (('assignee', 'ana'),))], [('T2', (('assignee', 'bo'),))])
>>> days = result.misses_per_day("assignee", "UTC")
>>> days.days[-1], [(row.owner, row.total) for row in days.rows]
('2026-03-02', [('ana', 1)])
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from sla.engine.clock import TicketClock
from sla.engine.judge import BREACHED, PAUSED, RUNNING, CycleFields, CycleResult, new_result
from sla.timefmt import US_PER_SECOND, from_us

#: Where a cycle's state is among its fields (``CycleResult.state``).
_STATE: Final = CycleResult._fields.index("state")

#: The attributes that name a ticket's owner, in the order they are shown.
OWNER_KEYS = ("assignee", "group")
#: How many cycles each watch table keeps.
WATCH_LIMIT = 200
#: Misses per owner: local days shown, owners shown (the rest in one row).
MISS_DAYS, MISS_OWNERS = 31, 30
#: Breaches counted per owner: those due in the last MISS_WINDOW_DAYS before
#: ``now`` (enough for MISS_DAYS local days in any zone).
MISS_WINDOW_DAYS = MISS_DAYS + 2
QUARTER_US = 15 * 60 * US_PER_SECOND
DAY_US = 86_400 * US_PER_SECOND


def value_key(value: object) -> object:
    """A hashable key for an owner value that keeps distinct JSON values apart
    (as :func:`sla.report.accumulators.value_key`, which imports the results
    module that imports this one)."""
    if value is None or type(value) is str:
        return value
    return ("json", json.dumps(value, sort_keys=True))


#: A cycle's place in its table: smaller comes first.
SortKey = tuple[int, int, str, str, int]


@dataclass(frozen=True, slots=True)
class WatchItem:
    """One cycle in a watch table: its row of ``sla evaluate`` in short, and
    its ticket's owner at ``now`` as ``(attribute, value)`` pairs for the
    owner attributes (``assignee``, ``group``) the ticket has."""

    ticket_id: str
    policy: str
    metric: str
    cycle: int
    state: str
    open: bool
    due_at: int | None
    elapsed_us: int
    target_us: int
    hours: str
    owner: tuple[tuple[str, object], ...] = ()

    def owner_value(self, key: str) -> object:
        """The owner attribute ``key`` at ``now``; ``None`` when the ticket has none."""
        for name, value in self.owner:
            if name == key:
                return value
        return None


def risk_key(result: CycleResult | WatchItem) -> SortKey:
    """Open cycles: soonest due first; those without a due time (paused) after, least remaining first."""
    if result.due_at is None:
        return (1, result.target_us - result.elapsed_us, result.ticket_id, result.metric, result.cycle)
    return (0, result.due_at, result.ticket_id, result.metric, result.cycle)


def breach_key(result: CycleResult | WatchItem) -> SortKey:
    """Breached cycles: most recently due first."""
    due = result.due_at
    return (0 if due is not None else 1, -(due or 0), result.ticket_id, result.metric, result.cycle)


class _Kept:
    """The ``limit`` smallest items under ``key``, in bounded memory, the same
    whatever order they come in (the key is a total order over cycles)."""

    __slots__ = ("key", "limit", "items", "cut")

    def __init__(self, key: Callable[[WatchItem], SortKey], limit: int) -> None:
        self.key = key
        self.limit = limit
        self.items: list[WatchItem] = []
        self.cut: SortKey | None = None  # the largest kept key once the list is full

    def wants(self, key: SortKey) -> bool:
        """Whether an item with ``key`` can still be among the kept ones."""
        return self.cut is None or key < self.cut

    def add(self, item: WatchItem) -> None:
        """Keep ``item`` (call :meth:`wants` first); cut back to ``limit`` now and then."""
        self.items.append(item)
        if len(self.items) >= 2 * self.limit:
            self.prune()

    def prune(self) -> None:
        """Cut to the ``limit`` smallest and remember the largest kept key."""
        self.items = heapq.nsmallest(self.limit, self.items, key=self.key)
        if len(self.items) >= self.limit:
            self.cut = self.key(self.items[-1])

    def done(self) -> tuple[WatchItem, ...]:
        """The kept items, smallest first."""
        self.prune()
        return tuple(self.items)


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """One owner's misses per local day (``owner`` None: no owner then)."""

    owner: object
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True, slots=True)
class OwnerDays:
    """Misses per local day per owner: the ``MISS_OWNERS`` owners with the most
    misses over ``days`` (most first), the rest summed in ``other`` (of
    ``other_owners`` owners), and totals per day and over all."""

    key: str
    days: tuple[str, ...]
    rows: tuple[OwnerRow, ...]
    other: OwnerRow | None
    other_owners: int
    day_totals: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class WatchlistResult:
    """What the HTML page lists (not part of the JSON object).

    ``breached``: breached cycles, open or ended, most recently due first;
    ``at_risk``: open cycles not breached, soonest due first (paused ones,
    with no due time, last); both cut to ``limit`` with ties broken by ticket
    id, metric and cycle.  The counts cover every cycle: ``breached_total``
    (of which ``breached_open`` still open at ``now``), ``at_risk_total``
    (of which ``at_risk_paused`` paused, and ``due_within_day`` due within 24
    hours of ``now``).  ``owner_keys``: the owner attributes any ticket had at
    ``now``; ``miss_keys``: the ``--by`` keys misses are counted by.
    """

    now: int | None = None
    limit: int = WATCH_LIMIT
    breached: tuple[WatchItem, ...] = ()
    at_risk: tuple[WatchItem, ...] = ()
    breached_total: int = 0
    breached_open: int = 0
    at_risk_total: int = 0
    at_risk_paused: int = 0
    due_within_day: int = 0
    owner_keys: tuple[str, ...] = ()
    miss_keys: tuple[str, ...] = ()
    #: Per miss key, per owner (its :func:`value_key`): the owner's value and
    #: its breaches counted per UTC quarter hour of ``due_at``.
    misses: Mapping[str, Mapping[object, tuple[object, Mapping[int, int]]]] = field(default_factory=dict)

    def misses_per_day(
        self, key: str, tz: str | tzinfo, days: int = MISS_DAYS, owners: int = MISS_OWNERS
    ) -> OwnerDays:
        """Breached cycles per owner (``key`` at the breach instant) and local
        day of ``due_at`` in ``tz``, over the ``days`` local days up to and
        including the day of ``now``."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        if self.now is None:
            return OwnerDays(key, (), (), None, 0, (), 0)
        last = from_us(self.now).astimezone(zone).date()
        labels = tuple((last - timedelta(days=days - 1 - i)).isoformat() for i in range(days))
        first = last - timedelta(days=days - 1)
        day_of: dict[int, int] = {}

        def column(quarter: int) -> int:
            index = day_of.get(quarter)
            if index is None:
                local: date = from_us(quarter * QUARTER_US).astimezone(zone).date()
                index = day_of[quarter] = (local - first).days
            return index

        found: list[OwnerRow] = []
        for value, quarters in self.misses.get(key, {}).values():
            counts = [0] * days
            for quarter, count in quarters.items():
                index = column(quarter)
                if 0 <= index < days:
                    counts[index] += count
            if sum(counts):
                found.append(OwnerRow(value, tuple(counts), sum(counts)))
        found.sort(key=lambda row: (-row.total, json.dumps(row.owner, sort_keys=True)))
        shown, rest = found[:owners], found[owners:]
        other = None
        if rest:
            summed = tuple(sum(row.counts[i] for row in rest) for i in range(days))
            other = OwnerRow(None, summed, sum(summed))
        day_totals = tuple(sum(row.counts[i] for row in found) for i in range(days))
        return OwnerDays(key, labels, tuple(shown), other, len(rest), day_totals, sum(day_totals))


class Watchlist:
    """Collects, per ticket, what the watch tables need (bounded in memory).

    ``by``: the report's ``--by`` keys; misses per owner are counted for
    those that name an owner attribute (``assignee``, ``group``).
    """

    def __init__(self, by: Sequence[str] = (), limit: int = WATCH_LIMIT) -> None:
        if limit < 1:
            raise ValueError("a watchlist keeps at least one cycle per table")
        self.by = tuple(by)
        self.limit = limit
        self.miss_keys = tuple(k for k in self.by if k in OWNER_KEYS)
        self.now: int | None = None
        self.breached = _Kept(breach_key, limit)
        self.at_risk = _Kept(risk_key, limit)
        self.counts: Counter[str] = Counter()
        self.owner_keys: set[str] = set()
        # miss key -> owner token -> (owner value, Counter of UTC quarter hours)
        self.misses: dict[str, dict[object, tuple[object, Counter[int]]]] = {k: {} for k in self.miss_keys}

    def _item(self, result: CycleResult, clock: TicketClock) -> WatchItem:
        """The watch row of a judged cycle, with the ticket's owner at ``now``."""
        attrs = clock.attributes
        owner = tuple((k, attrs[k]) for k in OWNER_KEYS if k in attrs)
        return WatchItem(
            result.ticket_id,
            result.policy,
            result.metric,
            result.cycle,
            result.state,
            result.ended_at is None,
            result.due_at,
            result.elapsed_us,
            result.target_us,
            result.hours,
            owner,
        )

    def add(
        self, ticket_id: str, results: Sequence[CycleResult | CycleFields], clock: TicketClock, now: int
    ) -> None:
        """One accepted ticket's judged cycles (every metric), as results or
        as plain tuples of their fields, and its clock at ``now``."""
        self.now = now
        attrs = clock.attributes
        for name in OWNER_KEYS:
            if name in attrs:
                self.owner_keys.add(name)
        counts = self.counts
        for fields in results:
            state = fields[_STATE]
            if state != BREACHED and state != RUNNING and state != PAUSED:
                continue  # most cycles: achieved or cancelled, not watched
            # A named result for the few watched (none is built for the others).
            result = fields if type(fields) is CycleResult else new_result(CycleResult, fields)
            if state == BREACHED:
                counts["breached"] += 1
                if result.ended_at is None:
                    counts["breached_open"] += 1
                if self.breached.wants(breach_key(result)):
                    self.breached.add(self._item(result, clock))
                due = result.due_at
                if self.miss_keys and due is not None and due > now - MISS_WINDOW_DAYS * DAY_US:
                    self._count_miss(due, clock)
            else:  # running or paused
                counts["at_risk"] += 1
                if state == PAUSED:
                    counts["at_risk_paused"] += 1
                if result.due_at is not None and result.due_at <= now + DAY_US:
                    counts["due_within_day"] += 1
                if self.at_risk.wants(risk_key(result)):
                    self.at_risk.add(self._item(result, clock))

    def _count_miss(self, due: int, clock: TicketClock) -> None:
        """Count a breach for each miss key's owner at the breach instant, per UTC quarter hour."""
        attrs = clock.attributes_at(due)
        quarter = due // QUARTER_US
        for key in self.miss_keys:
            value = attrs.get(key)
            token = value_key(value)
            entry = self.misses[key].get(token)
            if entry is None:
                entry = self.misses[key][token] = (value, Counter())
            entry[1][quarter] += 1

    def merge(self, other: Watchlist) -> None:
        """Take in the tickets another part saw."""
        if self.now is None:
            self.now = other.now
        for mine, theirs in ((self.breached, other.breached), (self.at_risk, other.at_risk)):
            for item in theirs.items:
                if mine.wants(mine.key(item)):
                    mine.add(item)
        self.counts.update(other.counts)
        self.owner_keys |= other.owner_keys
        for key, owners in other.misses.items():
            mine_owners = self.misses.setdefault(key, {})
            for token, (value, quarters) in owners.items():
                entry = mine_owners.get(token)
                if entry is None:
                    entry = mine_owners[token] = (value, Counter())
                entry[1].update(quarters)

    def finish(self) -> WatchlistResult:
        """The watch tables and counts (the lists cut to ``limit``)."""
        counts = self.counts
        return WatchlistResult(
            now=self.now,
            limit=self.limit,
            breached=self.breached.done(),
            at_risk=self.at_risk.done(),
            breached_total=counts["breached"],
            breached_open=counts["breached_open"],
            at_risk_total=counts["at_risk"],
            at_risk_paused=counts["at_risk_paused"],
            due_within_day=counts["due_within_day"],
            owner_keys=tuple(k for k in OWNER_KEYS if k in self.owner_keys),
            miss_keys=self.miss_keys,
            misses={
                key: {token: (value, dict(quarters)) for token, (value, quarters) in owners.items()}
                for key, owners in self.misses.items()
            },
        )
