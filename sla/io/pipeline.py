"""Evaluating whole event files: one driver, any sink.

The engine is per ticket and pure; this module decides how tickets reach a
sink (:mod:`sla.io.sinks`):

- Input whose tickets' lines are together (most exports) streams one ticket
  at a time in bounded memory.
- Input that is not grouped is gathered in memory when small, else spilled
  to partition files hashed by ticket (:mod:`sla.io.spill`), each read in
  memory; the sink gets the partitions' results interleaved back in order of
  first appearance.
- With ``jobs > 1``, grouped JSONL is cut into byte ranges on ticket
  boundaries and other input into hashed partitions; a process pool runs the
  pieces (:mod:`sla.io.parallel`) and the sink gathers them in input order,
  so the output is identical to ``jobs=1``. The workers spill ungrouped
  JSONL themselves, a byte range each; other input is spilled here.
- A CSV file read through a column mapping (``--map``, :mod:`sla.io.csv_map`)
  is mapped as it is read, by the process that reads it: workers get
  spilled partitions of mapped records, so what they evaluate is the same
  for every ``jobs``. A mapped row that cannot be read rejects its ticket;
  its reason is put back into the rejection here.
- A record transform (``prepare``, such as the sentiment scorer of
  :mod:`sla.io.sentiment`) is applied by whichever process reads a record:
  here for streaming, sorting and spilling (partitions hold transformed
  records), in the workers for byte ranges (streamed or spilled); so every
  path, and every ``jobs``, evaluates the same records.

Rejections are counted here, whatever the sink, and come back sorted by line.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import tzinfo
from functools import partial
from typing import IO, TYPE_CHECKING, Any

from sla.engine.events import LineError, NotGrouped, collect_all
from sla.engine.jsonl import LONG_LINE, MAX_LINE_BYTES, bounded_lines, grouped
from sla.errors import SlaError
from sla.io.csv_rows import CsvMap, MappedPath, explain_row_errors
from sla.io.parallel import (
    PartitionTask,
    Prepare,
    partition_job,
    prepared,
    range_job,
    run_partition,
    spill_range,
    spill_range_job,
    ticket_ranges,
)
from sla.io.parallel import pool as _pool
from sla.io.sinks import Progress, ReportSink, RowSink, Sink, feed
from sla.io.sources import detect_format, is_gzip, opened_input, records
from sla.io.spill import spill
from sla.io.summary import Rejection, RunSummary
from sla.policy.runtime import PolicySet

if TYPE_CHECKING:
    from sla.report.results import Report

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
IN_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024  # ungrouped input below this is sorted in memory
PARTITION_BYTES = 48 * 1024 * 1024
MIN_PARALLEL_BYTES = 16 * 1024 * 1024  # smaller input is not worth starting workers for
Records = Callable[[], Iterable[tuple[int, object]]]  # reads the input (again) from the start


def run(
    sink: Sink[Any, Any],
    path: str,
    *,
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
    progress: Progress | None = None,
    mapping: CsvMap | None = None,
    prepare: Prepare | None = None,
) -> RunSummary:
    """Read every ticket of an event file into ``sink`` by the best path.

    ``path`` is a file or ``-`` (JSONL on standard input, or CSV with
    ``input_format="csv"``). ``mapping`` reads a CSV file's own columns
    (:mod:`sla.io.csv_map`); a :class:`~sla.io.csv_map.MappedPath` brings
    its own. ``prepare`` transforms each record read (a JSON object) before
    it is validated, on every path; it must pickle, for worker processes.
    The caller then calls ``sink.finish()`` for the sink's result.
    """
    if mapping is None and isinstance(path, MappedPath):
        mapping = path.mapping
    input_format = detect_format(path, input_format)
    name = "standard input" if path == "-" else str(path)
    row_errors: dict[int, str] = {}  # mapped rows that could not be read, by line
    with tempfile.TemporaryDirectory(prefix="sla-", dir=workdir) as scratch:
        with _scratch_writes(scratch):
            path = _readable_twice(path, scratch, input_format)
        read: Records = partial(records, path, input_format, mapping, row_errors, name)
        if prepare is not None:
            read = partial(_read_prepared, read, prepare)
        size = os.path.getsize(path)
        jobs = 1 if size < MIN_PARALLEL_BYTES else max(1, jobs)
        summary = None
        if jobs > 1 and input_format == "jsonl":
            summary = _parallel_ranges(sink, path, jobs, scratch, progress, prepare)
        elif jobs == 1:
            summary = _stream(sink, read, progress)
        if summary is None:
            jsonl_path = path if input_format == "jsonl" else None
            summary = _sorted(sink, read, jobs, size, scratch, progress, jsonl_path, prepare)
    policies = getattr(sink, "policies", None)
    if isinstance(policies, PolicySet):  # in-process paths counted here, workers' in their summaries
        summary.zone_fallbacks |= policies.zone_fallbacks()
    summary.rejections = explain_row_errors(summary.rejections, row_errors)
    summary.rejections.sort()
    return summary


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
            "set TMPDIR to a folder with room (about twice the input's size)"
        ) from None


def evaluate_file(
    policies: PolicySet,
    path: str,
    now: int,
    target: IO[bytes],
    fmt: str = "jsonl",
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
    mapping: CsvMap | None = None,
    prepare: Prepare | None = None,
) -> RunSummary:
    """Evaluate every ticket of an event file into ``target`` in the output
    format (``prepare``: a record transform, see :func:`run`)."""
    sink = RowSink(policies, now, target, fmt)
    summary = run(
        sink, path, jobs=jobs, input_format=input_format, workdir=workdir, mapping=mapping, prepare=prepare
    )
    summary.rows = sink.finish()
    return summary


def report_file(
    policies: PolicySet,
    path: str,
    now: int,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    tz: str | tzinfo = "UTC",
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
    progress: Progress | None = None,
    mapping: CsvMap | None = None,
    prepare: Prepare | None = None,
    watchlist: bool = True,
) -> tuple[Report, RunSummary]:
    """Build the report of an event file; returns the report and the run's
    rejections. ``prepare`` transforms each record read (see :func:`run`;
    ``sla report --score-sentiment`` passes a
    :class:`~sla.io.sentiment.SentimentScorer`); ``watchlist=False`` skips
    the watch tables only the HTML page shows (see
    :class:`~sla.report.figures.ReportBuilder`)."""
    sink = ReportSink(policies, now, by=by, period=period, tz=tz, watchlist=watchlist)
    summary = run(
        sink,
        path,
        jobs=jobs,
        input_format=input_format,
        workdir=workdir,
        progress=progress,
        mapping=mapping,
        prepare=prepare,
    )
    return sink.finish(), summary


def _readable_twice(path: str, scratch: str, input_format: str) -> str:
    """The input as a regular file: standard input and pipes (``<(cmd)``, a
    FIFO) are copied to the scratch folder first, since ungrouped input is
    read a second time and parallel jobs seek in it. Text is copied line by
    line with over-long lines cut to just over the limit (they are rejected
    all the same), so an endless line cannot fill the disk."""
    if path != "-" and stat.S_ISREG(os.stat(path).st_mode) and not is_gzip(path):
        return path
    copy = os.path.join(scratch, "input")
    with open(copy, "wb") as out, opened_input(path) as source:
        if input_format == "parquet":
            shutil.copyfileobj(source, out, 1 << 20)
        else:
            too_long = b"x" * (MAX_LINE_BYTES + 1)
            write = out.write
            for line in bounded_lines(source):
                write(too_long if line is LONG_LINE else line)
                write(b"\n")
    return copy


def _read_prepared(read: Records, prepare: Prepare) -> Iterable[tuple[int, object]]:
    return prepared(read(), prepare)


def _line_rejections(errors: list[LineError]) -> list[Rejection]:
    return [Rejection.of_line(e) for e in errors]


def _stream(sink: Sink[Any, Any], read: Records, progress: Progress | None) -> RunSummary | None:
    """Grouped input, one ticket at a time; None if it turns out not grouped."""
    summary, line_errors = RunSummary(), list[LineError]()
    part = sink.open()
    try:
        keep_texts = getattr(sink, "writes_rows", True)  # (see Sink)
        feed(grouped(read(), line_errors, keep_texts), part, summary, progress)
    except NotGrouped:
        part.close()  # now, before the sink starts over: nothing of it may come later
        return None
    part.close()
    summary.rejections += _line_rejections(line_errors)
    return summary


def _sorted(
    sink: Sink[Any, Any],
    read: Records,
    jobs: int,
    size: int,
    scratch: str,
    progress: Progress | None,
    jsonl_path: str | None = None,
    prepare: Prepare | None = None,
) -> RunSummary:
    """Any input: sorted in memory when small and serial, else spilled to
    partitions. A JSONL file (``jsonl_path``, its records through
    ``prepare``) is spilled by byte ranges, its lines as they came: by the
    workers side by side with more jobs, else here in one range. Other input
    is spilled here, as ``read`` gives it."""
    summary = RunSummary()
    if jobs == 1 and size < IN_MEMORY_LIMIT_BYTES:
        tickets, line_errors = collect_all(read())
        part = sink.open()
        feed(tickets.values(), part, summary, progress)
        part.close()
        summary.rejections += _line_rejections(line_errors)
        return summary
    count = max(jobs * 2, -(-size // PARTITION_BYTES), 2)
    results = []
    with _scratch_writes(scratch):
        if jobs > 1:
            from sla.io.workers import finishing  # (a one-job run starts no workers: see pool)

            with finishing(_pool(jobs, sink.part_maker(), prepare)) as workers:
                if jsonl_path is None:
                    tasks, problems = _spill_here(read, scratch, count, progress)
                else:  # by the workers, a byte range each
                    ranges = ticket_ranges(jsonl_path, jobs * 2)  # ticket boundaries are line ones
                    range_tasks = [(jsonl_path, start, end, scratch, count) for start, end in ranges]
                    by_range = workers.imap(spill_range_job, range_tasks, chunksize=1)
                    tasks, problems = _partitions_of(ranges, by_range, scratch, count, progress, prepare)
                for result in workers.imap(partition_job, tasks, chunksize=1):
                    results.append(result)
                    if progress is not None:
                        progress.share(len(results) / len(tasks), "partitions")
        else:
            if jsonl_path is None:
                tasks, problems = _spill_here(read, scratch, count, progress)
            else:  # lines as they came, as the workers do: not parsed and written again
                tell = None if progress is None else progress.update
                spilled = [spill_range(jsonl_path, 0, None, scratch, count, prepare, tell)]
                tasks, problems = _partitions_of([(0, size)], spilled, scratch, count, None, prepare)
            maker = sink.part_maker()
            for task in tasks:
                results.append(run_partition(maker, task))
                if progress is not None:
                    progress.share(len(results) / len(tasks), "partitions")
    summary.rejections += problems
    for _, part_summary in results:
        summary.absorb(part_summary)
    sink.gather([result for result, _ in results], interleaved=True)
    return summary


def _spill_here(
    read: Records, scratch: str, count: int, progress: Progress | None
) -> tuple[list[PartitionTask], list[Rejection]]:
    """Spill the records as read, in this process: the partitions' tasks and the lines rejected."""
    paths, problems = spill(_told(read(), progress), scratch, count)
    return [([(path, 0)], False, path + ".out") for path in paths], problems


