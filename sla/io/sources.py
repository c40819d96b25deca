"""Event sources at the edge: JSONL, CSV and Parquet files as (line, record) pairs.

Every source yields the same records as a JSONL line would parse to, so one
validation path serves all formats.  Line numbers are file lines for JSONL
and CSV (the header is line 1) and 1-based row numbers for Parquet.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from sla.engine.events import LineError, TicketEvents, collect_all, ticket_key
from sla.engine.jsonl import (
    LONG_LINE,
    MAX_LINE_BYTES,
    JsonlRecords,
    Unreadable,
    bounded_chunks,
    bounded_lines,
    loads_value,
)
from sla.errors import EventError, SlaError
from sla.io.csv_rows import CsvMap, csv_value
from sla.io.sinks import Progress

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("jsonl", "csv", "parquet")
EVENT_COLUMNS = (
    "ticket_id",
    "at",
    "type",
    "fields",
    "status",
    "author",
    "public",
    "score",
    "time_spent",
    "sentiment",
)


def detect_format(path: str, explicit: str | None = None) -> str:
    """The input format: explicit, else by suffix (.csv, .parquet/.pq), else JSONL."""
    if explicit:
        return explicit
    name = Path(path)
    if name.suffix.lower() == ".gz":  # events.csv.gz is CSV, compressed
        name = name.with_suffix("")
    suffix = name.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


GZIP_MAGIC = b"\x1f\x8b"
#: A JSON Lines input whose first lines are all unreadable stops after this many, with a hint.
GIVE_UP_AFTER = 20


def is_gzip(path: str) -> bool:
    """Whether a file holds gzip-compressed data (by its first bytes, whatever its name)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:
        return False


def open_events(path: str) -> IO[bytes]:
    """An event file for reading, decompressed on the fly when it is gzip
    (looked at without consuming it, so pipes work too)."""
    handle = open(path, "rb")  # noqa: SIM115 (returned open: the caller's with closes it)
    if handle.peek(2)[:2] == GZIP_MAGIC:
        packed = gzip.GzipFile(fileobj=handle, mode="rb")
        packed.myfileobj = handle  # type: ignore[assignment]  # as gzip.open does: closing it closes the file
        return cast("IO[bytes]", packed)
    return handle


@contextmanager
def opened_input(path: str) -> Iterator[IO[bytes]]:
    """A file, or standard input for ``-``, as bytes, gunzipped when it
    starts as gzip (standard input is peeked at, not consumed)."""
    if path != "-":
        with open_events(path) as handle:
            yield handle
        return
    stdin = sys.stdin.buffer
    peek = getattr(stdin, "peek", None)
    if peek is not None and peek(2)[:2] == GZIP_MAGIC:
        with gzip.GzipFile(fileobj=stdin) as packed:
            yield cast("IO[bytes]", packed)
    else:
        yield stdin


def range_chunks(path: str, start: int, end: int | None) -> Iterator[list[bytes]]:
    """The lines of a byte range, a read at a time; the file is open while they are read."""
    with open_events(path) as handle:
        if start:
            handle.seek(start)
        budget = None if end is None else max(0, end - start)
        yield from bounded_chunks(handle, budget)


