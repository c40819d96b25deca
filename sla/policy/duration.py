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
    fix = written_out(text)
    raise DurationError(
        f"{value!r} is not a duration{hint}; expected {EXPECTED}"
        + (f"; did you mean {fix!r}?" if fix else "")
    )


# A number and a unit word: ``8 hours``, ``30 min``, ``1.5 hrs``, ``4H``.
_WORD_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)[\s,]*(?:and\s+)?")
_UNIT_WORDS = {
    "d": ("d", "day", "days"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
}
_UNIT_OF = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}


def written_out(text: str) -> str | None:
    """The duration a rejected text probably means, in the file's syntax:
    ``8 hours`` -> ``8h``, ``1 hour 30 mins`` -> ``1h30m``, ``pt4h`` -> ``PT4H``;
    None when there is no clear reading (units out of order, unknown words).

    >>> written_out("1.5 hrs"), written_out("30 min"), written_out("2 Days, 4 Hours"), written_out("soon")
    ('1.5h', '30m', '2d4h', None)
    """
    stripped = text.strip()
    if stripped.upper() != stripped and _ISO.match(stripped.upper()) and any(c.isdigit() for c in stripped):
        return stripped.upper()
    parts: list[tuple[str, str]] = []
    end = 0
    for found in _WORD_PART.finditer(stripped):
        if found.start() != end:
            return None
        unit = _UNIT_OF.get(found[2].lower())
        if unit is None:
            return None
        parts.append((found[1], unit))
        end = found.end()
    if not parts or end != len(stripped):
        return None
    fix = "".join(number + unit for number, unit in parts)
    units = [unit for _number, unit in parts]
    if units != sorted(units, key="dhms".index) or len(set(units)) != len(units) or fix == stripped:
        return None
    return fix


def parse_duration(value: object) -> timedelta:
    """Parse a duration into a :class:`~datetime.timedelta`.

    >>> parse_duration("1.5h")
    datetime.timedelta(seconds=5400)
    """
    return timedelta(microseconds=parse_duration_us(value))
