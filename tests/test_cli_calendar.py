"""``sla calendar``: hand-checked answers on a Mon-Fri 09:00-17:00 Berlin
calendar with German holidays, an extra closed date and an override, checked
against the Calendar API; errors, JSON, DST, zoned calendars; and the pure
helpers of sla.calendar.questions."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sla
from sla.calendar.questions import (
    days_hours,
    holidays_in,
    local_midnight_us,
    next_closing_us,
    next_opening_us,
    read_instant,
    read_local,
)
from sla.cli.app import main
from sla.errors import TimestampError
from sla.timefmt import format_instant, parse_instant

POLICY = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours:
      mon-fri: ["09:00-17:00"]
    holidays:
      country: DE
      dates: ["2026-12-24"]
    overrides:
      "2026-12-31": ["09:00-12:00"]
  night:
    timezone: UTC
    hours:
      mon-fri: ["22:00-06:00"]
  requester-hours:
    timezone: {by: requester_tz, default: Europe/London}
    hours:
      mon-fri: ["09:00-17:00"]
policies:
  - name: all
    calendar: office
    targets: {first_response: 4h}
"""
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture()
def policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return str(path)


@pytest.fixture()
def office(policy: str) -> sla.Calendar:
    return sla.load_policies(policy).calendars["office"]


def ask(
    capsys: pytest.CaptureFixture[str], policy: str, *words: str, name: str = "office"
) -> tuple[int, str, str]:
    status = main(["calendar", name, "--policies", policy, *words])
    out = capsys.readouterr()
    return status, out.out, out.err


def ask_json(capsys: pytest.CaptureFixture[str], policy: str, *words: str, name: str = "office") -> dict:
    status, out, err = ask(capsys, policy, *words, "--format", "json", name=name)
    assert status == 0, err
    return json.loads(out)


# ------------------------------------------------------------------ add
@pytest.mark.parametrize(
    ("start", "duration", "due_utc", "due_local"),
    [
        # 8 business hours from Monday's opening run out at its closing, not Tuesday 09:00.
        ("2026-03-02T09:00", "8h", "2026-03-02T16:00:00Z", "Mon 2026-03-02 17:00 +01:00"),
        # across a night: 1h on Tuesday, 1h on Wednesday morning
        ("2026-03-03T16:00", "2h", "2026-03-04T09:00:00Z", "Wed 2026-03-04 10:00 +01:00"),
        # across a weekend
        ("2026-03-06T16:00", "2h", "2026-03-09T09:00:00Z", "Mon 2026-03-09 10:00 +01:00"),
        # across a holiday: Dec 24 (a listed date), 25 and 26 (German holidays), 27 Sunday
        ("2026-12-23T16:00", "2h", "2026-12-28T09:00:00Z", "Mon 2026-12-28 10:00 +01:00"),
        # across the change to summer time: Monday 10:00 is now UTC+2
        ("2026-03-27T16:00", "2h", "2026-03-30T08:00:00Z", "Mon 2026-03-30 10:00 +02:00"),
        # an instant with an offset, outside hours; a zero duration is due at once
        ("2026-03-07T12:00:00Z", "0s", "2026-03-07T12:00:00Z", "Sat 2026-03-07 13:00 +01:00"),
        # ISO durations and fractions of a second
        ("2026-03-02T16:59:59.5", "PT1S", "2026-03-03T08:00:00.5Z", "Tue 2026-03-03 09:00:00.5 +01:00"),
    ],
)
def test_add_by_hand(capsys, policy, office, start, duration, due_utc, due_local):
    status, out, err = ask(capsys, policy, "add", start, duration)
    assert status == 0, err
    due_line = next(line for line in out.splitlines() if line.startswith("due:"))
    assert due_line.split(None, 1)[1] == f"{due_local}  {due_utc}"
    # the same answer as the Calendar API
    begin = read_instant(start, BERLIN).us
    assert format_instant(office.add_us(begin, sla.policy.duration.parse_duration_us(duration))) == due_utc


