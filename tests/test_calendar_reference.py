"""The fast calendar index against a brute-force reference, plus algebraic
properties, on DST-heavy zones and random weekly schedules (hypothesis).

The reference below knows nothing of the index: it walks local dates one by
one, takes each date's shifts (override > holiday > weekly), converts every
boundary with zoneinfo ``fold=0`` exactly as SEMANTICS.md section 2 words it,
drops empty intervals, unions overlaps and answers ``elapsed`` / ``is_open`` /
``add`` by direct iteration over the intervals.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays as holidays_package
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla import ALWAYS_OPEN, Calendar, CalendarError

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
HOUR_US = 3600 * US
DAY = 86_400
DAY_US = DAY * US
WEEK = 7 * DAY
ONE_DAY = timedelta(days=1)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo")

# SLA_CALENDAR_EXAMPLES=2000 for a long soak; the default keeps the run short.
SETTINGS = settings(
    max_examples=int(os.environ.get("SLA_CALENDAR_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=False,
)


# --------------------------------------------------------------- reference
def us_of(moment: datetime) -> int:
    """Epoch microseconds, through UTC (same-zone datetime arithmetic ignores offsets)."""
    return (moment.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)


def dt_of(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def parse_clock(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0)


def parse_interval(text: str) -> tuple[int, int]:
    left, right = text.split("-")
    start, end = parse_clock(left), parse_clock(right)
    if end <= start:
        end += DAY
    return start, end


def expand_days(key: str) -> list[int]:
    out = []
    for part in key.split(","):
        names = part.strip().split("-")
        first, last = DAY_NAMES.index(names[0]), DAY_NAMES.index(names[-1])
        out += [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    return out


@cache
def country_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_package.country_holidays(country, subdiv=subdivision, years=year).keys())


class Reference:
    """Brute force: one local date at a time, no index, no cleverness."""

    def __init__(self, mapping: dict):
        self.zone = ZoneInfo(mapping.get("timezone", "UTC"))
        self.weekly: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for key, intervals in mapping["hours"].items():
            for day in expand_days(key):
                self.weekly[day] = [parse_interval(x) for x in intervals]
        hol = mapping.get("holidays") or {}
        self.country = hol.get("country")
        self.subdivision = hol.get("subdivision")
        self.extra = {date.fromisoformat(str(d)) for d in hol.get("dates", [])}
        self.overrides = {
            date.fromisoformat(str(k)): [parse_interval(x) for x in v]
            for k, v in (mapping.get("overrides") or {}).items()
        }

    def is_holiday(self, day: date) -> bool:
        if day in self.extra:
            return True
        return self.country is not None and day in country_holidays(self.country, self.subdivision, day.year)

    def shifts(self, day: date) -> list[tuple[int, int]]:
        if day in self.overrides:
            return self.overrides[day]
        if self.is_holiday(day):
            return []
        return self.weekly[day.weekday()]

    def boundary(self, day: date, seconds: int) -> int:
        naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
        return us_of(naive.replace(tzinfo=self.zone))  # fold=0

    def intervals(self, first: date, last: date) -> list[tuple[int, int]]:
        """Union of the open intervals starting on local dates first..last."""
        raw = []
        day = first
        while day <= last:
            for start, end in self.shifts(day):
                a, b = self.boundary(day, start), self.boundary(day, end)
                if b > a:
                    raw.append((a, b))
            day += ONE_DAY
        raw.sort()
        merged: list[list[int]] = []
        for a, b in raw:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return [(a, b) for a, b in merged]

    def local_date(self, us: int) -> date:
        return dt_of(us).astimezone(self.zone).date()

    def elapsed(self, a: int, b: int) -> int:
        if b < a:
            return -self.elapsed(b, a)
        total = 0
        for s, e in self.intervals(self.local_date(a) - 3 * ONE_DAY, self.local_date(b) + ONE_DAY):
            total += max(0, min(e, b) - max(s, a))
        return total

    def is_open(self, t: int) -> bool:
        day = self.local_date(t)
        return any(s <= t < e for s, e in self.intervals(day - 3 * ONE_DAY, day + ONE_DAY))

    def add(self, t: int, d: int) -> int:
        if d == 0:
            return t
        first = self.local_date(t) - 3 * ONE_DAY
        span = 16
        while True:
            last = first + timedelta(days=span)
            # Intervals of later dates start at or after local midnight of
            # `last + 1` (give or take a DST gap), so anything before the
            # local midnight of `last` is final.
            safe = self.boundary(last, 0)
            remaining = d
            for s, e in self.intervals(first, last):
                if e <= t:
                    continue
                s = max(s, t)
                if e - s >= remaining:
                    found = s + remaining
                    if found <= safe:
                        return found
                    break
                remaining -= e - s
            span *= 2
            assert span < 40 * 366, "reference add ran away"

    def open_intervals(self, a: int, b: int) -> list[tuple[int, int]]:
        out = []
        for s, e in self.intervals(self.local_date(a) - 3 * ONE_DAY, self.local_date(b) + ONE_DAY):
            s, e = max(s, a), min(e, b)
            if s < e:
                out.append((s, e))
        return out


# -------------------------------------------------------------- strategies
@cache
def transitions(zone_name: str) -> tuple[int, ...]:
    """Epoch µs of (about) every UTC-offset change of a zone in 1990..2090."""
    zone = ZoneInfo(zone_name)
    out = []
    moment = datetime(1990, 1, 1, 12, tzinfo=UTC)
    end = datetime(2091, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < end:
        moment += ONE_DAY
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            out.append(us_of(moment) - DAY_US // 2)
            previous = offset
    return tuple(out)


LO_US = us_of(datetime(1990, 1, 15, tzinfo=UTC))
HI_US = us_of(datetime(2090, 12, 15, tzinfo=UTC))

SPECIAL_TIMES = [
    0,
    1800,
    3600,
    2 * 3600,
    2 * 3600 + 1800,
    3 * 3600,
    9 * 3600,
    12 * 3600,
    17 * 3600,
    22 * 3600,
    23 * 3600 + 1800,
]
SPECIAL_LENGTHS = [1, 1800, 3600, 3 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, DAY]

clock_seconds = st.one_of(
    st.sampled_from(SPECIAL_TIMES),
    st.integers(0, 24 * 4 - 1).map(lambda k: k * 900),
    st.integers(0, DAY - 1),
)
lengths = st.one_of(
    st.sampled_from(SPECIAL_LENGTHS), st.integers(1, 12 * 4).map(lambda k: k * 900), st.integers(1, DAY)
)


def clock_text(seconds: int, with_seconds: bool) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if (s or with_seconds) else f"{h:02d}:{m:02d}"


@st.composite
def interval_text(draw, start: int, length: int) -> str:
    with_seconds = draw(st.booleans())
    end = (start + length) % DAY
    right = "24:00" if end == 0 and draw(st.booleans()) else clock_text(end, with_seconds)
    return f"{clock_text(start, with_seconds)}-{right}"


def circular_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return any(a[0] < b[1] + k * WEEK and b[0] + k * WEEK < a[1] for k in (-1, 0, 1))


@st.composite
def weekly_hours(draw) -> dict:
    candidates = draw(st.lists(st.tuples(st.integers(0, 6), clock_seconds, lengths), min_size=1, max_size=10))
    kept: list[tuple[int, int]] = []
    per_day: dict[int, list[tuple[int, int]]] = {}
    for day, start, length in candidates:
        span = (day * DAY + start, day * DAY + start + length)
        if any(circular_overlap(span, other) for other in kept):
            continue
        kept.append(span)
        per_day.setdefault(day, []).append((start, length))
    hours: dict[str, list[str]] = {}
    # Group days with identical shifts into one "mon,wed" key now and then.
    groups: dict[tuple, list[int]] = {}
    for day, shifts in per_day.items():
        groups.setdefault(tuple(sorted(shifts)), []).append(day)
    for shifts, days in groups.items():
        texts = [draw(interval_text(s, n)) for s, n in shifts]
        if len(days) > 1 and draw(st.booleans()):
            hours[",".join(DAY_NAMES[d] for d in sorted(days))] = texts
        else:
            for d in days:
                hours[DAY_NAMES[d]] = texts
    if draw(st.booleans()):  # a closed day named explicitly
        closed = [d for d in range(7) if d not in per_day]
        if closed:
            hours[DAY_NAMES[draw(st.sampled_from(closed))]] = []
    return hours


@st.composite
def base_instant(draw, zone: str) -> int:
    if draw(st.booleans()):
        found = transitions(zone)
        if found:
            return draw(st.sampled_from(found)) + draw(st.integers(-3 * DAY_US, 3 * DAY_US))
    return draw(st.integers(LO_US, HI_US))


@st.composite
def calendars(draw) -> tuple[dict, int]:
    """(calendar mapping, base instant); the mapping always builds."""
    zone = draw(st.sampled_from(ZONES))
    base = draw(base_instant(zone))
    mapping: dict = {"timezone": zone, "hours": draw(weekly_hours())}
    base_day = dt_of(base).astimezone(ZoneInfo(zone)).date()
    near_dates = st.integers(-12, 12).map(lambda k: base_day + timedelta(days=k))
    holidays: dict = {}
    country = draw(st.sampled_from([None, None, ("DE", "BE"), ("DE", None), ("US", None), ("AU", "NSW")]))
    if country:
        holidays["country"] = country[0]
        if country[1]:
            holidays["subdivision"] = country[1]
    extra = draw(st.lists(near_dates, max_size=3, unique=True))
    if extra:
        holidays["dates"] = [d if draw(st.booleans()) else d.isoformat() for d in extra]
    if holidays:
        mapping["holidays"] = holidays
    overrides = draw(
        st.dictionaries(
            near_dates,
            st.lists(st.tuples(clock_seconds, lengths), max_size=2),
            max_size=3,
        )
    )
    mapping["overrides"] = {}
    for day, shifts in overrides.items():
        shifts = sorted(shifts)
        if len(shifts) == 2 and shifts[0][0] + shifts[0][1] > shifts[1][0]:
            shifts = shifts[:1]
        texts = [draw(interval_text(s, n)) for s, n in shifts]
        key = day.isoformat() if draw(st.booleans()) else day
        mapping["overrides"][key] = texts
        try:
            Calendar.from_dict(mapping, name="random")
        except CalendarError:  # it overlaps a neighbouring day's hours: leave it out
            del mapping["overrides"][key]
    return mapping, base


def instants(base: int, spread: int = 10 * DAY_US):
    return st.integers(base - spread, base + spread)


# ------------------------------------------------------ reference compared
@SETTINGS
@given(data=st.data(), case=calendars())
def test_elapsed_and_is_open_match_reference(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    ref = Reference(mapping)
    for _ in range(4):
        a = data.draw(instants(base))
        b = data.draw(st.one_of(instants(base), instants(a, HOUR_US * 6)))
        assert cal.elapsed_us(a, b) == ref.elapsed(a, b), (a, b)
        assert cal.is_open_us(a) == ref.is_open(a), a
    lo, hi = min(a, b), max(a, b)
    assert cal.open_intervals_us(lo, hi) == ref.open_intervals(lo, hi)


@SETTINGS
@given(data=st.data(), case=calendars())
def test_add_matches_reference(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    ref = Reference(mapping)
    # Keep the reference's walk short: at most a few weeks' worth of hours.
    weekly = sum(e - s for shifts in ref.weekly.values() for s, e in shifts) * US
    for _ in range(3):
        t = data.draw(instants(base))
        d = data.draw(
            st.one_of(
                st.integers(0, min(3 * HOUR_US, 3 * weekly)),
                st.sampled_from([0, 1, min(HOUR_US, weekly), min(8 * HOUR_US, 2 * weekly)]),
                st.integers(0, min(5 * DAY_US, 3 * weekly)),
            )
        )
        assert cal.add_us(t, d) == ref.add(t, d), (t, d)


@SETTINGS
@given(data=st.data(), case=calendars())
def test_add_nearby_is_add_or_nothing(data, case):
    """add_us_nearby answers as add_us does, or not at all (None) when the
    answer lies outside the stretch of the index in use."""
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    for _ in range(4):
        t = data.draw(instants(base))
        d = data.draw(st.one_of(st.integers(0, 3 * HOUR_US), st.integers(0, 400 * DAY_US)))
        cal.elapsed_us(t, t + 1)  # t's stretch of the index in use, as after a ticket's earlier query
        near = cal.add_us_nearby(t, d)
        assert near is None or near == cal.add_us(t, d), (t, d)
        if d == 0:
            assert near == t


@SETTINGS
@given(data=st.data(), case=calendars())
def test_boundaries_match_reference(data, case):
    """Queries exactly at the converted shift boundaries, and 1 µs either side."""
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    ref = Reference(mapping)
    day = ref.local_date(base)
    edges = sorted({x for s, e in ref.intervals(day - 2 * ONE_DAY, day + 2 * ONE_DAY) for x in (s, e)})
    assume(edges)
    weekly = sum(e - s for shifts in ref.weekly.values() for s, e in shifts) * US
    durations = [1, 2, min(HOUR_US, weekly), weekly]
    for edge in data.draw(st.lists(st.sampled_from(edges), min_size=1, max_size=4)):
        for t in (edge - 1, edge, edge + 1):
            assert cal.is_open_us(t) == ref.is_open(t)
            assert cal.elapsed_us(t, edge + HOUR_US) == ref.elapsed(t, edge + HOUR_US)
            assert cal.elapsed_us(edge - HOUR_US, t) == ref.elapsed(edge - HOUR_US, t)
            d = data.draw(st.sampled_from(durations))
            assert cal.add_us(t, d) == ref.add(t, d)
    # Durations that run out exactly at a boundary.
    start = edges[0] - 1
    for edge in edges[1:]:
        d = ref.elapsed(start, edge)
        if d:
            assert cal.add_us(start, d) == ref.add(start, d)


# ------------------------------------------------------------- properties
def as_datetime(us: int, zone: str) -> datetime:
    return dt_of(us).astimezone(ZoneInfo(zone))


@SETTINGS
@given(data=st.data(), case=calendars())
def test_elapsed_is_additive_antisymmetric_and_bounded(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    zone = mapping["timezone"]
    a, b, c = (data.draw(instants(base)) for _ in range(3))
    da, db, dc = (as_datetime(x, zone) for x in (a, b, c))
    assert cal.elapsed(da, dc) == cal.elapsed(da, db) + cal.elapsed(db, dc)
    assert cal.elapsed(db, da) == -cal.elapsed(da, db)
    lo, hi = sorted((a, b))
    assert timedelta(0) <= cal.elapsed(dt_of(lo), dt_of(hi)) <= dt_of(hi) - dt_of(lo)
    assert cal.elapsed(da, da) == timedelta(0)


@SETTINGS
@given(data=st.data(), case=calendars())
def test_add_is_the_earliest_inverse_of_elapsed(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    zone = mapping["timezone"]
    t = as_datetime(data.draw(instants(base)), zone)
    weekly = Reference(mapping).weekly
    weekly_us = sum(e - s for shifts in weekly.values() for s, e in shifts) * US
    # At most a year's worth of this calendar's hours (1 s a week is possible).
    d = timedelta(
        microseconds=data.draw(
            st.one_of(
                st.integers(0, min(2 * HOUR_US, 52 * weekly_us)),
                st.integers(0, min(4 * DAY_US, 52 * weekly_us)),
            )
        )
    )
    due = cal.add(t, d)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    assert due >= t
    assert cal.elapsed(t, due) == d
    if d > timedelta(0):
        one = timedelta(microseconds=1)
        assert cal.elapsed(t, due - one) < d
        # The earliest: the last microsecond before the due time is open.
        assert cal.is_open(due - one)


@SETTINGS
@given(data=st.data(), case=calendars())
def test_is_open_iff_the_next_microsecond_counts(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    for _ in range(5):
        t = data.draw(instants(base))
        assert cal.is_open_us(t) == (cal.elapsed_us(t, t + 1) > 0)
        assert cal.is_open(dt_of(t)) == cal.is_open_us(t)


@SETTINGS
@given(data=st.data(), case=calendars())
def test_open_intervals_sum_to_elapsed(data, case):
    mapping, base = case
    cal = Calendar.from_dict(mapping, name="random")
    a, b = sorted(data.draw(instants(base)) for _ in range(2))
    stretches = cal.open_intervals_us(a, b)
    assert sum(e - s for s, e in stretches) == cal.elapsed_us(a, b)
    assert all(a <= s < e <= b for s, e in stretches)
    assert all(e1 < s2 for (_, e1), (s2, _) in zip(stretches, stretches[1:], strict=False))


@settings(max_examples=100, deadline=None)
@given(a=st.integers(LO_US, HI_US), b=st.integers(LO_US, HI_US), d=st.integers(0, 400 * DAY_US))
def test_always_open_is_wall_time(a, b, d):
    assert ALWAYS_OPEN.elapsed_us(a, b) == b - a
    assert ALWAYS_OPEN.add_us(a, d) == a + d
    assert ALWAYS_OPEN.is_open_us(a)
    assert ALWAYS_OPEN.elapsed(dt_of(a), dt_of(b)) == timedelta(microseconds=b - a)


# --------------------------------------------- long spans and far years
BERLIN = {
    "timezone": "Europe/Berlin",
    "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": ["22:00-02:00"]},
    "holidays": {"country": "DE", "subdivision": "BE", "dates": ["2026-12-24"]},
    "overrides": {"2026-12-31": ["09:00-12:00"], "1990-06-15": [], "2090-06-16": ["01:00-05:00"]},
}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_nineteen_year_span_matches_reference():
    cal, ref = Calendar.from_dict(BERLIN), Reference(BERLIN)
    a, b = us_of(utc(2010, 1, 4, 10, 30)), us_of(utc(2029, 1, 4, 10, 30, 0, 250))
    assert cal.elapsed_us(a, b) == ref.elapsed(a, b)
    assert cal.elapsed_us(b, a) == -ref.elapsed(a, b)
    d = cal.elapsed_us(a, b)
    assert cal.add_us(a, d) == ref.add(a, d) <= b


@pytest.mark.parametrize("order", ["2026 then 1990 then 2090", "1990 first", "2090 first"])
def test_far_years_and_lazy_growth_in_both_directions(order):
    cal, ref = Calendar.from_dict(BERLIN), Reference(BERLIN)
    probes = {
        "2026": us_of(utc(2026, 12, 23, 8, 0)),
        "1990": us_of(utc(1990, 6, 13, 9, 17, 3, 5)),
        "2090": us_of(utc(2090, 6, 14, 12, 0)),
    }
    names = {
        "2026 then 1990 then 2090": ["2026", "1990", "2090"],
        "1990 first": ["1990", "2090", "2026"],
        "2090 first": ["2090", "1990", "2026"],
    }[order]
    for name in names:
        t = probes[name]
        assert cal.elapsed_us(t, t + 10 * DAY_US) == ref.elapsed(t, t + 10 * DAY_US), name
        assert cal.add_us(t, 30 * HOUR_US) == ref.add(t, 30 * HOUR_US), name
        assert cal.is_open_us(t + 3 * HOUR_US) == ref.is_open(t + 3 * HOUR_US), name
    # One query across the whole century, after the index grew piecemeal.
    a, b = probes["1990"], probes["2090"]
    assert cal.elapsed_us(a, b) == ref.elapsed(a, b)


def test_first_query_in_2026_then_1990():
    cal = Calendar.from_dict(BERLIN)
    cal.elapsed(utc(2026, 3, 2), utc(2026, 3, 9))
    # 1990-06-15 is overridden closed; 1990-06-14 (Thursday) is a plain day.
    assert cal.elapsed(utc(1990, 6, 14), utc(1990, 6, 16)) == timedelta(hours=7)
    assert cal.is_open(datetime(1990, 6, 14, 9, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    assert not cal.is_open(datetime(1990, 6, 15, 9, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    # Holidays come from the holidays package for any year asked, as far
    # back as its data goes (for DE that is 1991: 1990 has none there).
    berlin = ZoneInfo("Europe/Berlin")
    assert not cal.is_open(datetime(1991, 10, 3, 10, tzinfo=berlin))  # German Unity Day
    assert not cal.is_open(datetime(1991, 3, 29, 10, tzinfo=berlin))  # Good Friday
    assert cal.is_open(datetime(1990, 10, 3, 10, tzinfo=berlin)) == (
        date(1990, 10, 3) not in holidays_package.country_holidays("DE", subdiv="BE", years=1990)
    )
