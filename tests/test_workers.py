"""Worker pools are asked to stop, not killed (sla.io.workers): on an
error the parent raises the pool's stop flag and waits for the workers to
exit on their own, every kind of job looks at the flag as it goes, and only
a second interruption kills the workers."""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from sla.io import parallel, stopping, workers
from sla.io.workers import Stopped, WorkerDied, Workers, check_stop, finishing, stoppable

FORK = "fork" in multiprocessing.get_all_start_methods()


class FakePool:
    """What finishing calls, in order; ``join`` may be made to fail."""

    def __init__(self, join_fails: bool = False) -> None:
        self.calls: list[str] = []
        self.join_fails = join_fails

    def stop(self) -> None:
        self.calls.append("stop")

    def close(self) -> None:
        self.calls.append("close")

    def join(self) -> None:
        self.calls.append("join")
        if self.join_fails:
            raise KeyboardInterrupt  # Ctrl-C again while waiting


def test_a_pool_that_did_its_work_is_closed_and_joined_without_a_stop():
    done = FakePool()
    with finishing(done) as pool:  # type: ignore[arg-type]
        assert pool is done
    assert done.calls == ["close", "join"]


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_on_an_error_the_jobs_are_told_to_stop_and_the_workers_are_waited_for_not_killed(error):
    failed = FakePool()
    with pytest.raises(type(error)), finishing(failed):  # type: ignore[arg-type]
        raise error
    assert failed.calls == ["stop", "close", "join"]


@pytest.mark.parametrize("first_error", [None, OSError(errno.ENOSPC, "No space left on device")])
def test_only_an_interrupted_wait_kills_the_workers(monkeypatch, first_error):
    abandoned: list[object] = []
    monkeypatch.setattr(workers, "abandon", abandoned.append)
    stuck = FakePool(join_fails=True)
    with pytest.raises(KeyboardInterrupt), finishing(stuck):  # type: ignore[arg-type]
        if first_error is not None:
            raise first_error
    assert abandoned == [stuck]
    assert stuck.calls == (["stop"] if first_error else []) + ["close", "join"]


def _long_job(seconds: float, started: str = "") -> str:
    """A job that would run ``seconds`` but looks at the stop flag as it
    goes; it makes the file ``started`` (if named) once it runs."""
    if started:
        Path(started).touch()
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


def _wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


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
def test_a_running_job_gives_up_with_stopped_and_the_queued_ones_as_they_start(tmp_path: Path):
    pool = Workers(1, int, (), multiprocessing.get_context("fork"))
    marker = tmp_path / "started"
    with finishing(pool):
        running = pool.apply_async(_long_job, (10.0, str(marker)))
        queued = [pool.apply_async(_long_job, (10.0,)) for _ in range(3)]
        _wait_for(marker)
        started = time.monotonic()
        pool.stop()
        assert pool.stop_flag.value
        for result in [running, *queued]:
            with pytest.raises(Stopped):
                result.get(timeout=8)
        assert time.monotonic() - started < 5


def _dies(how: str) -> str:
    """A job that ends its own worker the way the system would: killed
    (the out-of-memory killer's SIGKILL) or exiting; else runs a while."""
    if how == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "exits":
        os._exit(3)
    return _long_job(0.3)


