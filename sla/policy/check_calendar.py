"""The calendars section of a policy file, checked as written and then built.

:func:`check_calendar` finds every problem of one calendar (unknown keys,
time zone, weekly hours and their overlaps around the week, holidays,
overrides), each at its own line, before :func:`build_calendar` turns the
validated :class:`~sla.policy.model.CalendarSpec` into a
:class:`~sla.calendar.index.Calendar`.

The module runs past 400 lines because each check is small but there are many
(every key of a calendar has its own, each located); they share one walk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sla.calendar.hours import (
    DAY_NAMES,
    DAY_SECONDS,
    WEEK_SECONDS,
    Shift,
    check_no_overlap,
    error_path,
    parse_day_key,
)
from sla.calendar.index import ZONE_BY_NEEDED, ZONE_DEFAULT_NEEDED, Calendar, load_zone
from sla.calendar.recurring import RecurringHoliday
from sla.errors import CalendarError, Problem
from sla.policy.messages import key_text, show, suggest
from sla.policy.model import CalendarSpec, ZoneChoice
from sla.policy.source import Located

_CALENDAR_KEYS = ("timezone", "hours", "holidays", "overrides")
_HOLIDAY_KEYS = ("country", "subdivision", "categories", "dates", "ics")


#: Calendar dates must lie in these years: an instant near the ends of what
#: a datetime can hold (year 1, year 9999) cannot be shifted across time
#: zones, and a calendar looks a day or more around each date.
FIRST_YEAR, LAST_YEAR = 2, 9998


class _OutOfRange(ValueError):
    """A real date outside FIRST_YEAR..LAST_YEAR; its message is the whole problem."""


def _as_date(value: object) -> date:
    """A date from a YAML date or a ``YYYY-MM-DD`` string; ValueError with the reason."""
    if isinstance(value, datetime):
        raise ValueError("a date and time, not a date")
    if isinstance(value, date):
        return _in_range(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                day = date.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            return _in_range(day)
    raise ValueError("not a date")


def _in_range(day: date) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _OutOfRange(
            f"{day.isoformat()} is out of range: dates must be within years {FIRST_YEAR} to {LAST_YEAR} "
            "(instants near the ends of the representable range cannot be shifted across time zones)"
        )
    return day


def _date_problem(value: object, error: ValueError) -> str:
    if isinstance(error, _OutOfRange):
        return str(error)
    reason = str(error)
    reason = {"not a date": ""}.get(reason, reason)
    return f"{show(value)} is not a date{' (' + reason + ')' if reason else ''}; expected YYYY-MM-DD like 2026-12-24"


def _sub(
    loc: tuple[object, ...], calendar_error: CalendarError, fallback: tuple[object, ...]
) -> tuple[object, ...]:
    """A calendar error's own path (``hours.mon-fri[1]``) as a location under ``loc``."""
    sub = error_path(calendar_error)
    if not sub:
        return fallback
    out = loc
    for part in sub.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out += (int(part[1:-1]),)
        elif part:
            out += (part,)
    return out


def _intervals(
    value: object, loc: tuple[object, ...], located: Located, problems: list[Problem], closed_ok: bool
) -> list[tuple[int, Shift]] | None:
    """The shifts of one day's value with their list index; problems for each bad one."""
    if value is None and closed_ok:
        return []
    if isinstance(value, str):
        items: list[object] = [value]
        single = True
    elif isinstance(value, list):
        items, single = value, False
    else:
        extra = "; write [] for a closed day" if value is None else ""
        problems.append(
            located.problem(
                loc,
                f"{show(value)} is not a list of intervals; expected like "
                f'["09:00-12:00", "13:00-17:00"]{extra}',
            )
        )
        return None
    shifts = []
    ok = True
    for i, item in enumerate(items):
        where = loc if single else loc + (i,)
        try:
            shifts.append((i, Shift.parse(item, "")))
        except CalendarError as exc:
            ok = False
            problems.append(located.problem(where, str(exc)))
    return shifts if ok else None


