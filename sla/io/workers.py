"""Pools of worker processes that are asked to stop, not killed.

``multiprocessing.pool.Pool.terminate`` (and ``with Pool(...)``, which
calls it) ends the workers with SIGTERM. A worker killed while it holds one
of the pool's queue locks (sending its result, or waiting for a task) takes
the lock with it, and the pool's own threads then wait for it forever:
``terminate`` itself hangs, and an error (a full disk, Ctrl-C) becomes a
command that never ends. A worker killed in the middle of a job hangs the
pool another way: its result never comes, so ``join`` waits for it forever.

So here:

- Workers ignore SIGINT and SIGTERM (:class:`Workers`). Ctrl-C and
  ``timeout``, ``kill -TERM -PGID`` or a service manager signal the whole
  process group; the parent alone acts on it, as on any error.
- On an error the parent raises the pool's stop flag and waits for the
  workers to finish, ``close`` then ``join``, as a pool that did its work
  (:func:`finishing`). The jobs look at the flag as they go
  (:func:`check_stop` between pieces of their work, :func:`stoppable` over a
  long loop) and give up at once with :class:`Stopped`: a running job at its
  next look, the queued ones as they start. (Only the parent raises it,
  once it has stopped reading results: a job that gave up is never
  mistaken for the error.)
- Only if that wait is interrupted too (Ctrl-C again) are the workers
  killed, with SIGKILL, and the pool left without its own teardown
  (:func:`abandon`), which could wait on what they held.
- A worker that dies on its own (the kernel's out-of-memory killer, a
  ``kill -9``, a crash) takes its job with it, and ``Pool`` would start
  another worker and wait for that job's result forever. Our workers never
  end on their own while their pool runs, so the pool starting a second
  worker means one died: every result still awaited fails with
  :class:`WorkerDied`, which says how it ended, and the run ends as on any
  other error.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import TERMINATE, ApplyResult, IMapIterator, Pool
from typing import TYPE_CHECKING, Any

from sla.errors import SlaError

# The jobs' side of the flag, here too for whoever starts the pool.
from sla.io.stopping import _FLAG, CHECK_EVERY, Stopped, check_stop, stoppable

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.process import BaseProcess


class WorkerDied(SlaError):
    """A worker process ended in the middle of the work; what it was doing is lost."""

    def __init__(self, exitcode: int) -> None:
        self.exitcode = exitcode
        super().__init__(
            f"a worker process {_how_it_ended(exitcode)} in the middle of the work; the part of "
            "the input it held is lost, so the run stops here. If the system ran out of memory "
            "(see `dmesg` or the system log), run again with fewer --jobs or with more memory free"
        )


def _how_it_ended(exitcode: int) -> str:
    if exitcode >= 0:
        return f"exited with code {exitcode}"
    try:
        name = f"{signal.Signals(-exitcode).name} (signal {-exitcode})"
    except ValueError:
        name = f"signal {-exitcode}"
    if -exitcode == signal.SIGKILL:
        name += ", the signal of the kernel's out-of-memory killer,"
    return f"was killed by {name}"


class Workers(Pool):
    """A pool whose workers ignore SIGINT and SIGTERM, run
    ``initializer(*initargs)`` when they start, and whose jobs can be told
    to stop (:meth:`stop`).

    >>> import multiprocessing
    >>> with finishing(Workers(1, int, (), multiprocessing.get_context())) as workers:
    ...     workers.apply(pow, (2, 10))
    1024
    """

    def __init__(
        self,
        processes: int,
        initializer: Callable[..., object],
        initargs: tuple[Any, ...],
        context: BaseContext,
    ) -> None:
        self.stop_flag = context.RawValue(ctypes.c_bool, False)
        self._started: list[BaseProcess] = []
        self._watch = threading.Lock()
        self.died = False  # a worker ended in the middle of the work (WorkerDied)
        super().__init__(processes, _start, (self.stop_flag, initializer, initargs), context=context)

    def stop(self) -> None:
        """Tell the jobs to give up (they see it at their next look)."""
        self.stop_flag.value = True

    # Pool's hook for a new worker, a static method there: Pool calls it
    # through the instance (``self.Process``), when it starts and then each
    # time it replaces a worker that ended.
    def Process(self, ctx: BaseContext, *args: Any, **kwds: Any) -> BaseProcess:  # type: ignore[override]
        with self._watch:
            ended = [process for process in self._started if process.exitcode is not None]
            if ended:
                self._started = [process for process in self._started if process.exitcode is None]
                self._fail_pending(WorkerDied(ended[0].exitcode or 0))
            process: BaseProcess = ctx.Process(*args, **kwds)  # type: ignore[attr-defined]
            self._started.append(process)
            return process

    def _fail_pending(self, error: WorkerDied) -> None:
        """Every result still awaited fails with ``error``: one of them was
        the dead worker's, and which one cannot be known. (Pool's private
        parts, as in :func:`abandon`; the results' own threads may set a
        result at the same time, which then wins or is dropped.)"""
        self.died = True
        cache: dict[int, Any] = self._cache  # type: ignore[attr-defined]
        for result in list(cache.values()):
            if isinstance(result, IMapIterator):  # imap, imap_unordered: the next item raises
                with result._cond:  # type: ignore[attr-defined]
                    result._items.append((False, error))  # type: ignore[attr-defined]
                    result._cond.notify()  # type: ignore[attr-defined]
            elif isinstance(result, ApplyResult):  # apply_async, map_async
                result._success, result._value = False, error  # type: ignore[attr-defined]
                result._event.set()  # type: ignore[attr-defined]
            cache.pop(result._job, None)


def _start(flag: ctypes.c_bool, initializer: Callable[..., object], initargs: tuple[Any, ...]) -> None:
    # Ctrl-C and a SIGTERM to the process group reach the workers too: the
    # parent alone handles them (raises the flag, cleans up, says one line).
    # Whatever handlers the parent had installed for itself are not wanted
    # here either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _FLAG[:] = [flag]  # a forked worker starts with its parent's list
    initializer(*initargs)


@contextmanager
def finishing(workers: Workers) -> Iterator[Workers]:
    """The pool, ended on the way out by ``close`` then ``join``: its
    workers finish and exit on their own. On an error the jobs are told to
    stop first (:meth:`Workers.stop`), so that they give up instead of
    finishing their work. If the wait itself is interrupted (Ctrl-C again),
    or a worker died (:class:`WorkerDied`), the workers are killed
    (:func:`abandon`)."""
    done = False
    try:
        yield workers
        done = True
    finally:
        if getattr(workers, "died", False):
            # The dead worker may have held one of the pool's queue locks:
            # the others could then never be told to exit.
            abandon(workers)
        else:
            try:
                if not done:
                    workers.stop()
                workers.close()
                workers.join()
            except BaseException:
                abandon(workers)
                raise


def abandon(workers: Pool) -> None:
    """Kill the workers (SIGKILL) and leave the pool as it is.

    ``terminate`` would wait on locks and results a killed worker took with
    it: instead, the pool's teardown is cancelled, the thread that replaces
    dead workers is ended first, and the workers are killed and reaped. The
    pool's other threads are daemons, left waiting until the process
    ends. (Pool's private parts: the price of not hanging.)"""
    pool: Any = workers
    pool._terminate.cancel()  # its teardown (also run at exit) is terminate's
    handler = pool._worker_handler
    handler._state = TERMINATE  # no more replacements for dead workers
    pool._change_notifier.put(None)
    handler.join()
    for process in pool._pool:
        process.kill()
    for process in pool._pool:
        process.join()


__all__ = [
    "CHECK_EVERY",
    "Stopped",
    "WorkerDied",
    "Workers",
    "abandon",
    "check_stop",
    "finishing",
    "stoppable",
]
