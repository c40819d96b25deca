"""``sla compare``: one history under two policy files, side by side.

:class:`CompareBuilder` takes each ticket once and evaluates it under both
policy sets. A :class:`~sla.report.figures.ReportBuilder` per set counts the
compliance per metric and group, so the figures are those of two ``sla
report`` runs; the ticket's judged cycles are matched by metric and cycle
number to find those whose verdict changes. Builders that saw disjoint
tickets merge, so parallel jobs give the same :class:`Comparison`.

>>> from sla import load_policies
>>> from sla.engine.jsonl import read_jsonl
>>> old = load_policies("policies:\\n  - name: std\\n    targets: {first_response: 1h}\\n")
>>> new = load_policies("policies:\\n  - name: std-v2\\n    targets: {first_response: 30m}\\n")
>>> tickets, _ = read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}',
...     '{"ticket_id": "T1", "at": "2026-03-02T08:40:00Z", "type": "message", "author": "agent"}',
... ])
>>> builder = CompareBuilder(old, new, "2026-03-02T09:00:00Z")
>>> for ticket in tickets.values():
...     builder.add(ticket)
>>> comparison = builder.finish()
>>> comparison.sla[0].delta_points, comparison.changes["newly_breached"]
(-100.0, 1)
>>> print(comparison.changed_cycles["newly_breached"][0].text())
T1 first_response #1: achieved under "std" (1h target, 40m business) -> breached under "std-v2" (30m target, 40m business)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sla.engine.batch import as_us, evaluate_events
from sla.engine.events import TicketEvents
from sla.engine.judge import CycleResult
from sla.policy.runtime import PolicySet
from sla.report.accumulators import value_key
from sla.report.figures import ReportBuilder, group_keys, sort_token
from sla.report.results import SlaGroup
from sla.timefmt import duration_text, format_instant, format_seconds, header_instant

#: The kinds of change, in the order they are listed.
NEWLY_BREACHED, NO_LONGER_BREACHED, NEW, DROPPED = "newly_breached", "no_longer_breached", "new", "dropped"
CHANGES = (NEWLY_BREACHED, NO_LONGER_BREACHED, NEW, DROPPED)
#: Changed cycles kept per kind of change (the first ones in input order); the rest are counted.
LISTED_PER_CHANGE = 1000


# ---------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Verdict:
    """How one policy set judged a cycle."""

    policy: str
    state: str
    target_us: int
    hours: str
    elapsed_us: int
    breached: bool

    @classmethod
    def of(cls, result: CycleResult | None) -> Verdict | None:
        """How a judged cycle came out; None for no result (the cycle has no target)."""
        if result is None:
            return None
        return cls(
            result.policy, result.state, result.target_us, result.hours, result.elapsed_us, result.breached
        )

    def text(self) -> str:
        """``achieved under "business" (1h target, 52m business)``."""
        business = self.hours == "business"
        target = duration_text(self.target_us, business=business)
        elapsed = duration_text(self.elapsed_us, business=business)
        return f'{self.state} under "{self.policy}" ({target} target, {elapsed} {self.hours})'

    def to_dict(self) -> dict[str, object]:
        """The verdict as in the JSON output: the fields of an ``sla evaluate`` row."""
        return {
            "policy": self.policy,
            "state": self.state,
            "breached": self.breached,
            "target_seconds": format_seconds(self.target_us),
            "hours": self.hours,
            "elapsed_seconds": format_seconds(self.elapsed_us),
        }


def verdict_text(verdict: Verdict | None) -> str:
    """One side of a change in words; ``no target`` for a cycle that side does not target."""
    return "no target" if verdict is None else verdict.text()


@dataclass(frozen=True, slots=True)
class CycleChange:
    """A cycle judged differently by the two policy sets; ``before`` or
    ``after`` is None where that set gives the cycle no target."""

    ticket_id: str
    metric: str
    cycle: int
    change: str
    before: Verdict | None
    after: Verdict | None
    #: The ticket's first input line (of its piece of input, with parallel jobs): sorts merged parts.
    first_line: int = field(default=0, compare=False)

    def text(self) -> str:
        """The ``sla explain``-style one-liner of the change."""
        return (
            f"{self.ticket_id} {self.metric} #{self.cycle}: "
            f"{verdict_text(self.before)} -> {verdict_text(self.after)}"
        )

    def to_dict(self) -> dict[str, object]:
        """An entry of ``changed_cycles`` in the JSON output."""
        return {
            "ticket_id": self.ticket_id,
            "metric": self.metric,
            "cycle": self.cycle,
            "change": self.change,
            "before": None if self.before is None else self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
            "text": self.text(),
        }


@dataclass(frozen=True, slots=True)
class Compliance:
    """One policy set's figures for a metric and group (zeros where it has no cycles there)."""

    cycles: int = 0
    achieved: int = 0
    breached: int = 0

    @classmethod
    def of(cls, row: SlaGroup | None) -> Compliance:
        """The counts of a report row; zeros for no row."""
        return cls() if row is None else cls(row.cycles, row.achieved, row.breached)

    @property
    def compliance(self) -> float | None:
        """``achieved / (achieved + breached)``, as in ``sla report``; None when both are 0."""
        judged = self.achieved + self.breached
        return self.achieved / judged if judged else None

    def to_dict(self) -> dict[str, object]:
        """One side of an ``sla`` entry in the JSON output."""
        return {
            "cycles": self.cycles,
            "achieved": self.achieved,
            "breached": self.breached,
            "compliance": self.compliance,
        }