def _week_overlaps(
    entries: list[tuple[int, Shift, str, tuple[object, ...]]],
    calendar: str,
    located: Located,
    problems: list[Problem],
) -> None:
    """Overlaps on the circular week; one problem per pair of written intervals, naming the days."""
    spans = sorted(
        (day * DAY_SECONDS + s.start, day * DAY_SECONDS + s.end, day, s, where)
        for day, s, _label, where in entries
    )
    pairs = list(zip(spans, spans[1:], strict=False))
    if len(spans) > 1:
        first = spans[0]
        pairs.append((spans[-1], (first[0] + WEEK_SECONDS, first[1] + WEEK_SECONDS) + first[2:]))
    found: dict[tuple[tuple[object, ...], tuple[object, ...], str, str, str], list[str]] = {}
    for a, b in pairs:
        if b[0] < a[1]:
            a_day, b_day = DAY_NAMES[a[2]], DAY_NAMES[b[2]]
            if a_day == b_day:
                key = (a[4], b[4], str(a[3]), str(b[3]), "same")
                found.setdefault(key, []).append(a_day)
            else:
                key = (a[4], b[4], str(a[3]), str(b[3]), "spill")
                found.setdefault(key, []).append(f"{a_day} into {b_day}")
    for (a_where, b_where, a_text, b_text, kind), days in found.items():
        if kind == "same":
            message = f"calendar {calendar!r}: intervals {a_text} and {b_text} overlap on {', '.join(days)}"
            problems.append(located.problem(b_where, message))
        else:
            message = (
                f"calendar {calendar!r}: the overnight interval {a_text} runs into {b_text} of the next day "
                f"({', '.join(days)}); end it at or before {b_text.split('-')[0]} or drop one"
            )
            problems.append(located.problem(a_where, message))


def _check_hours(
    hours: object, loc: tuple[object, ...], calendar: str, located: Located, problems: list[Problem]
) -> None:
    if not isinstance(hours, dict):
        problems.append(
            located.problem(
                loc,
                f"{show(hours)} is not a weekly schedule; expected days to intervals, "
                'like mon-fri: ["09:00-17:00"]',
            )
        )
        return
    named_by: dict[int, str] = {}
    entries: list[tuple[int, Shift, str, tuple[object, ...]]] = []
    broken = False
    for key, value in hours.items():
        key_loc = loc + (key_text(key),)
        try:
            days = parse_day_key(key, "")
        except CalendarError as exc:
            bad = (
                [
                    part.strip()
                    for piece in str(key).split(",")
                    for part in piece.split("-")
                    if part.strip().lower() not in DAY_NAMES
                ]
                if isinstance(key, str)
                else []
            )
            if bad and len(str(key).split(",")) == len([p for p in str(key).split(",") if p.count("-") <= 1]):
                message = (
                    f"{bad[0]!r} in {str(key)!r} is not a day{suggest(bad[0].lower(), DAY_NAMES)}; expected "
                    "mon, tue, wed, thu, fri, sat or sun, a range like mon-fri or a list like mon,wed"
                )
            else:
                message = str(exc)
            problems.append(located.problem(key_loc, message))
            broken = True
            days = []
        for day in days:
            if day in named_by:
                problems.append(
                    located.problem(
                        key_loc,
                        f"calendar {calendar!r}: {DAY_NAMES[day]} is named twice "
                        f"({named_by[day]!r} and {key!r}); give each day once",
                    )
                )
                broken = True
            else:
                named_by[day] = str(key)
        shifts = _intervals(value, key_loc, located, problems, closed_ok=False)
        if shifts is None:
            broken = True
            continue
        for day in days:
            for index, shift in shifts:
                where = key_loc if isinstance(value, str) else key_loc + (index,)
                entries.append((day, shift, DAY_NAMES[day], where))
    _week_overlaps(entries, calendar, located, problems)
    if not broken and not entries:
        problems.append(
            located.problem(
                loc,
                f"calendar {calendar!r} has no open hours in the week; "
                'add e.g. mon-fri: ["09:00-17:00"] (or use the built-in 24x7)',
            )
        )


