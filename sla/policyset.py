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
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .calendar import ALWAYS_OPEN, Calendar
from .errors import CalendarError, PolicyError, Problem, SlaError
from .metrics import BUILTIN_METRICS, MetricDef, Trigger, finish, with_options
from .policy import CalendarSpec, Condition, LocatedValueError, MetricOptions, Policy, PolicyFile
from .source import Located, parse_yaml, read_document, render_path

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

    def __init__(self, spec: PolicyFile, calendars: dict[str, Calendar], metrics: dict[str, MetricDef],
                 policies: list[CompiledPolicy], source: str | None = None):
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

    def target_for(self, attributes: Mapping[str, object], metric: str) -> tuple[CompiledPolicy, ResolvedTarget] | None:
        """The policy in force for the attributes and its target for a metric, if any."""
        policy = self.policy_for(attributes)
        if policy is None:
            return None
        target = policy.target(metric, attributes.get("priority"))
        return None if target is None else (policy, target)


# ---------------------------------------------------------------- loading
def load_policies(source: str | Path | Mapping[str, Any]) -> PolicySet:
    """Load and validate a policy file (a path, YAML/JSON text, or a mapping).

    Raises :class:`~sla.errors.PolicyError` listing every problem with file,
    line and path.
    """
    if isinstance(source, Mapping):
        located = Located(dict(source), None)
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).suffix.lower() in {".yaml", ".yml", ".json", ".toml"}):
        located = read_document(source)
    else:
        located = parse_yaml(str(source))
    return compile_document(located)


def _all_field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen or set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for arg in _type_args(info.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _all_field_names(arg, seen)
    return names


def _type_args(annotation: object) -> list[object]:
    out = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out += _type_args(arg)
    return out


_KNOWN_KEYS = sorted(_all_field_names(PolicyFile) | set(BUILTIN_METRICS))


def _problems_from_validation(error: ValidationError, located: Located) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        # Union branches add their type names to the location; drop them.
        loc = tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "none", "list", "literal", "Condition", "function-before"} or part.startswith("function-") or part.startswith("literal["))))
        message = item["msg"]
        ctx = item.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, LocatedValueError):
            loc += tuple(cause.subpath)
            message = str(cause)
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if "match" in loc[:3] and loc[:1] == ("policies",) and item["type"] != "extra_forbidden":
            message = "a match value must be a scalar (text, number, true/false) or a list of scalars"
        elif item["type"] == "extra_forbidden":
            bad = str(loc[-1])
            close = difflib.get_close_matches(bad, _KNOWN_KEYS, n=1, cutoff=0.6)
            message = f"unknown key {bad!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        elif item["type"] == "missing":
            message = f"{loc[-1]} is required here"
        elif "input" in item and item["type"] not in ("value_error",) and not isinstance(item["input"], (dict, list)):
            message = f"{message} (got {item['input']!r})"
        problems.append(located.problem(loc, message))
    # One problem per location is enough (union branches repeat themselves).
    unique: dict[str, Problem] = {}
    for p in problems:
        unique.setdefault(p.path, p)
    return list(unique.values())


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
    return Trigger("message", authors=frozenset(spec.message.author) if spec.message.author else None,
                   public=spec.message.public)


def _condition_problems(spec: MetricOptions, name: str, located: Located) -> list[Problem]:
    problems = []
    for key in ("start", "stop", "resume"):
        for i, cond in enumerate(getattr(spec, key) or ()):
            if isinstance(cond, Condition):
                given = [k for k, v in cond.model_dump().items() if v is not None]
                if len(given) != 1:
                    problems.append(located.problem(
                        ("metrics", name, key, i),
                        "a condition takes exactly one of status_entered, status_left, field_set, field_changed, message",
                    ))
    return problems


