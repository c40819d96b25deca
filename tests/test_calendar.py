"""Named calendar cases: the classic traps of business-hours arithmetic,
each with its expected answer worked out by hand (SEMANTICS.md section 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

import sla
from sla import ALWAYS_OPEN, Calendar, CalendarError
from sla.calendar.hours import Shift, WeeklySchedule
from sla.calendar.index import BUILTIN_CALENDARS
from sla.errors import TimestampError
from sla.timefmt import format_instant, from_us, parse_instant, to_us

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def cal(hours, timezone="Europe/Berlin", **extra) -> Calendar:
    return Calendar.from_dict({"timezone": timezone, "hours": hours, **extra}, name="test")


NINE_TO_FIVE = {"mon-fri": ["09:00-17:00"]}
LUNCH = {"mon-fri": ["09:00-12:00", "13:00-17:00"]}


# ---------------------------------------------------------------- boundaries
def test_due_time_can_be_a_closing_time():
    c = cal(NINE_TO_FIVE)
    monday_9 = berlin(2026, 3, 2, 9)
    assert c.add(monday_9, 8 * H) == berlin(2026, 3, 2, 17)  # not Tuesday 09:00
    assert c.add(monday_9, 8 * H + US) == berlin(2026, 3, 3, 9) + US
    assert c.elapsed(monday_9, berlin(2026, 3, 2, 17)) == 8 * H
    assert c.add(berlin(2026, 3, 2, 16), H) == berlin(2026, 3, 2, 17)


def test_intervals_are_half_open():
    c = cal(NINE_TO_FIVE)
    assert c.is_open(berlin(2026, 3, 2, 9))
    assert not c.is_open(berlin(2026, 3, 2, 9) - US)
    assert c.is_open(berlin(2026, 3, 2, 17) - US)
    assert not c.is_open(berlin(2026, 3, 2, 17))
    # A closing time and the next opening count the same: nothing lies between.
    assert c.elapsed(berlin(2026, 3, 2, 17), berlin(2026, 3, 3, 9)) == timedelta(0)


def test_lunch_break_due_at_its_start():
    c = cal(LUNCH)
    assert c.add(berlin(2026, 3, 2, 9), 3 * H) == berlin(2026, 3, 2, 12)
    assert c.add(berlin(2026, 3, 2, 9), 3 * H + MIN) == berlin(2026, 3, 2, 13, 1)
    assert c.elapsed(berlin(2026, 3, 2, 11), berlin(2026, 3, 2, 14)) == 2 * H


def test_start_outside_hours():
    c = cal(NINE_TO_FIVE)
    assert c.add(berlin(2026, 3, 2, 7), H) == berlin(2026, 3, 2, 10)  # before opening
    assert c.add(berlin(2026, 3, 6, 18), H) == berlin(2026, 3, 9, 10)  # Friday evening
    assert c.add(berlin(2026, 3, 7, 12), H) == berlin(2026, 3, 9, 10)  # Saturday
    assert c.elapsed(berlin(2026, 3, 6, 16, 30), berlin(2026, 3, 9, 9, 30)) == H
    # A zero duration is due at once, open or not.
    assert c.add(berlin(2026, 3, 7, 12), timedelta(0)) == berlin(2026, 3, 7, 12)


def test_negative_elapsed_and_utc_output():
    c = cal(NINE_TO_FIVE)
    a, b = berlin(2026, 3, 2, 10), berlin(2026, 3, 3, 10)
    assert c.elapsed(b, a) == -8 * H
    due = c.add(a, H)
    assert due.tzinfo is UTC and due == utc(2026, 3, 2, 10)


def test_naive_datetimes_and_negative_durations_are_refused():
    c = cal(NINE_TO_FIVE)
    with pytest.raises(TimestampError):
        c.elapsed(datetime(2026, 3, 2, 9), berlin(2026, 3, 2, 10))
    with pytest.raises(TimestampError):
        c.is_open(datetime(2026, 3, 2, 9))
    with pytest.raises(CalendarError):
        c.add(berlin(2026, 3, 2, 9), -H)


def test_seconds_and_24_00():
    c = cal({"mon": ["09:00:30-17:00:15", "18:00-24:00"], "tue": ["00:00-02:00"]})
    assert c.elapsed(berlin(2026, 3, 2), berlin(2026, 3, 3)) == timedelta(hours=14, seconds=-15)
    assert not c.is_open(berlin(2026, 3, 2, 9, 0, 29))
    assert c.is_open(berlin(2026, 3, 2, 9, 0, 30))
    # 24:00 Monday touches 00:00 Tuesday: one stretch, open at midnight.
    assert c.is_open(berlin(2026, 3, 3))
    assert c.add(berlin(2026, 3, 2, 23), 2 * H) == berlin(2026, 3, 3, 1)


def test_whole_day_intervals():
    assert cal({"mon": ["00:00-24:00"]}).elapsed(berlin(2026, 3, 1), berlin(2026, 3, 8)) == 24 * H
    # An end equal to the start runs 24 hours, into the next day.
    c = cal({"mon": ["09:00-09:00"]})
    assert c.elapsed(berlin(2026, 3, 1), berlin(2026, 3, 8)) == 24 * H
    assert c.is_open(berlin(2026, 3, 3, 8, 59))
    assert not c.is_open(berlin(2026, 3, 3, 9))


# ----------------------------------------------------------------- overnight
def test_overnight_interval_belongs_to_its_start_date():
    c = cal({"mon-fri": ["22:00-06:00"]})
    assert c.is_open(berlin(2026, 3, 3, 5, 59))  # Tuesday morning, from Monday
    assert not c.is_open(berlin(2026, 3, 2, 5))  # Monday morning: Sunday has no shift
    assert c.is_open(berlin(2026, 3, 7, 5))  # Saturday morning, from Friday
    assert c.add(berlin(2026, 3, 6, 23), 8 * H) == berlin(2026, 3, 9, 23)


def test_overnight_with_a_holiday_on_either_day():
    hours = {"mon-sun": ["22:00-06:00"]}
    # Holiday on the start date: that night is closed, the night before is not.
    c = cal(hours, holidays={"dates": ["2026-03-04"]})
    assert c.is_open(berlin(2026, 3, 4, 5))  # Tuesday's night, into the holiday
    assert not c.is_open(berlin(2026, 3, 4, 23))
    assert not c.is_open(berlin(2026, 3, 5, 5))
    assert c.elapsed(berlin(2026, 3, 3, 12), berlin(2026, 3, 5, 12)) == 8 * H
    # Holiday on the following date only: the night that starts before it runs.
    c = cal(hours, holidays={"dates": ["2026-03-05"]})
    assert c.is_open(berlin(2026, 3, 5, 5))
    assert not c.is_open(berlin(2026, 3, 5, 23))


def test_sat_mon_wraps_around_the_week():
    c = cal({"sat-mon": ["10:00-11:00"], "wed,fri": ["12:00-13:00"]})
    opened = [
        d
        for d in range(2, 9)
        if c.is_open(berlin(2026, 3, d, 10, 30)) or c.is_open(berlin(2026, 3, d, 12, 30))
    ]
    # 2026-03-02 is a Monday.
    assert [date(2026, 3, d).strftime("%a") for d in opened] == ["Mon", "Wed", "Fri", "Sat", "Sun"]


def test_sunday_night_spills_into_monday():
    c = cal({"sun": ["22:00-06:00"], "mon": ["06:00-09:00"]})
    assert c.is_open(berlin(2026, 3, 2, 5))
    assert c.elapsed(berlin(2026, 3, 1, 21), berlin(2026, 3, 2, 10)) == 11 * H


# ------------------------------------------------------------------ holidays
GERMAN = {"country": "DE", "subdivision": "BE"}


def test_ticket_over_a_holiday():
    c = cal(LUNCH, holidays=GERMAN)
    # Thursday 2026-12-24 16:00; Friday 25th and Saturday 26th are holidays.
    assert not c.is_open(berlin(2026, 12, 25, 10))
    assert c.add(berlin(2026, 12, 24, 16), 2 * H) == berlin(2026, 12, 28, 10)
    assert c.elapsed(berlin(2026, 12, 24, 9), berlin(2026, 12, 29, 9)) == 14 * H


def test_holiday_subdivision_and_extra_dates():
    # International Women's Day is a holiday in Berlin only (2027-03-08 is a Monday).
    assert not cal(LUNCH, holidays=GERMAN).is_open(berlin(2027, 3, 8, 10))
    assert cal(LUNCH, holidays={"country": "DE"}).is_open(berlin(2027, 3, 8, 10))
    c = cal(LUNCH, holidays={**GERMAN, "dates": ["2026-12-24", date(2026, 12, 31)]})
    assert not c.is_open(berlin(2026, 12, 24, 10))
    assert not c.is_open(berlin(2026, 12, 31, 10))


def test_observed_days_are_holidays():
    # US New Year's Day 2022 fell on a Saturday, observed Friday 2021-12-31.
    c = cal(NINE_TO_FIVE, timezone="America/New_York", holidays={"country": "US"})
    assert not c.is_open(datetime(2021, 12, 31, 10, tzinfo=ZoneInfo("America/New_York")))
    assert c.is_open(datetime(2021, 12, 30, 10, tzinfo=ZoneInfo("America/New_York")))


def test_override_beats_holiday_beats_weekly():
    c = cal(
        LUNCH,
        holidays={**GERMAN, "dates": ["2026-12-24"]},
        overrides={"2026-12-24": ["09:00-12:00"], date(2026, 12, 25): ["10:00-11:00"], "2026-12-28": []},
    )
    assert c.is_open(berlin(2026, 12, 24, 11)) and not c.is_open(
        berlin(2026, 12, 24, 14)
    )  # override > extra date
    assert c.is_open(berlin(2026, 12, 25, 10, 30))  # override > country holiday
    assert not c.is_open(berlin(2026, 12, 26, 10, 30))  # plain holiday, a Saturday anyway
    assert not c.is_open(berlin(2026, 12, 28, 10))  # closed by override
    assert c.is_open(berlin(2026, 12, 29, 10))  # weekly
    assert c.elapsed(berlin(2026, 12, 24), berlin(2026, 12, 30)) == 3 * H + H + 7 * H
    # An override can open a day the week keeps closed.
    assert cal(LUNCH, overrides={"2026-03-07": ["10:00-12:00"]}).is_open(berlin(2026, 3, 7, 11))


def test_override_next_to_a_holiday_overnight_shift_is_allowed():
    # Regression: the overlap check used to ignore country holidays, so an
    # override after a holiday's (non-existent) overnight shift was refused.
    c = cal({"fri": ["22:00-06:00"]}, holidays={"country": "DE"}, overrides={"2026-12-26": ["05:00-07:00"]})
    assert c.elapsed(berlin(2026, 12, 25), berlin(2026, 12, 27)) == 2 * H  # Friday 25th is Christmas
    with pytest.raises(CalendarError, match="2026-12-19"):  # a normal Friday night does run into it
        cal({"fri": ["22:00-06:00"]}, overrides={"2026-12-19": ["05:00-07:00"]})


# ----------------------------------------------------------------------- DST
def test_spring_forward_inside_working_hours():
    c = cal({"sun": ["01:00-05:00"]})
    day = (berlin(2026, 3, 29), berlin(2026, 3, 30))
    assert c.elapsed(*day) == 3 * H  # 01:00 CET to 05:00 CEST: 3 real hours
    assert c.add(utc(2026, 3, 29, 0), 3 * H) == utc(2026, 3, 29, 3)  # = 05:00 CEST
    assert c.elapsed(berlin(2026, 3, 22), berlin(2026, 3, 23)) == 4 * H  # a week earlier


def test_fall_back_fold():
    c = cal({"sun": ["01:00-04:00"]})
    assert c.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 4 * H  # 02:00-03:00 twice
    assert c.add(utc(2026, 10, 24, 23), 4 * H) == utc(2026, 10, 25, 3)


def test_ambiguous_boundary_is_the_earlier_instant():
    c = cal({"sun": ["02:30-05:00"]})  # 02:30 happens twice on 2026-10-25
    assert c.is_open(utc(2026, 10, 25, 0, 30))  # first 02:30 (CEST)
    assert not c.is_open(utc(2026, 10, 25, 0, 29))
    assert c.elapsed(berlin(2026, 10, 25), berlin(2026, 10, 26)) == timedelta(hours=3, minutes=30)


def test_start_in_the_gap_moves_forward():
    c = cal({"sun": ["02:30-06:00"]})  # 02:30 does not exist on 2026-03-29
    assert not c.is_open(utc(2026, 3, 29, 1, 29))  # 03:29 CEST
    assert c.is_open(utc(2026, 3, 29, 1, 30))  # 03:30 CEST = 02:30 moved on by the hour
    assert c.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(hours=2, minutes=30)


def test_intervals_inside_the_gap():
    # Both ends move forward by the gap: 02:00-02:30 becomes 03:00-03:30 CEST.
    c = cal({"sun": ["02:00-02:30"]})
    assert c.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 30 * MIN
    assert c.is_open(utc(2026, 3, 29, 1, 15))
    # 02:30-03:00: the start moves to 03:30, after the end (03:00): empty.
    c = cal({"sun": ["02:30-03:00"], "mon": ["09:00-10:00"]})
    assert c.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(0)
    assert c.add(berlin(2026, 3, 29), MIN) == berlin(2026, 3, 30, 9, 1)


def test_gap_overlaps_are_a_union():
    # 01:00-02:30 becomes 01:00 CET-03:30 CEST; 03:00-04:00 overlaps it.
    c = cal({"sun": ["01:00-02:30", "03:00-04:00"]})
    assert c.elapsed(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * H  # 00:00-02:00 UTC
    assert c.open_intervals_us(to_us(berlin(2026, 3, 29)), to_us(berlin(2026, 3, 30))) == [
        (to_us(utc(2026, 3, 29, 0)), to_us(utc(2026, 3, 29, 2)))
    ]


def test_new_york_dst_weekday():
    ny = ZoneInfo("America/New_York")
    c = cal({"sun": ["00:00-08:00"]}, timezone="America/New_York")
    assert c.elapsed(datetime(2026, 3, 8, tzinfo=ny), datetime(2026, 3, 9, tzinfo=ny)) == 7 * H
    assert c.elapsed(datetime(2026, 11, 1, tzinfo=ny), datetime(2026, 11, 2, tzinfo=ny)) == 9 * H


def test_lord_howe_half_hour_dst():
    lh = ZoneInfo("Australia/Lord_Howe")
    c = cal({"sun": ["01:00-03:00"]}, timezone="Australia/Lord_Howe")
    assert c.elapsed(datetime(2026, 10, 4, tzinfo=lh), datetime(2026, 10, 5, tzinfo=lh)) == 90 * MIN
    assert c.elapsed(datetime(2026, 4, 5, tzinfo=lh), datetime(2026, 4, 6, tzinfo=lh)) == 150 * MIN
    # 02:10 does not exist on 2026-10-04: a shift starting there starts at 02:40.
    c = cal({"sun": ["02:10-04:00"]}, timezone="Australia/Lord_Howe")
    assert c.add(datetime(2026, 10, 4, tzinfo=lh), MIN) == datetime(2026, 10, 4, 2, 41, tzinfo=lh)


def test_chatham_dst():
    ch = ZoneInfo("Pacific/Chatham")  # +12:45 / +13:45, changes at 02:45 / 03:45
    c = cal({"sun": ["02:00-05:00"]}, timezone="Pacific/Chatham")
    assert c.elapsed(datetime(2026, 9, 27, tzinfo=ch), datetime(2026, 9, 28, tzinfo=ch)) == 2 * H
    assert c.elapsed(datetime(2026, 4, 5, tzinfo=ch), datetime(2026, 4, 6, tzinfo=ch)) == 4 * H


def test_sao_paulo_midnight_gap():
    sp = ZoneInfo("America/Sao_Paulo")  # 2018-11-04 00:00 did not exist
    c = cal({"sun": ["00:00-08:00"], "sat": ["22:00-24:00"]}, timezone="America/Sao_Paulo")
    assert c.elapsed(datetime(2018, 11, 4, 1, tzinfo=sp), datetime(2018, 11, 4, 12, tzinfo=sp)) == 7 * H
    # Saturday 22:00 (-03) to "24:00", which is really Sunday 01:00 (-02):
    # 2 real hours, touching Sunday's shift (also starting 01:00): 9 h in all.
    assert c.elapsed(utc(2018, 11, 3, 12), utc(2018, 11, 5)) == 9 * H
    assert c.open_intervals_us(to_us(utc(2018, 11, 3)), to_us(utc(2018, 11, 5))) == [
        (to_us(utc(2018, 11, 4, 1)), to_us(utc(2018, 11, 4, 10)))
    ]


# ------------------------------------------------------------ long horizons
def test_nineteen_years():
    c = cal(NINE_TO_FIVE, timezone="UTC")
    a, b = utc(2007, 1, 1), utc(2026, 1, 1)  # both Mondays, 6940 days apart
    weekdays = sum(1 for k in range((b - a).days) if (a + timedelta(days=k)).weekday() < 5)
    assert c.elapsed(a, b) == weekdays * 8 * H
    assert c.add(a, weekdays * 8 * H) == utc(2025, 12, 31, 17)


def test_1990_and_2090_in_either_order():
    for first, second in [
        (utc(2026, 6, 1), utc(1990, 1, 1)),
        (utc(2090, 1, 1), utc(1990, 1, 1)),
        (utc(1990, 1, 1), utc(2090, 1, 1)),
    ]:
        c = cal(NINE_TO_FIVE, timezone="UTC")
        for start in (first, second):
            monday = start + timedelta(days=(7 - start.weekday()) % 7)
            assert c.add(monday + 9 * H, 40 * H) == monday + timedelta(days=4, hours=17)
            assert c.elapsed(monday, monday + timedelta(days=7)) == 40 * H
    assert c.elapsed(utc(1990, 1, 1), utc(2090, 1, 2)) == 26090 * 8 * H  # 36525 days


# ------------------------------------------------------------------- 24x7
def test_always_open():
    assert BUILTIN_CALENDARS["24x7"] is ALWAYS_OPEN
    assert ALWAYS_OPEN.is_open(utc(2026, 12, 25))
    assert ALWAYS_OPEN.elapsed(utc(2026, 3, 29), utc(2026, 3, 30)) == 24 * H
    assert ALWAYS_OPEN.add(berlin(2026, 3, 28, 12), 24 * H) == utc(2026, 3, 29, 11)
    assert ALWAYS_OPEN.open_intervals_us(5, 10) == [(5, 10)]
    assert ALWAYS_OPEN.open_intervals_us(10, 5) == []


# ---------------------------------------------------------------- the spec
SPEC_YAML = """
calendars:
  berlin:
    timezone: Europe/Berlin          # IANA name
    hours:                           # weekly schedule
      mon-fri: ["09:00-12:00", "13:00-17:00"]
      sat: ["10:00-14:00"]
    holidays:                        # optional
      country: DE                    # the `holidays` package's defaults for it
      subdivision: BE                # optional
      dates: ["2026-12-24"]          # extra whole-day closures
    overrides:                       # optional: this date's hours instead
      "2026-12-31": ["09:00-12:00"]
      "2026-06-15": []               # closed
      2026-06-16: ["08:00-09:00"]    # a YAML date key
