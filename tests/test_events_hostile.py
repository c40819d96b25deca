"""Hostile event input (issue "Hardening"): every bad line gets a clear
message naming its line, costs only its own ticket (or only itself when it
names no ticket), and never an internal error, a traceback or unbounded memory."""

from __future__ import annotations

import io
import json
import math
import sys
import tracemalloc
from pathlib import Path

import pytest

from sla import load_policies
from sla.cli.app import main
from sla.engine.jsonl import MAX_LINE_BYTES, jsonl_records, read_jsonl
from sla.engine.tracker import Tracker
from sla.errors import EventError
from sla.io.sources import csv_records
from sla.report.accumulators import csat_mean
from sla.report.formats import render_json

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policies" / "b2b-tiers.yaml")
NOW = "2026-04-01T00:00:00Z"


def ticket(tid: str, **overrides: object) -> list[dict[str, object]]:
    """A small solved ticket with a CSAT score; ``overrides`` = {"<index>.<key>": value}."""
    events: list[dict[str, object]] = [
        {
            "ticket_id": tid,
            "at": "2026-03-02T08:00:00Z",
            "type": "created",
            "fields": {"channel": "email", "priority": "high", "tier": "enterprise"},
        },
        {"ticket_id": tid, "at": "2026-03-02T08:00:00Z", "type": "message", "author": "customer"},
        {"ticket_id": tid, "at": "2026-03-02T09:00:00Z", "type": "message", "author": "agent"},
        {"ticket_id": tid, "at": "2026-03-02T10:00:00Z", "type": "status", "status": "solved"},
        {"ticket_id": tid, "at": "2026-03-02T11:00:00Z", "type": "csat", "score": 5},
    ]
    for where, value in overrides.items():
        index, _, key = where.partition(".")
        target = events[int(index)]
        if key.startswith("fields."):
            target = target["fields"]  # type: ignore[assignment]
            key = key.split(".", 1)[1]
        target[key] = value  # type: ignore[index]
    return events


def jsonl(*tickets: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for t in tickets for e in t)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def evaluate(capsys, path: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys, "evaluate", "--policies", POLICY, "--events", str(path), "--now", NOW, "--jobs", "1", *extra
    )


def rows_of(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        found.setdefault(json.loads(line)["ticket_id"], []).append(line)
    return found


@pytest.fixture()
def good_rows(tmp_path: Path, capsys) -> list[str]:
    path = tmp_path / "good.jsonl"
    path.write_bytes(jsonl(ticket("G")))
    status, out, err = evaluate(capsys, path)
    assert status == 0, err
    return rows_of(out)["G"]


def assert_only_rejected(status: int, out: str, err: str, good_rows: list[str]) -> None:
    assert status == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    assert rows_of(out).get("G") == good_rows, err


# ------------------------------------------------ 1. values of the wrong type
WRONG_TYPES = [
    ("1.author", [], "line 7: ticket B: author is []; expected customer, agent or bot"),
    ("1.author", {"a": 1}, "line 7: ticket B: author is {'a': 1}; expected customer, agent or bot"),
    ("3.status", ["solved"], "line 9: ticket B: a status event needs status, a string (got ['solved'])"),
    ("0.status", {}, "line 6: ticket B: status is {}; expected a string"),
    ("1.type", [], "line 7: ticket B: type is []; expected one of"),
    ("1.public", [], "line 7: ticket B: public is []; expected true or false"),
    (
        "1.sentiment",
        [],
        "line 7: ticket B: sentiment is []; expected a finite number from -1 to 1 (or null)",
    ),
    (
        "3.sentiment",
        {"score": 1},
        "line 9: ticket B: sentiment is {'score': 1} on a status event; only a message carries",
    ),
    (
        "0.time_spent",
        ["1h"],
        "line 6: ticket B: time_spent is ['1h']; expected a finite number of seconds, 0 or more (or null)",
    ),
]


@pytest.mark.parametrize(("where", "value", "message"), WRONG_TYPES)
@pytest.mark.parametrize("command", ["evaluate", "report", "explain"])
def test_a_list_or_object_where_a_string_belongs_rejects_its_ticket(
    tmp_path, capsys, command, where, value, message
):
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(ticket("G"), ticket("B", **{where: value})))
    argv = [command, "--policies", POLICY, "--events", str(path), "--now", NOW]
    argv += {"evaluate": ["--jobs", "1"], "report": ["--format", "json"], "explain": ["--ticket", "B"]}[
        command
    ]
    status, _, err = run(capsys, *argv)
    assert status == 1, err
    assert "internal error" not in err, err
    assert message in err


