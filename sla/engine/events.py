"""Events: validating records into compact typed events, grouped per
ticket (the event format is in docs/events.md; decoding JSON Lines into
records is :mod:`sla.engine.jsonl`).

A ticket with any malformed event, no ``created``, two of them, or an event
before its creation is rejected whole; the reason names the line.
"""

from __future__ import annotations

import reprlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FunctionType
from typing import Final, final

from sla.errors import EventError, TimestampError
from sla.timefmt import _FORMATTED, MAX_US, MIN_US, PLAIN_IS_FAST, parse_instant, plain_utc_us, to_us
from sla.timefmt import EPOCH as _EPOCH

# Module constants are Final: compiled, a Final constant is a C value or a
# static, where any other module name is looked up in the module's dict on
# every use.
_fromisoformat: Final = datetime.fromisoformat
_ONE_US: Final = timedelta(microseconds=1)

CREATED: Final = 0
MESSAGE: Final = 1
STATUS: Final = 2
UPDATE: Final = 3
CSAT: Final = 4
TYPE_CODES: Final = {"created": CREATED, "message": MESSAGE, "status": STATUS, "update": UPDATE, "csat": CSAT}
TYPE_NAMES: Final = {code: name for name, code in TYPE_CODES.items()}
AUTHORS: Final = frozenset({"customer", "agent", "bot"})
#: Each author by its name (a str subclass's name gives the plain str).
_AUTHOR_NAMES: Final = {name: name for name in AUTHORS}

#: A CSAT score must be a finite number no larger than this in magnitude
#: (scores in the wild are 1-5, 0-10 or 0-100); the mean can then never overflow.
MAX_SCORE: Final = 1e6
#: The largest finite float: ``time_spent`` is a finite number from 0 to this.
_MAX_FLOAT: Final = sys.float_info.max

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


_EVENT_FIELDS = (
    "at",
    "kind",
    "seq",
    "line",
    "fields",
    "status",
    "author",
    "public",
    "score",
    "time_spent",
    "sentiment",
)


@final
class Event:
    """One validated event; ``seq`` is its input order, ``line`` its 1-based line.

    A slotted record with a plain ``__init__`` (it is built once per input
    line): equal to another event with equal fields, shown as its fields.

    >>> Event(60, MESSAGE, author="agent")
    Event(at=60, kind=1, seq=0, line=None, fields=None, status=None, author='agent', public=True, score=None, time_spent=None, sentiment=None)
    """

    __slots__ = _EVENT_FIELDS

    def __init__(
        self,
        at: int,
        kind: int,
        seq: int = 0,
        line: int | None = None,
        fields: dict[str, object] | None = None,
        status: str | None = None,
        author: str | None = None,
        public: bool = True,
        score: float | None = None,
        time_spent: float | None = None,
        sentiment: float | None = None,
    ) -> None:
        self.at = at
        self.kind = kind
        self.seq = seq
        self.line = line
        self.fields = fields
        self.status = status
        self.author = author
        self.public = public
        self.score = score
        #: Seconds of agent work logged on the event (any type), ``None`` when absent.
        self.time_spent = time_spent
        #: A message's sentiment score in [-1, 1], ``None`` when absent.
        self.sentiment = sentiment

    def _values(self) -> tuple[object, ...]:
        return (
            self.at,
            self.kind,
            self.seq,
            self.line,
            self.fields,
            self.status,
            self.author,
            self.public,
            self.score,
            self.time_spent,
            self.sentiment,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(_EVENT_FIELDS, self._values(), strict=True)
        )
        return f"Event({shown})"

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


