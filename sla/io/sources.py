"""Event sources at the edge: JSONL, CSV and Parquet files as (line, record) pairs.

Every source yields the same records as a JSONL line would parse to, so one
validation path serves all formats.  Line numbers are file lines for JSONL
and CSV (the header is line 1) and 1-based row numbers for Parquet.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

from sla.engine.events import LineError, TicketEvents, collect_all, jsonl_records

FORMATS = ("jsonl", "csv", "parquet")
EVENT_COLUMNS = ("ticket_id", "at", "type", "fields", "status", "author", "public", "score")


def detect_format(path: str, explicit: str | None = None) -> str:
    """The input format: explicit, else by suffix (.csv, .parquet/.pq), else JSONL."""
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "jsonl"


def jsonl_range(
    path: str, start: int = 0, end: int | None = None, start_line: int = 1
) -> Iterator[tuple[int, object]]:
    """Records of the lines that start in the byte range ``[start, end)`` (start at a line start)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        if end is None:
            yield from jsonl_records(handle, start_line)
            return

        def lines() -> Iterator[bytes]:
            position = start
            for line in handle:
                if position >= end:
                    return
                position += len(line)
                yield line

        yield from jsonl_records(lines(), start_line)


def _csv_value(column: str, text: str) -> object:
    if column == "fields":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text  # validation reports the bad value
    if column == "public":
        lowered = text.strip().lower()
        return {"true": True, "false": False, "1": True, "0": False}.get(lowered, text)
    if column == "score":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def csv_records(path: str) -> Iterator[tuple[int, object]]:
    """Records of a CSV file with a header row (``fields`` holds a JSON object).

    An empty cell is an absent field.  Unknown columns are kept as data.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                yield (
                    number,
                    LineError(number, f"{len(row)} cells but the header names {len(header)} columns"),
                )
                continue
            record = {
                column: _csv_value(column, cell)
                for column, cell in zip(header, row, strict=False)
                if cell != ""
            }
            yield number, record


def normalize_fields(value: object) -> object:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if isinstance(value, list):  # an Arrow map arrives as key/value pairs
        try:
            return dict(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, dict):  # an Arrow struct: absent keys come back as None
        return {k: v for k, v in value.items() if v is not None}
    return value


def parquet_records(path: str) -> Iterator[tuple[int, object]]:
    """Records of a Parquet file (columns as in the JSONL format; ``fields`` a
    JSON string, a struct or a map; ``at`` text or a timestamp with a zone)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        from sla.errors import SlaError

        raise SlaError('reading Parquet needs pyarrow: pip install "sla[arrow]"') from None
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
        for row in batch.to_pylist():
            number += 1
            record = {k: v for k, v in row.items() if v is not None}
            if "fields" in record:
                record["fields"] = normalize_fields(record["fields"])
            yield number, record


def records(path: str, fmt: str) -> Iterator[tuple[int, object]]:
    """The (line, record) pairs of an event file ('-' is standard input, JSONL)."""
    if path == "-":
        return jsonl_records(sys.stdin.buffer)
    if fmt == "csv":
        return csv_records(path)
    if fmt == "parquet":
        return parquet_records(path)
    return jsonl_range(path)


def read_events_file(path: str, fmt: str | None = None) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """All tickets of an event file, in memory, by first appearance."""
    return collect_all(records(path, detect_format(path, fmt)))


__all__ = ["EVENT_COLUMNS", "FORMATS", "detect_format", "jsonl_range", "read_events_file", "records"]
