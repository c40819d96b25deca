"""The import driver (sla.importers.files, sla.importers.run) and ``sla import``,
with a tiny fake vendor: pages and JSON Lines, gzip, folders, files that are
not the vendor's or not JSON, records that cannot be mapped, refused
tickets, ties, spilling across partitions, and output ``sla evaluate`` takes."""

from __future__ import annotations

import gzip
import io
import json
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from sla.cli.app import main
from sla.errors import SlaError
from sla.importers import files, registry, run
from sla.importers.base import (
    Document,
    Emit,
    EventDict,
    ImportSummary,
    Position,
    RecordError,
    Source,
    Unreadable,
    VendorCycle,
)
from sla.importers.run import import_events

ROOT = Path(__file__).resolve().parents[1]

POLICY = """\
policies:
  - name: standard
    calendar: 24x7
    targets:
      first_response: 1h
      resolution: 8h
"""


class FakeSource(Source):
    """A vendor whose pages are ``{"fake_events": [...]}`` (JSON Lines: one
    ``{"kind": "event", ...}`` per line), with ``{"users": [...]}`` pages for
    roles (read after the events: resolved in finish_ticket) and
    ``{"kind": "sla", ...}`` records of its own SLA verdicts."""

    name = "fake"

    def __init__(self) -> None:
        self.roles: dict[int, str] = {}

    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        if isinstance(doc, dict):
            if isinstance(doc.get("fake_events"), list):
                return [("events", doc["fake_events"])]
            if isinstance(doc.get("users"), list):
                return [("users", doc["users"])]
            if doc.get("kind") == "event":
                return [("events", [doc])]
            if doc.get("kind") == "sla":
                return [("slas", [doc])]
        return None

    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle]:
        assert isinstance(record, dict)
        if kind == "users":
            self.roles[record["id"]] = record["role"]
            return []
        if kind == "slas":
            return [VendorCycle(str(record["ticket"]), "first_response", "reply_time", 1, True, True)]
        if "bad" in record:
            raise RecordError(record["bad"])
        event: EventDict = {k: record[k] for k in ("at", "type", "fields", "status") if k in record}
        if record["type"] == "message":
            event["_author"] = record["author_id"]
        emits = [Emit(str(record["ticket"]), event)]
        if record.get("also_solve"):  # two events of one record, at one instant: kept in this order
            emits.append(
                Emit(str(record["ticket"]), {"at": record["at"], "type": "status", "status": "solved"})
            )
        return emits

    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        if not any(e["type"] == "created" for e in events):
            raise RecordError("no creation")
        for event in events:
            if "_author" in event:
                role = self.roles.get(event.pop("_author"))  # type: ignore[arg-type]
                event["author"] = "agent" if role == "agent" else "customer"
        return f"F{ticket}", events

    def notes(self) -> list[str]:
        return ["fake exports show no pauses"]


def created(ticket: int, at: str, **extra: object) -> dict[str, object]:
    return {
        "kind": "event",
        "ticket": ticket,
        "at": at,
        "type": "created",
        "fields": {"channel": "email"},
        **extra,
    }


def message(ticket: int, at: str, author: int, **extra: object) -> dict[str, object]:
    return {"kind": "event", "ticket": ticket, "at": at, "type": "message", "author_id": author, **extra}


USERS = {"users": [{"id": 1, "role": "end-user"}, {"id": 2, "role": "agent"}]}


def write_jsonl(path: Path, records: list[object], packed: bool = False) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(data) if packed else data)
    return path