def _awaited(pool: Workers, call: str, tasks: list[str]) -> list[str]:
    """The tasks' results by one of Pool's ways, each wait bounded: a hang
    fails the test with multiprocessing's TimeoutError instead (and the
    pool is then marked broken, so that finishing kills it, not waits)."""
    try:
        if call in ("imap", "imap_unordered"):
            found = getattr(pool, call)(_dies, tasks, chunksize=1)
            return [found.next(timeout=30) for _ in tasks]
        if call == "map_async":
            return list(pool.map_async(_dies, tasks, chunksize=1).get(timeout=30))
        return [result.get(timeout=30) for result in [pool.apply_async(_dies, (t,)) for t in tasks]]
    except multiprocessing.TimeoutError:
        pool.died = True
        raise


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
@pytest.mark.parametrize("call", ["imap", "imap_unordered", "map_async", "apply_async"])
@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("killed", r"was killed by SIGKILL \(signal 9\), the signal of the kernel's out-of-memory killer,"),
        ("exits", "exited with code 3"),
    ],
)
def test_a_worker_that_dies_mid_job_fails_the_awaited_results_instead_of_hanging(call, how, said):
    """Pool starts another worker and waits for the dead one's result
    forever; ours fail every awaited result with WorkerDied, and finishing
    kills the rest (the dead worker may have held a queue lock)."""
    pool = Workers(2, int, (), multiprocessing.get_context("fork"))
    started = time.monotonic()
    with pytest.raises(WorkerDied, match=said) as caught, finishing(pool):
        _awaited(pool, call, ["slow", how, "slow", "slow", "slow"])
    assert "fewer --jobs" in str(caught.value)
    assert pool.died
    assert time.monotonic() - started < 20
    assert all(p.exitcode is not None for p in pool._pool)  # type: ignore[attr-defined]


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
def test_a_pool_whose_workers_live_is_not_taken_for_broken():
    pool = Workers(2, int, (), multiprocessing.get_context("fork"))
    with finishing(pool):
        assert _awaited(pool, "imap", ["slow"] * 4) == ["done"] * 4
    assert not pool.died
    assert [p.exitcode for p in pool._pool] == [0, 0]  # type: ignore[attr-defined]


def test_a_dead_worker_is_named_by_its_signal_or_exit_code():
    assert "killed by SIGTERM (signal 15)" in str(WorkerDied(-15))
    assert "out-of-memory" not in str(WorkerDied(-15))
    assert "killed by signal 99" in str(WorkerDied(-99))
    assert "exited with code 1" in str(WorkerDied(1))


def test_the_stop_flag_reaches_a_spawned_worker_too():
    """Where fork is missing, pools spawn: the flag travels with the initializer's arguments."""
    pool = Workers(1, int, (), multiprocessing.get_context("spawn"))
    with finishing(pool):
        assert pool.apply_async(check_stop).get(timeout=60) is None
        pool.stop()
        with pytest.raises(Stopped):
            pool.apply_async(check_stop).get(timeout=60)


def _ignored_signals() -> tuple[object, object]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
def test_workers_leave_sigint_and_sigterm_to_the_parent():
    """Ctrl-C and a SIGTERM to the process group (``timeout``, a service
    manager) reach every worker: a worker that died of it would take its
    job's result with it, and the pool would wait for that forever."""
    pool = Workers(1, int, (), multiprocessing.get_context("fork"))
    with finishing(pool):
        assert pool.apply_async(_ignored_signals).get(timeout=30) == (signal.SIG_IGN, signal.SIG_IGN)


