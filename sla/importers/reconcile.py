"""The vendor's own SLA verdicts against this engine's cycles (``sla
reconcile``, SEMANTICS.md section 14). Pure: no files, no clock.

Cycles are matched by (ticket, metric, cycle number). A matched pair agrees
when both sides give the same breached verdict (a vendor's "no verdict yet"
counts as not breached), both are ended or both open, and, for ended
cycles, the elapsed times are within ``tolerance_s`` (when the vendor gives
no elapsed time, the end instants are compared instead). A cycle on one side
only is a difference, except a vendor cycle with neither a target nor a
breach (the vendor measured no SLA there, nor did we). Only tickets and
metrics the vendor has records for are compared (Zendesk's ``reply_time``
stands for both ``first_response`` and ``next_response``); a vendor cycle
that starts after ``now`` does not exist yet, and one that ends after
``now`` is open. When the vendor gives one cycle several times (Zendesk's,
as its records are read), the last one counts. Each difference carries a
cause in words (:mod:`sla.importers.reconcile_causes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from sla.engine.events import TicketEvents
from sla.engine.judge import CycleResult
from sla.importers.base import VendorCycle
from sla.importers.reconcile_causes import RESPONSES, UNKNOWN, Causes, Figures, by_pair, near
from sla.timefmt import US_PER_SECOND, format_instant

DONE = frozenset({"solved", "closed"})
#: Vendor metrics that count both first and next replies (Zendesk's reply_time).
_BOTH_REPLIES = frozenset({"reply_time"})


@dataclass(frozen=True, slots=True)
class Difference:
    """A cycle the two sides judge differently (or only one side has);
    ``what`` lists the figures that differ, ``cause`` says why in words."""

    ticket: str
    metric: str
    cycle: int
    vendor: Figures | None
    ours: Figures | None
    what: tuple[str, ...]
    cause: str = UNKNOWN

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "ticket_id": self.ticket,
            "metric": self.metric,
            "cycle": self.cycle,
            "differs": list(self.what),
            "vendor": None if self.vendor is None else self.vendor.as_dict(),
            "ours": None if self.ours is None else self.ours.as_dict(),
            "cause": self.cause,
        }


@dataclass
class MetricCounts:
    """Per metric: cycles compared (agreeing + differing) and the differing
    ones found on one side only."""

    compared: int = 0
    agreeing: int = 0
    differing: int = 0
    only_vendor: int = 0
    only_ours: int = 0


@dataclass
class Reconciliation:
    """The outcome: counts by metric, every difference in ticket order."""

    now: int
    tolerance_s: float
    metrics: dict[str, MetricCounts] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    #: Vendor cycles without a target or verdict that we do not measure either.
    unmeasured: int = 0

    @property
    def agrees(self) -> bool:
        """True when no cycle differs."""
        return not self.differences

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "now": format_instant(self.now),
            "tolerance_seconds": self.tolerance_s,
            "metrics": {m: asdict(c) for m, c in sorted(self.metrics.items())},
            "unmeasured_vendor_cycles": self.unmeasured,
            "differences": [d.as_dict() for d in self.differences],
        }


def vendor_figures(cycle: VendorCycle, now: int) -> Figures:
    """The vendor's figures as of ``now``: its :meth:`~VendorCycle.verdict`
    at ``now`` (a breach counts once it lies at or before ``now``); an end
    after ``now`` has not happened yet."""
    breached = cycle.verdict(now)
    ended = cycle.ended and (cycle.ended_at is None or cycle.ended_at <= now)
    state = "breached" if breached else ("achieved" if breached is False else "ended") if ended else "open"
    return Figures(
        state,
        breached,
        ended,
        cycle.elapsed_seconds if ended else None,
        cycle.target_seconds,
        cycle.started_at,
        cycle.ended_at if ended else None,
    )


def our_figures(row: CycleResult) -> Figures:
    """This engine's figures for a judged cycle."""
    return Figures(
        row.state,
        row.breached,
        row.ended_at is not None,
        row.elapsed_us / US_PER_SECOND,
        row.target_us / US_PER_SECOND,
        row.started_at,
        row.ended_at,
    )


