"""Events: validating records into compact typed events, grouped per
ticket (the event format is in docs/events.md; decoding JSON Lines into
records is :mod:`sla.engine.jsonl`).

A ticket with any malformed event, no ``created``, two of them, or an event
before its creation is rejected whole; the reason names the line.
"""

from __future__ import annotations

import reprlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sla.errors import EventError, TimestampError
from sla.timefmt import EPOCH as _EPOCH
from sla.timefmt import MAX_US, MIN_US, parse_instant, to_us

_fromisoformat = datetime.fromisoformat
_ONE_US = timedelta(microseconds=1)

CREATED, MESSAGE, STATUS, UPDATE, CSAT = 0, 1, 2, 3, 4
TYPE_CODES = {"created": CREATED, "message": MESSAGE, "status": STATUS, "update": UPDATE, "csat": CSAT}
TYPE_NAMES = {code: name for name, code in TYPE_CODES.items()}
AUTHORS = frozenset({"customer", "agent", "bot"})

#: A CSAT score must be a finite number no larger than this in magnitude
#: (scores in the wild are 1-5, 0-10 or 0-100); the mean can then never overflow.
MAX_SCORE = 1e6
#: The largest finite float: ``time_spent`` is a finite number from 0 to this.
_MAX_FLOAT = sys.float_info.max

_shower = reprlib.Repr()
_shower.maxstring = _shower.maxother = 60
_shower.maxlevel = 3
_shower.maxlist = _shower.maxtuple = _shower.maxdict = _shower.maxset = 6


def shown(value: object) -> str:
    """A value as quoted in a message: escaped like ``repr``, and short (a
    long string or a big object is cut with an ellipsis)."""
    try:
        return _shower.repr(value)
    except Exception:  # a user object whose repr fails (API input)
        return f"<{type(value).__name__}>"


@dataclass(slots=True)
class Event:
    """One validated event; ``seq`` is its input order, ``line`` its 1-based line."""

    at: int
    kind: int
    seq: int = 0
    line: int | None = None
    fields: dict[str, object] | None = None
    status: str | None = None
    author: str | None = None
    public: bool = True
    score: float | None = None
    #: Seconds of agent work logged on the event (any type), ``None`` when absent.
    time_spent: float | None = None
    #: A message's sentiment score in [-1, 1], ``None`` when absent.
    sentiment: float | None = None

    def sort_key(self) -> tuple[int, int, int]:
        return (self.at, 0 if self.kind == CREATED else 1, self.seq)

    @property
    def type(self) -> str:
        return TYPE_NAMES[self.kind]


