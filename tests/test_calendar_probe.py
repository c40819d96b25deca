"""``near_right``: the compiled calendar's search, which tries a hint and its
neighbours first, gives what :mod:`bisect` gives for every hint, good or
bad; and over ints, ``near_right`` of ``x - 1`` is ``bisect_left`` of ``x``,
which the calendar relies on (run on whichever engine is installed)."""

from __future__ import annotations

import bisect

from hypothesis import given
from hypothesis import strategies as st

from sla.calendar.index import MAX_US, MIN_US, near_right

instants = st.integers(min_value=MIN_US - 10, max_value=MAX_US + 10)
hints = st.integers(min_value=-3, max_value=60)


@given(st.lists(instants, max_size=50).map(sorted), instants, hints)
def test_the_searches_are_bisects_whatever_the_hint(values, x, hint):
    assert near_right(values, x, hint) == bisect.bisect_right(values, x)
    assert near_right(values, x - 1, hint) == bisect.bisect_left(values, x)


@given(st.lists(st.integers(0, 20), max_size=40).map(sorted), st.integers(-1, 21), hints)
def test_with_repeated_values_and_probes_onto_them(values, x, hint):
    # small numbers: many equal values, and x often equal to one of them
    assert near_right(values, x, hint) == bisect.bisect_right(values, x)
    assert near_right(values, x - 1, hint) == bisect.bisect_left(values, x)


def test_every_hint_next_to_the_answer():
    values = [10, 20, 20, 30, 40]
    for x in range(5, 46):
        for hint in range(-1, len(values) + 2):
            assert near_right(values, x, hint) == bisect.bisect_right(values, x), (x, hint)
            assert near_right(values, x - 1, hint) == bisect.bisect_left(values, x), (x, hint)
