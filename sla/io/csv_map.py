"""CSV exports with their own columns: a mapping file (``--map FILE``) says
which column gives which event field, how the export's words become the
event format's values, and how its timestamps are written (docs/events.md,
"CSV with your own columns").

A mapping file is YAML, JSON or TOML, read and located like a policy file
(:func:`sla.io.policy_files.read_document`); its problems name the file, the
line and the key, with a did-you-mean. :func:`load_mapping` checks it whole
and compiles it into a :class:`~sla.io.csv_rows.CsvMap`, which reads the
rows. This module is the one place the format is defined, for ``--map`` and
``sla import csv`` alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sla.calendar.index import load_zone
from sla.engine.events import AUTHORS, TYPE_CODES
from sla.errors import CalendarError, Problem
from sla.io.csv_rows import NUMBER_FIELDS, Column, CsvMap, MappedPath, MappingError, csv_value
from sla.policy.messages import show, suggest, validate_part
from sla.policy.model import empty_dict, empty_list
from sla.policy.source import BoolKey, Located, document_problems, render_path

#: Event fields a column can give; ``fields.<name>`` gives one ticket attribute.
TARGETS = (
    "ticket_id",
    "at",
    "type",
    "status",
    "author",
    "public",
    "score",
    "time_spent",
    "sentiment",
    "body",
    "id",
    "fields",
)
_WHOLE = frozenset({"ticket_id", "at", "fields"})  # taken as written: no value map, no constant


def _text(key: object) -> str:
    """A mapping key as the cell text it matches: ``true``, ``1``, ``2026-03-02``."""
    if isinstance(key, (bool, BoolKey)):
        return str(key).lower()
    return key.isoformat() if isinstance(key, date) else str(key)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValueMap(_Frozen):
    """``values.<field>``: the export's words to the event's, and what an unlisted word does."""

    map: dict[str, Any]
    other: Literal["reject", "keep"] = "reject"

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: object) -> object:
        if isinstance(data, dict) and "map" not in data:
            data = {"map": data}  # the short form: the words alone, unlisted ones rejected
        if isinstance(data, dict) and isinstance(data.get("map"), dict):
            data = {**data, "map": {_text(k): v for k, v in data["map"].items()}}
        return data


class Timestamps(_Frozen):
    """``timestamps``: how the ``at`` column is written, when not RFC 3339."""

    format: str | None = None
    zone: str | None = None


class MapFile(_Frozen):
    """A mapping file as written (checked for shape; :func:`compile_mapping` checks the rest)."""

    columns: dict[str, str] = Field(default_factory=empty_dict)
    fields: list[str] = Field(default_factory=empty_list)
    values: dict[str, ValueMap] = Field(default_factory=empty_dict)
    constants: dict[str, Any] = Field(default_factory=empty_dict)
    timestamps: Timestamps | None = None

    @model_validator(mode="before")
    @classmethod
    def _text_keys(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        return {
            k: {_text(n): v for n, v in data[k].items()} if isinstance(data[k], dict) else data[k]
            for k in data
        }


def load_mapping(source: str | Path | Mapping[str, object]) -> CsvMap:
    """Read, check and compile a mapping file (a path, or the mapping itself);
    a :class:`MappingError` lists every problem with its line."""
    from sla.io.policy_files import read_document

    located = Located(dict(source), None) if isinstance(source, Mapping) else read_document(source)
    return compile_mapping(located)


def compile_mapping(located: Located) -> CsvMap:
    """A parsed mapping document, checked whole and compiled."""
    data = located.data
    if not isinstance(data, dict) or not data:
        what = "the file is empty" if data is None else f"{show(data)} is not a mapping file"
        problem = Problem("", f"{what}; expected columns: {{Your column: event field, ...}}", 1, 1)
        raise MappingError([problem], located.source)
    problems = document_problems(located)
    if problems:
        raise MappingError(problems, located.source)
    for loc, line, column, first in located.duplicates:
        message = f"{loc[-1]!r} is given twice (first on line {first}); the later one would silently win"
        problems.append(Problem(render_path(loc), message, line, column))
    doc = validate_part(MapFile, data, (), located, problems)
    mapping = None if doc is None else _compile(doc, located, problems)
    if problems or mapping is None:
        raise MappingError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)), located.source)
    return mapping


def _target_problem(target: str) -> str | None:
    if target in TARGETS or (target.startswith("fields.") and len(target) > 7):
        return None
    hint = f"; expected one of {', '.join(TARGETS)}, or fields.<name> for a ticket attribute"
    return f"{target!r} is not an event field{suggest(target, TARGETS) or hint}"


def _value_problem(target: str, value: object) -> str | None:
    """Whether a mapped or constant value suits its event field."""
    if target == "type" and value not in TYPE_CODES:
        return f"{show(value)} is not an event type{suggest(value, TYPE_CODES)}; expected {', '.join(TYPE_CODES)}"
    if target == "author" and value not in AUTHORS:
        return f"{show(value)} is not an author{suggest(value, AUTHORS)}; expected customer, agent or bot"
    if target == "public" and not isinstance(value, bool):
        return f"{show(value)} is not true or false"
    if target in NUMBER_FIELDS and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"{show(value)} is not a number"
    if (
        target in ("status", "id")
        and not isinstance(value, str)
        and (target == "status" or type(value) is not int)
    ):
        return f"{show(value)} is not text (quote it: '{value}')"
    if not isinstance(value, (str, int, float, bool)):
        return f"{show(value)} is not a single value (text, a number, true or false)"
    return None


def _compile(doc: MapFile, located: Located, problems: list[Problem]) -> CsvMap:
    """The checks beyond shape (fields known and given once, values that suit
    their field, timestamps), and the compiled mapping."""

    def problem(loc: tuple[object, ...], message: str) -> None:
        problems.append(located.problem(loc, message))

    given: dict[str, tuple[object, ...]] = {}  # target -> where it is given
    entries: list[tuple[tuple[object, ...], str | None, str]]
    entries = [(("columns", name), name, target) for name, target in doc.columns.items()]
    entries += [(("fields", i), name, f"fields.{name}") for i, name in enumerate(doc.fields)]
    entries += [(("constants", target), None, target) for target in doc.constants]
    named: dict[str, tuple[object, ...]] = {}
    unsure = False
    for loc, name, target in entries:
        bad = _target_problem(target)
        if bad is None and name is None and target in _WHOLE:
            bad = f"{target} cannot be a constant; name the column that holds it"
        elif bad is None and name is None:
            bad = _value_problem(target, doc.constants[target])
        if bad is not None:
            unsure = True
        elif name is not None and name in named:
            bad = f"column {name!r} is also mapped at {render_path(named[name])}; a column gives one field"
        elif target in given:
            bad = f"{target} is also given at {render_path(given[target])}; give each field once"
        if bad is not None:
            problem(loc, bad)
            continue
        given[target] = loc
        if name is not None:
            named[name] = loc
    for target in ("ticket_id", "at", "type"):
        if target not in given and not unsure:  # a misspelt field may be the one missing
            example = "type: message under constants" if target == "type" else f"Your column: {target}"
            problem(("columns",), f"no column gives {target}; every event needs one (like {example})")
    for target, vmap in doc.values.items():
        where = given.get(target)
        if where is None or where[0] == "constants" or target in _WHOLE:
            why = "it is taken as written" if target in _WHOLE else "no column gives it"
            problem(("values", target), f"values.{target} maps nothing: {why}")
            continue
        raw = _raw(located.data, "values", target)
        short = not (isinstance(raw, dict) and "map" in raw)
        for word, value in vmap.map.items():
            bad = _value_problem(target, value)
            if bad is not None:
                problem(("values", target, *(() if short else ("map",)), word), bad)
    zone, time_format = _timestamps(doc.timestamps, problem)
    columns = tuple(
        Column(
            name,
            target,
            doc.values[target].map if target in doc.values else None,
            target in doc.values and doc.values[target].other == "keep",
            located.problem(given[target], ""),
        )
        for loc, name, target in entries
        if name is not None and given.get(target) == loc
    )
    constants = tuple((t, v) for t, v in doc.constants.items() if given.get(t) == ("constants", t))
    return CsvMap(located.source or "the mapping", columns, constants, time_format, zone)


def _raw(data: object, *path: str) -> object:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


_SAMPLE = datetime(2026, 11, 23, 17, 45, 30, 250000, tzinfo=UTC)


def _timestamps(
    spec: Timestamps | None, problem: Callable[[tuple[object, ...], str], None]
) -> tuple[ZoneInfo | None, str | None]:
    if spec is None:
        return None, None
    if spec.format is None and spec.zone is None:
        problem(("timestamps",), "give format (like '%Y-%m-%d %H:%M:%S'), zone (like Europe/Berlin) or both")
        return None, None
    offset = False
    if spec.format is not None:
        try:
            back = datetime.strptime(_SAMPLE.strftime(spec.format), spec.format)
        except ValueError as exc:
            problem(("timestamps", "format"), f"{show(spec.format)} is not a timestamp format ({exc})")
            return None, None
        offset = back.tzinfo is not None
        if back.timetuple()[:5] != _SAMPLE.timetuple()[:5]:
            problem(
                ("timestamps", "format"),
                f"{show(spec.format)} does not give a date and time to the minute; "
                "expected directives like '%Y-%m-%d %H:%M:%S' (Python's strptime)",
            )
    if spec.zone is None and not offset:
        problem(
            ("timestamps",),
            "the format reads no UTC offset (%z), so its times are local: give zone, "
            "the time zone they are in (like Europe/Berlin); sla does not guess one",
        )
        return None, spec.format
    if spec.zone is not None and offset:
        problem(
            ("timestamps", "zone"), "the format reads the UTC offset (%z), so zone would never apply; drop it"
        )
        return None, spec.format
    try:
        return (load_zone(spec.zone) if spec.zone is not None else None), spec.format
    except CalendarError as exc:
        problem(("timestamps", "zone"), str(exc))
        return None, spec.format


__all__ = [
    "TARGETS",
    "CsvMap",
    "MapFile",
    "MappedPath",
    "MappingError",
    "Timestamps",
    "ValueMap",
    "compile_mapping",
    "csv_value",
    "load_mapping",
]
