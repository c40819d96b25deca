"""``POST /v1/events``: reading the body, checking each event, applying the
accepted ones to their tickets and storing everything in one transaction.

A ticket's state is a :class:`sla.Tracker` fed with its accepted events in
processing order (time, ``created`` first at one instant, then acceptance
order), which is what ``sla evaluate`` does with the same events.  An event
that arrives in time order is fed to the stored tracker; one that arrives
late (earlier than the ticket's last event), or a ``created`` that arrives
after other events of its ticket, makes the ticket replay its stored events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sla import EventError, StateError, Tracker
from sla.engine.jsonl import loads_slowly, loads_value
from sla.errors import SlaError
from sla.policy.runtime import PolicySet
from sla.service import store
from sla.service.alerts import plan_alerts
from sla.service.db import Connection
from sla.timefmt import format_instant, to_us

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")


class BodyError(SlaError):
    """A request body that is not JSON (answered 400; nothing is stored)."""


@dataclass(frozen=True)
class Rejection:
    """A rejected event: its position in the body, its ticket, why."""

    index: int
    ticket_id: str | None
    error: str


@dataclass
class Outcome:
    """What a POST did: the answer's counts, and which tickets changed."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    tickets: int = 0


def parse_body(body: bytes, content_type: str) -> list[object]:
    """The events of a body: a JSON array (any other JSON value is a body of
    one event, checked like any event) or JSON Lines, whose blank lines are
    skipped.  Values are read as ``sla evaluate`` reads them (an integer
    ``ticket_id`` beyond 64 bits keeps its digits).  Raises
    :class:`BodyError` when the body is not JSON or a line of it is not."""
    media = content_type.split(";", 1)[0].strip().lower()
    as_json: ValueError | None = None  # why the whole body is not JSON, if it was read as JSON
    if media not in NDJSON_TYPES:
        try:
            data = loads_value(body)
        except ValueError as exc:
            if len([line for line in body.splitlines() if line.strip()]) < 2:
                raise BodyError(f"the body is not JSON: {exc}") from None
            as_json = exc
        else:
            if not isinstance(data, list):
                return [_exact_event(data, body)]
            if any(isinstance(item, dict) and type(item.get("ticket_id")) is float for item in data):
                return _exact_array(body)
            return data
    events: list[object] = []
    for number, line in enumerate(body.splitlines(), 1):
        if line.strip():
            try:
                events.append(_exact_event(loads_value(line), line))
            except ValueError as exc:
                if as_json is not None and body.lstrip()[:1] == b"[":
                    # A pretty-printed array with an error, not JSON Lines: its own error.
                    raise BodyError(f"the body is not JSON: {as_json}") from None
                raise BodyError(f"line {number} of the JSON Lines body is not JSON: {exc}") from None
    return events


def _exact_event(value: object, raw: bytes) -> object:
    """``value`` read from ``raw``, again by the exact reader when orjson
    made its ``ticket_id`` (an integer beyond 64 bits) a float, as
    ``sla evaluate`` does."""
    if isinstance(value, dict) and type(value.get("ticket_id")) is float:
        return loads_slowly(raw)
    return value


class _Digits(str):
    """An integer beyond 64 bits (what orjson reads as a float)."""


def _int(digits: str) -> object:
    value = int(digits)
    return value if -(1 << 63) <= value < (1 << 64) else _Digits(digits)


def _exact_array(body: bytes) -> list[object]:
    """A JSON array of events read exactly (orjson read it first, so it is
    valid JSON): each event's integer ``ticket_id`` keeps its digits (as a
    string: it is a name, not a quantity), and any
    other integer beyond 64 bits is a float, as ``sla evaluate`` reads a line."""
    data = json.loads(body, parse_int=_int)
    assert isinstance(data, list)
    stack: list[object] = []
    for item in data:
        if isinstance(item, dict) and type(item.get("ticket_id")) is _Digits:
            item["ticket_id"] = str(item["ticket_id"])  # its digits, as sla evaluate keeps them
        stack.append(item)
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in list(pairs):
            if type(child) is _Digits:
                node[key] = float(child)  # type: ignore[index]
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return data


