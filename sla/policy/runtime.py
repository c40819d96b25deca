"""The runtime form of a policy file: :class:`PolicySet`, what the engine, the
reports and embedders hold once :func:`sla.policy.compile.compile_document`
has checked the file.

Nothing here imports pydantic, YAML or the holidays library. The engine
reads targets, the calendar choice and warnings from the plain records
below, and the validated document (:attr:`PolicySet.spec`, pydantic's
models) travels beside them as :class:`Pickled` bytes of its own. So a policy
set pickled by :mod:`sla.io.policy_cache` loads back without importing any
of those libraries, which cost a command more CPU time before its first
ticket than 10,000 tickets take to read (``docs/performance.md``), and the
document is unpickled only when something asks for it (``sla explain``,
``sla serve``'s digest).

Compiled predicates are closures, which pickle cannot carry: a
:class:`CompiledPolicy` or :class:`DeriveRule` pickles its parsed condition
and compiles it again when loaded.

>>> from sla.policy.compile import compile_document
>>> from sla.policy.source import parse_yaml
>>> import pickle
>>> policies = compile_document(parse_yaml('''
... policies:
...   - name: vip
...     match: {tier: enterprise}
...     targets: {first_response: {urgent: 1h, default: 4h}}
... '''))
>>> again = pickle.loads(pickle.dumps(policies))
>>> again.target_for({"tier": "enterprise", "priority": "urgent"}, "first_response")[1].us
3600000000
>>> again.policy_for({"tier": "free"}) is None, again.spec.policies[0].name
(True, 'vip')
"""

from __future__ import annotations

import pickle
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from sla.calendar.index import ALWAYS_OPEN, Calendar
from sla.engine.metrics import MetricDef
from sla.errors import ArgumentError
from sla.policy.calendar_choice import ZonedCalendar
from sla.policy.conditions import AttributeCondition, Predicate, parse_condition
from sla.policy.keys import ScalarKey, scalar_key

if TYPE_CHECKING:
    from sla.policy.model import Policy, PolicyFile

BUSINESS = "business"
CALENDAR = "calendar"

_T = TypeVar("_T")


class Pickled(Generic[_T]):
    """A value that pickles as bytes of its own and is unpickled on first use,
    so that loading its holder imports nothing the value needs.

    >>> import pickle
    >>> held = pickle.loads(pickle.dumps(Pickled({"a": 1})))
    >>> held.get()
    {'a': 1}
    """

    __slots__ = ("_value", "_bytes")

    def __init__(self, value: _T) -> None:
        self._value: _T | None = value
        self._bytes: bytes | None = None

    def get(self) -> _T:
        """The value (unpickled now if it came from pickle's bytes)."""
        value = self._value
        if value is None:
            assert self._bytes is not None
            value = self._value = pickle.loads(self._bytes)
        return value

    def __getstate__(self) -> bytes:
        if self._bytes is None:
            self._bytes = pickle.dumps(self._value, protocol=pickle.HIGHEST_PROTOCOL)
        return self._bytes

    def __setstate__(self, state: bytes) -> None:
        self._value, self._bytes = None, state


# ------------------------------------------------------------ targets
@dataclass(frozen=True, slots=True)
class TargetTime:
    """One target of a metric: how long (µs), in which hours (None: the policy's)."""

    us: int
    hours: str | None


@dataclass(frozen=True, slots=True)
class TargetRule:
    """A metric's targets in a policy: per priority, with a default."""

    by_priority: Mapping[ScalarKey, TargetTime]
    default: TargetTime | None

    def for_priority(self, priority: object) -> TargetTime | None:
        """The target for a ticket's priority: the key equal to it under the
        language's equality (``1`` finds ``1.0``; ``"1"`` only ``"1"``), else the default."""
        key = scalar_key(priority)
        if key is not None:
            found = self.by_priority.get(key)
            if found is not None:
                return found
        return self.default


@dataclass(frozen=True, slots=True)
class CalendarPick:
    """A calendar chosen by an attribute: ``{by: region, map: {emea: berlin}, default: berlin}``."""

    by: str
    map: Mapping[str, str]
    default: str

    def choose(self, value: object) -> str:
        """The calendar name for an attribute value: a text equal to a key, else the default."""
        if type(value) is str:
            return self.map.get(value, self.default)
        return self.default


