"""Text helpers shared by the report formats: short durations and percentages,
group labels, cutting to a width, HTML escaping, and the compliance thresholds
that the table, the charts and the HTML page all flag by.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

#: Compliance at or above GOOD is fine, below WARN is flagged as low.
GOOD, WARN = 0.95, 0.80


def duration_text(seconds: float | None) -> str:
    """A short human duration: the two largest units.

    >>> duration_text(5400), duration_text(93784), duration_text(7231), duration_text(42.4), duration_text(None)
    ('1h 30m', '1d 2h', '2h', '42s', '-')
    """
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for i, (unit, size) in enumerate(units):
        if total >= size or unit == "s":
            text = f"{total // size}{unit}"
            if i + 1 < len(units):
                next_unit, next_size = units[i + 1]
                rest = (total % size) // next_size
                if rest:
                    text += f" {rest}{next_unit}"
            return sign + text
    return sign + "0s"  # pragma: no cover - the loop always returns


def percent_text(share: float | None, digits: int = 1) -> str:
    """``0.8624 -> '86.2%'``; null is ``-``."""
    return "-" if share is None else f"{share * 100:.{digits}f}%"


def value_text(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def group_text(group: Mapping[str, object]) -> str:
    return " / ".join(value_text(v) for v in group.values()) if group else "(all)"


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def esc(value: object) -> str:
    """``value`` as text escaped for HTML content and attribute values."""
    return escape(str(value), quote=True)