def _ticket_key(value: object) -> str | None:
    # As section 3 of the event format has it: a string, or an integer as its decimal string.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _too_deep(value: object, limit: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` deep
    (level by level: an event is a few levels, so this is a few loops)."""
    level: list[object] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[object] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:  # type: ignore[attr-defined]
                if isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return False


def lock_key(ticket_id: str) -> int:
    """The PostgreSQL advisory lock key of a ticket (a signed 64-bit hash)."""
    return int.from_bytes(
        hashlib.blake2b(ticket_id.encode("utf-8"), digest_size=8).digest(), "big", signed=True
    )


def _at_us(tracker: Tracker) -> int:
    last = tracker.last_event_at
    assert last is not None
    return to_us(last)


class _Ticket:
    """One ticket during a request: what is stored, and what this request adds."""

    def __init__(self, policies: PolicySet, ticket_id: str, row: store.TicketRow | None):
        self.policies = policies
        self.ticket_id = ticket_id
        self.stored = 0 if row is None else row.events
        self.first_at = None if row is None else row.first_at_us
        self.created_at = None if row is None else row.created_at_us
        self.last_at = None if row is None else row.last_at_us
        self.tracker: Tracker | None = None
        self.replay = False
        self.new: list[store.NewEvent] = []
        if row is not None and row.state is not None:
            try:
                self.tracker = Tracker.from_json(policies, orjson.loads(row.state))
            except StateError:
                self.replay = True  # made under other clock rules: rebuilt from the events

    def _alone(self, event: Mapping[str, object], created: bool) -> tuple[int, Tracker]:
        """Check an event on its own (a scratch tracker): its instant, and
        the tracker (fed with it alone, for a ``created``)."""
        scratch = Tracker(self.policies, self.ticket_id)
        if not created:
            scratch.feed({"type": "created", "at": event.get("at"), "fields": {}})
        scratch.feed(event)
        return _at_us(scratch), scratch

    def apply(self, event: dict[str, Any]) -> tuple[int, bool]:
        """Accept ``event`` into the ticket: its instant and whether it is
        the ``created``; an :class:`EventError` rejects it, changing nothing."""
        created = event.get("type") == "created"
        tracker = self.tracker
        if tracker is not None and not self.replay and not created:
            try:
                tracker.feed(event)  # the common case: the next event in time
                at = self.last_at = _at_us(tracker)
                return at, False
            except EventError as exc:
                at, _ = self._alone(event, False)
                assert self.last_at is not None
                if at >= self.last_at:
                    raise exc from None
                self._check_after_created(event, at)
                self.replay = True  # a late event: replayed in its place
                return at, False
        at, scratch = self._alone(event, created)
        if created:
            if self.created_at is not None:
                raise EventError(
                    f"the ticket already has a created event (at {format_instant(self.created_at)}); "
                    "a ticket has exactly one"
                )
            if self.first_at is not None and self.first_at < at:
                raise EventError(
                    f"the ticket already has an event at {format_instant(self.first_at)}, before this "
                    f"created event at {format_instant(at)}; no event of a ticket may come before its created"
                )
            self.created_at = at
            if self.stored or self.new:
                self.replay = True
            else:
                self.tracker = scratch  # fed with this created alone: the ticket's tracker
                self.last_at = at
        else:
            self._check_after_created(event, at)
            if self.created_at is not None:
                self.replay = True
        return at, created

    def _check_after_created(self, event: Mapping[str, object], at: int) -> None:
        if self.created_at is not None and at < self.created_at:
            raise EventError(
                f"{event.get('type')} event at {format_instant(at)} is before the ticket's created event "
                f"at {format_instant(self.created_at)}"
            )

    def accepted(self, event: dict[str, Any], event_id: str | None, at: int, created: bool) -> None:
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.new.append(store.NewEvent(self.ticket_id, event_id, at, created, orjson.dumps(event)))

    def _processing_order(self, stored: list[store.StoredEvent]) -> list[tuple[int, bool, int, Any]]:
        """The stored events and this request's, in processing order: time,
        ``created`` first at one instant, then acceptance order."""
        order = [(e.at_us, not e.created, e.seq, e.body) for e in stored]
        base = (stored[-1].seq + 1) if stored else 0
        order += [(e.at_us, not e.created, base + i, orjson.loads(e.body)) for i, e in enumerate(self.new)]
        order.sort(key=lambda item: item[:3])
        return order

    def rebuild(self, stored: list[store.StoredEvent]) -> None:
        """Replay every accepted event, in processing order, into a new tracker."""
        tracker = Tracker(self.policies, self.ticket_id)
        for _, _, _, body in self._processing_order(stored):
            tracker.feed(body)
        self.tracker = tracker
        self.last_at = _at_us(tracker)

    def needs_history(self, now_us: int) -> bool:
        """Whether :meth:`update` needs the stored events: to replay them, or
        to plan alerts over those up to ``now_us`` when some come after."""
        if self.created_at is None:
            return False
        return self.replay or (self.last_at is not None and self.last_at > now_us)

    def update(
        self, now_us: int, history: list[store.StoredEvent] | None = None
    ) -> tuple[store.TicketUpdate, list[store.PlannedRow]]:
        """The ticket's new stored state, and its alerts planned at
        ``now_us`` (``history``: its stored events, given when
        :meth:`needs_history` says so)."""
        assert self.first_at is not None
        tracker = self.tracker
        due, open_cycles, planned = None, 0, []
        state, replan = None, None
        if tracker is not None and self.created_at is not None:
            assert self.last_at is not None
            results = tracker.snapshot(max(now_us, self.last_at), with_warnings=True)
            for r in results:
                if r.ended_at is None:
                    open_cycles += 1
                    if r.due_at is not None and (due is None or r.due_at < due):
                        due = r.due_at
            if self.last_at > now_us:
                # An alert fires when the clock passes an instant at which the
                # cycle, over the events so far, is open: events after now
                # do not count yet.  The alerts before the first of them are
                # planned from the state at now; the rest when the clock
                # passes it (the scheduler plans the ticket again then).
                assert history is not None
                order = self._processing_order(history)
                replan = min(at for at, _, _, _ in order if at > now_us)
                earlier = [body for at, _, _, body in order if at <= now_us]
                if self.created_at <= now_us:
                    at_now = Tracker(self.policies, self.ticket_id)
                    for body in earlier:
                        at_now.feed(body)
                    results = at_now.snapshot(now_us, with_warnings=True)
                    planned = [
                        (p.id, p.ticket_id, p.at_us, p.body) for p in plan_alerts(results) if p.at_us < replan
                    ]
            else:
                planned = [(p.id, p.ticket_id, p.at_us, p.body) for p in plan_alerts(results)]
            state = orjson.dumps(tracker.to_json()).decode("utf-8")
        update = store.TicketUpdate(
            self.ticket_id,
            self.first_at,
            self.created_at,
            self.last_at if self.created_at is not None else None,
            state,
            due,
            open_cycles,
            self.stored + len(self.new),
            replan,
        )
        return update, planned


def _json_kind(value: object) -> str:
    """What a JSON value is, in JSON's words.

    >>> [_json_kind(v) for v in (None, True, 4, 1.5, "x", [])]
    ['null', 'a boolean', 'a number', 'a number', 'a string', 'an array']
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _id_problem(name: str, value: str) -> str | None:
    """Why an id cannot be stored, None when it can: PostgreSQL's text
    cannot hold a NUL character (refused on SQLite too, so that both
    databases accept the same events)."""
    if "\x00" in value:
        return f"{name}: holds a NUL character (\\u0000), which the database cannot store; remove it"
    return None


