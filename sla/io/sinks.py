"""Where evaluated tickets go: the sinks of the one pipeline.

The pipeline (:mod:`sla.io.pipeline`) decides how tickets are read (streamed,
sorted in memory, spilled to partitions, cut into byte ranges for parallel
jobs); a sink decides what becomes of them. Every sink offers two ways in:

- :meth:`Sink.open` gives a :class:`Part` that takes the whole input's
  tickets in order, in this process (streaming and in-memory sorting). It may
  be called again after streaming gave up on ungrouped input: the sink then
  starts over.
- :meth:`Sink.part_maker` gives a picklable factory of parts that each see a
  piece of the input, in worker processes or one after another; their results
  come back to :meth:`Sink.gather` in input order.

:class:`RowSink` writes ``sla evaluate`` rows; :class:`ReportSink` builds a
report. A new consumer (the service, an importer's output) is one more sink.
"""

from __future__ import annotations

import heapq
import os
import stat
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from sla.engine.batch import TicketJudge
from sla.engine.events import EventRange, TicketEvents
from sla.engine.jsonl_run import JsonlRun
from sla.engine.rows import row_of, rows_of, ticket_jsonl
from sla.io.row_filter import DueOrder, RowFilter
from sla.io.summary import Rejection, RunSummary
from sla.io.writers import (
    CHUNK_BYTES,
    JsonlWriter,
    Row,
    RowWriter,
    TableOptions,
    TableWriter,
    copy_file,
    open_writer,
)
from sla.policy.runtime import PolicySet

if TYPE_CHECKING:
    from sla.engine.judge import CycleFields
    from sla.report.figures import ReportBuilder
    from sla.report.results import Report

PartResult = TypeVar("PartResult")
PartResult_co = TypeVar("PartResult_co", covariant=True)
Result_co = TypeVar("Result_co", covariant=True)


class Progress(Protocol):
    """Anything told how many tickets are done (a progress bar)."""

    def update(self, done: int) -> None: ...

    def share(self, fraction: float, label: str) -> None:
        """Parallel runs: ``fraction`` of the ``label`` phase is done."""


class Part(Protocol[PartResult_co]):
    """Takes the finished tickets of (a piece of) the input, in input order."""

    def add(self, ticket: TicketEvents) -> None: ...

    def close(self) -> PartResult_co: ...


class Sink(Protocol[PartResult, Result_co]):
    """A consumer of evaluated tickets that the pipeline can drive on any path.

    A sink may say ``writes_rows = False`` when it writes no rows (rows
    name instants as the input wrote them, through the formatter's cache):
    the reader then keeps the input's texts of instants out of that cache.
    A speed matter only, the output is the same either way; a sink that
    does not say is taken to write rows."""

    def open(self) -> Part[object]: ...

    def part_maker(self) -> Callable[[str], Part[PartResult]]: ...

    def gather(self, parts: Sequence[PartResult], *, interleaved: bool) -> None: ...

    def finish(self) -> Result_co: ...


def feed(
    tickets: Iterable[TicketEvents], part: Part[object], summary: RunSummary, progress: Progress | None = None
) -> None:
    """Hand tickets to a part, counting them and their rejections; ``progress``
    is told the input line each ticket began on (tickets come in that order).
    A part that takes them all at once (``add_all``) does, unless a progress
    bar is drawn (on a terminal: then each ticket is told to it)."""
    if progress is not None and getattr(progress, "enabled", True) is False:
        progress = None  # a bar that draws nothing (not a terminal) need not be told
    add_all = getattr(part, "add_all", None) if progress is None else None
    if add_all is not None and add_all(tickets, summary):
        return
    add, rejections = part.add, summary.rejections
    for ticket in tickets:
        summary.tickets += 1
        if ticket.error is not None:
            rejections.append(Rejection.of_ticket(ticket))
        add(ticket)
        if progress is not None:
            progress.update(ticket.first_line)