def _check_known_keys(
    mapping: Mapping[object, object],
    known: Sequence[str],
    loc: tuple[object, ...],
    located: Located,
    problems: list[Problem],
) -> None:
    """An unknown key of a mapping, with the nearest known one and the full list."""
    for key in mapping:
        if key not in known:
            problems.append(
                located.problem(
                    loc + (key_text(key),),
                    f"unknown key {str(key)!r}{suggest(key, known)}; expected one of {', '.join(known)}",
                )
            )


def _check_holidays(
    value: object, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(
            located.problem(
                loc,
                f"{show(value)} is not a mapping; expected holidays: "
                "{country: DE, subdivision: BE, dates: [2026-12-24]}",
            )
        )
        return
    _check_known_keys(value, _HOLIDAY_KEYS, loc, located, problems)
    dates = value.get("dates")
    if dates is not None and not isinstance(dates, list):
        problems.append(
            located.problem(
                loc + ("dates",),
                f"{show(dates)} is not a list of dates; expected like [2026-12-24, 2026-12-31]",
            )
        )
    for i, item in enumerate(dates if isinstance(dates, list) else ()):
        try:
            _as_date(item)
        except ValueError as exc:
            problems.append(located.problem(loc + ("dates", i), _date_problem(item, exc)))
    country = value.get("country")
    subdivision = value.get("subdivision")
    categories = value.get("categories")
    if country is None:
        for key in ("subdivision", "categories"):
            if value.get(key) is not None:
                problems.append(
                    located.problem(loc + (key,), f"holidays {key} {show(value[key])} needs a country")
                )
        return
    if not isinstance(country, str) or not country:
        problems.append(
            located.problem(
                loc + ("country",),
                f"{show(country)} is not a country code; expected a code like DE, US or GB",
            )
        )
        return
    from sla.calendar.countries import subdivisions, supported_countries

    supported = supported_countries()
    if country not in supported:
        hint = (
            suggest(country.upper(), list(supported))
            if country.upper() not in supported
            else f"; did you mean {country.upper()!r}?"
        )
        problems.append(
            located.problem(
                loc + ("country",),
                f"unknown holidays country {country!r}{hint}; expected "
                "an ISO 3166 code the holidays package knows, like DE, US, GB",
            )
        )
        return
    if subdivision is not None:
        known = subdivisions(country)
        if str(subdivision) not in known:
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            problems.append(
                located.problem(
                    loc + ("subdivision",),
                    f"unknown subdivision {str(subdivision)!r} of "
                    f"{country}{suggest(subdivision, known)}; expected one of {shown or 'none'}",
                )
            )
    if categories is not None:
        names = [categories] if isinstance(categories, str) else categories
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
            problems.append(
                located.problem(
                    loc + ("categories",),
                    f"{show(categories)} is not a list of names; expected like [public]",
                )
            )


def _check_overrides(
    value: object, loc: tuple[object, ...], calendar: str, located: Located, problems: list[Problem]
) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(
            located.problem(
                loc,
                f"{show(value)} is not a mapping; expected dates to intervals, like "
                '"2026-12-24": ["09:00-12:00"] (or [] for closed)',
            )
        )
        return
    seen: dict[date, object] = {}
    for key, item in value.items():
        key_loc = loc + (key_text(key),)
        try:
            day = _as_date(key)
        except ValueError as exc:
            problems.append(located.problem(key_loc, _date_problem(key, exc)))
            day = None
        if day is not None:
            if day in seen:
                problems.append(
                    located.problem(
                        key_loc, f"override date {day} is given twice ({show(seen[day])} and {show(key)})"
                    )
                )
            seen[day] = key
        shifts = _intervals(item, key_loc, located, problems, closed_ok=True)
        if shifts:
            entries = [(0, shift, str(day or key)) for _i, shift in shifts]
            try:
                check_no_overlap(entries, period=None, what=f"calendar {calendar!r}", path="")
            except CalendarError as exc:
                problems.append(located.problem(key_loc, str(exc)))


def check_calendar(
    name: str, raw: object, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> None:
    """Every problem of one calendar as written, each at its own place."""
    if not isinstance(raw, dict):
        problems.append(
            located.problem(loc, f"{show(raw)} is not a calendar; expected a mapping with timezone and hours")
        )
        return
    _check_known_keys(raw, _CALENDAR_KEYS, loc, located, problems)
    if "timezone" in raw:
        zone, zone_loc = raw["timezone"], loc + ("timezone",)
        if isinstance(zone, dict):  # {by: attribute, default: zone}: the zone comes from the ticket
            _check_known_keys(zone, ("by", "default"), zone_loc, located, problems)
            if not isinstance(zone.get("by"), str) or not zone.get("by"):
                problems.append(located.problem(zone_loc + ("by",), ZONE_BY_NEEDED))
            if "default" not in zone:
                problems.append(located.problem(zone_loc, ZONE_DEFAULT_NEEDED))
            else:
                zone, zone_loc = zone["default"], zone_loc + ("default",)
        if not isinstance(zone, dict):
            try:
                load_zone(zone)
            except CalendarError as exc:  # its message suggests the nearest zone
                problems.append(located.problem(zone_loc, str(exc)))
    if "hours" not in raw:
        problems.append(
            located.problem(
                loc + ("hours",), f'calendar {name!r} needs hours, like hours: {{mon-fri: ["09:00-17:00"]}}'
            )
        )
    else:
        _check_hours(raw["hours"], loc + ("hours",), name, located, problems)
    _check_holidays(raw.get("holidays"), loc + ("holidays",), located, problems)
    _check_overrides(raw.get("overrides"), loc + ("overrides",), name, located, problems)


IcsFiles = Mapping[str, "list[RecurringHoliday] | str"]


def calendar_mapping(spec: CalendarSpec, ics: IcsFiles | None = None) -> dict[str, Any]:
    """A calendar as Calendar.from_dict reads it; a zone chosen per ticket
    becomes its default zone (sla.policy.calendar_choice reads the others);
    iCalendar files named under holidays.ics become their events (``ics``
    maps each name as written to its events, read by sla.io.policy_files)."""
    mapping = spec.model_dump(exclude_none=True)
    if spec.holidays is not None:
        mapping["holidays"] = spec.holidays.model_dump(exclude_none=True)
        names = spec.holidays.ics_files()
        if names:
            found = ics or {}
            mapping["holidays"]["ics"] = [
                rule for name in names for rule in found.get(name, []) if isinstance(rule, RecurringHoliday)
            ]
    if isinstance(spec.timezone, ZoneChoice):
        mapping["timezone"] = spec.timezone.default
    return mapping


def build_calendar(
    name: str,
    spec: CalendarSpec,
    loc: tuple[object, ...],
    located: Located,
    problems: list[Problem],
    ics: IcsFiles | None = None,
) -> Calendar | None:
    if spec.holidays is not None:
        names = spec.holidays.ics_files()
        for index, file_name in enumerate(names):
            where = loc + ("holidays", "ics") + ((index,) if isinstance(spec.holidays.ics, list) else ())
            found = (ics or {}).get(file_name)
            if found is None:
                problems.append(
                    located.problem(
                        where,
                        f"the iCalendar file {file_name!r} was not read; load the policy file with sla.load_policies",
                    )
                )
            elif isinstance(found, str):
                problems.append(located.problem(where, found))
        if any(isinstance((ics or {}).get(n), str) or (ics or {}).get(n) is None for n in names):
            return None
    mapping = calendar_mapping(spec, ics)
    try:
        return Calendar.from_dict(mapping, name=name)
    except CalendarError as exc:
        problems.append(located.problem(_sub(loc, exc, loc), str(exc)))
        return None
