"""Worker pools are asked to stop, never killed (sla.io.workers): on an
error the parent raises the pool's stop flag and waits for the workers to
exit on their own, and every kind of job looks at the flag as it goes."""

from __future__ import annotations

import errno
import multiprocessing
import time
from pathlib import Path

import pytest

from sla.io import parallel, workers
from sla.io.workers import Stopped, Workers, check_stop, finishing, stoppable

FORK = "fork" in multiprocessing.get_all_start_methods()


class FakePool:
    """What finishing calls, in order; ``join`` may be made to fail."""

    def __init__(self, join_fails: bool = False) -> None:
        self.calls: list[str] = []
        self.stop_flag = multiprocessing.get_context().Event()
        self.join_fails = join_fails

    def close(self) -> None:
        self.calls.append("close")

    def terminate(self) -> None:
        self.calls.append("terminate")

    def join(self) -> None:
        self.calls.append("join" if not self.stop_flag.is_set() else "join after stop")
        if self.join_fails:
            raise KeyboardInterrupt  # Ctrl-C again while waiting


def test_a_pool_that_did_its_work_is_closed_and_joined_without_a_stop():
    done = FakePool()
    with finishing(done) as pool:  # type: ignore[arg-type]
        assert pool is done
    assert done.calls == ["close", "join"]
    assert not done.stop_flag.is_set()


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_on_an_error_the_jobs_are_told_to_stop_and_the_workers_are_waited_for_not_killed(error):
    failed = FakePool()
    with pytest.raises(type(error)), finishing(failed):  # type: ignore[arg-type]
        raise error
    assert failed.calls == ["close", "join after stop"]


def test_only_an_interrupted_wait_kills_the_workers():
    stuck = FakePool(join_fails=True)
    with pytest.raises(KeyboardInterrupt), finishing(stuck):  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, "No space left on device")
    assert stuck.calls == ["close", "join after stop", "terminate"]


def _long_job(seconds: float) -> str:
    """A job that would run ``seconds`` but looks at the stop flag as it goes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check_stop()
        time.sleep(0.01)
    return "done"


def _job(task: tuple[str, float]) -> str:
    kind, seconds = task
    if kind == "fail":
        time.sleep(seconds)
        raise OSError(errno.ENOSPC, "No space left on device")
    return _long_job(seconds)


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
def test_an_error_ends_a_real_pool_quickly_and_every_worker_exits_on_its_own():
    """One worker's job fails while the other's has 10 s to go and 5 more
    are queued: the run ends in a few seconds, and no worker was killed
    (``terminate`` would leave exit code -15, and could hang; see the
    module's text)."""
    pool = Workers(2, int, (), multiprocessing.get_context("fork"))
    tasks = [("fail", 0.3)] + [("long", 10.0)] * 6
    started = time.monotonic()
    results: list[str] = []
    with pytest.raises(OSError, match="No space left"), finishing(pool):
        results.extend(pool.imap(_job, tasks, chunksize=1))
    assert time.monotonic() - started < 8  # finishing the jobs would take 30 s
    assert results == []
    processes = pool._pool  # type: ignore[attr-defined]
    assert processes and [p.exitcode for p in processes] == [0] * len(processes)


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
def test_a_running_job_gives_up_with_stopped_and_the_queued_ones_as_they_start():
    pool = Workers(1, int, (), multiprocessing.get_context("fork"))
    with finishing(pool):
        running = pool.apply_async(_long_job, (10.0,))
        queued = [pool.apply_async(_long_job, (10.0,)) for _ in range(3)]
        time.sleep(0.2)
        started = time.monotonic()
        pool.stop_flag.set()
        for result in [running, *queued]:
            with pytest.raises(Stopped):
                result.get(timeout=8)
        assert time.monotonic() - started < 5


def test_the_stop_flag_reaches_a_spawned_worker_too():
    """Where fork is missing, pools spawn: the flag travels with the initializer's arguments."""
    pool = Workers(1, int, (), multiprocessing.get_context("spawn"))
    with finishing(pool):
        assert pool.apply(check_stop) is None
        pool.stop_flag.set()
        with pytest.raises(Stopped):
            pool.apply(check_stop)


@pytest.fixture
def stopped(monkeypatch):
    """This process, as a worker whose pool was told to stop."""
    flag = multiprocessing.get_context().Event()
    flag.set()
    monkeypatch.setattr(workers, "_FLAG", [flag])
    return flag


def test_the_parent_is_never_stopped():
    assert workers._FLAG == []
    check_stop()
    assert list(stoppable(range(1000), every=1)) == list(range(1000))


def test_stoppable_looks_before_the_first_item_and_after_every_few(monkeypatch):
    flag = multiprocessing.get_context().Event()
    monkeypatch.setattr(workers, "_FLAG", [flag])
    seen = []
    with pytest.raises(Stopped):
        for item in stoppable(range(100), every=10):
            seen.append(item)
            if item == 13:
                flag.set()
    assert seen == list(range(20))  # stopped at the look after the 20th
    with pytest.raises(Stopped):
        next(stoppable(iter([1])))


def test_reading_a_range_gives_up_between_chunks(stopped, tmp_path: Path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"ticket_id": "1"}\n' * 10)
    with pytest.raises(Stopped):
        list(parallel._LineCount().through(iter([[b"a"], [b"b"]])))
    with pytest.raises(Stopped):
        parallel.spill_range(str(path), 0, None, str(tmp_path), 2)
    with pytest.raises(Stopped):
        parallel.spill_range_job((str(path), 0, path.stat().st_size, str(tmp_path / "none"), 2))
    assert not (tmp_path / "none").exists()
    parallel._WORKER["maker"] = lambda out: pytest.fail("a stopped range job made its part")
    try:
        with pytest.raises(Stopped):
            parallel.range_job((str(path), 0, path.stat().st_size, str(tmp_path / "out")))
    finally:
        parallel._WORKER.clear()


def test_a_partition_job_gives_up_before_it_starts_and_between_tickets(monkeypatch, tmp_path: Path):
    flag = multiprocessing.get_context().Event()
    monkeypatch.setattr(workers, "_FLAG", [flag])
    flag.set()
    with pytest.raises(Stopped):
        parallel.run_partition(lambda out: pytest.fail("a stopped job made its part"), ([], True, ""))
    flag.clear()
    fed: list[object] = []

    class Part:
        def add(self, ticket: object) -> None:
            fed.append(ticket)
            if len(fed) == 3:
                flag.set()

    tickets = [object()] * 1000
    monkeypatch.setattr(parallel, "partition_tickets", lambda pieces, raw: tickets)
    monkeypatch.setattr(parallel, "feed", lambda found, part, summary: [part.add(t) for t in found])
    with pytest.raises(Stopped):
        parallel.run_partition(lambda out: Part(), ([], True, ""))  # type: ignore[arg-type,return-value]
    assert len(fed) == workers.CHECK_EVERY


def test_import_jobs_give_up_before_they_start_and_while_reading(stopped, tmp_path: Path):
    from sla.importers import parallel as import_parallel

    with pytest.raises(Stopped):
        import_parallel._read_job((0, [], str(tmp_path / "w"), 2, 0, lambda *args, **kwargs: None))
    with pytest.raises(Stopped):
        import_parallel._finish_job((0, [], lambda *args: ""))
    sent: list[object] = []

    class Queue:
        def put(self, item: object) -> None:
            sent.append(item)

    told = import_parallel._Told(Queue(), 0)
    told.update(999)  # not yet a report: no look either
    with pytest.raises(Stopped):
        told.update(1000)
    assert sent == []
