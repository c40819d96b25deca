"""The ``csv`` source: a helpdesk's table export read through a column
mapping (``sla import csv PATH... --map FILE``).

The mapping is the one ``--map`` gives ``sla evaluate`` (:mod:`sla.io.csv_map`,
docs/events.md "CSV with your own columns"): which column gives which event
field, the export's words, its timestamps. Each row is one event of its
ticket. Unlike ``sla evaluate --map``, where a row the mapping cannot read
rejects its whole ticket, an import skips the row alone and names its line
(the ticket goes on, and is refused only if it is left without its one
``created`` event, or with an event before it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sla.engine.events import LineError, parse_event, ticket_key
from sla.errors import EventError, TimestampError
from sla.importers.base import (
    Document,
    Emit,
    EventDict,
    Position,
    RecordError,
    Source,
    Unreadable,
    VendorCycle,
    word,
)
from sla.importers.files import STDIN, display_name
from sla.io.csv_rows import CsvMap
from sla.io.sources import csv_records
from sla.timefmt import parse_instant

#: The kind of record a table holds: a row.
ROWS = "rows"


@dataclass(frozen=True, slots=True)
class _BadRow:
    """A row the mapping cannot read (a word no value map lists, a time off
    the format), carried to :meth:`CsvSource.read` to be skipped with its reason."""

    reason: str


class CsvSource(Source):
    """Tables with a header row (plain or gzip), one event per row, read
    through a checked column mapping (:func:`sla.io.csv_map.load_mapping`)."""

    name = "csv"

    def __init__(self, mapping: CsvMap) -> None:
        self.mapping = mapping

    def documents(self, path: str) -> Iterator[Document | Unreadable]:
        """One document per data row, at its line (the header is line 1). A
        header that lacks a mapped column stops the import (a
        :class:`~sla.io.csv_rows.MappingError`, exit 2)."""
        name = display_name(path)
        row_errors: dict[int, str] = {}
        readable = "/dev/stdin" if path == STDIN and os.path.exists("/dev/stdin") else path
        for number, record in csv_records(readable, self.mapping, row_errors, name):
            where = Position(name, number)
            if isinstance(record, LineError):
                yield Unreadable(where, record.reason)
                continue
            problem = row_errors.pop(number, None)
            yield Document(where, _BadRow(problem) if problem is not None else record)

    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        """A row read by :meth:`documents` (anything else is no table's)."""
        return [(ROWS, [doc])] if isinstance(doc, (dict, _BadRow)) else None

    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle]:
        """The row's event, checked as ``sla evaluate`` checks it."""
        if isinstance(record, _BadRow):
            raise RecordError(record.reason)
        assert isinstance(record, dict)
        event = dict(record)
        ticket = ticket_key(event.pop("ticket_id", None))
        if ticket is None:
            raise RecordError("the row names no ticket (its ticket_id cell is empty)")
        try:
            parse_event(event)
        except EventError as exc:
            raise RecordError(exc.reason) from None
        status = event.get("status")
        if isinstance(status, str):
            # Section 14: an import writes statuses lower-cased, spaces and
            # hyphens as _, whatever the table or its mapping wrote.
            event["status"] = word(status)
        return [Emit(ticket, event)]

    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket as it is, if it has exactly one ``created`` and nothing
        before it (section 3); its rows were checked one by one already."""
        created = [e for e in events if e.get("type") == "created"]
        if len(created) != 1:
            raise RecordError(
                "no row creates the ticket (type created)"
                if not created
                else f"{len(created)} rows create the ticket; expected exactly one"
            )
        try:
            start = parse_instant(created[0].get("at"))
            early = [e for e in events if parse_instant(e.get("at")) < start]
        except TimestampError as exc:  # pragma: no cover - every row's at was checked in read
            raise RecordError(str(exc)) from None
        if early:
            raise RecordError(
                f"a {early[0].get('type')} row at {early[0].get('at')} comes before the ticket's "
                f"creation at {created[0].get('at')}"
            )
        return ticket, events

    def notes(self) -> list[str]:
        return []


__all__ = ["CsvSource"]
