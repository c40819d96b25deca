"""The tickets a support lead acts on first: breached cycles and open
cycles at risk, and SLA misses per day per owner (being written).

Pure and mergeable like every report accumulator: :class:`Watchlist` sees
each ticket's judged cycles and its clock in :meth:`ReportBuilder.add
<sla.report.figures.ReportBuilder.add>`, merges with the watchlists of
other parts, and finishes into a :class:`WatchlistResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sla.engine.clock import TicketClock
from sla.engine.judge import CycleResult


@dataclass(frozen=True)
class WatchlistResult:
    """What the HTML page lists (not part of the JSON object)."""


class Watchlist:
    """Collects, per ticket, what the watch tables need (bounded in memory)."""

    def __init__(self, by: Sequence[str] = ()) -> None:
        self.by = tuple(by)

    def add(self, ticket_id: str, results: Sequence[CycleResult], clock: TicketClock, now: int) -> None:
        """One accepted ticket's judged cycles (every metric) and its clock at ``now``."""

    def merge(self, other: Watchlist) -> None:
        """Take in the tickets another part saw."""

    def finish(self) -> WatchlistResult:
        return WatchlistResult()
