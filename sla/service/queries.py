"""The read side: a ticket's rows at any ``now`` and the cycles due soon,
exactly as ``sla evaluate --format jsonl`` prints them.

Rows are serialised by :meth:`sla.CycleResult.to_row` and orjson, as the
``evaluate`` command's JSONL writer does, so an answer's rows are the same
bytes as that command's lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from sla import CycleResult, StateError, Tracker, evaluate_ticket
from sla.policy.runtime import PolicySet
from sla.service import store
from sla.service.db import Connection


def _judge(
    conn: Connection,
    policies: PolicySet,
    ticket_id: str,
    last_at: int | None,
    state: str | None,
    now_us: int,
) -> list[CycleResult]:
    """A created ticket's cycles at ``now_us``: from its stored tracker when
    ``now_us`` is not before its last event, else replayed from its events
    (those after ``now_us`` do not count)."""
    if state is not None and last_at is not None and now_us >= last_at:
        try:
            return Tracker.from_json(policies, orjson.loads(state)).snapshot(now_us, with_warnings=False)
        except StateError:
            pass  # made under other clock rules: replayed below
    events = [e.body for e in store.events_of(conn, [ticket_id])[ticket_id]]
    return evaluate_ticket(policies, events, now_us, ticket_id, with_warnings=False)


def ticket_rows(conn: Connection, policies: PolicySet, ticket_id: str, now_us: int) -> list[bytes] | None:
    """The JSONL rows of one ticket at ``now_us`` (without newlines); None
    for a ticket with no accepted event, ``[]`` before its ``created``."""
    row = store.ticket(conn, ticket_id)
    if row is None:
        return None
    if row.created_at_us is None:
        return []
    dumps = orjson.dumps
    return [dumps(r.to_row()) for r in _judge(conn, policies, ticket_id, row.last_at_us, row.state, now_us)]


def due_rows(
    conn: Connection, policies: PolicySet, now_us: int, until_us: int, limit: int | None = None
) -> list[bytes]:
    """Every open cycle at ``now_us`` with a ``due_at`` at or before
    ``until_us``, by ``due_at`` (then ticket, metric, cycle), as JSONL rows
    (the first ``limit`` of them, for the status page)."""
    found: list[tuple[int, int, CycleResult]] = []
    candidates = store.due_candidates(conn, now_us, until_us, limit)
    for order, (ticket_id, last_at, state) in enumerate(candidates):
        for r in _judge(conn, policies, ticket_id, last_at, state, now_us):
            if r.ended_at is None and r.due_at is not None and r.due_at <= until_us:
                found.append((r.due_at, order, r))
    found.sort(key=lambda item: item[:2])
    dumps = orjson.dumps
    return [dumps(r.to_row()) for _, _, r in found[:limit]]


def join_rows(rows: Sequence[bytes]) -> bytes:
    """Rows as the items of a JSON array."""
    return b"[" + b",".join(rows) + b"]"
