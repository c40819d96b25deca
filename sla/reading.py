"""Reading event files at the edge (JSONL now; more formats with the scale work)."""

from __future__ import annotations

import sys

from .events import LineError, TicketEvents, read_jsonl


def read_events_file(path: str) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """All tickets of a JSONL file ('-' for standard input), by first appearance."""
    if path == "-":
        return read_jsonl(sys.stdin.buffer)
    with open(path, "rb") as handle:
        return read_jsonl(handle)
