"""The batch calendar API (numpy) answers exactly what the scalar one does."""

from __future__ import annotations

import random

import pytest

from sla.calendar.index import ALWAYS_OPEN, Calendar
from sla.timefmt import MAX_US, MIN_US, parse_instant

np = pytest.importorskip("numpy")
from sla.calendar.batch import elapsed_us_many  # noqa: E402

CALENDARS = [
    Calendar.from_dict(
        {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]},
            "holidays": {"country": "DE"},
        }
    ),
    Calendar.from_dict({"timezone": "America/New_York", "hours": {"mon-sun": ["22:00-06:00"]}}),
    Calendar.from_dict({"timezone": "UTC", "hours": {"sat": ["10:00-11:00"]}}),
    ALWAYS_OPEN,
]


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda c: repr(c)[:40])
def test_batch_equals_scalar(calendar: Calendar):
    rng = random.Random(7)
    base = parse_instant("2024-01-01T00:00:00Z")
    span = parse_instant("2028-01-01T00:00:00Z") - base
    starts = [base + rng.randrange(span) for _ in range(3000)]
    ends = [s + int(10 ** rng.uniform(0, 14.5)) * rng.choice((1, -1)) for s in starts]
    got = elapsed_us_many(calendar, starts, ends)
    assert got.dtype == np.int64
    assert got.tolist() == [calendar.elapsed_us(a, b) for a, b in zip(starts, ends, strict=True)]


def test_edges_empty_far_apart_and_shapes():
    calendar = CALENDARS[0]
    assert elapsed_us_many(calendar, [], []).tolist() == []
    far = [MIN_US, MAX_US - 10**12]
    assert elapsed_us_many(calendar, far, [MIN_US + 10**12, MAX_US]).tolist() == [
        calendar.elapsed_us(MIN_US, MIN_US + 10**12),
        calendar.elapsed_us(MAX_US - 10**12, MAX_US),
    ]
    grid = np.array([[0, 10**15], [2 * 10**15, 10**15]], dtype=np.int64)
    assert elapsed_us_many(calendar, grid, grid + 10**12).shape == (2, 2)
    with pytest.raises(ValueError, match="shape"):
        elapsed_us_many(calendar, [1, 2], [3])
