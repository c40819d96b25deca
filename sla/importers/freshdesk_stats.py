"""Freshdesk's fixed codes and the status history its ``stats`` allow.

Freshdesk API v2 has no status history: a ticket says only its current
``status`` and, with ``include=stats``, a handful of instants
(https://developers.freshdesk.com/api/, "View a Ticket", embed ``stats``).
:func:`status_timeline` rebuilds what those instants show:

- the ticket is ``open`` from ``created_at`` (Freshdesk's default status);
- ``resolved`` at ``stats.resolved_at``, ``closed`` at ``stats.closed_at``,
  ``open`` again at ``stats.reopened_at`` (the latest reopen);
- the current status from the instant it was entered: ``pending_since``
  for pending, ``resolved_at``/``closed_at``/``reopened_at`` for resolved,
  closed and open, else ``status_updated_at``; an instant after that start
  contradicts the current status and is dropped.

What it cannot show is lost: every pending stretch but the current one,
a resolution that a reopen undid before the latest ``resolved_at``, and the
statuses in between. The clocks therefore never pause where the lost
stretches were: ``requester_wait`` and any metric paused in ``pending`` are
overstated, never understated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sla.importers.base import RecordError, id_number
from sla.importers.base import record_instant as instant

#: Ticket status codes (API reference, "Ticket Properties").
OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5
STATUS_NAMES = {OPEN: "open", PENDING: "pending", RESOLVED: "resolved", CLOSED: "closed"}
#: Priority codes (API reference, "Ticket Properties").
PRIORITY_NAMES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
#: Ticket source codes: "Ticket Properties" (1, 2, 3, 7, 9, 10) and the
#: ``source`` ticket field's choices in "List All Ticket Fields" (4, 5, 6).
SOURCE_NAMES = {
    1: "email",
    2: "portal",
    3: "phone",
    4: "forum",
    5: "twitter",
    6: "facebook",
    7: "chat",
    9: "feedback_widget",
    10: "outbound_email",
}
#: Source code of a ticket an agent started by email: its description is the
#: agent's message, not the requester's.
OUTBOUND_EMAIL = 10
#: The ``stats`` keys read, in the order their events are emitted at a tie.
STATS_KEYS = (
    "resolved_at",
    "closed_at",
    "reopened_at",
    "pending_since",
    "status_updated_at",
    "first_responded_at",
    "agent_responded_at",
    "requester_responded_at",
)


#: A numeric code or id: an int (not a bool), its decimal text or a whole float, else None.
code = id_number


def read_stats(value: object) -> dict[str, int | None] | None:
    """The instants of a ticket's ``stats`` object (None without one)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RecordError(f"stats is {type(value).__name__}; expected an object")
    try:
        return {key: instant(value, key) for key in STATS_KEYS}
    except RecordError as exc:
        raise RecordError(f"stats.{exc}") from None


@dataclass
class Timeline:
    """A ticket's rebuilt status changes after its creation (it is ``open``
    at creation), with what the rebuild had to give up."""

    changes: list[tuple[int, int]] = field(default_factory=list)  # (instant, status code)
    #: Stats instants after the current status's start, dropped.
    dropped: int = 0
    #: Reopened, but no resolution is known before the reopen.
    lost_resolution: bool = False
    #: The current status placed at ``updated_at`` (no stats instant for it).
    at_updated: bool = False


def status_timeline(status: int, stats: Mapping[str, int | None] | None, updated: int | None) -> Timeline:
    """The status changes ``stats`` show for a ticket whose status is now
    ``status`` (see the module's docstring); ``updated`` is its ``updated_at``.

    >>> status_timeline(OPEN, {"resolved_at": 3, "reopened_at": 5}, 12).changes
    [(3, 4), (5, 2)]
    >>> status_timeline(PENDING, {"pending_since": 7}, 12).changes
    [(7, 3)]
    """
    out = Timeline()
    stats = stats or {}
    resolved, closed, reopened = stats.get("resolved_at"), stats.get("closed_at"), stats.get("reopened_at")
    specific = {OPEN: reopened, PENDING: stats.get("pending_since"), RESOLVED: resolved, CLOSED: closed}
    start = specific.get(status)
    if start is None:
        start = stats.get("status_updated_at")
    candidates = [
        (at, s) for at, s in ((resolved, RESOLVED), (closed, CLOSED), (reopened, OPEN)) if at is not None
    ]
    candidates.sort(key=lambda change: change[0])  # stable: resolved, closed, reopened at a tie
    if start is not None:
        kept = [change for change in candidates if change[0] <= start]
        out.dropped = len(candidates) - len(kept)
        kept.append((start, status))
    else:
        kept = candidates
        last = kept[-1][1] if kept else OPEN
        if last != status and updated is not None:
            kept.append((updated, status))
            out.at_updated = True
    current = OPEN
    for at, s in kept:
        if s != current:
            out.changes.append((at, s))
            current = s
    if reopened is not None:
        out.lost_resolution = not any(at < reopened and s in (RESOLVED, CLOSED) for at, s in out.changes)
    return out