def _what_it_looks_like(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "it looks gzip-compressed"
    if head.startswith(b"PAR1"):
        return "it looks like Parquet: use --input-format parquet or a .parquet name"
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 10:
        return "it looks like a binary file"
    first = head.split(b"\n", 1)[0]
    if b"," in first and not first.lstrip().startswith(b"{"):
        return "it looks like CSV: use --input-format csv or a .csv name"
    return "each line must be one JSON object"


def _give_up(path: str, name: str | None = None, head_bytes: list[bytes] | None = None) -> Callable[[], None]:
    """What a JSON Lines reader calls when the first :data:`GIVE_UP_AFTER`
    lines are all unreadable (see :class:`~sla.engine.jsonl.JsonlRecords`):
    it stops with a hint, for a file that is not JSON Lines would otherwise
    reject every line.  ``name``: the input as the user named it (``path``
    may be a scratch copy of standard input or of a gzip file);
    ``head_bytes``: where the reader of standard input, which cannot be read
    again, put its first bytes."""

    def stop() -> None:
        start = head_bytes[0] if head_bytes else b""
        if path != "-":
            with open(path, "rb") as handle:
                start = handle.read(4096)
        raise SlaError(
            f"{_shown(path, name)}: the first {GIVE_UP_AFTER} lines are not JSON Lines; {_what_it_looks_like(start)}"
        )

    return stop


def _shown(path: str, name: str | None) -> str:
    """The input as messages name it: as the user named it, standard input in words."""
    given = name or path
    return "standard input" if given == "-" else given


def _stdin_chunks(head_bytes: list[bytes]) -> Iterator[list[bytes]]:
    """The lines of standard input in chunks, gunzipped when it starts as
    gzip; its first bytes, peeked at before they are read, go to ``head_bytes``."""
    with opened_input("-") as handle:
        peek = getattr(handle, "peek", None)
        if peek is not None:
            head_bytes.append(peek(4096)[:4096])
        yield from bounded_chunks(handle)


#: A quoted cell that runs over more lines than this is taken for an unterminated quote.
MAX_ROW_LINES = 1000
#: Columns whose cells are one line: a newline in one means a quote ran on.
_ONE_LINE_COLUMNS = frozenset(
    {"ticket_id", "at", "type", "status", "author", "public", "score", "time_spent", "sentiment"}
)


class _RowProblem(Exception):
    """A CSV row that cannot be read; the row's first line is rejected and the
    lines after it are read again as rows of their own."""


class _CsvLines:
    """The decoded lines of a CSV file for ``csv.reader``, one row at a time:
    it remembers the lines of the current row, notes bytes that are not UTF-8,
    stops a row that runs on too long, and can feed lines again."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.source = bounded_lines(handle)
        self.number = 0
        self.again: deque[tuple[int, bytes]] = deque()
        self.row: list[tuple[int, bytes]] = []
        self.row_bytes = 0
        self.bad: str | None = None
        self.at_end = False

    def __iter__(self) -> _CsvLines:
        return self

    def start_row(self) -> None:
        self.row, self.row_bytes, self.bad, self.at_end = [], 0, None, False

    def read_again(self, lines: list[tuple[int, bytes]]) -> None:
        self.again.extendleft(reversed(lines))

    def __next__(self) -> str:
        if self.again:
            number, raw = self.again.popleft()
        else:
            line = next(self.source, None)
            if line is None:
                self.at_end = True
                raise StopIteration
            self.number += 1
            number, raw = self.number, line
        row = self.row
        row.append((number, raw))
        if raw is LONG_LINE:
            if len(row) == 1:
                raise _RowProblem(f"longer than {MAX_LINE_BYTES >> 20} MB")
            raise _RowProblem(self.runaway(f"a line longer than {MAX_LINE_BYTES >> 20} MB"))
        self.row_bytes += len(raw)
        if len(row) > MAX_ROW_LINES or self.row_bytes > MAX_LINE_BYTES:
            raise _RowProblem(self.runaway(f"more than {MAX_ROW_LINES} lines or {MAX_LINE_BYTES >> 20} MB"))
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a byte order mark (Excel)
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self.bad is None:
                self.bad = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1} of line {number})"
            text = raw.decode("utf-8", "replace")
        return text + "\n"

    def runaway(self, what: str) -> str:
        first, last = self.row[0][0], self.row[-1][0]
        return f"a quoted cell runs on from line {first} to line {last} ({what}): an unterminated quote?"


def _row_runs_on(header: list[str], row: list[str], targets: Mapping[str, str]) -> bool:
    """A row over several lines that is no good row: a quote ran on over other
    rows (``targets``: the event field each column gives)."""
    if len(row) > len(header):
        return True
    for column, cell in zip(header, row, strict=False):
        target = targets.get(column)
        if target in _ONE_LINE_COLUMNS and ("\n" in cell or "\r" in cell):
            return True
        if target == "fields" and "\n" in cell and isinstance(csv_value(target, cell), str):
            return True  # not JSON: a quote that ran on, not a pretty-printed object
    return False


def csv_records(
    path: str,
    mapping: CsvMap | None = None,
    row_errors: dict[int, str] | None = None,
    name: str | None = None,
) -> Iterator[tuple[int, object]]:
    """Records of a CSV file with a header row (``fields`` holds a JSON object),
    or with the export's own columns read through ``mapping``.

    An empty cell is an absent field.  Unknown columns are kept as data (with
    a mapping, only mapped columns are read).  A row that cannot be read
    (bytes that are not UTF-8, longer than :data:`MAX_LINE_BYTES`, a quote
    never closed) is rejected by its first line alone, and the lines after it
    are read as rows again.  A mapped row with a bad value rejects its ticket:
    it comes as a record naming only the ticket, its reason in ``row_errors``
    by line (:func:`sla.io.csv_rows.explain_row_errors`).  ``name`` is the
    file as messages call it.
    """
    if csv.field_size_limit() < MAX_LINE_BYTES:  # rows are bounded by the reader below
        csv.field_size_limit(MAX_LINE_BYTES)
    with open_events(path) as handle:
        lines = _CsvLines(handle)
        reader = csv.reader(lines)
        header: list[str] | None = None
        while True:
            lines.start_row()
            try:
                row = next(reader)
            except StopIteration:
                return
            except (_RowProblem, csv.Error) as exc:
                if not lines.row:  # pragma: no cover - the reader failed before reading a line
                    raise
                number = lines.row[0][0]
                reason = str(exc) if isinstance(exc, _RowProblem) else f"not valid CSV ({exc})"
                yield number, LineError(number, reason)
                lines.read_again(lines.row[1:])
                continue
            number = lines.row[0][0] if lines.row else lines.number
            if header is None:
                header = row
                targets: Mapping[str, str] = {c: c for c in header}
                if mapping is not None:
                    read_row = mapping.reader(header, name or path)
                    targets = {c.name: c.target for c in mapping.columns}
                continue
            if lines.bad is not None:
                yield number, LineError(number, lines.bad)
                continue
            spans = len(lines.row) > 1
            if spans and lines.at_end and sum(raw.count(b'"') for _, raw in lines.row) % 2:
                yield number, LineError(number, lines.runaway("to the end of the file"))
                lines.read_again(lines.row[1:])
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and not spans:
                yield (
                    number,
                    LineError(number, f"{len(row)} cells but the header names {len(header)} columns"),
                )
                continue
            if spans and _row_runs_on(header, row, targets):
                yield number, LineError(number, lines.runaway("its cells do not fit the header"))
                lines.read_again(lines.row[1:])
                continue
            if mapping is None:
                yield (
                    number,
                    {c: csv_value(c, cell) for c, cell in zip(header, row, strict=False) if cell != ""},
                )
                continue
            record, problem = read_row(row)
            if problem is not None and "ticket_id" in record:
                if row_errors is not None:
                    row_errors[number] = problem
                record = {"ticket_id": record["ticket_id"]}  # no type: the ticket is rejected at this line
            yield number, record


def normalize_fields(value: object) -> object:
    if isinstance(value, str):
        try:
            return loads_value(value)
        except Unreadable:
            return value
    if isinstance(value, list):  # an Arrow map arrives as key/value pairs
        try:
            return dict(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, dict):  # an Arrow struct: absent keys come back as None
        return {k: v for k, v in value.items() if v is not None}
    return value


def arrow_records(batches: Iterable[pa.RecordBatch], numbered: bool = False) -> Iterator[tuple[int, object]]:
    """(number, record) per row of Arrow record batches, each record what a
    JSONL line would parse to: ``fields`` (JSON text, a struct or a map)
    made a dict, ``at`` text or a timestamp with a zone, a null column a
    JSON null (which reads as the key left out), and a null ``ticket_id`` or
    ``at`` left out (so that such a row is refused as having none). A row's
    number is its position from 1; with ``numbered``, its ``line`` column
    where the batch has one and it holds a number (the column is then not
    part of the record).

    Read a column at a time (``to_pydict``), each row's dict built from its
    values in one call, lazily: ``to_pylist`` would build a dict per row of
    the whole batch, keep them all alive at once, and leave the nulls to
    drop in a second pass.

    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"ticket_id": ["T1", None], "type": ["created", "message"],
    ...                          "fields": ['{"channel": "email"}', None], "line": [7, None]})
    >>> list(arrow_records([batch], numbered=True))
    [(7, {'ticket_id': 'T1', 'type': 'created', 'fields': {'channel': 'email'}}), (2, {'type': 'message', 'fields': None})]
    """
    position = 0
    for batch in batches:
        columns = batch.to_pydict()
        lines = columns.pop("line", None) if numbered else None
        names = tuple(columns)
        # Only the columns that hold a null in this batch are looked at per row.
        null_id = "ticket_id" in columns and batch.column("ticket_id").null_count > 0
        null_at = "at" in columns and batch.column("at").null_count > 0
        has_fields = "fields" in columns
        # (A batch of no columns but the line still has rows: empty records.)
        rows: Iterable[tuple[object, ...]] = (
            zip(*columns.values(), strict=True) if names else repeat((), batch.num_rows)
        )
        for index, values in enumerate(rows):
            position += 1
            record = dict(zip(names, values, strict=True))
            if null_id and record["ticket_id"] is None:
                del record["ticket_id"]
            if null_at and record["at"] is None:
                del record["at"]
            if has_fields:
                fields = record["fields"]
                if fields is not None:
                    record["fields"] = normalize_fields(fields)
            line = lines[index] if lines is not None else None
            yield (line if type(line) is int and line else position), record


def parquet_records(path: str, name: str | None = None) -> Iterator[tuple[int, object]]:
    """Records of a Parquet file (columns as in the JSONL format; ``fields`` a
    JSON string, a struct or a map; ``at`` text or a timestamp with a zone).
    A file pyarrow cannot read (empty, cut short, not Parquet) is an
    :class:`SlaError` naming it (``name``: as the user named it)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SlaError('reading Parquet needs pyarrow: pip install "sla[arrow]"') from None
    try:
        yield from arrow_records(pq.ParquetFile(path).iter_batches(batch_size=65_536))
    except (pa.ArrowException, OSError) as exc:
        start = b""
        with contextlib.suppress(OSError), open(path, "rb") as handle:
            start = handle.read(4096)
        raise SlaError(
            f"{_shown(path, name)}: not a readable Parquet file ({type(exc).__name__}: {str(exc)[:200]})"
            + _parquet_hint(start)
        ) from None