def _partitions_of(
    ranges: Sequence[tuple[int, int]],
    spilled: Iterable[tuple[list[str], list[Rejection], int]],
    scratch: str,
    count: int,
    progress: Progress | None,
    prepare: Prepare | None,
) -> tuple[list[PartitionTask], list[Rejection]]:
    """The partitions of a JSONL file spilled by byte ranges
    (:func:`~sla.io.parallel.spill_range`; ``spilled`` in range order, each
    told to ``progress`` as it finishes): every range wrote its own
    ``count`` files, and partition ``i`` is the ``i``-th file of every
    range, in range order, its line numbers shifted by the lines of the
    ranges before. The partitions' tasks and the lines rejected."""
    total, done = max(1, sum(end - start for start, end in ranges)), 0
    files, problems, offsets, offset = [], [], [], 0
    for (start, end), (paths, rejected, lines) in zip(ranges, spilled, strict=True):
        files.append(paths)
        problems += [rejection.shifted(offset) for rejection in rejected]
        offsets.append(offset)
        offset += lines
        done += end - start
        if progress is not None:
            progress.share(done / total, "input")
    tasks: list[PartitionTask] = [
        (
            [(paths[i], shift) for paths, shift in zip(files, offsets, strict=True)],
            prepare is None,  # lines as they came, or transformed records written exactly
            os.path.join(scratch, f"part-{i:04d}.out"),
        )
        for i in range(count)
    ]
    return tasks, problems


