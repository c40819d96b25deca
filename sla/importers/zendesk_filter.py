"""A Zendesk SLA policy's ``filter`` as a ``match`` condition (section 8).

Zendesk's filter holds two lists of ``{field, operator, value}``
conditions: ``all`` (every one must hold) and ``any`` (at least one). Its
fields and operators are those of Zendesk's conditions reference ("Common
conditions" and "Additional SLA Policies conditions",
https://developer.zendesk.com/documentation/ticketing/reference-guides/conditions-reference/).
They become conditions on the attributes ``sla import zendesk`` gives a
ticket (section 14): ``priority``, ``type``, ``channel``, ``group``,
``assignee``, ``requester``, ``organization``, ``brand``, ``form``, ``tags``
and ``custom_<field id>``, ids as strings. ``is``/``is_not`` become equality
and ``ne`` (``""``, no value, becomes ``exists``), ``includes``/``not_includes``
on ``current_tags`` become ``contains`` on ``tags``, ``less_than``/
``greater_than`` on ``priority`` become ``in`` the lower/higher priorities.

A condition with no counterpart here raises :class:`Untranslatable` with the
reason; the caller keeps the rest of the filter and names the condition.
``via_id`` (the channel a ticket was created through) becomes ``channel``
only for via ids that are the one source of their channel name in Zendesk's
via types table (https://developer.zendesk.com/documentation/ticketing/reference-guides/via-types/,
ids 0-41 as read): 4 ``email``, 8 ``rule``, 24 ``forum``, 29 ``chat``. Other
ids share their channel name (``twitter`` is ids 23, 26 and 30), so a
condition on one of them would match more or fewer tickets than in Zendesk.

>>> translate_condition({"field": "type", "operator": "is", "value": "incident"})
{'type': 'incident'}
>>> translate_condition({"field": "group_id", "operator": "is_not", "value": 360001})
{'group': {'ne': '360001'}}
>>> translate_condition({"field": "current_tags", "operator": "includes", "value": "vip gold"})
{'any': [{'tags': {'contains': 'vip'}}, {'tags': {'contains': 'gold'}}]}
>>> translate_condition({"field": "priority", "operator": "greater_than", "value": "normal"})
{'priority': {'in': ['high', 'urgent']}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sla.errors import SlaError

#: Zendesk condition fields to the attribute names of imported tickets.
ATTRIBUTES = {
    "priority": "priority",
    "type": "type",
    "ticket_type_id": "type",
    "via_id": "channel",
    "group_id": "group",
    "assignee_id": "assignee",
    "requester_id": "requester",
    "organization_id": "organization",
    "brand_id": "brand",
    "ticket_form_id": "form",
}
_ID_FIELDS = {"group_id", "assignee_id", "requester_id", "organization_id", "brand_id", "ticket_form_id"}
PRIORITIES = ("low", "normal", "high", "urgent")
#: ``ticket_type_id`` values ("Additional SLA Policies conditions").
TICKET_TYPES = {"1": "question", "2": "incident", "3": "problem", "4": "task"}
#: Via id to ``via.channel`` ("Ticket created by" in the via types table, ids 0-41).
VIA_CHANNELS = {
    0: "web", 4: "email", 5: "api", 8: "rule", 17: "web", 20: "web", 23: "twitter", 24: "forum",
    26: "twitter", 27: "web", 29: "chat", 30: "twitter", 31: "api", 33: "voice", 34: "voice",
    35: "voice", 36: "api", 38: "facebook", 39: "api", 40: "api", 41: "facebook",
}  # fmt: skip
_WHY = {
    "status": "the ticket's status is not a ticket attribute here (statuses drive the clocks, "
    "policies match attributes)",
    "custom_status_id": "custom ticket statuses are not ticket attributes here",
    "current_via_id": "the channel of the latest update is not a ticket attribute here",
    "exact_created_at": "the creation time is not a ticket attribute here (policy versions, "
    "`effective`, are the way to limit a policy by creation time)",
    "recipient": "the address a ticket was sent to is not a ticket attribute here",
}
_ORDER_OPS = {
    "less_than": lambda i, j: j < i,
    "less_than_equal": lambda i, j: j <= i,
    "greater_than": lambda i, j: j > i,
    "greater_than_equal": lambda i, j: j >= i,
}


class Untranslatable(SlaError):
    """A Zendesk condition with no counterpart in this contract; the message says why."""


def describe(condition: object) -> str:
    """A condition as Zendesk writes it: ``field operator value``."""
    if not isinstance(condition, Mapping):
        return json.dumps(condition, ensure_ascii=False, default=str)
    parts = [str(condition.get("field")), str(condition.get("operator"))]
    if "value" in condition:
        parts.append(json.dumps(condition["value"], ensure_ascii=False, default=str))
    return " ".join(parts)


def translate_condition(condition: object) -> dict[str, object]:
    """One Zendesk condition as a condition map, or :class:`Untranslatable`."""
    if not isinstance(condition, Mapping) or not isinstance(condition.get("field"), str):
        raise Untranslatable("not a condition (an object with field, operator and value)")
    field, operator, value = condition["field"], condition.get("operator"), condition.get("value")
    if field == "current_tags":
        return _tags(operator, value)
    if field.startswith("custom_fields_") and field[len("custom_fields_") :].isdigit():
        return _equality(f"custom_{field[len('custom_fields_') :]}", operator, _values(value, ids=False))
    if field not in ATTRIBUTES:
        raise Untranslatable(
            _WHY.get(field)
            or f"{field!r} is not one of the attributes imported tickets carry (priority, type, "
            "channel, group, assignee, requester, organization, brand, form, tags, custom_<id>)"
        )
    values = _values(value, ids=field in _ID_FIELDS or field in ("via_id", "ticket_type_id"))
    if "current_user" in values:
        raise Untranslatable("'current_user' means the agent looking at the ticket in Zendesk")
    if field == "via_id":
        values = [_via_channel(v) for v in values]
    elif field == "ticket_type_id":
        values = [v if v == "" else _lookup(TICKET_TYPES, v, "ticket type id") for v in values]
    if field == "priority" and operator in _ORDER_OPS:
        if len(values) != 1 or values[0] not in PRIORITIES:
            raise Untranslatable(f"{operator} needs one of the priorities {', '.join(PRIORITIES)}")
        i = PRIORITIES.index(values[0])
        return {"priority": {"in": [p for j, p in enumerate(PRIORITIES) if _ORDER_OPS[operator](i, j)]}}
    return _equality(ATTRIBUTES[field], operator, values)


def translate_filter(spec: object) -> tuple[dict[str, object] | None, list[str]]:
    """A Zendesk ``filter`` (``{all: [...], any: [...]}``) as one condition
    map (None: every ticket), and a line for each condition left out, naming
    it and its effect: one left out of ``all`` widens the policy, one left
    out of ``any`` narrows it (or widens it, when none of ``any`` is left).

    >>> translate_filter({"all": [{"field": "status", "operator": "less_than", "value": "solved"}],
    ...                   "any": [{"field": "group_id", "operator": "is", "value": 7}]})[0]
    {'group': '7'}
    """
    spec = spec if isinstance(spec, Mapping) else {}
    parts: list[dict[str, object]] = []
    alternatives: list[dict[str, object]] = []
    dropped: list[tuple[str, str]] = []
    for key, into in (("all", parts), ("any", alternatives)):
        conditions = spec.get(key)
        for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
            try:
                found = translate_condition(condition)
            except Untranslatable as why:
                dropped.append((key, f"filter.{key}[{index}] {describe(condition)}: {why}"))
                continue
            nested = found.get("any") if key == "any" and len(found) == 1 else None
            into.extend(nested if isinstance(nested, list) else [found])  # any of (any of ...): one list
    if len(alternatives) == 1:
        parts.append(alternatives[0])
    elif alternatives:
        parts.append({"any": alternatives})
    effects = {
        "all": "the policy matches more tickets than in Zendesk",
        "any": "the policy matches fewer tickets than in Zendesk"
        if alternatives
        else "none of filter.any translated, so the policy matches more tickets than in Zendesk",
    }
    texts = [f"{text}; {effects[key]}" for key, text in dropped]
    keys = [k for part in parts for k in part]
    if not parts:
        return None, texts
    if len(keys) == len(set(keys)):
        return {k: v for part in parts for k, v in part.items()}, texts
    return {"all": parts}, texts


def _values(value: object, ids: bool) -> list[object]:
    items = value if isinstance(value, list) else [value]
    out: list[object] = []
    for item in items:
        if item is None:
            item = ""
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise Untranslatable(f"the value {json.dumps(item, default=str)} is not a text or a number")
        out.append(str(item) if ids and isinstance(item, int) else item)
    return out


def _lookup(table: Mapping[str, str], value: object, what: str) -> str:
    found = table.get(str(value))
    if found is None:
        raise Untranslatable(f"{what} {value!r} is not one Zendesk documents")
    return found


def _via_channel(value: object) -> str:
    if value == "":
        raise Untranslatable("every ticket has a via id")
    try:
        via = int(str(value))
    except ValueError:
        raise Untranslatable(f"via id {value!r} is not a number") from None
    channel = VIA_CHANNELS.get(via)
    if channel is None:
        raise Untranslatable(f"via id {via} has no channel name in Zendesk's via types table (as read)")
    others = sorted(k for k, v in VIA_CHANNELS.items() if v == channel and k != via)
    if others:
        ids = ", ".join(map(str, others))
        raise Untranslatable(f"via id {via} is channel {channel!r}, which via ids {ids} also give")
    return channel


def _equality(attribute: str, operator: object, values: list[object]) -> dict[str, object]:
    """``is``/``includes`` (one of the values) and ``is_not``/``not_includes`` (none of them)."""
    if operator in ("present", "not_present"):
        return {attribute: {"exists": operator == "present"}}
    if operator not in ("is", "is_not", "includes", "not_includes"):
        raise Untranslatable(f"operator {operator!r} has no counterpart for {attribute}")
    if not values:
        raise Untranslatable("no value to compare with")
    blank = "" in values
    rest = [v for v in values if v != ""]
    if operator in ("is", "includes"):
        if not rest:
            return {attribute: {"exists": False}}
        wanted: dict[str, object] = {attribute: rest[0] if len(rest) == 1 else {"in": rest}}
        return {"any": [{attribute: {"exists": False}}, wanted]} if blank else wanted
    ops: dict[str, object] = {"exists": True} if blank else {}
    if rest:
        ops.update({"ne": rest[0]} if len(rest) == 1 else {"not_in": rest})
    return {attribute: ops}


def _tags(operator: object, value: object) -> dict[str, object]:
    """``includes``: the ticket has at least one of the tags; ``not_includes``: none of them."""
    words = value.split() if isinstance(value, str) else value
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
        raise Untranslatable("current_tags needs a space-separated list of tags")
    tags = [w for word in words for w in word.split()]
    one_of: dict[str, object] = (
        {"tags": {"contains": tags[0]}}
        if len(tags) == 1
        else {"any": [{"tags": {"contains": tag}} for tag in tags]}
    )
    if operator == "includes":
        return one_of
    if operator == "not_includes":
        return {"not": one_of}
    raise Untranslatable(
        f"operator {operator!r} on current_tags has no counterpart (includes, not_includes do)"
    )


__all__ = [
    "ATTRIBUTES",
    "PRIORITIES",
    "VIA_CHANNELS",
    "Untranslatable",
    "describe",
    "translate_condition",
    "translate_filter",
]
