"""Zendesk business-hours schedules and their holidays as calendars (section 2).

A schedule (``GET /api/v2/business_hours/schedules``, Zendesk's Schedules
reference,
https://developer.zendesk.com/api-reference/ticketing/ticket-management/schedules/)
has a ``time_zone`` (a Rails zone name, :mod:`sla.importers.rails_zones`)
and ``intervals``: ``start_time``/``end_time`` in minutes since Sunday 00:00
in that zone (Monday 09:00-17:00 is 1980-2460; 10080 is the end of
Saturday). Each interval becomes wall-clock hours on its day; one that runs
past midnight (Zendesk refuses those) is cut at midnight, so a holiday
closes exactly the hours of its date. Holidays (``GET
.../schedules/{id}/holidays``) have inclusive ``start_date``/``end_date``
and become the calendar's ``holidays.dates``, every day of each.

A saved holidays page does not name its schedule; :class:`HolidayPage`
carries the schedule id found elsewhere (the file's path), else the page's
own ``schedule_id``; with one schedule, that one.

>>> hours_by_day([{"start_time": 1980, "end_time": 2460}, {"start_time": 3420, "end_time": 3900}], "s")
{'mon,tue': ['09:00-17:00']}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sla.errors import SlaError
from sla.importers.rails_zones import iana_zone
from sla.importers.yaml_out import comment, quoted, scalar

_WEEK = 7 * 1440
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONDAY_FIRST = (1, 2, 3, 4, 5, 6, 0)
#: A holiday longer than this is refused (a typo in a year, not a closure).
MAX_HOLIDAY_DAYS = 366


class ConversionError(SlaError):
    """Zendesk configuration that cannot become a policy file; names what and why."""


@dataclass(frozen=True, slots=True)
class HolidayPage:
    """A saved holidays page (``{"holidays": [...]}``), the id of its
    schedule when known, where it was read (for messages), and text that
    may hold the schedule's id (the file's path below the folder given:
    ``schedules/360001/holidays.json``)."""

    doc: object
    schedule: str | None = None
    source: str = "holidays page"
    hint: str | None = None


@dataclass
class Calendar:
    """One schedule as a calendar of the policy file."""

    name: str
    schedule_id: str
    title: str
    rails_zone: str
    zone: str
    hours: dict[str, list[str]]
    holidays: dict[date, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The calendar's entry under ``calendars:``, with comments."""
        out = [f"  # Zendesk schedule {self.schedule_id}: {comment(self.title)} ({comment(self.rails_zone)})"]
        out += [f"  {scalar(self.name)}:", f"    timezone: {scalar(self.zone)}", "    hours:"]
        out += [f"      {day}: [{', '.join(quoted(i) for i in hours)}]" for day, hours in self.hours.items()]
        if self.holidays:
            out += ["    holidays:", "      dates:"]
            for day, names in sorted(self.holidays.items()):
                out.append(f"        - {day.isoformat()}  # {comment(', '.join(names))}")
        return out


def schedule_id(record: Mapping[str, object]) -> str:
    """A schedule's id as text (ids are written as strings)."""
    return str(record.get("id"))


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def hours_by_day(intervals: object, where: str) -> dict[str, list[str]]:
    """Weekly hours from Zendesk intervals, days with the same hours grouped
    (``mon-fri``), Monday first; :class:`ConversionError` for a bad interval."""
    if not isinstance(intervals, list):
        raise ConversionError(f"{where}: intervals is not a list")
    per_day: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for index, item in enumerate(intervals):
        start = item.get("start_time") if isinstance(item, Mapping) else None
        end = item.get("end_time") if isinstance(item, Mapping) else None
        if (
            not (isinstance(start, int) and isinstance(end, int))
            or isinstance(start, bool)
            or isinstance(end, bool)
        ):
            raise ConversionError(f"{where}: intervals[{index}] needs whole-minute start_time and end_time")
        if end == 0 and start > 0:
            end = _WEEK  # Zendesk: 0 or 10080 is the midnight between Saturday and Sunday
        if not 0 <= start < end <= _WEEK:
            raise ConversionError(
                f"{where}: intervals[{index}] {start}-{end} is not a stretch of the week "
                f"(minutes since Sunday 00:00, 0 to {_WEEK})"
            )
        while start < end:  # cut at midnight
            day, offset = divmod(start, 1440)
            stop = min(end, (day + 1) * 1440)
            per_day[day].append((offset, stop - day * 1440))
            start = stop
    texts: dict[int, tuple[str, ...]] = {}
    for day, pieces in per_day.items():
        merged: list[list[int]] = []
        for start, end in sorted(pieces):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if merged:
            texts[day] = tuple(f"{_clock(s)}-{_clock(e)}" for s, e in merged)
    if not texts:
        raise ConversionError(f"{where}: no open hours in the week")
    groups: dict[tuple[str, ...], list[int]] = {}
    for day in _MONDAY_FIRST:
        if day in texts:
            groups.setdefault(texts[day], []).append(_MONDAY_FIRST.index(day))
    return {_day_key(days): list(hours) for hours, days in groups.items()}