def test_the_tracker_rejects_an_unhashable_author():
    tracker = Tracker(load_policies(Path(POLICY).read_text()), "T1")
    tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
    with pytest.raises(EventError, match=r"author is \[\]; expected customer, agent or bot"):
        tracker.feed({"at": "2026-03-02T08:01:00Z", "type": "message", "author": []})


@pytest.mark.parametrize("value", [["high", "urgent"], {"level": "high"}, [], {}, [["nested"]]], ids=repr)
def test_list_and_object_attribute_values_are_data_never_a_crash(tmp_path, capsys, value):
    path = tmp_path / "events.jsonl"
    odd = ticket("O", **{"0.fields.priority": value, "0.fields.channel": value, "0.fields.tags": value})
    path.write_bytes(jsonl(ticket("G"), odd))
    status, out, err = evaluate(capsys, path)
    assert status == 0, err
    assert "O" in rows_of(out)  # a list is no policy's value: the catch-all policy applies
    status, out, err = run(
        capsys, "report", "--policies", POLICY, "--events", str(path), "--now", NOW,
        "--by", "priority,channel,tags", "--format", "json",
    )  # fmt: skip
    assert status == 0, err
    groups = [row["group"] for row in json.loads(out)["kpis"]]
    assert {"priority": value, "channel": value, "tags": value} in groups


# ------------------------------------------------------------------- 2. CSV
CSV_HEADER = b"ticket_id,at,type,fields,status,author,public,score\n"


def csv_ticket(tid: str) -> bytes:
    return (
        f'{tid},2026-03-02T08:00:00Z,created,"{{""channel"": ""email"", ""priority"": ""high"", ""tier"": ""enterprise""}}",,,,\n'
        f"{tid},2026-03-02T08:00:00Z,message,,,customer,,\n"
        f"{tid},2026-03-02T09:00:00Z,message,,,agent,,\n"
        f"{tid},2026-03-02T10:00:00Z,status,,solved,,,\n"
        f"{tid},2026-03-02T11:00:00Z,csat,,,,,5\n"
    ).encode()


def csv_lines(path: Path) -> list[tuple[int, object]]:
    return list(csv_records(str(path)))


def test_csv_a_byte_that_is_not_utf8_rejects_only_its_row(tmp_path, capsys, good_rows):
    path = tmp_path / "events.csv"
    path.write_bytes(CSV_HEADER + csv_ticket("G") + b"B,2026-03-02T08:00:00Z,message,,,\xffagent,,\n")
    status, out, err = evaluate(capsys, path)
    assert "line 7: not valid UTF-8 (byte 0xff at column 34 of line 7)" in err
    assert_only_rejected(status, out, err, good_rows)


def test_csv_a_cell_over_128_kb_is_read_and_one_over_1_mb_rejects_only_its_row(tmp_path):
    path = tmp_path / "events.csv"
    big = "x" * 200_000
    huge = "y" * (MAX_LINE_BYTES + 10)
    path.write_bytes(
        b"ticket_id,at,type,note\n"
        + f"A,2026-03-02T08:00:00Z,created,{big}\n".encode()
        + f'B,2026-03-02T08:00:00Z,created,"{huge}"\n'.encode()
        + b"C,2026-03-02T08:00:00Z,created,short\n"
    )
    got = csv_lines(path)
    assert [n for n, _ in got] == [2, 3, 4]
    assert got[0][1] == {"ticket_id": "A", "at": "2026-03-02T08:00:00Z", "type": "created", "note": big}
    assert str(got[1][1]) == "line 3: longer than 1 MB"
    assert got[2][1] == {"ticket_id": "C", "at": "2026-03-02T08:00:00Z", "type": "created", "note": "short"}


