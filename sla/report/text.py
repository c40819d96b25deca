"""Text helpers shared by the report formats: short durations and percentages,
group labels, cutting to a width, HTML escaping, the compliance thresholds
that the table, the charts and the HTML page all flag by, and the header
lines that say where the figures come from.

The thresholds and the forms of numbers are defined in the pure
:mod:`sla.report.charts_base` (the chart modules use them too) and
re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sla.report.charts_base import GOOD, WARN, duration_text, esc, hours_label, percent_text
from sla.report.results import Report
from sla.timefmt import header_instant

__all__ = [
    "GOOD",
    "WARN",
    "cut",
    "duration_text",
    "esc",
    "events_text",
    "group_text",
    "hours_label",
    "percent_text",
    "policies_text",
    "source_text",
    "unmeasured_line",
    "value_text",
]


def value_text(value: object) -> str:
    """An attribute value for labels: text as it is, null as ``(none)``, else JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def group_text(group: Mapping[str, object]) -> str:
    """A group's values joined by `` / ``; the one group of a report without keys is ``(all)``."""
    return " / ".join(value_text(v) for v in group.values()) if group else "(all)"


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def policies_text(report: Report) -> str:
    """The policy file(s) the figures were judged by, or ``(given in code)``."""
    return ", ".join(report.meta.policies) or "(given in code)"


def events_text(report: Report) -> str | None:
    """The events' time range, ``first .. last`` (UTC); None without events."""
    meta = report.meta
    if meta.first_event is None or meta.last_event is None:
        return None
    return f"{header_instant(meta.first_event)} .. {header_instant(meta.last_event)}"


def source_text(report: Report) -> str:
    """Where the figures come from: the policy file(s) and the events' time range."""
    text = f"policies: {policies_text(report)}"
    events = events_text(report)
    return text if events is None else f"{text}; events: {events}"


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
