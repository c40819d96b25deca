"""``sla import csv``: a table export through a column mapping, end to end.
A row the mapping cannot read is skipped alone, with its line; the output
passes ``sla evaluate``, also through a pipe."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sla.cli.app import main
from sla.importers.run import import_events
from sla.importers.tabular import CsvSource
from sla.io.csv_map import load_mapping

MAPPING = """\
columns:
  Ticket: ticket_id
  Time: at
  Event: type
  Status: status
  Role: author
  Internal: public
  Priority: fields.priority
values:
  type: {Ticket created: created, Comment: message, Status change: status}
  author: {End-user: customer, Agent: agent}
  public: {"yes": false, "no": true}
  status: {Open: open, Pending: pending, Solved: solved}
timestamps:
  format: "%d.%m.%Y %H:%M"
  zone: Europe/Berlin
"""
HEADER = "Ticket,Time,Event,Status,Role,Internal,Priority\n"
CLEAN = HEADER + (
    "A1,02.03.2026 09:00,Ticket created,,,,High\n"
    "A1,02.03.2026 09:00,Comment,,End-user,no,\n"
    "B2,02.03.2026 09:30,Ticket created,,,,Low\n"
    "A1,02.03.2026 09:40,Comment,,Agent,yes,\n"
    "A1,02.03.2026 09:45,Comment,,Agent,no,\n"
    "B2,02.03.2026 11:00,Comment,,Agent,no,\n"
    "A1,02.03.2026 10:15,Status change,Solved,,,\n"
)
POLICY = """\
policies:
  - name: standard
    calendar: 24x7
    targets:
      first_response: 1h
      resolution: 8h
