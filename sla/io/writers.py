"""Writing evaluation rows: JSONL, CSV, a terminal table, Parquet.

Writers take the rows of one ticket at a time (``write_ticket``), so Parquet
row groups are cut on ticket boundaries and any engine can split the output
safely.
"""

from __future__ import annotations

import csv
import errno
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import orjson

from sla.texts import printable
from sla.timefmt import duration_text, from_us, header_instant, parse_instant

if TYPE_CHECKING:
    import pyarrow as pa

ROW_FIELDS = (
    "ticket_id",
    "policy",
    "metric",
    "cycle",
    "started_at",
    "ended_at",
    "state",
    "target_seconds",
    "hours",
    "elapsed_seconds",
    "remaining_seconds",
    "breached",
    "due_at",
    "paused_seconds",
    "paused",
)
OUTPUT_FORMATS = ("jsonl", "csv", "table", "parquet")

Row = dict[str, Any]


class EventBounds(Protocol):
    """The earliest and latest event instants of a run (``None``: no event)."""

    first: int | None
    last: int | None


class RowWriter(Protocol):
    """Takes one ticket's rows at a time; ``close`` finishes the output."""

    def write_ticket(self, rows: list[Row]) -> None: ...

    def close(self) -> None: ...


#: Why the kernel may refuse to copy between two files itself: then they are
#: copied through a buffer.
_NO_KERNEL_COPY = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EBADF, errno.EOPNOTSUPP, errno.EPERM, errno.ESPIPE}
)


def copy_file(source: IO[bytes], target: IO[bytes]) -> None:
    """All that is left of ``source`` appended to ``target``: by the kernel
    between two files where it can (``os.copy_file_range``, Linux), so the
    bytes never pass through Python; through a buffer otherwise (another
    system, a pipe, an in-memory buffer).

    >>> import io, tempfile
    >>> with tempfile.TemporaryFile() as a, tempfile.TemporaryFile() as b:
    ...     _ = a.write(b"rows\\n"); _ = a.seek(0); _ = b.write(b"head\\n")
    ...     copy_file(a, b); _ = b.seek(0); b.read()
    b'head\\nrows\\n'
    """
    copy_range = getattr(os, "copy_file_range", None)
    try:
        source_fd, target_fd = source.fileno(), target.fileno()
        position = source.tell()  # where its reader is (the descriptor may be ahead: read-ahead)
    except (OSError, AttributeError, ValueError):  # no descriptor (io.BytesIO and the like), a pipe
        copy_range = None
    if copy_range is not None:
        target.flush()  # what the target holds in its buffer goes first
        start, refused = position, False
        try:
            while part := copy_range(source_fd, target_fd, 1 << 30, position):
                position += part
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
            refused = True  # (before copying anything, in practice; else the rest follows)
        if position > start:  # the target's own idea of its position follows its descriptor's
            target.seek(0, os.SEEK_CUR)
        source.seek(position)
        if not refused:
            return
    shutil.copyfileobj(source, target, 1 << 20)


#: Rows are serialised into a buffer written out in chunks of about this many bytes.
CHUNK_BYTES = 1 << 18
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class JsonlWriter:
    """JSON Lines: each ticket's rows serialised as they come into a buffer
    that is written out in chunks (:data:`CHUNK_BYTES`), so memory stays
    bounded.  The engine hands it rows already as text (:meth:`write_lines`,
    from :func:`sla.engine.rows.ticket_jsonl`); rows as dicts (sorted by due
    instant, say) come through :meth:`write_ticket`."""

    def __init__(self, out: IO[bytes]):
        self.out = out
        self._pending: list[bytes] = []  # the text to write, in pieces
        self._size = 0

    def write_ticket(self, rows: list[Row]) -> None:
        self.write_lines(b"".join([orjson.dumps(row, option=_NEWLINE) for row in rows]))

    def write_lines(self, data: bytes) -> None:
        """A ticket's rows already serialised, each line ending in a newline."""
        self._pending.append(data)
        self._size += len(data)
        if self._size >= CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if pending:
            self.out.write(b"".join(pending))
            pending.clear()
            self._size = 0

    def write_raw(self, data: bytes) -> None:
        """Already serialised JSONL rows (from a worker process)."""
        self._flush()
        self.out.write(data)

    def write_file(self, path: str) -> None:
        """The JSONL rows of a file (a worker's piece of the output), whole."""
        self._flush()
        with open(path, "rb") as source:
            copy_file(source, self.out)

    def close(self) -> None:
        self._flush()
        self.out.flush()