@dataclass(frozen=True, slots=True)
class MetricDelta:
    """A metric in a group under both policy sets."""

    group: dict[str, object]
    metric: str
    before: Compliance
    after: Compliance

    @property
    def delta_points(self) -> float | None:
        """Compliance after minus before, in percentage points (None if either is None);
        one division of whole numbers, so equal figures give exactly 0."""
        b, a = self.before, self.after
        b_judged, a_judged = b.achieved + b.breached, a.achieved + a.breached
        if not b_judged or not a_judged:
            return None
        return 100 * (a.achieved * b_judged - b.achieved * a_judged) / (a_judged * b_judged)

    def to_dict(self) -> dict[str, object]:
        """An entry of ``sla`` or ``overall`` in the JSON output."""
        return {
            "group": dict(self.group),
            "metric": self.metric,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "delta_points": self.delta_points,
        }


@dataclass
class Comparison:
    """What ``sla compare`` prints; ``to_dict()`` is its JSON object (docs/compare.md)."""

    now: int
    before_name: str
    after_name: str
    tickets: int
    rejected: int
    by: tuple[str, ...]
    #: Per group and metric, in the order of ``sla report``.
    sla: list[MetricDelta]
    #: Per metric over every group (group ``{}``).
    overall: list[MetricDelta]
    #: Changed cycles per kind of change, all counted.
    changes: dict[str, int]
    #: The first :data:`LISTED_PER_CHANGE` changed cycles of each kind, in input order.
    changed_cycles: dict[str, list[CycleChange]]
    #: The earliest and latest event instant of the accepted tickets (None: no ticket).
    first_event: int | None = None
    last_event: int | None = None

    @property
    def events_text(self) -> str | None:
        """``events: FIRST .. LAST`` to the second, for headers."""
        if self.first_event is None or self.last_event is None:
            return None
        return f"events: {header_instant(self.first_event)} .. {header_instant(self.last_event)}"

    @property
    def unlisted(self) -> int:
        """Changed cycles counted but not listed."""
        return sum(self.changes[c] - len(self.changed_cycles[c]) for c in CHANGES)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``sla compare --format json``."""
        return {
            "now": format_instant(self.now),
            "before": self.before_name,
            "after": self.after_name,
            "tickets": self.tickets,
            "rejected": self.rejected,
            "sla": [row.to_dict() for row in self.sla],
            "overall": [row.to_dict() for row in self.overall],
            "changes": dict(self.changes),
            "unlisted": self.unlisted,
            "changed_cycles": [c.to_dict() for kind in CHANGES for c in self.changed_cycles[kind]],
            "events": {
                "first": None if self.first_event is None else format_instant(self.first_event),
                "last": None if self.last_event is None else format_instant(self.last_event),
            },
        }


# ------------------------------------------------------------------ build
def _change(before: CycleResult | None, after: CycleResult | None) -> str | None:
    if before is None:
        return NEW
    if after is None:
        return DROPPED
    if before.breached == after.breached:
        return None
    return NEWLY_BREACHED if after.breached else NO_LONGER_BREACHED


class CompareBuilder:
    """Accumulates tickets under two policy sets; partial builders merge.

    Feed tickets with :meth:`add`, combine builders of disjoint tickets with
    :meth:`merge` (in input order, or followed by :meth:`sort_by_first_line`
    when their tickets interleave), and get the :class:`Comparison` from
    :meth:`finish`.
    """

    def __init__(
        self,
        before: PolicySet,
        after: PolicySet,
        now_us: int | str | datetime,
        by: Sequence[str] = (),
        names: tuple[str, str] = ("before", "after"),
        listed_per_change: int = LISTED_PER_CHANGE,
    ):
        self.now = as_us(now_us)
        self.before, self.after = before, after
        self.by = group_keys(by)
        self.names = names
        self.limit = listed_per_change
        # (A comparison shows no watch tables.)
        self.reports = (
            ReportBuilder(before, self.now, self.by, watchlist=False),
            ReportBuilder(after, self.now, self.by, watchlist=False),
        )
        self.changes = dict.fromkeys(CHANGES, 0)
        self.listed: dict[str, list[CycleChange]] = {kind: [] for kind in CHANGES}

    def __getstate__(self) -> dict[str, object]:
        # Workers send builders back to the parent, which has the policies.
        state = dict(self.__dict__)
        state["before"] = state["after"] = None
        return state

    def add(self, ticket: TicketEvents) -> None:
        """Count one ticket under both policy sets (a rejected one only as rejected)."""
        for report in self.reports:
            report.add(ticket)
        if ticket.error is not None:
            return
        before = {(r.metric, r.cycle): r for r in evaluate_events(self.before, ticket, self.now)}
        after = {(r.metric, r.cycle): r for r in evaluate_events(self.after, ticket, self.now)}
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            kind = _change(old, new)
            if kind is None:
                continue
            self.changes[kind] += 1
            listed = self.listed[kind]
            if len(listed) < self.limit:
                verdicts = (Verdict.of(old), Verdict.of(new))
                listed.append(CycleChange(ticket.ticket_id, *key, kind, *verdicts, ticket.first_line))

    def merge(self, other: CompareBuilder) -> None:
        """Add the figures and changed cycles of a builder that saw later (or interleaved) tickets."""
        for mine, theirs in zip(self.reports, other.reports, strict=True):
            mine.merge(theirs)
        for kind in CHANGES:
            self.changes[kind] += other.changes[kind]
            self.listed[kind] += other.listed[kind]

    def sort_by_first_line(self) -> None:
        """Put merged changed cycles back in input order (for parts whose tickets interleave)."""
        for listed in self.listed.values():
            listed.sort(key=lambda change: change.first_line)

    def finish(self) -> Comparison:
        """The comparison of every ticket added or merged so far."""
        before, after = (report.finish() for report in self.reports)
        return Comparison(
            self.now,
            self.names[0],
            self.names[1],
            before.tickets,
            before.rejected,
            self.by,
            paired(before.sla, after.sla),
            paired(before.extras.overall_sla, after.extras.overall_sla),
            dict(self.changes),
            {kind: listed[: self.limit] for kind, listed in self.listed.items()},
            before.meta.first_event,
            before.meta.last_event,
        )


def paired(before: Sequence[SlaGroup], after: Sequence[SlaGroup]) -> list[MetricDelta]:
    """Rows of two reports joined by group and metric, sorted as ``sla report`` sorts."""
    joined: dict[tuple[object, ...], tuple[SlaGroup, dict[int, SlaGroup]]] = {}
    for side, rows in enumerate((before, after)):
        for row in rows:
            key = (*(value_key(v) for v in row.group.values()), row.metric)
            joined.setdefault(key, (row, {}))[1][side] = row

    def order(item: tuple[SlaGroup, dict[int, SlaGroup]]) -> tuple[object, ...]:
        return (*(sort_token(v) for v in item[0].group.values()), item[0].metric)

    return [
        MetricDelta(dict(row.group), row.metric, Compliance.of(sides.get(0)), Compliance.of(sides.get(1)))
        for row, sides in sorted(joined.values(), key=order)
    ]
