"""Rows: a judged cycle as the row ``sla evaluate`` prints (SEMANTICS.md
section 6), a dict ready for JSON.  One of the engine's hot modules
(compiled where it can be, see ``setup.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sla.timefmt import _FORMATTED, format_instant

if TYPE_CHECKING:
    from sla.engine.judge import CycleFields


def row_of(result: CycleFields) -> dict[str, object]:
    """The row of one judged cycle, a :class:`~sla.engine.results.CycleResult`
    or its fields as a plain tuple (``CycleResult.to_row``)."""
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
    ) = result
    remaining_us = target_us - elapsed_us
    # Instants through the formatter's cache inline (rows repeat a ticket's
    # instants); seconds as an int when whole, else a float.
    # (_FORMATTED.get by name, not a local alias: compiled, that is a C call.)
    started = _FORMATTED.get(started_at) or format_instant(started_at)
    ended = None if ended_at is None else _FORMATTED.get(ended_at) or format_instant(ended_at)
    due = None if due_at is None else _FORMATTED.get(due_at) or format_instant(due_at)
    return {
        "ticket_id": ticket_id,
        "policy": policy,
        "metric": metric,
        "cycle": cycle,
        "started_at": started,
        "ended_at": ended,
        "state": state,
        "target_seconds": target_us // 1_000_000 if target_us % 1_000_000 == 0 else target_us / 1_000_000,
        "hours": hours,
        "elapsed_seconds": elapsed_us // 1_000_000 if elapsed_us % 1_000_000 == 0 else elapsed_us / 1_000_000,
        "remaining_seconds": (
            remaining_us // 1_000_000 if remaining_us % 1_000_000 == 0 else remaining_us / 1_000_000
        ),
        "breached": breached,
        "due_at": due,
        "paused_seconds": paused_us // 1_000_000 if paused_us % 1_000_000 == 0 else paused_us / 1_000_000,
        "paused": [[format_instant(a), None if b is None else format_instant(b)] for a, b in paused]
        if paused
        else [],
    }


def rows_of(results: list[CycleFields]) -> list[dict[str, object]]:
    """The rows of a ticket's judged cycles, in order (compiled: each
    :func:`row_of` a native call, where ``map`` calls it through Python)."""
    return [row_of(result) for result in results]
