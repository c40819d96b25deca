"""What every importer shares: record positions, the source interface, the
vendor's own SLA verdicts, and the run summary.

A :class:`Source` is handed documents (one saved API response page, or one
record of a JSON Lines file) and says which records they hold
(:meth:`Source.recognise`); it then reads each record (:meth:`Source.read`),
learning lookups (users, request types, id maps) and emitting events for
tickets (:class:`Emit`) and the vendor's own SLA verdicts
(:class:`VendorCycle`, for ``sla reconcile``). After every file has been
read, :meth:`Source.finish_ticket` turns one ticket's emitted events into
final section-3 events: placeholders resolved with what was learnt (an
author's role from a users file read later), ids renamed, a ticket without
a creation refused. The driver sorts each ticket's events by time, ties in
emission order, so events of one audit keep the audit's order.

A record a source cannot map raises :class:`RecordError`; the driver
reports it with its :class:`Position` and goes on.

How files become documents is the source's too (:meth:`Source.documents`):
by default JSON, a saved page or JSON Lines (:mod:`sla.importers.files`);
a source of tables (``csv``) reads its own format.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, NamedTuple

from sla.errors import SlaError, TimestampError
from sla.timefmt import EPOCH, parse_instant

#: Events are dicts of section 3's fields (``ticket_id`` is set by the
#: driver); keys starting with ``_`` are a source's placeholders, removed
#: by :meth:`Source.finish_ticket`.
EventDict = dict[str, object]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record was read: a file, its 1-based line (1 for a whole-file
    JSON page), and the 0-based index of the record in a page.

    >>> str(Position("audits/p1.json", 1, 3)), str(Position("events.jsonl", 12))
    ('audits/p1.json:1 record 4', 'events.jsonl:12')
    """

    file: str
    line: int
    record: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return where if self.record is None else f"{where} record {self.record + 1}"


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed document of an input file: a saved page (at line 1), one
    line of a JSON Lines file, or one row of a table."""

    position: Position
    value: object


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A part of an input file that could not be parsed (a line that is not
    JSON, a file that is not JSON at all, a row that is not CSV), and why."""

    position: Position
    reason: str


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Something skipped or refused, for standard error and ``--rejects``:
    where (a :class:`Position`, or ``ticket 35436``), what (a record kind,
    ``unreadable``, ``unrecognised`` or ``refused``) and why.

    >>> str(ImportProblem(Position("audits/p1.json", 1, 3), "audits", "no ticket_id"))
    'audits/p1.json:1 record 4: audits: no ticket_id'
    """

    where: Position | str
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.reason}"


class RecordError(SlaError):
    """A record that cannot be mapped: the reason, without the position
    (the driver adds it)."""


class Emit(NamedTuple):
    """An event for a ticket, keyed by the vendor's ticket id (as a string).
    A tuple: importers make one per event, millions of them."""

    ticket: str
    event: EventDict


class Parked(NamedTuple):
    """What :meth:`Source.read` returns for a record it keeps until the
    ticket it names is known (a Jira page naming its issue by key, before
    the issue's id): the driver notes the record's position, and reports it
    as skipped when :meth:`Source.waiting` still names ``ref`` at the end."""

    ref: str


@dataclass(frozen=True, slots=True)
class VendorCycle:
    """One SLA cycle as the vendor itself judged it (``sla reconcile``).

    ``metric`` is this contract's metric name (``first_response``, ...),
    ``vendor_metric`` the vendor's own name; ``cycle`` counts from 1 in
    start order per ticket and metric; ``breached`` is the vendor's verdict
    (``None`` when it has none yet), as of the export; ``elapsed_seconds``
    what the vendor counted, when it says; ``breach_at`` the instant the
    vendor says the cycle breaches or breached (an open JSM cycle's
    ``breachTime``), when it says; instants are epoch microseconds.
    """

    ticket: str
    metric: str
    vendor_metric: str
    cycle: int
    breached: bool | None
    ended: bool
    elapsed_seconds: float | None = None
    started_at: int | None = None
    ended_at: int | None = None
    target_seconds: float | None = None
    breach_at: int | None = None

    def verdict(self, now: int) -> bool | None:
        """The vendor's verdict as of ``now`` (epoch microseconds): with a
        ``breach_at``, breached once it lies at or before ``now``, not
        breached when the cycle ended before it, else none yet; without
        one, the verdict the export gives.

        >>> open_cycle = VendorCycle("1", "resolution", "Time to resolution", 1, False, False, breach_at=20)
        >>> open_cycle.verdict(10), open_cycle.verdict(20)
        (None, True)
        """
        if self.breach_at is None:
            return self.breached
        if self.breach_at <= now:
            return True
        if self.ended and (self.ended_at is None or self.ended_at <= now):
            return False
        return None


class Source(ABC):
    """One vendor's export format."""

    #: The ``SOURCE`` word of ``sla import SOURCE``.
    name: ClassVar[str]

    @abstractmethod
    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        """The records of ``doc`` by kind (``[("audits", [...])]``), or None
        when the document is not this vendor's. ``doc`` is a parsed saved
        page (an envelope such as ``{"audits": [...], "next_page": ...}``) or
        one record of a JSON Lines file. The lists may be the page's own: the
        driver sets each record's place in them to ``None`` once it is read,
        so that it is freed at once."""

    @abstractmethod
    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle | Parked]:
        """Learn from one record and/or emit what it says; raise
        :class:`RecordError` for a record that cannot be mapped, or give
        :class:`Parked` for one kept until its ticket is known."""

    @abstractmethod
    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's final id and events (in time order, placeholders
        resolved), after every file was read; :class:`RecordError` refuses
        the whole ticket."""

    def documents(self, path: str) -> Iterator[Document | Unreadable]:
        """The documents of one input file (``-``: standard input), in file
        order, with their positions.

        The default reads JSON, plain or gzip (by its first bytes, whatever
        the name): a file that is one JSON value (a saved API response page,
        pretty-printed or not) is one document at line 1; a JSON Lines file
        is one document per line, at its line
        (:func:`sla.importers.files.read_documents`). A source whose exports
        are not JSON (``csv``) overrides this; its documents then go through
        :meth:`recognise` and :meth:`read` like any other."""
        from sla.importers.files import read_documents

        return read_documents(path)

    def notes(self) -> list[str]:
        """Lines for the summary: what the export cannot show, defaults taken."""
        return []

    def waiting(self) -> tuple[dict[str, str], list[VendorCycle]]:
        """After every file was read: the reason to report each
        :class:`Parked` record's ``ref`` that never found its ticket, and the
        vendor's cycles of tickets the export does not hold (``sla
        reconcile`` shows them as differences). A source that parks nothing
        has neither. Mergeable sources never park (each process would hold
        its own half of the lookups)."""
        return {}, []

    # -- reading with several processes (sla.importers.parallel) -----------

    #: Whether :meth:`finish_ticket` returns the events sorted by instant
    #: (ties in processing order), every ``at`` checked: the driver then
    #: writes them as they are.
    finishes_in_time_order: ClassVar[bool] = False

    #: Whether :meth:`learnt` and :meth:`absorb` let several processes read
    #: the files, each with its own copy of this source.
    mergeable: ClassVar[bool] = False

    #: Whether the vendor's own SLA records are read (``sla reconcile``).
    reads_vendor_slas: ClassVar[bool] = False

    def start_file(self, index: int) -> None:
        """Told before each file is read, with the file's index among all
        the import's files (whichever process reads it): a source that
        tells reads apart by their order uses it."""
        return None  # most sources need not know

    def learnt(self) -> object:
        """What this copy learnt while reading (lookups, ticket records),
        to be folded into another copy by :meth:`absorb`."""
        raise NotImplementedError

    def absorb(self, learnt: object) -> None:
        """Fold in what another copy :meth:`learnt` from later files."""
        raise NotImplementedError

    def finish_facts(self) -> object:
        """What finishing tickets noted since the last call (for
        :meth:`notes`), taken away from this copy."""
        raise NotImplementedError

    def absorb_finish(self, facts: object) -> None:
        """Fold in another copy's :meth:`finish_facts`."""
        raise NotImplementedError


