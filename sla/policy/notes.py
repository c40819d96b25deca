"""Notes on a valid policy file: what is legal but probably not meant.

``sla validate`` prints them after a file's summary, located like errors
(``file:line:column: note: at PATH: message; suggestion``); ``--strict``
makes them fail.  The notes: a zone that is a fixed offset (``EST``,
``Etc/GMT+5``), another name for UTC, legacy (``EST5EDT``) or a deprecated
alias (``US/Eastern``); ``d`` in a business-hours target (``1d`` is 24
business hours, about three working days); a bare number under a minute as
a target (seconds); priority keys differing only in case or spaces from a
priority used elsewhere (keys match exactly, so one never applies); metric
options or a custom metric no policy targets; a policy or derive rule that
never applies.

:func:`find_notes` reads the parsed document (positions, text as written)
and the compiled :class:`PolicySet` (meaning), and no file: what the tz
database says about zone names comes in as :class:`ZoneNames`, read by the
caller; without it a short list of well-known aliases serves.

>>> from sla.policy.compile import compile_document
>>> from sla.policy.source import parse_yaml
>>> doc = parse_yaml('''
... calendars: {office: {timezone: US/Eastern, hours: {mon-fri: ["09:00-17:00"]}}}
... policies: [{name: a, calendar: office, targets: {resolution: 1d}}]
... ''', "p.yaml")
>>> for note in find_notes(doc, compile_document(doc)):
...     print(note.render())
p.yaml:2:22: note: at calendars.office.timezone: 'US/Eastern' is a deprecated alias of America/New_York; write America/New_York
p.yaml:3:50: note: at policies[0].targets.resolution: '1d' is 24h of business hours (a d is always 24 hours), about 3 working days on calendar 'office'; write 24h to say so, or {within: 1d, hours: calendar} for 24h of the clock
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from sla.policy.duration import parse_duration_us
from sla.policy.messages import key_text
from sla.policy.model import CalendarChoice
from sla.policy.runtime import CompiledPolicy, PolicySet
from sla.policy.source import BoolKey, Located, render_path
from sla.timefmt import duration_text

Loc = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Note:
    """One note: where (file, line, column, path) and what."""

    file: str | None
    line: int | None
    column: int | None
    path: str
    message: str

    def render(self) -> str:
        """``file:line:column: note: at PATH: message``, as errors are located."""
        where = self.file or "<policies>"
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: note: at {self.path}: {self.message}"


# ------------------------------------------------------------ time zones
@dataclass(frozen=True)
class ZoneNames:
    """What the tz database says about names: ``regions`` (zone.tab's
    Area/City names, links among them too) and ``links`` (alias -> target,
    from tzdata.zi's ``L`` lines)."""

    regions: frozenset[str] = frozenset()
    links: Mapping[str, str] = field(default_factory=dict)


def _pairs(text: str) -> dict[str, str]:
    """``"a=b c=d"`` -> ``{"a": "b", "c": "d"}``: a table written compactly."""
    return dict(pair.split("=", 1) for pair in text.split())


#: Deprecated aliases worth a note when no tz data is at hand (the tz
#: database's ``backward`` file has the full list).
KNOWN_ALIASES = _pairs(
    "US/Eastern=America/New_York US/Central=America/Chicago US/Mountain=America/Denver "
    "US/Pacific=America/Los_Angeles US/Arizona=America/Phoenix US/Hawaii=Pacific/Honolulu "
    "Canada/Eastern=America/Toronto GB=Europe/London Europe/Kiev=Europe/Kyiv Asia/Calcutta=Asia/Kolkata "
    "Japan=Asia/Tokyo America/Buenos_Aires=America/Argentina/Buenos_Aires"
)
_UTC_NAMES = {"UTC", "Etc/UTC"}
_UTC_ALIASES = {"GMT", "UCT", "Zulu", "Universal", "Greenwich", "GMT0", "GMT+0", "GMT-0"}
_UTC_ALIASES |= {f"Etc/{name}" for name in _UTC_ALIASES} | {"Etc/GMT"}
#: Zones that are one fixed offset, named like a region's time: hours from UTC.
_FIXED = {"EST": -5, "MST": -7, "HST": -10}
#: Legacy zones with US rules: the same as one region's zone (unambiguous).
_POSIX_RULES = _pairs(
    "EST5EDT=America/New_York CST6CDT=America/Chicago MST7MDT=America/Denver PST8PDT=America/Los_Angeles"
)
#: Legacy European zones: one of many regions share their rules.
_EUROPEAN = {"CET": "Europe/Berlin", "MET": "Europe/Berlin", "EET": "Europe/Athens", "WET": "Europe/Lisbon"}
#: A region to show as an example for a fixed offset (hours from UTC).
_REGION_FOR_OFFSET = _pairs(
    "-10=Pacific/Honolulu -9=America/Anchorage -8=America/Los_Angeles -7=America/Denver "
    "-6=America/Chicago -5=America/New_York -3=America/Sao_Paulo 0=Europe/London 1=Europe/Berlin "
    "2=Europe/Athens 3=Europe/Istanbul 8=Asia/Singapore 9=Asia/Tokyo 10=Australia/Sydney"
)
_ETC_OFFSET = re.compile(r"^Etc/GMT([+-])([0-9]{1,2})$")


def zone_note(name: str, zones: ZoneNames | None = None) -> str | None:
    """What to say about a calendar's zone name, or None for a region name or UTC.

    >>> zone_note("Etc/GMT+5")
    "'Etc/GMT+5' is a fixed offset, UTC-05:00 all year with no daylight saving time (Etc/GMT signs are inverted); use a region name like America/New_York"
    >>> zone_note("Europe/Berlin") is None, zone_note("UTC") is None
    (True, True)
    """
    if name in _UTC_NAMES:
        return None
    links = zones.links if zones is not None else {}
    if name in _UTC_ALIASES or links.get(name) in ("Etc/UTC", "Etc/GMT"):
        return (
            f"{name!r} is another name for UTC (UTC+00:00 all year, no summer time); "
            "write UTC, or a region name like Europe/London for UK time"
        )
    etc = _ETC_OFFSET.match(name)
    if etc or name in _FIXED:
        hours = (-1 if etc[1] == "+" else 1) * int(etc[2]) if etc else _FIXED[name]
        region = _REGION_FOR_OFFSET.get(str(hours), "Europe/Berlin or America/New_York")
        inverted = " (Etc/GMT signs are inverted)" if etc else ""
        return (
            f"{name!r} is a fixed offset, UTC{hours:+03d}:00 all year with no daylight saving time{inverted}; "
            f"use a region name like {region}"
        )
    if name in _POSIX_RULES:
        return f"{name!r} is a legacy POSIX-style zone; write {_POSIX_RULES[name]} (the same rules)"
    if name in _EUROPEAN:
        return f"{name!r} is a legacy zone name; use the region name of the place, like {_EUROPEAN[name]}"
    if zones is None:
        target = KNOWN_ALIASES.get(name)
    elif name in zones.regions:
        return None
    else:
        target, seen = links.get(name), {name}
        while target is not None and target in links and target not in seen:  # a link to a link
            seen.add(target)
            target = links[target]
    if target is None:
        return None
    return f"{name!r} is a deprecated alias of {target}; write {target}"


# ------------------------------------------------------------ the walk
def find_notes(located: Located, policies: PolicySet, zones: ZoneNames | None = None) -> list[Note]:
    """Every note on a file that compiled into ``policies``, in file order."""
    data: dict[Any, Any] = located.data if isinstance(located.data, dict) else {}
    found: list[tuple[Loc, str]] = []
    for name, calendar in _items(data.get("calendars")):
        zone = calendar.get("timezone") if isinstance(calendar, dict) else None
        loc: Loc = ("calendars", name, "timezone")
        if isinstance(zone, dict):
            zone, loc = zone.get("default"), loc + ("default",)
        found += [(loc, said)] if isinstance(zone, str) and (said := zone_note(zone, zones)) else []
    for policy, raw in zip(policies.policies, _list(data.get("policies")), strict=False):
        for metric, target in _items(raw.get("targets") if isinstance(raw, dict) else None):
            for loc, value, hours in _durations(target, ("policies", policy.index, "targets", metric)):
                said = _duration_note(value, hours or policy.hours, policy)
                found += [(loc, said)] if said else []
    found += _priority_notes(data)
    for name, _options in _items(data.get("metrics")):
        definition = policies.metrics.get(name)
        if definition is None or name in policies.active_metrics:
            continue
        found.append(
            (
                ("metrics", name),
                f"options for {name} have no effect: no policy has a target for it"
                if definition.builtin
                else f"custom metric {name!r} is never measured: no policy has a target for it; "
                "add one under a policy's targets, or remove the metric",
            )
        )
    found += _never_notes(policies)
    notes = [Note(located.source, *located.position(loc), render_path(loc), said) for loc, said in found]
    return sorted(notes, key=lambda n: (n.line or 0, n.column or 0))


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(value: object) -> Iterator[tuple[str, object]]:
    """A mapping's entries with keys as path parts (dates as YYYY-MM-DD)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key_text(key), item


def _durations(target: object, loc: Loc) -> Iterator[tuple[Loc, object, str | None]]:
    """Each duration of a target as written, with its place and its own hours."""
    if isinstance(target, dict) and "within" in target:
        hours = target.get("hours")
        yield loc + ("within",), target["within"], hours if isinstance(hours, str) else None
    elif isinstance(target, dict):
        for key, item in _items(target):
            yield from _durations(item, loc + (key,))
    else:
        yield loc, target, None


_DAYS = re.compile(r"[0-9][dD]")


def _duration_note(value: object, hours: str, policy: CompiledPolicy) -> str | None:
    """A business-hours duration written in days, or a bare number under a minute."""
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isascii() and value.isdigit()
    ):
        seconds = float(value)
        if seconds < 60:
            shown = f"{seconds:g}"
            return (
                f"{shown} is {shown} seconds (a bare number counts seconds); "
                f"write {shown}s if that is meant, or give a unit like {shown}m or {shown}h"
            )
        return None
    schedule = policy.calendar.schedule
    if not isinstance(value, str) or not _DAYS.search(value) or hours != "business" or schedule is None:
        return None
    us = parse_duration_us(value)
    as_hours = duration_text(us, business=True, exact=True)
    open_days = [sum(s.end - s.start for s in day) for day in schedule.days if day]
    per_day = sum(open_days) / len(open_days)
    days = f"{us / 1_000_000 / per_day:.1f}".removesuffix(".0")
    choice = policy.spec.calendar
    name = choice.default if isinstance(choice, CalendarChoice) else policy.calendar_name
    return (
        f"{value!r} is {as_hours} of business hours (a d is always 24 hours), about {days} working "
        f"day{'' if days == '1' else 's'} on calendar {name!r}; write {as_hours} to say so, "
        f"or {{within: {value}, hours: calendar}} for {as_hours} of the clock"
    )


# ------------------------------------------------------------ priorities
def _condition_priorities(condition: object, loc: Loc) -> Iterator[tuple[Loc, object]]:
    """The priorities a condition map compares with, and where."""
    for key, value in _items(condition):
        if key in ("any", "all") and isinstance(value, list):
            for index, part in enumerate(value):
                yield from _condition_priorities(part, loc + (key, index))
        elif key == "not":
            yield from _condition_priorities(value, loc + (key,))
        elif key == "priority":
            yield from _values(value, loc + (key,))


def _values(value: object, loc: Loc) -> Iterator[tuple[Loc, object]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield loc + (index,), item
    elif isinstance(value, dict):
        for op, operand in _items(value):
            if op in ("eq", "ne", "in", "not_in"):
                yield from _values(operand, loc + (op,))
    else:
        yield loc, value


def _priority_notes(data: dict[Any, Any]) -> list[tuple[Loc, str]]:
    """Target priority keys that differ only in case or spaces from another spelling."""
    named: list[tuple[Loc, object]] = []  # priorities the file names outside targets
    for index, rule in enumerate(_list(data.get("derive"))):
        if isinstance(rule, dict):
            named += _condition_priorities(rule.get("when"), ("derive", index, "when"))
            sets = rule.get("set")
            if isinstance(sets, dict) and "priority" in sets:
                named.append((("derive", index, "set", "priority"), sets["priority"]))
    for name, options in _items(data.get("metrics")):
        if isinstance(options, dict):
            named += _condition_priorities(options.get("pause_when"), ("metrics", name, "pause_when"))
    keys: list[tuple[Loc, str, dict[Any, Any]]] = []  # (place, key, its target)
    for index, raw in enumerate(_list(data.get("policies"))):
        if isinstance(raw, dict):
            named += _condition_priorities(raw.get("match"), ("policies", index, "match"))
            for metric, target in _items(raw.get("targets")):
                if isinstance(target, dict) and "within" not in target:
                    at: Loc = ("policies", index, "targets", metric)
                    keys += [(at + (k,), k, target) for k in target if _text(k) and k != "default"]
    spellings: dict[str, dict[str, list[Loc]]] = {}  # normal form -> spelling -> places
    for loc, value in named + [(loc, key) for loc, key, _target in keys]:
        if _text(value):
            spellings.setdefault(" ".join(value.split()).casefold(), {}).setdefault(value, []).append(loc)
    declared = {value for _loc, value in named}
    out: list[tuple[Loc, str]] = []
    for loc, key, target in keys:
        forms = spellings[" ".join(key.split()).casefold()]
        best = max(forms, key=lambda s: (s in declared, len(forms[s]), -list(forms).index(s)))
        if key == best:
            continue
        if best in target:
            effect = f"gets the {best!r} entry, never this one"
        elif "default" in target:
            effect = f"gets the default {loc[3]} target here"
        else:
            effect = f"gets no {loc[3]} target from this policy"
        out.append(
            (
                loc,
                f"priority key {key!r} differs from {best!r} (at {render_path(forms[best][0])}) only in "
                f"case or spaces; priorities match exactly, so a ticket with priority {best!r} {effect}; "
                f"did you mean {best!r}?",
            )
        )
    return out


def _text(value: object) -> TypeGuard[str]:
    """A text priority (a boolean key kept apart from 1 is no text)."""
    return isinstance(value, str) and not isinstance(value, BoolKey)


# ------------------------------------------------------------ never applies
def _never_notes(policies: PolicySet) -> list[tuple[Loc, str]]:
    """Policies and derive rules that can never apply."""
    out: list[tuple[Loc, str]] = []
    for index, rule in enumerate(policies.derive_rules):
        if rule.condition is not None and rule.condition.never():
            out.append((("derive", index, "when"), "never applies, its when can never hold"))
    catch_all: CompiledPolicy | None = None
    for policy in policies.policies:
        if policy.condition.never():
            out.append((("policies", policy.index, "match"), "never applies, its match can never hold"))
        elif catch_all is not None:
            out.append(
                (
                    ("policies", policy.index),
                    f"never applies, policy {catch_all.index + 1} ({catch_all.name}) matches every ticket; "
                    "move it before that policy, or remove it",
                )
            )
        elif not policy.condition.keys() and policy.spec.effective is None:
            catch_all = policy  # matches every ticket of every creation date
    return out
