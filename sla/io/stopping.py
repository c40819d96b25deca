"""The stop flag a worker's jobs look at (:mod:`sla.io.workers` starts the
pools that raise it).

Apart from the pools, so that the loops that look at the flag (reading a
partition, an importer's records) load neither ``multiprocessing`` nor
``ctypes``: a run with one job starts no workers, and their import was a
tenth of its start-up's own modules (33 million instructions).

>>> list(stoppable(range(3)))  # in the parent, the flag is never raised
[0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import ctypes

T = TypeVar("T")

#: How many items :func:`stoppable` passes between two looks at the flag.
CHECK_EVERY = 256

#: The stop flag of the pool this process works for (empty in the parent):
#: a byte of shared memory, read without a lock (a worker killed while it
#: held one would leave the parent unable to raise the flag).  Set by the
#: worker's start (:func:`sla.io.workers.Workers`).
_FLAG: list[ctypes.c_bool] = []


class Stopped(Exception):
    """Raised in a worker whose pool was told to stop: its result is not wanted."""


def check_stop() -> None:
    """Raise :class:`Stopped` if this process is a worker whose pool was
    told to stop; nothing otherwise (in the parent, nothing ever)."""
    if _FLAG and _FLAG[0].value:
        raise Stopped


def stoppable(items: Iterable[T], every: int = CHECK_EVERY) -> Iterator[T]:
    """``items``, with a look at the stop flag before the first and after
    every ``every`` more (:func:`check_stop`)."""
    check_stop()
    for count, item in enumerate(items, 1):
        yield item
        if count % every == 0:
            check_stop()
