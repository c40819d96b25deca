"""Holidays from iCalendar events: one event, or a recurring one, closing
whole days (core: expansion only; sla.io.ics reads the files).

An all-day event closes every date it covers, ``[start, start + days)``; a
recurring one (an ``RRULE``, yearly or any other) closes the same span at
each occurrence but its ``EXDATE`` s. Occurrences are expanded one year at a
time, when the calendar first needs that year.

>>> christmas = RecurringHoliday(date(2020, 12, 24), 3, "FREQ=YEARLY")
>>> sorted(d.isoformat() for d in christmas.dates_in(2026))
['2026-12-24', '2026-12-25', '2026-12-26']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class RecurringHoliday:
    """Closed dates from one calendar event: ``days`` whole days from ``start``,
    repeated by ``rule`` (RFC 5545 RRULE text) unless at an ``exdates`` start."""

    start: date
    days: int = 1
    rule: str | None = None
    exdates: frozenset[date] = field(default_factory=frozenset)

    def dates_in(self, year: int) -> set[date]:
        """The closed dates that fall in ``year``."""
        first, last = date(year, 1, 1), date(year, 12, 31)
        span = timedelta(days=self.days)
        starts: list[date]
        if self.rule is None:
            starts = [self.start]
        else:
            from dateutil.rrule import rrulestr

            dtstart = datetime(self.start.year, self.start.month, self.start.day)
            lo = datetime.combine(max(first - span, date.min + span), datetime.min.time())
            hi = datetime.combine(last, datetime.min.time())
            rule = rrulestr(self.rule, dtstart=dtstart)
            starts = [d.date() for d in rule.between(lo, hi, inc=True)]
        out: set[date] = set()
        for begin in starts:
            if begin in self.exdates:
                continue
            for offset in range(self.days):
                day = begin + timedelta(days=offset)
                if first <= day <= last:
                    out.add(day)
        return out
