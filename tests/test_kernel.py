"""The Arrow batch kernel (sla.adapters.kernel), in this process: what the
Spark and Dask drivers run in their workers (tests/test_adapters.py runs
those end to end). Its rows are the rows of ``sla evaluate`` on the same
events, whatever the batches' shape, the types of ``at`` and ``fields``, and
the bad events among them."""

from __future__ import annotations

import gc
import io
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sla.io import pipeline
from sla.io.generate import generate
from sla.io.policy_files import load_policies
from sla.timefmt import parse_instant

pa = pytest.importorskip("pyarrow")

from sla.adapters.kernel import ArrowKernel, kernel_schema  # noqa: E402  (needs pyarrow)
from sla.engine.rows import row_of  # noqa: E402
from sla.io.sources import EVENT_COLUMNS, arrow_records  # noqa: E402

NOW = "2026-04-01T00:00:00Z"
POLICIES = load_policies(
    "metrics:\n  requester_wait: {pause_statuses: [pending]}\n"
    "calendars:\n  office:\n    timezone: Europe/Berlin\n"
    '    hours: {mon-fri: ["09:00-12:00", "13:00-17:00"]}\n    holidays: {country: DE}\n'
    "policies:\n  - name: desk\n    calendar: office\n"
    "    targets: {first_response: {urgent: 1h, default: 8h}, next_response: 8h, resolution: 3d,"
    " requester_wait: 2d}\n"
)
# Bad events among good ones: a line naming no ticket, a ticket with no
# created event, an unknown type, a bad timestamp, a message with no author.
BAD = [
    {"at": "2026-02-02T10:00:00Z", "type": "created", "fields": {}},
    {"ticket_id": "NO-CREATED", "at": "2026-02-02T10:00:00Z", "type": "message", "author": "agent"},
    {"ticket_id": "ODD", "at": "2026-02-02T10:00:00Z", "type": "created", "fields": {}},
    {"ticket_id": "ODD", "at": "2026-02-02T10:05:00Z", "type": "weird"},
    {"ticket_id": "LATE", "at": "yesterday", "type": "created", "fields": {}},
    {"ticket_id": "MUTE", "at": "2026-02-02T10:00:00Z", "type": "created", "fields": {}},
    {"ticket_id": "MUTE", "at": "2026-02-02T10:01:00Z", "type": "message"},
]


def local_run(events: list[dict[str, object]], folder: Path) -> tuple[list[dict[str, object]], list[str]]:
    """``sla evaluate``'s rows of the events written as JSON Lines, and its rejections."""
    path = folder / f"events-{len(list(folder.iterdir()))}.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    out = io.BytesIO()
    summary = pipeline.evaluate_file(POLICIES, str(path), parse_instant(NOW), out)
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    return rows, [str(r) for r in summary.rejections]


def table_of(events: list[dict[str, object]], fields_as: str = "json") -> pa.Table:
    """The events as an Arrow table, as a Parquet export would hold them,
    with the input line in ``line``."""
    columns: dict[str, object] = {c: [e.get(c) for e in events] for c in EVENT_COLUMNS}
    fields = columns["fields"]
    if fields_as == "json":
        columns["fields"] = [None if f is None else orjson.dumps(f).decode() for f in fields]
    elif fields_as == "map":
        columns["fields"] = pa.array(
            [None if f is None else [(k, str(v)) for k, v in f.items()] for f in fields],
            pa.map_(pa.string(), pa.string()),
        )
    columns["public"] = pa.array(columns["public"], pa.bool_())
    columns["score"] = pa.array([None if s is None else float(s) for s in columns["score"]], pa.float64())
    for name in ("time_spent", "sentiment"):
        columns[name] = pa.array([None if v is None else float(v) for v in columns[name]], pa.float64())
    columns["line"] = pa.array(range(1, len(events) + 1), pa.int64())
    return pa.table(columns)


def kernel_rows(table: pa.Table, chunk: int, batch_rows: int = 65_536) -> list[dict[str, object]]:
    kernel = ArrowKernel(POLICIES, NOW, batch_rows=batch_rows)
    rows: list[dict[str, object]] = []
    for batch in kernel(table.to_batches(max_chunksize=chunk)):
        assert batch.schema == kernel_schema()
        rows += batch.to_pylist()
    return rows


def _same_numbers(row: dict[str, object]) -> dict[str, object]:
    """A row as its Arrow columns hold it: seconds as floats, no ``error``."""
    return {
        k: float(v) if isinstance(v, int) and not isinstance(v, bool) and k.endswith("_seconds") else v
        for k, v in row.items()
        if k != "error"
    }


