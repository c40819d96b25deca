"""Which of ``sla evaluate``'s rows to keep, and in what order.

``--state``, ``--metric``, ``--policy`` and ``--due-within`` keep the rows
that match every filter given; the test runs where the rows are made (in
worker processes too), so filtered-out rows cost no writing. ``--sort due``
holds the kept rows until the end and writes them by ``due_at`` (rows with
no due instant last), ties in input order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sla.engine.judge import CycleResult
from sla.io.writers import Row, RowWriter
from sla.timefmt import parse_instant

STATES = ("running", "paused", "achieved", "cancelled", "breached")


@dataclass(frozen=True)
class RowFilter:
    """The rows to keep (picklable, for worker processes).

    ``due_by``: keep open cycles (no ``ended_at``) due at or before this
    instant, overdue ones included; ``None`` keeps every row.

    >>> from sla import evaluate_ticket, load_policies
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> rows = evaluate_ticket(policies, [
    ...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T08:45:00Z")
    >>> RowFilter(states=frozenset({"breached"})).keep(rows[0]), RowFilter(metrics=frozenset({"first_response"})).keep(rows[0])
    (False, True)
    """

    states: frozenset[str] | None = None
    metrics: frozenset[str] | None = None
    policies: frozenset[str] | None = None
    due_by: int | None = None

    def keep(self, result: CycleResult) -> bool:
        """Whether the row of ``result`` is written."""
        if self.states is not None and result.state not in self.states:
            return False
        if self.metrics is not None and result.metric not in self.metrics:
            return False
        if self.policies is not None and result.policy not in self.policies:
            return False
        if self.due_by is not None:
            return result.ended_at is None and result.due_at is not None and result.due_at <= self.due_by
        return True

    @property
    def active(self) -> bool:
        """Whether any filter is set (else every row is kept, at no cost)."""
        return (self.states, self.metrics, self.policies, self.due_by) != (None, None, None, None)


def _due_key(row: Row) -> tuple[int, int]:
    due = row.get("due_at")
    return (0, parse_instant(due)) if isinstance(due, str) else (1, 0)


class DueOrder:
    """A writer that holds every row and hands them to ``inner`` sorted by
    ``due_at`` when closed (memory grows with the rows kept: filter first)."""

    def __init__(self, inner: RowWriter):
        self.inner = inner
        self.rows: list[Row] = []

    def write_ticket(self, rows: list[Row]) -> None:
        self.rows += rows

    def close(self) -> None:
        self.rows.sort(key=_due_key)  # stable: ties stay in input order
        for row in self.rows:
            self.inner.write_ticket([row])
        self.inner.close()
