"""Holidays from iCalendar (.ics) files, as JSM, Zammad and calendar apps
export them: each all-day event closes the days it covers; a recurring one
(``RRULE``) closes them at every occurrence but its ``EXDATE`` s.

Reading needs the optional ``icalendar`` package (``pip install "sla[ics]"``);
the expansion of occurrences is in :mod:`sla.calendar.recurring`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sla.calendar.recurring import RecurringHoliday
from sla.errors import SlaError

MAX_ICS_BYTES = 10 * 1024 * 1024


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def parse_ics(data: bytes, name: str = "<ics>") -> list[RecurringHoliday]:
    """The holidays of an iCalendar document (its VEVENTs)."""
    try:
        import icalendar
    except ImportError:
        raise SlaError(
            f'{name}: reading iCalendar holidays needs icalendar: pip install "sla[ics]"'
        ) from None
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise SlaError(f"{name}: not an iCalendar file ({exc})") from None
    out: list[RecurringHoliday] = []
    for number, event in enumerate(calendar.walk("VEVENT"), 1):
        start_prop = event.get("DTSTART")
        if start_prop is None:
            raise SlaError(f"{name}: event {number} ({event.get('SUMMARY', 'no summary')}) has no DTSTART")
        start = _day(start_prop.dt)
        end_prop, duration = event.get("DTEND"), event.get("DURATION")
        if end_prop is not None:
            end = _day(end_prop.dt)
            days = max((end - start).days, 1)
        elif duration is not None:
            days = max(duration.dt.days, 1)
        else:
            days = 1  # an all-day event without an end is one day (RFC 5545)
        rule = event.get("RRULE")
        exdates: set[date] = set()
        for prop in (
            event.get("EXDATE", []) if isinstance(event.get("EXDATE"), list) else [event.get("EXDATE")]
        ):
            if prop is not None:
                exdates.update(_day(d.dt) for d in prop.dts)
        out.append(
            RecurringHoliday(
                start,
                days,
                rule.to_ical().decode() if rule is not None else None,
                frozenset(exdates),
            )
        )
    return out


def read_ics(path: Path) -> list[RecurringHoliday]:
    """The holidays of an .ics file; an :class:`SlaError` that names the file otherwise."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ICS_BYTES + 1)
    except OSError as exc:
        raise SlaError(f"cannot read the iCalendar file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_ICS_BYTES:
        raise SlaError(f"the iCalendar file {path} is larger than 10 MB")
    return parse_ics(data, str(path))


__all__ = ["parse_ics", "read_ics"]