def ticket_key(value: object) -> str | None:
    """The ticket id as a string (an integer as its decimal string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def parse_event(record: Mapping[str, object], seq: int = 0, line: int | None = None) -> Event:
    """Validate one event mapping (its ``ticket_id`` is checked by the caller)."""
    kind_name = record.get("type")
    kind = TYPE_CODES.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise EventError(
            f"type is {shown(kind_name)}; expected one of created, message, status, update, csat"
        )
    if "at" not in record:
        raise EventError("at is missing; every event needs a timestamp like 2026-03-02T08:15:00Z")
    raw_at = record["at"]
    try:
        # The common case inline (this runs once per input line); anything
        # unusual goes through parse_instant for its checks and messages.
        moment = _fromisoformat(raw_at)  # type: ignore[arg-type]
        if moment.tzinfo is None:
            raise ValueError
        at = (moment - _EPOCH) // _ONE_US
        if not MIN_US <= at <= MAX_US:
            raise ValueError  # parse_instant below names the supported range
    except (TypeError, ValueError):
        try:
            # Columnar sources (Arrow, Parquet) hand over datetimes, not text.
            at = to_us(raw_at) if isinstance(raw_at, datetime) else parse_instant(raw_at)
        except TimestampError as exc:
            raise EventError(f"at: {exc}") from None
    event = Event(at, kind, seq, line)
    if kind in (CREATED, UPDATE):
        fields = record.get("fields")
        if not isinstance(fields, dict):
            raise EventError(
                f"{kind_name} needs fields, an object of ticket attributes (got {shown(fields)})"
            )
        event.fields = fields
        if kind == CREATED and record.get("status") is not None:  # null is the same as absent
            status = record["status"]
            if not isinstance(status, str):
                raise EventError(f"status is {shown(status)}; expected a string")
            event.status = status
    elif kind == STATUS:
        status = record.get("status")
        if not isinstance(status, str):
            raise EventError(f"a status event needs status, a string (got {shown(status)})")
        event.status = status
    elif kind == MESSAGE:
        author = record.get("author")
        try:
            if author not in AUTHORS:
                raise TypeError
        except TypeError:  # not one of them, or unhashable (a list, an object)
            raise EventError(f"author is {shown(author)}; expected customer, agent or bot") from None
        event.author = author
        public = record.get("public")
        if public is None:  # absent or null: a public message
            public = True
        if not isinstance(public, bool):
            raise EventError(f"public is {shown(public)}; expected true or false")
        event.public = public
    else:
        score = record.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise EventError(f"a csat event needs score, a number (got {shown(score)})")
        if not -MAX_SCORE <= score <= MAX_SCORE:  # also NaN, which compares false
            raise EventError(f"score is {shown(score)}; expected a finite number from -1e6 to 1e6")
        event.score = float(score)
    # The optional numbers of section 13: two key lookups when absent (the
    # common case); a plain float or int in range is taken inline, anything
    # else (null, a subclass, a bad value) goes through the checks below.
    if "time_spent" in record:
        spent = record["time_spent"]
        if type(spent) is float and 0.0 <= spent <= _MAX_FLOAT:
            event.time_spent = spent
        elif type(spent) is int and spent >= 0:
            event.time_spent = _seconds(spent)
        elif spent is not None:
            event.time_spent = _time_spent(spent)
    if "sentiment" in record:
        mood = record["sentiment"]
        if type(mood) is float and kind == MESSAGE and -1.0 <= mood <= 1.0:
            event.sentiment = mood
        elif mood is not None:
            event.sentiment = _sentiment(mood, kind, kind_name)
    return event


def _seconds(value: int) -> float:
    """A whole number of seconds (>= 0) as a float, if it has one."""
    if value > _MAX_FLOAT:
        raise EventError(
            f"time_spent is {shown(value)}; expected a finite number of seconds, 0 or more (or null)"
        )
    return float(value)


def _time_spent(value: object) -> float:
    """``time_spent`` from a record's value that is not null: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _MAX_FLOAT:
        raise EventError(  # NaN and infinity fail the range test too
            f"time_spent is {shown(value)}; expected a finite number of seconds, 0 or more (or null)"
        )
    return float(value)