def test_csv_an_unterminated_quote_swallows_no_other_rows(tmp_path, capsys, good_rows):
    path = tmp_path / "events.csv"
    # The quote opened on line 2 closes at the next quote, in the fields of
    # ticket G's created event: every line between was one runaway cell.
    path.write_bytes(CSV_HEADER + b'B,2026-03-02T08:00:00Z,message,,,"agent,,\n' + csv_ticket("G"))
    status, out, err = evaluate(capsys, path)
    assert "line 2: a quoted cell runs on from line 2 to line 3" in err
    assert_only_rejected(status, out, err, good_rows)


def test_csv_an_unterminated_quote_at_the_end_of_the_file_is_reported(tmp_path, capsys, good_rows):
    path = tmp_path / "events.csv"
    path.write_bytes(
        CSV_HEADER + b'B,2026-03-02T08:00:00Z,message,,,"agent,,\n' + csv_ticket("G").replace(b'"', b"")
    )
    got = csv_lines(path)
    assert str(got[0][1]).startswith(
        "line 2: a quoted cell runs on from line 2 to line 7 (to the end of the file)"
    )
    assert [n for n, _ in got[1:]] == [3, 4, 5, 6, 7]  # read again, each a row of its own


def test_csv_a_quote_running_over_many_lines_is_stopped(tmp_path):
    path = tmp_path / "events.csv"
    rows = b"".join(b"C%d,2026-03-02T08:00:00Z,created,{}\n" % i for i in range(1500))
    path.write_bytes(
        b"ticket_id,at,type,note\n"
        + b'B,2026-03-02T08:00:00Z,created,"open\n'
        + rows
        + b'Z,2026-03-02T08:00:00Z,created,"x"\n'
    )
    got = csv_lines(path)
    assert "line 2: a quoted cell runs on from line 2 to line 1002 (more than 1000 lines" in str(got[0][1])
    assert len(got) == 1 + 1500 + 1
    assert all(isinstance(record, dict) for _, record in got[1:])


def test_csv_multiline_fields_json_is_still_read(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(
        b'ticket_id,at,type,fields\nA,2026-03-02T08:00:00Z,created,"{\n""channel"": ""email""\n}"\nB,2026-03-02T08:00:00Z,created,{}\n'
    )
    got = csv_lines(path)
    assert got == [
        (
            2,
            {
                "ticket_id": "A",
                "at": "2026-03-02T08:00:00Z",
                "type": "created",
                "fields": {"channel": "email"},
            },
        ),
        (5, {"ticket_id": "B", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}),
    ]


# ------------------------------------------------------------------ 3. CSAT
@pytest.mark.parametrize("score", ["1e308", "inf", "-inf", "nan", "1e999", "1000001"])
def test_csv_a_score_that_is_not_a_plausible_finite_number_rejects_its_ticket(
    tmp_path, capsys, good_rows, score
):
    path = tmp_path / "events.csv"
    path.write_bytes(
        CSV_HEADER + csv_ticket("G") + csv_ticket("B").replace(b",,,,5\n", f",,,,{score}\n".encode())
    )
    status, out, err = evaluate(capsys, path)
    assert "line 11: ticket B: score is " in err and "expected a finite number from -1e6 to 1e6" in err
    assert_only_rejected(status, out, err, good_rows)


@pytest.mark.parametrize(
    ("column", "cell", "reason"),
    [
        ("time_spent", "nan", "time_spent is nan; expected a finite number of seconds, 0 or more"),
        ("time_spent", "inf", "time_spent is inf; expected a finite number of seconds, 0 or more"),
        ("time_spent", "1e999", "time_spent is inf; expected a finite number of seconds, 0 or more"),
        ("time_spent", "-0.5", "time_spent is -0.5; expected a finite number of seconds, 0 or more"),
        ("sentiment", "nan", "sentiment is nan; expected a finite number from -1 to 1"),
        ("sentiment", "-inf", "sentiment is -inf; expected a finite number from -1 to 1"),
        ("sentiment", "1.01", "sentiment is 1.01; expected a finite number from -1 to 1"),
    ],
)
def test_csv_a_time_spent_or_sentiment_that_is_not_a_finite_number_in_range_rejects_its_ticket(
    tmp_path, capsys, good_rows, column, cell, reason
):
    header = CSV_HEADER.replace(b"score\n", b"score,time_spent,sentiment\n")
    good = csv_ticket("G").replace(b"\n", b",,\n")
    bad = csv_ticket("B").replace(b"\n", b",,\n")
    cells = f",{cell}," if column == "time_spent" else f",,{cell}"
    bad = bad.replace(b"customer,,,,\n", f"customer,,{cells}\n".encode())
    path = tmp_path / "events.csv"
    path.write_bytes(header + good + bad)
    status, out, err = evaluate(capsys, path)
    assert f"line 8: ticket B: {reason}" in err
    assert_only_rejected(status, out, err, good_rows)


@pytest.mark.parametrize("key", ["time_spent", "sentiment"])
@pytest.mark.parametrize("raw", [b"1e999", b"-1e999", b"NaN"])
def test_jsonl_an_infinite_or_nan_time_spent_or_sentiment_costs_only_its_ticket_or_line(
    tmp_path, capsys, good_rows, key, raw
):
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(ticket("G"), ticket("B", **{f"1.{key}": "@@"})).replace(b'"@@"', raw))
    status, out, err = evaluate(capsys, path)
    if raw == b"NaN":  # not JSON: the line alone is rejected, by its number
        assert "line 7: not valid JSON (NaN is not a JSON value)" in err
    else:
        assert f"line 7: ticket B: {key} is {'-' if raw.startswith(b'-') else ''}inf" in err
    assert_only_rejected(status, out, err, good_rows)


