"""Instants as integer microseconds since the Unix epoch, and their text forms.

The engine works on integers: exact to the microsecond for any year, cheap to
compare and subtract.  Datetimes are converted once at the edges.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sla.errors import TimestampError

US_PER_SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)

#: The representable instants: 0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z.
#: A day of margin at each end of datetime's years 1 to 9999, so that any
#: zone's local time and local date of a representable instant exist.
MIN_US = (datetime(1, 1, 2, tzinfo=UTC) - EPOCH) // _ONE_US
MAX_US = (datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC) - EPOCH) // _ONE_US
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


def to_us(moment: datetime) -> int:
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


def parse_instant(text: object) -> int:
    """Parse an RFC 3339 / ISO 8601 timestamp with an offset into microseconds;
    a :class:`TimestampError` outside the supported instants (:data:`MIN_US`).

    >>> parse_instant("1970-01-01T01:00:00+01:00")
    0
    """
    if not isinstance(text, str):
        raise TimestampError(f"expected a timestamp string like 2026-03-02T08:15:00Z, got {text!r}")
    try:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = datetime.fromisoformat(text.upper())  # RFC 3339 allows "t" and "z"
    except ValueError:
        raise TimestampError(
            f"{text!r} is not a timestamp; expected RFC 3339 like 2026-03-02T08:15:00Z"
        ) from None
    if moment.tzinfo is None:
        raise TimestampError(f"{text!r} has no UTC offset; add Z or an offset like +01:00")
    us = (moment - EPOCH) // _ONE_US
    if MIN_US <= us <= MAX_US:
        return us
    raise TimestampError(f"{text!r} is outside the supported instants, {RANGE_TEXT}")


_FORMATTED: dict[int, str] = {}


def format_instant(us: int) -> str:
    """UTC text of an instant: whole seconds plain, fractions up to 6 digits.

    >>> format_instant(500_000)
    '1970-01-01T00:00:00.5Z'
    """
    # Rows repeat instants (a ticket's metrics mostly start at its creation),
    # so a small cache pays; isoformat() beats strftime several times over.
    text = _FORMATTED.get(us)
    if text is None:
        text = (_NAIVE_EPOCH + timedelta(microseconds=us)).isoformat()
        if len(text) > 19:  # has microseconds: trim trailing zeros
            text = text.rstrip("0")
        text += "Z"
        if len(_FORMATTED) > 4096:
            _FORMATTED.clear()
        _FORMATTED[us] = text
    return text


def format_seconds(us: int) -> int | float:
    """Microseconds as seconds: an int when whole, else a float."""
    if us % US_PER_SECOND == 0:
        return us // US_PER_SECOND
    return us / US_PER_SECOND
