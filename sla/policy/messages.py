"""How a policy file's problems are told: the words, and pydantic's errors turned into them.

Every message the loader prints is built from these pieces: :func:`show` (a
value as the file wrote it), :func:`suggest` (the "did you mean" hint),
:func:`key_text` (a mapping key as a path part), and :func:`translate`, which
turns a pydantic :class:`~pydantic.ValidationError` into located
:class:`~sla.errors.Problem` s with the error's real place in the document.
Model validators that find a problem below their own field raise
:class:`LocatedValueError` to point at it.
"""

from __future__ import annotations

from datetime import date
from types import UnionType
from typing import Annotated, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sla.errors import Problem
from sla.policy.source import Located
from sla.policy.wording import LocatedValueError as LocatedValueError
from sla.policy.wording import json_text as json_text
from sla.policy.wording import key_text as key_text
from sla.policy.wording import show as show
from sla.policy.wording import suggest as suggest

M = TypeVar("M", bound=BaseModel)


# ------------------------------------------------------------ pydantic errors
# Parts of a pydantic error location that are not keys of the document
# (union branches, tagged unions) are dropped by checking against the data.
def _real_loc(data: object, loc: tuple[object, ...], keep_last: bool) -> tuple[object, ...]:
    out: list[object] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict):
            key = next((k for k in current if k == part or key_text(k) == key_text(part)), _MISSING)
            if key is not _MISSING:
                out.append(key_text(key))
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


def _message(
    item: ErrorDetails, loc: tuple[object, ...], model: type[BaseModel], base: tuple[object, ...]
) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _keys_at(model, tuple(item["loc"])[:-1]) or []
        return f"unknown key {str(loc[-1])!r}{suggest(loc[-1], known)}" + (
            f"; expected one of {', '.join(known)}" if known and not suggest(loc[-1], known) else ""
        )
    if kind == "missing":
        hint = _REQUIRED_HINTS.get(str(loc[-1]), "")
        return f"{loc[-1]} is required but missing" + (f"; {hint}" if hint else "")
    if kind in ("dict_type", "model_type") and len(loc) == 2 and loc[0] == "policies":
        return f"{show(value)} is not a policy; expected a mapping with name, match, calendar, targets"
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{show(value)} is a number; expected text (quote it: '{value}')"
    if kind in _TYPE_WORDS:
        return (
            f"{show(value)} is not {_TYPE_WORDS[kind]}"
            if kind not in ("dict_type", "model_type", "model_attributes_type")
            else f"expected a mapping of key: value, got {show(value)}"
        )
    if kind == "literal_error" or kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "")
        options = [o.strip() for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        return f"{show(value)} is not allowed{suggest(value, options)}; expected {expected}"
    if kind in ("greater_than", "less_than", "greater_than_equal", "less_than_equal"):
        if "at_percent" in loc:
            return f"{show(value)} is not a percentage above 0 and at most 100"
        return f"{show(value)} is out of range ({item['msg'].lower()})"
    if kind == "too_short":
        return f"{show(value)} is empty; give at least one"
    if kind == "string_too_short":
        return f"{show(value)} is empty text; expected a name"
    if kind.startswith(("date", "datetime")):
        reason = item["msg"].split(", ", 1)[-1] if ", " in item["msg"] else item["msg"]
        return f"{show(value)} is not a date ({reason}); expected YYYY-MM-DD like 2026-12-24"
    message = item["msg"]
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    return f"{message} (got {show(value)})"


_KEY_ERRORS = ("missing", "extra_forbidden")


def translate(
    error: ValidationError, data: object, base: tuple[object, ...], model: type[BaseModel], located: Located
) -> list[Problem]:
    """Each of pydantic's errors as a problem at its real place in the document."""
    problems = []
    placed = [
        (item, _real_loc(located.data, base + tuple(item["loc"]), keep_last=item["type"] in _KEY_ERRORS))
        for item in error.errors(include_url=False)
    ]
    for item, loc in placed:
        if item["type"] in _TYPE_WORDS and any(
            len(other) > len(loc) and other[: len(loc)] == loc for _, other in placed
        ):
            # A union's other branch (text or a mapping, say): the value has
            # the shape of the branch whose errors lie deeper, which say more.
            continue
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError):
            for subpath, message in cause.items:
                problems.append(
                    located.problem(
                        loc + tuple(key_text(p) if isinstance(p, date) else p for p in subpath), message
                    )
                )
            continue
        problems.append(located.problem(loc, _message(item, loc, model, base)))
    return problems


def validate_part(
    model: type[M], value: object, base: tuple[object, ...], located: Located, problems: list[Problem]
) -> M | None:
    """Validate one part of the document at ``base``; its problems join ``problems`` and None comes back."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems += translate(exc, value, base, model, located)
        return None
