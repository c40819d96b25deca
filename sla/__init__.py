"""sla: helpdesk ticket histories in, SLA clocks out.

>>> import sla
>>> policies = sla.load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> [r.state for r in sla.evaluate_ticket(policies, [
...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T10:00:00Z")]
['breached']
"""

from .calendar import ALWAYS_OPEN, Calendar
from .duration import parse_duration
from .engine import evaluate_many, evaluate_ticket
from .errors import CalendarError, DurationError, EventError, PolicyError, SlaError, TimestampError
from .judge import CycleResult
from .policyset import PolicySet, load_policies
from .tracker import Tracker

__all__ = [
    "ALWAYS_OPEN", "Calendar", "CalendarError", "CycleResult", "DurationError", "EventError",
    "PolicyError", "PolicySet", "SlaError", "TimestampError", "Tracker", "evaluate_many",
    "evaluate_ticket", "load_policies", "parse_duration",
]
__version__ = "0.1.0"
