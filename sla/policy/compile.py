"""Loading a policy file into a :class:`PolicySet`, the compiled runtime form
the engine and embedders share: calendars built, targets in microseconds,
metric definitions resolved, and one matching rule.

>>> policies = load_policies('''
... policies:
...   - name: everyone
...     targets: {first_response: 1h}
... ''')
>>> policies.policy_for({"channel": "email"}).name
'everyone'
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from sla.calendar.hours import DAY_NAMES, DAY_SECONDS, WEEK_SECONDS, Shift, check_no_overlap, parse_day_key
from sla.calendar.index import ALWAYS_OPEN, Calendar, load_zone
from sla.engine.metrics import BUILTIN_METRICS, MetricDef, Trigger, finish, with_options
from sla.errors import CalendarError, PolicyError, Problem
from sla.policy.model import (
    TOP_LEVEL_KEYS,
    CalendarSpec,
    Condition,
    LocatedValueError,
    MetricOptions,
    Policy,
    PolicyFile,
    _show,
    json_schema,
)
from sla.policy.source import Located, parse_yaml, read_document, render_path

BUSINESS = "business"
CALENDAR = "calendar"


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A target as it applies to one cycle: how long, in which hours, on which calendar."""

    us: int
    hours: str
    calendar: Calendar

    @property
    def seconds(self) -> float:
        return self.us / 1_000_000


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    name: str
    index: int
    match: tuple[tuple[str, object, bool], ...]  # (attribute, value, value is a list)
    calendar: Calendar
    calendar_name: str
    hours: str
    spec: Policy

    def matches(self, attributes: Mapping[str, object]) -> bool:
        for key, wanted, is_list in self.match:
            if key not in attributes:
                return False
            value = attributes[key]
            if is_list:
                if value not in wanted:  # type: ignore[operator]
                    return False
            elif value != wanted:
                return False
        return True

    def target(self, metric: str, priority: object) -> ResolvedTarget | None:
        spec = self.spec.targets.get(metric)
        if spec is None:
            return None
        within = spec.for_priority(priority)
        if within is None:
            return None
        hours = within.hours or self.hours
        return ResolvedTarget(within.within, hours, self.calendar if hours == BUSINESS else ALWAYS_OPEN)


class PolicySet:
    """A validated policy file, ready for the engine."""

    def __init__(
        self,
        spec: PolicyFile,
        calendars: dict[str, Calendar],
        metrics: dict[str, MetricDef],
        policies: list[CompiledPolicy],
        source: str | None = None,
    ):
        self.spec = spec
        self.source = source
        self.calendars = calendars
        self.metrics = metrics
        self.policies = policies
        self.done_statuses = frozenset(spec.done_statuses)
        targeted = {name for p in policies for name in p.spec.targets}
        #: The metrics some policy has a target for, in name order: the only ones worth running.
        self.active_metrics = tuple(sorted(name for name in metrics if name in targeted))
        self._cache: dict[tuple, CompiledPolicy | None] = {}

    def policy_for(self, attributes: Mapping[str, object]) -> CompiledPolicy | None:
        """The first policy, in file order, whose ``match`` holds for the attributes."""
        try:
            key = tuple(sorted(attributes.items()))
            hash(key)
        except TypeError:
            key = None
        if key is not None:
            try:
                return self._cache[key]
            except KeyError:
                pass
        found = next((p for p in self.policies if p.matches(attributes)), None)
        if key is not None and len(self._cache) < 100_000:
            self._cache[key] = found
        return found

    def target_for(
        self, attributes: Mapping[str, object], metric: str
    ) -> tuple[CompiledPolicy, ResolvedTarget] | None:
        """The policy in force for the attributes and its target for a metric, if any."""
        policy = self.policy_for(attributes)
        if policy is None:
            return None
        target = policy.target(metric, attributes.get("priority"))
        return None if target is None else (policy, target)