def _day_key(days: list[int]) -> str:
    """Monday-first day numbers as a key: runs of three or more as ranges."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [_DAYS[_MONDAY_FIRST[d]] for d in range(7)]
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}-{names[run[-1]]}")
        else:
            parts += [names[d] for d in run]
    return ",".join(parts)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build_calendars(
    schedules: Sequence[Mapping[str, object]], pages: Sequence[HolidayPage]
) -> list[Calendar]:
    """Every schedule as a calendar, in the order given, holidays placed."""
    calendars: list[Calendar] = []
    names: set[str] = {"24x7"}
    for record in schedules:
        sid, title = schedule_id(record), str(record.get("name") or "")
        where = f"Zendesk schedule {sid} {title!r}"
        zone = iana_zone(record.get("time_zone"))
        if zone is None:
            raise ConversionError(
                f"{where}: time zone {record.get('time_zone')!r} is neither a Rails zone name "
                "(ActiveSupport::TimeZone::MAPPING) nor an IANA name; cannot convert it"
            )
        name = _slug(title) or f"schedule-{sid}"
        name = name if name not in names else f"{name}-{_slug(sid) or len(calendars) + 1}"
        names.add(name)
        hours = hours_by_day(record.get("intervals"), where)
        calendars.append(Calendar(name, sid, title, str(record.get("time_zone")), zone, hours))
    by_id = {c.schedule_id: c for c in calendars}
    for page in pages:
        _place_holidays(page, by_id)
    return calendars


def _place_holidays(page: HolidayPage, by_id: Mapping[str, Calendar]) -> None:
    doc = page.doc if isinstance(page.doc, Mapping) else {}
    sid = page.schedule or (str(doc["schedule_id"]) if doc.get("schedule_id") is not None else None)
    if sid is None and len(by_id) == 1:
        sid = next(iter(by_id))
    if sid is None or sid not in by_id:
        known = ", ".join(by_id) or "none"
        raise ConversionError(
            f"{page.source}: cannot tell which schedule these holidays belong to (a saved holidays "
            f"page does not name it; schedules read: {known}); put the schedule's id in the file "
            "or folder name, like schedules/<id>/holidays.json"
        )
    calendar = by_id[sid]
    records = doc.get("holidays")
    for index, holiday in enumerate(records if isinstance(records, list) else []):
        first, last = (
            _date(holiday.get(k)) if isinstance(holiday, Mapping) else None
            for k in ("start_date", "end_date")
        )
        label = str(holiday.get("name") or "holiday") if isinstance(holiday, Mapping) else "holiday"
        if first is None or last is None or not 0 <= (last - first).days < MAX_HOLIDAY_DAYS:
            raise ConversionError(
                f"{page.source}: holidays[{index}] of schedule {sid} needs start_date and end_date "
                f"(YYYY-MM-DD, inclusive, at most {MAX_HOLIDAY_DAYS} days)"
            )
        for n in range((last - first).days + 1):
            names = calendar.holidays.setdefault(first + timedelta(days=n), [])
            if label not in names:
                names.append(label)


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


__all__ = ["Calendar", "ConversionError", "HolidayPage", "build_calendars", "hours_by_day"]
