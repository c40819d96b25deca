"""Evaluating whole event files: streaming, sorting, spilling, parallel jobs.

The engine itself is per ticket and pure; this module decides how tickets
reach it (the I/O shell):

- Input whose tickets' lines are together (most exports) streams one ticket
  at a time in bounded memory.
- Input that is not grouped is gathered in memory when small, else spilled
  to partition files hashed by ticket, each evaluated in memory, and merged
  back in order of first appearance.
- With ``jobs > 1``, grouped JSONL is cut into byte ranges on ticket
  boundaries and other input into hashed partitions; a process pool
  evaluates them and the parent writes their rows in input order, so the
  output is identical to ``jobs=1``.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import orjson

from sla.engine.batch import evaluate_events
from sla.engine.events import LineError, NotGrouped, TicketEvents, collect_all, stream_grouped
from sla.io.sources import detect_format, jsonl_range, records
from sla.io.writers import JsonlWriter, open_writer
from sla.policy.compile import PolicySet

IN_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024  # ungrouped input below this is sorted in memory
PARTITION_BYTES = 48 * 1024 * 1024
MIN_PARALLEL_BYTES = 16 * 1024 * 1024  # smaller input is not worth starting workers for


@dataclass(order=True)
class Rejection:
    """A rejected ticket or line, reported on standard error in line order."""

    line: int
    ticket_id: str | None = field(compare=False)
    reason: str = field(compare=False)

    def __str__(self) -> str:
        who = f"ticket {self.ticket_id}: " if self.ticket_id is not None else ""
        return f"line {self.line}: {who}{self.reason}"


@dataclass
class RunSummary:
    tickets: int = 0
    rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_tickets(self) -> int:
        return sum(1 for r in self.rejections if r.ticket_id is not None)

    @property
    def rejected_lines(self) -> int:
        return sum(1 for r in self.rejections if r.ticket_id is None)


def _rejection(ticket: TicketEvents) -> Rejection:
    error = ticket.error
    assert error is not None
    return Rejection(
        error.line if error.line is not None else ticket.first_line, ticket.ticket_id, error.reason
    )


def _line_rejection(error: LineError) -> Rejection:
    return Rejection(error.line, None, error.reason)


def evaluate_tickets(policies: PolicySet, tickets, now: int, writer, summary: RunSummary) -> None:
    """Evaluate finished tickets in order into a writer, counting rejections."""
    for ticket in tickets:
        summary.tickets += 1
        if ticket.error is not None:
            summary.rejections.append(_rejection(ticket))
            continue
        rows = [r.to_row() for r in evaluate_events(policies, ticket, now)]
        summary.rows += len(rows)
        writer.write_ticket(rows)


# ------------------------------------------------------------ partitions
def _partition_of(ticket_id: str, count: int) -> int:
    return zlib.crc32(ticket_id.encode()) % count


def spill(
    source: Iterator[tuple[int, object]], directory: str, count: int
) -> tuple[list[str], list[Rejection]]:
    """Write records to ``count`` JSONL files hashed by ticket, each line
    prefixed by its original line number; lines naming no ticket are returned."""
    from sla.engine.events import ticket_key

    paths = [os.path.join(directory, f"part-{i:04d}.jsonl") for i in range(count)]
    handles = [open(p, "wb", buffering=1 << 20) for p in paths]
    problems: list[Rejection] = []
    try:
        for number, record in source:
            if isinstance(record, LineError):
                problems.append(_line_rejection(record))
                continue
            key = ticket_key(record.get("ticket_id")) if isinstance(record, dict) else None
            if key is None:
                reason = (
                    "not a JSON object"
                    if not isinstance(record, dict)
                    else (
                        "no ticket_id"
                        if "ticket_id" not in record
                        else f"ticket_id is {record['ticket_id']!r}; expected a string or an integer"
                    )
                )
                problems.append(Rejection(number, None, reason))
                continue
            handles[_partition_of(key, count)].write(
                b"%d\t" % number + orjson.dumps(record, default=str) + b"\n"
            )
    finally:
        for handle in handles:
            handle.close()
    return paths, problems


def _numbered_records(path: str) -> Iterator[tuple[int, object]]:
    with open(path, "rb") as handle:
        for line in handle:
            number, _, payload = line.partition(b"\t")
            yield int(number), orjson.loads(payload)


def evaluate_partition(policies: PolicySet, path: str, now: int, out_path: str) -> list[Rejection]:
    """Evaluate one partition file into ``out_path``: per ticket a ``#<first line>``
    header, then its JSONL rows.  Returns the partition's rejections."""
    tickets, _ = collect_all(_numbered_records(path))
    problems = []
    with open(out_path, "wb", buffering=1 << 20) as out:
        for ticket in sorted(tickets.values(), key=lambda t: t.first_line):
            if ticket.error is not None:
                problems.append(_rejection(ticket))
                continue
            rows = evaluate_events(policies, ticket, now)
            out.write(b"#%d\n" % ticket.first_line + b"".join(orjson.dumps(r.to_row()) + b"\n" for r in rows))
    return problems