def lines_of(out: io.BytesIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def do_import(*paths: Path | str, **options: object) -> tuple[ImportSummary, list[VendorCycle], list[dict]]:
    out = io.BytesIO()
    summary, cycles = import_events(FakeSource(), [str(p) for p in paths], out, **options)  # type: ignore[arg-type]
    return summary, cycles, lines_of(out)


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    """A folder as a user saves it: a pretty-printed page, JSON Lines, gzip
    JSON Lines in a sub-folder, users last, and a hidden file."""
    folder = tmp_path / "export"
    (folder / "more").mkdir(parents=True)
    page = {"fake_events": [created(7, "2026-03-02T09:00:00Z"), message(7, "2026-03-02T09:00:00Z", 1)]}
    (folder / "a-page.json").write_text(json.dumps(page, indent=2))
    write_jsonl(
        folder / "b-events.jsonl",
        [message(7, "2026-03-02T09:30:00Z", 2, also_solve=True), created(8, "2026-03-02T10:00:00+01:00")],
    )
    write_jsonl(folder / "more" / "c.jsonl.gz", [message(8, "2026-03-02T09:10:00Z", 1)], packed=True)
    (folder / "z-users.json").write_text(json.dumps(USERS))
    (folder / ".DS_Store").write_bytes(b"\x00\x01binary")
    return folder


# ------------------------------------------------------------------ files
def test_a_folder_is_read_recursively_in_sorted_order_hidden_files_passed_over(export: Path):
    names = [Path(p).relative_to(export).as_posix() for p in files.walk([str(export)])]
    assert names == ["a-page.json", "b-events.jsonl", "more/c.jsonl.gz", "z-users.json"]


def test_a_missing_path_fails_before_anything_is_read(tmp_path: Path):
    with pytest.raises(SlaError, match="no such file or folder"):
        list(files.walk([str(tmp_path / "nope")]))


def docs_of(data: bytes, name: str = "f") -> list[Document | Unreadable]:
    """The documents of ``data``, read as a stream (line by line) and as a
    small file on disk (read whole): both must give the same."""
    streamed = list(files.documents_of(io.BytesIO(data), name))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "saved"
        path.write_bytes(data)
        with open(path, "rb") as handle:
            assert files._plain_size(handle) == len(data)
            whole = list(files.documents_of(handle, name))
    assert whole == streamed
    return streamed


def test_a_pretty_printed_page_is_one_document_at_line_1():
    page = {"fake_events": [created(1, "2026-03-02T09:00:00Z")], "next_page": None}
    (doc,) = docs_of(json.dumps(page, indent=2).encode())
    assert doc == Document(Position("f", 1), page)


def test_a_page_on_one_line_is_one_document_too():
    (doc,) = docs_of(b'\xef\xbb\xbf{"users": []}\n\n')  # with a byte order mark, blank lines after
    assert doc == Document(Position("f", 1), {"users": []})


def test_json_lines_are_one_document_per_line_at_its_number():
    found = docs_of(b'\n{"a": 1}\n\n{"b": 2}\nnot json\n[3]\n')
    assert [type(d).__name__ for d in found] == ["Document", "Document", "Unreadable", "Document"]
    assert [d.position.line for d in found] == [2, 4, 5, 6]
    assert found[2].reason.startswith("not valid JSON")  # type: ignore[union-attr]


def test_an_array_written_one_element_a_line_is_one_document():
    (doc,) = docs_of(b'[\n{"a": 1}\n]\n')
    assert isinstance(doc, Document) and doc.value == [{"a": 1}]


def test_a_truncated_page_is_one_unreadable_not_one_per_line():
    text = json.dumps({"fake_events": [created(1, "2026-03-02T09:00:00Z")] * 50}, indent=2)
    (bad,) = docs_of(text[: len(text) // 2].encode())
    assert isinstance(bad, Unreadable) and bad.position == Position("f", 1)
    assert "not valid JSON" in bad.reason and "cut short" in bad.reason


def test_json_lines_with_a_bad_first_line_are_still_json_lines():
    found = docs_of(b'{"broken\n{"a": 1}\n{"b": 2}\n')
    assert isinstance(found[0], Unreadable) and found[0].position.line == 1
    assert [d.value for d in found[1:] if isinstance(d, Document)] == [{"a": 1}, {"b": 2}]


def test_a_big_file_with_a_bad_first_line_streams_as_json_lines(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(files, "WHOLE_LIMIT_BYTES", 64)
    found = docs_of(b'{"broken\n' + b"".join(b'{"n": %d}\n' % i for i in range(100)))
    assert len(found) == 101 and isinstance(found[0], Unreadable)
    assert found[-1] == Document(Position("f", 101), {"n": 99})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"Ticket,Time,Event\nT1,2026,created\n", "looks like a table"),
        (b"PK\x03\x04zip", "zip archive"),
        (b"hello\n", "starts with 'hello'"),
    ],
)
def test_a_file_that_is_not_json_is_one_unreadable(data: bytes, reason: str):
    (bad,) = docs_of(data)
    assert isinstance(bad, Unreadable) and reason in bad.reason


def test_an_empty_file_holds_nothing():
    assert docs_of(b"") == [] and docs_of(b"\n  \n") == []


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',  # no newline at the end
        b'{"a": 1}\r\n{"b": 2}\r\n',  # Windows line ends
        b'{"a":\r 1}\r{"b": 2}\n',  # a lone carriage return is no line end
        b'\n\n{"a": 1}\n\n\n',
        b'{"a": 1}\n{"b": 2',  # a last line cut short
    ],
)
def test_a_file_read_whole_has_the_lines_of_one_read_line_by_line(data: bytes):
    docs_of(data)  # compares the two


