"""The policy file as users write it: pydantic models, frozen, unknown keys forbidden.

These models describe the file (calendars, metrics, policies; docs/policies.md).  Compiling
into the runtime :class:`~sla.policy.compile.PolicySet` lives in
:mod:`sla.policy.compile`, which also checks what a model cannot see alone
(calendar hours, references between sections, duplicate names) and turns
every problem into a located message; :func:`sla.policy.schema.json_schema`
is the JSON Schema editors use for completion and inline checks.

The module runs past 400 lines because it is the one description of the
file: the models nest (a policy holds targets, a metric holds conditions) and
each keeps next to it the validator that names what is wrong with a value.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sla.errors import SlaError
from sla.policy.conditions import parse_condition
from sla.policy.duration import parse_duration_us
from sla.policy.messages import LocatedValueError, show, suggest
from sla.policy.source import ScalarKey, scalar_key


# ------------------------------------------------------------ durations
def _duration(value: object) -> int:
    try:
        return parse_duration_us(value)
    except SlaError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[int, BeforeValidator(_duration), WithJsonSchema({"x-sla-ref": "Duration"})]
"""A duration in integer microseconds, written like 15m, 1h30m, 2d, PT4H or a number of seconds."""

HoursKind = Literal["business", "calendar"]
Scalar = str | bool | int | float | None


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


def names_schema(
    description: str, examples: list[Any] | None = None, enum: list[str] | None = None
) -> dict[str, Any]:
    """The JSON Schema of a field that takes one name or a list of names."""
    item: dict[str, Any] = {"type": "string"}
    if enum:
        item = {"enum": enum}
    schema: dict[str, Any] = {"anyOf": [item, {"type": "array", "items": item}], "description": description}
    if examples:
        schema["examples"] = examples
    return schema


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ------------------------------------------------------------ targets
class Within(Model):
    """A target with its own kind of hours: ``{within: 3d, hours: calendar}``."""

    within: Duration = Field(description="How long the metric may run.")
    hours: HoursKind | None = Field(
        None,
        description="business (count only the policy calendar's open hours) or calendar (count every hour); "
        "defaults to the policy's hours.",
    )


class Target(Model):
    """A metric's target: one for every priority, or one per priority with a default."""

    by_priority: dict[ScalarKey, Within] = Field(default_factory=dict)
    default: Within | None = None

    def for_priority(self, priority: object) -> Within | None:
        """The target for a ticket's priority: the key equal to it (a number
        finds the key written as that number, ``1`` and ``1.0`` alike; ``true``
        only the key ``true``; ``"1"`` only the key ``"1"``), else ``default``.
        """
        key = scalar_key(priority)
        if key is not None:
            found = self.by_priority.get(key)
            if found is not None:
                return found
        return self.default


_WITHIN_EXPECTED = "a duration like 4h, or {within: <duration>, hours: business|calendar}"


def _within(value: object, subpath: tuple[object, ...]) -> Within:
    """One target value; raises a LocatedValueError listing every problem in it."""
    if isinstance(value, Within):
        return value
    if isinstance(value, dict):
        problems: list[tuple[tuple[object, ...], str]] = []
        for key in value:
            if key not in ("within", "hours"):
                problems.append(
                    (
                        subpath + (key,),
                        f"unknown key {str(key)!r}{suggest(key, ['within', 'hours'])}; "
                        f"expected {_WITHIN_EXPECTED}",
                    )
                )
        if "within" not in value:
            problems.append((subpath, f"missing within; expected {_WITHIN_EXPECTED}"))
        hours = value.get("hours")
        if hours is not None and hours not in ("business", "calendar"):
            problems.append((subpath + ("hours",), f"hours is {show(hours)}; expected business or calendar"))
        within = 0
        if "within" in value:
            try:
                within = parse_duration_us(value["within"])
            except SlaError as exc:
                problems.append((subpath + ("within",), str(exc)))
        if problems:
            raise LocatedValueError.collect(problems)
        return Within.model_construct(within=within, hours=hours)
    if isinstance(value, list):
        raise LocatedValueError(f"{show(value)} is a list; expected {_WITHIN_EXPECTED}", subpath)
    try:
        return Within.model_construct(within=parse_duration_us(value), hours=None)
    except SlaError as exc:
        raise LocatedValueError(str(exc), subpath) from None


