"""What people ask a calendar (``sla calendar``), answered from its index.

Pure core: a local wall time read as the calendar reads its own hours, the
next opening and closing after an instant, the holidays of a year with their
names, and the open hours of local dates. Every answer comes from the
calendar's interval index (binary searches through ``add_us``,
``elapsed_us`` and ``open_intervals_us``); only :func:`days_hours` walks,
one step per date it lists.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> cal = Calendar.from_dict({"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> friday_17 = read_local(cal.zone, datetime(2026, 3, 6, 17)).us
>>> format_instant(next_opening_us(cal, friday_17) or 0)  # Monday 09:00 in Berlin
'2026-03-09T08:00:00Z'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla.calendar.index import Calendar
from sla.errors import CalendarError, TimestampError
from sla.timefmt import MAX_US, MIN_US, check_range, format_instant, from_us, read_iso, to_us  # noqa: F401 (doctests)

_ONE_US = timedelta(microseconds=1)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_HOUR_US = 3_600_000_000
#: How far ahead the next opening or closing is looked for (the limit of ``add``).
HORIZON_YEARS = 400
_HORIZON_US = HORIZON_YEARS * 366 * 24 * _HOUR_US
#: The name shown for a holiday from the calendar's own ``dates`` or iCalendar files.
LISTED_DATE = "a date in holidays.dates"
ICS_DATE = "an iCalendar holiday"


@dataclass(frozen=True, slots=True)
class LocalReading:
    """The instant of a local wall time, and how it was read: ``"exact"``,
    ``"gap"`` (the time does not exist; moved forward by the gap) or ``"fold"``
    (it happens twice; the earlier instant)."""

    us: int
    kind: str


def read_local(zone: ZoneInfo, naive: datetime) -> LocalReading:
    """A wall time in ``zone`` as an instant, by the rule the calendar applies
    to its own hours (RFC 5545, ``fold=0``): a time in a DST gap moves forward
    by the gap, an ambiguous one is the earlier instant. A
    :class:`~sla.errors.TimestampError` outside the supported instants.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> reading = read_local(berlin, datetime(2026, 3, 29, 2, 30))  # spring forward
    >>> format_instant(reading.us), reading.kind
    ('2026-03-29T01:30:00Z', 'gap')
    >>> reading = read_local(berlin, datetime(2026, 10, 25, 2, 30))  # fall back
    >>> format_instant(reading.us), reading.kind
    ('2026-10-25T00:30:00Z', 'fold')
    """
    naive = naive.replace(tzinfo=None, fold=0)
    first = zone.utcoffset(naive) or timedelta(0)
    second = zone.utcoffset(naive.replace(fold=1)) or timedelta(0)
    try:
        us = (naive - first - _NAIVE_EPOCH) // _ONE_US
    except OverflowError:  # before 0001-01-01 or after 9999-12-31 in UTC
        us = MIN_US - 1
    check_range(us, naive.isoformat())
    kind = "exact"
    if first != second:
        kind = "fold" if first > second else "gap"
    return LocalReading(us, kind)


def read_instant(text: str, zone: ZoneInfo) -> LocalReading:
    """An instant as a person types it: RFC 3339 with an offset or ``Z``, or a
    local time (or a date, its 00:00) read in ``zone`` by :func:`read_local`.
    A :class:`~sla.errors.TimestampError` saying the accepted forms.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> [format_instant(read_instant(t, berlin).us) for t in ("2026-12-23T17:00", "2026-12-23T17:00z")]
    ['2026-12-23T16:00:00Z', '2026-12-23T17:00:00Z']
    """
    try:
        moment = read_iso(text)
    except ValueError:
        raise TimestampError(
            f"{text!r} is not a time; expected a local time like 2026-12-23T17:00 (in {zone.key}), "
            "one with an offset like 2026-12-23T17:00+01:00 or 2026-12-23T16:00Z, or a date like 2026-12-23 (its 00:00)"
        ) from None
    if moment.tzinfo is None:
        return read_local(zone, moment)
    return LocalReading(to_us(moment), "exact")


def local_midnight_us(zone: ZoneInfo, day: date) -> int:
    """The first instant of a local date (its 00:00, or where a DST gap at
    midnight ends), clipped to the supported instants.

    >>> format_instant(local_midnight_us(ZoneInfo("Asia/Tokyo"), date(2026, 1, 1)))
    '2025-12-31T15:00:00Z'
    """
    naive = datetime.combine(day, time())
    offset = zone.utcoffset(naive) or timedelta(0)
    try:
        us = (naive - offset - _NAIVE_EPOCH) // _ONE_US
    except OverflowError:  # 0001-01-01 east of Greenwich
        us = MIN_US
    return min(max(us, MIN_US), MAX_US + 1)


def local_iso(us: int, zone: ZoneInfo) -> str:
    """RFC 3339 text of an instant in a zone's local time, with its offset
    (fractions of a second up to 6 digits, trailing zeros trimmed).

    >>> local_iso(1_798_041_600_500_000, ZoneInfo("Europe/Berlin"))
    '2026-12-23T17:00:00.5+01:00'
    """
    text = from_us(us).astimezone(zone).isoformat()
    if text[19:20] == ".":
        text = text[:26].rstrip("0") + text[26:]
    return text


def local_text(us: int, zone: ZoneInfo) -> str:
    """An instant as a person reads it in a zone: weekday, date, clock time
    (seconds only when not whole minutes) and UTC offset.

    >>> local_text(1_798_041_600_000_000, ZoneInfo("Europe/Berlin"))
    'Wed 2026-12-23 17:00 +01:00'
    """
    moment = from_us(us).astimezone(zone)
    offset = moment.isoformat()[26 if moment.microsecond else 19 :]
    iso = local_iso(us, zone).removesuffix(offset)
    clock = iso[11:16] if iso[16:] == ":00" else iso[11:]
    return f"{moment:%a} {iso[:10]} {clock} {offset}"


def next_opening_us(cal: Calendar, t: int) -> int | None:
    """The first instant at or after ``t`` at which ``cal`` is open (``t``
    itself when open); ``None`` when it does not open within
    :data:`HORIZON_YEARS` years. One ``add_us`` of a microsecond: the
    opening is where that microsecond starts.

    >>> cal = Calendar.from_dict({"hours": {"mon-fri": ["09:00-17:00"]}})
    >>> sunday = 1_772_928_000_000_000  # 2026-03-08T00:00Z
    >>> format_instant(next_opening_us(cal, sunday) or 0)
    '2026-03-09T09:00:00Z'
    """
    if cal.is_open_us(t):
        return t
    try:
        return cal.add_us(t, 1) - 1
    except CalendarError:
        return None


def next_closing_us(cal: Calendar, t: int) -> int | None:
    """The first instant at or after ``t`` at which ``cal`` is closed (``t``
    itself when closed); ``None`` when it stays open for :data:`HORIZON_YEARS`
    years or up to the last supported instant.

    Found by galloping, then bisecting, on ``elapsed_us``: ``[t, c)`` is all
    open exactly when its business time is ``c - t``.

    >>> cal = Calendar.from_dict({"hours": {"mon-fri": ["09:00-17:00"]}})
    >>> monday_9 = 1_773_046_800_000_000  # 2026-03-09T09:00Z
    >>> format_instant(next_closing_us(cal, monday_9 + 3_600_000_000) or 0)
    '2026-03-09T17:00:00Z'
    """
    if cal.always_open:
        return None
    if not cal.is_open_us(t):
        return t
    limit = min(t + _HORIZON_US, MAX_US + 1)

    def closed_before(c: int) -> bool:
        return cal.elapsed_us(t, c) < c - t

    low, step = t + 1, _HOUR_US  # [t, low) is open
    while True:
        high = min(t + step, limit)
        if closed_before(high):
            break
        if high >= limit:
            return None
        low, step = high, step * 2
    while high - low > 1:  # [t, low) open; [t, high) holds closed time
        middle = (low + high) // 2
        if closed_before(middle):
            high = middle
        else:
            low = middle
    return low


def holidays_in(cal: Calendar, year: int) -> dict[date, str]:
    """The calendar's holidays in a year (local dates, in order) with their
    names: the ``holidays`` package's in English where it has English names
    (else in the country's language; never the machine's locale), then
    :data:`ICS_DATE` and :data:`LISTED_DATE` for the calendar's own dates.
    A holiday is listed even when an override opens it.

    >>> cal = Calendar.from_dict({"hours": {"mon-fri": ["09:00-17:00"]},
    ...                           "holidays": {"country": "DE", "dates": ["2026-12-24"]}})
    >>> {d.isoformat(): n for d, n in holidays_in(cal, 2026).items() if d.month == 12}
    {'2026-12-24': 'a date in holidays.dates', '2026-12-25': 'Christmas Day', '2026-12-26': 'Second Day of Christmas'}
    """
    names: dict[date, str] = {}
    if cal.holiday_country is not None:
        from sla.calendar.countries import country_entity, country_holidays

        try:
            entity = country_entity(cal.holiday_country)
        except NotImplementedError:
            entity = None
        languages = getattr(entity, "supported_languages", ())
        language = "en_US" if "en_US" in languages else getattr(entity, "default_language", None)
        try:
            found = country_holidays(
                cal.holiday_country,
                subdiv=cal.holiday_subdivision,
                years=year,
                categories=cal.holiday_categories,
                language=language,
            )
        except (NotImplementedError, ValueError, TypeError, AttributeError) as exc:
            raise CalendarError(f"calendar {cal.name!r}: holidays of {year}: {exc}") from None
        names.update((day, str(name)) for day, name in found.items() if day.year == year)
    for rule in cal.holiday_rules:
        for day in rule.dates_in(year):
            names.setdefault(day, ICS_DATE)
    for day in cal.holiday_dates:
        if day.year == year:
            names.setdefault(day, LISTED_DATE)
    return dict(sorted(names.items()))


@dataclass(frozen=True, slots=True)
class DayHours:
    """One local date: its instants ``[start, end)``, the open stretches
    inside them (epoch µs, clipped at the date's midnights, so a night shift
    shows on both dates), and where the intervals that start on it come from:
    ``"weekly"``, ``"override"`` or ``"holiday"``. ``holiday`` names a holiday
    on the date, also one an override opens."""

    day: date
    start: int
    end: int
    intervals: tuple[tuple[int, int], ...]
    source: str
    holiday: str | None

    @property
    def open_us(self) -> int:
        """The open time of the date, in real microseconds."""
        return sum(stop - start for start, stop in self.intervals)

    def clocks(self, zone: ZoneInfo) -> list[str]:
        """The open stretches as local ``HH:MM-HH:MM`` (``24:00`` at the date's end)."""

        def clock(us: int) -> str:
            return "24:00" if us == self.end else local_text(us, zone).split(" ")[2]

        return [f"{clock(a)}-{clock(b)}" for a, b in self.intervals]

    @property
    def offset_change(self) -> bool:
        """Whether the zone's UTC offset changes during the date (its length
        is not 24 hours; the clipped first and last supported dates aside)."""
        return self.end - self.start != 24 * _HOUR_US and self.start > MIN_US and self.end <= MAX_US


def days_hours(cal: Calendar, first: date, last: date) -> Iterator[DayHours]:
    """The open hours of each local date from ``first`` to ``last``
    (inclusive), one ``open_intervals_us`` lookup per date.

    >>> cal = Calendar.from_dict({"hours": {"mon-fri": ["09:00-17:00"]},
    ...                           "overrides": {"2026-03-10": ["09:00-12:00"]}})
    >>> [(d.day.isoformat(), d.open_us // _HOUR_US, d.source)
    ...  for d in days_hours(cal, date(2026, 3, 9), date(2026, 3, 10))]
    [('2026-03-09', 8, 'weekly'), ('2026-03-10', 3, 'override')]
    """
    names: dict[date, str] = {}
    year = None
    day = first
    start = local_midnight_us(cal.zone, day)
    while day <= last:
        if day.year != year:
            year = day.year
            names = holidays_in(cal, year)
        end = MAX_US + 1 if day == date.max else local_midnight_us(cal.zone, day + timedelta(days=1))
        holiday = names.get(day)
        source = "override" if day in cal.overrides else "holiday" if holiday is not None else "weekly"
        yield DayHours(day, start, end, tuple(cal.open_intervals_us(start, end)), source, holiday)
        if day == date.max:
            return
        day, start = day + timedelta(days=1), end
