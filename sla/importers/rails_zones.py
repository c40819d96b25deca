"""Rails time-zone names, as Zendesk schedules carry them, to IANA names.

Zendesk writes a schedule's ``time_zone`` as a Ruby on Rails
(ActiveSupport) zone name such as ``"Eastern Time (US & Canada)"`` or
``"Berlin"``; a policy file needs the IANA name (``America/New_York``,
``Europe/Berlin``). :data:`RAILS_ZONES` is ``ActiveSupport::TimeZone::MAPPING``
as rails/rails has it at HEAD 2a2db1e (2026-08-22),
``activesupport/lib/active_support/values/time_zone.rb``: 154 names, with
the zones Rails renamed or added after 7.1.0 (``Kyiv`` -> ``Europe/Kyiv``,
was ``Europe/Kiev``; ``Greenland`` -> ``America/Nuuk``, was
``America/Godthab``; ``Rangoon`` -> ``Asia/Yangon``; ``Astana`` ->
``Asia/Almaty``, was ``Asia/Dhaka``; new ``Pacific Time (Canada)``,
``Alberta``, ``Asuncion``). :data:`LEGACY_NAMES` adds the spellings older
Rails versions used as keys (``Kyev``, ``Ulaan Bataar``), so a schedule
saved from an older account still maps.

:func:`iana_zone` also passes through a name that already is an IANA zone
of the tz database Python reads, and falls back to the older target when
that database lacks a new one (``Europe/Kyiv`` before tzdata 2022b).
Anything else is None: the caller refuses it, naming the schedule.

>>> iana_zone("Eastern Time (US & Canada)"), iana_zone("Berlin"), iana_zone("Kyiv")
('America/New_York', 'Europe/Berlin', 'Europe/Kyiv')
>>> iana_zone("Europe/Paris"), iana_zone("Atlantis")
('Europe/Paris', None)
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from functools import cache

#: ``ActiveSupport::TimeZone::MAPPING`` at rails/rails HEAD 2a2db1e.
RAILS_ZONES: dict[str, str] = {
    "International Date Line West": "Etc/GMT+12",
    "Midway Island": "Pacific/Midway",
    "American Samoa": "Pacific/Pago_Pago",
    "Hawaii": "Pacific/Honolulu",
    "Alaska": "America/Juneau",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Pacific Time (Canada)": "America/Vancouver",
    "Tijuana": "America/Tijuana",
    "Mountain Time (US & Canada)": "America/Denver",
    "Alberta": "America/Edmonton",
    "Arizona": "America/Phoenix",
    "Chihuahua": "America/Chihuahua",
    "Mazatlan": "America/Mazatlan",
    "Central Time (US & Canada)": "America/Chicago",
    "Saskatchewan": "America/Regina",
    "Guadalajara": "America/Mexico_City",
    "Mexico City": "America/Mexico_City",
    "Monterrey": "America/Monterrey",
    "Central America": "America/Guatemala",
    "Eastern Time (US & Canada)": "America/New_York",
    "Indiana (East)": "America/Indiana/Indianapolis",
    "Bogota": "America/Bogota",
    "Lima": "America/Lima",
    "Quito": "America/Lima",
    "Atlantic Time (Canada)": "America/Halifax",
    "Caracas": "America/Caracas",
    "La Paz": "America/La_Paz",
    "Santiago": "America/Santiago",
    "Asuncion": "America/Asuncion",
    "Newfoundland": "America/St_Johns",
    "Brasilia": "America/Sao_Paulo",
    "Buenos Aires": "America/Argentina/Buenos_Aires",
    "Montevideo": "America/Montevideo",
    "Georgetown": "America/Guyana",
    "Puerto Rico": "America/Puerto_Rico",
    "Greenland": "America/Nuuk",
    "Mid-Atlantic": "Atlantic/South_Georgia",
    "Azores": "Atlantic/Azores",
    "Cape Verde Is.": "Atlantic/Cape_Verde",
    "Dublin": "Europe/Dublin",
    "Edinburgh": "Europe/London",
    "Lisbon": "Europe/Lisbon",
    "London": "Europe/London",
    "Casablanca": "Africa/Casablanca",
    "Monrovia": "Africa/Monrovia",
    "UTC": "Etc/UTC",
    "Belgrade": "Europe/Belgrade",
    "Bratislava": "Europe/Bratislava",
    "Budapest": "Europe/Budapest",
    "Ljubljana": "Europe/Ljubljana",
    "Prague": "Europe/Prague",
    "Sarajevo": "Europe/Sarajevo",
    "Skopje": "Europe/Skopje",
    "Warsaw": "Europe/Warsaw",
    "Zagreb": "Europe/Zagreb",
    "Brussels": "Europe/Brussels",
    "Copenhagen": "Europe/Copenhagen",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Amsterdam": "Europe/Amsterdam",
    "Berlin": "Europe/Berlin",
    "Bern": "Europe/Zurich",
    "Zurich": "Europe/Zurich",
    "Rome": "Europe/Rome",
    "Stockholm": "Europe/Stockholm",
    "Vienna": "Europe/Vienna",
    "West Central Africa": "Africa/Algiers",
    "Bucharest": "Europe/Bucharest",
    "Cairo": "Africa/Cairo",
    "Helsinki": "Europe/Helsinki",
    "Kyiv": "Europe/Kyiv",
    "Riga": "Europe/Riga",
    "Sofia": "Europe/Sofia",
    "Tallinn": "Europe/Tallinn",
    "Vilnius": "Europe/Vilnius",
    "Athens": "Europe/Athens",
    "Istanbul": "Europe/Istanbul",
    "Minsk": "Europe/Minsk",
    "Jerusalem": "Asia/Jerusalem",
    "Harare": "Africa/Harare",
    "Pretoria": "Africa/Johannesburg",
    "Kaliningrad": "Europe/Kaliningrad",
    "Moscow": "Europe/Moscow",
    "St. Petersburg": "Europe/Moscow",
    "Volgograd": "Europe/Volgograd",
    "Samara": "Europe/Samara",
    "Kuwait": "Asia/Kuwait",
    "Riyadh": "Asia/Riyadh",
    "Nairobi": "Africa/Nairobi",
    "Baghdad": "Asia/Baghdad",
    "Tehran": "Asia/Tehran",
    "Abu Dhabi": "Asia/Muscat",
    "Muscat": "Asia/Muscat",
    "Baku": "Asia/Baku",
    "Tbilisi": "Asia/Tbilisi",
    "Yerevan": "Asia/Yerevan",
    "Kabul": "Asia/Kabul",
    "Ekaterinburg": "Asia/Yekaterinburg",
    "Islamabad": "Asia/Karachi",
    "Karachi": "Asia/Karachi",
    "Tashkent": "Asia/Tashkent",
    "Chennai": "Asia/Kolkata",
    "Kolkata": "Asia/Kolkata",
    "Mumbai": "Asia/Kolkata",
    "New Delhi": "Asia/Kolkata",
    "Kathmandu": "Asia/Kathmandu",
    "Dhaka": "Asia/Dhaka",
    "Sri Jayawardenepura": "Asia/Colombo",
    "Almaty": "Asia/Almaty",
    "Astana": "Asia/Almaty",
    "Novosibirsk": "Asia/Novosibirsk",
    "Rangoon": "Asia/Yangon",
    "Bangkok": "Asia/Bangkok",
    "Hanoi": "Asia/Bangkok",
    "Jakarta": "Asia/Jakarta",
    "Krasnoyarsk": "Asia/Krasnoyarsk",
    "Beijing": "Asia/Shanghai",
    "Chongqing": "Asia/Chongqing",
    "Hong Kong": "Asia/Hong_Kong",
    "Urumqi": "Asia/Urumqi",
    "Kuala Lumpur": "Asia/Kuala_Lumpur",
    "Singapore": "Asia/Singapore",
    "Taipei": "Asia/Taipei",
    "Perth": "Australia/Perth",
    "Irkutsk": "Asia/Irkutsk",
    "Ulaanbaatar": "Asia/Ulaanbaatar",
    "Seoul": "Asia/Seoul",
    "Osaka": "Asia/Tokyo",
    "Sapporo": "Asia/Tokyo",
    "Tokyo": "Asia/Tokyo",
    "Yakutsk": "Asia/Yakutsk",
    "Darwin": "Australia/Darwin",
    "Adelaide": "Australia/Adelaide",
    "Canberra": "Australia/Canberra",
    "Melbourne": "Australia/Melbourne",
    "Sydney": "Australia/Sydney",
    "Brisbane": "Australia/Brisbane",
    "Hobart": "Australia/Hobart",
    "Vladivostok": "Asia/Vladivostok",
    "Guam": "Pacific/Guam",
    "Port Moresby": "Pacific/Port_Moresby",
    "Magadan": "Asia/Magadan",
    "Srednekolymsk": "Asia/Srednekolymsk",
    "Solomon Is.": "Pacific/Guadalcanal",
    "New Caledonia": "Pacific/Noumea",
    "Fiji": "Pacific/Fiji",
    "Kamchatka": "Asia/Kamchatka",
    "Marshall Is.": "Pacific/Majuro",
    "Auckland": "Pacific/Auckland",
    "Wellington": "Pacific/Auckland",
    "Nuku'alofa": "Pacific/Tongatapu",
    "Tokelau Is.": "Pacific/Fakaofo",
    "Chatham Is.": "Pacific/Chatham",
    "Samoa": "Pacific/Apia",
}

#: Keys older Rails versions spelt differently (Rails 2-4 ``time_zone.rb``).
LEGACY_NAMES: dict[str, str] = {
    "Kyev": "Europe/Kyiv",
    "Ulaan Bataar": "Asia/Ulaanbaatar",
}

#: Targets Rails changed, to the name older tz databases know them by.
_OLDER_TARGETS: dict[str, str] = {
    "Europe/Kyiv": "Europe/Kiev",
    "America/Nuuk": "America/Godthab",
    "Asia/Yangon": "Asia/Rangoon",
}


@cache
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def iana_zone(name: object, available: Collection[str] | None = None) -> str | None:
    """The IANA zone for a Zendesk (Rails) zone name, an IANA name as is,
    or None when the name is neither. A Rails name wins over an IANA name
    of the same spelling (``Singapore`` is ``Asia/Singapore``).

    ``available`` is the set of known IANA names (default: the tz database
    Python reads, as the policy loader checks zones).
    """
    if not isinstance(name, str):
        return None
    known = _available() if available is None else available
    target = RAILS_ZONES.get(name) or LEGACY_NAMES.get(name)
    if target is None:
        return name if name in known else None
    if target not in known and _OLDER_TARGETS.get(target) in known:
        return _OLDER_TARGETS[target]
    return target


__all__ = ["LEGACY_NAMES", "RAILS_ZONES", "iana_zone"]