def test_an_over_long_line_is_unreadable_without_being_held(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 32)
    found = docs_of(b'{"a": 1}\n{"long": "' + b"x" * 100 + b'"}\n{"b": 2}\n')
    assert isinstance(found[1], Unreadable) and "longer than" in found[1].reason
    assert found[2] == Document(Position("f", 3), {"b": 2})


# ----------------------------------------------------------------- driver
def test_an_export_becomes_events_grouped_by_ticket_in_time_order(export: Path):
    summary, cycles, events = do_import(export)
    assert [(e["ticket_id"], e["type"], e.get("author")) for e in events] == [
        ("F7", "created", None),
        ("F7", "message", "customer"),  # a role learnt from the users file, read last
        ("F7", "message", "agent"),
        ("F7", "status", None),  # the record's second event, at the same instant: after it
        ("F8", "created", None),  # 10:00+01:00 is 09:00Z: before the 09:10Z message
        ("F8", "message", "customer"),
    ]
    assert list(events[0])[0] == "ticket_id"
    assert summary.files == 4 and summary.records == 7 and summary.tickets == 2 and summary.events == 6
    assert not summary.skipped and summary.complete and cycles == []
    assert summary.notes == ["fake exports show no pauses"]
    assert summary.lines()[0] == "4 file(s), 7 record(s) read; 2 ticket(s), 6 event(s) written"


def test_ties_keep_emission_order_across_files(tmp_path: Path):
    at = "2026-03-02T09:00:00Z"
    write_jsonl(tmp_path / "1.jsonl", [created(1, at), message(1, at, 2), {**message(1, at, 1), "n": 1}])
    write_jsonl(tmp_path / "2.jsonl", [message(1, "2026-03-02T08:59:59.5+00:00", 2), message(1, at, 2)])
    write_jsonl(tmp_path / "3.json", [USERS])
    _, _, events = do_import(tmp_path)
    # 08:59:59.5 sorts first although it came later (evaluate then rejects: before created)
    assert [e.get("author") for e in events] == ["agent", None, "agent", "customer", "agent"]


def test_unrecognised_documents_are_counted_and_named_once_per_file(tmp_path: Path):
    write_jsonl(tmp_path / "a.jsonl", [created(1, "2026-03-02T09:00:00Z"), {"other": 1}, {"other": 2}])
    (tmp_path / "b.json").write_text(json.dumps({"tickets": []}, indent=1))
    summary, _, events = do_import(tmp_path)
    assert summary.skipped == {"unrecognised": 3} and not summary.complete
    assert [str(p) for p in summary.problems] == [
        f"{tmp_path / 'a.jsonl'}:2: unrecognised: 2 documents that are not fake data",
        f"{tmp_path / 'b.json'}:1: unrecognised: a document that is not fake data",
    ]
    assert len(events) == 1


