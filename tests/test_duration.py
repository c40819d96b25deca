"""Duration parsing (SEMANTICS.md section 1): every valid and invalid form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import DurationError, parse_duration
from sla.policy.duration import parse_duration_us

S = 1_000_000

VALID = [
    ("90s", 90 * S),
    ("15m", 15 * 60 * S),
    ("1.5h", 5400 * S),
    ("1h30m", 5400 * S),
    ("1h 30m", 5400 * S),
    ("2d", 2 * 86400 * S),
    ("1d 2h 3m 4s", (86400 + 7200 + 180 + 4) * S),
    ("1d2h3m4s", (86400 + 7200 + 180 + 4) * S),
    ("1d 30m", (86400 + 1800) * S),
    ("2h15s", (7200 + 15) * S),
    ("0.5s", S // 2),
    ("0.0000015s", 2),  # to the microsecond, half to even
    ("0s", 0),
    ("PT4H", 4 * 3600 * S),
    ("P1DT2H", 26 * 3600 * S),
    ("PT90M", 5400 * S),
    ("P2D", 2 * 86400 * S),
    ("PT1H30M15S", 5415 * S),
    ("PT0.5S", S // 2),
    ("PT1.5H", 5400 * S),
    (3600, 3600 * S),  # YAML numbers
    (1.5, S * 3 // 2),
    (0, 0),
    ("3600", 3600 * S),  # a string of digits
    ("007", 7 * S),
    (timedelta(minutes=5), 300 * S),
]

INVALID = [
    "30m1h",  # out of order
    "1m1h",
    "1d1d",  # a unit twice
    "1h30m1h",
    "-1h",  # negative
    "-3600",
    -1,
    -0.5,
    "1h  30m",  # two spaces
    "1h 30m ",  # trailing space
    " 1h",
    "1h\t30m",
    "",
    " ",
    "P",
    "PT",
    "P1DT",  # a T needs a time part
    "P1W",  # days and time parts only
    "P1Y",
    "P1M",
    "pt4h",
    "1H",
    "1x",
    "h",
    "1.h",
    ".5h",
    "1,5h",
    "1e3",
    "+5",
    "0x10",
    "1.5",  # only whole digits without a unit
    "1 h",
    "PT1H30",
    "1h-30m",
    "٣h",  # non-ASCII digits
    "٣٦٠٠",
    "9" * 30,  # longer than any timedelta
    True,
    False,
    None,
    [],
    {"hours": 1},
    float("nan"),
    float("inf"),
    timedelta(seconds=-1),
]


@pytest.mark.parametrize("text, micros", VALID, ids=[repr(v) for v, _ in VALID])
def test_valid_durations(text, micros):
    assert parse_duration_us(text) == micros
    assert parse_duration(text) == timedelta(microseconds=micros)


@pytest.mark.parametrize("value", INVALID, ids=[repr(v) for v in INVALID])
def test_invalid_durations(value):
    with pytest.raises(DurationError) as caught:
        parse_duration_us(value)
    assert isinstance(caught.value, ValueError)
    assert repr(value)[:20] in str(caught.value) or str(value)[:20] in str(caught.value)


def test_negative_durations_say_so():
    with pytest.raises(DurationError, match="negative"):
        parse_duration("-1h")
    with pytest.raises(DurationError, match="negative"):
        parse_duration(-5)


@settings(max_examples=200, deadline=None)
@given(
    d=st.integers(0, 400),
    h=st.integers(0, 100),
    m=st.integers(0, 1000),
    s=st.integers(0, 10_000),
    present=st.lists(st.booleans(), min_size=4, max_size=4).filter(any),
    spaced=st.booleans(),
)
def test_compact_and_iso_forms_agree(d, h, m, s, present, spaced):
    parts = [
        (v, u)
        for (v, u), keep in zip([(d, "d"), (h, "h"), (m, "m"), (s, "s")], present, strict=False)
        if keep
    ]
    compact = (" " if spaced else "").join(f"{v}{u}" for v, u in parts)
    iso = "P" + (f"{d}D" if present[0] else "")
    time_part = "".join(f"{v}{u.upper()}" for v, u in parts if u != "d")
    if time_part:
        iso += "T" + time_part
    expected = sum(v * {"d": 86400, "h": 3600, "m": 60, "s": 1}[u] for v, u in parts) * S
    assert parse_duration_us(compact) == expected
    assert parse_duration_us(iso) == expected
    assert parse_duration_us(str(expected // S)) == expected
