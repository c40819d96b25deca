"""Writing evaluation rows as JSONL, CSV or a terminal table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import IO

import orjson

from .judge import CycleResult
from .texts import compact_duration

ROW_FIELDS = (
    "ticket_id", "policy", "metric", "cycle", "started_at", "ended_at", "state", "target_seconds",
    "hours", "elapsed_seconds", "remaining_seconds", "breached", "due_at", "paused_seconds", "paused",
)


class JsonlWriter:
    def __init__(self, out: IO[bytes]):
        self.out = out

    def write(self, result: CycleResult) -> None:
        self.out.write(orjson.dumps(result.to_row()) + b"\n")

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    """One row per cycle; ``paused`` holds the stretches as a JSON array."""

    def __init__(self, out: IO[bytes]):
        self.out = out
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.writer = csv.writer(self.text)
        self.writer.writerow(ROW_FIELDS)

    def write(self, result: CycleResult) -> None:
        row = result.to_row()
        row["paused"] = json.dumps(row["paused"])
        self.writer.writerow(["" if row[k] is None else str(row[k]).lower() if isinstance(row[k], bool) else row[k] for k in ROW_FIELDS])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class TableWriter:
    """A readable table; breached rows are marked with ``!``."""

    HEADERS = ("", "ticket", "policy", "metric", "#", "state", "elapsed", "target", "remaining", "due (UTC)", "hours")

    def __init__(self, out: IO[bytes]):
        self.out = out
        self.rows: list[tuple[str, ...]] = []

    def write(self, result: CycleResult) -> None:
        row = result.to_row()
        due = row["due_at"] or ""
        self.rows.append((
            "!" if result.breached else "",
            str(result.ticket_id), result.policy, result.metric, str(result.cycle), result.state,
            compact_duration(result.elapsed_us, 2), compact_duration(result.target_us, 2),
            compact_duration(result.remaining_us, 2), due.replace("T", " ").rstrip("Z")[:16], result.hours,
        ))

    def close(self) -> None:
        rows = [self.HEADERS] + self.rows
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADERS))]
        lines = []
        for index, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths).rstrip())
        breached = sum(1 for r in self.rows if r[0])
        lines.append(f"{len(self.rows)} cycles, {breached} breached (marked !)")
        self.out.write(("\n".join(lines) + "\n").encode())
        self.out.flush()


WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "table": TableWriter}


def write_all(results: Iterable[CycleResult], out: IO[bytes], fmt: str) -> int:
    writer = WRITERS[fmt](out)
    count = 0
    for result in results:
        writer.write(result)
        count += 1
    writer.close()
    return count
