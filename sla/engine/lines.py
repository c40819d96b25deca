"""Reading JSON Lines, the hot part: lines of a stream in bounded chunks,
and (line number, record) pairs through orjson, with the exact slow path
of :mod:`sla.engine.json_values` for what orjson refuses.  One of the engine's
hot modules (compiled where it can be, see ``setup.py``); import these
from :mod:`sla.engine.jsonl`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from sla.engine.events import Event, LineError, TicketEvents, TicketGrouping, parse_event, stream_grouped
from sla.engine.json_values import _LOADS, LONG_LINE, MAX_LINE_BYTES, Unreadable, loads_slowly
from sla.errors import EventError

_CHUNK = MAX_LINE_BYTES


def bounded_lines(handle: IO[bytes], budget: int | None = None) -> Iterator[bytes]:
    """The lines of a binary stream without their newline, read in chunks:
    a line longer than :data:`MAX_LINE_BYTES` comes as :data:`LONG_LINE` and is
    skipped to its end without being held in memory.  With ``budget``, the
    lines that start in the next ``budget`` bytes."""
    for lines in bounded_chunks(handle, budget):
        yield from lines


def bounded_chunks(handle: IO[bytes], budget: int | None = None) -> Iterator[list[bytes]]:
    """:func:`bounded_lines` a list at a time (the lines of one read), so a
    reader steps through each list itself, with no generator step per line."""
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
        if parts:
            yield parts
        if budget is not None and budget <= 0 and not pending and not long_line:
            break
    if long_line:
        yield [LONG_LINE]
    elif pending:
        yield [pending]


def jsonl_records(lines: Iterable[bytes | str] | IO[bytes], start_line: int = 1) -> JsonlRecords:
    """(line number, parsed object) per non-blank line; a ``LineError`` for a
    line that is not JSON.  A binary stream is read with :func:`bounded_lines`."""
    if hasattr(lines, "read"):
        return JsonlRecords(bounded_chunks(lines), start_line)  # type: ignore[arg-type]
    return JsonlRecords((lines,), start_line)


def chunk_records(chunks: Iterable[Iterable[bytes | str]], start_line: int = 1) -> JsonlRecords:
    """:func:`jsonl_records` of lines given in chunks (as :func:`bounded_chunks` reads them)."""
    return JsonlRecords(chunks, start_line)


def grouped(
    records: Iterable[tuple[int, object]], line_errors: list[LineError], keep_texts: bool = True
) -> Iterator[TicketEvents]:
    """:func:`~sla.engine.events.stream_grouped` of ``records``, in JSON
    Lines' own loop (:meth:`JsonlRecords.grouped`) when that is what they are."""
    if isinstance(records, JsonlRecords):
        return records.grouped(line_errors, keep_texts)
    return stream_grouped(records, line_errors, keep_texts)


class JsonlRecords:
    """The (line number, record) pairs of JSON Lines given in chunks (as
    :func:`bounded_chunks` reads them): one pair per non-blank line, read by
    orjson, with the exact slow path of :mod:`sla.engine.jsonl` for what
    orjson refuses (a ``LineError`` for a line that is not JSON).  Read once:
    as pairs, by iterating, or as grouped tickets (:meth:`grouped`).

    ``give_up``, when given, is called (to raise) as soon as the first
    ``give_up_after`` lines that are not blank are all unreadable: a file
    that is not JSON Lines would otherwise reject every line.

    >>> [pair for pair in JsonlRecords([[b'{"ticket_id": "T1"}', b"", b"[1"]])]
    [(1, {'ticket_id': 'T1'}), (3, LineError(line=3, reason='not valid JSON'))]
    """

    __slots__ = ("chunks", "start_line", "give_up", "give_up_after", "unreadable", "blank")

    def __init__(
        self,
        chunks: Iterable[Iterable[bytes | str]],
        start_line: int = 1,
        give_up: Callable[[], None] | None = None,
        give_up_after: int = 20,
    ) -> None:
        self.chunks = chunks
        self.start_line = start_line
        self.give_up = give_up
        self.give_up_after = give_up_after
        # Lines read so far that are not JSON (counted with give_up only),
        # and blank ones: what give_up is called on.
        self.unreadable = 0
        self.blank = 0

    def __iter__(self) -> Iterator[tuple[int, object]]:
        return self._pairs()

    def _pairs(self) -> Iterator[tuple[int, object]]:
        loads = _LOADS
        number = self.start_line - 1
        for lines in self.chunks:
            for raw in lines:
                number += 1
                try:
                    record = loads(raw)
                    # orjson reads an integer beyond 64 bits as a float: read such a
                    # ticket_id again, exactly (and anything that is no dict with a
                    # ticket_id too: the slow path gives the same object).
                    if type(record["ticket_id"]) is float:  # type: ignore[index]
                        raise Unreadable
                except Exception:  # orjson and json raise ValueError subclasses; odd bytes odder ones
                    record = self._slowly(raw, number)
                    if record is None:
                        continue
                yield number, record

    def _slowly(self, raw: bytes | str, number: int) -> object:
        """The record of a line the fast path did not take: None for a blank
        line, a ``LineError`` for one that is not JSON."""
        if not raw.strip():
            self.blank += 1
            return None
        record: object
        if raw is LONG_LINE:
            record = LineError(number, f"longer than {MAX_LINE_BYTES >> 20} MB")
        else:
            try:
                record = loads_slowly(raw)
            except Unreadable as exc:
                record = LineError(number, str(exc))
        if type(record) is LineError and self.give_up is not None:
            self.unreadable += 1
            if (
                self.unreadable >= self.give_up_after
                and self.unreadable + self.blank == number - self.start_line + 1
            ):
                self.give_up()
        return record

    def grouped(self, line_errors: list[LineError], keep_texts: bool = True) -> Iterator[TicketEvents]:
        """The tickets of these lines, as :func:`~sla.engine.events.stream_grouped`
        gives them from the pairs, in one loop: a line of the ticket being
        read goes from orjson to :func:`~sla.engine.events.parse_event`
        with no step between (no pair made and taken apart, no generator
        resumed; measured: about 4% of the time reading takes, interpreted).
        ``keep_texts``: as :func:`~sla.engine.events.parse_event`'s ``keep_text``."""
        grouping = TicketGrouping(line_errors)
        loads = _LOADS
        number = self.start_line - 1
        record: Any  # (what orjson gives: a dict on the common path)
        current: TicketEvents | None = None
        current_id: str | None = None
        events: list[Event] = []
        for lines in self.chunks:
            for raw in lines:
                number += 1
                try:
                    record = loads(raw)
                    key = record["ticket_id"]
                except Exception:  # not JSON, no object, no ticket_id: the pairs' slow path
                    record = self._slowly(raw, number)
                    if record is None:
                        continue
                else:
                    if type(key) is str:
                        if key == current_id:
                            # The common line: an event of the ticket being read.
                            try:
                                events.append(
                                    parse_event(record, len(events), number, keep_texts)
                                )  # (by name: compiled, a native call)
                            except EventError as exc:
                                assert current is not None  # (current_id names it)
                                current.reject(exc.reason, number)
                            continue
                    elif type(key) is float:  # an integer beyond 64 bits: read exactly
                        record = self._slowly(raw, number)
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
