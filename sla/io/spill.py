"""Spilling ungrouped input to disk: records hashed by ticket into partition
files, each small enough to sort in memory, read back with their line numbers.

Two ways in: :func:`spill` writes records already read (any input format,
transformed or not) exactly, and :func:`spill_lines` writes JSON Lines as
they came, so that worker processes can spill byte ranges of one file side
by side without writing anything again (see :mod:`sla.io.parallel`). The
lines' partition files are read back by :func:`line_records`, which reads
each line exactly as the input was read."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson

from sla.engine.events import LineError, TicketEvents, collect_all, ticket_key
from sla.engine.jsonl import chunk_records
from sla.io.summary import Rejection

#: A partition file's write buffer: a megabyte, less when there are many
#: files, so that the buffers of one process stay within about 32 MB.
_BUFFER_BYTES = 1 << 20
_BUFFERS_BYTES = 32 << 20
#: Lines of a partition file read back at a time (:func:`line_records`).
_BATCH_LINES = 4096


def _unusable(record: object) -> str:
    if not isinstance(record, dict):
        return "not a JSON object"
    if "ticket_id" not in record:
        return "no ticket_id"
    return f"ticket_id is {record['ticket_id']!r}; expected a string or an integer"


def _ticket_of(number: int, record: object, problems: list[Rejection]) -> str | None:
    """The ticket of a line read, or None once the reason it is refused is in ``problems``."""
    if isinstance(record, LineError):
        problems.append(Rejection.of_line(record))
        return None
    key = ticket_key(record.get("ticket_id")) if isinstance(record, dict) else None
    if key is None:
        problems.append(Rejection(number, None, _unusable(record)))
    return key


class Partitions:
    """``count`` partition files in ``directory``, written line by line:
    ``number<TAB>payload``, the file chosen by a hash of the record's key, so
    that every record of one ticket lands in one file. The importers write
    their (ticket, event) pairs through this too.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     parts = Partitions(folder, 2)
    ...     parts.write("T1", 7, b"{}")
    ...     [list(numbered_records(p)) for p in parts.close()]
    [[], [(7, {})]]
    """

    def __init__(self, directory: str, count: int, name: str = "part") -> None:
        self.count = count
        self.paths = [os.path.join(directory, f"{name}-{i:04d}.jsonl") for i in range(count)]
        buffering = max(64 << 10, min(_BUFFER_BYTES, _BUFFERS_BYTES // count))
        self._handles = [open(p, "wb", buffering=buffering) for p in self.paths]  # noqa: SIM115 (see close)

    def write(self, key: str, number: int, payload: bytes) -> None:
        """One record's line, in the partition of ``key``."""
        self._handles[zlib.crc32(key.encode()) % self.count].write(b"%d\t%b\n" % (number, payload))

    def close(self) -> list[str]:
        """Close every file; their paths, in partition order."""
        for handle in self._handles:
            handle.close()
        return self.paths


def spill(
    source: Iterable[tuple[int, object]], directory: str, count: int
) -> tuple[list[str], list[Rejection]]:
    """Write records to ``count`` JSONL files hashed by ticket, each line
    prefixed by its original line number; lines naming no ticket are returned."""
    parts = Partitions(directory, count)
    problems: list[Rejection] = []
    try:
        for number, record in source:
            key = _ticket_of(number, record, problems)
            if key is not None:
                parts.write(key, number, dumps_exact(record))
    finally:
        paths = parts.close()
    return paths, problems


def spill_lines(
    chunks: Iterable[list[bytes]],
    parts: Partitions,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[list[Rejection], int]:
    """Spill JSON Lines, as :func:`sla.engine.jsonl.bounded_chunks` reads them,
    numbered from 1: each line that reads as a record naming its ticket is
    written as it came (read back by :func:`line_records`), or with
    ``prepare``, the record it makes written exactly (read back by
    :func:`numbered_records`). Returns the lines rejected and the number of
    lines read.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     parts = Partitions(folder, 1)
    ...     spill_lines([[b'{"ticket_id": "T1", "at": 1}', b"", b"[]"]], parts)
    ...     [list(line_records([(p, 10)])) for p in parts.close()]
    ([Rejection(line=3, ticket_id=None, reason='not a JSON object')], 3)
    [[(11, {'ticket_id': 'T1', 'at': 1})]]
    """
    problems: list[Rejection] = []
    write = parts.write
    read = 0  # lines before this chunk
    for lines in chunks:
        for number, record in chunk_records((lines,), read + 1):
            key = _ticket_of(number, record, problems)
            if key is None:
                continue
            if prepare is None:
                write(key, number, lines[number - read - 1])
            else:
                write(key, number, dumps_exact(prepare(record)))  # type: ignore[arg-type]
        read += len(lines)
    return problems, read


def dumps_exact(record: object) -> bytes:
    """A record as one JSON line that reads back as the same record: orjson
    writes NaN and infinities as null, so a record with a null is written by
    the json module instead, which keeps them (read back below)."""
    payload = orjson.dumps(record, default=str)
    if b"null" in payload:
        payload = json.dumps(record, default=str, separators=(",", ":")).encode()
    return payload


def numbered_records(path: str, offset: int = 0) -> Iterator[tuple[int, object]]:
    """The (original line, record) pairs of a partition file of records
    written exactly (by :func:`spill`, or :func:`spill_lines` with a
    transform); ``offset`` is added to the line numbers."""
    with open(path, "rb") as handle:
        for line in handle:
            number, _, payload = line.partition(b"\t")
            try:
                record = orjson.loads(payload)
            except orjson.JSONDecodeError:  # NaN or Infinity written by dumps_exact
                record = json.loads(payload)
            yield int(number) + offset, record


def line_records(pieces: Iterable[tuple[str, int]]) -> Iterator[tuple[int, object]]:
    """The (original line, record) pairs of partition files written by
    :func:`spill_lines` without a transform, given as (path, offset to add to
    its line numbers) in input order: each line read exactly as the input
    was (:func:`sla.engine.jsonl.chunk_records`), a batch of lines at a time."""
    for path, offset in pieces:
        with open(path, "rb") as handle:
            while batch := list(islice(handle, _BATCH_LINES)):
                numbers: list[int] = []
                payloads: list[bytes] = []
                for line in batch:
                    number, _, payload = line.partition(b"\t")
                    numbers.append(int(number))
                    payloads.append(payload)
                # Every line written read as a record, so the i-th record is the i-th line.
                for index, record in chunk_records((payloads,)):
                    yield numbers[index - 1] + offset, record


def partition_tickets(pieces: Sequence[tuple[str, int]], raw: bool = False) -> list[TicketEvents]:
    """A partition's tickets, finished, in order of their first input line:
    its files as (path, offset to add to its line numbers) in input order,
    written by :func:`spill_lines` without a transform (``raw``) or else by
    :func:`spill` or :func:`spill_lines` with one."""
    if raw:
        found = line_records(pieces)
    else:
        found = (pair for path, offset in pieces for pair in numbered_records(path, offset))
    tickets, _ = collect_all(found)  # spilling kept no bad lines
    return sorted(tickets.values(), key=lambda t: t.first_line)