def raw_score(raw: bytes) -> bytes:
    return jsonl(ticket("G"), ticket("B", **{"4.score": "@@"})).replace(b'"@@"', raw)


@pytest.mark.parametrize("raw", [b"1e308", b"-1e308", b"1e999", b"-1e999", b"123456789012345678901234567890"])
def test_jsonl_a_huge_score_rejects_its_ticket(tmp_path, capsys, good_rows, raw):
    path = tmp_path / "events.jsonl"
    path.write_bytes(raw_score(raw))
    status, out, err = evaluate(capsys, path)
    assert "line 10: ticket B: score is " in err and "expected a finite number from -1e6 to 1e6" in err
    assert_only_rejected(status, out, err, good_rows)


def test_the_report_json_never_holds_nan_or_infinity(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_bytes(CSV_HEADER + csv_ticket("G") + csv_ticket("B").replace(b",,,,5\n", b",,,,nan\n"))
    status, out, err = run(
        capsys, "report", "--policies", POLICY, "--events", str(path), "--now", NOW, "--format", "json"
    )
    assert status == 1, err
    assert "NaN" not in out and "Infinity" not in out
    data = json.loads(out)
    assert data["kpis"][0]["csat"]["mean"] == 5.0


def test_the_csat_mean_of_huge_scores_does_not_overflow():
    assert csat_mean([1e308, 1e308]) == 1e308
    assert csat_mean([1e308, 1e308, -1e308]) == pytest.approx(1e308 / 3)
    assert math.isnan(csat_mean([math.inf, -math.inf]) or 0.0)  # written null, see below


def test_the_json_writer_writes_null_for_a_non_finite_figure():
    from sla.report.results import Report

    class Odd(Report):
        def to_dict(self) -> dict[str, object]:  # type: ignore[override]
            return {"mean": math.nan, "nested": [{"x": math.inf}], "fine": 1.5}

    text = render_json(Odd.__new__(Odd))
    assert json.loads(text) == {"mean": None, "nested": [{"x": None}], "fine": 1.5}
    assert "NaN" not in text and "Infinity" not in text


# ------------------------------------------------------ 4. endless lines
def test_a_line_over_1_mb_is_rejected_alone(tmp_path, capsys, good_rows):
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b'{"ticket_id": "B", "note": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\n' + jsonl(ticket("G"))
    )
    status, out, err = evaluate(capsys, path)
    assert "line 1: longer than 1 MB" in err
    assert_only_rejected(status, out, err, good_rows)


class Endless(io.RawIOBase):
    """A stream of ``size`` bytes of one line (no newline), then a good line."""

    def __init__(self, size: int, tail: bytes):
        self.left, self.tail = size, tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.left > 0:
            n = min(len(buffer), self.left)
            buffer[:n] = b"0" * n
            self.left -= n
            return n
        n = min(len(buffer), len(self.tail))
        buffer[:n], self.tail = self.tail[:n], self.tail[n:]
        return n


