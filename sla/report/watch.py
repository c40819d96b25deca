"""The watch list's accumulator: :class:`Watchlist` sees each ticket's judged
cycles and its clock, keeps the breached cycles and the open ones at risk
in bounded memory, counts them all and the misses per owner, merges with
the watch lists of other parts, and finishes into a
:class:`~sla.report.watchlist.WatchlistResult` (what it means, its rows and
its per-day view are in :mod:`sla.report.watchlist`).

Compiled with the report's tally (setup.py): it runs for every ticket with
a watched cycle, so its loop runs native and a cycle's sort key is built
from its fields, a named result or a row only for the cycles kept.

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
from collections import Counter
from collections.abc import Sequence
from typing import Final

from sla.engine.clock import TicketClock
from sla.engine.judge import BREACHED, PAUSED, RUNNING, CycleFields, CycleResult
from sla.report.accumulators import value_key
from sla.report.watchlist import (
    DAY_US,
    MISS_WINDOW_DAYS,
    OWNER_KEYS,
    QUARTER_US,
    WATCH_LIMIT,
    SortKey,
    WatchItem,
    WatchlistResult,
)

#: Where a cycle's state is among its fields (a CycleResult or its plain
#: tuple), as a literal: compiled, a literal index reads the item, where
#: another index of a typed tuple first boxes all fifteen fields
#: (tests/test_report_tally.py checks the place).
_STATE: Final = 6
#: The states of the cycles it keeps or counts.
_WATCHED: Final = frozenset({BREACHED, RUNNING, PAUSED})


#: A kept cycle: its sort key, and its watch row's fields (the arguments
#: of :class:`~sla.report.watchlist.WatchItem`, built for the kept only).
Entry = tuple[SortKey, tuple[object, ...]]


def breach_key(ticket_id: str, metric: str, cycle: int, due_at: int | None) -> SortKey:
    """Breached cycles' order: most recently due first (those without a due
    time last), then ticket id, metric and cycle."""
    if due_at is None:
        return (1, 0, ticket_id, metric, cycle)
    return (0, -due_at, ticket_id, metric, cycle)


def risk_key(ticket_id: str, metric: str, cycle: int, due_at: int | None, remaining_us: int) -> SortKey:
    """Open cycles' order: soonest due first; those without a due time
    (paused) after, least remaining first."""
    if due_at is None:
        return (1, remaining_us, ticket_id, metric, cycle)
    return (0, due_at, ticket_id, metric, cycle)


def _key_of(entry: Entry) -> SortKey:
    return entry[0]


class Kept:
    """The ``limit`` entries of smallest key, in bounded memory, the same
    whatever order they come in (the key is a total order over cycles)."""

    def __init__(self, limit: int = WATCH_LIMIT) -> None:
        # (A default for every argument: compiled, unpickling calls the class
        # without arguments, then sets the attributes.)
        self.limit = limit
        self.entries: list[Entry] = []
        self.cut: SortKey | None = None  # the largest kept key once the list is full

    def wants(self, key: SortKey) -> bool:
        """Whether an entry with ``key`` can still be among the kept ones."""
        return self.cut is None or key < self.cut

    def add(self, key: SortKey, fields: tuple[object, ...]) -> None:
        """Keep an entry (call :meth:`wants` first); cut back to ``limit`` now and then."""
        self.entries.append((key, fields))
        if len(self.entries) >= 2 * self.limit:
            self.prune()

    def prune(self) -> None:
        """Cut to the ``limit`` smallest and remember the largest kept key."""
        self.entries = heapq.nsmallest(self.limit, self.entries, key=_key_of)
        if len(self.entries) >= self.limit:
            self.cut = self.entries[-1][0]

    def merge(self, other: Kept) -> None:
        """Keep what ``other`` kept, as if added here."""
        for key, fields in other.entries:
            if self.wants(key):
                self.add(key, fields)

    def done(self) -> tuple[WatchItem, ...]:
        """The kept cycles' watch rows, smallest key first."""
        self.prune()
        return tuple([WatchItem(*fields) for _, fields in self.entries])  # type: ignore[arg-type]