@dataclass
class ImportSummary:
    """What an import read, wrote and skipped (printed at the end)."""

    files: int = 0
    records: int = 0
    tickets: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by record kind
    tickets_refused: int = 0
    notes: list[str] = field(default_factory=list)
    #: What was skipped or refused, in the order found (tickets refused last),
    #: when the driver was given no ``on_problem`` to hand them to.
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether everything read was mapped: nothing skipped, no ticket refused."""
        return not self.skipped and not self.tickets_refused

    def lines(self) -> list[str]:
        """The summary as printed on standard error."""
        out = [
            f"{self.files:,} file(s), {self.records:,} record(s) read; "
            f"{self.tickets:,} ticket(s), {self.events:,} event(s) written"
        ]
        if self.skipped:
            out.append("skipped: " + ", ".join(f"{n:,} {kind}" for kind, n in sorted(self.skipped.items())))
        if self.tickets_refused:
            out.append(f"{self.tickets_refused:,} ticket(s) refused (no creation, or unusable)")
        out += [f"note: {note}" for note in self.notes]
        return out


# ------------------------------------------------------- shared value rules
def word(name: str) -> str:
    """A status or channel name as section 14 writes it: lower-cased, spaces
    and hyphens as ``_`` (every vendor's statuses go through this one rule).

    >>> word("Waiting for support"), word(" Work-in progress "), word("pending reminder")
    ('waiting_for_support', 'work_in_progress', 'pending_reminder')
    """
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def id_text(value: object) -> str | None:
    """A vendor id as a string (ids come as integers or strings: ``5`` ->
    ``"5"``), ``None`` for null or anything that is not an id.

    A whole float is the integer it stands for: tables with empty cells in
    an id column come out of pandas as floats (``360001.0``).

    >>> id_text(5), id_text(" 7 "), id_text(None), id_text(True), id_text(360001.0), id_text(1.5)
    ('5', '7', None, None, '360001', None)
    """
    if type(value) is int:  # the common case first (a bool is no id)
        return str(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def id_number(value: object) -> int | None:
    """A vendor's numeric id as an integer: an integer, or its decimal text
    (warehouse exports such as BigQuery's write 64-bit ids as strings), or
    a whole float (pandas); ``None`` for anything else.  What orders and tells apart records by id.

    >>> id_number(5), id_number("9001"), id_number(" 7 "), id_number("a1"), id_number(True), id_number(5.0)
    (5, 9001, 7, None, None, 5)
    """
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            return int(text)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def instant_of(at: object) -> int:
    """An event's ``at`` in epoch microseconds: the common RFC 3339 text by
    ``datetime.fromisoformat``, anything else through
    :func:`~sla.timefmt.parse_instant` (its checks, and its
    :class:`~sla.errors.TimestampError`).

    >>> instant_of("1970-01-01T00:00:01Z")
    1000000
    """
    if type(at) is str:
        try:
            moment = _fromisoformat(at)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return (moment - EPOCH) // _ONE_US
    return parse_instant(at)


_fromisoformat = datetime.fromisoformat
_ONE_US = timedelta(microseconds=1)


def record_instant(record: Mapping[str, object], key: str, *, required: bool = False) -> int | None:
    """The RFC 3339 instant under ``key`` in epoch microseconds (``None`` when
    absent or null, unless ``required``); a :class:`RecordError` naming the
    key when it is not a timestamp.

    >>> record_instant({"at": "1970-01-01T00:00:01Z"}, "at"), record_instant({}, "at")
    (1000000, None)
    """
    value = record.get(key)
    if value is None:
        if required:
            raise RecordError(f"{key} is missing")
        return None
    try:
        return parse_instant(value)
    except TimestampError as exc:
        raise RecordError(f"{key}: {exc}") from None