def _partition_entries(path: str) -> Iterator[tuple[int, bytes]]:
    first_line, chunk = None, []
    with open(path, "rb") as handle:
        for line in handle:
            if line.startswith(b"#"):
                if first_line is not None:
                    yield first_line, b"".join(chunk)
                first_line, chunk = int(line[1:]), []
            else:
                chunk.append(line)
    if first_line is not None:
        yield first_line, b"".join(chunk)


def merge_partitions(out_paths: list[str], writer, summary: RunSummary) -> None:
    """Write partition outputs in order of their tickets' first lines."""
    raw = isinstance(writer, JsonlWriter)
    for _, blob in heapq.merge(*(_partition_entries(p) for p in out_paths)):
        summary.tickets += 1
        if not blob:
            continue
        if raw:
            writer.write_raw(blob)
            summary.rows += blob.count(b"\n")
        else:
            rows = [orjson.loads(line) for line in blob.splitlines()]
            summary.rows += len(rows)
            writer.write_ticket(rows)


# --------------------------------------------------------- worker entries
_WORKER: dict = {}


def _init_worker(policies: PolicySet, now: int, report_options: dict | None = None) -> None:
    import gc

    gc.disable()
    _WORKER["policies"], _WORKER["now"], _WORKER["report"] = policies, now, report_options


def _run_partition(args: tuple[str, str]) -> list[Rejection]:
    path, out_path = args
    return evaluate_partition(_WORKER["policies"], path, _WORKER["now"], out_path)


def _run_range(args: tuple[str, int, int, str]) -> tuple[list[Rejection], list[str], int] | None:
    """Stream a byte range of grouped JSONL; lines are numbered from 1 within it."""
    path, start, end, out_path = args
    policies, now = _WORKER["policies"], _WORKER["now"]
    line_errors: list[LineError] = []
    summary = RunSummary()
    ids: list[str] = []
    with open(out_path, "wb", buffering=1 << 20) as out:
        writer = JsonlWriter(out)
        tickets = stream_grouped(jsonl_range(path, start, end, 1), line_errors)

        def remember(stream):
            for ticket in stream:
                ids.append(ticket.ticket_id)
                yield ticket

        try:
            evaluate_tickets(policies, remember(tickets), now, writer, summary)
        except NotGrouped:
            return None
    summary.rejections += [_line_rejection(e) for e in line_errors]
    return summary.rejections, ids, summary.rows


def _pool(jobs: int, policies: PolicySet, now: int, report_options: dict | None = None):
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    return context.Pool(jobs, initializer=_init_worker, initargs=(policies, now, report_options))


# ------------------------------------------------------------ byte ranges
def _ticket_of(line: bytes) -> str | None:
    from sla.engine.events import ticket_key

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
                handle.readline()  # move to the start of a line
            position = handle.tell()
            first = None
            while True:
                line = handle.readline()
                if not line:
                    position = size
                    break
                ticket = _ticket_of(line)
                if first is None and ticket is not None:
                    first = ticket
                elif ticket is not None and ticket != first:
                    break
                position += len(line)
            if position > cuts[-1] and position < size:
                cuts.append(position)
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _count_lines(path: str, start: int, end: int) -> int:
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


# ---------------------------------------------------------------- driver
class Output:
    """The destination, able to start over if streaming finds ungrouped input."""

    def __init__(self, target: IO[bytes]):
        self.target = target
        try:
            target.seek(0, os.SEEK_CUR)
            self.spool = None
            self.stream = target
        except (OSError, ValueError, AttributeError):
            self.spool = tempfile.TemporaryFile()
            self.stream = self.spool

    def restart(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()

    def finish(self) -> None:
        self.stream.flush()
        if self.spool is not None:
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, self.target, 1 << 20)
            self.target.flush()
            self.spool.close()


def _readable_twice(path: str, scratch: str) -> str:
    """The input as a file path: standard input is copied to the scratch
    folder first, since ungrouped input is read a second time."""
    if path != "-":
        return path
    copy = os.path.join(scratch, "stdin")
    with open(copy, "wb") as handle:
        shutil.copyfileobj(sys.stdin.buffer, handle, 1 << 20)
    return copy


