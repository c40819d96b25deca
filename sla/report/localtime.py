"""Local-time views of instants in a report's time zone: the local day, the
``--period`` label and the weekday and hour, with the zone's offsets cached.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Final

from sla.timefmt import MAX_US, MIN_US, US_PER_SECOND, from_us


def period_label(local: date, period: str) -> str:
    """The ``period`` group value of a local datetime.

    >>> period_label(date(2027, 1, 1), "week"), period_label(date(2026, 3, 2), "month")
    ('2026-W53', '2026-03')
    """
    if period == "day":
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{local.year:04d}-{local.month:02d}"


US_PER_HOUR: Final = 3600 * US_PER_SECOND  # Final: compiled, a C constant
_US_PER_DAY: Final = 24 * US_PER_HOUR
_EPOCH_DATE = date(1970, 1, 1)


def _date_of(day: int) -> date:
    """The date ``day`` days after 1970-01-01, clamped to datetime's years 1 to
    9999 (a local date outside them can only come from an instant outside
    the supported ones, MIN_US to MAX_US)."""
    try:
        return _EPOCH_DATE + timedelta(days=day)
    except OverflowError:
        return date.min if day < 0 else date.max


#: The tz database's zones of offset zero all through (``UTC`` and its
#: aliases): their offsets need no looking up (tests check them).
ZERO_ZONES: Final = frozenset(
    {
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
        "GMT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Etc/Greenwich",
        "Greenwich",
    }
)


def fixed_offset_us(zone: tzinfo) -> int | None:
    """The one UTC offset of a zone that never changes it, in microseconds
    (a ``datetime.timezone``, or UTC by any of its names); None for any
    other zone.

    >>> from zoneinfo import ZoneInfo
    >>> fixed_offset_us(ZoneInfo("UTC")), fixed_offset_us(timezone(timedelta(hours=5, minutes=30)))
    (0, 19800000000)
    >>> fixed_offset_us(ZoneInfo("Europe/Berlin")) is None
    True
    """
    if isinstance(zone, timezone):
        offset = zone.utcoffset(None)
        return offset // timedelta(microseconds=1)
    return 0 if getattr(zone, "key", None) in ZERO_ZONES else None


class LocalTime:
    """Local-time views of instants in the report's time zone, cached.

    The zone's UTC offset is looked up once per UTC hour (when it is the same
    at both ends of the hour it holds for the whole hour; otherwise each
    instant is converted on its own), and labels once per local date.

    >>> from zoneinfo import ZoneInfo
    >>> local = LocalTime(ZoneInfo("Europe/Berlin"), "week")
    >>> march_29_0059z = 1774745940 * US_PER_SECOND  # 2026-03-29T00:59:00Z: 01:59 CET
    >>> local.day_of(march_29_0059z), local.weekday_hour(march_29_0059z), local.weekday_hour(march_29_0059z + 60_000_000)
    ('2026-03-29', (6, 1), (6, 3))
    """

    def __init__(self, zone: tzinfo, period: str | None):
        self.zone = zone
        self.period = period
        #: The zone's offset when it never changes (the default, UTC): then
        #: no hour's offset is looked up in the zone, which costs about 30 k
        #: instructions for each new hour (two conversions), a warm-up that
        #: weighs on a short history (10,000 tickets meet about 1,500 hours).
        self.fixed_us = fixed_offset_us(zone)
        self._offsets: dict[int, int | None] = {}
        self._days: dict[int, str] = {}
        self._periods: dict[int, str] = {}
        #: :meth:`weekday_hour`'s answers by UTC hour (``us // US_PER_HOUR``),
        #: for the hours the zone's offset holds all through and is whole
        #: hours (a half-hour zone's local hour changes inside a UTC hour):
        #: a caller with many instants looks here first (a dict lookup, not
        #: two calls).
        self.weekday_hours: dict[int, tuple[int, int]] = {}

    def _offset_us(self, us: int) -> int:
        # Outside the supported instants, the offset of the nearest one: the
        # local time of 0001-01-01T00:00Z may lie before the year 1.
        at = from_us(min(max(us, MIN_US), MAX_US))
        offset = at.astimezone(self.zone).utcoffset()
        if offset is None:  # pragma: no cover - astimezone() refuses a zone without offsets
            raise ValueError(f"the time zone {self.zone} gives no UTC offset")
        return offset // timedelta(microseconds=1)

    def local_us(self, us: int) -> int:
        """Microseconds since 1970-01-01T00:00 local wall-clock time."""
        fixed = self.fixed_us
        if fixed is not None:
            return us + fixed
        hour = us // US_PER_HOUR
        try:
            offset = self._offsets[hour]
        except KeyError:
            start = hour * US_PER_HOUR
            first = self._offset_us(start)
            last = self._offset_us(start + US_PER_HOUR - 1)
            offset = self._offsets[hour] = first if first == last else None
        if offset is None:
            offset = self._offset_us(us)
        return us + offset

    def local(self, us: int) -> datetime:
        return from_us(us).astimezone(self.zone)

    def period_of(self, us: int) -> str:
        """The ``period`` label of an instant (for a view made with a period)."""
        day = self.local_us(us) // _US_PER_DAY
        label = self._periods.get(day)
        if label is None:
            if self.period is None:
                raise ValueError("period_of() needs a LocalTime made with a period")
            label = self._periods[day] = period_label(_date_of(day), self.period)
        return label

    def day_of(self, us: int) -> str:
        day = self.local_us(us) // _US_PER_DAY
        label = self._days.get(day)
        if label is None:
            label = self._days[day] = _date_of(day).isoformat()
        return label

    def weekday_hour(self, us: int) -> tuple[int, int]:
        """Local weekday (0 = Monday) and hour (remembered in
        :attr:`weekday_hours` when it holds for the whole UTC hour)."""
        local = self.local_us(us)
        found = (local // _US_PER_DAY + 3) % 7, (local // US_PER_HOUR) % 24
        hour = us // US_PER_HOUR
        offset = self.fixed_us
        if offset is None:
            offset = self._offsets[hour]  # (entered by local_us)
        if offset is not None and offset % US_PER_HOUR == 0:
            self.weekday_hours[hour] = found
        return found
