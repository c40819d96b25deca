"""Reference implementation of ``sla evaluate --format jsonl`` from SEMANTICS.md.

Sections 1-7 (first edition) and 8-12 (second edition: conditions, derive
rules, a calendar per ticket, policy versions, ``periodic_update``,
``pausable_update``, ``group_ownership``), plus the project's own metric
option ``pause_when`` (docs/policies.md).

Written from the spec only, to be obviously right rather than fast:

* instants are integer microseconds since the epoch (UTC);
* business time is brute force: walk every local date of the span, take that
  date's intervals (override > holiday > weekly hours), turn each local
  boundary into an instant with ``zoneinfo`` ``fold=0``, drop empty intervals,
  union what overlaps, and intersect with the span;
* each metric's cycles come from one pass over the ticket's events in
  processing order; pauses come from the step function "status in force after
  every event at an instant"; every cycle is judged at its end (or ``now``)
  with the attributes after every event at or before that instant.

It imports nothing from ``sla``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays as holidays_package

UTC = UTC
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000
DAY_US = 86_400 * US
PROJECTION_LIMIT_US = 1096 * DAY_US
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
METRICS = (
    "first_response",
    "next_response",
    "resolution",
    "requester_wait",
    "agent_work",
    "periodic_update",
    "pausable_update",
    "group_ownership",
)
DONE_CLOCKS = ("resolution", "requester_wait", "agent_work")
# metrics whose cycle, ended by the ticket becoming done, is `cancelled` unless breached
CANCEL_ON_DONE = ("first_response", "next_response", "periodic_update", "pausable_update")
RESPONSE_METRICS = CANCEL_ON_DONE
DEFAULT_PAUSES = {
    "first_response": (),
    "next_response": (),
    "resolution": (),
    "requester_wait": ("pending",),
    "agent_work": ("pending", "on_hold"),
    "periodic_update": (),
    "pausable_update": ("pending", "on_hold"),
    "group_ownership": (),
}
# SEMANTICS 10: a known zone is a name of the tz database, `localtime` and `posixrules` excluded.
KNOWN_ZONES = frozenset(available_timezones()) - {"localtime", "posixrules"}


# ------------------------------------------------------------------ instants
def to_us(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)


def parse_instant(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return to_us(value)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value!r}")
    return to_us(moment)


def format_instant(us: int | None) -> str | None:
    if us is None:
        return None
    moment = EPOCH + timedelta(microseconds=us)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += ("." + f"{moment.microsecond:06d}").rstrip("0")
    return text + "Z"


def seconds(us: int) -> float:
    return us / US


# ----------------------------------------------------------------- durations
_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_PARTS = re.compile(rf"^(?:{_NUM}d ?)?(?:{_NUM}h ?)?(?:{_NUM}m ?)?(?:{_NUM}s)?$")
_ISO = re.compile(rf"^P(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$")


def parse_duration_us(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(value)
        return int((Decimal(str(value)) * US).to_integral_value())
    text = str(value)
    if text.isdigit():
        return int(text) * US
    for pattern in (_PARTS, _ISO):
        match = pattern.match(text)
        if match and any(g is not None for g in match.groups()) and not text.endswith(" "):
            total = Decimal(0)
            for group, factor in zip(match.groups(), (86400, 3600, 60, 1), strict=False):
                if group is not None:
                    total += Decimal(group) * factor
            return int((total * US).to_integral_value())
    raise ValueError(f"bad duration {value!r}")


# ----------------------------------------------------------------- calendars
def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _clock_seconds(text: str) -> int:
    parts = [int(p) for p in text.strip().split(":")]
    while len(parts) < 3:
        parts.append(0)
    hh, mm, ss = parts
    return hh * 3600 + mm * 60 + ss


def _parse_interval(text: str) -> tuple[int, int]:
    """(start, end) as seconds after the local midnight of the owning date."""
    start_text, end_text = str(text).split("-")
    start = _clock_seconds(start_text)
    end = _clock_seconds(end_text)
    if end <= start:  # crosses midnight (24:00 is 86400, always after a start)
        end += 86_400
    return start, end


def _parse_days(key: str) -> list[int]:
    days: list[int] = []
    for part in str(key).split(","):
        part = part.strip().lower()
        if "-" in part:
            first, last = (DAY_NAMES.index(x.strip()) for x in part.split("-"))
            i = first
            while True:
                days.append(i)
                if i == last:
                    break
                i = (i + 1) % 7
        else:
            days.append(DAY_NAMES.index(part))
    return days


class RefCalendar:
    """Brute-force business calendar. ``spec=None`` is 24x7."""

    def __init__(self, spec: dict | None, zone: str | None = None):
        self.always = spec is None
        if self.always:
            return
        self.zone = ZoneInfo(zone if zone is not None else spec.get("timezone", "UTC"))
        self.weekly: dict[int, list[tuple[int, int]]] = {i: [] for i in range(7)}
        for key, intervals in (spec.get("hours") or {}).items():
            for day in _parse_days(key):
                self.weekly[day] = [_parse_interval(x) for x in (intervals or [])]
        hol = spec.get("holidays") or {}
        self.holiday_dates = {_as_date(d) for d in (hol.get("dates") or [])}
        self.country = None
        if hol.get("country"):
            self.country = holidays_package.country_holidays(hol["country"], subdiv=hol.get("subdivision"))
        self.overrides = {
            _as_date(k): [_parse_interval(x) for x in (v or [])]
            for k, v in (spec.get("overrides") or {}).items()
        }

    # -- one date
    def _is_holiday(self, day: date) -> bool:
        if day in self.holiday_dates:
            return True
        return self.country is not None and day in self.country

    def _local_to_us(self, day: date, secs: int) -> int:
        wall = datetime.combine(day, time()) + timedelta(seconds=secs)
        return to_us(wall.replace(tzinfo=self.zone, fold=0))

    @cache  # noqa: B019 (one instance per test case; the leak is bounded)
    def intervals_of(self, day: date) -> tuple[tuple[int, int], ...]:
        if day in self.overrides:
            spec = self.overrides[day]
        elif self._is_holiday(day):
            spec = []
        else:
            spec = self.weekly[day.weekday()]
        out = []
        for start, end in spec:
            a = self._local_to_us(day, start)
            b = self._local_to_us(day, end)
            if a < b:
                out.append((a, b))
        return tuple(out)

    def _local_date(self, us: int) -> date:
        return (EPOCH + timedelta(microseconds=us)).astimezone(self.zone).date()

    def open_pieces(self, a: int, b: int) -> list[tuple[int, int]]:
        """Disjoint sorted open intervals intersected with [a, b)."""
        if a >= b:
            return []
        if self.always:
            return [(a, b)]
        first = self._local_date(a) - timedelta(days=2)
        last = self._local_date(b) + timedelta(days=1)
        raw = []
        day = first
        while day <= last:
            raw.extend(self.intervals_of(day))
            day += timedelta(days=1)
        raw.sort()
        merged: list[list[int]] = []
        for x, y in raw:
            if merged and x <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], y)
            else:
                merged.append([x, y])
        out = []
        for x, y in merged:
            x, y = max(x, a), min(y, b)
            if x < y:
                out.append((x, y))
        return out

    def elapsed(self, a: int, b: int) -> int:
        if b < a:
            return -self.elapsed(b, a)
        return sum(y - x for x, y in self.open_pieces(a, b))


ALWAYS = RefCalendar(None)


# ---------------------------------------------------------------- conditions
def same(a: Any, b: Any) -> bool:
    """Values equal under the policy language: same kind (text, number,
    boolean, list, object) and equal; 1 equals 1.0, true never equals 1."""

    def kind(v: Any) -> str | None:
        return {bool: "b", str: "s", int: "n", float: "n", list: "l", dict: "d"}.get(type(v))

    if kind(a) is None or kind(a) != kind(b):
        return False
    if kind(a) == "l":
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if kind(a) == "d":
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _operator_holds(op: str, operand: Any, have: Any) -> bool:
    """SEMANTICS 8; ``have`` is None for a missing (absent or null) attribute."""
    missing = have is None
    if op == "exists":
        return (not missing) is bool(operand)
    if op == "ne":
        return missing or not same(have, operand)
    if op == "not_in":
        return missing or not any(same(have, x) for x in operand)
    if missing:
        return False
    if op == "eq":
        return same(have, operand)
    if op == "in":
        return any(same(have, x) for x in operand)
    if op in ("gt", "gte", "lt", "lte"):
        if not _is_number(have):
            return False
        return {
            "gt": have > operand,
            "gte": have >= operand,
            "lt": have < operand,
            "lte": have <= operand,
        }[op]
    if op == "matches":
        return isinstance(have, str) and re.search(operand, have) is not None
    if op == "contains":
        if isinstance(have, list):
            return any(same(x, operand) for x in have)
        if isinstance(have, str):
            return isinstance(operand, str) and operand in have
        return False
    raise ValueError(f"unknown operator {op!r}")


def holds(condition: dict | None, attrs: dict) -> bool:
    """A condition map (SEMANTICS 8) against attributes (None values count as missing)."""
    for key, want in (condition or {}).items():
        if key == "any":
            if not any(holds(c, attrs) for c in want):
                return False
        elif key == "all":
            if not all(holds(c, attrs) for c in want):
                return False
        elif key == "not":
            if holds(want, attrs):
                return False
        else:
            have = attrs.get(key)
            if isinstance(want, dict):
                if not all(_operator_holds(op, operand, have) for op, operand in want.items()):
                    return False
            elif isinstance(want, list):
                if have is None or not any(same(have, w) for w in want):
                    return False
            elif have is None or not same(have, want):
                return False
    return True


def derive(rules: list[dict], raw: dict) -> dict:
    """SEMANTICS 9: rules in order, each seeing the result of those before it."""
    attrs = {k: v for k, v in raw.items() if v is not None}
    for rule in rules:
        if "when" not in rule or holds(rule["when"], attrs):
            for key, value in (rule.get("set") or {}).items():
                if value is None:
                    attrs.pop(key, None)
                else:
                    attrs[key] = value
    return attrs


# ------------------------------------------------------------------ policies
def _bound_us(value: Any) -> int:
    """An `effective` bound: an instant with an offset, or a date (00:00 UTC)."""
    if isinstance(value, datetime):
        return parse_instant(value)
    if isinstance(value, date):
        return to_us(datetime.combine(value, time(), tzinfo=UTC))
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return to_us(datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC))
    return parse_instant(text)


def _key_text(key: Any) -> str:
    """A YAML mapping key read as text (SEMANTICS 10)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (date, datetime)):
        return key.isoformat()
    return str(key)