"""
NOW = "2026-03-03T00:00:00Z"


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "map.yaml").write_text(MAPPING)
    (tmp_path / "export.csv").write_text(CLEAN)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return {"map": tmp_path / "map.yaml", "csv": tmp_path / "export.csv", "policy": tmp_path / "policy.yaml"}


def sla(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_each_row_is_one_event_grouped_by_ticket_in_time_order(files, capsys):
    status, out, err = sla(capsys, "import", "csv", files["csv"], "--map", files["map"])
    assert status == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["ticket_id"], e["type"], e["at"]) for e in events] == [
        ("A1", "created", "2026-03-02T09:00:00+01:00"),
        ("A1", "message", "2026-03-02T09:00:00+01:00"),
        ("A1", "message", "2026-03-02T09:40:00+01:00"),
        ("A1", "message", "2026-03-02T09:45:00+01:00"),
        ("A1", "status", "2026-03-02T10:15:00+01:00"),  # its row came last: sorted into place
        ("B2", "created", "2026-03-02T09:30:00+01:00"),
        ("B2", "message", "2026-03-02T11:00:00+01:00"),
    ]
    assert events[0]["fields"] == {"priority": "High"} and events[2]["public"] is False
    assert err.splitlines() == ["1 file(s), 7 record(s) read; 2 ticket(s), 7 event(s) written"]


def test_the_import_gives_what_evaluate_map_gives(files, tmp_path, capsys):
    target = tmp_path / "events.jsonl"
    assert sla(capsys, "import", "csv", files["csv"], "--map", files["map"], "--output", target)[0] == 0
    _, imported, _ = sla(capsys, "evaluate", "--policies", files["policy"], "--events", target, "--now", NOW)
    _, direct, _ = sla(
        capsys,
        "evaluate",
        "--policies",
        files["policy"],
        "--events",
        files["csv"],
        "--map",
        files["map"],
        "--now",
        NOW,
    )
    assert imported == direct and len(imported.splitlines()) == 4


def test_statuses_are_written_as_section_14_writes_them(tmp_path, capsys):
    """Section 14: an import lower-cases statuses, spaces and hyphens as _,
    also those a table gives as they are (no value map for them)."""
    (tmp_path / "map.yaml").write_text(
        "columns:\n  Ticket: ticket_id\n  Time: at\n  Event: type\n  Status: status\n"
    )
    (tmp_path / "t.csv").write_text(
        "Ticket,Time,Event,Status\n"
        "A,2026-03-02T09:00:00Z,created,New Ticket\n"
        "A,2026-03-02T10:00:00Z,status,Waiting on-Customer\n"
        "A,2026-03-02T11:00:00Z,status,Solved\n"
    )
    status, out, _ = sla(capsys, "import", "csv", tmp_path / "t.csv", "--map", tmp_path / "map.yaml")
    assert status == 0
    assert [json.loads(line).get("status") for line in out.splitlines()] == [
        "new_ticket",
        "waiting_on_customer",
        "solved",
    ]


def test_bad_rows_are_skipped_alone_with_their_line(files, capsys):
    files["csv"].write_bytes(
        CLEAN.encode()
        + b"A1,02.03.2026 12:00,Comment,,Admin,no,\n"  # line 9: a word the mapping does not list
        + b"B2,2026-03-02 12:00,Comment,,Agent,no,\n"  # line 10: a time off the format
        + b"C3,02.03.2026 12:00,Ticket created,,,,\n"
        + b"C3,02.03.2026 12:00,Comment,,Agent,\xff,\n"  # line 12: not UTF-8
        + b",02.03.2026 12:00,Comment,,Agent,no,\n"  # line 13: no ticket
        + b"D4,02.03.2026 12:00,Comment,,End-user,no,\n"  # D4 has no created row: refused
        + b"C3,02.03.2026 12:30,Status change,Closed,,,\n"  # line 15
    )
    status, out, err = sla(capsys, "import", "csv", files["csv"], "--map", files["map"])
    assert status == 1
    assert {json.loads(line)["ticket_id"] for line in out.splitlines()} == {"A1", "B2", "C3"}
    name = str(files["csv"])
    assert err.splitlines() == [
        f"{name}:9: rows: column 'Role': 'Admin' is not listed under values.author in {files['map']} "
        "('End-user', 'Agent'); add it there",
        f"{name}:10: rows: column 'Time': '2026-03-02 12:00' does not match the format '%d.%m.%Y %H:%M'",
        f"{name}:12: unreadable: not valid UTF-8 (byte 0xff at column 36 of line 12)",
        f"{name}:13: rows: the row names no ticket (its ticket_id cell is empty)",
        f"{name}:15: rows: column 'Status': 'Closed' is not listed under values.status in {files['map']} "
        "('Open', 'Pending', 'Solved'); add it there",
        "ticket D4: refused: no row creates the ticket (type created)",
        "1 file(s), 13 record(s) read; 3 ticket(s), 8 event(s) written",
        "skipped: 4 rows, 1 unreadable",
        "1 ticket(s) refused (no creation, or unusable)",
    ]


def test_an_event_the_contract_refuses_is_a_skipped_row(files, tmp_path):
    mapping = load_mapping(files["map"])
    files["csv"].write_text(
        HEADER + "A1,02.03.2026 09:00,Ticket created,,,,\nA1,02.03.2026 09:10,Comment,,,,\n"
    )
    out = io.BytesIO()
    summary, _ = import_events(CsvSource(mapping), [str(files["csv"])], out)
    assert summary.skipped == {"rows": 1}
    assert str(summary.problems[0]).endswith(":3: rows: author is None; expected customer, agent or bot")


def test_an_event_before_its_creation_refuses_the_ticket(files):
    files["csv"].write_text(
        HEADER + "A1,02.03.2026 09:00,Ticket created,,,,\nA1,02.03.2026 08:10,Comment,,Agent,,\n"
    )
    summary, _ = import_events(CsvSource(load_mapping(files["map"])), [str(files["csv"])], io.BytesIO())
    assert summary.tickets_refused == 1
    assert "a message row at 2026-03-02T08:10:00+01:00 comes before the ticket's creation" in str(
        summary.problems[0]
    )


def test_gzip_files_and_folders(files, tmp_path):
    folder = tmp_path / "tables"
    (folder / "march").mkdir(parents=True)
    lines = CLEAN.splitlines(keepends=True)
    (folder / "a.csv").write_text(HEADER + "".join(lines[1:4]))
    (folder / "march" / "b.csv.gz").write_bytes(gzip.compress((HEADER + "".join(lines[4:])).encode()))
    out = io.BytesIO()
    summary, _ = import_events(CsvSource(load_mapping(files["map"])), [str(folder)], out)
    assert summary.files == 2 and summary.events == 7 and summary.complete
    assert [json.loads(line)["ticket_id"] for line in out.getvalue().splitlines()] == ["A1"] * 5 + ["B2"] * 2


def test_a_header_without_a_mapped_column_is_bad_usage(files, capsys):
    files["csv"].write_text("Ticket,When,Event\nA1,02.03.2026 09:00,Ticket created\n")
    status, out, err = sla(capsys, "import", "csv", files["csv"], "--map", files["map"])
    assert status == 2 and "column 'Time' is not in the header" in err


def test_a_bad_mapping_file_is_bad_usage(files, capsys):
    files["map"].write_text("columns: {Ticket: ticket_id, Time: at, Event: typo}\n")
    status, _, err = sla(capsys, "import", "csv", files["csv"], "--map", files["map"])
    assert status == 2 and "'typo' is not an event field" in err


def test_import_piped_into_evaluate(files):
    """``sla import csv ... | sla evaluate --events -``, as separate processes."""
    sla_cmd = [sys.executable, "-m", "sla.cli"]
    with subprocess.Popen(
        [*sla_cmd, "import", "csv", str(files["csv"]), "--map", str(files["map"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as producer:
        consumer = subprocess.run(
            [*sla_cmd, "evaluate", "--policies", str(files["policy"]), "--events", "-", "--now", NOW],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        assert producer.stdout is not None and producer.stderr is not None
        producer.stdout.close()
        summary = producer.stderr.read().decode()
    assert producer.returncode == 0 and consumer.returncode == 0, consumer.stderr
    rows = [json.loads(line) for line in consumer.stdout.splitlines()]
    assert [(r["ticket_id"], r["metric"], r["state"]) for r in rows] == [
        ("A1", "first_response", "achieved"),
        ("A1", "resolution", "achieved"),
        ("B2", "first_response", "breached"),
        ("B2", "resolution", "breached"),
    ]
    assert "2 ticket(s), 7 event(s) written" in summary


def test_standard_input_is_read_as_a_table(files):
    done = subprocess.run(
        [sys.executable, "-m", "sla.cli", "import", "csv", "-", "--map", str(files["map"])],
        input=gzip.compress(CLEAN.encode()),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 7
