"""Durations as users write them: ``90s``, ``1h 30m``, ``PT4H``, ``3600``.

Parsed exactly (decimal arithmetic) into integer microseconds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from sla.errors import DurationError

EXPECTED = "a duration like 15m, 1h30m, 2d, PT4H or a number of seconds"

_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_COMPACT = re.compile(
    rf"^(?:{_NUM}d)?(?:(?<=d) ?)?(?:{_NUM}h)?(?:(?<=h) ?)?(?:{_NUM}m)?(?:(?<=m) ?)?(?:{_NUM}s)?$"
)
# A ``T`` must be followed by at least one time part (``P1DT`` is invalid).
_ISO = re.compile(rf"^P(?:{_NUM}D)?(?:T(?=[0-9])(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$")
_FACTORS = (Decimal(86400), Decimal(3600), Decimal(60), Decimal(1))
_MICRO = Decimal(1_000_000)


# The longest duration a timedelta holds; anything longer is a typo.
_MAX_US = timedelta.max // timedelta(microseconds=1)


def _to_us(seconds: Decimal, value: object) -> int:
    us = int((seconds * _MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))
    if us > _MAX_US:
        raise DurationError(f"{value!r} is too long a duration; expected {EXPECTED}")
    return us


def parse_duration_us(value: object) -> int:
    """Parse a duration into integer microseconds.

    >>> parse_duration_us("1h 30m") // 1_000_000
    5400
    >>> parse_duration_us("PT90M") // 1_000_000
    5400
    """
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration; expected {EXPECTED}")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise DurationError(f"{value!r} is not a duration; expected {EXPECTED}")
        if value < 0:
            raise DurationError(f"{value!r} is negative; expected {EXPECTED}")
        return _to_us(Decimal(str(value)), value)
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise DurationError(f"{value} is negative; expected {EXPECTED}")
        return value // timedelta(microseconds=1)
    if not isinstance(value, str):
        raise DurationError(f"{value!r} is not a duration; expected {EXPECTED}")
    text = value
    if text.isdigit() and text.isascii():
        return _to_us(Decimal(text), value)
    for pattern in (_COMPACT, _ISO):
        match = pattern.match(text)
        if match and any(group is not None for group in match.groups()) and not text.endswith(" "):
            try:
                total = sum(
                    (
                        Decimal(group) * factor
                        for group, factor in zip(match.groups(), _FACTORS, strict=False)
                        if group is not None
                    ),
                    Decimal(0),
                )
            except InvalidOperation:  # pragma: no cover - the regex admits only numbers
                break
            return _to_us(total, value)
    hint = ""
    if text.startswith("-"):
        hint = " (durations cannot be negative)"
    raise DurationError(f"{value!r} is not a duration{hint}; expected {EXPECTED}")


def parse_duration(value: object) -> timedelta:
    """Parse a duration into a :class:`~datetime.timedelta`.

    >>> parse_duration("1.5h")
    datetime.timedelta(seconds=5400)
    """
    return timedelta(microseconds=parse_duration_us(value))