def test_unreadable_lines_and_files_are_skipped_with_their_position(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text(json.dumps(created(1, "2026-03-02T09:00:00Z")) + "\n{oops\n")
    (tmp_path / "notes.txt").write_text("remember the milk\n")
    summary, _, events = do_import(tmp_path)
    assert summary.skipped == {"unreadable": 2} and len(events) == 1
    assert str(summary.problems[0]).startswith(f"{tmp_path / 'a.jsonl'}:2: unreadable: not valid JSON")
    assert (
        str(summary.problems[1])
        == f"{tmp_path / 'notes.txt'}:1: unreadable: not JSON: it starts with 'remember the milk'"
    )


def test_a_record_that_cannot_be_mapped_is_skipped_with_its_position(tmp_path: Path):
    page = {"fake_events": [created(1, "2026-03-02T09:00:00Z"), {"bad": "no ticket"}, {"bad": "odd"}]}
    (tmp_path / "p.json").write_text(json.dumps(page))
    write_jsonl(tmp_path / "q.jsonl", [{"kind": "event", "bad": "no at"}])
    summary, _, events = do_import(tmp_path)
    assert summary.skipped == {"events": 3} and summary.records == 4 and len(events) == 1
    assert [str(p) for p in summary.problems] == [
        f"{tmp_path / 'p.json'}:1 record 2: events: no ticket",
        f"{tmp_path / 'p.json'}:1 record 3: events: odd",
        f"{tmp_path / 'q.jsonl'}:1: events: no at",
    ]


def test_a_refused_ticket_is_counted_named_and_left_out(tmp_path: Path):
    write_jsonl(
        tmp_path / "a.jsonl",
        [
            message(5, "2026-03-02T09:00:00Z", 1),
            created(6, "2026-03-02T09:00:00Z"),
            message(4, "2026-03-02T09:00:00Z", 1),
        ],
    )
    summary, _, events = do_import(tmp_path)
    assert summary.tickets_refused == 2 and summary.tickets == 1 and not summary.complete
    assert [str(p) for p in summary.problems] == [
        "ticket 5: refused: no creation",
        "ticket 4: refused: no creation",
    ]
    assert {e["ticket_id"] for e in events} == {"F6"}
    assert "2 ticket(s) refused (no creation, or unusable)" in summary.lines()


def test_an_event_without_an_instant_refuses_its_ticket(tmp_path: Path):
    write_jsonl(tmp_path / "a.jsonl", [created(1, "2026-03-02T09:00:00Z"), message(1, "yesterday", 1)])
    summary, _, events = do_import(tmp_path)
    assert summary.tickets_refused == 1 and events == []
    assert "event 2 (message): at: 'yesterday' is not a timestamp" in str(summary.problems[0])


def test_vendor_cycles_are_collected(tmp_path: Path):
    write_jsonl(tmp_path / "a.jsonl", [created(1, "2026-03-02T09:00:00Z"), {"kind": "sla", "ticket": 1}])
    summary, cycles, _ = do_import(tmp_path)
    assert cycles == [VendorCycle("1", "first_response", "reply_time", 1, True, True)]
    assert summary.records == 2


def test_many_tickets_spill_across_partitions_and_come_out_in_first_emission_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Partitions of a few hundred bytes of input each: several partitions
    # (a module setting, read when the import starts, compiled or not).
    monkeypatch.setattr(run, "PARTITION_INPUT_BYTES", 4096)
    records: list[object] = []
    order = [(i * 37) % 500 for i in range(500)]  # tickets first named in a scrambled order
    for ticket in order:
        records.append(created(ticket, "2026-03-02T09:00:00Z"))
    for ticket in reversed(order):  # then their messages, interleaved the other way round
        records.append(message(ticket, f"2026-03-02T{9 + ticket % 5:02d}:30:00Z", 2))
    write_jsonl(tmp_path / "a.jsonl", records)
    write_jsonl(tmp_path / "users.jsonl", [USERS, USERS])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    summary, _, events = do_import(tmp_path / "a.jsonl", tmp_path / "users.jsonl", workdir=str(scratch))
    assert summary.tickets == 500 and summary.events == 1000
    tickets = [e["ticket_id"] for e in events]
    assert tickets[::2] == [f"F{t}" for t in order] and tickets[1::2] == tickets[::2]
    assert [e["type"] for e in events[:2]] == ["created", "message"]
    assert list(scratch.iterdir()) == []  # the scratch files are gone


def test_ticket_ids_of_any_text_keep_their_events_apart_through_the_spill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The spill keys a ticket by its id as JSON: tabs, newlines, quotes,
    # backslashes and other scripts in ids must neither split nor merge tickets.
    monkeypatch.setattr(run, "PARTITION_INPUT_BYTES", 200)
    ids = ["a\tb", "a", "a\nb", 'q"uote', "back\\slash", "ünï", "a\\tb", "\u2028", "7"]
    records: list[object] = [created(t, "2026-03-02T09:00:00Z") for t in ids]  # type: ignore[arg-type]
    records += [message(t, "2026-03-02T09:30:00Z", 2) for t in reversed(ids)]  # type: ignore[arg-type]
    write_jsonl(tmp_path / "a.jsonl", records)
    write_jsonl(tmp_path / "users.jsonl", [USERS])
    summary, _, events = do_import(tmp_path / "a.jsonl", tmp_path / "users.jsonl")
    assert summary.tickets == len(ids) and summary.events == 2 * len(ids)
    assert [e["ticket_id"] for e in events] == [f"F{t}" for t in ids for _ in range(2)]
    assert [e["type"] for e in events] == ["created", "message"] * len(ids)


def test_gzip_and_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = gzip.compress(
        b"".join(json.dumps(r).encode() + b"\n" for r in [created(1, "2026-03-02T09:00:00Z")])
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))  # type: ignore[arg-type]
    summary, _, events = do_import("-")
    assert events[0]["ticket_id"] == "F1" and summary.files == 1


