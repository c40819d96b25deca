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

# Annotations here are objects made as each class is (no ``from __future__
# import annotations``): as text, pydantic would turn each back into a type
# through typing.ForwardRef, compiling it, about 6 M instructions of every
# command's start-up.
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sla.errors import SlaError
from sla.policy.conditions import parse_condition
from sla.policy.duration import parse_duration_us
from sla.policy.messages import LocatedValueError, show, suggest
from sla.policy.source import BoolKey, ScalarKey, scalar_key
from sla.timefmt import parse_instant, to_us


# ------------------------------------------------------------ durations
def _duration(value: object) -> int:
    try:
        return parse_duration_us(value)
    except SlaError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[int, BeforeValidator(_duration), WithJsonSchema({"x-sla-ref": "Duration"})]
"""A duration in integer microseconds, written like 15m, 1h30m, 2d, PT4H or a number of seconds."""


def empty_dict() -> dict[Any, Any]:
    """The default of a mapping field.  (A Python function, not ``dict``:
    pydantic reads every default factory's signature, and a builtin's is
    parsed from text by the tokenize module, whose first use alone costs
    about 5 ms of every command's start-up.)"""
    return {}


def empty_list() -> list[Any]:
    """The default of a list field (a Python function: see :func:`empty_dict`)."""
    return []


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

    by_priority: dict[ScalarKey, Within] = Field(default_factory=empty_dict)
    default: Within | None = None


_WITHIN_EXPECTED = "a duration like 4h, or {within: <duration>, hours: business|calendar}"
_WITHIN_KEYS = ("within", "hours")
#: The hint a misspelt ``within`` gets: ``; did you mean 'within'?``.
_MEANS_WITHIN = suggest("within", _WITHIN_KEYS)


def _within_keys_problems(
    value: dict[Any, Any], subpath: tuple[object, ...]
) -> list[tuple[tuple[object, ...], str]]:
    """Unknown keys of a ``{within, hours}`` mapping, each with a did-you-mean
    when one is close (``withn:``, ``hour:``); a missing ``within`` unless a
    misspelt one already says so."""
    problems: list[tuple[tuple[object, ...], str]] = []
    misspelt_within = False
    for key in value:
        if key in _WITHIN_KEYS:
            continue
        hint = suggest(key, _WITHIN_KEYS)
        misspelt_within = misspelt_within or hint == _MEANS_WITHIN
        problems.append(
            (
                subpath + (key,),
                f"unknown key {str(key)!r}" + (hint or f"; expected {_WITHIN_EXPECTED}"),
            )
        )
    if "within" not in value and not misspelt_within:
        problems.append((subpath, f"missing within; expected {_WITHIN_EXPECTED}"))
    return problems


def _within(value: object, subpath: tuple[object, ...]) -> Within:
    """One target value; raises a LocatedValueError listing every problem in it."""
    if isinstance(value, Within):
        return value
    if isinstance(value, dict):
        problems = _within_keys_problems(value, subpath)
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


def _meant_as_within(value: dict[Any, Any]) -> bool:
    """A mapping without ``within`` that is still a ``{within, hours}`` target
    with a misspelt key (``{withn: 3d, hours: calendar}``), not priorities:
    every key is ``hours`` or close to ``within``/``hours``, and one is
    ``hours: business|calendar`` or close to ``within``."""
    if not value or not all(key == "hours" or suggest(key, _WITHIN_KEYS) for key in value):
        return False
    return value.get("hours") in ("business", "calendar") or any(
        key != "hours" and suggest(key, _WITHIN_KEYS) == _MEANS_WITHIN for key in value
    )


def _target(value: object) -> Target:
    if isinstance(value, Target):
        return value
    if isinstance(value, dict) and "within" not in value and not _meant_as_within(value):
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
    dates: list[date] = Field(default_factory=empty_list, description="Extra whole-day closures, YYYY-MM-DD.")
    ics: str | list[str] | None = Field(
        None,
        description="iCalendar (.ics) files, relative to the policy file: each all-day event closes the days "
        "it covers, recurring ones (RRULE) at every occurrence.",
    )

    def ics_files(self) -> list[str]:
        """The .ics files named, as written."""
        return [] if self.ics is None else [self.ics] if isinstance(self.ics, str) else list(self.ics)

    @field_validator("subdivision", mode="before")
    @classmethod
    def _subdivision_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("categories", mode="before")
    @classmethod
    def _categories_list(cls, value: object) -> object:
        return _listify(value)


class ZoneChoice(Model):
    """A calendar's zone taken from a ticket attribute: ``{by: requester_tz, default: Europe/London}``."""

    by: str = Field(description="The attribute holding an IANA zone name.")
    default: str = Field(description="The zone when the attribute is missing or not a known zone name.")


