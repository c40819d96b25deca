"""Zone names: which IANA names a policy or a ticket may use, and what to
suggest for one that is nearly right.

The names are the tz database's (``zoneinfo.available_timezones()``,
links such as ``US/Eastern`` included) but not its ``localtime`` and
``posixrules`` files: ``ZoneInfo`` also opens those and the ``posix/`` and
``right/`` copies, whose meaning depends on the machine (SEMANTICS.md
section 10).  :func:`is_known_zone` answers for a name of the database
without listing them all: listing opens every file of it (about 600 here;
80 million instructions with the files cached, more time on a cold disk),
which every command that read a zone paid at start-up.
"""

from __future__ import annotations

import os
import zoneinfo
from functools import cache

#: Files of the tz database that are no zone a ticket may name.
_NOT_ZONES = frozenset({"localtime", "posixrules"})
#: Directories at the database's top that ``available_timezones`` leaves out.
_COPIES = frozenset({"right", "posix"})


@cache
def known_zones() -> frozenset[str]:
    """Every zone name a ticket may carry (see the module's docstring).

    >>> "Europe/Berlin" in known_zones(), "posixrules" in known_zones()
    (True, False)
    """
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


#: The names :func:`is_known_zone` found one at a time: the database's own
#: only, so a few hundred at most.
_FOUND: set[str] = set()


def is_known_zone(name: str) -> bool:
    """``name in known_zones()``, without listing the database for a name
    it has (:func:`_found_alone`).  The first name it lacks lists it, once:
    a history full of wrong zone names then costs one listing, not a search
    of the disk for each.

    >>> is_known_zone("Europe/Berlin"), is_known_zone("US/Eastern"), is_known_zone("posix/Europe/Berlin")
    (True, True, False)
    """
    if name in _FOUND:
        return True
    if not known_zones.cache_info().currsize and _found_alone(name):
        _FOUND.add(name)
        return True
    return name in known_zones()


def _found_alone(name: str) -> bool:
    """``name in known_zones()``, worked out for this name alone: a file
    under one of ``zoneinfo.TZPATH``'s folders, reached as
    ``available_timezones`` walks them (not through a linked folder, not in
    ``right/`` or ``posix/``), or else a zone of the ``tzdata`` package;
    either way one that ``ZoneInfo`` reads as a zone file."""
    parts = name.split("/")
    if name in _NOT_ZONES or parts[0] in _COPIES:
        return False
    # (A key that is no normalized relative path, which the walk never
    # makes, ZoneInfo refuses below.)
    routes = [_walked(root, parts) for root in zoneinfo.TZPATH if os.path.isfile(os.path.join(root, name))]
    if routes and not any(routes):
        return False  # only through linked folders, which the walk does not enter
    try:
        zoneinfo.ZoneInfo.no_cache(name)  # the file's first bytes, or tzdata's zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _walked(root: str, parts: list[str]) -> bool:
    """Whether the walk from ``root`` reaches the file ``parts`` names: no
    folder on the way is a link."""
    folder = root
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if os.path.islink(folder):
            return False
    return True


def zone_suggestion(name: str) -> str:
    """``; did you mean 'Europe/Berlin'?`` for a zone name that is nearly right:
    another spelling of case, a city without its region, a near miss.

    >>> zone_suggestion("europe/berlin"), zone_suggestion("Berlin"), zone_suggestion("Europe/Berlim")
    ("; did you mean 'Europe/Berlin'?", "; did you mean 'Europe/Berlin'?", "; did you mean 'Europe/Berlin'?")
    """
    import difflib

    zones = sorted(known_zones())
    folded = name.strip().casefold().replace(" ", "_")
    for zone in zones:
        if zone.casefold() == folded or zone.casefold().rsplit("/", 1)[-1] == folded:
            return f"; did you mean {zone!r}?"
    close = difflib.get_close_matches(name, zones, n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""
