"""Bulk mode: the cyclic garbage collector held off while a run builds and
drops millions of small objects.

A run over a history makes a few objects per event and keeps many alive
at once (a batch of rows, a ticket's events, a worker's results); each
time the collector runs it walks every live container again, for no
garbage, since a run makes no reference cycles of its own. Reference
counting still frees everything as it goes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk() -> Iterator[None]:
    """Keep the cyclic GC from rescanning millions of live event objects;
    it is enabled again on the way out, if it was on.

    >>> import gc
    >>> with bulk():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