class _Interrupted(BaseException):
    """What the test's signal raises in the main thread (as Ctrl-C would)."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


def _deaf_job(seconds: float) -> str:
    """A job that never looks at the stop flag."""
    time.sleep(seconds)
    return "done"


@pytest.mark.skipif(not FORK, reason="the test's jobs reach the workers by fork")
@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only"
)
def test_a_second_interruption_kills_the_workers_and_leaves_nothing_waiting():
    """A job that does not look at the flag keeps finishing waiting; a
    second interruption kills the workers (SIGKILL: they ignore SIGTERM)
    and ends the wait at once, and the pool's own teardown, which could
    hang on what they held, is not run, now or at exit."""
    pool = Workers(2, int, (), multiprocessing.get_context("fork"))
    previous = signal.signal(signal.SIGUSR1, _interrupt)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        started = time.monotonic()
        with pytest.raises(_Interrupted), finishing(pool):
            pool.apply_async(_deaf_job, (30.0,))
            pool.apply_async(_deaf_job, (30.0,))
            timer.start()
            raise OSError(errno.ENOSPC, "No space left on device")
        assert time.monotonic() - started < 10
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    processes = pool._pool  # type: ignore[attr-defined]
    assert len(processes) == 2 and [p.exitcode for p in processes] == [-signal.SIGKILL] * 2
    assert not pool._terminate.still_active()  # type: ignore[attr-defined]
    assert not pool._worker_handler.is_alive()  # type: ignore[attr-defined]


@pytest.fixture
def stopped(monkeypatch):
    """This process, as a worker whose pool was told to stop."""
    flag = ctypes.c_bool(True)
    monkeypatch.setattr(stopping, "_FLAG", [flag])
    return flag


def test_the_parent_is_never_stopped():
    assert stopping._FLAG == [] and workers._FLAG is stopping._FLAG
    check_stop()
    assert list(stoppable(range(1000), every=1)) == list(range(1000))


def test_stoppable_looks_before_the_first_item_and_after_every_few(monkeypatch):
    flag = ctypes.c_bool(False)
    monkeypatch.setattr(stopping, "_FLAG", [flag])
    seen = []
    with pytest.raises(Stopped):
        for item in stoppable(range(100), every=10):
            seen.append(item)
            if item == 13:
                flag.value = True
    assert seen == list(range(20))  # stopped at the look after the 20th
    with pytest.raises(Stopped):
        next(stoppable(iter([1])))


def test_reading_gives_up_between_chunks(monkeypatch):
    flag = ctypes.c_bool(False)
    monkeypatch.setattr(stopping, "_FLAG", [flag])
    read: list[list[bytes]] = []

    def told(lines: int) -> None:
        flag.value = True  # told to stop while the first chunk was read

    with pytest.raises(Stopped):
        for chunk in parallel._LineCount(told).through(iter([[b"a"], [b"b"], [b"c"]])):
            read.append(chunk)
    assert read == [[b"a"]]


def test_reading_a_range_gives_up_before_it_starts(stopped, tmp_path: Path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"ticket_id": "1"}\n' * 10)
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
    flag = ctypes.c_bool(True)
    monkeypatch.setattr(stopping, "_FLAG", [flag])
    with pytest.raises(Stopped):
        parallel.run_partition(lambda out: pytest.fail("a stopped job made its part"), ([], True, ""))
    flag.value = False
    fed: list[object] = []

    class Part:
        def add(self, ticket: object) -> None:
            fed.append(ticket)
            if len(fed) == 3:
                flag.value = True

    tickets = [object()] * 1000
    monkeypatch.setattr(parallel, "partition_tickets", lambda pieces, raw: tickets)
    monkeypatch.setattr(parallel, "feed", lambda found, part, summary: [part.add(t) for t in found])
    with pytest.raises(Stopped):
        parallel.run_partition(lambda out: Part(), ([], True, ""))  # type: ignore[arg-type,return-value]
    assert len(fed) == stopping.CHECK_EVERY


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


def test_finishing_an_imported_partition_gives_up_between_tickets(monkeypatch, tmp_path: Path):
    from sla.importers import run

    flag = ctypes.c_bool(False)
    monkeypatch.setattr(stopping, "_FLAG", [flag])
    finished: list[object] = []

    class Source:
        finishes_in_time_order = False

        def finish_ticket(self, ticket: object, events: list[object]) -> tuple[object, bool]:
            finished.append(ticket)
            flag.value = True
            raise run.RecordError("refused")

    spill = tmp_path / "p0"
    spill.write_bytes(b"".join(b'%d\t"T%d"\t{}\n' % (i, i) for i in range(1000)))
    with pytest.raises(Stopped):
        run.finish_partition(Source(), [str(spill)], run.ImportSummary(), [])  # type: ignore[arg-type]
    assert len(finished) == stopping.CHECK_EVERY


def test_import_workers_do_not_wait_at_exit_for_progress_nobody_reads(monkeypatch):
    from sla.importers import parallel as import_parallel

    cancelled: list[bool] = []

    class Queue:
        def cancel_join_thread(self) -> None:
            cancelled.append(True)

    monkeypatch.setattr(import_parallel, "_WORKER", {})
    import_parallel._init_worker(object(), Queue())  # type: ignore[arg-type]
    import_parallel._init_worker(object(), None)  # type: ignore[arg-type]
    assert cancelled == [True]


def test_the_scale_guide_shows_the_message_a_killed_worker_gives():
    guide = (Path(__file__).resolve().parent.parent / "docs" / "scale.md").read_text()
    assert f"sla evaluate: {WorkerDied(-9)}\n" in guide
