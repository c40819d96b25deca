"""The import driver: files in, section-3 events out, grouped by ticket.

:func:`import_events` runs in three passes, in memory bounded by one
partition whatever the export's size:

1. Read: every file's documents (:meth:`Source.documents`) are recognised
   and their records read; each event emitted gets a global sequence number
   and goes to disk through the pipeline's spill files (:class:`sla.io.spill.Partitions`),
   in partition files hashed by ticket, one line per event:
   ``sequence<TAB>ticket id as JSON<TAB>event as JSON``. Each record is
   freed once read. The vendor's own SLA verdicts
   (:class:`~sla.importers.base.VendorCycle`) are kept in a list.
2. Finish: one partition at a time, its lines held as bytes, each ticket's
   events parsed when it is finished (in emission order), then they
   go through :meth:`Source.finish_ticket`, are sorted by time (ties in
   emission order: one audit keeps its order), and are written as JSON Lines
   to a second scratch file, ticket by ticket, in order of first emission.
3. Merge: the finished partitions are merged on each ticket's first
   sequence number, so tickets come out in the order the export first named
   them, each ticket's lines together.

With ``jobs`` above 1, passes 1 and 2 run in worker processes
(:mod:`sla.importers.parallel`); the merge and the output are the same.

Nothing is printed here: what was skipped or refused goes to ``on_problem``
(or :attr:`ImportSummary.problems`) with its position.
"""

from __future__ import annotations

import errno
import gc
import heapq
import os
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from operator import itemgetter
from typing import IO

import orjson

from sla.errors import SlaError, TimestampError
from sla.importers.base import (
    Document,
    Emit,
    EventDict,
    ImportProblem,
    ImportSummary,
    Parked,
    Position,
    RecordError,
    Source,
    VendorCycle,
    instant_of,
)
from sla.importers.files import STDIN, walk
from sla.importers.parallel import finish_parallel, read_parallel, worker_count
from sla.io.sinks import Progress
from sla.io.sources import is_gzip
from sla.io.spill import Partitions
from sla.io.stopping import stoppable

#: Spilled events per partition, roughly: the input's size over this many bytes.
PARTITION_INPUT_BYTES = 48 << 20
#: Partitions at most (each holds an open file while spilling).
MAX_PARTITIONS = 256
#: Partitions for standard input, whose size is not known in advance.
STDIN_PARTITIONS = 64
#: A gzip file's input size is taken as this many times its size on disk.
GZIP_RATIO = 6
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: A finished partition's header before each ticket's lines: the ticket's
#: first sequence number and the size of its lines in bytes.
_BLOCK_HEADER = struct.Struct("<QQ")

OnProblem = Callable[[ImportProblem], None]