def test_add_text_in_full(capsys, policy):
    status, out, _ = ask(capsys, policy, "add", "2026-03-27T16:00", "2h")
    assert status == 0
    assert out == (
        "calendar: office, Europe/Berlin\n"
        "start:    Fri 2026-03-27 16:00 +01:00  2026-03-27T15:00:00Z\n"
        "add:      2h of business time\n"
        "due:      Mon 2026-03-30 10:00 +02:00  2026-03-30T08:00:00Z\n"
        "          65h of calendar time after the start\n"  # 66 wall-clock hours, one skipped
    )


def test_options_may_come_anywhere(capsys, policy):
    first = main(["calendar", "office", "--policies", policy, "add", "2026-03-02T09:00", "8h"])
    one = capsys.readouterr().out
    second = main(["calendar", "office", "add", "2026-03-02T09:00", "8h", "--policies", policy])
    assert first == second == 0 and capsys.readouterr().out == one


# -------------------------------------------------------------- elapsed
def test_elapsed_by_hand(capsys, policy):
    status, out, _ = ask(capsys, policy, "elapsed", "2026-03-06T16:30", "2026-03-09T09:30")
    assert status == 0
    assert "business time: 1h\n" in out and "calendar time: 65h\n" in out
    # B before A: negative, as the engine counts
    data = ask_json(capsys, policy, "elapsed", "2026-03-09T09:30", "2026-03-06T16:30")
    assert data["business_seconds"] == -3600 and data["calendar_seconds"] == -65 * 3600


def test_elapsed_equals_the_calendar_api(capsys, policy, office):
    rng = random.Random(7)
    base = datetime(2026, 3, 20, tzinfo=UTC)
    for _ in range(25):
        a = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
        b = a + timedelta(minutes=rng.randrange(0, 60 * 24 * 20), microseconds=rng.randrange(10**6))
        data = ask_json(capsys, policy, "elapsed", a.isoformat(), b.isoformat())
        assert data["business_seconds"] == office.elapsed(a, b).total_seconds()
        assert data["from"]["utc"] == format_instant(parse_instant(a.isoformat()))


# ----------------------------------------------------------------- open?
def test_open_at_the_opening_instant(capsys, policy):
    data = ask_json(capsys, policy, "open?", "2026-03-02T09:00")
    assert data["open"] is True and data["holiday"] is None
    assert data["closes"] == {"utc": "2026-03-02T16:00:00Z", "local": "2026-03-02T17:00:00+01:00"}
    assert data["opens"]["utc"] == "2026-03-03T08:00:00Z"  # the opening after that closing


def test_closed_at_the_closing_instant(capsys, policy):
    status, out, _ = ask(capsys, policy, "open", "2026-03-02T17:00")
    assert status == 0
    assert "state:    closed\n" in out
    assert "opens:    Tue 2026-03-03 09:00 +01:00  2026-03-03T08:00:00Z  (in 16h)\n" in out
    assert "closes:   Tue 2026-03-03 17:00 +01:00  2026-03-03T16:00:00Z  (in 24h)\n" in out
    just_before = ask_json(capsys, policy, "is-open", "2026-03-02T16:59:59.999999")
    assert just_before["open"] is True and just_before["closes"]["utc"] == "2026-03-02T16:00:00Z"


def test_closed_on_a_holiday_says_which(capsys, policy):
    status, out, _ = ask(capsys, policy, "open?", "2026-12-25T10:00")
    assert status == 0 and "state:    closed (holiday: Christmas Day)" in out
    assert "opens:    Mon 2026-12-28 09:00 +01:00" in out


def test_always_open_never_closes(capsys, policy):
    data = ask_json(capsys, policy, "open?", "2026-03-02T09:00Z", name="24x7")
    assert data["open"] is True and data["closes"] is None and data["opens"] is None
    _, out, _ = ask(capsys, policy, "open?", "2026-03-02T09:00Z", name="24x7")
    assert "closes:   never (always open)" in out


