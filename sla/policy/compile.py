"""Compiling a parsed policy document into a :class:`PolicySet`, the runtime
form the engine and embedders share: calendars built, targets in microseconds,
metric definitions resolved, and one matching rule.

The module runs past 400 lines because :func:`compile_document` is one walk
through the file's sections in order (top-level keys, done statuses,
calendars, metrics, policies, references between them), gathering every
problem before it raises; splitting the walk would scatter that order.
Calendar checks live in :mod:`sla.policy.check_calendar`, message texts in
:mod:`sla.policy.messages`.  Nothing here reads a file: that is
:func:`sla.io.policy_files.load_policies`, which parses and then calls
:func:`compile_document`.

>>> from sla.policy.source import parse_yaml
>>> policies = compile_document(parse_yaml('''
... policies:
...   - name: everyone
...     targets: {first_response: 1h}
... '''))
>>> policies.policy_for({"channel": "email"}).name
'everyone'
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sla.calendar.index import ALWAYS_OPEN, Calendar
from sla.engine.metrics import (
    BUILTIN_METRICS,
    FIELD_METRICS,
    RESPONDER_METRICS,
    MetricDef,
    Trigger,
    finish,
    with_options,
)
from sla.errors import ArgumentError, PolicyError, Problem
from sla.policy.calendar_choice import ZonedCalendar
from sla.policy.check_calendar import IcsFiles, build_calendar, calendar_mapping, check_calendar
from sla.policy.conditions import AttributeCondition, Predicate, parse_condition
from sla.policy.messages import key_text, show, suggest, validate_part
from sla.policy.model import (
    TOP_LEVEL_KEYS,
    CalendarChoice,
    CalendarSpec,
    Condition,
    MetricOptions,
    Policy,
    PolicyFile,
    ZoneChoice,
)
from sla.policy.model import DeriveRule as DeriveRuleSpec
from sla.policy.source import Located, document_problems, render_path

BUSINESS = "business"
CALENDAR = "calendar"


_T = TypeVar("_T")


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
    condition: AttributeCondition
    #: The compiled ``match``: does it hold for these attributes?
    matches: Predicate
    calendar: Calendar
    calendar_name: str
    hours: str
    spec: Policy
    #: Every calendar of the file by name, and those whose zone an attribute picks.
    calendars: Mapping[str, Calendar]
    zoned: Mapping[str, ZonedCalendar]

    def calendar_for(self, attributes: Mapping[str, object]) -> tuple[Calendar, str]:
        """The calendar that judges a ticket with these attributes, and its name."""
        choice = self.spec.calendar
        name = (
            choice.choose(attributes.get(choice.by))
            if isinstance(choice, CalendarChoice)
            else self.calendar_name
        )
        zoned = self.zoned.get(name)
        return (zoned.for_attributes(attributes) if zoned is not None else self.calendars[name]), name

    def target(
        self, metric: str, priority: object, attributes: Mapping[str, object] | None = None
    ) -> ResolvedTarget | None:
        """The target for a metric and priority; with ``attributes``, on the
        calendar they choose (else on the policy's default calendar)."""
        spec = self.spec.targets.get(metric)
        if spec is None:
            return None
        within = spec.for_priority(priority)
        if within is None:
            return None
        hours = within.hours or self.hours
        if hours != BUSINESS:
            return ResolvedTarget(within.within, hours, ALWAYS_OPEN)
        calendar = self.calendar if attributes is None else self.calendar_for(attributes)[0]
        return ResolvedTarget(within.within, hours, calendar)


Assignments = tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class DeriveRule:
    """A compiled derive rule: when ``holds`` (None: always), apply ``assign``."""

    condition: AttributeCondition | None
    holds: Predicate | None
    assign: Assignments

    def describe(self) -> str:
        sets = ", ".join(f"{k} = {'null' if v is None else v}" for k, v in self.assign)
        return f"set {sets}" + (f" when {self.condition.describe()}" if self.condition is not None else "")


def derive_function(rules: tuple[DeriveRule, ...]) -> Callable[[Mapping[str, object]], dict[str, object]]:
    """The attributes after the rules, in order, each seeing the earlier results."""

    def derive(fields: Mapping[str, object]) -> dict[str, object]:
        return apply_rules(rules, fields)[0]

    return derive


def apply_rules(
    rules: tuple[DeriveRule, ...], fields: Mapping[str, object]
) -> tuple[dict[str, object], list[int]]:
    """The attributes after the rules, and the indexes of the rules that fired."""
    attributes, fired = dict(fields), []
    for index, rule in enumerate(rules):
        if rule.holds is None or rule.holds(attributes):
            fired.append(index)
            for key, value in rule.assign:
                if value is None:
                    attributes.pop(key, None)
                else:
                    attributes[key] = value
    return attributes, fired


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
        self.derive_rules = tuple(
            DeriveRule(
                None if rule.when is None else parse_condition(rule.when),
                None if rule.when is None else parse_condition(rule.when).compile(),
                tuple(rule.set.items()),
            )
            for rule in spec.derive
        )
        #: Raw attributes to the ticket's attributes (None: no derive rules).
        self.derive = derive_function(self.derive_rules) if self.derive_rules else None
        # Policy versions: the bounds of every `effective` cut time into eras;
        # a ticket's era (by its created instant) fixes its candidate policies.
        self.era_bounds = sorted(
            {
                b
                for p in policies
                if p.spec.effective
                for b in (p.spec.effective.from_, p.spec.effective.until)
                if b is not None
            }
        )
        self.era_policies = [
            tuple(p for p in policies if p.spec.effective is None or p.spec.effective.covers(instant))
            for instant in [self.era_bounds[0] - 1 if self.era_bounds else 0, *self.era_bounds]
        ]
        self._cache: dict[tuple[object, ...], CompiledPolicy | None] = {}
        zoned = {name: z for p in policies for name, z in p.zoned.items()}
        #: The calendars whose zone comes from an attribute (section 10).
        self.zoned_calendars: dict[str, ZonedCalendar] = zoned
        #: The attributes that decide a cycle's policy, target and calendar:
        #: the judge caches its lookups by these alone.
        self.resolution_keys = tuple(
            sorted(
                {"priority"}.union(*(p.condition.keys() for p in policies))
                .union(p.spec.calendar.by for p in policies if isinstance(p.spec.calendar, CalendarChoice))
                .union(z.by for z in zoned.values())
            )
        )

    def zone_fallbacks(self) -> frozenset[str]:
        """Attribute values that named no known zone since the file was loaded
        (their tickets used the calendar's default zone)."""
        return frozenset().union(*(z.fallbacks for z in self.zoned_calendars.values()))

    def derive_trace(self, fields: Mapping[str, object]) -> list[int]:
        """The indexes of the derive rules that fire for these fields, in order."""
        return apply_rules(self.derive_rules, fields)[1]

    def era(self, created: int | None) -> int:
        """The index of the policy versions for a ticket created at ``created``."""
        return 0 if created is None or not self.era_bounds else bisect_right(self.era_bounds, created)

    def policy_for(
        self, attributes: Mapping[str, object], created: int | None = None
    ) -> CompiledPolicy | None:
        """The first policy, in file order, whose ``match`` holds for the attributes,
        among those effective for a ticket created at ``created`` (None: all)."""
        if type(attributes) is not dict and not isinstance(attributes, Mapping):  # a dict: no ABC check
            raise ArgumentError(
                f"attributes: expected a mapping of ticket attributes, got {type(attributes).__name__}"
            )
        era = self.era(created) if created is not None else -1
        try:  # types are part of the key: true, 1 and "1" are three values
            key: tuple[object, ...] | None = (
                era,
                *[(name, type(attributes[name]), attributes[name]) for name in sorted(attributes)],
            )
            hash(key)
        except TypeError:
            key = None
        if key is not None:
            try:
                return self._cache[key]
            except KeyError:
                pass
        candidates = self.policies if era < 0 else self.era_policies[era]
        found = next((p for p in candidates if p.matches(attributes)), None)
        if key is not None and len(self._cache) < 100_000:
            self._cache[key] = found
        return found

    def target_for(
        self, attributes: Mapping[str, object], metric: str, created: int | None = None
    ) -> tuple[CompiledPolicy, ResolvedTarget] | None:
        """The policy in force for the attributes and its target for a metric, if any."""
        policy = self.policy_for(attributes, created)
        if policy is None:
            return None
        target = policy.target(metric, attributes.get("priority"))
        return None if target is None else (policy, target)


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


def _pause_when(options: MetricOptions) -> tuple[Predicate, str] | None:
    if options.pause_when is None:
        return None
    condition = parse_condition(options.pause_when)
    return condition.compile(), condition.describe()


def _compile_metric(
    name: str, options: MetricOptions, loc: tuple[object, ...], located: Located, problems: list[Problem]
) -> MetricDef | None:
    if name in BUILTIN_METRICS:
        takes = ["pause_statuses"]
        takes += ["responders"] if name in RESPONDER_METRICS else []
        takes += ["field"] if name in FIELD_METRICS else []
        wrong = [
            key
            for key in ("start", "stop", "resume", "cycles", "cancel_on_done")
            if getattr(options, key) is not None
        ]
        for key in wrong:
            problems.append(
                located.problem(
                    loc + (key,),
                    f"the built-in metric {name} takes only {' and '.join(takes)}; "
                    f"define a custom metric under another name to change {key}",
                )
            )
        for key, allowed in (("responders", RESPONDER_METRICS), ("field", FIELD_METRICS)):
            if getattr(options, key) is not None and name not in allowed:
                wrong.append(key)
                problems.append(
                    located.problem(
                        loc + (key,),
                        f"unknown key {key!r}: the built-in metric {name} takes only {' and '.join(takes)}",
                    )
                )
        if wrong:
            return None
        return with_options(
            BUILTIN_METRICS[name],
            pause_statuses=options.pause_statuses,
            responders=options.responders,
            field=options.field,
            pause_when=_pause_when(options),
        )
    if options.field is not None:
        problems.append(
            located.problem(loc + ("field",), "unknown key 'field': only group_ownership takes a field")
        )
        return None
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
    return with_options(
        MetricDef(
            name,
            start=tuple(_trigger(c) for c in options.start or ()),
            stop=tuple(_trigger(c) for c in options.stop or ()),
            resume=tuple(_trigger(c) for c in options.resume or ()),
            pause_statuses=frozenset(options.pause_statuses or ()),
            responders=frozenset(options.responders or ("agent",)),
            cycles=cycles,
            cancel_on_done=bool(options.cancel_on_done),
            description=options.description or "",
        ),
        pause_when=_pause_when(options),
    )


# ------------------------------------------------------------ the document
def _section(
    data: Mapping[object, object],
    key: str,
    kind: type[_T],
    located: Located,
    problems: list[Problem],
    what: str,
) -> _T:
    """A top-level section, if it is the ``kind`` it must be; else a problem and an empty one."""
    value = data.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        problems.append(located.problem((key,), f"{key} is {show(value)}; expected {what}"))
        return kind()
    return value


def compile_document(located: Located, ics: IcsFiles | None = None) -> PolicySet:
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
                    f"{show(data)} is not a policy file; expected a mapping with policies "
                    "(and optionally calendars, metrics, done_statuses)",
                    1,
                    1,
                )
            ],
            located.source,
        )
    # Too deep to walk safely, or text no output can carry: nothing else is checked.
    refused = document_problems(located)
    if refused:
        raise PolicyError(_ordered(refused), located.source)
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
                    (key_text(key),),
                    f"unknown key {str(key)!r}"
                    + (suggest(key, TOP_LEVEL_KEYS) or f"; a policy file has {', '.join(TOP_LEVEL_KEYS)}"),
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
        where: tuple[object, ...] = ("done_statuses",) if bad is None else ("done_statuses", bad)
        problems.append(
            located.problem(
                where,
                f"{show(done if bad is None else done[bad])} is not a status name; "
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
    zoned: dict[str, ZonedCalendar] = {}
    calendar_names = {"24x7"} | {key_text(k) for k in raw_calendars}
    for key, raw in raw_calendars.items():
        name = key_text(key)
        loc = ("calendars", name)
        if name == "24x7":
            problems.append(
                located.problem(loc, "24x7 is built in (always open); give your calendar another name")
            )
            continue
        before = len(problems)
        check_calendar(name, raw, loc, located, problems)
        if len(problems) > before:
            continue
        calendar_spec = validate_part(CalendarSpec, raw, loc, located, problems)
        if calendar_spec is not None:
            built = build_calendar(name, calendar_spec, loc, located, problems, ics)
            if built is not None:
                calendars[name] = built
                if isinstance(calendar_spec.timezone, ZoneChoice):
                    zoned[name] = ZonedCalendar(
                        name,
                        calendar_mapping(calendar_spec, ics),
                        calendar_spec.timezone.by,
                        calendar_spec.timezone.default,
                    )
                    calendars[name] = zoned[name].base

    # metrics
    raw_metrics = _section(data, "metrics", dict, located, problems, "a mapping of metric names to options")
    metrics: dict[str, MetricDef] = dict(BUILTIN_METRICS)
    metric_names = set(BUILTIN_METRICS) | {key_text(k) for k in raw_metrics}
    for key, raw in raw_metrics.items():
        name = key_text(key)
        loc = ("metrics", name)
        options = validate_part(MetricOptions, {} if raw is None else raw, loc, located, problems)
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
                f"policies is {show(raw_policies)}; expected a list of "
                "policies, each starting with - name: ...",
            )
        )
        raw_policies = []
    compiled: list[CompiledPolicy] = []
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(raw_policies):
        loc = ("policies", index)
        policy = validate_part(Policy, raw, loc, located, problems)
        if not isinstance(raw, dict):
            continue
        # References are checked on what was written, valid or not.
        policy_name = raw.get("name")
        if isinstance(policy_name, str):
            if policy_name in seen_names:
                problems.append(
                    located.problem(
                        loc + ("name",),
                        f"policy name {policy_name!r} is used twice "
                        f"(also policies[{seen_names[policy_name]}]); names must be unique",
                    )
                )
            seen_names.setdefault(policy_name, index)
        chosen = raw.get("calendar", "24x7")
        references: list[tuple[tuple[object, ...], object]] = [(loc + ("calendar",), chosen)]
        if isinstance(chosen, dict):
            mapped = chosen.get("map")
            references = [(loc + ("calendar", "default"), chosen.get("default"))]
            if isinstance(mapped, dict):
                references += [(loc + ("calendar", "map", key_text(k)), v) for k, v in mapped.items()]
        for where, calendar_name in references:
            if isinstance(calendar_name, str) and calendar_name not in calendar_names:
                known = sorted(calendar_names)
                hint = suggest(calendar_name, known) or f"; known calendars: {', '.join(known)}"
                problems.append(located.problem(where, f"unknown calendar {calendar_name!r}{hint}"))
        targets = raw.get("targets")
        if isinstance(targets, dict):
            for metric in targets:
                if (
                    isinstance(metric, str)
                    and metric not in metric_names
                    and metric not in {key_text(k) for k in raw_metrics}
                ):
                    hint = (
                        suggest(metric, sorted(metric_names))
                        or f"; known metrics: {', '.join(sorted(metric_names))}"
                    )
                    problems.append(
                        located.problem(loc + ("targets", metric), f"unknown metric {metric!r}{hint}")
                    )
        if policy is not None and not problems:
            condition = parse_condition(policy.match)
            name = policy.calendar.default if isinstance(policy.calendar, CalendarChoice) else policy.calendar
            compiled.append(
                CompiledPolicy(
                    policy.name,
                    index,
                    condition,
                    condition.compile(),
                    calendars[name],
                    name,
                    policy.hours,
                    policy,
                    calendars,
                    zoned,
                )
            )

    # Derive rules, each on its own, so their errors are told with the
    # others' (the whole file is validated below only when the parts are).
    raw_rules = data.get("derive")
    if isinstance(raw_rules, list):
        for index, raw in enumerate(raw_rules):
            validate_part(DeriveRuleSpec, raw, ("derive", index), located, problems)

    file_spec = None
    if not problems:
        file_spec = validate_part(
            PolicyFile, {k: v for k, v in data.items() if not _is_extension(k)}, (), located, problems
        )
    if problems:
        raise PolicyError(_ordered(problems), located.source)
    assert file_spec is not None
    return PolicySet(file_spec, calendars, metrics, compiled, located.source)


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
]
