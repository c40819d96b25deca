"""The helpdesk that ``sla generate`` simulates: customers, teams and hours.

- Tables: channels, ticket types, categories, priorities, each with weights,
  picked by one uniform number (:class:`Table`).
- Customers: a requester's region, time zone, tier, purchase history
  (``lifetime_value``) and audience (``followers``) come from a hash of the
  seed and the requester's number, so the same requester is the same
  customer on every ticket without a table of them in memory.
- Teams (the ``group`` attribute): ``tier1`` and ``billing`` at three
  regional desks, ``tier2`` for escalations and incidents, ``social`` for
  social channels; agents have names.
- Hours: each desk works its calendar (:class:`WorkHours`, the open
  stretches of an :class:`sla.Calendar` in epoch seconds): EMEA the Berlin
  office of ``policies/b2b-tiers.yaml`` (lunch break, Berlin holidays),
  the Americas New York's and Asia-Pacific Singapore's office hours, the
  social desk 07:00-24:00 Berlin time every day.  On-call work (urgent
  tickets, incidents) runs on the wall clock.
- Time: instants are whole epoch seconds, written by :func:`iso` from
  tables of days and times of day (much faster than ``strftime``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sla.calendar import Calendar

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
START_S = int(START.timestamp())
SPAN_DAYS = 84
DAY = 86_400
HOUR = 3_600
MINUTE = 60
_MASK = (1 << 64) - 1
_TAU = 2.0 * math.pi
_SPENDING = {"enterprise": 4.0, "business": 2.0}  # purchases by tier, against the rest
FIRST_DAY = START_S // DAY - 30  # the first day (since 1970) of the timestamp tables
CACHED_DAYS = 430


@cache
def clock_texts() -> tuple[list[str], list[str]]:
    """Date prefixes from a month before the span to a year after it, and every time of day."""
    days = [
        datetime.fromtimestamp((FIRST_DAY + d) * DAY, UTC).strftime("%Y-%m-%dT") for d in range(CACHED_DAYS)
    ]
    clock = [f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
    return days, clock


def iso(t: int) -> str:
    """Epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ``.

    >>> iso(START_S + 3_723)
    '2026-01-05T01:02:03Z'
    """
    days, clock = clock_texts()
    day = t // DAY - FIRST_DAY
    if 0 <= day < len(days):
        return days[day] + clock[t % DAY]
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Table:
    """Names with weights, picked by a uniform number in [0, 1)."""

    __slots__ = ("names", "cum", "total")

    def __init__(self, pairs: tuple[tuple[str, float], ...]):
        self.names = [name for name, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def pick(self, u: float) -> str:
        """The name whose share of the weights ``u`` falls in.

        >>> Table((("a", 1), ("b", 3))).pick(0.5)
        'b'
        """
        return self.names[bisect_right(self.cum, u * self.total)]


CHANNELS = Table(
    (
        ("email", 38),
        ("web", 15),
        ("chat", 18),
        ("phone", 6),
        ("twitter", 9),
        ("facebook", 6),
        ("instagram", 4),
        ("whatsapp", 4),
    )
)
SOCIAL = frozenset(("twitter", "facebook", "instagram", "whatsapp"))
# Share of a social channel's tickets that a bot answers first.
BOT_FIRST = {"twitter": 0.45, "facebook": 0.55, "instagram": 0.55, "whatsapp": 0.85}
PRIORITIES = Table((("low", 20), ("normal", 52), ("high", 20), ("urgent", 8)))
TYPES = Table((("question", 55), ("problem", 22), ("task", 15), ("incident", 8)))
CATEGORIES = Table(
    (
        ("order", 14),
        ("cancellation", 3),
        ("address_change", 2),
        ("shipping", 10),
        ("delivery", 6),
        ("tracking", 4),
        ("payment", 7),
        ("refund", 6),
        ("fraud", 1),
        ("return", 8),
        ("product", 9),
        ("account", 8),
        ("technical", 13),
        ("billing", 5),
        ("feedback", 4),
    )
)
BILLING_CATEGORIES = frozenset(("payment", "refund", "fraud", "billing"))

REGIONS = Table((("emea", 60), ("amer", 27), ("apac", 13)))
ZONES = {
    "emea": Table(
        (
            ("Europe/Berlin", 30),
            ("Europe/London", 25),
            ("Europe/Paris", 15),
            ("Europe/Madrid", 10),
            ("Europe/Warsaw", 10),
            ("Europe/Stockholm", 10),
        )
    ),
    "amer": Table(
        (
            ("America/New_York", 40),
            ("America/Chicago", 20),
            ("America/Denver", 10),
            ("America/Los_Angeles", 20),
            ("America/Toronto", 10),
        )
    ),
    "apac": Table(
        (("Asia/Singapore", 40), ("Asia/Tokyo", 20), ("Australia/Sydney", 25), ("Asia/Kolkata", 15))
    ),
}
DESK_ZONES = {"emea": "Europe/Berlin", "amer": "America/New_York", "apac": "Asia/Singapore"}
TIERS = Table((("free", 46), ("business", 33), ("enterprise", 15), ("trial", 3), ("", 3)))
# Reply speed by tier: enterprise customers are answered first.
TIER_PACE = {"enterprise": 0.6, "business": 0.85, "free": 1.2, "trial": 1.2, "": 1.0}
PRIORITY_PACE = {"urgent": 0.3, "high": 0.5, "normal": 1.0, "low": 1.5, "": 1.1}

AGENTS = {
    ("tier1", "emea"): (
        "Anna Weber",
        "Lukas Schmidt",
        "Sofia Rossi",
        "Jonas Becker",
        "Marie Dubois",
        "Elif Yilmaz",
    ),
    ("tier1", "amer"): ("Emily Johnson", "Carlos Garcia", "Jessica Brown"),
    ("tier1", "apac"): ("Wei Chen", "Priya Sharma", "Kenji Tanaka"),
    ("billing", "emea"): ("Laura Fischer", "Tom Keller"),
    ("billing", "amer"): ("Ashley Miller",),
    ("billing", "apac"): ("Arjun Patel",),
    ("tier2", "emea"): ("Felix Wagner", "Hannah Novak"),
    ("tier2", "amer"): ("Michael Davis",),
    ("tier2", "apac"): ("Aiko Sato",),
    ("social", "emea"): ("Mia Hoffmann", "Noah Klein", "Lea Braun", "Omar Haddad"),
}

# The desks' calendars, in the policy-file form.  EMEA is b2b-tiers.yaml's
# berlin-office, AMER and APAC the offices of b2b-regions.yaml.
DESK_CALENDARS: dict[str, Mapping[str, object]] = {
    "emea": {
        "timezone": "Europe/Berlin",
        "hours": {"mon-fri": ["09:00-12:30", "13:30-18:00"]},
        "holidays": {"country": "DE", "subdivision": "BE", "dates": ["2026-12-24", "2026-12-31"]},
        "overrides": {"2026-12-23": ["09:00-12:30"]},
    },
    "amer": {
        "timezone": "America/New_York",
        "hours": {"mon-fri": ["08:00-18:00"]},
        "holidays": {"country": "US", "subdivision": "NY"},
    },
    "apac": {
        "timezone": "Asia/Singapore",
        "hours": {"mon-fri": ["09:00-18:00"]},
        "holidays": {"country": "SG"},
    },
    "social": {"timezone": "Europe/Berlin", "hours": {"mon-sun": ["07:00-24:00"]}},
}


class WorkHours:
    """A desk's open stretches in epoch seconds, with cumulative open time.

    ``add(t, d)`` is the instant after ``d`` seconds of work from ``t``: the
    earliest instant at which the desk has been open ``d`` seconds since
    ``t``, moved to the next opening when it falls on a closing.  Beyond the
    indexed range it adds wall-clock time.
    """

    __slots__ = ("calendar", "starts", "ends", "cum", "last")

    def __init__(self, calendar: Calendar, lo: int, hi: int):
        self.calendar = calendar
        spans = calendar.open_intervals_us(lo * 1_000_000, hi * 1_000_000)
        self.starts = [a // 1_000_000 for a, _ in spans]
        self.ends = [b // 1_000_000 for _, b in spans]
        self.cum: list[int] = []
        total = 0
        for a, b in zip(self.starts, self.ends, strict=True):
            self.cum.append(total)
            total += b - a
        self.last = total

    def add(self, t: int, seconds: int) -> int:
        """``seconds`` of work after ``t`` (``add(t, 0)`` is the next open instant)."""
        starts = self.starts
        i = bisect_right(starts, t) - 1
        if i < 0:
            if t < starts[0] - DAY:
                return t + seconds
            done = 0
        else:
            end = self.ends[i]
            done = self.cum[i] + (t if t < end else end) - starts[i]
        target = done + seconds
        if target >= self.last:
            return max(t, self.ends[-1]) + target - self.last
        j = bisect_right(self.cum, target) - 1
        return starts[j] + target - self.cum[j]

    def is_open(self, t: int) -> bool:
        """Whether the desk works at ``t``."""
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]


@cache
def desks() -> dict[str, WorkHours]:
    """The desks' hours over the generated span, with room for long tickets."""
    lo = START_S - 7 * DAY
    hi = START_S + (SPAN_DAYS + 120) * DAY
    return {
        name: WorkHours(Calendar.from_dict(mapping, name), lo, hi) for name, mapping in DESK_CALENDARS.items()
    }


