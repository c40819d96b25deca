"""Business calendars: is a moment open, how much business time lies between
two moments, and when does a business duration run out.

The calendar keeps a lazily grown index of its open intervals as UTC epoch
microseconds with cumulative open time, so every query is two binary
searches; no query walks days or minutes.  The index covers a window of local
dates and grows (in both directions) whenever a query falls outside it, so
any year answers exactly.

The module runs past 400 lines because it is one class: building a calendar
from its mapping, its holidays, the index and the queries all share the
index's private lists, which the hot paths (``elapsed_us``, ``add_us``) read
directly.

>>> from datetime import datetime, timedelta, timezone
>>> cal = Calendar.from_dict({"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> monday_9 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
>>> cal.add(monday_9, timedelta(hours=8))
datetime.datetime(2026, 3, 2, 16, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone  # noqa: F401  (timezone: doctests)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.calendar.hours import (
    DAY_SECONDS,
    Shift,
    WeeklySchedule,
    check_no_overlap,
    located_error,
    name_calendar,
    parse_shifts,
)
from sla.errors import CalendarError
from sla.timefmt import EPOCH, US_PER_SECOND, delta_to_us, from_us, to_us

_ONE_US = timedelta(microseconds=1)

_BLOCK_DAYS = 3 * 366
_MARGIN_DAYS = 2
# add() gives up when the due time lies further ahead than this.
_MAX_SEARCH_DAYS = 400 * 366
_MAX_SEARCH_US = _MAX_SEARCH_DAYS * DAY_SECONDS * US_PER_SECOND
# The local dates the index can hold: datetime's years 1..9999, less a margin.
_FIRST_DATE = date.min + timedelta(days=_MARGIN_DAYS + 2)
_LAST_DATE = date.max - timedelta(days=_MARGIN_DAYS + 2)


def _parse_date(value: object, path: str) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise located_error(f"{value!r} is not a date; expected YYYY-MM-DD like 2026-12-24", path)


def load_zone(name: object, path: str = "timezone") -> ZoneInfo:
    """The IANA zone ``name``; a :class:`CalendarError` naming it if unknown."""
    if not isinstance(name, str) or not name:
        raise located_error(f"{name!r} is not a time zone; expected an IANA name like Europe/Berlin", path)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise located_error(
            f"unknown time zone {name!r}; expected an IANA name like Europe/Berlin or America/New_York",
            path,
        ) from None


class Calendar:
    """A business calendar: weekly hours, holidays and date overrides in a zone.

    Build one with :meth:`from_dict` (the policy-file mapping) or use
    :data:`ALWAYS_OPEN`.  Instances are immutable from the outside; the
    internal index only grows.
    """

    __slots__ = (
        "name",
        "zone",
        "schedule",
        "overrides",
        "holiday_dates",
        "holiday_country",
        "holiday_subdivision",
        "holiday_categories",
        "always_open",
        "_holiday_years",
        "_holidays",
        "_first_day",
        "_end_day",
        "_raw",
        "_starts",
        "_ends",
        "_cum",
        "_cum_end",
        "_lo",
        "_hi",
    )

    def __init__(
        self,
        *,
        name: str = "calendar",
        zone: ZoneInfo | None = None,
        schedule: WeeklySchedule | None = None,
        overrides: Mapping[date, tuple[Shift, ...]] | None = None,
        holiday_dates: frozenset[date] = frozenset(),
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        holiday_categories: tuple[str, ...] | None = None,
        always_open: bool = False,
    ):
        self.name = name
        self.zone = zone or ZoneInfo("UTC")
        self.schedule = schedule
        self.overrides = dict(overrides or {})
        self.holiday_dates = holiday_dates
        self.holiday_country = holiday_country
        self.holiday_subdivision = holiday_subdivision
        self.holiday_categories = holiday_categories
        self.always_open = always_open
        self._holiday_years: set[int] = set()
        self._holidays: set[date] = set(holiday_dates)
        self._first_day: date | None = None
        self._end_day: date | None = None
        self._raw: list[tuple[int, int]] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum: list[int] = []
        self._cum_end: list[int] = []
        self._lo = 0
        self._hi = 0
        if not always_open:
            if schedule is None:
                raise CalendarError(f"calendar {name!r} needs hours")
            if holiday_country is not None:
                self._check_holiday_source()

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dict(cls, mapping: Mapping[str, object], name: str = "calendar") -> Calendar:
        """Build a calendar from the policy-file mapping.

        >>> cal = Calendar.from_dict({"timezone": "UTC", "hours": {"sat-mon": ["22:00-06:00"]}})
        >>> cal.is_open(datetime(2026, 3, 2, 5, 59, tzinfo=timezone.utc))  # Monday, from Sunday night
        True
        """
        try:
            return cls._from_dict(mapping, name)
        except CalendarError as error:
            raise name_calendar(error, name) from None

    @classmethod
    def _from_dict(cls, mapping: Mapping[str, object], name: str) -> Calendar:
        if not isinstance(mapping, Mapping):
            raise CalendarError(f"calendar {name!r} must be a mapping with timezone and hours")
        known = {"timezone", "hours", "holidays", "overrides"}
        for key in mapping:
            if key not in known:
                raise located_error(
                    f"calendar {name!r}: unknown key {key!r}; expected one of {', '.join(sorted(known))}",
                    str(key),
                )
        if "hours" not in mapping:
            raise located_error(f'calendar {name!r} needs hours, like mon-fri: ["09:00-17:00"]', "hours")
        zone = load_zone(mapping.get("timezone", "UTC"))
        schedule = WeeklySchedule.parse(mapping["hours"], name)
        holidays = mapping.get("holidays") or {}
        if not isinstance(holidays, Mapping):
            raise located_error(
                f"calendar {name!r}: holidays must be a mapping with country, subdivision, dates", "holidays"
            )
        for key in holidays:
            if key not in {"country", "subdivision", "dates", "categories"}:
                raise located_error(
                    f"calendar {name!r}: unknown holidays key {key!r}; expected country, subdivision, categories or dates",
                    f"holidays.{key}",
                )
        dates = holidays.get("dates") or []
        if not isinstance(dates, (list, tuple)):
            raise located_error("holiday dates must be a list of YYYY-MM-DD dates", "holidays.dates")
        holiday_dates = frozenset(_parse_date(d, f"holidays.dates[{i}]") for i, d in enumerate(dates))
        categories = holidays.get("categories")
        if isinstance(categories, str):
            categories = (categories,)
        country = holidays.get("country")
        if country is None:
            for key in ("subdivision", "categories"):
                if holidays.get(key) is not None:
                    raise located_error(
                        f"holidays {key} {holidays[key]!r} needs a country", f"holidays.{key}"
                    )
        elif not isinstance(country, str) or not country:
            raise located_error(
                f"holidays country {country!r} is not a country code like DE", "holidays.country"
            )
        subdivision = holidays.get("subdivision")
        if subdivision is not None and not isinstance(subdivision, (str, int)):
            raise located_error(
                f"holidays subdivision {subdivision!r} is not a subdivision code like BE",
                "holidays.subdivision",
            )
        if categories is not None and (
            not isinstance(categories, (list, tuple)) or not all(isinstance(c, str) for c in categories)
        ):
            raise located_error(
                f"holidays categories {categories!r} must be a list of names like [public]",
                "holidays.categories",
            )
        overrides_in = mapping.get("overrides") or {}
        if not isinstance(overrides_in, Mapping):
            raise located_error("overrides must map dates to lists of intervals", "overrides")
        overrides: dict[date, tuple[Shift, ...]] = {}
        for key, value in overrides_in.items():
            path = f"overrides.{key}"
            day = _parse_date(key, path)
            if day in overrides:
                raise located_error(f"calendar {name!r}: override date {day} is given twice", path)
            overrides[day] = parse_shifts(value if value is not None else [], path)
        cal = cls(
            name=name,
            zone=zone,
            schedule=schedule,
            overrides=overrides,
            holiday_dates=holiday_dates,
            holiday_country=country,
            holiday_subdivision=str(subdivision) if subdivision is not None else None,
            holiday_categories=tuple(categories) if categories else None,
        )
        cal._check_overrides()
        return cal

    def _check_holiday_source(self) -> None:
        try:
            self._holidays_for_year(2000)
        except CalendarError:
            raise
        except Exception as exc:  # the holidays package raises several kinds
            raise self._holiday_error(exc) from None

    def _holiday_error(self, exc: Exception) -> CalendarError:
        setting = f"country {self.holiday_country!r}"
        if self.holiday_subdivision is not None:
            setting += f", subdivision {self.holiday_subdivision!r}"
        if self.holiday_categories is not None:
            setting += f", categories {list(self.holiday_categories)!r}"
        return located_error(f"calendar {self.name!r}: holidays {setting}: {exc}", "holidays")

    def _check_overrides(self) -> None:
        """Overrides must not overlap themselves or spill into the next day's hours.

        Neighbouring days count with their real shifts (holidays included):
        an overnight shift of a holiday does not exist, so cannot overlap.
        """
        what = f"calendar {self.name!r}"
        for day, shifts in self.overrides.items():
            path = f"overrides.{day.isoformat()}"
            before = day - timedelta(days=1)
            after = day + timedelta(days=1)
            entries = [(0, s, str(day)) for s in shifts]
            entries += [(-DAY_SECONDS, s, str(before)) for s in self.shifts_on(before) if s.end > DAY_SECONDS]
            entries += [(DAY_SECONDS, s, str(after)) for s in self.shifts_on(after)]
            check_no_overlap(entries, period=None, what=what, path=path)

    # -------------------------------------------------------------- holidays
    def _holidays_for_year(self, year: int) -> None:
        if year in self._holiday_years or self.holiday_country is None:
            return
        import holidays as holidays_package

        try:
            found = holidays_package.country_holidays(
                self.holiday_country,
                subdiv=self.holiday_subdivision,
                years=year,
                categories=self.holiday_categories,
            )
        except (NotImplementedError, ValueError, TypeError, AttributeError) as exc:
            raise self._holiday_error(exc) from None
        self._holidays.update(found.keys())
        self._holiday_years.add(year)

    def shifts_on(self, day: date) -> tuple[Shift, ...]:
        """The shifts that start on a local date: override, else holiday, else weekly."""
        if day in self.overrides:
            return self.overrides[day]
        self._holidays_for_year(day.year)
        if day in self._holidays:
            return ()
        assert self.schedule is not None
        return self.schedule.shifts_on(day)

    # ----------------------------------------------------------------- index
    def _local_to_us(self, day: date, seconds: int) -> int:
        # fold=0: a wall time in a DST gap moves forward by the gap, an
        # ambiguous one is the earlier instant (RFC 5545, zoneinfo's default).
        naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
        return to_us(naive.replace(tzinfo=self.zone))

    def _generate(self, first: date, end: date) -> list[tuple[int, int]]:
        out = []
        day = first
        one = timedelta(days=1)
        while day < end:
            for shift in self.shifts_on(day):
                start = self._local_to_us(day, shift.start)
                stop = self._local_to_us(day, shift.end)
                if stop > start:
                    out.append((start, stop))
            day += one
        return out

    def _rebuild(self) -> None:
        self._raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        for start, stop in self._raw:
            if ends and start <= ends[-1]:  # union: DST gaps and touching shifts
                if stop > ends[-1]:
                    ends[-1] = stop
            else:
                starts.append(start)
                ends.append(stop)
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for start, stop in zip(starts, ends, strict=False):
            cum.append(total)
            total += stop - start
            cum_end.append(total)
        self._starts, self._ends, self._cum, self._cum_end = starts, ends, cum, cum_end
        assert self._first_day is not None and self._end_day is not None
        margin = timedelta(days=_MARGIN_DAYS)
        self._lo = self._local_to_us(self._first_day + margin, 0)
        self._hi = self._local_to_us(self._end_day - margin, 0)

    def _local_date(self, us: int) -> date:
        """The local date of an instant, clamped to the dates the index can hold."""
        try:
            day = from_us(us).astimezone(self.zone).date()
        except OverflowError:
            return _FIRST_DATE if us < 0 else _LAST_DATE
        return min(max(day, _FIRST_DATE), _LAST_DATE)

    def _shifted(self, day: date, days: int) -> date:
        try:
            day += timedelta(days=days)
        except OverflowError:
            return _FIRST_DATE if days < 0 else _LAST_DATE
        return min(max(day, _FIRST_DATE), _LAST_DATE)

    def _out_of_range(self, us: int) -> CalendarError:
        try:
            when = from_us(us).isoformat()
        except OverflowError:
            when = f"{us} µs after 1970"
        return CalendarError(
            f"calendar {self.name!r}: {when} is outside or too close to the edge of the years 1 to 9999"
        )

    def _cover(self, lo: int, hi: int) -> None:
        """Grow the index until ``[lo, hi]`` lies inside its window."""
        if self._first_day is None or self._end_day is None:  # both are set together
            centre = self._local_date(lo)
            self._first_day = self._shifted(centre, -(_BLOCK_DAYS // 3))
            self._end_day = self._shifted(centre, _BLOCK_DAYS)
            self._raw = self._generate(self._first_day, self._end_day)
            self._rebuild()
        while lo < self._lo:
            target = self._shifted(min(self._local_date(lo), self._first_day), -_BLOCK_DAYS)
            if target >= self._first_day:
                raise self._out_of_range(lo)
            self._raw += self._generate(target, self._first_day)
            self._first_day = target
            self._rebuild()
        while hi >= self._hi:
            target = self._shifted(max(self._local_date(hi), self._end_day), _BLOCK_DAYS)
            if target <= self._end_day:
                raise self._out_of_range(hi)
            self._raw += self._generate(self._end_day, target)
            self._end_day = target
            self._rebuild()

    # ------------------------------------------------------- epoch-µs queries
    def _cum_at(self, us: int) -> int:
        i = bisect_right(self._starts, us) - 1
        if i < 0:
            return 0
        end = self._ends[i]
        return self._cum[i] + (us if us < end else end) - self._starts[i]

    def elapsed_us(self, a: int, b: int) -> int:
        """Business microseconds in ``[a, b)`` (negative when ``b < a``)."""
        # The hot path: _cum_at inlined twice.
        if a < self._lo or b < self._lo or a >= self._hi or b >= self._hi:
            if self.always_open:
                return b - a
            self._cover(a if a <= b else b, b if a <= b else a)
        starts = self._starts
        i = bisect_right(starts, a) - 1
        if i < 0:
            at_a = 0
        else:
            end = self._ends[i]
            at_a = self._cum[i] + (a if a < end else end) - starts[i]
        i = bisect_right(starts, b) - 1
        if i < 0:
            return -at_a
        end = self._ends[i]
        return self._cum[i] + (b if b < end else end) - starts[i] - at_a

    def add_us(self, t: int, duration: int) -> int:
        """The earliest instant ``T >= t`` with ``elapsed_us(t, T) == duration``."""
        if duration <= 0 or self.always_open:
            if duration < 0:
                raise CalendarError(f"calendar {self.name!r}: add() takes a duration of zero or more")
            return t + duration
        if t < self._lo or t >= self._hi:
            self._cover(t, t)
        target = self._cum_at(t) + duration
        i = bisect_left(self._cum_end, target)
        if i < len(self._starts):
            found = self._starts[i] + (target - self._cum[i])
            if found < self._hi:
                return found
        return self._add_far(t, duration, target)

    def _add_far(self, t: int, duration: int, target: int) -> int:
        """add_us() beyond the index: grow it, by as much as the rate of open
        time says is needed, until the due time is inside (or too far)."""
        limit = t + _MAX_SEARCH_US
        while True:
            i = bisect_left(self._cum_end, target)
            if i < len(self._starts):
                found = self._starts[i] + (target - self._cum[i])
                if found < self._hi:
                    return found
            if self._hi > limit:
                raise CalendarError(
                    f"calendar {self.name!r}: {timedelta(microseconds=duration)} of business time after "
                    f"{from_us(t).isoformat()} runs out more than {_MAX_SEARCH_DAYS // 366} years later"
                )
            total = self._cum_end[-1] if self._cum_end else 0
            span = self._hi - self._lo
            # Wall time still needed at the index's average rate, and a bit.
            need = (target - total) * span // total if total > 0 else span
            self._cover(t, min(self._hi + need + need // 8, limit + 1))

    def is_open_us(self, t: int) -> bool:
        if self.always_open:
            return True
        if t < self._lo or t >= self._hi:
            self._cover(t, t)
        i = bisect_right(self._starts, t) - 1
        return i >= 0 and t < self._ends[i]

    def open_intervals_us(self, a: int, b: int) -> list[tuple[int, int]]:
        """The open stretches inside ``[a, b)``, clipped to it."""
        if a >= b:
            return []
        if self.always_open:
            return [(a, b)]
        self._cover(a, b)
        i = max(bisect_right(self._starts, a) - 1, 0)
        out = []
        while i < len(self._starts) and self._starts[i] < b:
            start, stop = max(self._starts[i], a), min(self._ends[i], b)
            if start < stop:
                out.append((start, stop))
            i += 1
        return out

    # --------------------------------------------------------- datetime API
    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """Business time in ``[a, b)``; ``-elapsed(b, a)`` when ``b < a``.

        >>> cal = Calendar.from_dict({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> cal.elapsed(datetime(2026, 3, 6, 16, tzinfo=timezone.utc), datetime(2026, 3, 9, 10, tzinfo=timezone.utc))
        datetime.timedelta(seconds=7200)
        """
        # to_us() inlined: subtracting from the aware epoch is exact and fails
        # (TypeError) on a naive datetime, which to_us() then reports.
        try:
            a_us = (a - EPOCH) // _ONE_US
            b_us = (b - EPOCH) // _ONE_US
        except TypeError:
            a_us, b_us = to_us(a), to_us(b)
        return _ONE_US * self.elapsed_us(a_us, b_us)

    def add(self, t: datetime, duration: timedelta) -> datetime:
        """The earliest instant ``T >= t`` with ``elapsed(t, T) == duration`` (UTC).

        >>> cal = Calendar.from_dict({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> cal.add(datetime(2026, 3, 6, 16, tzinfo=timezone.utc), timedelta(hours=2)).isoformat()
        '2026-03-09T10:00:00+00:00'
        """
        try:
            t_us = (t - EPOCH) // _ONE_US
        except TypeError:
            t_us = to_us(t)
        return EPOCH + _ONE_US * self.add_us(t_us, delta_to_us(duration))

    def is_open(self, t: datetime) -> bool:
        """Whether ``t`` lies in an open interval ``[start, end)``."""
        try:
            return self.is_open_us((t - EPOCH) // _ONE_US)
        except TypeError:
            return self.is_open_us(to_us(t))

    def __repr__(self) -> str:
        if self.always_open:
            return f"Calendar({self.name!r}, always open)"
        return f"Calendar({self.name!r}, {self.zone.key})"


ALWAYS_OPEN = Calendar(name="24x7", always_open=True)
"""The built-in ``24x7`` calendar."""

BUILTIN_CALENDARS = {"24x7": ALWAYS_OPEN}

__all__ = ["ALWAYS_OPEN", "BUILTIN_CALENDARS", "Calendar", "US_PER_SECOND"]
