"""sla: helpdesk ticket histories in, SLA clocks out.

>>> import sla
>>> policies = sla.load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> [r.state for r in sla.evaluate_ticket(policies, [
...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T10:00:00Z")]
['breached']

A whole export: :func:`read_jsonl` groups JSON Lines per ticket,
:func:`evaluate_many` judges them, :func:`build_report` aggregates them into
a :class:`Report` and :func:`write_report` writes it out:

>>> import io
>>> tickets, line_errors = sla.read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"channel": "chat"}}',
...     '{"ticket_id": "T1", "at": "2026-03-02T08:20:00Z", "type": "message", "author": "agent"}',
...     'not json',
... ])
>>> list(tickets), [str(e) for e in line_errors]
(['T1'], ['line 3: not valid JSON'])
>>> [(r.metric, r.state, r.elapsed) for r in sla.evaluate_many(policies, tickets.values(), "2026-03-02T10:00:00Z")]
[('first_response', 'achieved', datetime.timedelta(seconds=1200))]
>>> report = sla.build_report(policies, tickets, "2026-03-02T10:00:00Z", by=["channel"])
>>> report.sla[0].group, report.sla[0].compliance
({'channel': 'chat'}, 1.0)
>>> out = io.BytesIO()
>>> sla.write_report(report, out, "csv")
>>> out.getvalue().decode().splitlines()[0].split(",")[:3]
['section', 'channel', 'metric']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sla.errors import (
    ArgumentError,
    CalendarError,
    DurationError,
    EarlyNowError,
    EventError,
    PolicyError,
    SlaError,
    StateError,
    TimestampError,
)

if TYPE_CHECKING:
    from sla.calendar.index import ALWAYS_OPEN, Calendar
    from sla.engine.batch import evaluate_many, evaluate_ticket
    from sla.engine.events import TicketEvents
    from sla.engine.jsonl import read_jsonl
    from sla.engine.judge import CycleResult
    from sla.engine.tracker import Tracker
    from sla.io.policy_files import load_policies
    from sla.policy.duration import parse_duration
    from sla.policy.runtime import PolicySet
    from sla.report.compare import CompareBuilder, Comparison
    from sla.report.compare_html import write_comparison
    from sla.report.figures import ReportBuilder, ReportError, build_report
    from sla.report.formats import write_report
    from sla.report.results import Report

# Every name but the errors loads on first use: ``import sla`` (and so the
# import of any of its modules, which imports the package first) costs
# nothing until a name is asked for.  The command line counts on it: it
# holds the cyclic collector off before its modules load (sla.cli.main).
_LAZY = {
    "ALWAYS_OPEN": "sla.calendar.index",
    "Calendar": "sla.calendar.index",
    "evaluate_many": "sla.engine.batch",
    "evaluate_ticket": "sla.engine.batch",
    "TicketEvents": "sla.engine.events",
    "read_jsonl": "sla.engine.jsonl",
    "CycleResult": "sla.engine.judge",
    "Tracker": "sla.engine.tracker",
    "load_policies": "sla.io.policy_files",
    "PolicySet": "sla.policy.runtime",
    "parse_duration": "sla.policy.duration",
    "CompareBuilder": "sla.report.compare",
    "Comparison": "sla.report.compare",
    "write_comparison": "sla.report.compare_html",
    "Report": "sla.report.results",
    "ReportBuilder": "sla.report.figures",
    "ReportError": "sla.report.figures",
    "build_report": "sla.report.figures",
    "write_report": "sla.report.formats",
}

__all__ = [
    "ALWAYS_OPEN",
    "ArgumentError",
    "Calendar",
    "CalendarError",
    "CompareBuilder",
    "Comparison",
    "CycleResult",
    "DurationError",
    "EarlyNowError",
    "EventError",
    "PolicyError",
    "PolicySet",
    "Report",
    "ReportBuilder",
    "ReportError",
    "SlaError",
    "StateError",
    "TicketEvents",
    "TimestampError",
    "Tracker",
    "build_report",
    "evaluate_many",
    "evaluate_ticket",
    "load_policies",
    "parse_duration",
    "read_jsonl",
    "write_comparison",
    "write_report",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sla' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
