"""The policy file as users write it: pydantic models, frozen, unknown keys forbidden.

These models describe the file (SEMANTICS.md sections 2, 4, 5).  Loading and
compiling into the runtime :class:`~sla.policyset.PolicySet` lives in
:mod:`sla.policyset`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from .duration import EXPECTED as DURATION_EXPECTED
from .duration import parse_duration_us
from .errors import SlaError


class LocatedValueError(ValueError):
    """A validation error deeper than the field it was raised for.

    pydantic keeps the exception in the error's context; the loader appends
    ``subpath`` to the error location so the message names the exact value.
    """

    def __init__(self, message: str, subpath: tuple[object, ...] = ()):
        super().__init__(message)
        self.subpath = subpath


def _duration(value: object) -> int:
    try:
        return parse_duration_us(value)
    except SlaError as exc:
        raise ValueError(str(exc)) from None


DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^(\d+(\.\d+)?d)? ?(\d+(\.\d+)?h)? ?(\d+(\.\d+)?m)? ?(\d+(\.\d+)?s)?$|^P.*|^\d+$"},
        {"type": "number", "minimum": 0},
    ],
    "description": DURATION_EXPECTED,
}
Duration = Annotated[int, BeforeValidator(_duration), WithJsonSchema(DURATION_SCHEMA)]
"""A duration in integer microseconds, written as in SEMANTICS.md section 1."""

HoursKind = Literal["business", "calendar"]
Scalar = Union[str, bool, int, float, None]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Within(Model):
    """A target with its own kind of hours: ``{within: 3d, hours: calendar}``."""

    within: Duration
    hours: HoursKind | None = None


class Target(Model):
    """A metric's target: one for every priority, or one per priority with a default."""

    by_priority: dict[str, Within] = Field(default_factory=dict)
    default: Within | None = None

    def for_priority(self, priority: object) -> Within | None:
        if priority is not None:
            found = self.by_priority.get(priority if isinstance(priority, str) else str(priority))
            if found is not None:
                return found
        return self.default


def _within(value: object, subpath: tuple[object, ...]) -> Within:
    if isinstance(value, Within):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"within", "hours"}
        if "within" not in value or unknown:
            what = f"unknown key {sorted(map(str, unknown))[0]!r}" if unknown else "missing within"
            raise LocatedValueError(
                f"{what}; expected a duration or {{within: <duration>, hours: business|calendar}}", subpath
            )
        hours = value.get("hours")
        if hours is not None and hours not in ("business", "calendar"):
            raise LocatedValueError(f"hours is {hours!r}; expected business or calendar", subpath + ("hours",))
        try:
            return Within.model_construct(within=parse_duration_us(value["within"]), hours=hours)
        except SlaError as exc:
            raise LocatedValueError(str(exc), subpath + ("within",)) from None
    try:
        return Within.model_construct(within=parse_duration_us(value), hours=None)
    except SlaError as exc:
        raise LocatedValueError(str(exc), subpath) from None


_WITHIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"within": DURATION_SCHEMA, "hours": {"enum": ["business", "calendar"]}},
    "required": ["within"],
    "additionalProperties": False,
}


def _target(value: object) -> Any:
    if isinstance(value, Target):
        return value
    if isinstance(value, dict) and "within" not in value:
        by_priority: dict[str, Within] = {}
        default = None
        for key, item in value.items():
            within = _within(item, (key,))
            if key == "default":
                default = within
            else:
                by_priority[str(key)] = within
        return Target.model_construct(by_priority=by_priority, default=default)
    return Target.model_construct(by_priority={}, default=_within(value, ()))


TargetSpec = Annotated[
    Target,
    BeforeValidator(_target),
    WithJsonSchema(
        {
            "description": "A duration for every priority, {within, hours}, or a map priority -> target with a default key",
            "anyOf": [
                DURATION_SCHEMA,
                _WITHIN_SCHEMA,
                {"type": "object", "additionalProperties": {"anyOf": [DURATION_SCHEMA, _WITHIN_SCHEMA]}},
            ],
        }
    ),
]


class Holidays(Model):
    """Closed days: the ``holidays`` package's defaults for a country, plus dates."""

    country: str | None = None
    subdivision: str | None = None
    categories: list[str] | None = None
    dates: list[date] = Field(default_factory=list)


class CalendarSpec(Model):
    """A business calendar as written in the file (SEMANTICS.md section 2)."""

    timezone: str = "UTC"
    hours: dict[str, Union[list[str], str]]
    holidays: Holidays | None = None
    overrides: dict[date, Union[list[str], None]] = Field(default_factory=dict)

    @field_validator("overrides", mode="before")
    @classmethod
    def _dates_as_keys(cls, value: object) -> object:
        return value if value is not None else {}


ConditionName = Literal["created", "response", "customer_message", "done", "reopened", "csat"]


class MessageCondition(Model):
    author: list[Literal["customer", "agent", "bot"]] | None = None
    public: bool | None = None


class Condition(Model):
    """One trigger of a custom metric: exactly one of its keys."""

    status_entered: list[str] | None = None
    status_left: list[str] | None = None
    field_set: str | None = None
    field_changed: str | None = None
    message: MessageCondition | None = None

    @field_validator("status_entered", "status_left", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


ConditionSpec = Union[ConditionName, Condition]


class MetricOptions(Model):
    """Options of a built-in metric, or the whole definition of a custom one."""

    description: str | None = None
    pause_statuses: list[str] | None = None
    responders: list[Literal["agent", "bot", "customer"]] | None = None
    start: list[ConditionSpec] | None = None
    stop: list[ConditionSpec] | None = None
    resume: list[ConditionSpec] | None = None
    cycles: Literal["once", "repeat", "resume"] | None = None
    cancel_on_done: bool | None = None

    @field_validator("start", "stop", "resume", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, (str, dict)) else value


class Warnings(Model):
    """When an open cycle warns: at shares of its target and/or a time before due."""

    at_percent: list[Annotated[float, Field(gt=0, lt=100)]] = Field(default_factory=list)
    before_due: list[Duration] = Field(default_factory=list)


class Policy(Model):
    """One policy: which tickets (``match``), on which calendar, with which targets."""

    name: str
    description: str | None = None
    match: dict[str, Union[Scalar, list[Scalar]]] = Field(default_factory=dict)
    calendar: str = "24x7"
    hours: HoursKind = "business"
    targets: dict[str, TargetSpec] = Field(default_factory=dict)
    warnings: Warnings | None = None

    @field_validator("match", mode="before")
    @classmethod
    def _match_none(cls, value: object) -> object:
        return {} if value is None else value


class PolicyFile(Model):
    """The whole policy file."""

    done_statuses: list[str] = Field(default_factory=lambda: ["solved", "closed"])
    metrics: dict[str, MetricOptions] = Field(default_factory=dict)
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    policies: list[Policy] = Field(min_length=1)

    @field_validator("metrics", "calendars", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the policy file, for editors and CI checks."""
    schema = PolicyFile.model_json_schema()
    schema["title"] = "sla policy file"
    return schema