class Policy:
    def __init__(self, doc: dict, pf: PolicyFile):
        self.pf = pf
        self.name = doc["name"]
        self.match = doc.get("match") or {}
        self.calendar_spec = doc.get("calendar", "24x7")
        self.hours = doc.get("hours", "business")
        self.targets = doc.get("targets") or {}
        eff = doc.get("effective")
        self.since = _bound_us(eff["from"]) if eff and eff.get("from") is not None else None
        self.until = _bound_us(eff["until"]) if eff and eff.get("until") is not None else None

    def effective_for(self, created: int) -> bool:
        return (self.since is None or self.since <= created) and (self.until is None or created < self.until)

    def matches(self, attrs: dict) -> bool:
        return holds(self.match, attrs)

    def calendar(self, attrs: dict) -> RefCalendar:
        spec = self.calendar_spec
        if isinstance(spec, dict):
            value = attrs.get(spec["by"])
            name = spec["default"]
            if isinstance(value, str):
                for key, cal in (spec.get("map") or {}).items():
                    if _key_text(key) == value:
                        name = cal
            return self.pf.calendar(name, attrs)
        return self.pf.calendar(spec, attrs)

    def _resolve(self, value: Any) -> tuple[int, str]:
        if isinstance(value, dict):
            return parse_duration_us(value["within"]), value.get("hours", self.hours)
        return parse_duration_us(value), self.hours

    def target(self, metric: str, attrs: dict) -> tuple[int, str] | None:
        if metric not in self.targets:
            return None
        value = self.targets[metric]
        if isinstance(value, dict) and "within" not in value:
            priority = attrs.get("priority")
            keys = [k for k in value if k != "default" and same(k, priority)]
            if priority is not None and keys:
                return self._resolve(value[keys[0]])
            if "default" in value:
                return self._resolve(value["default"])
            return None
        return self._resolve(value)


