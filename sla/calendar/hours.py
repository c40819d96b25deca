"""Weekly business hours as small value objects (after zendesk/biz).

A :class:`Shift` is one open interval in local wall-clock time, as seconds
after the local midnight of the date it starts on; its end may pass 24:00
(an overnight shift).  A :class:`WeeklySchedule` maps weekdays to shifts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sla.errors import CalendarError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: i for i, name in enumerate(DAY_NAMES)}
DAY_SECONDS = 86_400
WEEK_SECONDS = 7 * DAY_SECONDS

_CLOCK = re.compile(r"^([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$")


def located_error(message: str, path: str) -> CalendarError:
    """A :class:`CalendarError` that knows where in the calendar mapping it lies
    (``hours.mon-fri[1]``), for :func:`error_path`.

    :class:`CalendarError` declares no ``path`` attribute, so the place rides
    in the instance's ``__dict__``; errors raised elsewhere have none.
    """
    error = CalendarError(message)
    vars(error)["path"] = path
    return error


def error_path(error: CalendarError) -> str:
    """The place :func:`located_error` gave the error, or ``""``."""
    path: str = getattr(error, "path", "")
    return path


def name_calendar(error: CalendarError, calendar: str) -> CalendarError:
    """The same error with its message led by ``calendar '<name>':`` (once)."""
    lead = f"calendar {calendar!r}"
    if str(error).startswith(lead):
        return error
    return located_error(f"{lead}: {error}", error_path(error))


def parse_clock(text: str, *, allow_24: bool, path: str) -> int:
    """Seconds after midnight of ``HH:MM`` or ``HH:MM:SS``."""
    match = _CLOCK.match(text.strip())
    if not match:
        short = re.fullmatch(r"([0-9]):([0-9]{2}(?::[0-9]{2})?)", text.strip())
        hint = f"; did you mean '0{short[1]}:{short[2]}'?" if short else ""
        raise located_error(f"{text!r} is not a clock time; expected HH:MM or HH:MM:SS{hint}", path)
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if hours == 24 and minutes == 0 and seconds == 0 and allow_24:
        return DAY_SECONDS
    if hours > 23 or minutes > 59 or seconds > 59:
        limit = "24:00 only as an end" if hours == 24 else "00:00 to 23:59:59"
        raise located_error(f"{text!r} is not a clock time ({limit})", path)
    return hours * 3600 + minutes * 60 + seconds


def _clock_text(seconds: int) -> str:
    seconds %= DAY_SECONDS
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


@dataclass(frozen=True, slots=True, order=True)
class Shift:
    """One open interval ``[start, end)`` in seconds after local midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: object, path: str) -> Shift:
        if not isinstance(text, str) or text.count("-") != 1:
            raise located_error(f'{text!r} is not an interval; expected HH:MM-HH:MM like "09:00-17:00"', path)
        left, right = text.split("-")
        start = parse_clock(left, allow_24=False, path=path)
        end = parse_clock(right, allow_24=True, path=path)
        if end <= start:  # at or before the start: runs into the next day
            end += DAY_SECONDS
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_clock_text(self.start)}-{'24:00' if self.end == DAY_SECONDS else _clock_text(self.end)}"


def parse_day_key(key: object, path: str) -> list[int]:
    """Weekday indexes (0 = Monday) named by ``mon``, ``mon-fri``, ``sat-mon`` or ``mon,wed``."""
    if not isinstance(key, str):
        raise located_error(
            f"{key!r} is not a day; expected mon..sun, a range like mon-fri or a list like mon,wed", path
        )
    days: list[int] = []
    for part in key.split(","):
        part = part.strip().lower()
        names = [name.strip() for name in part.split("-")]
        if len(names) > 2 or any(name not in _DAY_INDEX for name in names):
            raise located_error(
                f"{part!r} is not a day; expected one of {', '.join(DAY_NAMES)}, a range like mon-fri or a list like mon,wed",
                path,
            )
        first = _DAY_INDEX[names[0]]
        last = _DAY_INDEX[names[-1]]
        span = (last - first) % 7  # ranges wrap around the week
        days.extend((first + i) % 7 for i in range(span + 1))
    return days


def parse_shifts(value: object, path: str) -> tuple[Shift, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise located_error(f'{value!r} is not a list of intervals; expected like ["09:00-17:00"]', path)
    return tuple(sorted(Shift.parse(item, f"{path}[{i}]") for i, item in enumerate(value)))


def check_no_overlap(
    shifts: list[tuple[int, Shift, str]], *, period: int | None, what: str, path: str
) -> None:
    """Raise if any two shifts overlap.

    ``shifts`` holds (offset of its day in seconds, shift, day label).  With a
    ``period`` the timeline is circular (the week), so Sunday night spills
    into Monday.
    """
    spans = sorted((offset + s.start, offset + s.end, s, label) for offset, s, label in shifts)
    pairs = list(zip(spans, spans[1:], strict=False))
    if period is not None and len(spans) > 1:
        first, last = spans[0], spans[-1]
        pairs.append((last, (first[0] + period, first[1] + period, first[2], first[3])))
    if period is not None and len(spans) == 1 and spans[0][1] - spans[0][0] > period:
        raise located_error(f"{what}: {spans[0][2]} is longer than the week", path)
    for (_a_start, a_end, a_shift, a_day), (b_start, _b_end, b_shift, b_day) in pairs:
        if b_start < a_end:
            where = f"on {a_day}" if a_day == b_day else f"{a_day} {a_shift} runs into {b_day}"
            raise located_error(f"{what}: intervals {a_shift} and {b_shift} overlap ({where})", path)


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """Shifts per weekday, Monday first."""

    days: tuple[tuple[Shift, ...], ...]

    @classmethod
    def parse(cls, hours: object, calendar: str, path: str = "hours") -> WeeklySchedule:
        try:
            return cls._parse(hours, calendar, path)
        except CalendarError as error:
            raise name_calendar(error, calendar) from None

    @classmethod
    def _parse(cls, hours: object, calendar: str, path: str) -> WeeklySchedule:
        if not isinstance(hours, Mapping):
            raise located_error(
                f'calendar {calendar!r}: hours must map days to intervals, like mon-fri: ["09:00-17:00"]',
                path,
            )
        days: list[tuple[Shift, ...] | None] = [None] * 7
        named_by: dict[int, object] = {}
        for key, value in hours.items():
            key_path = f"{path}.{key}"
            for day in parse_day_key(key, key_path):
                if day in named_by:
                    raise located_error(
                        f"calendar {calendar!r}: {DAY_NAMES[day]} is named twice ({named_by[day]!r} and {key!r})",
                        key_path,
                    )
                named_by[day] = key
                days[day] = parse_shifts(value, key_path)
        schedule = cls(tuple(d or () for d in days))
        check_no_overlap(
            [(i * DAY_SECONDS, s, DAY_NAMES[i]) for i, shifts in enumerate(schedule.days) for s in shifts],
            period=WEEK_SECONDS,
            what=f"calendar {calendar!r}",
            path=path,
        )
        if not any(schedule.days):
            raise located_error(
                f'calendar {calendar!r} has no open hours in the week; add e.g. mon-fri: ["09:00-17:00"]',
                path,
            )
        return schedule

    def shifts_on(self, day: date) -> tuple[Shift, ...]:
        return self.days[day.weekday()]

    def open_seconds_per_week(self) -> int:
        return sum(s.end - s.start for shifts in self.days for s in shifts)