class CalendarSpec(Model):
    """A business calendar as written in the file."""

    timezone: str | ZoneChoice = Field(
        "UTC",
        description="IANA time zone of the calendar's wall-clock hours (default UTC), or {by: attribute, "
        "default: zone} to read the hours in each ticket's own zone.",
    )
    hours: dict[str, list[str] | str] = Field(
        description="Weekly schedule: day keys (mon..sun, ranges mon-fri or sat-mon, lists mon,wed) to intervals."
    )
    holidays: Holidays | None = Field(
        None, description="Whole days closed: a country's public holidays and extra dates."
    )
    overrides: dict[date, list[str] | str | None] = Field(
        default_factory=empty_dict,
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
    public: StrictBool | None = Field(
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
    def _exactly_one(self) -> Self:
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


def _when(value: object) -> object:
    """A condition map (derive's when, a metric's pause_when): checked here, compiled later.

    Written out, it must be a map: a ``when:`` left empty (null) would
    otherwise read as no condition and set its attributes on every ticket
    (section 8: "`when`, if present, is a condition map")."""
    if value is None:
        raise ValueError(
            "null is no condition; expected a condition map like {tier: gold} "
            "(leave the key out for no condition)"
        )
    if isinstance(value, dict):
        parse_condition(value, what="when")
    return value


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
    field: str | None = Field(
        None,
        min_length=1,
        description="group_ownership only: the attribute whose stays are measured (default: group).",
    )
    pause_when: Annotated[dict[str, Any] | None, BeforeValidator(_when)] = Field(
        None,
        description="Also paused while the ticket's attributes satisfy this condition, like {waiting_on: vendor}.",
    )
    start: Conditions = None
    stop: Conditions = None
    resume: Conditions = None
    cycles: Literal["once", "repeat", "resume"] | None = Field(
        None,
        description="once (default): one cycle per ticket; repeat: a new cycle at each start after a stop; "
        "resume: the one cycle resumes on a resume condition.",
    )
    cancel_on_done: StrictBool | None = Field(
        None,
        description="End an open cycle when the ticket becomes done: breached if over target, else cancelled.",
    )


# ------------------------------------------------------------ policies
def _plain_number(value: object) -> object:
    """A number as written, never a boolean or text (pydantic would read
    true as 1 and '50' as 50)."""
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is a boolean; expected a number like 50")
    if isinstance(value, str):
        raise ValueError(f"{show(value)} is text; expected a number like 50 (no quotes)")
    return value


class Warnings(Model):
    """When an open cycle warns: at shares of its target and/or a time before due."""

    at_percent: list[Annotated[float, Field(gt=0, le=100), BeforeValidator(_plain_number)]] = Field(
        default_factory=empty_list,
        description="Warn when an open cycle has used this share of its target (0 < p <= 100; 100 is the due instant).",
    )
    before_due: list[Duration] = Field(
        default_factory=empty_list, description="Warn this much (business) time before the cycle is due."
    )


def _match(value: object) -> object:
    """A condition map (sla.policy.conditions): checked here, compiled later."""
    if value is None:
        return {}
    if isinstance(value, dict):
        parse_condition(value)  # raises LocatedValueError naming each bad part
    return value


# ------------------------------------------------------------ versions
_INSTANT_EXPECTED = "an RFC 3339 timestamp with an offset, like 2027-01-01T00:00:00+01:00, or a date"


def _instant(value: object) -> object:
    """An ``effective`` bound as epoch microseconds: a timestamp with an
    offset (``T`` or a space before the time), or a date meaning 00:00 UTC."""
    if isinstance(value, (int, float)):  # true/false are ints too
        raise LocatedValueError(f"{show(value)}; expected {_INSTANT_EXPECTED}")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise LocatedValueError(f"{value.isoformat()} has no UTC offset; add Z or an offset like +01:00")
        return to_us(value)
    if isinstance(value, date):
        return to_us(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise LocatedValueError(
                    f"{show(value)} is not a date; expected {_INSTANT_EXPECTED}"
                ) from None
            return to_us(datetime(day.year, day.month, day.day, tzinfo=UTC))
        try:
            return parse_instant(text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text)
        except SlaError as exc:
            raise LocatedValueError(str(exc)) from None
    raise LocatedValueError(f"{show(value)}; expected {_INSTANT_EXPECTED}")


Instant = Annotated[int, BeforeValidator(_instant), WithJsonSchema({"x-sla-ref": "Instant"})]


class Effective(Model):
    """When a policy applies: to tickets created at or after ``from`` and before ``until``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: Instant | None = Field(
        None, alias="from", description="Tickets created at or after this instant (a date is 00:00 UTC)."
    )
    until: Instant | None = Field(
        None, description="Tickets created before this instant (a date is 00:00 UTC)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.from_ is None and self.until is None:
            raise ValueError("effective needs from, until or both")
        if self.from_ is not None and self.until is not None and self.from_ >= self.until:
            raise ValueError("effective from must be before until")
        return self

    def covers(self, created: int) -> bool:
        return (self.from_ is None or self.from_ <= created) and (self.until is None or created < self.until)


# ------------------------------------------------------------ derive
def _set_values(value: object) -> object:
    if not isinstance(value, dict):
        return value
    if not value:
        raise LocatedValueError("set needs at least one attribute, like {priority: urgent}")
    problems: list[tuple[tuple[object, ...], str]] = []
    for key, item in value.items():
        if not isinstance(key, str) or isinstance(key, BoolKey):
            problems.append(((key,), f"set key {show(key)} is not an attribute name; write it as text"))
        elif isinstance(item, (dict, list)):
            kind = "a list" if isinstance(item, list) else "a mapping"
            problems.append(
                ((key,), f"{show(item)} is {kind}; set takes a text, a number, true/false or null")
            )
        elif isinstance(item, date):
            problems.append(((key,), f"{show(item)} is a date; quote it to set the text"))
    if problems:
        raise LocatedValueError.collect(problems)
    return value


class DeriveRule(Model):
    """Attributes computed from others: when ``when`` holds, ``set`` replaces them."""

    when: Annotated[dict[str, Any] | None, BeforeValidator(_when)] = Field(
        None,
        description="A condition on the attributes as the rules before left them; omitted: always applies.",
    )
    set: Annotated[dict[str, Scalar], BeforeValidator(_set_values)] = Field(
        description="Attributes to set (null removes one).",
    )


def _text_keys(value: object) -> object:
    """A calendar map's keys read as text: YAML's 1, true, null or a date are
    "1", "true", "null", "2026-01-01"."""
    if not isinstance(value, dict):
        return value
    return {
        (
            key.isoformat()
            if isinstance(key, date)
            else show(key)
            if isinstance(key, (bool, BoolKey))
            else "null"  # as YAML writes it (~ too), not Python's None
            if key is None
            else str(key)
        ): item
        for key, item in value.items()
    }


class CalendarChoice(Model):
    """A calendar chosen by a ticket attribute: ``{by: region, map: {emea: berlin}, default: berlin}``."""

    by: str = Field(description="The attribute whose text value picks the calendar.")
    map: Annotated[dict[str, str], BeforeValidator(_text_keys)] = Field(
        description="Attribute value (as text) to calendar name."
    )
    default: str = Field(description="The calendar for a missing value or one not in map.")

    def choose(self, value: object) -> str:
        """The calendar name for an attribute value: a text equal to a key, else ``default``."""
        if type(value) is str:
            return self.map.get(value, self.default)
        return self.default


class Policy(Model):
    """One policy: which tickets (``match``), on which calendar, with which targets."""

    name: str = Field(description="Unique name, printed in every result row.")
    description: str | None = Field(None, description="Free text.")
    match: Annotated[dict[str, Any], BeforeValidator(_match)] = Field(
        default_factory=empty_dict,
        description="A condition on the ticket's attributes: every key must hold. A value must equal the "
        "attribute, a list must contain it, an operator map ({gte: 10000}) must hold; any/all/not combine "
        "condition maps. Omitted: every ticket.",
    )
    calendar: str | CalendarChoice = Field(
        "24x7",
        description="A calendar under calendars, the built-in 24x7 (default), or {by: attribute, map: "
        "{value: calendar}, default: calendar} to choose one per ticket.",
    )
    hours: HoursKind = Field(
        "business",
        description="Default kind of hours of this policy's targets: business "
        "(the calendar's open hours) or calendar (every hour).",
    )
    targets: dict[str, TargetSpec] = Field(
        default_factory=empty_dict, description="Metric name (built-in or custom) to its target."
    )
    warnings: Warnings | None = Field(None, description="When an open cycle warns before it breaches.")
    effective: Effective | None = Field(
        None,
        description="Policy versions: only tickets created in [from, until) are candidates for this policy.",
    )

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
        default_factory=empty_dict,
        description="Options of built-in metrics (pause_statuses, responders) and custom metric definitions; "
        "file-wide.",
    )
    calendars: dict[str, CalendarSpec] = Field(
        default_factory=empty_dict, description="Named business calendars."
    )
    derive: list[DeriveRule] = Field(
        default_factory=empty_list,
        description="Rules in order, each seeing the earlier ones' results: when its condition holds, "
        "its set replaces attributes. The result is the ticket's attributes everywhere.",
    )
    policies: list[Policy] = Field(
        min_length=1, description="Policies in order: the first that matches a ticket wins."
    )

    @field_validator("metrics", "calendars", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("derive", mode="before")
    @classmethod
    def _none_is_no_rules(cls, value: object) -> object:
        return [] if value is None else value


TOP_LEVEL_KEYS = ("done_statuses", "metrics", "calendars", "derive", "policies")
BUILTIN_METRIC_NAMES = ("first_response", "next_response", "resolution", "requester_wait", "agent_work")
