"""sla: helpdesk ticket histories in, SLA clocks out.

>>> import sla
>>> policies = sla.load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> [r.state for r in sla.evaluate_ticket(policies, [
...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T10:00:00Z")]
['breached']
"""

from sla.calendar.index import ALWAYS_OPEN, Calendar
from sla.engine.batch import evaluate_many, evaluate_ticket
from sla.engine.judge import CycleResult
from sla.engine.tracker import Tracker
from sla.errors import (
    ArgumentError,
    CalendarError,
    DurationError,
    EventError,
    PolicyError,
    SlaError,
    TimestampError,
)
from sla.io.policy_files import load_policies
from sla.policy.compile import PolicySet
from sla.policy.duration import parse_duration

__all__ = [
    "ALWAYS_OPEN",
    "ArgumentError",
    "Calendar",
    "CalendarError",
    "CycleResult",
    "DurationError",
    "EventError",
    "PolicyError",
    "PolicySet",
    "SlaError",
    "TimestampError",
    "Tracker",
    "evaluate_many",
    "evaluate_ticket",
    "load_policies",
    "parse_duration",
]
__version__ = "0.1.0"