# ---------------------------------------------------------------- loading
def load_policies(source: str | Path | Mapping[str, Any]) -> PolicySet:
    """Load and validate a policy file (a path, YAML/JSON text, or a mapping).

    A string naming a ``.yaml``/``.yml``/``.json``/``.toml`` file (one line)
    is read as a path; any other string is YAML (JSON is YAML too).

    Raises :class:`~sla.errors.PolicyError` listing every problem with file,
    line and path.
    """
    if isinstance(source, Mapping):
        located = Located(dict(source), None)
    elif isinstance(source, Path) or (
        isinstance(source, str)
        and "\n" not in source
        and Path(source).suffix.lower() in {".yaml", ".yml", ".json", ".toml"}
    ):
        located = read_document(source)
    else:
        located = parse_yaml(str(source))
    return compile_document(located)


# Parts of a pydantic error location that are not keys of the document
# (union branches, tagged unions) are dropped by checking against the data.
def _real_loc(data: object, loc: tuple[object, ...], keep_last: bool) -> tuple[object, ...]:
    out: list[object] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict):
            key = next((k for k in current if k == part or _key_text(k) == _key_text(part)), _MISSING)
            if key is not _MISSING:
                out.append(_key_text(key))
                current = current[key]
                continue
        elif (
            isinstance(current, list)
            and isinstance(part, int)
            and not isinstance(part, bool)
            and 0 <= part < len(current)
        ):
            out.append(part)
            current = current[part]
            continue
        if keep_last and i == len(loc) - 1:
            out.append(part)
    return tuple(out)


_MISSING = object()