# ------------------------------------------------------------ holidays
def test_holidays_of_a_year(capsys, policy, office):
    status, out, _ = ask(capsys, policy, "holidays", "2026")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "calendar: office, Europe/Berlin"
    assert "2026-01-01 Thu  New Year's Day" in lines
    assert "2026-12-24 Thu  a date in holidays.dates" in lines
    assert "2026-12-25 Fri  Christmas Day" in lines
    assert "2026-12-26 Sat  Second Day of Christmas" in lines
    assert lines[-1] == "10 holiday(s) in 2026"
    # every one of them is closed in the calendar
    for line in lines[1:-1]:
        assert office.shifts_on(date.fromisoformat(line[:10])) == ()


def test_a_holiday_opened_by_an_override_says_so(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(POLICY.replace('"2026-12-31": ["09:00-12:00"]', '"2026-12-25": ["10:00-14:00"]'))
    data = ask_json(capsys, str(path), "holidays", "2026")
    christmas = next(h for h in data["holidays"] if h["date"] == "2026-12-25")
    assert christmas == {"date": "2026-12-25", "name": "Christmas Day", "override": ["10:00-14:00"]}
    _, out, _ = ask(capsys, str(path), "holidays", "2026")
    assert "2026-12-25 Fri  Christmas Day (an override opens it: 10:00-14:00)" in out


# --------------------------------------------------------------- hours
def test_hours_over_a_range_with_holidays(capsys, policy):
    status, out, _ = ask(capsys, policy, "hours", "2026-12-21..2026-12-31")
    assert status == 0
    assert out.splitlines() == [
        "calendar: office, Europe/Berlin",
        "2026-12-21 Mon  8h     09:00-17:00",
        "2026-12-22 Tue  8h     09:00-17:00",
        "2026-12-23 Wed  8h     09:00-17:00",
        "2026-12-24 Thu  -      closed (holiday: a date in holidays.dates)",
        "2026-12-25 Fri  -      closed (holiday: Christmas Day)",
        "2026-12-26 Sat  -      closed (holiday: Second Day of Christmas)",
        "2026-12-27 Sun  -      closed",
        "2026-12-28 Mon  8h     09:00-17:00",
        "2026-12-29 Tue  8h     09:00-17:00",
        "2026-12-30 Wed  8h     09:00-17:00",
        "2026-12-31 Thu  3h     09:00-12:00 (override)",
        "51h open in 11 day(s)",
    ]


def test_hours_of_a_month_and_of_a_day_with_a_clock_change(capsys, policy):
    data = ask_json(capsys, policy, "hours", "2026-03")
    assert [d["date"] for d in data["days"]][::30] == ["2026-03-01", "2026-03-31"]
    assert data["open_seconds"] == 22 * 8 * 3600  # 22 weekdays in March 2026
    _, out, _ = ask(capsys, policy, "hours", "2026-03-29")
    assert "2026-03-29 Sun  -      closed (clocks change, the day lasts 23h)" in out


def test_hours_split_a_night_shift_at_midnight(capsys, policy):
    data = ask_json(capsys, policy, "hours", "2026-03-06..2026-03-07", name="night")
    friday, saturday = data["days"]
    assert [(i["start"]["local"], i["end"]["local"]) for i in friday["open"]] == [
        ("2026-03-06T00:00:00+00:00", "2026-03-06T06:00:00+00:00"),
        ("2026-03-06T22:00:00+00:00", "2026-03-07T00:00:00+00:00"),
    ]
    assert saturday["open_seconds"] == 6 * 3600  # Friday's night runs into Saturday
    _, out, _ = ask(capsys, policy, "hours", "2026-03-06", name="night")
    assert "2026-03-06 Fri  8h     00:00-06:00, 22:00-24:00" in out


# ---------------------------------------------------------- DST input
def test_a_local_time_in_the_spring_gap_moves_forward_and_says_so(capsys, policy):
    data = ask_json(capsys, policy, "open?", "2026-03-29T02:30")
    assert data["at"] == {"utc": "2026-03-29T01:30:00Z", "local": "2026-03-29T03:30:00+02:00"}
    assert "does not exist in Europe/Berlin" in data["notes"][0]


def test_a_repeated_local_time_is_the_first_and_says_so(capsys, policy):
    status, out, _ = ask(capsys, policy, "open?", "2026-10-25T02:30")
    assert status == 0
    assert out.startswith("note: 2026-10-25T02:30 happens twice in Europe/Berlin; read as the first")
    assert "at:       Sun 2026-10-25 02:30 +02:00  2026-10-25T00:30:00Z" in out


# ------------------------------------------------------------- zones
def test_a_zoned_calendar_reads_in_its_default_or_in_zone(capsys, policy):
    _, out, _ = ask(capsys, policy, "add", "2026-03-02T09:00", "1h", name="requester-hours")
    assert "calendar: requester-hours, Europe/London, its default zone" in out
    assert "due:      Mon 2026-03-02 10:00 +00:00  2026-03-02T10:00:00Z" in out
    data = ask_json(
        capsys, policy, "add", "2026-03-02T09:00", "1h", "--zone", "Asia/Tokyo", name="requester-hours"
    )
    assert data["timezone"] == "Asia/Tokyo" and data["due"]["utc"] == "2026-03-02T01:00:00Z"


@pytest.mark.parametrize(
    ("name", "zone", "needle"),
    [
        ("office", "Asia/Tokyo", "calendar 'office' has a fixed zone, Europe/Berlin"),
        ("requester-hours", "Asia/Tokio", "unknown time zone 'Asia/Tokio'; did you mean 'Asia/Tokyo'?"),
    ],
)
def test_bad_zone_is_a_usage_error(capsys, policy, name, zone, needle):
    status, _, err = ask(capsys, policy, "open?", "now", "--zone", zone, name=name)
    assert status == 2 and needle in err


# ------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (
            ("add", "2026-13-01", "4h"),
            "add: T: '2026-13-01' is not a time; expected a local time like 2026-12-23T17:00 (in Europe/Berlin)",
        ),
        (
            ("add", "2026-03-02", "4 hours"),
            "add: DURATION: '4 hours' is not a duration; expected a duration like 15m",
        ),
        (("add", "2026-03-02", "-1h"), "unrecognized arguments: -1h"),
        (("add", "2026-03-02"), "add takes 2 argument(s), T DURATION; like: sla calendar office --policies"),
        (("add", "0001-01-01", "1h"), "is outside the supported instants"),
        (("elapsed", "2026-03-02", "tomorrow"), "elapsed: B: 'tomorrow' is not a time"),
        (("holidays", "twenty"), "holidays: 'twenty' is not a year; expected one like 2026"),
        (("hours", "2026-12-31..2026-12-01"), "ends before it starts"),
        (
            ("hours", "2026-12-01...2026-12-31"),
            "is not a date range; expected FROM..TO like 2026-12-21..2026-12-31",
        ),
        (("hours", "2000-01-01..2026-01-01"), "spans more than 3660 days"),
        (
            ("ad", "2026-03-02", "1h"),
            "unknown question 'ad'; did you mean 'add'? (the questions: add, elapsed",
        ),
        ((), "no question (the questions: add, elapsed, open?, holidays, hours)"),
    ],
)
def test_bad_usage_exits_2_and_says_the_right_form(capsys, policy, words, needle):
    status, out, err = ask(capsys, policy, *words)
    assert status == 2 and out == ""
    assert needle in err and "Traceback" not in err


