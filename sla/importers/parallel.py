"""Importing with several processes (``sla import --jobs N``).

The files are cut into ``N`` runs of consecutive files, about equal in
bytes, and each worker reads one run the way :func:`sla.importers.run`
reads everything: its own copy of the source (forked, so nothing is
pickled on the way in), its own spill partitions, sequence numbers that
start at ``worker << SEQUENCE_BITS`` so that every event of an earlier run
sorts before every event of a later one, exactly as one process would have
numbered them. Each worker then hands back what its source learnt
(:meth:`~sla.importers.base.Source.learnt`: roles, ticket records) and the
parent folds it into its own source in run order
(:meth:`~sla.importers.base.Source.absorb`).

Finishing runs in workers too, forked from the parent once it knows
everything: each takes whole partitions (partition ``p`` is the ``p``-th
file of every worker's spill), finishes their tickets with the same
:func:`~sla.importers.run.finish_partition` as one process, and returns the
finish-time facts for the notes (:meth:`~sla.importers.base.Source.finish_facts`).
The merge of the finished partitions is the parent's, as in one process,
so the output is byte for byte the same whatever ``N``.

Only sources whose learnt state merges (:attr:`~sla.importers.base.Source.mergeable`)
are read in parallel; the others, whose readers need records of other
files while reading (Jira's issue ids, say), are read in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sla.importers.base import ImportProblem, ImportSummary, Source, VendorCycle
from sla.io.sinks import Progress
from sla.io.spill import Partitions
from sla.io.workers import Workers, check_stop, finishing

#: A worker's sequence numbers start at its index shifted by this many bits.
SEQUENCE_BITS = 48
#: Each worker should read at least this many bytes; fewer files or bytes
#: than that make fewer workers (forking costs more than it saves).
MIN_WORKER_BYTES = 8 << 20

#: What a worker process holds: its source and the progress queue.
_WORKER: dict[str, Any] = {}

ReadAll = Callable[..., None]


@dataclass
class ReadResult:
    """What one worker's run of files gave."""

    paths: list[str]
    files: int = 0
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[ImportProblem] = field(default_factory=list)
    cycles: list[VendorCycle] = field(default_factory=list)
    learnt: object = None


@dataclass
class FinishResult:
    """What finishing one partition gave."""

    index: int
    done: str
    tickets: int = 0
    events: int = 0
    tickets_refused: int = 0
    refused: list[tuple[int, ImportProblem]] = field(default_factory=list)
    facts: object = None