def _key_text(key: object) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _suggest(word: object, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unwrap(annotation: object) -> list[object]:
    """The concrete types inside Optional/Union/Annotated."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [t for arg in get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _keys_at(model: type[BaseModel], loc: tuple[object, ...]) -> list[str] | None:
    """The keys a mapping at ``loc`` (relative to ``model``) accepts, if it is a model."""
    candidates: list[object] = [model]
    for part in loc:
        following: list[object] = []
        if isinstance(part, str) and part.startswith("condition-"):
            continue  # a tagged union's branch, not a key
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                info = candidate.model_fields.get(str(part))
                if info is None:
                    info = next((f for f in candidate.model_fields.values() if f.alias == part), None)
                if info is not None:
                    following += _unwrap(info.annotation)
            elif get_origin(candidate) is dict:
                following += _unwrap(get_args(candidate)[1])
            elif get_origin(candidate) is list and isinstance(part, int):
                following += _unwrap(get_args(candidate)[0])
        candidates = following
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return [f.alias or name for name, f in candidate.model_fields.items()]
    return None


_REQUIRED_HINTS = {
    "name": "every policy needs a name",
    "hours": 'a calendar needs weekly hours, like hours: {mon-fri: ["09:00-17:00"]}',
    "within": "write {within: <duration>, hours: business|calendar}",
}

_TYPE_WORDS = {
    "string_type": "text",
    "list_type": "a list, like [a, b]",
    "dict_type": "a mapping of key: value",
    "model_type": "a mapping of key: value",
    "model_attributes_type": "a mapping of key: value",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
}


def _message(item: dict, loc: tuple[object, ...], model: type[BaseModel], base: tuple[object, ...]) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _keys_at(model, tuple(item["loc"])[:-1]) or []
        return f"unknown key {str(loc[-1])!r}{_suggest(loc[-1], known)}" + (
            f"; expected one of {', '.join(known)}" if known and not _suggest(loc[-1], known) else ""
        )
    if kind == "missing":
        hint = _REQUIRED_HINTS.get(str(loc[-1]), "")
        return f"{loc[-1]} is required but missing" + (f"; {hint}" if hint else "")
    if kind in ("dict_type", "model_type") and len(loc) == 2 and loc[0] == "policies":
        return f"{_show(value)} is not a policy; expected a mapping with name, match, calendar, targets"
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{_show(value)} is a number; expected text (quote it: '{value}')"
    if kind in _TYPE_WORDS:
        return (
            f"{_show(value)} is not {_TYPE_WORDS[kind]}"
            if kind not in ("dict_type", "model_type", "model_attributes_type")
            else f"expected a mapping of key: value, got {_show(value)}"
        )
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "")
        options = [o.strip() for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        return f"{_show(value)} is not allowed{_suggest(value, options)}; expected {expected}"
    if kind in ("greater_than", "less_than", "greater_than_equal", "less_than_equal"):
        if "at_percent" in loc:
            return f"{_show(value)} is not a percentage between 0 and 100 (exclusive)"
        return f"{_show(value)} is out of range ({item['msg'].lower()})"
    if kind == "too_short":
        return f"{_show(value)} is empty; give at least one"
    if kind.startswith(("date", "datetime")):
        reason = item["msg"].split(", ", 1)[-1] if ", " in item["msg"] else item["msg"]
        return f"{_show(value)} is not a date ({reason}); expected YYYY-MM-DD like 2026-12-24"
    message = item["msg"]
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    return f"{message} (got {_show(value)})"


def _translate(
    error: ValidationError, data: object, base: tuple[object, ...], model: type[BaseModel], located: Located
) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        raw_loc = base + tuple(item["loc"])
        loc = _real_loc(located.data, raw_loc, keep_last=item["type"] in ("missing", "extra_forbidden"))
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError):
            for subpath, message in cause.items:
                problems.append(
                    located.problem(
                        loc + tuple(_key_text(p) if isinstance(p, date) else p for p in subpath), message
                    )
                )
            continue
        problems.append(located.problem(loc, _message(item, loc, model, base)))
    return problems


def _validate(model, value: object, base: tuple[object, ...], located: Located, problems: list[Problem]):
    """Validate one section; its problems join ``problems`` and None comes back."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems += _translate(exc, value, base, model, located)
        return None


# ------------------------------------------------------------ calendars
_CALENDAR_KEYS = ("timezone", "hours", "holidays", "overrides")
_HOLIDAY_KEYS = ("country", "subdivision", "categories", "dates")


def _as_date(value: object) -> date:
    """A date from a YAML date or a ``YYYY-MM-DD`` string; ValueError with the reason."""
    if isinstance(value, datetime):
        raise ValueError("a date and time, not a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return date.fromisoformat(text)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
    raise ValueError("not a date")


def _date_problem(value: object, reason: str) -> str:
    reason = {"not a date": ""}.get(reason, reason)
    return f"{_show(value)} is not a date{' (' + reason + ')' if reason else ''}; expected YYYY-MM-DD like 2026-12-24"


def _sub(
    loc: tuple[object, ...], calendar_error: CalendarError, fallback: tuple[object, ...]
) -> tuple[object, ...]:
    """A calendar error's own path (``hours.mon-fri[1]``) as a location under ``loc``."""
    sub = getattr(calendar_error, "path", "")
    if not sub:
        return fallback
    out = loc
    for part in sub.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out += (int(part[1:-1]),)
        elif part:
            out += (part,)
    return out


def _intervals(
    value: object, loc: tuple[object, ...], located: Located, problems: list[Problem], closed_ok: bool
) -> list[tuple[int, Shift]] | None:
    """The shifts of one day's value with their list index; problems for each bad one."""
    if value is None and closed_ok:
        return []
    if isinstance(value, str):
        items: list[object] = [value]
        single = True
    elif isinstance(value, list):
        items, single = value, False
    else:
        extra = "; write [] for a closed day" if value is None else ""
        problems.append(
            located.problem(
                loc,
                f"{_show(value)} is not a list of intervals; expected like "
                f'["09:00-12:00", "13:00-17:00"]{extra}',
            )
        )
        return None
    shifts = []
    ok = True
    for i, item in enumerate(items):
        where = loc if single else loc + (i,)
        try:
            shifts.append((i, Shift.parse(item, "")))
        except CalendarError as exc:
            ok = False
            problems.append(located.problem(where, str(exc)))
    return shifts if ok else None


def _week_overlaps(
    entries: list[tuple[int, Shift, str, tuple[object, ...]]],
    calendar: str,
    located: Located,
    problems: list[Problem],
) -> None:
    """Overlaps on the circular week; one problem per pair of written intervals, naming the days."""
    spans = sorted(
        (day * DAY_SECONDS + s.start, day * DAY_SECONDS + s.end, day, s, where)
        for day, s, _label, where in entries
    )
    pairs = list(zip(spans, spans[1:], strict=False))
    if len(spans) > 1:
        first = spans[0]
        pairs.append((spans[-1], (first[0] + WEEK_SECONDS, first[1] + WEEK_SECONDS) + first[2:]))
    found: dict[tuple, list[str]] = {}
    for a, b in pairs:
        if b[0] < a[1]:
            a_day, b_day = DAY_NAMES[a[2]], DAY_NAMES[b[2]]
            if a_day == b_day:
                key = (a[4], b[4], str(a[3]), str(b[3]), "same")
                found.setdefault(key, []).append(a_day)
            else:
                key = (a[4], b[4], str(a[3]), str(b[3]), "spill")
                found.setdefault(key, []).append(f"{a_day} into {b_day}")
    for (a_where, b_where, a_text, b_text, kind), days in found.items():
        if kind == "same":
            message = f"calendar {calendar!r}: intervals {a_text} and {b_text} overlap on {', '.join(days)}"
            problems.append(located.problem(b_where, message))
        else:
            message = (
                f"calendar {calendar!r}: the overnight interval {a_text} runs into {b_text} of the next day "
                f"({', '.join(days)}); end it at or before {b_text.split('-')[0]} or drop one"
            )
            problems.append(located.problem(a_where, message))


def _check_hours(
    hours: object, loc: tuple[object, ...], calendar: str, located: Located, problems: list[Problem]
) -> None:
    if not isinstance(hours, dict):
        problems.append(
            located.problem(
                loc,
                f"{_show(hours)} is not a weekly schedule; expected days to intervals, "
                'like mon-fri: ["09:00-17:00"]',
            )
        )
        return
    named_by: dict[int, str] = {}
    entries: list[tuple[int, Shift, str, tuple[object, ...]]] = []
    broken = False
    for key, value in hours.items():
        key_loc = loc + (_key_text(key),)
        try:
            days = parse_day_key(key, "")
        except CalendarError as exc:
            bad = (
                [
                    part.strip()
                    for piece in str(key).split(",")
                    for part in piece.split("-")
                    if part.strip().lower() not in DAY_NAMES
                ]
                if isinstance(key, str)
                else []
            )
            if bad and len(str(key).split(",")) == len([p for p in str(key).split(",") if p.count("-") <= 1]):
                message = (
                    f"{bad[0]!r} in {str(key)!r} is not a day{_suggest(bad[0].lower(), DAY_NAMES)}; expected "
                    "mon, tue, wed, thu, fri, sat or sun, a range like mon-fri or a list like mon,wed"
                )
            else:
                message = str(exc)
            problems.append(located.problem(key_loc, message))
            broken = True
            days = []
        for day in days:
            if day in named_by:
                problems.append(
                    located.problem(
                        key_loc,
                        f"calendar {calendar!r}: {DAY_NAMES[day]} is named twice "
                        f"({named_by[day]!r} and {key!r}); give each day once",
                    )
                )
                broken = True
            else:
                named_by[day] = str(key)
        shifts = _intervals(value, key_loc, located, problems, closed_ok=False)
        if shifts is None:
            broken = True
            continue
        for day in days:
            for index, shift in shifts:
                where = key_loc if isinstance(value, str) else key_loc + (index,)
                entries.append((day, shift, DAY_NAMES[day], where))
    _week_overlaps(entries, calendar, located, problems)
    if not broken and not entries:
        problems.append(
            located.problem(
                loc,
                f"calendar {calendar!r} has no open hours in the week; "
                'add e.g. mon-fri: ["09:00-17:00"] (or use the built-in 24x7)',
            )
        )


def _check_known_keys(
    mapping: dict, known, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> None:
    """An unknown key of a mapping, with the nearest known one and the full list."""
    for key in mapping:
        if key not in known:
            problems.append(
                located.problem(
                    loc + (_key_text(key),),
                    f"unknown key {str(key)!r}{_suggest(key, known)}; expected one of {', '.join(known)}",
                )
            )


def _check_holidays(
    value: object, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(
            located.problem(
                loc,
                f"{_show(value)} is not a mapping; expected holidays: "
                "{country: DE, subdivision: BE, dates: [2026-12-24]}",
            )
        )
        return
    _check_known_keys(value, _HOLIDAY_KEYS, loc, located, problems)
    dates = value.get("dates")
    if dates is not None and not isinstance(dates, list):
        problems.append(
            located.problem(
                loc + ("dates",),
                f"{_show(dates)} is not a list of dates; expected like [2026-12-24, 2026-12-31]",
            )
        )
    for i, item in enumerate(dates if isinstance(dates, list) else ()):
        try:
            _as_date(item)
        except ValueError as exc:
            problems.append(located.problem(loc + ("dates", i), _date_problem(item, str(exc))))
    country = value.get("country")
    subdivision = value.get("subdivision")
    categories = value.get("categories")
    if country is None:
        for key in ("subdivision", "categories"):
            if value.get(key) is not None:
                problems.append(
                    located.problem(loc + (key,), f"holidays {key} {_show(value[key])} needs a country")
                )
        return
    if not isinstance(country, str) or not country:
        problems.append(
            located.problem(
                loc + ("country",),
                f"{_show(country)} is not a country code; expected a code like DE, US or GB",
            )
        )
        return
    import holidays as holidays_package

    supported = holidays_package.list_supported_countries()
    if country not in supported:
        hint = (
            _suggest(country.upper(), list(supported))
            if country.upper() not in supported
            else f"; did you mean {country.upper()!r}?"
        )
        problems.append(
            located.problem(
                loc + ("country",),
                f"unknown holidays country {country!r}{hint}; expected "
                "an ISO 3166 code the holidays package knows, like DE, US, GB",
            )
        )
        return
    if subdivision is not None:
        known = [str(s) for s in supported[country]]
        if str(subdivision) not in known:
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            problems.append(
                located.problem(
                    loc + ("subdivision",),
                    f"unknown subdivision {str(subdivision)!r} of "
                    f"{country}{_suggest(subdivision, known)}; expected one of {shown or 'none'}",
                )
            )
    if categories is not None:
        names = [categories] if isinstance(categories, str) else categories
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
            problems.append(
                located.problem(
                    loc + ("categories",),
                    f"{_show(categories)} is not a list of names; expected like [public]",
                )
            )


def _check_overrides(
    value: object, loc: tuple[object, ...], calendar: str, located: Located, problems: list[Problem]
) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(
            located.problem(
                loc,
                f"{_show(value)} is not a mapping; expected dates to intervals, like "
                '"2026-12-24": ["09:00-12:00"] (or [] for closed)',
            )
        )
        return
    seen: dict[date, object] = {}
    for key, item in value.items():
        key_loc = loc + (_key_text(key),)
        try:
            day = _as_date(key)
        except ValueError as exc:
            problems.append(located.problem(key_loc, _date_problem(key, str(exc))))
            day = None
        if day is not None:
            if day in seen:
                problems.append(
                    located.problem(
                        key_loc, f"override date {day} is given twice ({_show(seen[day])} and {_show(key)})"
                    )
                )
            seen[day] = key
        shifts = _intervals(item, key_loc, located, problems, closed_ok=True)
        if shifts:
            entries = [(0, shift, str(day or key)) for _i, shift in shifts]
            try:
                check_no_overlap(entries, period=None, what=f"calendar {calendar!r}", path="")
            except CalendarError as exc:
                problems.append(located.problem(key_loc, str(exc)))


def _check_calendar(
    name: str, raw: object, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> None:
    """Every problem of one calendar as written, each at its own place."""
    if not isinstance(raw, dict):
        problems.append(
            located.problem(
                loc, f"{_show(raw)} is not a calendar; expected a mapping with timezone and hours"
            )
        )
        return
    _check_known_keys(raw, _CALENDAR_KEYS, loc, located, problems)
    if "timezone" in raw:
        try:
            load_zone(raw["timezone"])
        except CalendarError as exc:
            zone = raw["timezone"]
            hint = ""
            if isinstance(zone, str):
                hint = _suggest(zone, sorted(_zone_names()))
            problems.append(located.problem(loc + ("timezone",), f"{exc}{hint}"))
    if "hours" not in raw:
        problems.append(
            located.problem(
                loc + ("hours",), f'calendar {name!r} needs hours, like hours: {{mon-fri: ["09:00-17:00"]}}'
            )
        )
    else:
        _check_hours(raw["hours"], loc + ("hours",), name, located, problems)
    _check_holidays(raw.get("holidays"), loc + ("holidays",), located, problems)
    _check_overrides(raw.get("overrides"), loc + ("overrides",), name, located, problems)


_ZONES: set[str] | None = None


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        from zoneinfo import available_timezones

        _ZONES = {name for name in available_timezones() if "/" in name or name == "UTC"}
    return _ZONES


def _build_calendar(
    name: str, spec: CalendarSpec, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> Calendar | None:
    mapping = spec.model_dump(exclude_none=True)
    if spec.holidays is not None:
        mapping["holidays"] = spec.holidays.model_dump(exclude_none=True)
    try:
        return Calendar.from_dict(mapping, name=name)
    except CalendarError as exc:
        problems.append(located.problem(_sub(loc, exc, loc), str(exc)))
        return None


# ------------------------------------------------------------ metrics
def _trigger(spec: object) -> Trigger:
    if isinstance(spec, str):
        return Trigger(spec)
    assert isinstance(spec, Condition)
    if spec.status_entered is not None:
        return Trigger("status_entered", statuses=frozenset(spec.status_entered))
    if spec.status_left is not None:
        return Trigger("status_left", statuses=frozenset(spec.status_left))
    if spec.field_set is not None:
        return Trigger("field_set", field_name=spec.field_set)
    if spec.field_changed is not None:
        return Trigger("field_changed", field_name=spec.field_changed)
    assert spec.message is not None
    return Trigger(
        "message",
        authors=frozenset(spec.message.author) if spec.message.author else None,
        public=spec.message.public,
    )


def _compile_metric(
    name: str, options: MetricOptions, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> MetricDef | None:
    if name in BUILTIN_METRICS:
        wrong = [
            key
            for key in ("start", "stop", "resume", "cycles", "cancel_on_done")
            if getattr(options, key) is not None
        ]
        for key in wrong:
            problems.append(
                located.problem(
                    loc + (key,),
                    f"the built-in metric {name} takes only pause_statuses and responders; "
                    f"define a custom metric under another name to change {key}",
                )
            )
        if wrong:
            return None
        return with_options(
            BUILTIN_METRICS[name], pause_statuses=options.pause_statuses, responders=options.responders
        )
    missing = [key for key in ("start", "stop") if not getattr(options, key)]
    if missing:
        close = difflib.get_close_matches(name, list(BUILTIN_METRICS), n=1, cutoff=0.6)
        if close:
            message = (
                f"unknown metric {name!r}; did you mean the built-in {close[0]!r}? "
                f"(a custom metric needs start and stop conditions)"
            )
        else:
            message = (
                f"custom metric {name!r} needs {' and '.join(missing)} conditions, like "
                "start: created, stop: {status_entered: [solved]}"
            )
        problems.append(located.problem(loc, message))
        return None
    cycles = options.cycles or "once"
    if options.resume and cycles != "resume":
        problems.append(
            located.problem(loc + ("resume",), f"resume conditions need cycles: resume (cycles is {cycles})")
        )
        return None
    if cycles == "resume" and not options.resume:
        problems.append(
            located.problem(
                loc + ("cycles",), "cycles: resume needs resume conditions, like resume: [reopened]"
            )
        )
        return None
    return MetricDef(
        name,
        start=tuple(_trigger(c) for c in options.start or ()),
        stop=tuple(_trigger(c) for c in options.stop or ()),
        resume=tuple(_trigger(c) for c in options.resume or ()),
        pause_statuses=frozenset(options.pause_statuses or ()),
        responders=frozenset(options.responders or ("agent",)),
        cycles=cycles,
        cancel_on_done=bool(options.cancel_on_done),
        description=options.description or "",
    )


# ------------------------------------------------------------ the document
def _section(data: dict, key: str, kind: type, located: Located, problems: list[Problem], what: str):
    value = data.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        problems.append(located.problem((key,), f"{key} is {_show(value)}; expected {what}"))
        return kind()
    return value


def compile_document(located: Located) -> PolicySet:
    """Validate a parsed document and compile it; every problem is reported at once.

    Each calendar, metric and policy is checked on its own, so one broken
    entry does not hide the problems of the others, and references between
    them (a policy's calendar, its metrics) are checked even when the entry
    that refers has problems of its own.
    """
    data = located.data
    if data is None:
        raise PolicyError(
            [Problem("", "the file is empty; a policy file needs at least policies: [...]", 1, 1)],
            located.source,
        )
    if not isinstance(data, dict):
        raise PolicyError(
            [
                Problem(
                    "",
                    f"{_show(data)} is not a policy file; expected a mapping with policies "
                    "(and optionally calendars, metrics, done_statuses)",
                    1,
                    1,
                )
            ],
            located.source,
        )
    problems: list[Problem] = []
    for loc, line, column, first in located.duplicates:
        problems.append(
            Problem(
                render_path(loc),
                f"{loc[-1]!r} is given twice (first on line {first}); the later one would silently win",
                line,
                column,
            )
        )
    for key in data:
        if key not in _TOP_KEYS and not _is_extension(key):
            problems.append(
                located.problem(
                    (_key_text(key),),
                    f"unknown key {str(key)!r}"
                    + (_suggest(key, TOP_LEVEL_KEYS) or f"; a policy file has {', '.join(TOP_LEVEL_KEYS)}"),
                )
            )

    # done_statuses
    done = data.get("done_statuses", ["solved", "closed"])
    if not isinstance(done, list) or not all(isinstance(s, str) for s in done):
        bad = (
            next((i for i, s in enumerate(done) if not isinstance(s, str)), None)
            if isinstance(done, list)
            else None
        )
        where = ("done_statuses",) if bad is None else ("done_statuses", bad)
        problems.append(
            located.problem(
                where,
                f"{_show(done if bad is None else done[bad])} is not a status name; "
                "expected a list of statuses like [solved, closed]",
            )
        )
    elif not done:
        problems.append(
            located.problem(
                ("done_statuses",),
                "an empty list: no ticket could ever be done; expected statuses like [solved, closed]",
            )
        )

    # calendars
    raw_calendars = _section(
        data, "calendars", dict, located, problems, "a mapping of calendar names to calendars"
    )
    calendars: dict[str, Calendar] = {"24x7": ALWAYS_OPEN}
    calendar_names = {"24x7"} | {_key_text(k) for k in raw_calendars}
    for key, raw in raw_calendars.items():
        name = _key_text(key)
        loc = ("calendars", name)
        if name == "24x7":
            problems.append(
                located.problem(loc, "24x7 is built in (always open); give your calendar another name")
            )
            continue
        before = len(problems)
        _check_calendar(name, raw, loc, located, problems)
        if len(problems) > before:
            continue
        spec = _validate(CalendarSpec, raw, loc, located, problems)
        if spec is not None:
            built = _build_calendar(name, spec, loc, located, problems)
            if built is not None:
                calendars[name] = built

    # metrics
    raw_metrics = _section(data, "metrics", dict, located, problems, "a mapping of metric names to options")
    metrics: dict[str, MetricDef] = dict(BUILTIN_METRICS)
    metric_names = set(BUILTIN_METRICS) | {_key_text(k) for k in raw_metrics}
    for key, raw in raw_metrics.items():
        name = _key_text(key)
        loc = ("metrics", name)
        options = _validate(MetricOptions, {} if raw is None else raw, loc, located, problems)
        if options is None:
            continue
        compiled_metric = _compile_metric(name, options, loc, located, problems)
        if compiled_metric is None:
            if name not in BUILTIN_METRICS:
                metric_names.discard(name)
        else:
            metrics[name] = compiled_metric
    metrics = {name: finish(m) for name, m in metrics.items()}

    # policies
    raw_policies = data.get("policies")
    if "policies" not in data or raw_policies is None or raw_policies == []:
        close = next(
            (
                k
                for k in data
                if difflib.get_close_matches(str(k), ["policies"], n=1, cutoff=0.6) and k != "policies"
            ),
            None,
        )
        hint = f" (is {close!r} meant to be policies?)" if close is not None else ""
        where = ("policies",) if "policies" in data else ()
        problems.append(
            located.problem(
                where,
                f"the file has no policies{hint}; add at least one, like "
                "policies: [{name: standard, targets: {first_response: 8h}}]",
            )
        )
        raw_policies = []
    elif not isinstance(raw_policies, list):
        problems.append(
            located.problem(
                ("policies",),
                f"policies is {_show(raw_policies)}; expected a list of "
                "policies, each starting with - name: ...",
            )
        )
        raw_policies = []
    compiled: list[CompiledPolicy] = []
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(raw_policies):
        loc: tuple[object, ...] = ("policies", index)
        policy = _validate(Policy, raw, loc, located, problems)
        if not isinstance(raw, dict):
            continue
        # References are checked on what was written, valid or not.
        name = raw.get("name")
        if isinstance(name, str):
            if name in seen_names:
                problems.append(
                    located.problem(
                        loc + ("name",),
                        f"policy name {name!r} is used twice "
                        f"(also policies[{seen_names[name]}]); names must be unique",
                    )
                )
            seen_names.setdefault(name, index)
        calendar_name = raw.get("calendar", "24x7")
        if isinstance(calendar_name, str) and calendar_name not in calendar_names:
            known = sorted(calendar_names)
            hint = _suggest(calendar_name, known) or f"; known calendars: {', '.join(known)}"
            problems.append(located.problem(loc + ("calendar",), f"unknown calendar {calendar_name!r}{hint}"))
        targets = raw.get("targets")
        if isinstance(targets, dict):
            for metric in targets:
                if (
                    isinstance(metric, str)
                    and metric not in metric_names
                    and metric not in {_key_text(k) for k in raw_metrics}
                ):
                    hint = (
                        _suggest(metric, sorted(metric_names))
                        or f"; known metrics: {', '.join(sorted(metric_names))}"
                    )
                    problems.append(
                        located.problem(loc + ("targets", metric), f"unknown metric {metric!r}{hint}")
                    )
        if policy is not None and policy.calendar in calendars and not problems:
            match = tuple(
                (key, tuple(value), True) if isinstance(value, list) else (key, value, False)
                for key, value in policy.match.items()
            )
            compiled.append(
                CompiledPolicy(
                    policy.name,
                    index,
                    match,
                    calendars[policy.calendar],
                    policy.calendar,
                    policy.hours,
                    policy,
                )
            )

    if not problems:
        spec = _validate(
            PolicyFile, {k: v for k, v in data.items() if not _is_extension(k)}, (), located, problems
        )
    if problems:
        raise PolicyError(_ordered(problems), located.source)
    assert spec is not None
    return PolicySet(spec, calendars, metrics, compiled, located.source)


_TOP_KEYS = set(TOP_LEVEL_KEYS) | {"$schema"}


def _is_extension(key: object) -> bool:
    """Top-level ``x-...`` keys are the file's own: a place for YAML anchors."""
    return isinstance(key, str) and key.startswith("x-")


def _ordered(problems: list[Problem]) -> list[Problem]:
    """In file order, each once."""
    unique: dict[tuple[str, str], Problem] = {}
    for problem in problems:
        unique.setdefault((problem.path, problem.message), problem)
    return sorted(unique.values(), key=lambda p: (p.line is None, p.line or 0, p.column or 0))


__all__ = [
    "CompiledPolicy",
    "PolicySet",
    "ResolvedTarget",
    "compile_document",
    "load_policies",
    "json_schema",
]