@dataclass(frozen=True, slots=True)
class WarningRule:
    """When an open cycle warns: at shares of its target, and times before due (µs)."""

    at_percent: tuple[float, ...]
    before_due: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A target as it applies to one cycle: how long, in which hours, on which calendar."""

    us: int
    hours: str
    calendar: Calendar

    @property
    def seconds(self) -> float:
        return self.us / 1_000_000


# ------------------------------------------------------------ policies
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
    #: The policy as validated (pydantic's model), unpickled when first asked for.
    spec_ref: Pickled[Policy]
    #: Every calendar of the file by name, and those whose zone an attribute picks.
    calendars: Mapping[str, Calendar]
    zoned: Mapping[str, ZonedCalendar]
    #: Metric name to its targets; the calendar choice by attribute; warnings.
    targets: Mapping[str, TargetRule]
    pick: CalendarPick | None
    warnings: WarningRule | None

    @property
    def spec(self) -> Policy:
        """The policy as the file states it (validated)."""
        return self.spec_ref.get()

    def __reduce__(self) -> tuple[Callable[..., CompiledPolicy], tuple[object, ...]]:
        # `matches` is a closure: pickle the condition and compile it again.
        return _compiled_policy, (
            self.name,
            self.index,
            self.condition,
            self.calendar,
            self.calendar_name,
            self.hours,
            self.spec_ref,
            self.calendars,
            self.zoned,
            self.targets,
            self.pick,
            self.warnings,
        )

    def calendar_for(self, attributes: Mapping[str, object]) -> tuple[Calendar, str]:
        """The calendar that judges a ticket with these attributes, and its name."""
        pick = self.pick
        name = pick.choose(attributes.get(pick.by)) if pick is not None else self.calendar_name
        zoned = self.zoned.get(name)
        return (zoned.for_attributes(attributes) if zoned is not None else self.calendars[name]), name

    def target(
        self, metric: str, priority: object, attributes: Mapping[str, object] | None = None
    ) -> ResolvedTarget | None:
        """The target for a metric and priority; with ``attributes``, on the
        calendar they choose (else on the policy's default calendar)."""
        rule = self.targets.get(metric)
        if rule is None:
            return None
        within = rule.for_priority(priority)
        if within is None:
            return None
        hours = within.hours or self.hours
        if hours != BUSINESS:
            return ResolvedTarget(within.us, hours, ALWAYS_OPEN)
        calendar = self.calendar if attributes is None else self.calendar_for(attributes)[0]
        return ResolvedTarget(within.us, hours, calendar)


def _compiled_policy(
    name: str,
    index: int,
    condition: AttributeCondition,
    calendar: Calendar,
    calendar_name: str,
    hours: str,
    spec_ref: Pickled[Policy],
    calendars: Mapping[str, Calendar],
    zoned: Mapping[str, ZonedCalendar],
    targets: Mapping[str, TargetRule],
    pick: CalendarPick | None,
    warnings: WarningRule | None,
) -> CompiledPolicy:
    return CompiledPolicy(
        name,
        index,
        condition,
        condition.compile(),
        calendar,
        calendar_name,
        hours,
        spec_ref,
        calendars,
        zoned,
        targets,
        pick,
        warnings,
    )


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

    def __reduce__(self) -> tuple[Callable[..., DeriveRule], tuple[object, ...]]:
        return _derive_rule, (self.condition, self.assign)


def _derive_rule(condition: AttributeCondition | None, assign: Assignments) -> DeriveRule:
    return DeriveRule(condition, None if condition is None else condition.compile(), assign)


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
    """A validated policy file, ready for the engine.

    Built by :func:`sla.policy.compile.compile_document` (or
    :func:`sla.io.policy_files.load_policies`); it pickles without the
    document's models loaded (see the module's text).
    """

    def __init__(
        self,
        spec: PolicyFile,
        calendars: dict[str, Calendar],
        metrics: dict[str, MetricDef],
        policies: list[CompiledPolicy],
        source: str | None = None,
    ):
        self._spec = Pickled(spec)
        self.source = source
        self.calendars = calendars
        self.metrics = metrics
        self.policies = policies
        self.done_statuses = frozenset(spec.done_statuses)
        targeted = {name for p in policies for name in p.targets}
        #: The metrics some policy has a target for, in name order: the only ones worth running.
        self.active_metrics = tuple(sorted(name for name in metrics if name in targeted))
        self.derive_rules = tuple(
            _derive_rule(None if rule.when is None else parse_condition(rule.when), tuple(rule.set.items()))
            for rule in spec.derive
        )
        #: Raw attributes to the ticket's attributes (None: no derive rules).
        self.derive = derive_function(self.derive_rules) if self.derive_rules else None
        # Policy versions: the bounds of every `effective` cut time into eras;
        # a ticket's era (by its created instant) fixes its candidate policies.
        specs = [p.spec for p in policies]
        self.era_bounds = sorted(
            {b for s in specs if s.effective for b in (s.effective.from_, s.effective.until) if b is not None}
        )
        self.era_policies = [
            tuple(
                p
                for p, s in zip(policies, specs, strict=True)
                if s.effective is None or s.effective.covers(instant)
            )
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
                .union(p.pick.by for p in policies if p.pick is not None)
                .union(z.by for z in zoned.values())
            )
        )

    @property
    def spec(self) -> PolicyFile:
        """The policy file as validated (pydantic's model of it)."""
        return self._spec.get()

    def __getstate__(self) -> dict[str, object]:
        # The derive function is a closure (rebuilt from the rules), and the
        # policy look-up cache belongs to the process that filled it.
        state = dict(self.__dict__)
        state["derive"] = None
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.derive = derive_function(self.derive_rules) if self.derive_rules else None

    def holiday_years_known(self) -> int:
        """How many years its calendars have looked up holidays for
        (see :meth:`sla.calendar.index.Calendar.holiday_years_known`)."""
        calendars = [*self.calendars.values()]
        for zoned in self.zoned_calendars.values():
            calendars += zoned.calendars()
        return sum(calendar.holiday_years_known() for calendar in calendars)

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
