"""Rows through a column mapping: the compiled form of a mapping file
(:class:`CsvMap`, built by :func:`sla.io.csv_map.load_mapping`) and how it
turns a CSV header and rows into event records.

A :class:`CsvMap` is an immutable value that pickles, so worker processes
and ``sla import csv`` can share one. :meth:`CsvMap.reader` checks a header
against it (every mapped column present, once) and returns the function
that reads one row: the record, or the reason the row cannot be read (a
timestamp off the format, a local time that DST makes ambiguous, a word no
value map lists).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sla.engine.events import shown
from sla.engine.jsonl import Unreadable, loads_value
from sla.errors import PolicyError, Problem
from sla.io.summary import Rejection
from sla.policy.wording import suggest

_TRUTH = {"true": True, "false": False, "1": True, "0": False}
#: Event fields whose cells are numbers (a cell that is no number stays text,
#: and the event check names it).
NUMBER_FIELDS = frozenset({"score", "time_spent", "sentiment"})
#: A row read through a mapping: the record, and why it cannot be used (or None).
RowResult = tuple[dict[str, object], str | None]


class MappingError(PolicyError):
    """A mapping file with problems, or a CSV header that does not fit it; all are listed."""


def csv_value(target: str, text: str) -> object:
    """A CSV cell as the event field ``target`` takes it: ``fields`` JSON,
    ``public`` true/false/1/0, ``score``, ``time_spent`` and ``sentiment``
    numbers; other text as it is (a value that does not convert stays text,
    and validation names it).

    >>> csv_value("time_spent", "90"), csv_value("sentiment", "-0.5"), csv_value("sentiment", "bad")
    (90.0, -0.5, 'bad')
    """
    if target == "public":
        return _TRUTH.get(text.strip().lower(), text)
    if target in NUMBER_FIELDS:
        try:
            return float(text)  # "nan", "inf", "1e999": the field's own rule rejects them
        except ValueError:
            return text
    if target == "fields":
        try:
            return loads_value(text)
        except Unreadable:
            return text
    return text


@dataclass(frozen=True)
class Column:
    """One mapped column: its header name, the event field it gives, its value map."""

    name: str
    target: str
    values: Mapping[str, object] | None
    keep_other: bool
    where: Problem  # the mapping entry's place, for header problems


@dataclass(frozen=True)
class CsvMap:
    """A checked mapping, ready to read rows (immutable and picklable)."""

    source: str
    columns: tuple[Column, ...]
    constants: tuple[tuple[str, object], ...]
    time_format: str | None = None
    zone: ZoneInfo | None = None

    def reader(self, header: list[str], csv_name: str) -> Callable[[list[str]], RowResult]:
        """The row function for a CSV file with ``header``; a :class:`MappingError`
        naming each mapped column the header lacks (or has twice)."""
        problems, plan = [], []
        for column in self.columns:
            at = [i for i, name in enumerate(header) if name == column.name]
            if len(at) == 1:
                plan.append((at[0], column))
                continue
            listed = ", ".join(header[:30]) + (f" and {len(header) - 30} more" if len(header) > 30 else "")
            message = (
                f"column {column.name!r} is in the header of {csv_name} {len(at)} times (columns "
                f"{', '.join(str(i + 1) for i in at)}); rename one"
                if at
                else f"column {column.name!r} is not in the header of {csv_name}"
                f"{suggest(column.name, header)} (its columns: {listed})"
            )
            problems.append(Problem(column.where.path, message, column.where.line, column.where.column))
        if problems:
            raise MappingError(problems, self.source)
        plan.sort(key=lambda entry: entry[1].target != "ticket_id")  # a bad row still names its ticket
        return lambda row: self._row(plan, row)

    def _row(self, plan: list[tuple[int, Column]], row: list[str]) -> RowResult:
        record: dict[str, object] = {}
        attributes: dict[str, object] = {}
        for target, value in self.constants:
            if target.startswith("fields."):
                attributes[target[7:]] = value
            else:
                record[target] = value
        for index, column in plan:
            cell = row[index] if index < len(row) else ""
            if cell == "":
                continue  # an empty cell is an absent field
            target = column.target
            try:
                value = self._value(column, cell)
            except ValueError as exc:
                return record, f"column {column.name!r}: {exc}"
            if target.startswith("fields."):
                attributes[target[7:]] = value
            else:
                record[target] = value
        given = record.get("fields")
        if given is not None and not isinstance(given, dict):
            return record, f"fields: {shown(given)} is not a JSON object of ticket attributes"
        if attributes or given is not None or record.get("type") in ("created", "update"):
            record["fields"] = {**(given or {}), **attributes}
        return record, None

    def _value(self, column: Column, cell: str) -> object:
        if column.target == "at":
            return self._instant(cell) if self.time_format or self.zone else cell
        if column.values is not None:
            mapped = column.values.get(cell, _NOT_LISTED)
            if mapped is not _NOT_LISTED:
                return mapped
            if not column.keep_other:
                words = ", ".join(shown(w) for w in list(column.values)[:8])
                raise ValueError(
                    f"{shown(cell)} is not listed under values.{column.target} in {self.source} "
                    f"({words}{', ...' if len(column.values) > 8 else ''}); add it there"
                )
        return csv_value(column.target, cell)

    def _instant(self, text: str) -> str:
        """``at`` as RFC 3339 text: read with the format, a local time in the zone."""
        if self.time_format is not None:
            try:
                moment = datetime.strptime(text, self.time_format)
            except ValueError:
                raise ValueError(f"{shown(text)} does not match the format {self.time_format!r}") from None
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return text  # not ISO 8601: the event check names it
        if moment.tzinfo is not None or self.zone is None:
            return moment.isoformat() if self.time_format is not None else text
        local = moment.replace(tzinfo=self.zone)
        if local.utcoffset() != moment.replace(tzinfo=self.zone, fold=1).utcoffset():
            if local.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != moment:
                raise ValueError(
                    f"{shown(text)} never happened in {self.zone.key}: the clocks went forward over it"
                )
            raise ValueError(
                f"{shown(text)} is ambiguous in {self.zone.key}: the clocks went back, so that local "
                "time happened twice; export timestamps with their UTC offset (%z)"
            )
        return local.isoformat()


_NOT_LISTED = object()


class MappedPath(str):
    """An event file's path that carries the mapping to read it with: what
    ``--map`` hands to :func:`sla.io.pipeline.run` through code that only
    passes a path along."""

    mapping: CsvMap

    def __new__(cls, path: str, mapping: CsvMap) -> MappedPath:
        self = super().__new__(cls, path)
        self.mapping = mapping
        return self

    def __reduce__(self) -> tuple[type[MappedPath], tuple[str, CsvMap]]:
        return MappedPath, (str(self), self.mapping)


def explain_row_errors(rejections: list[Rejection], row_errors: dict[int, str]) -> list[Rejection]:
    """Rejections with the reasons of mapped rows that could not be read (the
    CSV reader hands such a row on naming only its ticket, which rejects the
    ticket at that line; ``row_errors`` has the reason by line)."""
    if not row_errors:
        return rejections
    return [
        Rejection(r.line, r.ticket_id, row_errors[r.line])
        if r.ticket_id is not None and r.line in row_errors
        else r
        for r in rejections
    ]


__all__ = [
    "NUMBER_FIELDS",
    "Column",
    "CsvMap",
    "MappedPath",
    "MappingError",
    "csv_value",
    "explain_row_errors",
]
