"""Fuzzing event files: whatever a line turns into, `sla evaluate` ends with
exit 0 or 1, prints no traceback, and every ticket whose lines were left
alone keeps exactly its rows."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "ecommerce.yaml"
NOW = "2026-04-01T00:00:00Z"

HOSTILE_VALUES = [
    [],
    {},
    ["agent"],
    {"a": 1},
    None,
    True,
    1e308,
    -1e308,
    10**30,
    "",
    "\x00",
    "\ud800",
    "x" * 5000,
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "2026-13-45T25:61:61Z",
]
RAW_VALUES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "123456789012345678901234567890",
    "[[[[[[[[[[1]]]]]]]]]]",
]


@pytest.fixture(scope="module")
def history() -> list[bytes]:
    lines = (ROOT / "samples" / "events.jsonl").read_bytes().splitlines()
    tickets: list[str] = []
    kept = []
    for line in lines:
        tid = json.loads(line)["ticket_id"]
        if tid not in tickets:
            if len(tickets) == 25:
                break
            tickets.append(tid)
        kept.append(line)
    return kept


def rows_by_ticket(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        found[json.loads(line)["ticket_id"]].append(line)
    return found


def evaluate(path: Path, capsys) -> tuple[int, str, str]:
    status = main(["evaluate", "--policies", str(POLICY), "--events", str(path), "--now", NOW, "--jobs", "1"])
    out = capsys.readouterr()
    return status, out.out, out.err


@st.composite
def mutation(draw, line: bytes) -> bytes:
    kind = draw(
        st.sampled_from(["flip", "truncate", "insert", "value", "value", "value", "raw", "raw", "dup"])
    )
    if kind == "flip" and line:
        at = draw(st.integers(0, len(line) - 1))
        return line[:at] + bytes([line[at] ^ draw(st.integers(1, 255))]) + line[at + 1 :]
    if kind == "truncate":
        return line[: draw(st.integers(0, max(0, len(line) - 1)))]
    if kind == "insert":
        at = draw(st.integers(0, len(line)))
        return line[:at] + draw(st.binary(min_size=1, max_size=8)) + line[at:]
    record = json.loads(line)
    keys = ["author", "score", "status", "public", "fields", "at", "type", "ticket_id", "fields.priority"]
    key = draw(st.sampled_from(keys))
    target = record
    if key.startswith("fields."):
        target = record["fields"] = record.get("fields") if isinstance(record.get("fields"), dict) else {}
        key = key.split(".", 1)[1]
    if kind == "raw":
        target[key] = "@@RAW@@"
        return json.dumps(record).encode().replace(b'"@@RAW@@"', draw(st.sampled_from(RAW_VALUES)).encode())
    if kind == "value":
        target[key] = draw(st.sampled_from(HOSTILE_VALUES))
        return json.dumps(record).encode()
    return line + b"\n" + line


def ticket_of(line: bytes) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return str(record.get("ticket_id")) if isinstance(record, dict) else None


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_mutated_line_costs_only_its_own_ticket(history, tmp_path, capsys, data):
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"\n".join(history) + b"\n")
    status, out, err = evaluate(clean, capsys)
    assert status == 0, err
    want = rows_by_ticket(out)

    lines = list(history)
    touched: set[str] = set()
    for index in data.draw(st.sets(st.integers(0, len(lines) - 1), min_size=1, max_size=3)):
        before = lines[index]
        after = data.draw(mutation(before))
        touched |= {t for t in (ticket_of(before), *map(ticket_of, after.split(b"\n"))) if t}
        lines[index] = after
    mutated = tmp_path / "mutated.jsonl"
    mutated.write_bytes(b"\n".join(lines) + b"\n")
    status, out, err = evaluate(mutated, capsys)
    assert status in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    got = rows_by_ticket(out)
    for ticket, rows in want.items():
        if ticket not in touched:
            assert got.get(ticket) == rows, f"ticket {ticket} lost or changed its rows; stderr: {err}"
