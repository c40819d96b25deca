"""Reading JSON Lines, the hot part: lines of a stream in bounded chunks,
and (line number, record) pairs through orjson, with the exact slow path
of :mod:`sla.engine.jsonl` for what orjson refuses.  One of the engine's
hot modules (compiled where it can be, see ``setup.py``); import these
from :mod:`sla.engine.jsonl`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from sla.engine.events import LineError
from sla.engine.jsonl import _LOADS, LONG_LINE, MAX_LINE_BYTES, Unreadable, loads_slowly

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


def jsonl_records(
    lines: Iterable[bytes | str] | IO[bytes], start_line: int = 1
) -> Iterator[tuple[int, object]]:
    """(line number, parsed object) per non-blank line; a ``LineError`` for a
    line that is not JSON.  A binary stream is read with :func:`bounded_lines`."""
    if hasattr(lines, "read"):
        return chunk_records(bounded_chunks(lines), start_line)  # type: ignore[arg-type]
    return chunk_records((lines,), start_line)


def chunk_records(
    chunks: Iterable[Iterable[bytes | str]], start_line: int = 1
) -> Iterator[tuple[int, object]]:
    """:func:`jsonl_records` of lines given in chunks (as :func:`bounded_chunks` reads them)."""
    loads = _LOADS
    number = start_line - 1
    for lines in chunks:
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