def parse_event(
    record: dict[str, object], seq: int = 0, line: int | None = None, keep_text: bool = True
) -> Event:
    """Validate one event record (its ``ticket_id`` is checked by the caller).

    ``keep_text``: put the text of an ``at`` in the output form in the
    formatter's cache, for rows naming its instant (a run that writes no
    rows, ``sla report``, passes False and skips that store: about 3,000
    instructions a ticket, 1.7% of a compiled report).

    A ``dict``, not any mapping: compiled, its look-ups are then direct
    dictionary reads rather than method calls (callers holding another
    mapping pass ``dict(record)``)."""
    # Subscripts, not get(): interpreted, a dict subscript is a specialised
    # instruction where get() is a method call; a miss (rare) raises.
    if PLAIN_IS_FAST:
        kind = _kind_by_name(record.get("type"))
    else:
        try:
            kind = TYPE_CODES[record["type"]]  # type: ignore[index]
        except (KeyError, TypeError):  # absent, unknown, unhashable
            kind = _kind_of(record.get("type"))
    try:
        raw_at = record["at"]
    except KeyError:
        raw_at = _ABSENT
    # The text of the last timestamp read in the output form is not parsed
    # again: a ticket's events often share an instant, one after the other
    # (a reply and its status change); earlier texts rarely come back.  (Only
    # text equals it: a datetime, a number or null compares unequal.)
    last = _LAST_READ.pair
    if raw_at == last[0]:
        at = last[1]
    else:
        output_form: str | None  # raw_at, when it is text in the output form
        if PLAIN_IS_FAST:
            # Compiled: the output form read digit by digit (what the general
            # path gives, in a fraction of its time).
            if type(raw_at) is str and MIN_US <= (plain := plain_utc_us(raw_at)) <= MAX_US:
                at, output_form = plain, raw_at
            else:
                at, output_form = _instant_of(raw_at)
        else:
            try:
                # Interpreted: the output form, its date, its hour and minute
                # and its second each seen before (kept by _instant_of):
                # three look-ups, not the parse and the timedelta arithmetic.
                # The texts kept were read as the output form, so any text
                # made of one of each is one too; anything else misses
                # (a slice of a datetime or a number raises TypeError).
                at = _DAYS[raw_at[:11]] + _MINUTES[raw_at[11:16]] + _SECONDS[raw_at[16:]]  # type: ignore[index]
                output_form = raw_at  # type: ignore[assignment]
            except (KeyError, TypeError):
                at, output_form = _instant_of(raw_at)
        if output_form is not None:
            # Kept both ways (inline: interpreted, a call here costs): its
            # instant for the next event with this text, as one pair replaced
            # whole; its text for the rows naming the instant (the formatter's
            # cache, keyed by instant, small, starting over when full), unless
            # the run writes no rows.
            if keep_text:
                if len(_FORMATTED) > 4096:
                    _FORMATTED.clear()
                _FORMATTED[at] = output_form
            _LAST_READ.pair = (output_form, at)
    fields: dict[str, object] | None = None
    status: str | None = None
    author: str | None = None
    public = True
    score: float | None = None
    if kind == MESSAGE:
        if PLAIN_IS_FAST:
            author = _author_by_name(record.get("author"))
            if author is None:
                raise _no_author(record)
        else:
            try:
                author = _AUTHOR_NAMES[record["author"]]  # type: ignore[index]
            except (KeyError, TypeError):  # absent, unknown, unhashable
                raise _no_author(record) from None
        if "public" in record:
            given = record["public"]
            if given is not None:  # absent or null: a public message
                if not isinstance(given, bool):
                    raise EventError(f"public is {shown(given)}; expected true or false")
                public = given
    elif kind == STATUS:
        try:
            given = record["status"]
        except KeyError:
            given = None
        if not isinstance(given, str):
            raise EventError(f"a status event needs status, a string (got {shown(given)})")
        status = given
    elif kind in (CREATED, UPDATE):
        try:
            given = record["fields"]
        except KeyError:
            given = None
        if not isinstance(given, dict):
            raise EventError(
                f"{TYPE_NAMES[kind]} needs fields, an object of ticket attributes (got {shown(given)})"
            )
        fields = given
        if kind == CREATED:
            given = record.get("status")
            if given is not None:  # null is the same as absent
                if not isinstance(given, str):
                    raise EventError(f"status is {shown(given)}; expected a string")
                status = given
    else:
        given = record.get("score")
        if isinstance(given, bool) or not isinstance(given, (int, float)):
            raise EventError(f"a csat event needs score, a number (got {shown(given)})")
        if not -MAX_SCORE <= given <= MAX_SCORE:  # also NaN, which compares false
            raise EventError(f"score is {shown(given)}; expected a finite number from -1e6 to 1e6")
        score = float(given)
    if _EVENT_INIT_IS_NATIVE:
        event = Event(at, kind, seq, line, fields, status, author, public, score)
    else:
        # Interpreted, the fields set here rather than by a call of
        # Event.__init__ (measured: 40% less per event made; compiled, the
        # constructor is a native call and the cheaper way).
        event = _new_object(Event)
        event.at = at
        event.kind = kind
        event.seq = seq
        event.line = line
        event.fields = fields
        event.status = status
        event.author = author
        event.public = public
        event.score = score
        event.time_spent = None
        event.sentiment = None
    # The optional numbers of section 13: two key lookups when absent (the
    # common case); a plain float or int in range is taken inline, anything
    # else (null, a subclass, a bad value) goes through the checks below.
    if "time_spent" in record:
        spent = record["time_spent"]
        if type(spent) is float and 0.0 <= spent <= _MAX_FLOAT:
            event.time_spent = spent
        elif type(spent) is int and 0 <= spent <= _MAX_FLOAT:
            event.time_spent = float(spent)
        elif spent is not None:
            event.time_spent = _time_spent(spent)
    if "sentiment" in record:
        mood = record["sentiment"]
        if type(mood) is float and kind == MESSAGE and -1.0 <= mood <= 1.0:
            event.sentiment = mood
        elif mood is not None:
            event.sentiment = _sentiment(mood, kind, TYPE_NAMES[kind])
    return event