def _target(value: object) -> Target:
    if isinstance(value, Target):
        return value
    if isinstance(value, dict) and "within" not in value:
        if not value:
            raise LocatedValueError(
                "an empty map; expected a duration, or priorities like {urgent: 1h, default: 8h}"
            )
        by_priority: dict[ScalarKey, Within] = {}
        default = None
        problems: list[tuple[tuple[object, ...], str]] = []
        for key, item in value.items():
            try:
                within = _within(item, (key,))
            except LocatedValueError as exc:
                problems += exc.items
                continue
            if key == "default":
                default = within
            else:
                by_priority[scalar_key(key) or ("text", str(key))] = within
        if problems:
            raise LocatedValueError.collect(problems)
        return Target.model_construct(by_priority=by_priority, default=default)
    return Target.model_construct(by_priority={}, default=_within(value, ()))


TargetSpec = Annotated[Target, BeforeValidator(_target), WithJsonSchema({"x-sla-ref": "Target"})]


# ------------------------------------------------------------ calendars


class Holidays(Model):
    """Closed days: the ``holidays`` package's defaults for a country, plus dates."""

    country: str | None = Field(
        None,
        description="Country code for the `holidays` package (DE, US, GB, FR...): "
        "its public holidays, observed days included, close the calendar.",
    )
    subdivision: str | None = Field(
        None, description="State, province or region code within the country (BE, CA...)."
    )
    categories: list[str] | None = Field(
        None, description="The `holidays` package's categories (default: public)."
    )
    dates: list[date] = Field(default_factory=list, description="Extra whole-day closures, YYYY-MM-DD.")

    @field_validator("subdivision", mode="before")
    @classmethod
    def _subdivision_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("categories", mode="before")
    @classmethod
    def _categories_list(cls, value: object) -> object:
        return _listify(value)


class CalendarSpec(Model):
    """A business calendar as written in the file."""

    timezone: str = Field(
        "UTC", description="IANA time zone of the calendar's wall-clock hours (default UTC)."
    )
    hours: dict[str, list[str] | str] = Field(
        description="Weekly schedule: day keys (mon..sun, ranges mon-fri or sat-mon, lists mon,wed) to intervals."
    )
    holidays: Holidays | None = Field(
        None, description="Whole days closed: a country's public holidays and extra dates."
    )
    overrides: dict[date, list[str] | str | None] = Field(
        default_factory=dict,
        description="Dates with their own hours instead of the weekly ones ([] or null: closed). Wins over holidays.",
    )

    @field_validator("overrides", mode="before")
    @classmethod
    def _dates_as_keys(cls, value: object) -> object:
        return value if value is not None else {}


# ------------------------------------------------------------ metrics
CONDITION_NAMES = ("created", "response", "customer_message", "done", "reopened", "csat")
CONDITION_KEYS = ("status_entered", "status_left", "field_set", "field_changed", "message")
ConditionName = Literal["created", "response", "customer_message", "done", "reopened", "csat"]
Author = Literal["customer", "agent", "bot"]
CONDITION_EXPECTED = (
    f"one of {', '.join(CONDITION_NAMES)}, or a mapping with one of "
    "status_entered: [..], status_left: [..], field_set: NAME, field_changed: NAME, message: {author: [..], public: true}"
)


class MessageCondition(Model):
    """A message event, optionally only from some authors and only public or internal ones."""

    author: Annotated[
        list[Author] | None,
        BeforeValidator(_listify),
        WithJsonSchema(
            names_schema(
                "Authors that count: customer, agent, bot (default: any).", enum=["customer", "agent", "bot"]
            )
        ),
    ] = None
    public: bool | None = Field(
        None, description="true: public messages only; false: internal notes only; omitted: both."
    )