def worker_count(source: Source, files: list[str], sizes: list[int], jobs: int) -> int:
    """How many workers to read ``files`` with: 1 unless the source merges,
    there are several files and each worker gets :data:`MIN_WORKER_BYTES`."""
    if (
        jobs <= 1
        or not source.mergeable
        or len(files) < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 1
    return max(1, min(jobs, len(files), sum(sizes) // MIN_WORKER_BYTES))


def runs_of(sizes: list[int], count: int) -> list[range]:
    """``count`` runs of consecutive file indexes, about equal in bytes
    (none empty).

    >>> runs_of([10, 10, 10, 10], 2)
    [range(0, 2), range(2, 4)]
    >>> runs_of([100, 1, 1, 1], 2)
    [range(0, 1), range(1, 4)]
    """
    total = sum(sizes) or 1
    runs: list[range] = []
    start = 0
    done = 0
    for index, size in enumerate(sizes):
        done += size
        left_files = len(sizes) - index - 1
        left_runs = count - len(runs) - 1
        if left_runs == 0:
            break
        if done * count >= total * (len(runs) + 1) or left_files == left_runs:
            runs.append(range(start, index + 1))
            start = index + 1
    runs.append(range(start, len(sizes)))
    return runs


def _pool(count: int, source: Source, told: Any) -> Workers:
    return Workers(count, _init_worker, (source, told), multiprocessing.get_context("fork"))


def _init_worker(source: Source, told: Any) -> None:
    # (Signals: see sla.io.workers.)  Progress is worth nothing once the
    # parent stops reading it: a worker exits without waiting until what
    # it sent has gone down the pipe.
    if told is not None:
        told.cancel_join_thread()
    _WORKER["source"] = source
    _WORKER["told"] = told


class _Told:
    """Progress inside a worker: records read so far, sent to the parent;
    where it sends, it also gives up if the pool was told to stop."""

    def __init__(self, told: Any, worker: int) -> None:
        self.told = told
        self.worker = worker
        self.sent = 0

    def update(self, done: int) -> None:
        if done - self.sent >= 1000:  # a JSON Lines file reports every line
            check_stop()
            self.told.put((self.worker, done))
            self.sent = done

    def share(self, fraction: float, label: str) -> None:  # pragma: no cover - not used while reading
        pass


def _read_job(task: tuple[int, list[str], str, int, int, ReadAll]) -> ReadResult:
    worker, files, folder, count, first_file, read_all = task
    check_stop()
    source: Source = _WORKER["source"]
    os.makedirs(folder, exist_ok=True)
    partitions = Partitions(folder, count)
    summary = ImportSummary()
    result = ReadResult(paths=[])
    try:
        read_all(
            source,
            files,
            partitions,
            summary,
            result.cycles,
            result.problems.append,
            _Told(_WORKER["told"], worker),
            first_sequence=worker << SEQUENCE_BITS,
            first_file=first_file,
        )
    finally:
        result.paths = partitions.close()
    result.files, result.records, result.skipped = summary.files, summary.records, summary.skipped
    result.learnt = source.learnt()
    return result


def read_parallel(
    source: Source,
    files: list[str],
    sizes: list[int],
    workers: int,
    scratch: str,
    count: int,
    read_all: ReadAll,
    progress: Progress | None,
) -> list[ReadResult]:
    """Read ``files`` with ``workers`` processes (see the module text); the
    results in run order, each worker's learnt state absorbed by ``source``."""
    context = multiprocessing.get_context("fork")
    told = context.Queue()
    runs = runs_of(sizes, workers)
    tasks = [
        (k, [files[i] for i in run], os.path.join(scratch, f"w{k:03d}"), count, run.start, read_all)
        for k, run in enumerate(runs)
    ]
    with finishing(_pool(len(runs), source, told)) as pool:
        pending = pool.map_async(_read_job, tasks, chunksize=1)
        read = [0] * len(runs)
        while not pending.ready():
            try:
                worker, done = told.get(timeout=0.1)
            except queue.Empty:
                continue
            read[worker] = done
            if progress is not None:
                progress.update(sum(read))
        results = pending.get()
    for result in results:
        source.absorb(result.learnt)
    return results


def _finish_job(task: tuple[int, list[str], Callable[..., str]]) -> FinishResult:
    index, paths, finish = task
    check_stop()
    source: Source = _WORKER["source"]
    summary = ImportSummary()
    refused: list[tuple[int, ImportProblem]] = []
    done = finish(source, paths, summary, refused)
    return FinishResult(
        index, done, summary.tickets, summary.events, summary.tickets_refused, refused, source.finish_facts()
    )


def finish_parallel(
    source: Source,
    partitions: list[list[str]],
    workers: int,
    finish: Callable[..., str],
    summary: ImportSummary,
    refused: list[tuple[int, ImportProblem]],
    progress: Progress | None,
) -> list[str]:
    """Finish every partition (the files of one partition index) with
    ``workers`` processes; the finished files in partition order."""
    done: list[str] = [""] * len(partitions)
    with finishing(_pool(workers, source, None)) as pool:
        tasks = [(index, paths, finish) for index, paths in enumerate(partitions)]
        for finished, result in enumerate(pool.imap_unordered(_finish_job, tasks), 1):
            done[result.index] = result.done
            summary.tickets += result.tickets
            summary.events += result.events
            summary.tickets_refused += result.tickets_refused
            refused += result.refused
            source.absorb_finish(result.facts)
            if progress is not None:
                progress.share(finished / len(partitions), "partitions")
    return done


__all__ = ["SEQUENCE_BITS", "finish_parallel", "read_parallel", "runs_of", "worker_count"]
