"""Instants as integer microseconds since the Unix epoch, and their text forms.

The engine works on integers: exact to the microsecond for any year, cheap to
compare and subtract.  Datetimes are converted once at the edges.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from types import FunctionType
from typing import TYPE_CHECKING, Final

from sla.errors import TimestampError

if TYPE_CHECKING:
    # Compiled, an i64 is a machine integer: arithmetic without the checks
    # of a Python int, which may grow past 64 bits.  Only annotations name
    # it, and they are never evaluated: interpreted, the values are ints
    # (and mypy_extensions, which comes with mypy, need not be installed).
    from mypy_extensions import i64

US_PER_SECOND: Final = 1_000_000
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_ONE_US: Final = timedelta(microseconds=1)

#: The representable instants: 0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z.
#: A day of margin at each end of datetime's years 1 to 9999, so that any
#: zone's local time and local date of a representable instant exist.
MIN_US: Final = (datetime(1, 1, 2, tzinfo=UTC) - EPOCH) // _ONE_US
MAX_US: Final = (datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC) - EPOCH) // _ONE_US
RANGE_TEXT = "0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z"


def check_range(us: int, text: object = None) -> int:
    """``us`` if representable, else a :class:`TimestampError` saying the range.

    >>> check_range(0)
    0
    """
    if MIN_US <= us <= MAX_US:
        return us
    shown = text if text is not None else f"{us} µs after 1970"
    raise TimestampError(f"{shown!r} is outside the supported instants, {RANGE_TEXT}")


def to_us(moment: object) -> int:
    """Microseconds since the epoch of an aware datetime, exactly; a
    :class:`TimestampError` outside the supported instants (:data:`MIN_US`).

    >>> to_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    if not isinstance(moment, datetime):
        raise TimestampError(f"expected an aware datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimestampError(f"{moment.isoformat()} has no time zone; pass an aware datetime")
    # Integer timedelta arithmetic: exact for every year and sub-second
    # offset, and faster than going through the float ``timestamp()``.
    us = (moment - EPOCH) // _ONE_US
    if MIN_US <= us <= MAX_US:
        return us
    raise TimestampError(f"{moment.isoformat()} is outside the supported instants, {RANGE_TEXT}")


def from_us(us: int) -> datetime:
    """The aware UTC datetime of an epoch-microsecond instant."""
    return EPOCH + _ONE_US * us  # twice as fast as timedelta(microseconds=us)


def delta_to_us(delta: timedelta) -> int:
    """A timedelta as an integer number of microseconds."""
    return delta // _ONE_US


def read_iso(text: str) -> datetime:
    """An ISO 8601 / RFC 3339 date-time as a datetime (naive if it has no
    offset); ``ValueError`` if it is not one. RFC 3339 allows ``t`` and ``z``."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text.upper())


#: What :func:`plain_utc_us` returns for text in any other form (below
#: :data:`MIN_US`, so no instant is this).
NOT_PLAIN: Final = MIN_US - 1


def plain_utc_us(text: str) -> int:
    """The instant of ``text`` if it is in the form rows write for whole
    seconds, ``2026-03-02T08:15:00Z`` (ASCII digits, a real date, hours
    00-23), else :data:`NOT_PLAIN`; a text it takes gives the same instant
    as :func:`parse_instant`, which also checks the range (:data:`MIN_US`,
    :data:`MAX_US`): the caller does that here.

    The digits are read one by one: compiled, this costs a fraction of
    ``datetime.fromisoformat`` and the timedelta arithmetic after it (the
    engine parses every input line's ``at``); interpreted it costs more, so
    the engine calls it only when compiled (:data:`PLAIN_IS_FAST`).

    >>> plain_utc_us("1970-01-02T00:00:01Z"), plain_utc_us("2024-02-30T00:00:00Z") == NOT_PLAIN
    (86401000000, True)
    """
    # Written for mypyc: ord() of an index and machine-integer (i64)
    # operations compile to plain C; a tuple (min, divmod, a constant table)
    # would be built and freed.
    if len(text) != 20 or ord(text[19]) != 90 or ord(text[10]) != 84:  # Z, T
        return NOT_PLAIN
    if ord(text[4]) != 45 or ord(text[7]) != 45 or ord(text[13]) != 58 or ord(text[16]) != 58:  # -, :
        return NOT_PLAIN
    century = _two_digits(text, 0)  # one assignment each: a tuple would be built
    of_century = _two_digits(text, 2)
    month = _two_digits(text, 5)
    day = _two_digits(text, 8)
    hour = _two_digits(text, 11)
    minute = _two_digits(text, 14)
    second = _two_digits(text, 17)
    if (century | of_century | month | day | hour | minute | second) < 0:
        return NOT_PLAIN  # not a digit (each is -1 then)
    year = century * 100 + of_century
    if year < 1 or month < 1 or month > 12 or hour > 23 or minute > 59 or second > 59 or day < 1:
        return NOT_PLAIN
    last: i64
    if month == 2:
        last = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    elif month == 4 or month == 6 or month == 9 or month == 11:
        last = 30
    else:
        last = 31
    if day > last:
        return NOT_PLAIN
    # Days since 1970-01-01 of a proleptic Gregorian date, in whole numbers
    # (years counted from March, so that the leap day ends a year); every
    # value is >= 0 until the last subtraction, and the instant fits 64 bits
    # (year 9999 is below 2**58 microseconds).
    shifted = year - 1 if month <= 2 else year
    era = shifted // 400
    of_era = shifted - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = of_era * 365 + of_era // 4 - of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    us: i64 = days * 86_400_000_000 + hour * 3_600_000_000 + minute * 60_000_000 + second * 1_000_000
    return int(us)


def _two_digits(text: str, at: i64) -> i64:
    """The two ASCII digits of ``text`` at ``at`` as a number, or -1."""
    tens: i64 = ord(text[at]) - 48
    ones: i64 = ord(text[at + 1]) - 48
    # (Statements, not a conditional expression: compiled, that one's value
    # is a Python int, made and taken apart again on every call.)
    if 0 <= tens <= 9 and 0 <= ones <= 9:
        return tens * 10 + ones
    return -1


#: Whether :func:`plain_utc_us` runs compiled (a compiled module's functions
#: are not Python functions), which is when it pays to call it first.
PLAIN_IS_FAST: Final = not isinstance(plain_utc_us, FunctionType)


def parse_instant(text: object) -> int:
    """Parse an RFC 3339 / ISO 8601 timestamp with an offset into microseconds;
    a :class:`TimestampError` outside the supported instants (:data:`MIN_US`).

    >>> parse_instant("1970-01-01T01:00:00+01:00")
    0
    """
    if not isinstance(text, str):
        raise TimestampError(f"expected a timestamp string like 2026-03-02T08:15:00Z, got {text!r}")
    try:
        moment = read_iso(text)
    except ValueError:
        raise TimestampError(
            f"{text!r} is not a timestamp; expected RFC 3339 like 2026-03-02T08:15:00Z"
        ) from None
    if moment.tzinfo is None:
        # The advice must work: "add Z" only where adding it gives a timestamp
        # (not after a bare date such as 20260304).
        try:
            read_iso(text + "Z")
            fix = "add Z or an offset like +01:00"
        except ValueError:
            fix = "expected RFC 3339 like 2026-03-02T08:15:00Z"
        raise TimestampError(f"{text!r} has no UTC offset; {fix}")
    us = (moment - EPOCH) // _ONE_US
    if MIN_US <= us <= MAX_US:
        return us
    raise TimestampError(f"{text!r} is outside the supported instants, {RANGE_TEXT}")


_FORMATTED: Final[dict[int, str]] = {}


def format_instant(us: int) -> str:
    """UTC text of an instant: whole seconds plain, fractions up to 6 digits.

    >>> format_instant(500_000)
    '1970-01-01T00:00:00.5Z'
    """
    # Rows repeat instants (a ticket's metrics mostly start at its creation),
    # so a small cache pays; isoformat() beats strftime several times over.
    text = _FORMATTED.get(us)
    if text is None:
        text = (_NAIVE_EPOCH + _ONE_US * us).isoformat()
        text = text + "Z" if len(text) == 19 else text.rstrip("0") + "Z"  # trim a fraction's zeros
        if len(_FORMATTED) > 4096:
            _FORMATTED.clear()
        _FORMATTED[us] = text
    return text


#: Integers up to this size in magnitude are exact as doubles (2**53 µs is
#: about 285 years).
_EXACT_IN_DOUBLE: Final = 1 << 53


def seconds_of(us: int) -> float:
    """Microseconds as seconds, the float nearest the exact quotient, as
    Python divides integers, compiled or not.

    Compiled, ``int / int`` turns both into doubles first, which rounds
    twice beyond 2**53 µs: those go through Python's own division.

    >>> seconds_of(1_500_000), seconds_of(9_999_999_999_999_999)
    (1.5, 9999999999.999998)
    """
    if -_EXACT_IN_DOUBLE <= us <= _EXACT_IN_DOUBLE:
        return us / US_PER_SECOND
    return float(operator.truediv(us, US_PER_SECOND))


def format_seconds(us: int) -> int | float:
    """Microseconds as seconds: an int when whole, else a float."""
    if us % US_PER_SECOND == 0:
        return us // US_PER_SECOND
    return seconds_of(us)


def duration_text(us: int | float | None, *, business: bool = True, exact: bool = False) -> str:
    """The one human form of a duration, the same in every command.

    Units run ``h``, ``m``, ``s`` with no spaces, the syntax of policy files
    (``2h15m``, ``59m18s``, ``80h``). Business durations never use days,
    because a ``d`` is 24 hours even on a business calendar and would read as
    "one working day"; calendar durations use ``d`` from a week up. By default
    the two largest units of the whole seconds are shown (``2h15m`` for
    2h15m40s); ``exact=True`` shows every unit down to the microsecond.
    ``None`` is ``-``.

    >>> duration_text(5_400_000_000), duration_text(288_000_000_000)
    ('1h30m', '80h')
    >>> duration_text(8_100_000_000 + 40_500_000, exact=True), duration_text(-117_000_000)
    ('2h15m40.5s', '-1m57s')
    >>> duration_text(700_000 * 1_000_000, business=False), duration_text(7_240_000_000), duration_text(0)
    ('8d2h', '2h', '0s')
    """
    if us is None:
        return "-"
    sign = "-" if us < 0 else ""
    whole, micro = divmod(abs(int(round(us))), US_PER_SECOND)
    if not exact:
        whole += 1 if micro >= US_PER_SECOND // 2 else 0
        micro = 0
    units: tuple[tuple[str, int], ...] = (("h", 3600), ("m", 60), ("s", 1))
    if not business and whole >= 7 * 86400:
        units = (("d", 86400), *units)
    parts: list[str] = []
    shown = 0  # units looked at since the first non-zero one
    for unit, size in units:
        count, whole = divmod(whole, size)
        if parts or count:
            shown += 1
        if not exact and shown > 2:
            break
        if count or (unit == "s" and micro):
            parts.append(
                f"{count}.{micro:06d}".rstrip("0").rstrip(".") + "s" if unit == "s" else f"{count}{unit}"
            )
    return sign + "".join(parts) if parts else "0s"


def header_instant(us: int) -> str:
    """An instant for headers and notes: UTC to the second, microseconds
    dropped (rows keep them).

    >>> header_instant(1_500_000)
    '1970-01-01T00:00:01Z'
    """
    return format_instant(us - us % US_PER_SECOND)
