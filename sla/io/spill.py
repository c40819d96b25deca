"""Spilling ungrouped input to disk: records hashed by ticket into partition
files, each small enough to sort in memory, read back with their line numbers."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator

import orjson

from sla.engine.events import LineError, TicketEvents, collect_all, ticket_key
from sla.io.summary import Rejection


def _unusable(record: object) -> str:
    if not isinstance(record, dict):
        return "not a JSON object"
    if "ticket_id" not in record:
        return "no ticket_id"
    return f"ticket_id is {record['ticket_id']!r}; expected a string or an integer"


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

    def __init__(self, directory: str, count: int) -> None:
        self.count = count
        self.paths = [os.path.join(directory, f"part-{i:04d}.jsonl") for i in range(count)]
        self._handles = [open(p, "wb", buffering=1 << 20) for p in self.paths]  # noqa: SIM115 (see close)

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
            if isinstance(record, LineError):
                problems.append(Rejection.of_line(record))
                continue
            key = ticket_key(record.get("ticket_id")) if isinstance(record, dict) else None
            if key is None:
                problems.append(Rejection(number, None, _unusable(record)))
                continue
            parts.write(key, number, dumps_exact(record))
    finally:
        paths = parts.close()
    return paths, problems


def dumps_exact(record: object) -> bytes:
    """A record as one JSON line that reads back as the same record: orjson
    writes NaN and infinities as null, so a record with a null is written by
    the json module instead, which keeps them (read back below)."""
    payload = orjson.dumps(record, default=str)
    if b"null" in payload:
        payload = json.dumps(record, default=str, separators=(",", ":")).encode()
    return payload


def numbered_records(path: str) -> Iterator[tuple[int, object]]:
    """The (original line, record) pairs of a partition file."""
    with open(path, "rb") as handle:
        for line in handle:
            number, _, payload = line.partition(b"\t")
            try:
                record = orjson.loads(payload)
            except orjson.JSONDecodeError:  # NaN or Infinity written by dumps_exact
                record = json.loads(payload)
            yield int(number), record


def partition_tickets(path: str) -> list[TicketEvents]:
    """A partition's tickets, finished, in order of their first input line."""
    tickets, _ = collect_all(numbered_records(path))  # spill kept no bad lines
    return sorted(tickets.values(), key=lambda t: t.first_line)