def compare(vendor: Figures, ours: Figures, tolerance_s: float) -> tuple[str, ...]:
    """The figures that differ between two matched cycles (empty: they agree)."""
    what = []
    if bool(vendor.breached) != ours.breached:
        what.append("breached")
    if vendor.ended != ours.ended:
        what.append("ended")
    elif ours.ended and vendor.elapsed_seconds is not None and ours.elapsed_seconds is not None:
        if abs(vendor.elapsed_seconds - ours.elapsed_seconds) > tolerance_s:
            what.append("elapsed")
    elif ours.ended and not near(vendor.ended_at, ours.ended_at, tolerance_s):
        what.append("end")
    return tuple(what)


def reconcile(
    vendor: Sequence[VendorCycle],
    ours: Iterable[CycleResult],
    now: int,
    *,
    tolerance_s: float = 60,
    events: Mapping[str, TicketEvents] | None = None,
    done_statuses: frozenset[str] = DONE,
    vendor_name: str = "the vendor",
) -> Reconciliation:
    """Compare the vendor's cycles with ours at ``now`` (epoch µs); ``events``
    (the imported tickets) lets causes be named, ``vendor_name`` names the
    vendor in them.

    >>> import sla
    >>> policies = sla.load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
    >>> ours = sla.evaluate_ticket(policies, [
    ...     {"ticket_id": "7", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}},
    ...     {"ticket_id": "7", "at": "2026-03-02T09:30:00Z", "type": "message", "author": "agent"},
    ... ], now="2026-03-03T00:00:00Z")
    >>> jira = [VendorCycle("7", "first_response", "Time to first response", 1, False, True, 5400.0,
    ...                     target_seconds=3600.0)]
    >>> result = reconcile(jira, ours, ours[0].ended_at, vendor_name="Jira")
    >>> result.metrics["first_response"]
    MetricCounts(compared=1, agreeing=0, differing=1, only_vendor=0, only_ours=0)
    >>> [(d.ticket, d.what, d.ours.state, d.vendor.state, d.cause) for d in result.differences]
    [('7', ('breached',), 'breached', 'achieved', 'unknown')]
    """
    result = Reconciliation(now, tolerance_s)
    theirs: dict[tuple[str, str, int], Figures] = {}
    order: dict[str, int] = {}
    for cycle in vendor:
        if cycle.started_at is not None and cycle.started_at > now:
            continue
        order.setdefault(cycle.ticket, len(order))
        theirs[cycle.ticket, cycle.metric, cycle.cycle] = vendor_figures(cycle, now)
    metrics = {key[1] for key in theirs}
    if any(c.vendor_metric in _BOTH_REPLIES for c in vendor):
        metrics |= RESPONSES  # one vendor metric counts first and next replies
    mine = {
        (r.ticket_id, r.metric, r.cycle): our_figures(r)
        for r in ours
        if r.ticket_id in order and r.metric in metrics
    }
    causes = Causes(
        events or {}, now, done_statuses, vendor_name, by_pair(theirs), by_pair(mine), tolerance_s
    )
    for key in sorted(theirs.keys() | mine.keys(), key=lambda k: (order[k[0]], k[1], k[2])):
        v, o = theirs.get(key), mine.get(key)
        if o is None and v is not None and v.target_seconds is None and not v.breached:
            result.unmeasured += 1
            continue
        tally = result.metrics.setdefault(key[1], MetricCounts())
        tally.compared += 1
        what = ("only vendor",) if o is None else ("only ours",) if v is None else compare(v, o, tolerance_s)
        if not what:
            tally.agreeing += 1
            continue
        tally.differing += 1
        tally.only_vendor += o is None
        tally.only_ours += v is None
        result.differences.append(Difference(*key, v, o, what, causes.explain(key, v, o)))
    return result


__all__ = [
    "DONE",
    "UNKNOWN",
    "Difference",
    "Figures",
    "MetricCounts",
    "Reconciliation",
    "compare",
    "our_figures",
    "reconcile",
    "vendor_figures",
]