@cache
def utc_offset(zone: str, day: int) -> int:
    """Seconds east of UTC of ``zone`` at noon (UTC) of the ``day``-th day of the span."""
    moment = START + timedelta(days=day, hours=12)
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def mix(x: int) -> int:
    """SplitMix64's finaliser: a well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


class Customer:
    """What the CRM knows about a requester: fixed for a seed and a number."""

    __slots__ = ("region", "zone", "tier", "lifetime_value", "followers")

    def __init__(self, seed: int, number: int):
        h = mix(mix(seed & _MASK) ^ number)
        g = mix(h)
        # Four 16-bit uniform numbers from each hash.
        self.region = region = REGIONS.pick(((h & 0xFFFF) + 0.5) / 65536.0)
        known = ((h >> 32) & 0xFFFF) > 3932  # 6% unknown
        self.zone: str | None = ZONES[region].pick((((h >> 16) & 0xFFFF) + 0.5) / 65536.0) if known else None
        self.tier = tier = TIERS.pick((((h >> 48) & 0xFFFF) + 0.5) / 65536.0)
        # Two independent normal numbers (Box-Muller) for purchases and audience.
        radius = math.sqrt(-2.0 * math.log(((g & 0xFFFF) + 0.5) / 65536.0))
        angle = _TAU * (((g >> 16) & 0xFFFF) + 0.5) / 65536.0
        purchases = 420.0 * _SPENDING.get(tier, 1.0) * math.exp(1.6 * radius * math.cos(angle))
        self.lifetime_value = round(purchases, 2)
        self.followers = int(350.0 * math.exp(2.8 * radius * math.sin(angle)))