def test_an_endless_line_is_skipped_in_bounded_memory():
    stream = io.BufferedReader(Endless(200 * MAX_LINE_BYTES, b"\n" + jsonl(ticket("G"))))
    tracemalloc.start()
    try:
        got = list(jsonl_records(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(got[0][1]) == "line 1: longer than 1 MB"
    assert [n for n, _ in got[1:]] == [2, 3, 4, 5, 6]
    assert peak < 8 * MAX_LINE_BYTES  # a few chunks, not 200 MB


def test_standard_input_is_read_in_bounded_lines(monkeypatch, capsys):
    from sla.io.sources import records

    data = b"\xef\xbb\xbf" + b'{"x": "' + b"y" * (2 * MAX_LINE_BYTES) + b'"}\n' + jsonl(ticket("G"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))  # type: ignore[arg-type]
    got = list(records("-", "jsonl"))
    assert str(got[0][1]) == "line 1: longer than 1 MB"
    assert len(got) == 6 and all(isinstance(r, dict) for _, r in got[1:])


# ------------------------------------------------------------ 5. byte order mark
def test_a_byte_order_mark_is_skipped_in_jsonl(tmp_path, capsys, good_rows):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + jsonl(ticket("G")))
    status, out, err = evaluate(capsys, path)
    assert status == 0, err
    assert rows_of(out)["G"] == good_rows


def test_a_byte_order_mark_is_skipped_in_csv(tmp_path, capsys, good_rows):
    path = tmp_path / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_HEADER + csv_ticket("G"))
    status, out, err = evaluate(capsys, path)
    assert status == 0, err
    assert rows_of(out)["G"] == good_rows


# ---------------------------------------------------- 6. valid JSON orjson refuses
def test_a_30_digit_integer_ticket_id_is_its_decimal_text():
    big = "123456789012345678901234567890"
    lines = [line.replace(b'"T"', big.encode()) for line in jsonl(ticket("T")).splitlines()]
    tickets, errors = read_jsonl(lines)
    assert errors == []
    assert list(tickets) == [big] and tickets[big].error is None


def test_deep_nesting_is_refused_clearly(tmp_path, capsys, good_rows):
    path = tmp_path / "events.jsonl"
    deep = b'{"ticket_id": "B", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    path.write_bytes(deep + jsonl(ticket("G")))
    status, out, err = evaluate(capsys, path)
    assert "line 1: JSON nested more than 1024 levels deep" in err
    assert_only_rejected(status, out, err, good_rows)


def test_1e999_is_infinity_and_rejected_by_the_score_rule(tmp_path, capsys, good_rows):
    path = tmp_path / "events.jsonl"
    path.write_bytes(raw_score(b"1e999"))
    status, out, err = evaluate(capsys, path)
    assert "line 10: ticket B: score is inf; expected a finite number" in err
    assert_only_rejected(status, out, err, good_rows)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"ticket_id": "B", "score": NaN}', "not valid JSON (NaN is not a JSON value)"),
        (
            b'{"ticket_id": "B", "author": "\\ud800"}',
            "not valid JSON ('\\ud800' holds a lone surrogate, not text)",
        ),
        (b'{"ticket_id": "B", "author": "\xff"}', "not valid UTF-8 (byte 0xff at column 31)"),
        (
            b'{"ticket_id": "B", ',
            "not valid JSON",
        ),
    ],
)
def test_a_line_that_is_not_json_says_why(raw, reason):
    (number, record), *_ = jsonl_records([raw])
    assert str(record) == f"line 1: {reason}"


# ---------------------------------------------------------- 7. data in messages
def test_a_long_value_is_cut_in_the_message(tmp_path, capsys, good_rows):
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(ticket("G"), ticket("B", **{"1.author": "x" * 5000 + "\x1b[31m"})))
    status, out, err = evaluate(capsys, path)
    line = next(line for line in err.splitlines() if "ticket B" in line)
    assert len(line) < 200 and "..." in line and "\x1b" not in line
    assert_only_rejected(status, out, err, good_rows)


def test_a_control_character_is_escaped_in_the_message():
    tickets, _ = read_jsonl([json.dumps(e) for e in ticket("B", **{"3.status": ["\x1b[2J\nrejected: fake"]})])
    error = tickets["B"].error
    assert error is not None and "\\x1b[2J\\nrejected" in error.reason and "\n" not in error.reason
