"""``probe_right`` and ``probe_left``: the compiled calendar's binary
searches give exactly what ``bisect`` gives (CI runs this on both builds)."""

from __future__ import annotations

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendar.index import MAX_US, MIN_US, probe_left, probe_right

instants = st.integers(MIN_US, MAX_US)


@settings(max_examples=1000, deadline=None)
@given(st.lists(instants, max_size=60).map(sorted), instants)
def test_the_probes_find_what_bisect_finds(values: list[int], x: int) -> None:
    assert probe_right(values, x) == bisect.bisect_right(values, x)
    assert probe_left(values, x) == bisect.bisect_left(values, x)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=40).map(sorted), st.integers(-6, 6))
def test_the_probes_on_repeated_values_and_at_both_ends(values: list[int], x: int) -> None:
    assert probe_right(values, x) == bisect.bisect_right(values, x)
    assert probe_left(values, x) == bisect.bisect_left(values, x)
