"""Business calendars (pure core): weekly hours, holidays and overrides,
compiled into an index of open intervals queried by binary search."""

from sla.calendar.index import ALWAYS_OPEN, BUILTIN_CALENDARS, Calendar, load_zone

__all__ = ["ALWAYS_OPEN", "BUILTIN_CALENDARS", "Calendar", "load_zone"]