class PolicyFile:
    def __init__(self, doc: dict):
        self.calendar_specs = dict(doc.get("calendars") or {})
        self._calendars: dict[tuple[str, str | None], RefCalendar] = {}
        self.derive_rules = list(doc.get("derive") or [])
        self.policies = [Policy(p, self) for p in doc.get("policies") or []]
        self.done = set(doc.get("done_statuses", ["solved", "closed"]))
        options = doc.get("metrics") or {}
        self.pauses = {}
        self.responders = {}
        self.pause_when = {}
        self.field = {}
        for metric in METRICS:
            opt = options.get(metric) or {}
            self.pauses[metric] = set(opt.get("pause_statuses", DEFAULT_PAUSES[metric]))
            self.responders[metric] = set(opt.get("responders", ["agent"]))
            self.pause_when[metric] = opt.get("pause_when")
            self.field[metric] = opt.get("field", "group")

    def calendar(self, name: str, attrs: dict) -> RefCalendar:
        """The named calendar, read in the zone the attributes pick (SEMANTICS 10)."""
        if name == "24x7":
            return ALWAYS
        spec = self.calendar_specs[name]
        zone = spec.get("timezone", "UTC")
        if isinstance(zone, dict):
            value = attrs.get(zone["by"])
            zone = value if isinstance(value, str) and value in KNOWN_ZONES else zone["default"]
        key = (name, zone)
        if key not in self._calendars:
            self._calendars[key] = RefCalendar(spec, zone)
        return self._calendars[key]

    def policy_for(self, attrs: dict, created: int) -> Policy | None:
        for policy in self.policies:
            if policy.effective_for(created) and policy.matches(attrs):
                return policy
        return None


