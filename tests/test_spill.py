"""Spilling to partition files: lines spilled as they came read back as the
very records the input gives, every ticket in one partition, line numbers
kept; transformed records written exactly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine.events import LineError, ticket_key
from sla.engine.jsonl import LONG_LINE, chunk_records
from sla.io.spill import Partitions, line_records, numbered_records, partition_tickets, spill_lines

#: Lines that read in unusual ways: the slow path (a byte order mark, an
#: integer beyond 64 bits, 1e999), a carriage return, text beyond ASCII and
#: escapes, an integer ticket id.
ODD = [
    b'\xef\xbb\xbf{"ticket_id":"T1","at":"2026-03-02T08:00:00Z","type":"created","fields":{}}',
    b'{"ticket_id":123456789012345678901234567890,"at":"2026-03-02T08:00:00Z","type":"created","fields":{"n":1e999}}',
    b'{"ticket_id":"T2","at":"2026-03-02T08:00:00Z","type":"created","fields":{"big":99999999999999999999999}}\r',
    '{"ticket_id":"Tø","at":"2026-03-02T08:00:00Z","type":"message","author":"agent","body":"d\\u00e9j\\u00e0 \\"vu\\"\\n"}'.encode(),
    b'{"ticket_id":7,"at":"2026-03-02T08:00:00Z","type":"created","fields":{}}',
]
#: Lines the spill rejects (not JSON, no object, no ticket, a null ticket,
#: over-long) or skips (blank).
BAD = [
    b"not json",
    b"[1, 2]",
    b'{"at": "2026-03-02T08:00:00Z"}',
    b'{"ticket_id": null}',
    b"",
    b"   ",
    LONG_LINE,
]


def expected(chunks: list[list[bytes]]) -> tuple[list[tuple[int, object]], list[int]]:
    """What reading the input gives: the records naming a ticket, and the lines rejected."""
    kept, rejected = [], []
    for number, record in chunk_records(chunks):
        key = ticket_key(record.get("ticket_id")) if isinstance(record, dict) else None
        if key is None:
            rejected.append(number)
        else:
            kept.append((number, record))
    return kept, rejected


def same(a: object, b: object) -> bool:
    """Equal, NaN and infinities included, and of the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[attr-defined]
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b  # type: ignore[arg-type]
    return a == b


def spilled(tmp_path: Path, chunks: list[list[bytes]], count: int, offset: int = 0):
    parts = Partitions(str(tmp_path), count, name=f"t{offset}")
    problems, read = spill_lines(chunks, parts)
    paths = parts.close()
    return [list(line_records([(path, offset)])) for path in paths], problems, read


def test_lines_spilled_as_they_came_read_back_as_the_input_reads(tmp_path: Path) -> None:
    lines = ODD + BAD + ODD[::-1]
    chunks = [lines[:4], lines[4:9], lines[9:]]
    partitions, problems, read = spilled(tmp_path, chunks, count=3, offset=1000)
    kept, rejected = expected(chunks)
    assert read == len(lines)
    assert [p.line for p in problems] == rejected == [6, 7, 8, 9, 12]  # blank lines are no records
    assert {p.reason for p in problems} >= {"not a JSON object", "no ticket_id"}
    got = sorted((pair for partition in partitions for pair in partition), key=lambda pair: pair[0])
    assert [n for n, _ in got] == [n + 1000 for n, _ in kept]
    assert all(same(a, b) for (_, a), (_, b) in zip(got, kept, strict=True))
    big = next(r for _, r in got if r["ticket_id"] == "123456789012345678901234567890")  # type: ignore[index]
    assert big["fields"]["n"] == math.inf  # type: ignore[index]


def test_each_ticket_lands_in_one_partition_in_line_order(tmp_path: Path) -> None:
    lines = [orjson.dumps({"ticket_id": f"T{i % 7}", "at": i}) for i in range(200)]
    partitions, _, _ = spilled(tmp_path, [lines[:70], lines[70:]], count=4)
    where: dict[str, set[int]] = {}
    for index, partition in enumerate(partitions):
        numbers = [n for n, _ in partition]
        assert numbers == sorted(numbers)
        for _, record in partition:
            where.setdefault(record["ticket_id"], set()).add(index)  # type: ignore[index]
    assert len(where) == 7 and all(len(found) == 1 for found in where.values())


def test_partition_tickets_joins_the_ranges_files_with_their_offsets(tmp_path: Path) -> None:
    first = [b'{"ticket_id":"A","at":"2026-03-02T08:00:00Z","type":"created","fields":{}}']
    second = [
        b'{"ticket_id":"B","at":"2026-03-02T08:00:00Z","type":"created","fields":{}}',
        b'{"ticket_id":"A","at":"2026-03-02T09:00:00Z","type":"message","author":"agent"}',
    ]
    pieces = []
    for offset, lines in ((0, first), (1, second)):
        parts = Partitions(str(tmp_path), 1, name=f"range-{offset}")
        spill_lines([lines], parts)
        pieces.append((parts.close()[0], offset))
    tickets = partition_tickets(pieces, raw=True)
    assert [(t.ticket_id, t.first_line, [e.line for e in t.events]) for t in tickets] == [
        ("A", 1, [1, 3]),
        ("B", 2, [2]),
    ]


def test_transformed_records_are_written_exactly(tmp_path: Path) -> None:
    def prepare(record: dict[str, object]) -> dict[str, object]:
        return {**record, "score": math.nan, "far": -math.inf}

    parts = Partitions(str(tmp_path), 2)
    problems, read = spill_lines([ODD[:2] + [b"nope"]], parts, prepare)
    paths = parts.close()
    got = sorted(pair for path in paths for pair in numbered_records(path, 5))
    kept, _ = expected([ODD[:2]])
    assert [p.line for p in problems] == [3] and read == 3
    assert [n for n, _ in got] == [6, 7]
    assert all(same(a, prepare(b)) for (_, a), (_, b) in zip(got, kept, strict=True))  # type: ignore[arg-type]


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(
                # json, not orjson: integers of any size, NaN, lone surrogates (escaped)
                lambda t, v: json.dumps({"ticket_id": t, "v": v}).encode(),
                st.sampled_from(["a", "b", "ç", 5, -1]),
                _VALUES,
            ),
            st.sampled_from(BAD + ODD),
        ),
        max_size=40,
    ),
    st.integers(1, 5),
    st.integers(1, 4),
)
def test_spilling_any_lines_keeps_every_record_and_rejects_the_rest(
    tmp_path_factory, lines: list[bytes], count: int, chunk: int
) -> None:
    folder = tmp_path_factory.mktemp("spill")
    chunks = [lines[i : i + chunk] for i in range(0, len(lines), chunk)]
    partitions, problems, read = spilled(folder, chunks, count)
    kept, rejected = expected(chunks)
    assert read == len(lines)
    assert [p.line for p in problems] == rejected
    got = sorted((pair for partition in partitions for pair in partition), key=lambda pair: pair[0])
    assert [n for n, _ in got] == [n for n, _ in kept]
    assert all(same(a, b) for (_, a), (_, b) in zip(got, kept, strict=True))
    assert not any(isinstance(r, LineError) for _, r in got)