def _compile_metrics(spec: PolicyFile, located: Located, problems: list[Problem]) -> dict[str, MetricDef]:
    metrics = dict(BUILTIN_METRICS)
    for name, options in spec.metrics.items():
        loc = ("metrics", name)
        if name in BUILTIN_METRICS:
            for key in ("start", "stop", "resume", "cycles", "cancel_on_done"):
                if getattr(options, key) is not None:
                    problems.append(located.problem(
                        loc + (key,),
                        f"the built-in metric {name} takes only pause_statuses and responders; "
                        f"define a custom metric under another name to change {key}",
                    ))
            metrics[name] = with_options(BUILTIN_METRICS[name], pause_statuses=options.pause_statuses,
                                         responders=options.responders)
            continue
        if not options.start or not options.stop:
            missing = "start" if not options.start else "stop"
            close = difflib.get_close_matches(name, list(BUILTIN_METRICS), n=1, cutoff=0.6)
            hint = f"; did you mean the built-in {close[0]!r}?" if close else ""
            problems.append(located.problem(loc, f"custom metric {name!r} needs {missing} conditions{hint}"))
            continue
        problems += _condition_problems(options, name, located)
        cycles = options.cycles or "once"
        if options.resume and cycles != "resume":
            problems.append(located.problem(loc + ("resume",), "resume conditions need cycles: resume"))
        metrics[name] = MetricDef(
            name,
            start=tuple(_trigger(c) for c in options.start),
            stop=tuple(_trigger(c) for c in options.stop),
            resume=tuple(_trigger(c) for c in options.resume or ()) if cycles == "resume" else (),
            pause_statuses=frozenset(options.pause_statuses or ()),
            responders=frozenset(options.responders or ("agent",)),
            cycles=cycles,
            cancel_on_done=bool(options.cancel_on_done),
            description=options.description or "",
        )
    return {name: finish(m) for name, m in metrics.items()}


def _build_calendar(name: str, spec: CalendarSpec, located: Located, problems: list[Problem]) -> Calendar | None:
    mapping = spec.model_dump(exclude_none=True)
    if spec.holidays is not None:
        mapping["holidays"] = spec.holidays.model_dump(exclude_none=True)
    try:
        return Calendar.from_dict(mapping, name=name)
    except CalendarError as exc:
        sub = getattr(exc, "path", "")
        loc: tuple[object, ...] = ("calendars", name)
        for part in sub.replace("[", ".[").split(".") if sub else ():
            if part.startswith("[") and part.endswith("]"):
                loc += (int(part[1:-1]),)
            elif part:
                loc += (part,)
        problems.append(located.problem(loc, str(exc)))
        return None


def compile_document(located: Located) -> PolicySet:
    """Validate a parsed document and compile it; every problem is reported at once."""
    data = located.data
    if not isinstance(data, dict):
        raise PolicyError([Problem("", "a policy file is a mapping with policies (and optionally calendars, metrics, done_statuses)", 1, 1)], located.source)
    try:
        spec = PolicyFile.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_problems_from_validation(exc, located), located.source) from None

    problems: list[Problem] = []
    calendars: dict[str, Calendar] = {"24x7": ALWAYS_OPEN}
    for name, cal_spec in spec.calendars.items():
        if name == "24x7":
            problems.append(located.problem(("calendars", name), "24x7 is built in; give your calendar another name"))
            continue
        built = _build_calendar(name, cal_spec, located, problems)
        if built is not None:
            calendars[name] = built
    metrics = _compile_metrics(spec, located, problems)

    compiled: list[CompiledPolicy] = []
    seen_names: dict[str, int] = {}
    for index, policy in enumerate(spec.policies):
        loc = ("policies", index)
        if policy.name in seen_names:
            problems.append(located.problem(loc + ("name",), f"policy name {policy.name!r} is used twice (also policies[{seen_names[policy.name]}])"))
        seen_names.setdefault(policy.name, index)
        if policy.calendar not in calendars and policy.calendar not in spec.calendars:
            known = sorted(set(calendars) | set(spec.calendars))
            close = difflib.get_close_matches(policy.calendar, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known calendars: {', '.join(known)}"
            problems.append(located.problem(loc + ("calendar",), f"unknown calendar {policy.calendar!r}{hint}"))
        for metric in policy.targets:
            if metric not in metrics:
                close = difflib.get_close_matches(metric, list(metrics), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known metrics: {', '.join(sorted(metrics))}"
                problems.append(located.problem(loc + ("targets", metric), f"unknown metric {metric!r}{hint}"))
        match = []
        for key, value in policy.match.items():
            if isinstance(value, list):
                match.append((key, tuple(value), True))
            else:
                match.append((key, value, False))
        if not problems:
            compiled.append(CompiledPolicy(policy.name, index, tuple(match), calendars[policy.calendar],
                                           policy.calendar, policy.hours, policy))
    if problems:
        raise PolicyError(problems, located.source)
    return PolicySet(spec, calendars, metrics, compiled, located.source)


def describe_problem_path(loc: tuple[object, ...]) -> str:
    return render_path(loc)


__all__ = ["CompiledPolicy", "PolicySet", "ResolvedTarget", "load_policies", "SlaError"]
