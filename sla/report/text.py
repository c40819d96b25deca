"""Text helpers shared by the report formats: short durations and percentages,
group labels, cutting to a width, HTML escaping, and the compliance thresholds
that the table, the charts and the HTML page all flag by.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

from sla.report.results import Report
from sla.timefmt import US_PER_SECOND, header_instant
from sla.timefmt import duration_text as format_duration

#: Compliance at or above GOOD is fine, below WARN is flagged as low.
GOOD, WARN = 0.95, 0.80


def duration_text(seconds: float | None, business: bool = False) -> str:
    """A report figure in seconds as the one duration form of every command
    (:func:`sla.timefmt.duration_text`: the two largest units, no days in
    business time).

    >>> duration_text(5400), duration_text(93784), duration_text(93784, business=True), duration_text(None)
    ('1h30m', '26h3m', '26h3m', '-')
    >>> duration_text(700000)
    '8d2h'
    """
    return "-" if seconds is None else format_duration(round(seconds * US_PER_SECOND), business=business)


def hours_label(hours: str) -> str:
    """How a figure's time is counted, for labels: ``business time``, ``calendar time``,
    ``business or calendar time`` (policies differ)."""
    return "business or calendar time" if hours == "mixed" else f"{hours} time"


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


def source_text(report: Report) -> str:
    """Where the figures come from: the policy file(s) and the events' time range."""
    meta = report.meta
    text = f"policies: {', '.join(meta.policies)}" if meta.policies else "policies: (given in code)"
    if meta.first_event is not None and meta.last_event is not None:
        text += f"; events: {header_instant(meta.first_event)} .. {header_instant(meta.last_event)}"
    return text


def unmeasured_line(report: Report) -> str | None:
    """The tickets that no SLA figure covers, and the likely cause."""
    meta = report.meta
    if not meta.unmeasured_tickets:
        return None
    line = f"{meta.unmeasured_tickets:,} of {report.tickets:,} tickets have no cycle with a target"
    if meta.no_policy_tickets == meta.unmeasured_tickets:
        return line + ": no policy is in force for them (check the policies' match rules)"
    if meta.no_policy_tickets:
        return line + f"; {meta.no_policy_tickets:,} of them have no policy in force (check the match rules)"
    return line + " (their policy targets none of their metrics at their priority)"