def _parquet_hint(head: bytes) -> str:
    """What a file read as Parquet but unreadable as one looks like."""
    if not head:
        return "; it is empty"
    if head.startswith(b"PAR1"):
        return ""  # Parquet, cut short or damaged
    if head.lstrip().startswith((b"{", b"[")):
        return "; it looks like JSON Lines: use --input-format jsonl or a .jsonl name"
    looks = _what_it_looks_like(head)
    return "" if looks.startswith("each line") else f"; {looks}"


def records(
    path: str,
    fmt: str,
    mapping: CsvMap | None = None,
    row_errors: dict[int, str] | None = None,
    name: str | None = None,
) -> Iterable[tuple[int, object]]:
    """The (line, record) pairs of an event file ('-' is standard input, JSONL);
    ``mapping`` reads a CSV file's own columns (see :func:`csv_records`)."""
    if mapping is not None and fmt != "csv":
        raise SlaError(
            f"a column mapping ({mapping.source}) reads CSV input; {name or path} is read as {fmt}"
        )
    if path == "-":
        head: list[bytes] = []
        return JsonlRecords(
            _stdin_chunks(head), give_up=_give_up(path, name, head), give_up_after=GIVE_UP_AFTER
        )
    if fmt == "csv":
        return csv_records(path, mapping, row_errors, name)
    if fmt == "parquet":
        return parquet_records(path, name)
    return JsonlRecords(
        range_chunks(path, 0, None), give_up=_give_up(path, name), give_up_after=GIVE_UP_AFTER
    )


def read_events_file(
    path: str,
    fmt: str | None = None,
    mapping: CsvMap | None = None,
    *,
    only: str | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """All tickets of an event file, in memory, by first appearance; with
    ``only``, just that ticket (the rest is read past, not kept), and
    ``progress`` told each line number read."""
    row_errors: dict[int, str] = {}
    found = records(path, detect_format(path, fmt), mapping, row_errors)
    if only is not None or progress is not None:
        found = _picked(found, only, progress)
    tickets, line_errors = collect_all(found)
    for ticket in tickets.values():
        error = ticket.error
        if error is not None and error.line in row_errors:
            ticket.error = EventError(row_errors[error.line], error.line, ticket.ticket_id)
    return tickets, line_errors


def _picked(
    found: Iterable[tuple[int, object]], only: str | None, progress: Progress | None
) -> Iterator[tuple[int, object]]:
    for number, record in found:
        if progress is not None:
            progress.update(number)
        if only is None or (isinstance(record, dict) and ticket_key(record.get("ticket_id")) == only):
            yield number, record


__all__ = [
    "EVENT_COLUMNS",
    "FORMATS",
    "arrow_records",
    "detect_format",
    "range_chunks",
    "read_events_file",
    "records",
]
