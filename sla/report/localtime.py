"""Local-time views of instants in a report's time zone: the local day, the
``--period`` label and the weekday and hour, with the zone's offsets cached.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
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
        offset = self._offsets[hour]
        if offset is not None and offset % US_PER_HOUR == 0:
            self.weekday_hours[hour] = found
        return found