def ingest(
    conn: Connection,
    policies: PolicySet,
    items: Sequence[object],
    clock: Callable[[], int] | int,
    webhooks: Sequence[str],
    max_depth: int,
) -> Outcome:
    """Check and apply a request's events, in body order, and store the
    accepted ones with their tickets' new state and alerts (``conn`` is in
    the request's transaction).  ``clock`` (or a fixed instant) is read once
    the request's tickets are locked: alerts are planned at an instant no
    other request on these tickets has passed meanwhile."""
    outcome = Outcome()
    checked: list[tuple[int, dict[str, Any], str, str | None]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            outcome.rejected.append(
                Rejection(index, None, f"an event is a JSON object, got {_json_kind(item)}")
            )
            continue
        ticket_id = _ticket_key(item.get("ticket_id"))
        if ticket_id is None:
            reason = (
                "ticket_id is missing"
                if "ticket_id" not in item
                else f"ticket_id is {orjson.dumps(item['ticket_id']).decode()[:80]}; expected a string or an integer"
            )
            outcome.rejected.append(Rejection(index, None, reason))
            continue
        problem = _id_problem("ticket_id", ticket_id)
        if problem is not None:
            outcome.rejected.append(Rejection(index, None, problem))
            continue
        raw_id = item.get("id")
        event_id = _ticket_key(raw_id) if raw_id is not None else None
        if raw_id is not None and (event_id is None or not event_id or len(event_id) > 200):
            outcome.rejected.append(
                Rejection(
                    index, ticket_id, "id: expected a non-empty string (at most 200 characters) or an integer"
                )
            )
            continue
        problem = None if event_id is None else _id_problem("id", event_id)
        if problem is not None:
            outcome.rejected.append(Rejection(index, ticket_id, problem))
            continue
        if _too_deep(item, max_depth):
            outcome.rejected.append(
                Rejection(index, ticket_id, f"the event nests deeper than {max_depth} levels")
            )
            continue
        checked.append((index, item, ticket_id, event_id))

    ticket_ids = list(dict.fromkeys(ticket_id for _, _, ticket_id, _ in checked))
    store.lock_tickets(conn, [lock_key(t) for t in ticket_ids])
    now_us = clock if isinstance(clock, int) else clock()
    seen = store.stored_ids(conn, [e for _, _, _, e in checked if e is not None])
    rows = store.tickets(conn, ticket_ids)
    work = {t: _Ticket(policies, t, rows.get(t)) for t in ticket_ids}
    for index, event, ticket_id, event_id in checked:
        if event_id is not None and event_id in seen:
            outcome.duplicates += 1
            continue
        ticket = work[ticket_id]
        try:
            at, created = ticket.apply(event)
        except EventError as exc:
            outcome.rejected.append(Rejection(index, ticket_id, exc.reason))
            continue
        ticket.accepted(event, event_id, at, created)
        if event_id is not None:
            seen.add(event_id)
        outcome.accepted += 1

    outcome.rejected.sort(key=lambda r: r.index)
    changed = [t for t in work.values() if t.new]
    outcome.tickets = len(changed)
    if not changed:
        return outcome
    _plan(conn, changed, now_us, webhooks)
    return outcome


def _plan(conn: Connection, work: Sequence[_Ticket], now_us: int, webhooks: Sequence[str]) -> None:
    """Store ``work``'s new events, state and alerts planned at ``now_us``."""
    replayed = [t for t in work if t.replay and t.created_at is not None]
    history = store.events_of(conn, [t.ticket_id for t in replayed]) if replayed else {}
    for t in replayed:
        t.rebuild(history[t.ticket_id])
    later = [t.ticket_id for t in work if t.needs_history(now_us) and t.ticket_id not in history]
    if later:
        history.update(store.events_of(conn, later))
    new = [e for t in work for e in t.new]
    if new:
        store.insert_events(conn, new)
    updates, planned = [], []
    for t in work:
        update, alerts = t.update(now_us, history.get(t.ticket_id))
        updates.append(update)
        planned += alerts
    store.save_tickets(conn, updates)
    store.replace_alerts(conn, [t.ticket_id for t in work], planned, webhooks or [""], now_us)


def reevaluate(
    conn: Connection, policies: PolicySet, ticket_ids: Sequence[str], now_us: int, webhooks: Sequence[str]
) -> int:
    """Judge ``ticket_ids`` again under ``policies`` (after the policy file
    changed, or when the clock passed an event their alerts were planned
    before) and recompute their pending alerts; how many were created."""
    store.lock_tickets(conn, [lock_key(t) for t in ticket_ids])
    rows = store.tickets(conn, ticket_ids)
    work = [_Ticket(policies, t, rows[t]) for t in ticket_ids if t in rows]
    _plan(conn, work, now_us, webhooks)
    return sum(1 for t in work if t.created_at is not None)