def test_unknown_calendar_suggests_and_lists(capsys, policy):
    status, _, err = ask(capsys, policy, "open?", "now", name="ofice")
    assert status == 2
    assert (
        f"sla calendar: unknown calendar 'ofice'; did you mean 'office'? (the calendars of {policy}: " in err
    )
    assert "24x7, night, office, requester-hours)" in err
    assert main(["calendar", "--policies", policy]) == 2
    assert "give a calendar NAME and a question" in capsys.readouterr().err


def test_a_bad_policy_file_is_located(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(
        POLICY.replace('mon-fri: ["09:00-17:00"]\n    holidays', 'mon-fri: ["09:00-25:00"]\n    holidays')
    )
    status = main(["calendar", "office", "--policies", str(path), "open?", "now"])
    err = capsys.readouterr().err
    assert status == 2 and f"{path}:5:" in err and "'25:00' is not a clock time" in err
    assert main(["calendar", "office", "--policies", str(tmp_path / "none.yaml"), "open?", "now"]) == 2


def test_json_has_question_inputs_and_answer(capsys, policy):
    data = ask_json(capsys, policy, "add", "2026-12-23T16:00", "2h")
    assert data == {
        "calendar": "office",
        "timezone": "Europe/Berlin",
        "question": "add",
        "arguments": ["2026-12-23T16:00", "2h"],
        "start": {"utc": "2026-12-23T15:00:00Z", "local": "2026-12-23T16:00:00+01:00"},
        "due": {"utc": "2026-12-28T09:00:00Z", "local": "2026-12-28T10:00:00+01:00"},
        "business_seconds": 7200,
        "calendar_seconds": 4 * 86400 + 18 * 3600,
        "notes": [],
    }


def test_help(capsys):
    assert main(["calendar", "--help"]) == 0
    out = capsys.readouterr().out
    assert "add T DURATION" in out and "hours FROM..TO" in out


# ------------------------------------------------- the pure helpers
def test_next_opening_and_closing_agree_with_the_open_intervals(office):
    rng = random.Random(11)
    start = parse_instant("2026-01-01T00:00:00Z")
    for _ in range(300):
        t = start + rng.randrange(0, 366 * 86_400) * 1_000_000
        stretches = office.open_intervals_us(t, t + 30 * 86_400_000_000)
        first = stretches[0]
        if office.is_open_us(t):
            assert next_opening_us(office, t) == t and next_closing_us(office, t) == first[1]
        else:
            assert next_opening_us(office, t) == first[0] and next_closing_us(office, t) == t


def test_next_closing_gives_up_on_a_calendar_open_for_centuries():
    cal = sla.Calendar.from_dict({"hours": {"mon-sun": ["00:00-24:00"]}})
    assert next_closing_us(cal, parse_instant("2026-01-01T00:00:00Z")) is None
    holiday = sla.Calendar.from_dict(
        {"hours": {"mon-sun": ["00:00-24:00"]}, "holidays": {"dates": ["2030-06-01"]}}
    )
    found = next_closing_us(holiday, parse_instant("2026-01-01T00:00:00Z"))
    assert found is not None and format_instant(found) == "2030-06-01T00:00:00Z"


def test_days_hours_add_up_to_elapsed_between_midnights(office):
    first, last = date(2026, 1, 1), date(2026, 12, 31)
    days = list(days_hours(office, first, last))
    assert len(days) == 365
    lo, hi = local_midnight_us(BERLIN, first), local_midnight_us(BERLIN, last + timedelta(days=1))
    assert sum(d.open_us for d in days) == office.elapsed_us(lo, hi)
    assert [d.day for d in days if d.offset_change] == [date(2026, 3, 29), date(2026, 10, 25)]


def test_holiday_names_do_not_follow_the_locale(monkeypatch, office):
    monkeypatch.setenv("LANGUAGE", "de")
    assert holidays_in(office, 2026)[date(2026, 12, 25)] == "Christmas Day"


def test_read_local_and_read_instant():
    assert read_local(BERLIN, datetime(2026, 7, 1, 12)).kind == "exact"
    assert format_instant(read_instant("2026-07-01", BERLIN).us) == "2026-06-30T22:00:00Z"
    assert read_instant("2026-07-01T12:00:00+09:00", BERLIN).us == parse_instant("2026-07-01T03:00:00Z")
    with pytest.raises(TimestampError, match="is not a time"):
        read_instant("noon", BERLIN)
    with pytest.raises(TimestampError, match="outside the supported instants"):
        read_local(BERLIN, datetime(9999, 12, 31, 12))