class Watchlist:
    """Mergeable accumulator of the watch tables and counts (see the module).

    ``by``: the report's ``--by`` keys; misses per owner are counted for
    those that name an owner attribute (``assignee``, ``group``).
    """

    def __init__(self, by: Sequence[str] = (), limit: int = WATCH_LIMIT) -> None:
        if limit < 1:
            raise ValueError("a watchlist keeps at least one cycle per table")
        self.by = tuple(by)
        self.limit = limit
        self.miss_keys = tuple([k for k in self.by if k in OWNER_KEYS])
        self.now: int | None = None
        self.breached = Kept(limit)
        self.at_risk = Kept(limit)
        self.breached_total = 0
        self.breached_open = 0
        self.at_risk_total = 0
        self.at_risk_paused = 0
        self.due_within_day = 0
        self.owner_keys: set[str] = set()
        # miss key -> owner token -> (owner value, Counter of UTC quarter hours)
        self.misses: dict[str, dict[object, tuple[object, Counter[int]]]] = {k: {} for k in self.miss_keys}

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
        for fields in results:
            if fields[_STATE] not in _WATCHED:
                continue  # most cycles: achieved or cancelled, not watched
            (
                ticket_id,
                policy,
                metric,
                cycle,
                _,
                ended_at,
                state,
                target_us,
                hours,
                elapsed_us,
                _,
                due_at,
                _,
                _,
                _,
            ) = fields
            if state == BREACHED:
                self.breached_total += 1
                if ended_at is None:
                    self.breached_open += 1
                key = breach_key(ticket_id, metric, cycle, due_at)
                kept = self.breached
                if self.miss_keys and due_at is not None and due_at > now - MISS_WINDOW_DAYS * DAY_US:
                    self._count_miss(due_at, clock)
            else:  # running or paused
                self.at_risk_total += 1
                if state == PAUSED:
                    self.at_risk_paused += 1
                if due_at is not None and due_at <= now + DAY_US:
                    self.due_within_day += 1
                key = risk_key(ticket_id, metric, cycle, due_at, target_us - elapsed_us)
                kept = self.at_risk
            if kept.wants(key):
                attrs = clock.attributes
                owner = tuple([(k, attrs[k]) for k in OWNER_KEYS if k in attrs])
                fields_kept: tuple[object, ...] = (
                    ticket_id,
                    policy,
                    metric,
                    cycle,
                    state,
                    ended_at is None,
                    due_at,
                    elapsed_us,
                    target_us,
                    hours,
                    owner,
                )
                kept.add(key, fields_kept)

    def _count_miss(self, due: int, clock: TicketClock) -> None:
        """Count a breach for each miss key's owner at the breach instant, per UTC quarter hour."""
        attrs = clock.attributes_at(due)
        quarter = due // QUARTER_US
        for key in self.miss_keys:
            value = attrs.get(key)
            token = value_key(value)
            owners = self.misses[key]
            entry = owners.get(token)
            if entry is None:
                entry = owners[token] = (value, Counter())
            entry[1][quarter] += 1

    def merge(self, other: Watchlist) -> None:
        """Take in the tickets another part saw."""
        if self.now is None:
            self.now = other.now
        self.breached.merge(other.breached)
        self.at_risk.merge(other.at_risk)
        self.breached_total += other.breached_total
        self.breached_open += other.breached_open
        self.at_risk_total += other.at_risk_total
        self.at_risk_paused += other.at_risk_paused
        self.due_within_day += other.due_within_day
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
        return WatchlistResult(
            now=self.now,
            limit=self.limit,
            breached=self.breached.done(),
            at_risk=self.at_risk.done(),
            breached_total=self.breached_total,
            breached_open=self.breached_open,
            at_risk_total=self.at_risk_total,
            at_risk_paused=self.at_risk_paused,
            due_within_day=self.due_within_day,
            owner_keys=tuple([k for k in OWNER_KEYS if k in self.owner_keys]),
            miss_keys=self.miss_keys,
            misses={
                key: {token: (value, dict(quarters)) for token, (value, quarters) in owners.items()}
                for key, owners in self.misses.items()
            },
        )
