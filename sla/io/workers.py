"""Pools of worker processes that are asked to stop, never killed.

``multiprocessing.pool.Pool.terminate`` (and ``with Pool(...)``, which
calls it) ends the workers with SIGTERM. A worker killed while it holds one
of the pool's queue locks (sending its result, or waiting for a task) takes
the lock with it, and the pool's own threads then wait for it forever:
``terminate`` itself hangs, and an error (a full disk, Ctrl-C) becomes a
command that never ends.

So a pool here ends the way a finished one does, ``close`` then ``join``,
on an error too (:func:`finishing`). To make that quick, every pool has a
stop flag that the parent raises on an error; the jobs look at it as they
go (:func:`check_stop` between pieces of their work, :func:`stoppable`
over a long loop) and give up at once with :class:`Stopped`. A job that is
already running ends at its next look; the jobs still queued end as they
start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.synchronize import Event

T = TypeVar("T")

#: How many items :func:`stoppable` passes between two looks at the flag
#: (a look takes a lock: a few microseconds).
CHECK_EVERY = 256

#: The stop flag of the pool this process works for (empty in the parent).
_FLAG: list[Event] = []


class Stopped(Exception):
    """Raised in a worker whose pool was told to stop: its result is not wanted."""


class Workers(Pool):
    """A pool whose workers run ``initializer(*initargs)`` when they start
    and whose jobs can be told to stop (:attr:`stop_flag`).

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
        self.stop_flag = context.Event()
        super().__init__(processes, _start, (self.stop_flag, initializer, initargs), context=context)


def _start(flag: Event, initializer: Callable[..., object], initargs: tuple[Any, ...]) -> None:
    _FLAG[:] = [flag]  # a forked worker starts with its parent's list
    initializer(*initargs)


def check_stop() -> None:
    """Raise :class:`Stopped` if this process is a worker whose pool was
    told to stop; nothing otherwise (in the parent, nothing ever)."""
    if _FLAG and _FLAG[0].is_set():
        raise Stopped


def stoppable(items: Iterable[T], every: int = CHECK_EVERY) -> Iterator[T]:
    """``items``, with a look at the stop flag before the first and after
    every ``every`` more (:func:`check_stop`)."""
    check_stop()
    for count, item in enumerate(items, 1):
        yield item
        if count % every == 0:
            check_stop()


@contextmanager
def finishing(workers: Workers) -> Iterator[Workers]:
    """The pool, ended on the way out by ``close`` then ``join``: its
    workers finish and exit on their own. On an error the stop flag is
    raised first, so that the jobs give up instead of finishing their
    work. Only if the wait itself is interrupted (Ctrl-C again) are the
    workers killed (``terminate``)."""
    try:
        yield workers
    except BaseException:
        workers.stop_flag.set()
        workers.close()
        try:
            workers.join()
        except BaseException:
            workers.terminate()
            raise
        raise
    workers.close()
    workers.join()


__all__ = ["CHECK_EVERY", "Stopped", "Workers", "check_stop", "finishing", "stoppable"]