_ABSENT: Final = object()
#: An object of a class, made without running its ``__init__``.
_new_object: Final = object.__new__
#: Whether Event's constructor runs compiled (see parse_event).
_EVENT_INIT_IS_NATIVE: Final = not isinstance(parse_event, FunctionType)
_DAY: Final = 86_400_000_000
_MINUTE: Final = 60_000_000
#: The instant of a date's midnight (UTC) by its text as the output form
#: begins (``2026-03-02T``), and the microseconds of an hour and minute
#: (``08:15``) and of a second (``:00Z``, 60 at most) by theirs, as it
#: goes on: interpreted only, see parse_event.
_DAYS: Final[dict[str, int]] = {}
_MINUTES: Final[dict[str, int]] = {}
_SECONDS: Final[dict[str, int]] = {}


# Compiled, an event's type and author are told by comparing the text with
# each name, the most frequent first (a native comparison of lengths and
# bytes each): a look-up in TYPE_CODES or _AUTHOR_NAMES hashes the text
# first, and orjson's strings come without their hash (measured: 2.9 k
# instructions a ticket fewer in the bench report, 1.6%).  Interpreted, a
# comparison costs more bytecode than the look-up: parse_event looks up.
def _kind_by_name(kind_name: object) -> int:
    """The code of an event type (:data:`TYPE_CODES`), or an EventError."""
    if type(kind_name) is str:
        if kind_name == "message":
            return MESSAGE
        if kind_name == "status":
            return STATUS
        if kind_name == "update":
            return UPDATE
        if kind_name == "created":
            return CREATED
        if kind_name == "csat":
            return CSAT
    return _kind_of(kind_name)


def _author_by_name(name: object) -> str | None:
    """A message's author as the name in :data:`AUTHORS` (a str subclass's
    name gives the plain str), None for anything else."""
    if type(name) is str:
        if name == "agent":
            return "agent"
        if name == "customer":
            return "customer"
        if name == "bot":
            return "bot"
        return None
    try:
        found: str | None = _AUTHOR_NAMES.get(name)  # type: ignore[call-overload]
    except TypeError:  # unhashable
        return None
    return found


def _no_author(record: dict[str, object]) -> EventError:
    return EventError(f"author is {shown(record.get('author'))}; expected customer, agent or bot")


