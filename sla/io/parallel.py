"""Parallel jobs: what a worker process does with its piece of the input,
and how JSONL is cut into byte ranges on ticket boundaries: grouped input
is evaluated range by range (:func:`range_job`); ungrouped input is spilled
range by range to hashed partitions (:func:`spill_range_job`), which are
then evaluated one by one (:func:`partition_job`).

Workers get the sink's part maker once, when the pool starts, and the
run's record transform (``prepare``, see :func:`prepared`) if it has one;
each job returns its part's result and a :class:`RunSummary` whose line
numbers are counted from the start of its piece. A job gives up between
two pieces of its input (chunks read, tickets fed) once the pool is told
to stop (see :mod:`sla.io.workers`).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from sla.engine.events import LineError, NotGrouped, TicketEvents, ticket_key
from sla.engine.jsonl import chunk_records, grouped
from sla.io.sinks import Part, feed
from sla.io.sources import range_chunks
from sla.io.spill import Partitions, partition_tickets, spill_lines
from sla.io.stopping import check_stop, stoppable
from sla.io.summary import Rejection, RunSummary
from sla.policy.runtime import PolicySet

if TYPE_CHECKING:
    from sla.io.workers import Workers

PartMaker = Callable[[str], Part[Any]]
#: A record transform applied to every record read (a JSON object) before it
#: is validated; it returns the record to use (the same one, changed or not).
Prepare = Callable[[dict[str, Any]], dict[str, Any]]
_WORKER: dict[str, PartMaker] = {}
_PREPARE: dict[str, Prepare] = {}


def prepared(found: Iterable[tuple[int, object]], prepare: Prepare | None) -> Iterable[tuple[int, object]]:
    """The (line, record) pairs with ``prepare`` applied to each record that
    is a JSON object (unreadable lines pass as they are); ``found`` itself
    when there is no transform, so the default path costs nothing."""
    if prepare is None:
        return found
    return _prepared(found, prepare)


def _prepared(found: Iterable[tuple[int, object]], prepare: Prepare) -> Iterator[tuple[int, object]]:
    for number, record in found:
        yield number, prepare(record) if type(record) is dict else record


def _init_worker(maker: PartMaker, prepare: Prepare | None = None) -> None:
    gc.disable()  # workers hold many live objects briefly; see sla.io.bulk
    _WORKER["maker"] = maker
    _PREPARE.clear()  # a forked worker starts with its parent's
    if prepare is not None:
        _PREPARE["record"] = prepare


def pool(jobs: int, maker: PartMaker, prepare: Prepare | None = None) -> Workers:
    """A pool of ``jobs`` workers that make their parts with ``maker`` and,
    where they read the input themselves (:func:`range_job`), apply
    ``prepare`` to its records; both must pickle."""
    # Here: a run with one job starts no workers and need not load them.
    import multiprocessing

    from sla.io.workers import Workers

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return Workers(jobs, _init_worker, (maker, prepare), context)


def _zone_fallbacks(maker: PartMaker) -> set[str]:
    policies = getattr(maker, "policies", None)
    return set(policies.zone_fallbacks()) if isinstance(policies, PolicySet) else set()


#: One spilled partition: its files as (path, offset to add to the line
#: numbers written in it), whether they hold input lines as they came (see
#: :func:`sla.io.spill.partition_tickets`), and the file for the part's output.
PartitionTask = tuple[list[tuple[str, int]], bool, str]


def run_partition(maker: PartMaker, task: PartitionTask) -> tuple[Any, RunSummary]:
    """One spilled partition through a part (line numbers are the input's)."""
    pieces, raw, out_path = task
    check_stop()
    part, summary = maker(out_path), RunSummary()
    feed(stoppable(partition_tickets(pieces, raw)), part, summary)
    summary.zone_fallbacks = _zone_fallbacks(maker)
    return part.close(), summary


def partition_job(task: PartitionTask) -> tuple[Any, RunSummary]:
    return run_partition(_WORKER["maker"], task)


def spill_range(
    path: str,
    start: int,
    end: int | None,
    directory: str,
    count: int,
    prepare: Prepare | None = None,
    tell: Callable[[int], None] | None = None,
) -> tuple[list[str], list[Rejection], int]:
    """Spill a byte range of JSONL (to the end with ``end=None``) into
    ``count`` partition files of its own in ``directory``, hashed by ticket
    as every range's are, lines numbered from 1 within the range, records
    through ``prepare`` if any; ``tell`` is told the lines read so far, a
    read at a time. Returns the files in partition order, the lines
    rejected and the number of lines read (which numbers the next range's
    lines)."""
    parts = Partitions(directory, count, name=f"spill-{start}")
    lines = _LineCount(tell)
    try:
        problems, read = spill_lines(lines.through(range_chunks(path, start, end)), parts, prepare)
    finally:
        paths = parts.close()
    return paths, problems, read


def spill_range_job(task: tuple[str, int, int, str, int]) -> tuple[list[str], list[Rejection], int]:
    """:func:`spill_range` on a worker, its records through the pool's ``prepare``."""
    path, start, end, directory, count = task
    check_stop()
    return spill_range(path, start, end, directory, count, _PREPARE.get("record"))


class _LineCount:
    """Counts the lines of the chunks that pass through it, telling ``tell``
    the count after each chunk if given; on a worker, gives up between two
    chunks once its pool is told to stop (:func:`~sla.io.stopping.check_stop`)."""

    def __init__(self, tell: Callable[[int], None] | None = None) -> None:
        self.lines = 0
        self.tell = tell

    def through(self, chunks: Iterable[list[bytes]]) -> Iterator[list[bytes]]:
        for chunk in chunks:
            check_stop()
            self.lines += len(chunk)
            yield chunk
            if self.tell is not None:
                self.tell(self.lines)


def range_job(task: tuple[str, int, int, str]) -> tuple[Any, RunSummary, list[str], int] | None:
    """Stream a byte range of grouped JSONL, lines numbered from 1 within it
    (each record through the pool's ``prepare``, if any); None if a ticket's
    lines are not together.  Besides the part's result and the summary, the
    ids of its tickets and the number of its lines (so the parent need not
    read the range again to number the next one's lines)."""
    path, start, end, out_path = task
    check_stop()
    part, summary = _WORKER["maker"](out_path), RunSummary()
    line_errors: list[LineError] = []
    ids: list[str] = []
    count = _LineCount()

    def remember(tickets: Iterable[TicketEvents]) -> Iterator[TicketEvents]:
        for ticket in tickets:
            ids.append(ticket.ticket_id)
            yield ticket

    try:
        lines = count.through(range_chunks(path, start, end))
        found = prepared(chunk_records(lines), _PREPARE.get("record"))
        feed(remember(grouped(found, line_errors)), part, summary)
    except NotGrouped:
        part.close()
        return None
    summary.rejections += [Rejection.of_line(e) for e in line_errors]
    summary.zone_fallbacks = _zone_fallbacks(_WORKER["maker"])
    return part.close(), summary, ids, count.lines


_PIECE = 1 << 20


def _ticket_of(line: bytes) -> str | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return ticket_key(record.get("ticket_id")) if isinstance(record, dict) else None


def ticket_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of a JSONL file cut where the ticket id changes, about equal in size."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as handle:
        for index in range(1, parts):
            target = max(size * index // parts, cuts[-1])
            handle.seek(target)
            if target:
                while (part := handle.readline(_PIECE)) and not part.endswith(b"\n"):
                    pass  # move to the start of a line (a long one in pieces)
            position = handle.tell()
            first = None
            while True:
                line = handle.readline(_PIECE)  # a longer line comes in pieces: none is a ticket
                if not line:
                    position = size
                    break
                ticket = _ticket_of(line)
                if first is None and ticket is not None:
                    first = ticket
                elif ticket is not None and ticket != first:
                    break
                position += len(line)
            if cuts[-1] < position < size:
                cuts.append(position)
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def count_lines(path: str, start: int, end: int) -> int:
    """Newlines in the byte range ``[start, end)``."""
    count = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 24))
            if not block:
                break
            count += block.count(b"\n")
            remaining -= len(block)
    return count