# ------------------------------------------------------------------- rows
def _can_restart(target: IO[bytes]) -> bool:
    """Whether the output can be truncated and rewritten: a regular file or
    an in-memory buffer, not a pipe, a terminal or a device like /dev/null."""
    try:
        return stat.S_ISREG(os.fstat(target.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # no file descriptor: io.BytesIO and the like
        try:
            target.seek(0, os.SEEK_CUR)
            return True
        except (OSError, ValueError, AttributeError):
            return False


def _appends(target: IO[bytes]) -> bool:
    """Whether every write goes to the end of the target (opened to append):
    its position before the first write may still be 0."""
    try:
        import fcntl  # POSIX: asked of the descriptor, which a shell's >> sets up too
    except ImportError:  # pragma: no cover - Windows: the file object's own mode
        return "a" in str(getattr(target, "mode", ""))
    try:
        return bool(fcntl.fcntl(target.fileno(), fcntl.F_GETFL) & os.O_APPEND)
    except (OSError, ValueError, AttributeError):  # no descriptor: an in-memory buffer
        return False


class Output:
    """The destination of rows, able to start over if streaming finds
    ungrouped input (a pipe is spooled to a temporary file until the end).
    Starting over keeps what the target held before the run (a file opened
    to append, ``>>`` in a shell): it is cut back to where the run began."""

    def __init__(self, target: IO[bytes]):
        self.target = target
        self.spool: IO[bytes] | None = None
        self.stream: IO[bytes] = target
        if not _can_restart(target):
            self.spool = self.stream = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finish)
            self.start = 0
        else:
            self.start = target.seek(0, os.SEEK_END if _appends(target) else os.SEEK_CUR)

    def restart(self) -> None:
        self.stream.seek(self.start)
        self.stream.truncate()

    def finish(self) -> None:
        self.stream.flush()
        if self.spool is not None:
            self.spool.seek(0)
            copy_file(self.spool, self.target)
            self.target.flush()
            self.spool.close()


def _rows_of(judge: TicketJudge, ticket: TicketEvents, keep: RowFilter | None) -> list[Row]:
    if keep is None:
        return rows_of(judge.fields(ticket))
    return [row_of(r) for r in judge(ticket) if keep.keep(r)]


def _jsonl_of(judge: TicketJudge, ticket: TicketEvents, keep: RowFilter | None) -> tuple[bytes, int]:
    """A ticket's rows as JSON Lines, and how many there are."""
    fields: list[CycleFields] = (
        judge.fields(ticket) if keep is None else [r for r in judge(ticket) if keep.keep(r)]
    )
    return ticket_jsonl(fields), len(fields)


def _run_jsonl(
    run: JsonlRun, tickets: Iterable[TicketEvents], summary: RunSummary, write: Callable[[bytes], object]
) -> int:
    """Tickets through the engine's loop, its chunks of rows to ``write``, its
    rejections and tickets counted in ``summary``; returns the rows written."""
    rejections = summary.rejections
    try:
        for item in run.chunks(tickets):
            if isinstance(item, TicketEvents):
                rejections.append(Rejection.of_ticket(item))
            else:
                write(item)
    finally:  # also when the input turns out not grouped (the sink then starts over)
        summary.tickets += run.tickets
    return run.rows


class _DirectRows:
    """Rows of whole-input tickets straight into the output's writer."""

    def __init__(self, sink: RowSink, writer: RowWriter):
        self.policies, self.now, self.keep, self.writer = sink.policies, sink.now, sink.keep, writer
        self.jsonl = writer if type(writer) is JsonlWriter else None  # rows as text, never as dicts
        self.judge = TicketJudge(sink.policies, sink.now)
        self.range = sink.range = EventRange()
        self.rows = 0

    def add(self, ticket: TicketEvents) -> None:
        if ticket.error is None:
            self.range.see(ticket)
            if self.jsonl is not None:
                data, count = _jsonl_of(self.judge, ticket, self.keep)
                self.rows += count
                self.jsonl.write_lines(data)
            else:
                rows = _rows_of(self.judge, ticket, self.keep)
                self.rows += len(rows)
                self.writer.write_ticket(rows)

    def add_all(self, tickets: Iterable[TicketEvents], summary: RunSummary) -> bool:
        """Every ticket at once, when the rows go to JSON Lines unfiltered
        (the engine's own loop, :class:`JsonlRun`); False, taking none, otherwise."""
        if self.jsonl is None or self.keep is not None:
            return False
        run = JsonlRun(*self.judge.run_arguments(), self.range, CHUNK_BYTES)
        self.rows += _run_jsonl(run, tickets, summary, self.jsonl.write_lines)
        return True

    def close(self) -> int:
        self.writer.close()
        return self.rows


@dataclass(frozen=True)
class RowFile:
    """A piece's rows as JSONL in ``path``; ticket ``i`` began on input line
    ``first_lines[i]`` and has ``counts[i]`` rows (lines) there, in that
    order; ``first_event`` and ``last_event`` bound its accepted tickets' events."""

    path: str
    first_lines: array[int]
    counts: array[int]
    rows: int
    first_event: int | None = None
    last_event: int | None = None

    def entries(self) -> Iterator[tuple[int, bytes]]:
        """(first input line, JSONL rows) per ticket, in the piece's order."""
        with open(self.path, "rb") as handle:
            for first_line, count in zip(self.first_lines, self.counts, strict=True):
                yield first_line, b"".join(islice(handle, count))


class _RowFileWriter:
    def __init__(self, policies: PolicySet, now: int, keep: RowFilter | None, path: str):
        self.policies, self.now, self.keep, self.path = policies, now, keep, path
        self.handle = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 (closed in close)
        self.first_lines, self.counts = array("q"), array("q")
        self.rows = 0
        self.range = EventRange()
        self.judge = TicketJudge(policies, now)

    def add(self, ticket: TicketEvents) -> None:
        if ticket.error is not None:
            return
        self.range.see(ticket)
        data, count = _jsonl_of(self.judge, ticket, self.keep)
        self.rows += count
        self.handle.write(data)
        self.first_lines.append(ticket.first_line)
        self.counts.append(count)

    def add_all(self, tickets: Iterable[TicketEvents], summary: RunSummary) -> bool:
        """Every ticket at once in the engine's loop (:class:`JsonlRun`), when
        no filter applies; False, taking none, otherwise."""
        if self.keep is not None:
            return False
        log = (self.first_lines, self.counts)
        run = JsonlRun(*self.judge.run_arguments(), self.range, CHUNK_BYTES, log)
        self.rows += _run_jsonl(run, tickets, summary, self.handle.write)
        return True

    def close(self) -> RowFile:
        self.handle.close()
        return RowFile(self.path, self.first_lines, self.counts, self.rows, self.range.first, self.range.last)


@dataclass(frozen=True)
class RowFileMaker:
    """Makes the parts of :class:`RowSink` in worker processes (picklable)."""

    policies: PolicySet
    now: int
    keep: RowFilter | None = None

    def __call__(self, path: str) -> _RowFileWriter:
        return _RowFileWriter(self.policies, self.now, self.keep, path)


class RowSink:
    """``sla evaluate``: one row per cycle, in input order, in any output format.

    ``keep`` filters the rows; ``sort_due`` writes them by due instant;
    ``table`` options (the zone of local times, the header's source line)
    go to the table writer. ``range`` bounds the accepted tickets' events.
    """

    writes_rows = True

    def __init__(
        self,
        policies: PolicySet,
        now: int,
        target: IO[bytes],
        fmt: str = "jsonl",
        *,
        keep: RowFilter | None = None,
        sort_due: bool = False,
        table: TableOptions | None = None,
    ):
        self.policies, self.now, self.fmt = policies, now, fmt
        self.keep = keep if keep is not None and keep.active else None
        self.sort_due, self.table = sort_due, table
        self.output = Output(target)
        self.started = False
        self.direct: _DirectRows | None = None  # counts its rows itself
        self.rows = 0
        self.range = EventRange()

    def _writer(self) -> RowWriter:
        if self.started:  # what an abandoned attempt wrote must not stay
            self.output.restart()
        self.started = True
        if self.fmt == "table":
            writer: RowWriter = TableWriter(self.output.stream, self.table, lambda: self.range)
        else:
            writer = open_writer(self.fmt, self.output.stream)
        return DueOrder(writer) if self.sort_due else writer

    def open(self) -> _DirectRows:
        self.direct = _DirectRows(self, self._writer())
        return self.direct

    def part_maker(self) -> RowFileMaker:
        return RowFileMaker(self.policies, self.now, self.keep)

    def gather(self, parts: Sequence[RowFile], *, interleaved: bool) -> None:
        writer = self._writer()
        self.direct = None
        self.rows = sum(part.rows for part in parts)
        self.range = EventRange()
        for part in parts:
            self.range.merge(part.first_event, part.last_event)
        raw = writer if isinstance(writer, JsonlWriter) else None
        if interleaved:  # hashed partitions: tickets back in order of first line
            entries = heapq.merge(*(part.entries() for part in parts))
            for _, blob in entries:
                if raw is not None:
                    raw.write_raw(blob)
                elif blob:
                    writer.write_ticket([orjson.loads(line) for line in blob.splitlines()])
        else:  # byte ranges: each piece is already in input order
            for part in parts:
                if raw is not None:
                    raw.write_file(part.path)
                else:
                    for _, blob in part.entries():
                        if blob:
                            writer.write_ticket([orjson.loads(line) for line in blob.splitlines()])
        writer.close()

    def finish(self) -> int:
        """Flush the output; returns the number of rows written."""
        self.output.finish()
        return self.direct.rows if self.direct is not None else self.rows


# ----------------------------------------------------------------- report
class _BuilderPart:
    def __init__(self, builder: ReportBuilder):
        self.builder = builder
        self.add = builder.add

    def add_all(self, tickets: Iterable[TicketEvents], summary: RunSummary) -> bool:
        """Every ticket at once, in the report's own loop (compiled, native)."""
        rejected: list[TicketEvents] = []
        seen_before = self.builder.tally.seen
        try:
            self.builder.add_all(tickets, rejected)
        finally:  # also when the input turns out not grouped (the sink then starts over)
            summary.tickets += self.builder.tally.seen - seen_before
            summary.rejections.extend(Rejection.of_ticket(ticket) for ticket in rejected)
        return True

    def close(self) -> ReportBuilder:
        return self.builder


@dataclass(frozen=True)
class BuilderMaker:
    """Makes the parts of :class:`ReportSink` in worker processes (picklable)."""

    policies: PolicySet
    now: int
    options: dict[str, Any]

    def __call__(self, path: str) -> _BuilderPart:
        # imported here: sla evaluate, which never reports, does not load the report modules
        from sla.report.figures import ReportBuilder

        return _BuilderPart(ReportBuilder(self.policies, self.now, **self.options))


class ReportSink:
    """``sla report``: figures accumulated in mergeable :class:`ReportBuilder` s."""

    writes_rows = False  # figures, no rows

    def __init__(
        self,
        policies: PolicySet,
        now: int,
        *,
        by: Sequence[str] = (),
        period: str | None = None,
        tz: str | tzinfo = "UTC",
        watchlist: bool = True,
    ):
        self.policies = policies
        self.maker = BuilderMaker(
            policies, now, {"by": tuple(by), "period": period, "tz": tz, "watchlist": watchlist}
        )
        self.builder = self.maker("").builder  # bad options fail here, before any reading

    def open(self) -> _BuilderPart:
        part = self.maker("")
        self.builder = part.builder
        return part

    def part_maker(self) -> BuilderMaker:
        return self.maker

    def gather(self, parts: Sequence[ReportBuilder], *, interleaved: bool) -> None:
        self.builder = self.maker("").builder
        for part in parts:
            self.builder.merge(part)

    def finish(self) -> Report:
        return self.builder.finish()


__all__ = ["Part", "ReportSink", "RowSink", "Sink", "feed"]