def evaluate_file(
    policies: PolicySet,
    path: str,
    now: int,
    target: IO[bytes],
    fmt: str = "jsonl",
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
) -> RunSummary:
    """Evaluate every ticket of an event file into ``target`` in the output format."""
    input_format = detect_format(path, input_format)
    output = Output(target)
    with tempfile.TemporaryDirectory(prefix="sla-", dir=workdir) as scratch:
        path = _readable_twice(path, scratch)
        size = os.path.getsize(path)
        jobs = 1 if size < MIN_PARALLEL_BYTES else max(1, jobs)
        summary = None
        if jobs > 1 and input_format == "jsonl":
            summary = _parallel_ranges(policies, path, now, output, fmt, jobs, scratch)
        elif jobs == 1:
            summary = _stream(policies, path, input_format, now, output, fmt)
        if summary is None:
            output.restart()
            summary = _sorted(policies, path, input_format, now, output, fmt, jobs, size, scratch)
    output.finish()
    summary.rejections.sort()
    return summary


def _stream(policies, path, input_format, now, output, fmt) -> RunSummary | None:
    summary = RunSummary()
    line_errors: list[LineError] = []
    writer = open_writer(fmt, output.stream)
    try:
        evaluate_tickets(
            policies, stream_grouped(records(path, input_format), line_errors), now, writer, summary
        )
    except NotGrouped:
        writer.close()  # now, before the output restarts: nothing of it may come later
        return None
    writer.close()
    summary.rejections += [_line_rejection(e) for e in line_errors]
    return summary


def _parallel_ranges(policies, path, now, output, fmt, jobs, scratch) -> RunSummary | None:
    ranges = ticket_ranges(path, jobs * 2)
    tasks = [
        (path, start, end, os.path.join(scratch, f"range-{i:04d}.jsonl"))
        for i, (start, end) in enumerate(ranges)
    ]
    with _pool(jobs, policies, now) as pool:
        results = pool.map(_run_range, tasks, chunksize=1)
    if any(result is None for result in results):
        return None  # a range was not grouped
    seen: set[str] = set()
    for _, ids, _ in results:
        before = len(seen)
        seen.update(ids)
        if len(seen) != before + len(ids):
            return None  # a ticket spans two ranges: the input is not grouped
    summary = RunSummary()
    writer = open_writer(fmt, output.stream)
    offset = 0
    for (path_, start, end, out_path), (problems, ids, rows) in zip(tasks, results, strict=False):
        summary.rejections += [Rejection(p.line + offset, p.ticket_id, p.reason) for p in problems]
        summary.tickets += len(ids)
        summary.rows += rows
        with open(out_path, "rb") as part:
            if isinstance(writer, JsonlWriter):
                shutil.copyfileobj(part, output.stream, 1 << 20)
            else:
                _rewrite_by_ticket(part, writer)
        offset += _count_lines(path, start, end)
    writer.close()
    return summary


def _rewrite_by_ticket(lines, writer) -> None:
    """Feed JSONL rows to a writer one ticket at a time."""
    batch: list[dict] = []
    for line in lines:
        row = orjson.loads(line)
        if batch and row["ticket_id"] != batch[-1]["ticket_id"]:
            writer.write_ticket(batch)
            batch = []
        batch.append(row)
    writer.write_ticket(batch)