def _told(found: Iterable[tuple[int, object]], progress: Progress | None) -> Iterator[tuple[int, object]]:
    """The records, telling ``progress`` each line read (spilling to partitions)."""
    if progress is None:
        yield from found
        return
    update = progress.update
    for number, record in found:
        update(number)
        yield number, record


def _parallel_ranges(
    sink: Sink[Any, Any],
    path: str,
    jobs: int,
    scratch: str,
    progress: Progress | None,
    prepare: Prepare | None = None,
) -> RunSummary | None:
    """Grouped JSONL in byte ranges on worker processes (which read and
    ``prepare`` their records themselves); None if not grouped."""
    finer = getattr(progress, "enabled", False)  # smaller pieces move a bar on a terminal more often
    ranges = ticket_ranges(path, jobs * 4 if finer else jobs * 2)
    tasks = [(path, a, b, os.path.join(scratch, f"range-{i:04d}.jsonl")) for i, (a, b) in enumerate(ranges)]
    total = max(1, sum(b - a for a, b in ranges))
    from sla.io.workers import finishing  # (a one-job run starts no workers: see pool)

    with _scratch_writes(scratch), finishing(_pool(jobs, sink.part_maker(), prepare)) as workers:
        results, done_bytes = [], 0
        for (a, b), result in zip(ranges, workers.imap(range_job, tasks, chunksize=1), strict=True):
            results.append(result)
            done_bytes += b - a
            if progress is not None:
                progress.share(done_bytes / total, "input")
    done = [result for result in results if result is not None]
    if len(done) != len(results):
        return None  # a range was not grouped
    seen: set[str] = set()
    for _, _, ids, _ in done:
        seen.update(ids)
    if len(seen) != sum(len(ids) for _, _, ids, _ in done):
        return None  # a ticket spans two ranges: the input is not grouped
    summary, offset = RunSummary(), 0
    for _, part_summary, _, lines in done:
        summary.absorb(part_summary, offset)
        offset += lines
    sink.gather([result for result, _, _, _ in done], interleaved=False)
    return summary


__all__ = ["RunSummary", "evaluate_file", "report_file", "run"]