def _kind_of(kind_name: object) -> int:
    """The code of an event type that is no exact key of TYPE_CODES: a str
    subclass's; an EventError for anything else."""
    if isinstance(kind_name, str):
        kind = TYPE_CODES.get(str(kind_name))
        if kind is not None:
            return kind
    raise EventError(f"type is {shown(kind_name)}; expected one of created, message, status, update, csat")


def _instant_of(raw_at: object) -> tuple[int, str | None]:
    """The instant of an event's ``at`` by the general path (any ISO 8601
    text with an offset, or a datetime), and the text when it is in the
    output form (``2026-03-02T08:15:00Z``, what format_instant writes for
    whole seconds), else None; an EventError when it is no instant."""
    try:
        moment = _fromisoformat(raw_at)  # type: ignore[arg-type]
        if moment.tzinfo is None:
            raise ValueError
        at: int = (moment - _EPOCH) // _ONE_US
        if not MIN_US <= at <= MAX_US:
            raise ValueError  # parse_instant below names the supported range
    except (TypeError, ValueError):
        if raw_at is _ABSENT:
            raise EventError(
                "at is missing; every event needs a timestamp like 2026-03-02T08:15:00Z"
            ) from None
        try:
            # Columnar sources (Arrow, Parquet) hand over datetimes, not text.
            at = to_us(raw_at) if isinstance(raw_at, datetime) else parse_instant(raw_at)
        except TimestampError as exc:
            raise EventError(f"at: {exc}") from None
        return at, None
    # Characters 4, 7, 10, 13, 16 and 19 of the output form are its
    # separators and its Z; 24:00 is no output form.
    if (
        type(raw_at) is str
        and len(raw_at) == 20
        and raw_at[4::3] == "--T::Z"
        and not (raw_at[11] == "2" and raw_at[12] == "4")
    ):
        if not PLAIN_IS_FAST:
            # Its date, hour and minute, and second for parse_event's
            # look-ups (the supported range holds whole days only; each
            # table stays small).
            time_us = at % _DAY
            second_us = time_us % _MINUTE
            if len(_DAYS) > 4096:
                _DAYS.clear()
            _DAYS[raw_at[:11]] = at - time_us
            _MINUTES[raw_at[11:16]] = time_us - second_us
            _SECONDS[raw_at[16:]] = second_us
        return at, raw_at
    return at, None


@final
class _LastRead:
    """The last timestamp text read in the output form, and its instant: one
    pair, replaced whole, so that threads parsing at once never see the
    text of one with the instant of another."""

    __slots__ = ("pair",)

    def __init__(self) -> None:
        # (No text equals the first: an empty `at` is no instant.)
        self.pair: tuple[object, int] = (object(), 0)


_LAST_READ: Final = _LastRead()


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


