"""Incremental evaluation for products that embed the engine.

A :class:`Tracker` follows one ticket: feed it events as they happen, ask for
a snapshot at any ``now``, ask when to wake up next, and store its state as
JSON between requests.  A snapshot always equals the batch evaluation of the
same events (:func:`sla.engine.batch.evaluate_ticket`).

>>> from sla import load_policies
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> tracker = Tracker(policies, "T1")
>>> tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
>>> tracker.next_change("2026-03-02T08:10:00Z").isoformat()
'2026-03-02T09:00:00+00:00'
>>> tracker.snapshot("2026-03-02T08:10:00Z")[0].state
'running'
>>> same = Tracker.from_json(policies, tracker.to_json())
>>> same.snapshot("2026-03-02T09:30:00Z")[0].state
'breached'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sla.engine.batch import as_us, new_clock
from sla.engine.clock import TicketClock
from sla.engine.events import CREATED, Event, parse_event
from sla.engine.judge import RUNNING, CycleResult, judge_ticket
from sla.errors import EventError, SlaError, check_argument
from sla.policy.compile import PolicySet
from sla.timefmt import from_us

STATE_VERSION = 1


class Tracker:
    """One ticket's clocks, updated one event at a time."""

    def __init__(self, policies: PolicySet, ticket_id: str):
        check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
        check_argument("ticket_id", ticket_id, str, "a string")
        self.policies = policies
        self.ticket_id = ticket_id
        self.clock: TicketClock = new_clock(policies)
        self._seq = 0

    def feed(self, event: Mapping[str, object] | Event) -> None:
        """Apply the next event (a JSONL-style dict or an :class:`Event`), in time order.

        Raises :class:`~sla.errors.EventError` for a malformed event, a second
        ``created``, an event before ``created`` or out of time order.
        """
        if not isinstance(event, Event):
            check_argument("event", event, Mapping, "a dict as in the JSONL format, or an sla Event")
            try:
                event = parse_event(event, self._seq)
            except EventError as exc:
                raise EventError(exc.reason, None, self.ticket_id) from None
        clock = self.clock
        if event.kind == CREATED and clock.created_at is not None:
            raise EventError("the ticket already has a created event", None, self.ticket_id)
        if clock.created_at is None and event.kind != CREATED:
            raise EventError(f"{event.type} event before the ticket's created event", None, self.ticket_id)
        if clock.last_at is not None and event.at < clock.last_at:
            raise EventError(
                "events must be fed in time order (this one is earlier than the last)", None, self.ticket_id
            )
        self._seq += 1
        clock.feed(event)

    def snapshot(self, now: datetime | str | int, with_warnings: bool = True) -> list[CycleResult]:
        """Every cycle judged at ``now`` (not earlier than the last event fed)."""
        now_us = as_us(now)
        clock = self.clock
        if clock.created_at is None or now_us < clock.created_at:
            return []
        if clock.last_at is not None and now_us < clock.last_at:
            raise SlaError(
                "snapshot(now) needs now at or after the last event fed; replay the events for an earlier now"
            )
        return judge_ticket(self.ticket_id, clock, self.policies, now_us, with_warnings)

    def next_change(self, now: datetime | str | int) -> datetime | None:
        """The next instant after ``now`` at which a cycle reaches its target
        (it is breached from the next microsecond) or a warning, with no new
        event; None when nothing is pending (schedule one timer per ticket)."""
        now_us = as_us(now)
        pending = []
        for result in self.snapshot(now_us, with_warnings=True):
            if result.ended_at is not None or result.state != RUNNING:
                continue
            if result.due_at is not None and result.due_at >= now_us:
                pending.append(result.due_at)
            pending += [instant for _, instant in result.warnings if instant > now_us]
        return from_us(min(pending)) if pending else None

    def to_json(self) -> dict[str, object]:
        """The tracker's state as JSON-ready data (store it with the ticket)."""
        return {
            "version": STATE_VERSION,
            "ticket_id": self.ticket_id,
            "seq": self._seq,
            "clock": self.clock.to_json(),
        }

    @classmethod
    def from_json(cls, policies: PolicySet, data: Mapping[str, Any]) -> Tracker:
        """Restore a tracker saved by :meth:`to_json` (with the same policy file)."""
        check_argument("data", data, Mapping, "the dict that Tracker.to_json returned")
        if data.get("version") != STATE_VERSION:
            raise SlaError(f"unknown tracker state version {data.get('version')!r}; expected {STATE_VERSION}")
        tracker = cls(policies, data.get("ticket_id"))  # type: ignore[arg-type]  # checked there
        try:
            tracker.clock = TicketClock.from_json(
                data["clock"],
                [policies.metrics[m] for m in policies.active_metrics],
                policies.done_statuses,
                policies.derive,
            )
            tracker._seq = int(data["seq"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SlaError(
                f"tracker state is damaged ({type(exc).__name__}: {exc}); store what to_json returned, "
                "with the policy file it was made with"
            ) from None
        return tracker