# -------------------------------------------------------------------- ticket
class Cycle:
    def __init__(self, start: int, judge_attrs: dict | None = None):
        self.start = start
        self.end: int | None = None
        self.reason: str | None = None  # "response", "done" or "change"
        self.judge_attrs = judge_attrs  # group_ownership: judged at its start


def _merge(pieces: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for x, y in sorted(pieces):
        if out and x <= out[-1][1]:
            out[-1][1] = max(out[-1][1], y)
        else:
            out.append([x, y])
    return [(x, y) for x, y in out]


class Ticket:
    def __init__(self, tid: str, events: list[tuple[int, int, dict]], now: int, pf: PolicyFile):
        """events: (at_us, input_index, event) already filtered to at <= now."""
        self.tid = tid
        self.now = now
        self.pf = pf
        self.events = sorted(events, key=lambda e: (e[0], 0 if e[2]["type"] == "created" else 1, e[1]))
        assert self.events and self.events[0][2]["type"] == "created"
        self.created_at = self.events[0][0]
        # after each event: (instant, status, attributes with the derive rules applied)
        self.after: list[tuple[int, str, dict]] = []
        raw: dict = {}
        status = "new"
        for at, _, ev in self.events:
            if ev["type"] in ("created", "update"):
                raw.update(ev.get("fields") or {})
            if ev["type"] == "created":
                status = ev.get("status", "new")
            elif ev["type"] == "status":
                status = ev["status"]
            self.after.append((at, status, derive(pf.derive_rules, raw)))

    # -- attributes and status
    def attrs_at(self, t: int) -> dict:
        attrs: dict = {}
        for at, _, derived in self.after:
            if at > t:
                break
            attrs = derived
        return attrs

    def steps(self) -> list[tuple[int, str, dict]]:
        """(instant, status, attributes) after every event at that instant, one per instant."""
        out: list[tuple[int, str, dict]] = []
        for step in self.after:
            if out and out[-1][0] == step[0]:
                out[-1] = step
            else:
                out.append(step)
        return out

    def paused_set(self, pausing) -> tuple[list[tuple[int, int]], bool]:
        """Paused intervals over [created, now) and whether paused at now."""
        steps = self.steps()
        pieces = []
        for i, (t, status, attrs) in enumerate(steps):
            nxt = steps[i + 1][0] if i + 1 < len(steps) else self.now
            if pausing(status, attrs) and t < nxt:
                pieces.append((t, nxt))
        return _merge(pieces), pausing(steps[-1][1], steps[-1][2])

    # -- cycles per metric
    def cycles(self, metric: str) -> list[Cycle]:
        done = self.pf.done
        responders = self.pf.responders[metric]
        field = self.pf.field[metric]
        out: list[Cycle] = []
        open_cycle: Cycle | None = None
        status = None
        responded = False
        for i, (at, _, ev) in enumerate(self.events):
            kind = ev["type"]
            became_done = False
            left_done = False
            is_response = False
            is_customer = False
            if kind == "created":
                status = ev.get("status", "new")
                became_done = status in done
            elif kind == "status":
                became_done = status not in done and ev["status"] in done
                left_done = status in done and ev["status"] not in done
                status = ev["status"]
            elif kind == "message" and ev.get("public", True) is not False:
                is_response = ev.get("author") in responders
                is_customer = ev.get("author") == "customer"

            if metric == "first_response":
                if kind == "created":
                    open_cycle = Cycle(at)
                    out.append(open_cycle)
                if open_cycle is not None and is_response:
                    open_cycle.end, open_cycle.reason = at, "response"
                    open_cycle = None
                if open_cycle is not None and became_done:
                    open_cycle.end, open_cycle.reason = at, "done"
                    open_cycle = None
            elif metric == "next_response":
                if open_cycle is not None and is_response:
                    open_cycle.end, open_cycle.reason = at, "response"
                    open_cycle = None
                if is_response:
                    responded = True
                if is_customer and open_cycle is None and responded:
                    open_cycle = Cycle(at)
                    out.append(open_cycle)
                if open_cycle is not None and became_done:
                    open_cycle.end, open_cycle.reason = at, "done"
                    open_cycle = None
            elif metric in ("periodic_update", "pausable_update"):
                if is_response:
                    if open_cycle is not None:
                        open_cycle.end, open_cycle.reason = at, "response"
                        open_cycle = None
                    if status not in done:
                        open_cycle = Cycle(at)
                        out.append(open_cycle)
                if open_cycle is not None and became_done:
                    open_cycle.end, open_cycle.reason = at, "done"
                    open_cycle = None
            elif metric == "group_ownership":
                attrs_after = self.after[i][2]
                after = attrs_after.get(field)
                before = self.after[i - 1][2].get(field) if i > 0 else None
                if became_done:
                    if open_cycle is not None:
                        open_cycle.end, open_cycle.reason = at, "done"
                        open_cycle = None
                elif status in done:
                    pass  # while done no cycle is open and changes start none
                elif left_done:
                    if after is not None:
                        open_cycle = Cycle(at, attrs_after)
                        out.append(open_cycle)
                else:
                    changed = (before is None) != (after is None) or (
                        before is not None and not same(before, after)
                    )
                    if changed:
                        if open_cycle is not None:
                            open_cycle.end, open_cycle.reason = at, "change"
                            open_cycle = None
                        if after is not None:
                            open_cycle = Cycle(at, attrs_after)
                            out.append(open_cycle)
            else:
                if kind == "created":
                    out.append(Cycle(at))
                cycle = out[0]
                if became_done:
                    cycle.end, cycle.reason = at, "done"
                elif kind == "status" and left_done:
                    cycle.end, cycle.reason = None, None
        return out

    # -- judging
    def rows(self) -> list[dict]:
        rows = []
        for metric in sorted(METRICS):
            pause_statuses = self.pf.pauses[metric]
            when = self.pf.pause_when[metric]
            with_done = metric in DONE_CLOCKS

            def pausing(s, attrs, p=pause_statuses, w=when, d=with_done):
                if s in p or (d and s in self.pf.done):
                    return True
                return w is not None and holds(w, attrs)

            paused_all, paused_now = self.paused_set(pausing)
            for number, cycle in enumerate(self.cycles(metric), start=1):
                row = self.judge(metric, number, cycle, paused_all, paused_now)
                if row is not None:
                    rows.append(row)
        return rows

    def judge(self, metric, number, cycle: Cycle, paused_all, paused_now) -> dict | None:
        now = self.now
        is_open = cycle.end is None
        end = now if is_open else cycle.end
        attrs = cycle.judge_attrs if cycle.judge_attrs is not None else self.attrs_at(end)
        policy = self.pf.policy_for(attrs, self.created_at)
        if policy is None:
            return None
        target = policy.target(metric, attrs)
        if target is None:
            return None
        target_us, kind = target
        calendar = policy.calendar(attrs) if kind == "business" else ALWAYS

        # paused stretches clipped to [start, end)
        listed: list[list[int | None]] = []
        for x, y in paused_all:
            x, y = max(x, cycle.start), min(y, end)
            if x < y:
                listed.append([x, y])
        if is_open and paused_now:
            if listed and listed[-1][1] == now:
                listed[-1][1] = None
            else:
                listed.append([now, None])
        paused_us = sum((y if y is not None else now) - x for x, y in listed)

        # running stretches
        running = []
        cursor = cycle.start
        for x, y in listed:
            y = now if y is None else y
            if cursor < x:
                running.append((cursor, x))
            cursor = max(cursor, y)
        if cursor < end:
            running.append((cursor, end))

        pieces = [p for s, e in running for p in calendar.open_pieces(s, e)]
        elapsed = sum(y - x for x, y in pieces)

        due = None
        if target_us == 0:
            due = cycle.start
        else:
            acc = 0
            for x, y in pieces:
                if acc + (y - x) >= target_us:
                    due = x + (target_us - acc)
                    break
                acc += y - x
        runs_now = is_open and not paused_now
        if due is None and runs_now:
            rest = target_us - elapsed
            if kind == "calendar":
                due = now + rest
            else:
                acc = 0
                for x, y in calendar.open_pieces(now, now + PROJECTION_LIMIT_US):
                    if acc + (y - x) >= rest:
                        due = x + (rest - acc)
                        break
                    acc += y - x

        breached = elapsed > target_us
        if is_open:
            state = "breached" if breached else ("paused" if paused_now else "running")
        elif breached:
            state = "breached"
        elif cycle.reason == "done" and metric in CANCEL_ON_DONE:
            state = "cancelled"
        else:
            state = "achieved"

        return {
            "ticket_id": self.tid,
            "policy": policy.name,
            "metric": metric,
            "cycle": number,
            "started_at": format_instant(cycle.start),
            "ended_at": format_instant(cycle.end),
            "state": state,
            "target_seconds": seconds(target_us),
            "hours": kind,
            "elapsed_seconds": seconds(elapsed),
            "remaining_seconds": seconds(target_us - elapsed),
            "breached": breached,
            "due_at": format_instant(due),
            "paused_seconds": seconds(paused_us),
            "paused": [[format_instant(x), format_instant(y)] for x, y in listed],
        }


# ----------------------------------------------------------------- evaluate
def evaluate(policy_doc: dict, events: list[dict], now: Any) -> list[dict]:
    """Rows of ``sla evaluate --format jsonl`` in spec order.

    ``events`` are the input lines (dicts) in input order; all valid.
    """
    now_us = parse_instant(now)
    pf = PolicyFile(policy_doc)
    order: dict[str, int] = {}
    per_ticket: dict[str, list] = {}
    for index, ev in enumerate(events):
        tid = str(ev["ticket_id"])
        order.setdefault(tid, index)
        at = parse_instant(ev["at"])
        bucket = per_ticket.setdefault(tid, [])
        if at <= now_us:
            bucket.append((at, index, ev))
    rows: list[dict] = []
    for tid in sorted(order, key=order.__getitem__):
        evs = per_ticket[tid]
        if not any(e[2]["type"] == "created" for e in evs):
            continue  # created after now: no rows
        rows.extend(Ticket(tid, evs, now_us, pf).rows())
    return rows


def evaluate_files(policy_path, events_path, now: Any) -> list[dict]:
    import yaml

    with open(policy_path, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    with open(events_path, encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle if line.strip()]
    return evaluate(doc, events, now)