def _sorted(policies, path, input_format, now, output, fmt, jobs, size, scratch) -> RunSummary:
    summary = RunSummary()
    writer = open_writer(fmt, output.stream)
    if jobs == 1 and size < IN_MEMORY_LIMIT_BYTES:
        tickets, line_errors = collect_all(records(path, input_format))
        evaluate_tickets(policies, tickets.values(), now, writer, summary)
        summary.rejections += [_line_rejection(e) for e in line_errors]
        writer.close()
        return summary
    count = max(jobs * 2, -(-size // PARTITION_BYTES), 2)
    parts, problems = spill(records(path, input_format), scratch, count)
    summary.rejections += problems
    tasks = [(p, p + ".out") for p in parts]
    if jobs > 1:
        with _pool(jobs, policies, now) as pool:
            results = pool.map(_run_partition, tasks, chunksize=1)
    else:
        results = [evaluate_partition(policies, p, now, out) for p, out in tasks]
    for found in results:
        summary.rejections += found
        summary.tickets += sum(1 for r in found if r.ticket_id is not None)
    merge_partitions([out for _, out in tasks], writer, summary)
    writer.close()
    return summary


# ---------------------------------------------------------------- reports
def _run_range_report(args: tuple[str, int, int]):
    from sla.report.figures import ReportBuilder

    path, start, end = args
    builder = ReportBuilder(_WORKER["policies"], _WORKER["now"], **_WORKER["report"])
    line_errors: list[LineError] = []
    ids: list[str] = []
    problems: list[Rejection] = []
    try:
        for ticket in stream_grouped(jsonl_range(path, start, end, 1), line_errors):
            ids.append(ticket.ticket_id)
            if ticket.error is not None:
                problems.append(_rejection(ticket))
            builder.add(ticket)
    except NotGrouped:
        return None
    return builder, problems + [_line_rejection(e) for e in line_errors], ids


def _run_partition_report(path: str):
    from sla.report.figures import ReportBuilder

    builder = ReportBuilder(_WORKER["policies"], _WORKER["now"], **_WORKER["report"])
    tickets, _ = collect_all(_numbered_records(path))
    problems = []
    for ticket in tickets.values():
        if ticket.error is not None:
            problems.append(_rejection(ticket))
        builder.add(ticket)
    return builder, problems


def report_file(
    policies: PolicySet,
    path: str,
    now: int,
    *,
    by=(),
    period=None,
    tz="UTC",
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
    progress=None,
):
    """Build the report of an event file; returns (Report, RunSummary of rejections)."""
    from sla.report.figures import ReportBuilder

    options = {"by": tuple(by), "period": period, "tz": tz}
    ReportBuilder(policies, now, **options)  # bad options fail before any reading
    input_format = detect_format(path, input_format)
    summary = RunSummary()
    with tempfile.TemporaryDirectory(prefix="sla-", dir=workdir) as scratch:
        path = _readable_twice(path, scratch)
        size = os.path.getsize(path)
        jobs = 1 if size < MIN_PARALLEL_BYTES else max(1, jobs)
        result = None
        if jobs > 1 and input_format == "jsonl":
            result = _report_ranges(policies, path, now, options, jobs, summary)
        elif jobs == 1:
            result = _report_stream(policies, path, input_format, now, options, summary, progress)
        if result is None:
            summary = RunSummary()
            result = _report_sorted(
                policies, path, input_format, now, options, jobs, size, scratch, summary, progress
            )
    summary.rejections.sort()
    return result.finish(), summary


def _counted(tickets, summary: RunSummary, progress):
    for index, ticket in enumerate(tickets, 1):
        summary.tickets += 1
        if ticket.error is not None:
            summary.rejections.append(_rejection(ticket))
        if progress is not None:
            progress.update(index)
        yield ticket


def _report_stream(policies, path, input_format, now, options, summary, progress):
    from sla.report.figures import ReportBuilder

    builder = ReportBuilder(policies, now, **options)
    line_errors: list[LineError] = []
    try:
        for ticket in _counted(stream_grouped(records(path, input_format), line_errors), summary, progress):
            builder.add(ticket)
    except NotGrouped:
        return None
    summary.rejections += [_line_rejection(e) for e in line_errors]
    return builder


def _report_ranges(policies, path, now, options, jobs, summary):
    from sla.report.figures import ReportBuilder

    ranges = ticket_ranges(path, jobs * 2)
    with _pool(jobs, policies, now, options) as pool:
        results = pool.map(_run_range_report, [(path, a, b) for a, b in ranges], chunksize=1)
    if any(r is None for r in results):
        return None
    seen: set[str] = set()
    builder = ReportBuilder(policies, now, **options)
    offset = 0
    for (start, end), (part, problems, ids) in zip(ranges, results, strict=False):
        before = len(seen)
        seen.update(ids)
        if len(seen) != before + len(ids):
            return None
        builder.merge(part)
        summary.tickets += len(ids)
        summary.rejections += [Rejection(p.line + offset, p.ticket_id, p.reason) for p in problems]
        offset += _count_lines(path, start, end)
    return builder


def _report_sorted(policies, path, input_format, now, options, jobs, size, scratch, summary, progress):
    from sla.report.figures import ReportBuilder

    builder = ReportBuilder(policies, now, **options)
    if jobs == 1 and size < IN_MEMORY_LIMIT_BYTES:
        tickets, line_errors = collect_all(records(path, input_format))
        for ticket in _counted(tickets.values(), summary, progress):
            builder.add(ticket)
        summary.rejections += [_line_rejection(e) for e in line_errors]
        return builder
    count = max(jobs * 2, -(-size // PARTITION_BYTES), 2)
    parts, problems = spill(records(path, input_format), scratch, count)
    summary.rejections += problems
    if jobs > 1:
        with _pool(jobs, policies, now, options) as pool:
            results = pool.map(_run_partition_report, parts, chunksize=1)
    else:
        _WORKER["report"] = options
        _WORKER["policies"], _WORKER["now"] = policies, now
        results = [_run_partition_report(p) for p in parts]
    for part, found in results:
        builder.merge(part)
        summary.rejections += found
        summary.tickets += part.accepted + part.rejected
    return builder
