"""The JSON Schema of the policy file, for editors (completion, inline checks) and CI.

:func:`json_schema` starts from the pydantic models of :mod:`sla.policy.model`
and sharpens them with what the loader checks beyond types: duration,
interval, day-key and date patterns, built-in metric names for completion,
custom metrics needing start and stop.  The pieces below are the schema's
own definitions (``$defs``); ``{"x-sla-ref": NAME}`` placeholders in the
models become ``$ref`` s to them.

Patterns carry the words an editor shows when a value does not fit
(``patternErrorMessage``, and ``errorMessage`` for a value of the wrong
kind: keywords of VS Code's JSON and Red Hat's YAML language servers, which
other validators ignore), so a bad duration reads "a duration like 15m, 4h
or PT4H" rather than a regular expression.  The schema's ``$id``,
:data:`SCHEMA_ID`, names version 2 of the policy language; it is an
identifier, kept while the language stays compatible.

>>> json_schema()["title"], json_schema()["$id"] == SCHEMA_ID
('sla policy file', True)
"""

from __future__ import annotations

import copy
from typing import Any

from sla.calendar.hours import DAY_NAMES
from sla.engine.metrics import BUILTIN_METRICS
from sla.policy.duration import EXPECTED as DURATION_EXPECTED
from sla.policy.model import (
    CONDITION_EXPECTED,
    CONDITION_NAMES,
    Condition,
    PolicyFile,
    names_schema,
)

#: The schema's identifier: version 2 of the policy language (conditions,
#: derive, versions).  A name, not a promise of a download; example files
#: name it in their ``# yaml-language-server: $schema=`` line.
SCHEMA_ID = "https://sla.dev/schema/policy/v2.json"


def _worded(schema: dict[str, Any], words: str) -> dict[str, Any]:
    """``schema`` with the message editors show when a value does not fit it."""
    pattern = {"patternErrorMessage": words} if "pattern" in schema else {}
    return {**schema, **pattern, "errorMessage": words}


# ------------------------------------------------------------ durations
_NUM = r"[0-9]+(\.[0-9]+)?"
DURATION_PATTERN = (
    rf"^(?=.*[0-9])(?!.* $)({_NUM}d ?)?({_NUM}h ?)?({_NUM}m ?)?({_NUM}s)?$"
    rf"|^P(?!$)({_NUM}D)?(T(?=[0-9])({_NUM}H)?({_NUM}M)?({_NUM}S)?)?$"
    r"|^[0-9]+$"
)
DURATION_WORDS = "a duration like 15m, 4h or PT4H (units d, h, m, s in that order), or a number of seconds"
DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        _worded({"type": "string", "pattern": DURATION_PATTERN}, f"Expected {DURATION_WORDS}."),
        _worded({"type": "number", "minimum": 0}, f"Expected {DURATION_WORDS}."),
    ],
    "description": f"A duration: {DURATION_EXPECTED}. Units d (24 hours), h, m, s in that order.",
    "examples": ["15m", "1h30m", "8h", "2d", "PT4H"],
}
_WITHIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A target with its own kind of hours, e.g. {within: 3d, hours: calendar}.",
    "properties": {
        "within": {"x-sla-ref": "Duration"},
        "hours": {
            "enum": ["business", "calendar"],
            "description": "business or calendar; defaults to the policy's hours.",
        },
    },
    "required": ["within"],
    "additionalProperties": False,
}
_TARGET_VALUE_SCHEMA: dict[str, Any] = {"anyOf": [{"x-sla-ref": "Duration"}, {"x-sla-ref": "Within"}]}
TARGET_SCHEMA: dict[str, Any] = {
    "description": "A duration for every priority (4h), {within: 3d, hours: calendar}, or a map from the ticket's "
    "priority to one of those, with `default` for any other priority and tickets without one.",
    "anyOf": [
        {"x-sla-ref": "Duration"},
        {"x-sla-ref": "Within"},
        {
            "type": "object",
            "properties": dict.fromkeys(("urgent", "high", "normal", "low", "default"), _TARGET_VALUE_SCHEMA),
            "additionalProperties": _TARGET_VALUE_SCHEMA,
            "minProperties": 1,
        },
    ],
    "examples": [
        "1h",
        {"urgent": "1h", "high": "4h", "default": "8h"},
        {"within": "3d", "hours": "calendar"},
    ],
}


# ------------------------------------------------------------ calendars
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
INTERVAL_PATTERN = rf"^\s*{_CLOCK}\s*-\s*({_CLOCK}|24:00(:00)?)\s*$"


def _day_pattern() -> str:
    day = "(" + "|".join("".join(f"[{c}{c.upper()}]" for c in name) for name in DAY_NAMES) + ")"
    part = rf"\s*{day}\s*(-\s*{day}\s*)?"
    return rf"^{part}(,{part})*$"