@pytest.fixture(scope="module")
def history() -> list[dict[str, object]]:
    events = list(generate(150, seed=5))
    # A few bad events in the middle of the input, between whole tickets.
    middle = next(i for i in range(len(events) // 2, len(events)) if events[i]["type"] == "created")
    return events[:middle] + BAD + events[middle:]


@pytest.mark.parametrize(("chunk", "batch_rows"), [(65_536, 65_536), (7, 50), (1, 1)])
def test_the_rows_are_sla_evaluate_s(history, tmp_path, chunk, batch_rows):
    local, rejected = local_run(history, tmp_path)
    rows = kernel_rows(table_of(history), chunk, batch_rows)
    good = [r for r in rows if r["state"] != "rejected"]
    assert [_same_numbers(r) for r in good] == [_same_numbers(r) for r in local]  # in input order
    assert all(r["error"] is None for r in good)
    errors = [r["error"] for r in rows if r["state"] == "rejected"]
    assert sorted(errors) == sorted(rejected)
    assert len(errors) == 5
    assert {r["ticket_id"] for r in rows if r["state"] == "rejected"} == {
        None,
        "NO-CREATED",
        "ODD",
        "LATE",
        "MUTE",
    }


def test_fields_as_a_map_and_at_as_a_timestamp_read_as_json_text_does(history, tmp_path):
    events = [e for e in history if e not in BAD]
    table = table_of(events, fields_as="map")
    moments = [datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00")).astimezone(UTC) for e in events]
    table = table.set_column(
        table.schema.get_field_index("at"), "at", pa.array(moments, pa.timestamp("us", tz="UTC"))
    )
    stringly = [
        {**e, "fields": {k: str(v) for k, v in e["fields"].items()}} if "fields" in e else e for e in events
    ]
    local, _ = local_run(stringly, tmp_path)
    assert [_same_numbers(r) for r in kernel_rows(table, 100)] == [_same_numbers(r) for r in local]


def test_null_ticket_ids_and_timestamps_are_refused_as_left_out():
    table = pa.table(
        {
            "ticket_id": ["A", None, "B"],
            "at": ["2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z", None],
            "type": ["created", "created", "created"],
            "fields": ["{}", "{}", "{}"],
        }
    )
    errors = [r["error"] for r in kernel_rows(table, 10) if r["state"] == "rejected"]
    assert errors[0].startswith("line 3: ticket B: at is missing")
    assert errors[1:] == ["line 2: no ticket_id"]


def test_integer_ticket_ids_and_lines_named_by_the_line_column():
    table = pa.table(
        {
            "ticket_id": pa.array([7, 7, 8], pa.int64()),
            "at": ["2026-03-02T08:00:00Z", "2026-03-02T08:30:00Z", "2026-03-02T08:00:00Z"],
            "type": ["created", "message", "message"],
            "fields": ["{}", None, None],
            "author": [None, "agent", "agent"],
            "line": pa.array([40, 41, 42], pa.int64()),
        }
    )
    rows = kernel_rows(table, 10)
    assert {r["ticket_id"] for r in rows} == {"7", "8"}
    assert [r["error"] for r in rows if r["state"] == "rejected"] == [
        "line 42: ticket 8: the ticket has no created event"
    ]


def test_a_ticket_split_across_a_partition_is_refused_with_its_line():
    table = pa.table(
        {
            "ticket_id": ["A", "B", "A"],
            "at": ["2026-03-02T08:00:00Z"] * 3,
            "type": ["created", "created", "message"],
            "fields": ["{}", "{}", None],
            "author": [None, None, "agent"],
        }
    )
    with pytest.raises(
        ValueError, match=r"^line 3: ticket A appears again .* sort or cluster the events by ticket"
    ):
        kernel_rows(table, 10)


def test_the_collector_is_on_again_while_the_caller_holds_a_batch_and_after():
    table = table_of(list(generate(20, seed=3)))
    assert gc.isenabled()
    kernel = ArrowKernel(POLICIES, NOW, batch_rows=5)
    seen = []
    for _ in kernel(table.to_batches(max_chunksize=9)):
        seen.append(gc.isenabled())
    assert len(seen) > 3 and all(seen)
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that turned it off keeps it off
        for _ in kernel(table.to_batches()):
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_schema_holds_a_row_of_sla_evaluate_in_its_order(tmp_path):
    local, _ = local_run(list(generate(3, seed=1)), tmp_path)
    fields = next(iter(ArrowKernel(POLICIES, NOW).judge.fields(_one_ticket())))
    assert kernel_schema().names == [*row_of(fields), "error"]
    assert list(local[0]) == kernel_schema().names[:-1]


def _one_ticket():
    from sla.engine.events import events_from_dicts

    return events_from_dicts([{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], "T1")


def test_arrow_records_read_as_the_jsonl_reader_does():
    batch = pa.record_batch(
        {
            "ticket_id": ["T1", None, "T1"],
            "at": ["2026-03-02T08:00:00Z", None, "2026-03-02T09:00:00Z"],
            "type": ["created", "message", "message"],
            "fields": pa.array(
                [{"a": "x", "b": None}, None, None], pa.struct([("a", pa.string()), ("b", pa.string())])
            ),
            "author": [None, "agent", "agent"],
            "line": pa.array([5, None, 0], pa.int64()),
        }
    )
    assert list(arrow_records([batch], numbered=True)) == [
        (
            5,
            {
                "ticket_id": "T1",
                "at": "2026-03-02T08:00:00Z",
                "type": "created",
                "fields": {"a": "x"},
                "author": None,
            },
        ),
        (2, {"type": "message", "fields": None, "author": "agent"}),
        (
            3,
            {
                "ticket_id": "T1",
                "at": "2026-03-02T09:00:00Z",
                "type": "message",
                "fields": None,
                "author": "agent",
            },
        ),
    ]
    # Without numbered, the line column is an ordinary column and rows count from 1.
    assert [n for n, _ in arrow_records([batch, batch])] == [1, 2, 3, 4, 5, 6]
    assert "line" in next(iter(arrow_records([batch])))[1]
    # A batch with the line column alone still has its rows.
    only = pa.record_batch({"line": pa.array([1, 2], pa.int64())})
    assert list(arrow_records([only], numbered=True)) == [(1, {}), (2, {})]