def _sentiment(value: object, kind: int, kind_name: object) -> float:
    """``sentiment`` from a record's value that is not null: a finite number in
    [-1, 1], on a message only."""
    if kind != MESSAGE:
        raise EventError(
            f"sentiment is {shown(value)} on a {kind_name} event; only a message carries a "
            "sentiment score (drop it or set it to null)"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 <= value <= 1:
        raise EventError(f"sentiment is {shown(value)}; expected a finite number from -1 to 1 (or null)")
    return float(value)


@dataclass
class TicketEvents:
    """One ticket's events as read, and the first reason to reject it, if any."""

    ticket_id: str
    first_line: int
    events: list[Event] = field(default_factory=list)
    error: EventError | None = None

    def reject(self, reason: str, line: int | None) -> None:
        if self.error is None:
            self.error = EventError(reason, line, self.ticket_id)

    def finish(self) -> None:
        """Check the whole-ticket rules and sort the events in processing order."""
        if self.error is not None:
            return
        created = [e for e in self.events if e.kind == CREATED]
        if not created:
            self.reject("the ticket has no created event", self.first_line)
            return
        if len(created) > 1:
            self.reject(
                f"the ticket has {len(created)} created events (lines {', '.join(str(e.line) for e in created)}); expected exactly one",
                created[1].line,
            )
            return
        start = created[0].at
        for e in self.events:
            if e.at < start:
                self.reject(
                    f"{e.type} event before the ticket's created event (line {created[0].line})", e.line
                )
                return
        self.events.sort(key=Event.sort_key)


@dataclass
class LineError:
    """A line that names no ticket (not JSON, not an object, no usable ticket_id)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class NotGrouped(Exception):
    """A ticket's lines are not together in the input (streaming needs them to be)."""


class TicketCollector:
    """Validates records and gathers them per ticket, in order of first appearance."""

    def __init__(self) -> None:
        self.tickets: dict[str, TicketEvents] = {}
        self.line_errors: list[LineError] = []

    def add(self, number: int, record: object) -> TicketEvents | None:
        """Add one record; returns its ticket, or None for a line that names no ticket."""
        if type(record) is not dict:
            if isinstance(record, LineError):
                self.line_errors.append(record)
            elif isinstance(record, dict):
                return self.add(number, dict(record))
            else:
                self.line_errors.append(LineError(number, "not a JSON object"))
            return None
        key = record.get("ticket_id")
        if type(key) is not str:
            if "ticket_id" not in record:
                self.line_errors.append(LineError(number, "no ticket_id"))
                return None
            key = ticket_key(key)
        if key is None:
            self.line_errors.append(
                LineError(
                    number, f"ticket_id is {shown(record['ticket_id'])}; expected a string or an integer"
                )
            )
            return None
        ticket = self.tickets.get(key)
        if ticket is None:
            ticket = self.tickets[key] = TicketEvents(key, number)
        try:
            ticket.events.append(parse_event(record, len(ticket.events), number))
        except EventError as exc:
            ticket.reject(exc.reason, number)
        return ticket


def collect_all(records: Iterable[tuple[int, object]]) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """Every ticket of the input in memory, finished, in order of first appearance."""
    collector = TicketCollector()
    add = collector.add
    for number, record in records:
        add(number, record)
    for ticket in collector.tickets.values():
        ticket.finish()
    return collector.tickets, collector.line_errors


def stream_grouped(
    records: Iterable[tuple[int, object]], line_errors: list[LineError]
) -> Iterator[TicketEvents]:
    """Finished tickets one at a time, for input whose tickets' lines are together.

    Memory stays bounded by one ticket.  Raises :class:`NotGrouped` as soon as a
    ticket reappears after another one started.
    """
    collector = TicketCollector()
    collector.line_errors = line_errors
    seen: set[str] = set()
    current: TicketEvents | None = None
    for number, record in records:
        ticket = collector.add(number, record)
        if ticket is None or ticket is current:
            continue
        if current is not None:
            del collector.tickets[current.ticket_id]
            current.finish()
            yield current
        if ticket.ticket_id in seen:
            raise NotGrouped(f"line {number}: ticket {ticket.ticket_id} appears again after other tickets")
        seen.add(ticket.ticket_id)
        current = ticket
    if current is not None:
        current.finish()
        yield current


def events_from_dicts(
    records: Iterable[Mapping[str, object] | Event], ticket_id: str | None = None
) -> TicketEvents:
    """Validate one ticket's events given as dicts (``ticket_id`` optional in
    them) or as typed :class:`Event` objects (taken as they are)."""
    ticket = TicketEvents(ticket_id or "", 1)
    for number, record in enumerate(records, 1):
        if isinstance(record, Event):
            event = Event(
                record.at,
                record.kind,
                number - 1,
                record.line if record.line is not None else number,
                record.fields,
                record.status,
                record.author,
                record.public,
                record.score,
                record.time_spent,
                record.sentiment,
            )
            ticket.events.append(event)
            continue
        given: object = record  # untyped callers pass anything
        if not isinstance(given, Mapping):
            ticket.reject(f"an event must be a dict as in the JSONL format, got {shown(given)}", number)
            continue
        if ticket_id is None and "ticket_id" in record:
            ticket.ticket_id = ticket_key(record["ticket_id"]) or ""
        try:
            ticket.events.append(parse_event(record, number - 1, number))
        except EventError as exc:
            ticket.reject(exc.reason, number)
    ticket.finish()
    return ticket


class EventRange:
    """The earliest and latest event instant of the tickets it has seen
    (``None`` before the first): what a run's outputs name as its data range.

    >>> bounds = EventRange()
    >>> bounds.merge(5, 9); bounds.merge(2, 7); (bounds.first, bounds.last)
    (2, 9)
    """

    __slots__ = ("first", "last")

    def __init__(self, first: int | None = None, last: int | None = None):
        self.first, self.last = first, last

    def see(self, ticket: TicketEvents) -> None:
        events = ticket.events
        if events:  # in processing order: the first and the last are the extremes
            first, last = events[0].at, events[-1].at
            if self.first is None or first < self.first:
                self.first = first
            if self.last is None or last > self.last:
                self.last = last

    def merge(self, first: int | None, last: int | None) -> None:
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last
