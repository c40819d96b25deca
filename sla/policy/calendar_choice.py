"""A calendar per ticket (policy language section 10): a policy's calendar
chosen by an attribute, and a calendar's zone read from an attribute.

A zoned calendar keeps one index per zone actually seen, built on first use
and shared by every ticket in that zone. A value that is not a known IANA
zone name (a string equal, with case, to a name of the tz database; links
such as ``US/Eastern`` included) falls back to the default zone and is
counted, so a command can say so once; it is never an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from sla.calendar.index import Calendar
from sla.calendar.zones import is_known_zone


class ZonedCalendar:
    """A calendar read in the zone a ticket attribute names (``timezone: {by, default}``).

    >>> zoned = ZonedCalendar("requester-hours", {"hours": {"mon-fri": ["09:00-17:00"]}},
    ...                       "requester_tz", "Europe/London")
    >>> zoned.for_attributes({"requester_tz": "Asia/Tokyo"}).zone.key
    'Asia/Tokyo'
    >>> zoned.for_attributes({"requester_tz": "Mars/Olympus"}).zone.key, zoned.fallbacks["Mars/Olympus"]
    ('Europe/London', 1)
    """

    def __init__(self, name: str, mapping: Mapping[str, Any], by: str, default: str):
        self.name, self.by, self.default = name, by, default
        self._mapping = {k: v for k, v in mapping.items() if k != "timezone"}
        self._by_zone: dict[str, Calendar] = {}
        self.base = self.in_zone(default)
        #: Attribute values that were no known zone, and how often (shown as text).
        self.fallbacks: Counter[str] = Counter()

    def in_zone(self, zone: str) -> Calendar:
        """The calendar read in ``zone`` (a known name), built once."""
        found = self._by_zone.get(zone)
        if found is None:
            found = self._by_zone[zone] = Calendar.from_dict(
                {**self._mapping, "timezone": zone}, name=self.name
            )
        return found

    def calendars(self) -> list[Calendar]:
        """The calendars built so far, one per zone seen."""
        return list(self._by_zone.values())

    def __getstate__(self) -> dict[str, object]:
        # The fallbacks belong to the run that counted them (a command says them once).
        return {**self.__dict__, "fallbacks": Counter()}

    def for_attributes(self, attributes: Mapping[str, object]) -> Calendar:
        """The calendar in the ticket's zone; the default for a missing or unknown one."""
        value = attributes.get(self.by)
        if type(value) is str and is_known_zone(value):
            return self.in_zone(value)
        if value is not None:
            self.fallbacks[value if isinstance(value, str) else repr(value)] += 1
        return self.base