DAY_KEY_PATTERN = _day_pattern()
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE_WORDS = "Expected a date YYYY-MM-DD, like 2026-12-24."
_DAY_KEY_WORDS = "Expected a day (mon..sun), a range like mon-fri or a list like mon,wed."
_INTERVAL_SCHEMA: dict[str, Any] = {
    **_worded(
        {"type": "string", "pattern": INTERVAL_PATTERN},
        "Expected an interval like 09:00-17:00: HH:MM-HH:MM with two-digit hours (09:00, not 9:00).",
    ),
    "description": "HH:MM-HH:MM (or HH:MM:SS) in local time, [start, end); an end at or before the start "
    "runs into the next day (22:00-06:00); 24:00 is allowed as an end.",
    "examples": ["09:00-17:00", "22:00-06:00", "00:00-24:00"],
}
_INTERVALS_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "array", "items": {"x-sla-ref": "Interval"}}, {"x-sla-ref": "Interval"}],
}


# ------------------------------------------------------------ policies
_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_SCALARS_SCHEMA: dict[str, Any] = {"type": "array", "items": _SCALAR_SCHEMA}
_INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
_NUMBER_SCHEMA: dict[str, Any] = {"type": "number"}
INSTANT_SCHEMA: dict[str, Any] = {
    **_worded(
        {"type": "string", "pattern": _INSTANT_PATTERN},
        "Expected an RFC 3339 timestamp with an offset, like 2027-01-01T00:00:00+01:00, or a date.",
    ),
    "description": "An RFC 3339 timestamp with an offset (T or a space before the time), or a date "
    "(00:00 UTC of that day).",
    "examples": ["2027-01-01T00:00:00+01:00", "2027-01-01"],
}
OPERATORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Operators on one attribute; every one must hold.",
    "properties": {
        "eq": {**_SCALAR_SCHEMA, "description": "The attribute equals this value."},
        "ne": {**_SCALAR_SCHEMA, "description": "The attribute is missing or differs from this value."},
        "in": {**_SCALARS_SCHEMA, "description": "The attribute equals one of these values."},
        "not_in": {**_SCALARS_SCHEMA, "description": "The attribute is missing or equals none of these."},
        "gt": {**_NUMBER_SCHEMA, "description": "The attribute is a number greater than this."},
        "gte": {**_NUMBER_SCHEMA, "description": "The attribute is a number at least this."},
        "lt": {**_NUMBER_SCHEMA, "description": "The attribute is a number less than this."},
        "lte": {**_NUMBER_SCHEMA, "description": "The attribute is a number at most this."},
        "exists": {
            "type": "boolean",
            "description": "true: the attribute is set (not null); false: it is not.",
        },
        "matches": {
            "type": "string",
            "format": "regex",
            "description": "A regular expression (Python syntax) found anywhere in the attribute's text.",
        },
        "contains": {
            **_SCALAR_SCHEMA,
            "description": "The attribute is a list holding this value, or a text holding this text.",
        },
    },
    "minProperties": 1,
    "additionalProperties": False,
}
ATTRIBUTE_CONDITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A condition on a ticket's attributes: every key must hold. An attribute name maps to a "
    "value (equal), a list (equal to one of them) or operators; any, all and not combine condition maps.",
    "properties": {
        "any": {
            "type": "array",
            "items": {"x-sla-ref": "AttributeCondition"},
            "description": "At least one of these condition maps holds ([] never does).",
        },
        "all": {
            "type": "array",
            "items": {"x-sla-ref": "AttributeCondition"},
            "description": "Every one of these condition maps holds ([] always does).",
        },
        "not": {"x-sla-ref": "AttributeCondition", "description": "This condition map does not hold."},
    },
    "additionalProperties": {
        "anyOf": [
            _SCALAR_SCHEMA,
            {**_SCALARS_SCHEMA, "minItems": 1},
            {"x-sla-ref": "Operators"},
        ]
    },
    "examples": [
        {"channel": ["twitter", "facebook"], "priority": "urgent"},
        {"lifetime_value": {"gte": 10000}, "not": {"tier": "enterprise"}},
    ],
}


# ------------------------------------------------------------ the whole file
def _fix_refs(node: object) -> None:
    """Placeholders ``{"x-sla-ref": NAME}`` become ``{"$ref": "#/$defs/NAME"}``."""
    if isinstance(node, dict):
        name = node.pop("x-sla-ref", None)
        if name is not None:
            node["$ref"] = f"#/$defs/{name}"
        for value in node.values():
            _fix_refs(value)
    elif isinstance(node, list):
        for value in node:
            _fix_refs(value)


