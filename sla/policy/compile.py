"""Compiling a parsed policy document into a :class:`PolicySet`, the runtime
form the engine and embedders share (:mod:`sla.policy.runtime`): calendars
built, targets in microseconds, metric definitions resolved, and one
matching rule.

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
from collections.abc import Mapping
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
from sla.errors import PolicyError, Problem
from sla.policy.calendar_choice import ZonedCalendar
from sla.policy.check_calendar import IcsFiles, build_calendar, calendar_mapping, check_calendar
from sla.policy.conditions import AttributeCondition, parse_condition
from sla.policy.messages import key_text, show, suggest, validate_part
from sla.policy.model import (
    TOP_LEVEL_KEYS,
    CalendarChoice,
    CalendarSpec,
    Condition,
    MetricOptions,
    Policy,
    PolicyFile,
    Target,
    Within,
    ZoneChoice,
)
from sla.policy.model import DeriveRule as DeriveRuleSpec
from sla.policy.runtime import (
    BUSINESS,
    CALENDAR,
    CalendarPick,
    CompiledPolicy,
    DeriveRule,
    Pickled,
    PolicySet,
    ResolvedTarget,
    TargetRule,
    TargetTime,
    WarningRule,
    apply_rules,
    derive_function,
)
from sla.policy.source import Located, document_problems, render_path

_T = TypeVar("_T")


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


def _pause_when(options: MetricOptions) -> tuple[AttributeCondition, str] | None:
    if options.pause_when is None:
        return None
    condition = parse_condition(options.pause_when)
    return condition, condition.describe()


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
            choice = policy.calendar
            name = choice.default if isinstance(choice, CalendarChoice) else choice
            compiled.append(
                CompiledPolicy(
                    policy.name,
                    index,
                    condition,
                    condition.compile(),
                    calendars[name],
                    name,
                    policy.hours,
                    Pickled(policy),
                    calendars,
                    zoned,
                    {metric: _target_rule(target) for metric, target in policy.targets.items()},
                    CalendarPick(choice.by, dict(choice.map), choice.default)
                    if isinstance(choice, CalendarChoice)
                    else None,
                    None
                    if policy.warnings is None
                    else WarningRule(tuple(policy.warnings.at_percent), tuple(policy.warnings.before_due)),
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


def _target_rule(target: Target) -> TargetRule:
    """A metric's targets in the engine's form (microseconds, no models)."""

    def time(within: Within) -> TargetTime:
        return TargetTime(within.within, within.hours)

    return TargetRule(
        {key: time(within) for key, within in target.by_priority.items()},
        None if target.default is None else time(target.default),
    )


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


#: The runtime names stay importable from here, where they were defined first.
__all__ = [
    "BUSINESS",
    "CALENDAR",
    "CompiledPolicy",
    "DeriveRule",
    "PolicySet",
    "ResolvedTarget",
    "apply_rules",
    "compile_document",
    "derive_function",
]
