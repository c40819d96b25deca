"""The tickets a support lead acts on first: breached cycles and open cycles
at risk, and SLA misses per day per owner.

This module holds what the watch list finishes into, a
:class:`WatchlistResult` (``report.extras.watch``; never part of the JSON
object), its rows and their order.  The accumulator,
:class:`~sla.report.watch.Watchlist` (compiled with the report's tally),
sees each ticket's judged cycles and its clock, and merges with the watch
lists of other parts.

Memory is bounded whatever the history's size: the ``limit`` (200) open,
unbreached cycles due soonest and the ``limit`` breached cycles due most
recently are kept, each list in one total order (due time, then ticket id,
metric and cycle), so the result is the same in whatever order tickets and
parts arrive; every other cycle only adds to the counts.  Misses per owner
are counted per UTC quarter hour over the :data:`MISS_WINDOW_DAYS` before
``now`` only, which :meth:`WatchlistResult.misses_per_day` turns into local
days in any zone (exact in every zone whose offsets are whole quarter hours,
which every zone has been since 1979).

A result's misses per owner, as the accumulator
(:mod:`sla.report.watch`, with a whole example) counts them, turned into
local days:

>>> now = 1772445600_000_000  # 2026-03-02T10:00:00Z
>>> quarter = (now - 3_600_000_000) // QUARTER_US  # two breaches due at 09:00Z
>>> result = WatchlistResult(now=now, misses={"assignee": {"ana": ("ana", {quarter: 2})}})
>>> days = result.misses_per_day("assignee", "Europe/Berlin")
>>> days.days[-1], [(row.owner, row.total) for row in days.rows]
('2026-03-02', [('ana', 2)])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sla.timefmt import US_PER_SECOND, from_us

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
    #: Per miss key, per owner (its :func:`~sla.report.accumulators.value_key`): the owner's value and
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