"""


def test_the_spec_example_builds():
    c = Calendar.from_dict(yaml.safe_load(SPEC_YAML)["calendars"]["berlin"], name="berlin")
    assert repr(c) == "Calendar('berlin', Europe/Berlin)"
    assert c.is_open(berlin(2026, 3, 7, 13)) and not c.is_open(berlin(2026, 3, 7, 14))
    assert not c.is_open(berlin(2026, 12, 24, 10))
    assert c.elapsed(berlin(2026, 12, 31), berlin(2027, 1, 1)) == 3 * H
    assert c.elapsed(berlin(2026, 6, 15), berlin(2026, 6, 16)) == timedelta(0)
    assert c.elapsed(berlin(2026, 6, 16), berlin(2026, 6, 17)) == H
    assert c.schedule.open_seconds_per_week() == 5 * 7 * 3600 + 4 * 3600


def test_day_key_forms():
    schedule = WeeklySchedule.parse({"Mon - Tue": ["09:00-10:00"], "thu,sat": "11:00-12:00"}, "x")
    assert [len(d) for d in schedule.days] == [1, 1, 0, 1, 0, 1, 0]
    assert str(Shift.parse("22:00-06:00", "p")) == "22:00-06:00"
    assert str(Shift.parse("18:00-24:00", "p")) == "18:00-24:00"


# ----------------------------------------------------------------- errors
ERRORS = [
    ({"timezone": "Mars/Olympus", "hours": NINE_TO_FIVE}, ["Mars/Olympus"]),
    ({"timezone": "", "hours": NINE_TO_FIVE}, ["''"]),
    ({"hours": {"mon": ["25:00-26:00"]}}, ["25:00"]),
    ({"hours": {"mon": ["12:60-13:00"]}}, ["12:60"]),
    ({"hours": {"mon": ["09:00-17:60"]}}, ["17:60"]),
    ({"hours": {"mon": ["24:00-08:00"]}}, ["24:00", "end"]),
    ({"hours": {"mon": ["9-17"]}}, ["9"]),
    ({"hours": {"mon": ["09:00"]}}, ["09:00"]),
    ({"hours": {"mon": ["٠٩:00-17:00"]}}, ["٠٩:00"]),  # non-ASCII digits
    ({"hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}, ["09:00-12:00", "11:00-13:00", "mon"]),
    (
        {"hours": {"mon": ["22:00-06:00"], "tue": ["05:00-09:00"]}},
        ["22:00-06:00", "05:00-09:00", "mon", "tue"],
    ),
    ({"hours": {"sun": ["22:00-06:00"], "mon": ["05:00-09:00"]}}, ["22:00-06:00", "sun", "mon"]),
    ({"hours": {"mon-fri": ["09:00-17:00"], "wed": ["10:00-11:00"]}}, ["wed", "mon-fri"]),
    ({"hours": {"funday": ["09:00-17:00"]}}, ["funday"]),
    ({"hours": {}}, ["no open hours"]),
    ({"hours": {"mon-sun": []}}, ["no open hours"]),
    ({"hours": ["09:00-17:00"]}, ["hours"]),
    ({"timezone": "UTC"}, ["needs hours"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"country": "XX"}}, ["XX"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"country": "DE", "subdivision": "ZZ"}}, ["ZZ"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"country": "DE", "categories": ["nope"]}}, ["nope"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"subdivision": "BE"}}, ["BE", "country"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"country": 49}}, ["49"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"dates": ["2026-13-01"]}}, ["2026-13-01"]),
    ({"hours": NINE_TO_FIVE, "holidays": {"region": "BE"}}, ["region"]),
    ({"hours": NINE_TO_FIVE, "overrides": {"someday": []}}, ["someday"]),
    (
        {"hours": NINE_TO_FIVE, "overrides": {"2026-03-02": ["10:00-11:00", "10:30-12:00"]}},
        ["2026-03-02", "10:30-12:00"],
    ),
    (
        {"hours": {"mon": ["22:00-06:00"]}, "overrides": {"2026-03-03": ["05:00-07:00"]}},
        ["2026-03-02", "2026-03-03"],
    ),
    ({"hours": NINE_TO_FIVE, "overrides": {"2026-03-02": ["22:00-10:00"]}}, ["2026-03-03", "22:00-10:00"]),
    ({"hours": NINE_TO_FIVE, "colour": "blue"}, ["colour"]),
]


@pytest.mark.parametrize("mapping, needles", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_bad_calendars_name_the_calendar_and_the_value(mapping, needles):
    mapping = (
        {"timezone": "Europe/Berlin", **mapping}
        if "timezone" not in mapping and "hours" in mapping
        else mapping
    )
    with pytest.raises(CalendarError) as caught:
        Calendar.from_dict(mapping, name="support-desk")
    message = str(caught.value)
    assert "support-desk" in message
    for needle in needles:
        assert needle in message
    assert isinstance(caught.value, sla.SlaError)


def test_touching_is_not_overlap():
    c = cal({"mon": ["22:00-06:00"], "tue": ["06:00-09:00", "09:00-10:00"]})
    assert c.elapsed(berlin(2026, 3, 2, 20), berlin(2026, 3, 3, 12)) == 12 * H


# ---------------------------------------------------------------- instants
def test_to_us_is_exact():
    # Regression: to_us went through the float timestamp(), which drops a
    # sub-second UTC offset and loses microseconds after year ~2240.
    odd = timezone(timedelta(hours=1, microseconds=500_000))
    assert to_us(datetime(1970, 1, 1, 1, tzinfo=odd)) == -500_000
    far = datetime(3000, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC)
    assert to_us(far) == (far - utc(1970, 1, 1)) // US
    assert from_us(to_us(far)) == far
    assert to_us(utc(1969, 12, 31, 23, 59, 59, 500_000)) == -500_000


def test_instant_text():
    assert parse_instant("2026-03-02T09:15:00+01:00") == to_us(utc(2026, 3, 2, 8, 15))
    assert format_instant(parse_instant("2026-03-02T09:00:00.500Z")) == "2026-03-02T09:00:00.5Z"
    assert format_instant(to_us(utc(1, 1, 2))) == "0001-01-02T00:00:00Z"
    with pytest.raises(TimestampError, match="offset"):
        parse_instant("2026-03-02T08:15:00")


# ----------------------------------------------------------- arithmetic ends
def test_add_far_ahead_grows_the_index_in_one_go():
    # One second a week: an hour of business time is 3600 weeks away.
    c = cal({"mon": ["00:00-00:00:01"]})
    due = c.add(berlin(1990, 1, 1), H)
    assert c.elapsed(berlin(1990, 1, 1), due) == H
    assert due.year == 2058 and not c.is_open(due)


def test_add_gives_up_after_400_years():
    # Arithmetic never loops without bound: a due time more than 400 years
    # away (here 4 days at one second a week) is an error, not a hang.
    c = cal({"mon": ["00:00-00:00:01"]})
    with pytest.raises(CalendarError, match="400 years"):
        c.add(berlin(2026, 1, 1), timedelta(days=4))


def test_the_ends_of_the_datetime_range():
    # (Two calendars: one asked about both ends would index 10,000 years.)
    c = cal(NINE_TO_FIVE, timezone="UTC")
    assert c.add(utc(9999, 12, 1), 8 * H) == utc(9999, 12, 1, 17)
    assert cal(NINE_TO_FIVE, timezone="UTC").elapsed(utc(1, 1, 10), utc(1, 1, 20)) == 8 * 8 * H
    with pytest.raises(CalendarError, match="9999"):
        c.add(utc(9999, 12, 30), 100 * H)
    with pytest.raises(CalendarError, match="9999"):
        c.is_open_us(10**20)