class TicketEvents:
    """One ticket's events as read, and the first reason to reject it, if any.

    A plain class, not a dataclass: compiled, a dataclass's ``__init__``
    (which the dataclasses module writes at import) runs interpreted, and
    one is made per ticket.

    >>> TicketEvents("T1", 3)
    TicketEvents(ticket_id='T1', first_line=3, events=[], error=None)
    """

    __slots__ = ("ticket_id", "first_line", "events", "error")

    def __init__(
        self,
        ticket_id: str,
        first_line: int,
        events: list[Event] | None = None,
        error: EventError | None = None,
    ) -> None:
        self.ticket_id = ticket_id
        self.first_line = first_line
        self.events: list[Event] = [] if events is None else events
        self.error = error

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TicketEvents):
            return NotImplemented
        return (self.ticket_id, self.first_line, self.events, self.error) == (
            other.ticket_id,
            other.first_line,
            other.events,
            other.error,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable

    def __repr__(self) -> str:
        return (
            f"TicketEvents(ticket_id={self.ticket_id!r}, first_line={self.first_line!r}, "
            f"events={self.events!r}, error={self.error!r})"
        )

    def reject(self, reason: str, line: int | None) -> None:
        if self.error is None:
            self.error = EventError(reason, line, self.ticket_id)

    def finish(self) -> None:
        """Check the whole-ticket rules and sort the events in processing order."""
        if self.error is not None:
            return
        events = self.events
        # The common ticket first: its created event first, the others in
        # processing order after it (none created, none earlier): one pass.
        if events and events[0].kind == CREATED:
            previous_at = events[0].at
            for e in events[1:]:
                if e.kind == CREATED or e.at < previous_at:
                    break
                previous_at = e.at
            else:
                return
        created: Event | None = None
        count = 0
        for e in events:
            if e.kind == CREATED:
                count += 1
                if created is None:
                    created = e
        if created is None:
            self.reject("the ticket has no created event", self.first_line)
            return
        if count > 1:
            lines = [e.line for e in events if e.kind == CREATED]
            self.reject(
                f"the ticket has {count} created events (lines {', '.join(str(n) for n in lines)}); expected exactly one",
                lines[1],
            )
            return
        start = created.at
        # One pass checks the order too: input in processing order (the
        # common case) needs no sort.
        in_order = True
        previous = created
        for e in events:
            at = e.at
            if at < start:
                self.reject(f"{e.type} event before the ticket's created event (line {created.line})", e.line)
                return
            if at < previous.at or (at == previous.at and e.kind == CREATED and previous.kind != CREATED):
                in_order = False
            previous = e
        if not in_order:
            events.sort(key=Event.sort_key)


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
    for number, record in records:
        collector.add(number, record)  # by name: compiled, a native call
    for ticket in collector.tickets.values():
        ticket.finish()
    return collector.tickets, collector.line_errors


class TicketGrouping:
    """Grouped input's tickets as their lines come: what :func:`stream_grouped`
    and the JSON Lines reader's own loop
    (:meth:`sla.engine.lines.JsonlRecords.grouped`) share.  The reader appends
    a plain event of the ticket being read itself (the hot path); any other
    line goes to :meth:`add`; a ticket it starts goes to :meth:`start` once
    the one before has gone to :meth:`close`.
    """

    __slots__ = ("collector", "seen", "ids", "add")

    def __init__(self, line_errors: list[LineError]) -> None:
        self.collector = TicketCollector()
        self.collector.line_errors = line_errors
        #: The ids of the tickets read, once they stopped coming in order
        #: (see :meth:`start`); until then, empty.
        self.seen: set[str] = set()
        #: The ids of the tickets read while each came after the one before
        #: in id order (shorter first, then by text: numbers written
        #: without leading zeros come in numeric order), every one in the
        #: order read; None once one did not, and the ids went to :attr:`seen`.
        self.ids: list[str] | None = []
        #: Add one record (:meth:`TicketCollector.add`): its ticket, or None.
        self.add: Callable[[int, object], TicketEvents | None] = self.collector.add

    def close(self, ticket: TicketEvents) -> TicketEvents:
        """The ticket whose lines have ended, finished (to be yielded)."""
        del self.collector.tickets[ticket.ticket_id]
        ticket.finish()
        return ticket

    def start(self, ticket: TicketEvents, number: int) -> TicketEvents:
        """A ticket whose first line is ``number``; raises :class:`NotGrouped`
        when its lines came before, with other tickets' in between."""
        ticket_id = ticket.ticket_id
        ids = self.ids
        if ids is not None:
            # Exports mostly list tickets in the order of their ids: an id
            # after every one before it in id order cannot have come before,
            # and is appended to a list, not probed for in a set of a
            # million ids (a cache miss per ticket, and tens of MB more:
            # see docs/performance.md).  The first id out of that order
            # turns the list into the set, and the set decides from then on.
            last = ids[-1] if ids else ""
            if len(ticket_id) > len(last) or (len(ticket_id) == len(last) and ticket_id > last):
                ids.append(ticket_id)
                return ticket
            self.seen = set(ids)
            self.ids = None
        # One probe of the set, not a look-up and then an add that probes
        # again.
        seen = self.seen
        before = len(seen)
        seen.add(ticket_id)
        if len(seen) == before:
            raise NotGrouped(f"line {number}: ticket {ticket_id} appears again after other tickets")
        return ticket


def stream_grouped(
    records: Iterable[tuple[int, object]], line_errors: list[LineError], keep_texts: bool = True
) -> Iterator[TicketEvents]:
    """Finished tickets one at a time, for input whose tickets' lines are together
    (``keep_texts``: as :func:`parse_event`'s ``keep_text``).

    Memory holds one ticket's events, and the ids of the tickets read (to
    tell when one comes back: about 70 bytes a ticket while they come in
    the order of their ids, about 90 once they do not).  Raises
    :class:`NotGrouped` as soon as a ticket reappears after another one
    started.
    """
    grouping = TicketGrouping(line_errors)
    current: TicketEvents | None = None
    current_id: str | None = None
    events: list[Event] = []
    for number, record in records:
        # The common line first: an object of the ticket being read.
        if type(record) is dict and current is not None:
            try:
                key = record["ticket_id"]  # (as in parse_event: a subscript costs less than get())
            except KeyError:
                key = None
            if type(key) is str and key == current_id:
                try:
                    events.append(parse_event(record, len(events), number, keep_texts))
                except EventError as exc:
                    current.reject(exc.reason, number)
                continue
        ticket = grouping.add(number, record)
        if ticket is None or ticket is current:
            continue
        if current is not None:
            yield grouping.close(current)
        current = grouping.start(ticket, number)
        current_id, events = current.ticket_id, current.events
    if current is not None:
        current.finish()
        yield current


#: A batch of :func:`ticket_batches` ends at this many tickets or at this
#: many events, whichever comes first.
BATCH_TICKETS: Final = 64
BATCH_EVENTS: Final = 4096


def ticket_batches(tickets: Iterable[TicketEvents]) -> Iterator[list[TicketEvents]]:
    """Tickets a few at a time, in order: what a run reads, judges and writes
    a batch at a time, each step over the whole batch.  One loop run many
    times over keeps the processor's caches and branch predictors on it,
    where a ticket taken through every step in turn sends them back and
    forth (measured, interpreted: 16% less CPU for ``sla evaluate``).  A
    batch ends at :data:`BATCH_TICKETS` tickets or :data:`BATCH_EVENTS`
    events, so memory stays bounded by a few tickets.  When reading the
    tickets fails, the tickets read before the error come first as a batch.

    >>> [len(batch) for batch in ticket_batches(TicketEvents(str(n), n) for n in range(100))]
    [64, 36]
    """
    batch: list[TicketEvents] = []
    held = 0  # events in the batch
    try:
        for ticket in tickets:
            batch.append(ticket)
            held += len(ticket.events)
            if len(batch) >= BATCH_TICKETS or held >= BATCH_EVENTS:
                full, batch, held = batch, [], 0
                yield full
    except Exception:
        # Reading stopped with an error (the input turns out not grouped,
        # a read fails): what was read before it still counts, then the
        # error goes on.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def events_from_dicts(
    records: Iterable[Mapping[str, object] | Event], ticket_id: str | None = None
) -> TicketEvents:
    """Validate one ticket's events given as dicts (``ticket_id`` optional in
    them) or as typed :class:`Event` objects (taken as they are).  A dict
    naming another ticket than ``ticket_id`` (or than the first dict that
    names one) rejects the ticket: one ticket's events are never merged with
    another's."""
    ticket = TicketEvents(ticket_id or "", 1)
    established = ticket_id
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
        if "ticket_id" in record:
            named = ticket_key(record["ticket_id"])
            if named is None:
                ticket.reject(
                    f"ticket_id is {shown(record['ticket_id'])}; expected a string or an integer", number
                )
                continue
            if established is None:
                established = ticket.ticket_id = named
            elif named != established:
                ticket.reject(
                    f"ticket_id is {named!r}, another ticket; these events are {established!r}'s", number
                )
                continue
        try:
            plain = record if type(record) is dict else dict(record)
            ticket.events.append(parse_event(plain, number - 1, number))
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