def test_progress_is_told_records_then_partitions(export: Path):
    class Told:
        def __init__(self) -> None:
            self.updates: list[int] = []
            self.shares: list[tuple[float, str]] = []

        def update(self, done: int) -> None:
            self.updates.append(done)

        def share(self, fraction: float, label: str) -> None:
            self.shares.append((fraction, label))

    told = Told()
    do_import(export, progress=told)
    # told after each document (a page or a line), with the records read so far
    assert told.updates == sorted(told.updates) and told.updates[-1] == 7
    assert told.shares[-1] == (1.0, "partitions")


def test_output_is_accepted_by_sla_evaluate(export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = io.BytesIO()
    import_events(FakeSource(), [str(export)], out)
    events = tmp_path / "events.jsonl"
    events.write_bytes(out.getvalue())
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    status = main(
        ["evaluate", "--policies", str(policy), "--events", str(events), "--now", "2026-03-03T00:00:00Z"]
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert {(r["ticket_id"], r["metric"], r["state"]) for r in rows} == {
        ("F7", "first_response", "achieved"),
        ("F7", "resolution", "achieved"),
        ("F8", "first_response", "breached"),
        ("F8", "resolution", "breached"),
    }


# -------------------------------------------------------------------- CLI
@pytest.fixture()
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.SOURCES, "fake", f"{FakeSource.__module__}:FakeSource")


def sla(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_command_writes_the_events_and_the_summary(fake_registered, export: Path, tmp_path: Path, capsys):
    target = tmp_path / "events.jsonl"
    status, out, err = sla(capsys, "import", "fake", str(export), "--output", str(target))
    assert status == 0 and out == ""
    assert len(target.read_text().splitlines()) == 6
    assert err.splitlines() == [
        "4 file(s), 7 record(s) read; 2 ticket(s), 6 event(s) written",
        "note: fake exports show no pauses",
    ]


def test_skipped_records_exit_1_and_rejects_has_them_all(fake_registered, tmp_path: Path, capsys):
    write_jsonl(
        tmp_path / "a.jsonl",
        [created(1, "2026-03-02T09:00:00Z")] + [{"kind": "event", "bad": f"b{i}"} for i in range(25)],
    )
    rejects = tmp_path / "rejects.txt"
    status, out, err = sla(capsys, "import", "fake", str(tmp_path / "a.jsonl"), "--rejects", str(rejects))
    assert status == 1 and len(out.splitlines()) == 1
    lines = err.splitlines()
    assert lines[0] == f"{tmp_path / 'a.jsonl'}:2: events: b0"
    assert lines[20] == f"... and 5 more; all of them are in {rejects}"
    assert lines[21:] == [
        "1 file(s), 26 record(s) read; 1 ticket(s), 1 event(s) written",
        "skipped: 25 events",
        "note: fake exports show no pauses",
    ]
    assert len(rejects.read_text().splitlines()) == 25


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["zendsk", "x"], "'zendsk' is not a source; did you mean 'zendesk'?"),
        (
            ["ghost", "x"],
            "the ghost source is not available in this installation (sla.importers.ghost is missing)",
        ),
        (["fake", "x", "--map", "m.yaml"], "--map reads the columns of a table"),
        (["csv", "x"], "the csv source needs --map FILE"),
        (["fake", "x", "--policies-output", "p.yaml"], "--policies-output writes Zendesk SLA policies"),
        (["fake", "nowhere"], "no such file or folder: nowhere"),
        (["fake", "-", "-"], "'-' (standard input) is given more than once"),
        (["fake", ".", "--output", "sub/e.jsonl"], "--output sub/e.jsonl is inside the input folder ."),
        (["fake", "x", "--output", "x"], "--output x is the input file x"),
    ],
)
def test_bad_usage_exits_2(
    fake_registered, monkeypatch, tmp_path: Path, capsys, argv: list[str], message: str
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(registry.SOURCES, "ghost", "sla.importers.ghost:GhostSource")
    (tmp_path / "x").write_text("{}")
    (tmp_path / "sub").mkdir()
    status, out, err = sla(capsys, "import", *argv)
    assert status == 2 and out == ""
    assert message in err


def test_policies_output_needs_the_zendesk_policy_writer(monkeypatch, tmp_path: Path, capsys):
    class FakeZendesk(FakeSource):
        name = "zendesk"

    monkeypatch.setattr("sla.cli.importing.source_class", lambda word: FakeZendesk)
    monkeypatch.setattr(
        "sla.cli.importing.POLICIES_WRITER", ("sla.importers.no_such_module", "write_policies")
    )
    (tmp_path / "x.json").write_text("{}")
    status, _, err = sla(
        capsys, "import", "zendesk", str(tmp_path / "x.json"), "--policies-output", str(tmp_path / "p.yaml")
    )
    assert status == 2 and "--policies-output is not available in this installation" in err


def test_policies_output_is_written_by_the_zendesk_policy_writer(
    monkeypatch, export: Path, tmp_path: Path, capsys
):
    class FakeZendesk(FakeSource):
        name = "zendesk"

    called = []

    def write_policies(paths: list[str], out: io.BufferedWriter) -> list[str]:
        called.append(paths)
        out.write(b"policies: []\n")
        return ["condition ticket.via_id is 4 has no counterpart"]

    module = type(sys)("fake_zendesk_policies")
    module.write_policies = write_policies  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_zendesk_policies", module)
    monkeypatch.setattr("sla.cli.importing.source_class", lambda word: FakeZendesk)
    monkeypatch.setattr("sla.cli.importing.POLICIES_WRITER", ("fake_zendesk_policies", "write_policies"))
    target = tmp_path / "p.yaml"
    argv = [
        "import",
        "zendesk",
        str(export),
        "--output",
        str(tmp_path / "e.jsonl"),
        "--policies-output",
        str(target),
    ]
    status, _, err = sla(capsys, *argv)
    assert status == 0 and target.read_text() == "policies: []\n" and called == [[str(export)]]
    assert err.splitlines()[-1] == "--policies-output: condition ticket.via_id is 4 has no counterpart"


def test_the_registry_names_every_source_of_the_contract():
    assert set(registry.SOURCES) == {"zendesk", "jira", "freshdesk", "zammad", "csv"}
    assert registry.source_class("CSV").name == "csv"


def test_the_benchmark_export_imports_with_the_zendesk_source(tmp_path: Path, capsys):
    """The Zendesk-shaped export of benchmarks/bench_import.py, through the
    real Zendesk source (when there is one), gives events sla evaluate takes."""
    pytest.importorskip("sla.importers.zendesk")
    import importlib.util

    from sla.io.generate import write_history

    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "benchmarks" / "bench_import.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    history = tmp_path / "history.jsonl"
    with open(history, "wb") as handle:
        write_history(handle, tickets=40, seed=3)
    bench.PAGE = 25  # several pages
    bench.convert(history, tmp_path / "zendesk")
    target = tmp_path / "events.jsonl"
    status, _, err = sla(capsys, "import", "zendesk", str(tmp_path / "zendesk"), "--output", str(target))
    assert status == 0, err
    (tmp_path / "policy.yaml").write_text(POLICY)
    argv = [
        "evaluate",
        "--policies",
        str(tmp_path / "policy.yaml"),
        "--events",
        str(target),
        "--now",
        "2026-04-01",
    ]
    status, out, err = sla(capsys, *argv)
    assert status == 0, err
    assert len({json.loads(line)["ticket_id"] for line in out.splitlines()}) == 40
