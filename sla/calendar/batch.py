"""Business time over arrays: :func:`elapsed_us_many` answers many
``elapsed`` questions at once with numpy (an optional dependency, imported
only here: ``pip install "sla[columnar]"``; pandas brings it too), for columnar users such
as a data frame of tickets.

The answers are those of :meth:`Calendar.elapsed_us <sla.calendar.index.Calendar.elapsed_us>`,
one by one, exactly: the same index of open intervals with cumulative open
time, searched with ``numpy.searchsorted`` instead of ``bisect``.

>>> from sla.calendar.index import Calendar
>>> cal = Calendar.from_dict({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> monday_9h = 1_772_442_000_000_000  # 2026-03-02T09:00:00Z
>>> hour = 3_600_000_000
>>> elapsed_us_many(cal, [monday_9h, monday_9h], [monday_9h + hour, monday_9h + 24 * hour]).tolist()
[3600000000, 28800000000]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sla.calendar.index import Calendar
from sla.errors import SlaError
from sla.timefmt import MAX_US, MIN_US

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: Spans longer than this (in µs, about 60 years) are answered one by one:
#: the index of every year between would be built first.
_MAX_SPAN_US = 60 * 366 * 86_400 * 1_000_000


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise SlaError("the batch calendar API needs numpy: pip install 'sla[columnar]' (or numpy)") from None
    return numpy


def elapsed_us_many(
    calendar: Calendar, starts: Sequence[int] | NDArray[np.int64], ends: Sequence[int] | NDArray[np.int64]
) -> NDArray[np.int64]:
    """Business microseconds in ``[starts[i], ends[i])`` for every ``i`` (negative
    where the end comes first), as a numpy int64 array.  Instants are epoch
    microseconds (``numpy.datetime64[us]`` values viewed as ``int64`` will do)."""
    np_ = _numpy()
    a = np_.asarray(starts, dtype=np_.int64)
    b = np_.asarray(ends, dtype=np_.int64)
    if a.shape != b.shape:
        raise ValueError(f"starts and ends differ in shape: {a.shape} and {b.shape}")
    if a.size == 0:
        return np_.zeros(a.shape, dtype=np_.int64)  # type: ignore[no-any-return]
    if calendar.always_open:
        return b - a  # type: ignore[no-any-return]
    lo = int(min(a.min(), b.min()))
    hi = int(max(a.max(), b.max()))
    if lo < MIN_US or hi > MAX_US or hi - lo > _MAX_SPAN_US:
        # Outside the supported instants or spread over centuries: one by one.
        elapsed = calendar.elapsed_us
        return np_.fromiter(  # type: ignore[no-any-return]
            (elapsed(int(x), int(y)) for x, y in zip(a.ravel(), b.ravel(), strict=True)),
            dtype=np_.int64,
            count=a.size,
        ).reshape(a.shape)
    raw_starts, raw_ends, raw_cum = calendar.index_covering(lo, hi)
    if not raw_starts:  # never open in the span
        return np_.zeros(a.shape, dtype=np_.int64)  # type: ignore[no-any-return]
    opens = np_.asarray(raw_starts, dtype=np_.int64)
    closes = np_.asarray(raw_ends, dtype=np_.int64)
    before = np_.asarray(raw_cum, dtype=np_.int64)

    def open_time_before(us: Any) -> Any:
        i = np_.searchsorted(opens, us, side="right") - 1
        inside = i >= 0
        j = np_.where(inside, i, 0)
        return np_.where(inside, before[j] + np_.minimum(us, closes[j]) - opens[j], 0)

    return open_time_before(b) - open_time_before(a)  # type: ignore[no-any-return]


__all__ = ["elapsed_us_many"]
