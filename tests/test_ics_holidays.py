"""Holidays from iCalendar files: all-day events close the days they cover,
recurring ones (RRULE) every occurrence but their EXDATEs; files are read
relative to the policy file; a missing or broken file is a located error."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import sla
from sla.calendar.recurring import RecurringHoliday
from sla.io.ics import parse_ics

pytest.importorskip("icalendar")
FIXTURE = Path(__file__).parent / "fixtures" / "team-holidays.ics"
POLICY = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-17:00"]}
    holidays: {ics: ICS, dates: [2026-12-24]}
policies:
  - name: all
    calendar: office
    targets: {first_response: 1h}
"""


def load(tmp_path: Path, ics: str = "team.ics") -> sla.PolicySet:
    folder = tmp_path / "conf"
    folder.mkdir(exist_ok=True)
    shutil.copy(FIXTURE, folder / "team.ics")
    (folder / "policy.yaml").write_text(POLICY.replace("ICS", ics))
    return sla.load_policies(folder / "policy.yaml")


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        ("2026-03-02", False),  # yearly founders day, a Monday
        ("2026-03-03", True),
        ("2027-03-02", True),  # its EXDATE
        ("2028-03-02", False),
        ("2020-03-02", False),  # the first occurrence
        ("2019-03-01", True),  # before DTSTART nothing repeats
        ("2026-03-10", False),  # a three-day offsite
        ("2026-03-11", False),
        ("2026-03-12", False),
        ("2026-03-13", True),  # DTEND is exclusive
        ("2026-12-24", False),  # dates still apply beside ics
    ],
)
def test_ics_events_close_their_days(tmp_path, day, open_):
    calendar = load(tmp_path).calendars["office"]
    assert calendar.is_open(datetime.fromisoformat(f"{day}T10:00:00+01:00")) is open_


def test_business_time_counts_around_ics_holidays(tmp_path):
    calendar = load(tmp_path).calendars["office"]
    start = datetime(2026, 3, 9, 16, tzinfo=UTC)  # Monday 17:00 Berlin: closing
    end = datetime(2026, 3, 16, 9, tzinfo=UTC)  # next Monday 10:00 Berlin
    # Tue-Thu are the offsite, Friday is open 8h, Monday 09:00-10:00 is 1h.
    assert calendar.elapsed(start, end).total_seconds() == 9 * 3600


def test_a_missing_ics_file_is_a_located_error(tmp_path):
    with pytest.raises(sla.PolicyError) as info:
        load(tmp_path, "nope.ics")
    problem = info.value.problems[0]
    assert problem.path == "calendars.office.holidays.ics" and problem.line == 5
    assert "nope.ics" in problem.message and "No such file" in problem.message


def test_a_broken_ics_file_is_a_located_error(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "bad.ics").write_text("BEGIN:VCALENDAR\nthis is not ical\n")
    with pytest.raises(sla.PolicyError, match="bad.ics"):
        load(tmp_path, "bad.ics")


def test_events_are_parsed_from_the_vendors_shapes():
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\n"  # no end: one day
        b"BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20260101\r\nDURATION:P2D\r\nRRULE:FREQ=YEARLY;COUNT=3\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    one, two = parse_ics(data)
    assert one == RecurringHoliday(date(2026, 12, 25), 1, None)
    assert two.days == 2 and two.rule == "FREQ=YEARLY;COUNT=3"
    assert sorted(two.dates_in(2028)) == [date(2028, 1, 1), date(2028, 1, 2)]
    assert two.dates_in(2029) == set()  # COUNT=3: 2026, 2027, 2028


def test_a_span_that_crosses_new_year_closes_days_in_both_years():
    rule = RecurringHoliday(date(2025, 12, 31), 2, "FREQ=YEARLY")
    assert rule.dates_in(2027) == {date(2027, 1, 1), date(2027, 12, 31)}