def _strip_titles(node: object) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for value in properties.values():
                if isinstance(value, dict):
                    value.pop("title", None)
        for value in node.values():
            _strip_titles(value)
    elif isinstance(node, list):
        for value in node:
            _strip_titles(value)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the policy file, for editors and CI checks.

    Generated from the pydantic models, then sharpened where the loader
    checks more than the types (interval and day-key patterns, built-in
    metric names for completion, custom metrics needing start and stop).
    """
    schema = copy.deepcopy(PolicyFile.model_json_schema())
    _strip_titles(schema)
    defs = schema["$defs"]
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "sla policy file",
        "description": "SLA policies for the sla SDK: calendars, metric options and policies with targets. "
        "See docs/policies.md.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
    schema["required"] = ["policies"]
    schema["patternProperties"] = {
        "^x-": {
            "description": "Ignored by sla: a place for YAML anchors (&name) to reuse with aliases (*name)."
        }
    }

    cal = defs["CalendarSpec"]
    cal["properties"]["timezone"]["examples"] = ["Europe/Berlin", "America/New_York", "Asia/Singapore", "UTC"]
    cal["properties"]["hours"].update(
        {
            "type": "object",
            "propertyNames": _worded({"pattern": DAY_KEY_PATTERN}, _DAY_KEY_WORDS),
            "additionalProperties": _INTERVALS_SCHEMA,
            "minProperties": 1,
            "examples": [{"mon-fri": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-14:00"]}],
        }
    )
    cal["properties"]["overrides"].update(
        {
            "type": "object",
            "propertyNames": _worded({"pattern": DATE_PATTERN}, _DATE_WORDS),
            "additionalProperties": {"anyOf": [*_INTERVALS_SCHEMA["anyOf"], {"type": "null"}]},
            "examples": [{"2026-12-24": ["09:00-12:00"], "2026-12-25": []}],
        }
    )
    hol = defs["Holidays"]["properties"]
    hol["dates"]["items"] = _worded(
        {"type": "string", "pattern": DATE_PATTERN, "format": "date"}, _DATE_WORDS
    )
    hol["dates"]["examples"] = [["2026-12-24", "2026-12-31"]]
    hol["country"]["examples"] = ["DE", "US", "GB", "FR"]
    hol["categories"] = names_schema(hol["categories"].get("description", ""), examples=[["public"]])
    hol["subdivision"]["anyOf"] = [{"type": "string"}, {"type": "integer"}, {"type": "null"}]

    # Conditions: a name or a mapping with exactly one key.
    cond = copy.deepcopy(Condition.model_json_schema())
    _strip_titles(cond)
    defs.update(cond.pop("$defs", {}))
    cond.update({"minProperties": 1, "maxProperties": 1})
    defs["Condition"] = cond
    defs["ConditionSpec"] = {
        "description": "What triggers: " + CONDITION_EXPECTED + ".",
        "oneOf": [
            {"enum": list(CONDITION_NAMES)},
            {"$ref": "#/$defs/Condition"},
        ],
    }

    # Metrics: built-ins take options; any other name is a custom metric.
    options = defs["MetricOptions"]
    options["properties"]["pause_when"] = {
        "x-sla-ref": "AttributeCondition",
        "description": options["properties"]["pause_when"]["description"],
    }
    builtin_keys = ("description", "pause_statuses", "responders", "field", "pause_when")
    defs["BuiltinMetricOptions"] = {
        "type": "object",
        "description": "Options of a built-in metric.",
        "properties": {k: options["properties"][k] for k in builtin_keys},
        "additionalProperties": False,
    }
    custom = copy.deepcopy(options)
    del custom["properties"]["field"]  # group_ownership only
    custom["description"] = "A custom metric: start and stop conditions, and how its cycles repeat."
    custom["required"] = ["start", "stop"]
    defs["CustomMetric"] = custom
    del defs["MetricOptions"]
    metrics = schema["properties"]["metrics"]
    metrics.update(
        {
            "type": "object",
            "properties": {
                name: {"$ref": "#/$defs/BuiltinMetricOptions", "description": metric.description}
                for name, metric in BUILTIN_METRICS.items()
                if metric.builtin
            },
            "additionalProperties": {"$ref": "#/$defs/CustomMetric"},
        }
    )

    policy = defs["Policy"]["properties"]
    policy["match"] = {"x-sla-ref": "AttributeCondition", "description": policy["match"]["description"]}
    policy["calendar"]["examples"] = ["24x7", "berlin"]
    policy["targets"].update(
        {
            "type": "object",
            "properties": {
                name: {"x-sla-ref": "Target", "description": metric.description}
                for name, metric in BUILTIN_METRICS.items()
                if metric.builtin
            },
            "additionalProperties": {"x-sla-ref": "Target"},
        }
    )
    defs["Policy"]["required"] = ["name"]
    defs["Duration"] = DURATION_SCHEMA
    defs["Within"] = _WITHIN_SCHEMA
    defs["Target"] = TARGET_SCHEMA
    defs["Interval"] = _INTERVAL_SCHEMA
    defs["Instant"] = INSTANT_SCHEMA
    defs["DeriveRule"]["properties"]["when"] = {
        "x-sla-ref": "AttributeCondition",
        "description": defs["DeriveRule"]["properties"]["when"]["description"],
    }
    defs["DeriveRule"]["properties"]["set"] = {
        "type": "object",
        "description": defs["DeriveRule"]["properties"]["set"]["description"],
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        "minProperties": 1,
        "examples": [{"priority": "urgent", "segment": "vip"}],
    }
    defs["AttributeCondition"] = copy.deepcopy(ATTRIBUTE_CONDITION_SCHEMA)
    defs["Operators"] = OPERATORS_SCHEMA
    schema["properties"]["policies"]["minItems"] = 1
    schema["$defs"] = dict(sorted(defs.items()))
    _fix_refs(schema)
    return schema