class CsvWriter:
    """One row per cycle; ``paused`` holds the stretches as a JSON array,
    null is an empty cell, booleans are ``true``/``false``."""

    def __init__(self, out: IO[bytes]):
        # csv.writer wants text; encode straight into the byte stream (a
        # TextIOWrapper would close that stream when it is dropped).
        self.out = out
        self.writer = csv.writer(self)
        self.writer.writerow(ROW_FIELDS)

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))

    @staticmethod
    def _cell(value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return orjson.dumps(value).decode()
        return value

    def write_ticket(self, rows: list[Row]) -> None:
        cell = self._cell
        self.writer.writerows([cell(row[k]) for k in ROW_FIELDS] for row in rows)

    def close(self) -> None:
        self.out.flush()


@dataclass(frozen=True)
class TableOptions:
    """What the table's header says: ``now``, the zone of its due times
    (``None``: UTC) and where the rows come from (the policy file)."""

    now: int
    zone: str | None = None
    policies: str | None = None


class TableWriter:
    """A readable table; breached rows are marked with ``!``. Durations are
    in the one form of every command, in the hours the ``hours`` column names."""

    HEADERS = (
        "",
        "ticket",
        "policy",
        "metric",
        "#",
        "state",
        "elapsed",
        "target",
        "remaining",
        "due (UTC)",
        "hours",
    )

    def __init__(
        self,
        out: IO[bytes],
        options: TableOptions | None = None,
        event_range: Callable[[], EventBounds] | None = None,
    ):
        self.out = out
        self.options = options
        self.event_range = event_range
        self.zone = ZoneInfo(options.zone) if options is not None and options.zone else None
        self.rows: list[tuple[str, ...]] = []

    def _due(self, due: str | None) -> str:
        if not due:
            return ""
        if self.zone is None:
            return due.replace("T", " ").rstrip("Z")[:16]
        return from_us(parse_instant(due)).astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def write_ticket(self, rows: list[Row]) -> None:
        for row in rows:
            business = row["hours"] == "business"
            self.rows.append(
                (
                    "!" if row["breached"] else "",
                    printable(str(row["ticket_id"])),  # the data's text, one line a row
                    printable(row["policy"]),
                    row["metric"],
                    str(row["cycle"]),
                    row["state"],
                    duration_text(round(row["elapsed_seconds"] * 1_000_000), business=business),
                    duration_text(round(row["target_seconds"] * 1_000_000), business=business),
                    duration_text(round(row["remaining_seconds"] * 1_000_000), business=business),
                    self._due(row["due_at"]),
                    row["hours"],
                )
            )

    def _header(self) -> list[str]:
        options = self.options
        if options is None:
            return []
        zone = options.zone or "UTC"
        lines = [
            f"cycles as of {header_instant(options.now)}; due times in {zone}; "
            "durations in the hours of the last column"
        ]
        source = [f"policies: {options.policies}"] if options.policies else []
        bounds = self.event_range() if self.event_range is not None else None
        if bounds is not None and bounds.first is not None and bounds.last is not None:
            source.append(f"events: {header_instant(bounds.first)} .. {header_instant(bounds.last)}")
        if source:
            lines.append("; ".join(source))
        return lines + [""]

    def close(self) -> None:
        headers = self.HEADERS
        if self.zone is not None:
            headers = (*headers[:9], f"due ({self.options.zone if self.options else ''})", headers[10])
        rows = [headers] + self.rows
        widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
        lines = self._header()
        for index, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths).rstrip())
        breached = sum(1 for r in self.rows if r[0])
        lines.append(f"{len(self.rows)} cycles, {breached} breached (marked !)")
        self.out.write(("\n".join(lines) + "\n").encode())
        self.out.flush()


def arrow_row_schema() -> pa.Schema:
    import pyarrow as pa

    fields: list[tuple[str, pa.DataType]] = [
        ("ticket_id", pa.string()),
        ("policy", pa.string()),
        ("metric", pa.string()),
        ("cycle", pa.int64()),
        ("started_at", pa.string()),
        ("ended_at", pa.string()),
        ("state", pa.string()),
        ("target_seconds", pa.float64()),
        ("hours", pa.string()),
        ("elapsed_seconds", pa.float64()),
        ("remaining_seconds", pa.float64()),
        ("breached", pa.bool_()),
        ("due_at", pa.string()),
        ("paused_seconds", pa.float64()),
        ("paused", pa.list_(pa.list_(pa.string()))),
    ]
    return pa.schema(fields)


def arrow_batch(rows: Sequence[Sequence[object]], schema: pa.Schema) -> pa.RecordBatch:
    """Rows given as sequences of the schema's columns, in its order, as one
    record batch, built a column at a time: from dicts (``from_pylist``)
    Arrow looks every key up once per row, four times slower here.

    >>> import pyarrow as pa
    >>> schema = pa.schema([("ticket_id", pa.string()), ("elapsed_seconds", pa.float64())])
    >>> arrow_batch([("T1", 60), ("T2", None)], schema).to_pylist()
    [{'ticket_id': 'T1', 'elapsed_seconds': 60.0}, {'ticket_id': 'T2', 'elapsed_seconds': None}]
    """
    import pyarrow as pa

    columns: Iterable[Sequence[object]] = zip(*rows, strict=True) if rows else [() for _ in schema]
    arrays = [pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class ParquetWriter:
    """Parquet with row groups cut on ticket boundaries (about ``group_rows`` rows each)."""

    def __init__(self, out: IO[bytes], group_rows: int = 65_536):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            from sla.errors import SlaError

            raise SlaError('--format parquet needs pyarrow: pip install "sla[arrow]"') from None
        self.schema = arrow_row_schema()
        self.writer = pq.ParquetWriter(out, self.schema)
        self.group_rows = group_rows
        self.columns_of = itemgetter(*self.schema.names)  # a row's values, in the schema's order
        self.pending: list[tuple[object, ...]] = []

    def write_ticket(self, rows: list[Row]) -> None:
        self.pending += map(self.columns_of, rows)
        if len(self.pending) >= self.group_rows:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_batch(arrow_batch(self.pending, self.schema), row_group_size=len(self.pending))
            self.pending = []

    def close(self) -> None:
        self._flush()
        self.writer.close()


WRITERS: dict[str, Callable[[IO[bytes]], RowWriter]] = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "table": TableWriter,
    "parquet": ParquetWriter,
}


def open_writer(fmt: str, out: IO[bytes]) -> RowWriter:
    """The writer of an output format (one of :data:`OUTPUT_FORMATS`)."""
    writer: RowWriter = WRITERS[fmt](out)
    return writer