_STATUSES = Annotated[
    list[str] | None,
    BeforeValidator(_listify),
    Field(min_length=1),
    WithJsonSchema(names_schema("A status or list of statuses.", examples=[["escalated"]])),
]


class Condition(Model):
    """One trigger of a custom metric: exactly one of its keys."""

    status_entered: _STATUSES = None
    status_left: _STATUSES = None
    field_set: str | None = Field(
        None, description="An update gives this ticket attribute a value (from none)."
    )
    field_changed: str | None = Field(None, description="An update changes this ticket attribute's value.")
    message: MessageCondition | None = Field(
        None, description="A message, optionally only from some authors."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [key for key in CONDITION_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a condition takes exactly one of {', '.join(CONDITION_KEYS)} "
                f"(given: {', '.join(given) or 'none'})"
            )
        return self


_CONDITION_EXAMPLES = {
    "status_entered": "{status_entered: [escalated]}",
    "status_left": "{status_left: [escalated]}",
    "field_set": "{field_set: assignee}",
    "field_changed": "{field_changed: group}",
    "message": "{message: {author: [agent]}}",
}


def _condition(value: object) -> object:
    if isinstance(value, str):
        if value in CONDITION_NAMES:
            return value
        if value in CONDITION_KEYS:
            raise LocatedValueError(
                f"{value} needs a value, like {{{value}: ...}}; expected {CONDITION_EXPECTED}"
            )
        raise LocatedValueError(
            f"unknown condition {value!r}{suggest(value, CONDITION_NAMES + CONDITION_KEYS)}; "
            f"expected {CONDITION_EXPECTED}"
        )
    if isinstance(value, dict):
        unknown = [key for key in value if key not in CONDITION_KEYS]
        if unknown:
            key = unknown[0]
            raise LocatedValueError(
                f"unknown condition key {str(key)!r}{suggest(key, CONDITION_KEYS)}; "
                f"expected {CONDITION_EXPECTED}",
                (key,),
            )
        if len(value) != 1:
            given = ", ".join(map(str, value)) or "none"
            raise LocatedValueError(
                f"a condition takes exactly one of {', '.join(CONDITION_KEYS)} (given: {given}); "
                "list several conditions to trigger on any of them"
            )
        ((key, given),) = value.items()
        if given is None:
            raise LocatedValueError(
                f"{key} needs a value, like {_CONDITION_EXAMPLES[key]}; expected {CONDITION_EXPECTED}", (key,)
            )
        return value
    if isinstance(value, Condition):
        return value
    raise LocatedValueError(f"{show(value)} is not a condition; expected {CONDITION_EXPECTED}")


def _condition_kind(value: object) -> str:
    return "condition-name" if isinstance(value, str) else "condition-map"


ConditionSpec = Annotated[
    Annotated[ConditionName, Tag("condition-name")] | Annotated[Condition, Tag("condition-map")],
    Discriminator(_condition_kind),
    BeforeValidator(_condition),
]
_CONDITIONS_SCHEMA: dict[str, Any] = {
    "description": "A condition or a list of conditions (any of them triggers): " + CONDITION_EXPECTED + ".",
    "anyOf": [
        {"x-sla-ref": "ConditionSpec"},
        {"type": "array", "items": {"x-sla-ref": "ConditionSpec"}, "minItems": 1},
    ],
}


def _conditions_list(value: object) -> object:
    return [value] if isinstance(value, (str, dict)) else value


Conditions = Annotated[
    list[ConditionSpec] | None, BeforeValidator(_conditions_list), WithJsonSchema(_CONDITIONS_SCHEMA)
]


class MetricOptions(Model):
    """Options of a built-in metric, or the whole definition of a custom one."""

    description: str | None = Field(None, description="Free text, shown by sla validate.")
    pause_statuses: Annotated[
        list[str] | None,
        BeforeValidator(_listify),
        WithJsonSchema(
            names_schema(
                "Statuses during which the clock is paused (replaces the metric's default list).",
                examples=[["pending", "on_hold"]],
            )
        ),
    ] = None
    responders: Annotated[
        list[Literal["agent", "bot", "customer"]] | None,
        BeforeValidator(_listify),
        WithJsonSchema(
            names_schema(
                "Authors whose public messages count as a response (default: agent).",
                enum=["agent", "bot", "customer"],
                examples=[["agent", "bot"]],
            )
        ),
    ] = None
    start: Conditions = None
    stop: Conditions = None
    resume: Conditions = None
    cycles: Literal["once", "repeat", "resume"] | None = Field(
        None,
        description="once (default): one cycle per ticket; repeat: a new cycle at each start after a stop; "
        "resume: the one cycle resumes on a resume condition.",
    )
    cancel_on_done: bool | None = Field(
        None,
        description="End an open cycle when the ticket becomes done: breached if over target, else cancelled.",
    )


# ------------------------------------------------------------ policies
class Warnings(Model):
    """When an open cycle warns: at shares of its target and/or a time before due."""

    at_percent: list[Annotated[float, Field(gt=0, lt=100)]] = Field(
        default_factory=list,
        description="Warn when an open cycle has used this share of its target (0 < p < 100).",
    )
    before_due: list[Duration] = Field(
        default_factory=list, description="Warn this much (business) time before the cycle is due."
    )


def _match(value: object) -> object:
    """A condition map (sla.policy.conditions): checked here, compiled later."""
    if value is None:
        return {}
    if isinstance(value, dict):
        parse_condition(value)  # raises LocatedValueError naming each bad part
    return value


class Policy(Model):
    """One policy: which tickets (``match``), on which calendar, with which targets."""

    name: str = Field(description="Unique name, printed in every result row.")
    description: str | None = Field(None, description="Free text.")
    match: Annotated[dict[str, Any], BeforeValidator(_match)] = Field(
        default_factory=dict,
        description="A condition on the ticket's attributes: every key must hold. A value must equal the "
        "attribute, a list must contain it, an operator map ({gte: 10000}) must hold; any/all/not combine "
        "condition maps. Omitted: every ticket.",
    )
    calendar: str = Field("24x7", description="A calendar under calendars, or the built-in 24x7 (default).")
    hours: HoursKind = Field(
        "business",
        description="Default kind of hours of this policy's targets: business "
        "(the calendar's open hours) or calendar (every hour).",
    )
    targets: dict[str, TargetSpec] = Field(
        default_factory=dict, description="Metric name (built-in or custom) to its target."
    )
    warnings: Warnings | None = Field(None, description="When an open cycle warns before it breaches.")

    @field_validator("targets", mode="before")
    @classmethod
    def _targets_none(cls, value: object) -> object:
        return {} if value is None else value


class PolicyFile(Model):
    """The whole policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_: str | None = Field(
        None, alias="$schema", description="Optional: the schema's location, for editors."
    )
    done_statuses: list[str] = Field(
        default_factory=lambda: ["solved", "closed"],
        description="Statuses that count as done (default: solved, closed).",
    )
    metrics: dict[str, MetricOptions] = Field(
        default_factory=dict,
        description="Options of built-in metrics (pause_statuses, responders) and custom metric definitions; "
        "file-wide.",
    )
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict, description="Named business calendars.")
    policies: list[Policy] = Field(
        min_length=1, description="Policies in order: the first that matches a ticket wins."
    )

    @field_validator("metrics", "calendars", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value


TOP_LEVEL_KEYS = ("done_statuses", "metrics", "calendars", "policies")
BUILTIN_METRIC_NAMES = ("first_response", "next_response", "resolution", "requester_wait", "agent_work")
