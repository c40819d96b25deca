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


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly.

    >>> to_us(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    if not isinstance(moment, datetime):
        raise TimestampError(f"expected an aware datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimestampError(f"{moment.isoformat()} has no time zone; pass an aware datetime")
    # Integer timedelta arithmetic: exact for every year and sub-second
    # offset, and faster than going through the float ``timestamp()``.
    return (moment - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of an epoch-microsecond instant."""
    return EPOCH + _ONE_US * us  # twice as fast as timedelta(microseconds=us)


def delta_to_us(delta: timedelta) -> int:
    """A timedelta as an integer number of microseconds."""
    return delta // _ONE_US


def parse_instant(text: object) -> int:
    """Parse an RFC 3339 / ISO 8601 timestamp with an offset into microseconds.

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
    return to_us(moment)


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
