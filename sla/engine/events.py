"""Events: parsing and validating JSONL lines into compact typed events,
grouped per ticket (SEMANTICS.md section 3).

A ticket with any malformed event, no ``created``, two of them, or an event
before its creation is rejected whole; the reason names the line.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

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
#: An input line (JSONL or CSV) longer than this is rejected without being held in memory.
MAX_LINE_BYTES = 1 << 20
#: JSON nested deeper than this is refused (orjson's own limit).
MAX_DEPTH = 1024

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
    return event


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


def _loads() -> Callable[[bytes | str], object]:
    try:
        import orjson

        return orjson.loads
    except ImportError:  # pragma: no cover - orjson is a dependency
        return json.loads


class Unreadable(ValueError):
    """A line that cannot be read as a JSON value; the message says why."""


class _BigInt(str):
    """The digits of an integer beyond 64 bits, read by the slow path."""


_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what orjson reads as an exact integer
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _parse_int(digits: str) -> object:
    if len(digits) <= 20:
        value = int(digits)
        if _INT_MIN <= value <= _INT_MAX:
            return value
    return _BigInt(digits)


def _refuse_constant(name: str) -> object:
    raise Unreadable(f"not valid JSON ({name} is not a JSON value)")


def _depth(text: str) -> int:
    """The deepest bracket nesting of JSON text (strings skipped); error path only."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth = depth + 1 if char in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def _settle(value: object) -> object:
    """Settle what the slow path read as orjson would: an integer beyond 64 bits
    becomes a float (the top-level ``ticket_id``: its decimal text); a lone
    surrogate (``"\ud800"``) is not text.  Iterative: no recursion limit."""

    def fix(item: object, key: object) -> object:
        if type(item) is _BigInt:
            # The top-level ticket_id keeps its digits: it is a name, not a quantity.
            return str(item) if key == "ticket_id" and container is value else float(item)
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise Unreadable(f"not valid JSON ({shown(item)} holds a lone surrogate, not text)")
        elif isinstance(item, (dict, list)):
            stack.append(item)
        return item

    stack: list[object] = []
    container: object = None
    root = fix(value, None)
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            for key in container:
                if _SURROGATE.search(key):
                    raise Unreadable(f"not valid JSON ({shown(key)} holds a lone surrogate, not text)")
                container[key] = fix(container[key], key)
        elif isinstance(container, list):
            for index, item in enumerate(container):
                container[index] = fix(item, None)
    return root


_BOM = "\ufeff"


def loads_slowly(raw: bytes | str) -> object:
    """Read a line orjson refused (or read inexactly) with the stdlib ``json``:
    a leading byte order mark skipped, integers of any size, ``1e999`` as
    infinity; raises :class:`Unreadable` with a short reason otherwise."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unreadable(
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            ) from None
    else:
        text = raw
    text = text.removeprefix(_BOM)
    if _depth(text) > MAX_DEPTH:
        raise Unreadable(f"JSON nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise Unreadable("JSON nested too deep to read") from None
    except Unreadable:
        raise
    except ValueError:
        raise Unreadable("not valid JSON") from None
    return _settle(value)


_LOADS = _loads()


def loads_value(raw: bytes | str) -> object:
    """One JSON value: orjson, and :func:`loads_slowly` where orjson refuses."""
    try:
        return _LOADS(raw)
    except Exception:
        return loads_slowly(raw)


class _LongLine(bytes):
    """Stands for an input line longer than :data:`MAX_LINE_BYTES` (its text
    is not kept); orjson refuses it, so it costs nothing on the common path."""


LONG_LINE = _LongLine(b"\x00")
_CHUNK = MAX_LINE_BYTES


def bounded_lines(handle: IO[bytes], budget: int | None = None) -> Iterator[bytes]:
    """The lines of a binary stream without their newline, read in chunks:
    a line longer than :data:`MAX_LINE_BYTES` comes as :data:`LONG_LINE` and is
    skipped to its end without being held in memory.  With ``budget``, the
    lines that start in the next ``budget`` bytes."""
    read = getattr(handle, "read1", handle.read)  # what is there, up to a chunk: pipes stream
    pending = b""
    long_line = False  # in the middle of skipping an over-long line
    while True:
        if budget is None:
            chunk = read(_CHUNK)
        elif budget > 0:
            chunk = read(min(_CHUNK, budget))
            budget -= len(chunk)
        elif pending or long_line:  # the budget ends inside a line: finish it
            chunk = read(_CHUNK)
            cut = chunk.find(b"\n")
            if cut >= 0:
                chunk = chunk[: cut + 1]
        else:
            break
        if not chunk:
            break
        parts = chunk.split(b"\n")
        if long_line:
            if len(parts) == 1:
                continue
            long_line = False
            parts[0] = LONG_LINE
        elif pending:
            parts[0] = pending + parts[0]
        pending = parts.pop()
        if len(pending) > MAX_LINE_BYTES:
            pending, long_line = b"", True
        # Only the first line can be over-long: the others are shorter than a chunk.
        if parts and len(parts[0]) > MAX_LINE_BYTES:
            parts[0] = LONG_LINE
        yield from parts
        if budget is not None and budget <= 0 and not pending and not long_line:
            break
    if long_line:
        yield LONG_LINE
    elif pending:
        yield pending


def jsonl_records(
    lines: Iterable[bytes | str] | IO[bytes], start_line: int = 1
) -> Iterator[tuple[int, object]]:
    """(line number, parsed object) per non-blank line; a ``LineError`` for a
    line that is not JSON.  A binary stream is read with :func:`bounded_lines`."""
    loads = _LOADS
    source: Iterable[bytes | str] = bounded_lines(lines) if hasattr(lines, "read") else lines  # type: ignore[arg-type]
    for number, raw in enumerate(source, start_line):
        try:
            record = loads(raw)
            # orjson reads an integer beyond 64 bits as a float: read such a
            # ticket_id again, exactly (and anything that is no dict with a
            # ticket_id too: the slow path gives the same object).
            if type(record["ticket_id"]) is float:  # type: ignore[index]
                raise Unreadable
        except Exception:  # orjson and json raise ValueError subclasses; odd bytes odder ones
            if not raw.strip():
                continue
            if raw is LONG_LINE:
                record = LineError(number, f"longer than {MAX_LINE_BYTES >> 20} MB")
            else:
                try:
                    record = loads_slowly(raw)
                except Unreadable as exc:
                    record = LineError(number, str(exc))
        yield number, record


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


def read_jsonl(
    lines: Iterable[bytes | str], start_line: int = 1
) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """Parse JSONL lines into tickets (in order of first appearance) and line errors."""
    return collect_all(jsonl_records(lines, start_line))


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
