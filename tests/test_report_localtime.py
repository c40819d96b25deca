"""The report's local-time views (:mod:`sla.report.localtime`): the weekday
and hour of an instant, looked up by UTC hour where the zone's offset holds
all through it, are those of the instant's own conversion, across DST
changes, half-hour zones and a zone that moves its clocks by half an hour."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from sla.report.localtime import US_PER_HOUR, LocalTime
from sla.timefmt import MAX_US as MAX_US_
from sla.timefmt import MIN_US as MIN_US_
from sla.timefmt import from_us

ZONES = (
    "Europe/Berlin",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Sao_Paulo",
    "UTC",
)
# 2025-2027 and the hours around each of their DST changes
SPAN = (
    int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) * 10**6,
    int(datetime(2028, 1, 1, tzinfo=UTC).timestamp()) * 10**6,
)


def direct(zone: ZoneInfo, us: int) -> tuple[int, int]:
    local = from_us(us).astimezone(zone)
    return local.weekday(), local.hour


@given(
    st.sampled_from(ZONES),
    st.lists(st.integers(*SPAN), min_size=1, max_size=60),
    st.integers(0, 3 * US_PER_HOUR),
)
def test_the_weekday_and_hour_remembered_by_utc_hour_are_each_instants_own(
    zone_name: str, instants: list[int], spread: int
) -> None:
    zone = ZoneInfo(zone_name)
    local = LocalTime(zone, None)
    # instants near each other, so hours are asked for again (the remembered answer)
    every = [at + k * spread // 7 for at in instants for k in range(3)]
    for at in every:
        # as the report's tally asks: the remembered answer first
        cell = local.weekday_hours.get(at // US_PER_HOUR)
        if cell is None:
            cell = local.weekday_hour(at)
        assert cell == direct(zone, at) == local.weekday_hour(at)


def test_an_hour_whose_offset_changes_inside_it_is_not_remembered() -> None:
    berlin = LocalTime(ZoneInfo("Europe/Berlin"), None)
    change = int(datetime(2026, 3, 29, 1, 0, tzinfo=UTC).timestamp()) * 10**6  # 02:00 CET is 03:00 CEST
    assert berlin.weekday_hour(change - 1) == (6, 1) and berlin.weekday_hour(change) == (6, 3)
    # Berlin changes on a UTC hour: both hours hold one offset all through
    assert berlin.weekday_hours[(change - 1) // US_PER_HOUR] == (6, 1)
    assert berlin.weekday_hours[change // US_PER_HOUR] == (6, 3)
    st_johns = LocalTime(ZoneInfo("America/St_Johns"), None)
    # 2026-03-08 02:00 NST (-3:30) is 03:00 NDT (-2:30): at 05:30Z, inside a UTC hour
    five_z = int(datetime(2026, 3, 8, 5, 0, tzinfo=UTC).timestamp()) * 10**6
    quarter = US_PER_HOUR // 4
    assert st_johns.weekday_hour(five_z + quarter) == (6, 1)  # 01:45 NST
    assert five_z // US_PER_HOUR not in st_johns.weekday_hours
    assert st_johns.weekday_hour(five_z + 3 * quarter) == (6, 3)  # 03:15 NDT
    # 04:00-05:00Z is NST all through, but 00:30 to 01:30 local: two local hours
    assert st_johns.weekday_hour(five_z - 3 * quarter) == (6, 0)
    assert five_z // US_PER_HOUR - 1 not in st_johns.weekday_hours


def test_the_zero_zones_have_offset_zero_all_through() -> None:
    """Each name LocalTime takes as UTC without looking it up is UTC in the
    tz database, from 1900 to 2100 and at the ends of the supported instants."""
    from datetime import timedelta

    from sla.report.localtime import ZERO_ZONES
    from sla.timefmt import MAX_US, MIN_US

    for name in ZERO_ZONES:
        zone = ZoneInfo(name)
        for us in [MIN_US, MAX_US] + [
            int(datetime(y, m, 1, tzinfo=UTC).timestamp()) * 10**6
            for y in range(1900, 2101, 7)
            for m in (1, 4, 7, 10)
        ]:
            assert from_us(us).astimezone(zone).utcoffset() == timedelta(0), (name, us)


FIXED = st.sampled_from(["UTC", "Etc/UTC", "GMT", "+05:30", "-03:00", "+00:00", "-09:30"])


def _zone(name: str):
    from datetime import timedelta, timezone

    if name[0] in "+-":
        sign = 1 if name[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return ZoneInfo(name)


@given(FIXED, st.lists(st.integers(*SPAN) | st.sampled_from([MIN_US_, MAX_US_]), min_size=1, max_size=40))
def test_a_fixed_zone_gives_what_looking_each_instant_up_gives(zone_name: str, instants: list[int]) -> None:
    """UTC and fixed offsets skip the look-ups (fixed_us): every view is the
    one the zone's own conversion gives, as for any other zone."""
    zone = _zone(zone_name)
    fixed = LocalTime(zone, "week")
    looked_up = LocalTime(zone, "week")
    looked_up.fixed_us = None  # the general path, by UTC hour
    assert fixed.fixed_us is not None
    for at in instants:
        assert fixed.local_us(at) == looked_up.local_us(at)
        assert fixed.day_of(at) == looked_up.day_of(at)
        assert fixed.period_of(at) == looked_up.period_of(at)
        assert fixed.weekday_hour(at) == looked_up.weekday_hour(at)
        if SPAN[0] <= at < SPAN[1]:
            assert fixed.weekday_hour(at) == direct(zone, at)
    assert fixed.weekday_hours == looked_up.weekday_hours
