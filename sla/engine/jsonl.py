"""JSON Lines into records: bounded line reading, the fast orjson path and
the exact slow path for what orjson refuses (big integers, deep nesting,
NaN), one (line number, record or LineError) pair per non-blank line.

Pure: it reads lines from a stream it is given; it never opens a file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO

from sla.engine.events import LineError, TicketEvents, collect_all
from sla.engine.json_values import LONG_LINE, MAX_LINE_BYTES, Unreadable, loads_slowly, loads_value

# The hot generators, compiled with the engine where it is (the JSON
# values they read with are sla.engine.json_values').
from sla.engine.lines import (
    JsonlRecords,
    bounded_chunks,
    bounded_lines,
    chunk_records,
    grouped,
    jsonl_records,
)
from sla.errors import ArgumentError, check_argument

__all__ = [
    "LONG_LINE",
    "JsonlRecords",
    "MAX_LINE_BYTES",
    "Unreadable",
    "loads_slowly",
    "loads_value",
    "bounded_chunks",
    "bounded_lines",
    "chunk_records",
    "grouped",
    "jsonl_records",
    "read_jsonl",
]


def read_jsonl(
    lines: Iterable[bytes | str] | IO[bytes] | IO[str], start_line: int = 1
) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """Parse JSONL lines into tickets (in order of first appearance) and line
    errors: lines (bytes or text), or a file opened in binary or text mode.

    >>> import io
    >>> tickets, errors = read_jsonl(io.StringIO('{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", '
    ...                                          '"type": "created", "fields": {}}\\nnot json\\n'))
    >>> list(tickets), [str(e) for e in errors]
    (['T1'], ['line 2: not valid JSON'])
    """
    if isinstance(lines, (str, bytes)):
        raise ArgumentError(
            "lines: expected lines or an open file, got one "
            f"{type(lines).__name__}; split it into lines first (text.splitlines())"
        )
    check_argument("start_line", start_line, int, "a line number")
    if isinstance(lines, io.TextIOBase):  # text mode: its lines are str already
        return collect_all(chunk_records((lines,), start_line))
    return collect_all(jsonl_records(lines, start_line))
