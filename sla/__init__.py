"""sla: helpdesk ticket histories in, SLA clocks out."""

from .calendar import ALWAYS_OPEN, Calendar
from .duration import parse_duration
from .errors import CalendarError, DurationError, EventError, PolicyError, SlaError, TimestampError

__all__ = [
    "ALWAYS_OPEN", "Calendar", "CalendarError", "DurationError", "EventError",
    "PolicyError", "SlaError", "TimestampError", "parse_duration",
]
__version__ = "0.1.0"