def import_events(
    source: Source,
    paths: Sequence[str],
    out: IO[bytes],
    *,
    workdir: str | None = None,
    progress: Progress | None = None,
    on_problem: OnProblem | None = None,
    jobs: int = 1,
) -> tuple[ImportSummary, list[VendorCycle]]:
    """Import the files and folders ``paths`` (``-``: standard input) read
    by ``source`` into ``out``, as section-3 events grouped by ticket in
    time order; returns the summary and the vendor's own SLA cycles.

    ``workdir`` holds the scratch files (default: the system's temporary
    folder); ``progress`` is told the records read, then the share of
    partitions finished; ``on_problem`` gets each record skipped, part
    unreadable, file unrecognised and ticket refused (default: kept in the
    summary's ``problems``). ``jobs`` above 1 reads and finishes with that
    many processes where the source allows it (:mod:`sla.importers.parallel`);
    the output is the same. The vendor's cycles are then the workers' in
    file order: ``sla reconcile`` reads in one process, so that a cycle whose
    records are in files of two workers is one cycle.
    """
    summary = ImportSummary()
    report = summary.problems.append if on_problem is None else on_problem
    files = list(walk(paths))  # a missing path fails before anything is read
    sizes = _input_sizes(files)
    count = _partition_count(files, sizes)
    workers = worker_count(source, files, sizes, jobs)
    cycles: list[VendorCycle] = []
    with (
        tempfile.TemporaryDirectory(prefix="sla-import-", dir=workdir) as scratch,
        _scratch_writes(scratch),
        _no_cycle_collection(),
    ):
        parked: list[tuple[str, Position, str]] = []
        if workers == 1:
            partitions = Partitions(scratch, count)  # every event names its ticket
            try:
                _read_all(source, files, partitions, summary, cycles, report, progress, parked=parked)
            finally:
                parts = [[path] for path in partitions.close()]
        else:
            results = read_parallel(source, files, sizes, workers, scratch, count, _read_all, progress)
            for result in results:  # in file order
                summary.files += result.files
                summary.records += result.records
                summary.skipped.update(result.skipped)
                for problem in result.problems:
                    report(problem)
                cycles += result.cycles
            parts = [[result.paths[index] for result in results] for index in range(count)]
        reasons, orphans = source.waiting()
        for ref, position, kind in parked:  # records that never found their ticket
            reason = reasons.get(ref)
            if reason is not None:
                summary.skipped[kind] += 1
                report(ImportProblem(position, kind, reason))
        cycles += orphans
        refused: list[tuple[int, ImportProblem]] = []
        if workers == 1:
            finished = []
            for index, part in enumerate(parts):
                finished.append(finish_partition(source, part, summary, refused))
                if progress is not None:
                    progress.share((index + 1) / len(parts), "partitions")
        else:
            finished = finish_parallel(source, parts, workers, finish_partition, summary, refused, progress)
        for _, problem in sorted(refused, key=itemgetter(0)):
            report(problem)
        _merge(finished, out)
    summary.notes = source.notes()
    return summary, cycles


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector off while importing: an import holds millions of
    small acyclic objects (a partition's events), which reference counting
    frees; the collector's passes over them cost about a tenth of the run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _scratch_writes(scratch: str) -> Iterator[None]:
    """Name the scratch folder when it fills up (a write error names no file)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL:
            raise
        raise SlaError(
            f"no space left for scratch files in {os.path.dirname(scratch)} ({exc.strerror}); "
            "set TMPDIR to a folder with room (about the export's size)"
        ) from None


def _input_sizes(files: list[str]) -> list[int]:
    """Each file's size as input (a gzip file's as :data:`GZIP_RATIO` times
    its size on disk; standard input's as 0)."""
    return [0 if f == STDIN else os.path.getsize(f) * (GZIP_RATIO if is_gzip(f) else 1) for f in files]


def _partition_count(files: list[str], sizes: list[int]) -> int:
    """Partitions enough that each holds about :data:`PARTITION_INPUT_BYTES` of input."""
    if STDIN in files:
        return STDIN_PARTITIONS
    return max(2, min(MAX_PARTITIONS, -(-sum(sizes) // PARTITION_INPUT_BYTES)))


def _read_all(
    source: Source,
    files: list[str],
    partitions: Partitions,
    summary: ImportSummary,
    cycles: list[VendorCycle],
    report: OnProblem,
    progress: Progress | None,
    *,
    first_sequence: int = 0,
    first_file: int = 0,
    parked: list[tuple[str, Position, str]] | None = None,
) -> None:
    """Every event emitted goes to ``partitions`` with a global sequence
    number (emission order, from ``first_sequence``); records counted,
    problems reported. ``files`` are the import's files from index
    ``first_file`` on (:meth:`Source.start_file`). A :class:`Parked` record
    goes to ``parked`` with its position and kind (a mergeable source, read
    by several processes without ``parked``, never parks)."""
    sequence = first_sequence
    skipped = summary.skipped
    write = partitions.write
    dumps = orjson.dumps
    records = 0
    for number, path in enumerate(files, first_file):
        summary.files += 1
        source.start_file(number)
        unrecognised = 0
        first_unrecognised: Position | None = None
        for item in source.documents(path):
            if not isinstance(item, Document):
                skipped["unreadable"] += 1
                report(ImportProblem(item.position, "unreadable", item.reason))
                continue
            found = source.recognise(item.value)
            if found is None:
                unrecognised += 1
                first_unrecognised = first_unrecognised or item.position
                continue
            for kind, kind_records in found:
                for index, record in enumerate(kind_records):
                    records += 1
                    try:
                        results = list(source.read(kind, record))  # all or nothing of a record
                    except RecordError as exc:
                        skipped[kind] += 1
                        report(ImportProblem(_where(item, found, index), kind, str(exc)))
                        continue
                    kind_records[index] = None  # freed now, while its objects are fresh in the cache
                    for result in results:
                        if type(result) is Emit:
                            sequence += 1
                            ticket = result[0]
                            write(ticket, sequence, dumps(ticket) + b"\t" + dumps(result[1], default=str))
                        elif isinstance(result, VendorCycle):
                            cycles.append(result)
                        elif isinstance(result, Parked):
                            if parked is None:
                                raise TypeError(f"{source.name} parked a record while read in parts")
                            parked.append((result.ref, _where(item, found, index), kind))
                        else:  # a subclass of Emit
                            sequence += 1
                            write(
                                result.ticket,
                                sequence,
                                dumps(result.ticket) + b"\t" + dumps(result.event, default=str),
                            )
            summary.records = records
            if progress is not None:
                progress.update(records)
        if unrecognised:
            skipped["unrecognised"] += unrecognised
            assert first_unrecognised is not None
            what = "a document that is" if unrecognised == 1 else f"{unrecognised:,} documents that are"
            report(ImportProblem(first_unrecognised, "unrecognised", f"{what} not {source.name} data"))


def _where(document: Document, found: list[tuple[str, list[object]]], index: int) -> Position:
    """A record's position: its document's, with its index when the document holds more than one."""
    where = document.position
    if sum(len(records) for _, records in found) == 1:
        return where
    return Position(where.file, where.line, index)


def finish_partition(
    source: Source, paths: list[str], summary: ImportSummary, refused: list[tuple[int, ImportProblem]]
) -> str:
    """Finish a partition's tickets into ``paths[0] + ".done"``: per ticket, a
    header (:data:`_BLOCK_HEADER`: its first sequence number and the size of
    its lines) and its JSON Lines, in order of first emission. A partition
    is one spill file per reading process, in the order of their files (so
    their sequence numbers ascend). The spill files are removed (disk is
    freed as it goes)."""
    in_time_order = source.finishes_in_time_order
    # Each ticket's lines kept as bytes, parsed only when the ticket is
    # finished: the objects of one ticket at a time, fresh in the cache,
    # rather than a whole partition's parsed long before they are used.
    tickets: dict[bytes, list[bytes]] = {}  # ticket (as JSON) -> first sequence, then events (as JSON)
    for path in paths:
        with open(path, "rb") as handle:
            for line in handle:
                sequence, key, event = line.split(b"\t", 2)
                lines = tickets.get(key)
                if lines is None:
                    tickets[key] = [sequence, event]
                else:
                    lines.append(event)
        os.remove(path)
    done = paths[0] + ".done"
    loads = orjson.loads
    with open(done, "wb", buffering=1 << 20) as out:
        for key, lines in stoppable(tickets.items()):  # a worker gives up here once told to stop
            first = int(lines[0])
            ticket: str = loads(key)
            events: list[EventDict] = [loads(raw) for raw in islice(lines, 1, None)]
            lines.clear()
            try:
                final, finished = source.finish_ticket(ticket, events)
                block = ticket_lines(final, finished, in_time_order=in_time_order)
            except RecordError as exc:
                summary.tickets_refused += 1
                refused.append((first, ImportProblem(f"ticket {ticket}", "refused", str(exc))))
            else:
                if finished:
                    summary.tickets += 1
                    summary.events += len(finished)
                    out.write(_BLOCK_HEADER.pack(first, len(block)))
                    out.write(block)
        tickets.clear()
    return done


def ticket_lines(ticket: str, events: list[EventDict], *, in_time_order: bool = False) -> bytes:
    """One ticket's events as JSON Lines, ``ticket_id`` first, sorted by their
    instant with ties in the given order; a :class:`RecordError` for an event
    whose ``at`` is no instant. ``in_time_order``: the events are sorted
    already and their instants checked (:attr:`Source.finishes_in_time_order`)."""
    if not in_time_order:
        events = _in_time_order(events)
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    head = b'{"ticket_id":' + dumps(ticket) + b","
    lines = []
    for event in events:
        if event and "ticket_id" not in event:
            lines.append(head + dumps(event, default=str, option=option)[1:])  # no dict to build
        else:
            line = {"ticket_id": ticket, **event}
            line["ticket_id"] = ticket  # first, and the driver's, whatever the event says
            lines.append(dumps(line, default=str, option=option))
    return b"".join(lines)


def _in_time_order(events: list[EventDict]) -> list[EventDict]:
    """The events sorted by instant, ties in the given order."""
    instants: list[int] = []
    known: dict[str, int] = {}  # an update's events share their instant
    for number, event in enumerate(events, 1):
        at = event.get("at")
        instant = known.get(at) if type(at) is str else None
        if instant is None:
            instant = _instant(at, number, event)
            if type(at) is str:
                known[at] = instant
        instants.append(instant)
    if any(instants[i] > instants[i + 1] for i in range(len(instants) - 1)):
        return [events[i] for i in sorted(range(len(events)), key=instants.__getitem__)]
    return events


def _instant(at: object, number: int, event: EventDict) -> int:
    """An event's ``at`` in epoch microseconds, or the ticket's :class:`RecordError`."""
    try:
        return instant_of(at)
    except TimestampError as exc:
        raise RecordError(f"event {number} ({event.get('type', 'no type')}): at: {exc}") from None


def _merge(finished: list[str], out: IO[bytes]) -> None:
    """The finished partitions' tickets, in order of first emission, into
    ``out``: a merge on the blocks' first sequence numbers, reading each
    partition's blocks in file order (one process, compiled: about 0.09 s
    of CPU per 100,000 tickets)."""
    handles = [open(path, "rb", buffering=1 << 18) for path in finished]  # noqa: SIM115 (closed below)
    header_size, unpack = _BLOCK_HEADER.size, _BLOCK_HEADER.unpack
    try:
        heap: list[tuple[int, int, int]] = []  # (first sequence, size, partition) of each next block
        for index, handle in enumerate(handles):
            header = handle.read(header_size)
            if header:
                first, length = unpack(header)
                heap.append((first, length, index))
        heapq.heapify(heap)
        write = out.write
        while heap:
            _, size, index = heap[0]
            handle = handles[index]
            write(handle.read(size))
            header = handle.read(header_size)
            if header:
                first, length = unpack(header)
                heapq.heapreplace(heap, (first, length, index))
            else:
                heapq.heappop(heap)
    finally:
        for handle in handles:
            handle.close()


__all__ = ["import_events", "ticket_lines"]
