"""CSV with the export's own columns (``--map FILE``): the mapping file's
checks, value maps, timestamp formats and zones, header checks, bad rows,
every reading path (gzip, standard input, ``--jobs``), and the sample whose
rows equal the JSON Lines input's."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import sys
from pathlib import Path

import pytest

from sla.cli.app import main
from sla.io import pipeline
from sla.io.csv_map import MappedPath, MappingError, load_mapping
from sla.io.policy_files import load_policies
from sla.io.sources import read_events_file, records
from sla.timefmt import parse_instant

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
POLICIES = str(ROOT / "policies" / "b2b-tiers.yaml")
NOW = "2026-04-01T00:00:00Z"
SAMPLE_TICKETS = {"T001", "T010", "T012", "T044", "T048"}

MINIMAL = """\
columns:
  Ticket: ticket_id
  Time: at
  Event: type
  Role: author
  Prio: fields.priority
values:
  author: {Agent: agent, Customer: customer}
timestamps:
  format: "%Y-%m-%d %H:%M"
  zone: Europe/Berlin
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def evaluate(capsys: pytest.CaptureFixture[str], events: Path | str, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "evaluate", "--policies", POLICIES, "--events", str(events), "--now", NOW, *extra)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, name: str = "map.yaml") -> str:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, name, text))
    return str(caught.value)


# ------------------------------------------------------------------ the sample
def test_the_flat_sample_gives_the_rows_of_the_jsonl_sample(capsys, tmp_path):
    lines = (SAMPLES / "events.jsonl").read_text().splitlines(keepends=True)
    subset = write(
        tmp_path, "subset.jsonl", "".join(x for x in lines if json.loads(x)["ticket_id"] in SAMPLE_TICKETS)
    )
    status, want, _ = evaluate(capsys, subset)
    assert status == 0 and len(want.splitlines()) > 5
    mapped = ("--map", str(SAMPLES / "flat-map.yaml"))
    assert evaluate(capsys, SAMPLES / "flat-events.csv", *mapped) == (0, want, "")
    status, report, _ = run(
        capsys,
        "report",
        "--policies",
        POLICIES,
        "--events",
        str(SAMPLES / "flat-events.csv"),
        *mapped,
        "--now",
        NOW,
        "--format",
        "json",
    )
    assert status == 0 and json.loads(report)
    mapping = load_mapping(SAMPLES / "flat-map.yaml")
    tickets, _ = read_events_file(str(SAMPLES / "flat-events.csv"), mapping=mapping)
    reference, _ = read_events_file(str(subset))
    assert list(tickets) == list(reference)

    def shape(e):
        return (e.at, e.kind, e.fields, e.status, e.author, e.public, e.score, e.time_spent, e.sentiment)

    for key, ticket in tickets.items():
        assert [shape(e) for e in ticket.events] == [shape(e) for e in reference[key].events]
    # what the sample's tickets carry comes through: assignments, numbers, message text
    events = [e for t in tickets.values() for e in t.events]
    assert {"group", "assignee"} <= {k for e in events if e.type == "update" for k in e.fields or {}}
    assert any(e.time_spent for e in events) and any(e.sentiment for e in events)
    assert any(isinstance((e.fields or {}).get("lifetime_value"), float) for e in events)
    bodies = [r.get("body") for _, r in records(str(SAMPLES / "flat-events.csv"), "csv", mapping)]
    assert bodies == [r.get("body") for _, r in records(str(subset), "jsonl")] and any(bodies)


def test_jobs_2_gives_what_jobs_1_gives(tmp_path, monkeypatch):
    """The parallel path (spilled partitions on a process pool) reads mapped rows too."""
    policies = load_policies(Path(POLICIES))
    mapping = load_mapping(SAMPLES / "flat-map.yaml")
    body = (SAMPLES / "flat-events.csv").read_text()
    bad = "X9,99.99.2026 00:00:00,Ticket created,,,,,,,email,High,,,question,Order,free,emea,order,u1,Europe/Berlin,,\n"
    path = write(tmp_path, "events.csv", body + bad)

    def rows(jobs: int) -> tuple[bytes, list[str]]:
        out = io.BytesIO()
        summary = pipeline.evaluate_file(
            policies, str(path), parse_instant(NOW), out, jobs=jobs, mapping=mapping
        )
        return out.getvalue(), [str(r) for r in summary.rejections]

    one = rows(1)
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 1_000)
    taken: list[str] = []
    pool = pipeline._pool
    monkeypatch.setattr(pipeline, "_pool", lambda *a: taken.append("pool") or pool(*a))
    assert rows(2) == one and taken == ["pool"]
    assert one[1] == [
        f"line {len(body.splitlines()) + 1}: ticket X9: column 'Time': '99.99.2026 00:00:00' "
        "does not match the format '%d.%m.%Y %H:%M:%S'"
    ]


def test_the_compiled_mapping_pickles(tmp_path):
    mapping = load_mapping(SAMPLES / "flat-map.yaml")
    assert pickle.loads(pickle.dumps(mapping)) == mapping
    path = pickle.loads(pickle.dumps(MappedPath("events.csv", mapping)))
    assert path == "events.csv" and path.mapping == mapping


def test_gzip_files_and_standard_input_are_read_through_the_mapping(capsys, tmp_path, monkeypatch):
    mapped = ("--map", str(SAMPLES / "flat-map.yaml"))
    _, want, _ = evaluate(capsys, SAMPLES / "flat-events.csv", *mapped)
    packed = tmp_path / "flat-events.csv.gz"
    packed.write_bytes(gzip.compress((SAMPLES / "flat-events.csv").read_bytes()))
    assert evaluate(capsys, packed, *mapped) == (0, want, "")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(packed.read_bytes()))))
    assert evaluate(capsys, "-", "--input-format", "csv", *mapped) == (0, want, "")


def test_explain_reads_through_the_mapping(capsys):
    status, out, _ = run(
        capsys,
        "explain",
        "--policies",
        POLICIES,
        "--events",
        str(SAMPLES / "flat-events.csv"),
        "--map",
        str(SAMPLES / "flat-map.yaml"),
        "--now",
        NOW,
        "--ticket",
        "T044",
    )
    assert status == 0 and '"channel": "chat"' in out and '"lifetime_value": 1888.29' in out
    assert 'update {"group": "billing", "assignee": "Laura Fischer"}' in out


# --------------------------------------------------------- rows and their values
def test_bad_rows_reject_their_tickets_by_line_and_the_rest_goes_on(capsys, tmp_path):
    events = write(
        tmp_path,
        "events.csv",
        "\n".join(
            [
                "Ticket,Time,Event,Role,Prio",
                "A,2026-03-02 09:00,created,,high",
                "A,2026-03-02 09:10,message,Customer,",
                "A,2026-03-02 09:40,message,Agent,",
                "B,2026-03-02 09:00,created,,high",
                "B,2026-03-02 09:30,message,Admin,",
                "C,2026-03-02 9h00,created,,",
                "D,2026-10-25 02:30,created,,",
                "E,2026-03-29 02:30,created,,",
                ",2026-03-02 09:00,created,,",
                "",
            ]
        ),
    )
    status, out, err = evaluate(capsys, events, "--map", str(write(tmp_path, "map.yaml", MINIMAL)))
    assert status == 1
    assert {json.loads(line)["ticket_id"] for line in out.splitlines()} == {"A"}
    first = json.loads(out.splitlines()[0])
    assert first["started_at"] == "2026-03-02T08:00:00Z" and first["ended_at"] == "2026-03-02T08:40:00Z"
    map_name = str(tmp_path / "map.yaml")
    assert err.splitlines() == [
        f"rejected: line 6: ticket B: column 'Role': 'Admin' is not listed under values.author in {map_name} "
        "('Agent', 'Customer'); add it there",
        "rejected: line 7: ticket C: column 'Time': '2026-03-02 9h00' does not match the format '%Y-%m-%d %H:%M'",
        "rejected: line 8: ticket D: column 'Time': '2026-10-25 02:30' is ambiguous in Europe/Berlin: the clocks "
        "went back, so that local time happened twice; export timestamps with their UTC offset (%z)",
        "rejected: line 9: ticket E: column 'Time': '2026-03-29 02:30' never happened in Europe/Berlin: the "
        "clocks went forward over it",
        "rejected: line 10: no ticket_id",
        "4 ticket(s) and 1 line(s) rejected",
    ]


def read(tmp_path: Path, mapping: str, csv_text: str) -> dict[str, object]:
    """The tickets of a CSV read through a mapping: events as (at, type, fields, status, author, public, score)."""
    tickets, _ = read_events_file(
        str(write(tmp_path, "e.csv", csv_text)), mapping=load_mapping(write(tmp_path, "m.yaml", mapping))
    )
    return {
        key: str(t.error)
        if t.error
        else [(e.at, e.type, e.fields, e.status, e.author, e.public, e.score) for e in t.events]
        for key, t in tickets.items()
    }


def test_value_maps_strict_kept_and_typed(tmp_path):
    mapping = """\
columns: {id: ticket_id, when: at, kind: type, state: status, internal: public, stars: score}
constants: {fields.source: export, author: agent}
values:
  type: {New: created, Note: message, Move: status, Vote: csat}
  status: {map: {Solved: solved}, other: keep}
  public: {1: false, 0: true}
  score: {map: {good: 5, bad: 1}, other: keep}
"""
    got = read(
        tmp_path,
        mapping,
        "id,when,kind,state,internal,stars\n"
        "7,2026-03-02T08:00:00Z,New,,,\n"
        "7,2026-03-02T08:05:00Z,Note,,1,\n"
        "7,2026-03-02T08:06:00Z,Move,Waiting on customer,,\n"
        "7,2026-03-02T08:07:00Z,Move,Solved,,\n"
        "7,2026-03-02T08:08:00Z,Vote,,,good\n"
        "7,2026-03-02T08:09:00Z,Vote,,,4.5\n",
    )
    at, minute, fields = parse_instant("2026-03-02T08:00:00Z"), 60_000_000, {"source": "export"}
    assert got == {
        "7": [
            (at, "created", fields, None, None, True, None),
            (at + 5 * minute, "message", None, None, "agent", False, None),
            (at + 6 * minute, "status", None, "Waiting on customer", None, True, None),
            (at + 7 * minute, "status", None, "solved", None, True, None),
            (at + 8 * minute, "csat", None, None, None, True, 5.0),
            (at + 9 * minute, "csat", None, None, None, True, 4.5),
        ]
    }
    strict = mapping.replace("{map: {Solved: solved}, other: keep}", "{Solved: solved}")
    got = read(
        tmp_path,
        strict,
        "id,when,kind,state,internal,stars\n7,2026-03-02T08:00:00Z,New,,,\n7,2026-03-02T08:06:00Z,Move,Open,,\n",
    )
    assert got == {
        "7": "line 3: ticket 7: column 'state': 'Open' is not listed under values.status in "
        f"{tmp_path / 'm.yaml'} ('Solved'); add it there"
    }


def test_a_json_fields_column_and_flat_attributes_merge(tmp_path):
    mapping = "columns: {t: ticket_id, at: at, type: type, attrs: fields, tier: fields.tier}\n"
    got = read(
        tmp_path,
        mapping,
        't,at,type,attrs,tier\nT,2026-03-02T08:00:00Z,created,"{""channel"": ""email"", ""tier"": ""x""}",gold\n'
        "U,2026-03-02T08:00:00Z,created,[1],\n",
    )
    assert got["T"] == [
        (
            parse_instant("2026-03-02T08:00:00Z"),
            "created",
            {"channel": "email", "tier": "gold"},
            None,
            None,
            True,
            None,
        )
    ]
    assert got["U"] == "line 3: ticket U: fields: [1] is not a JSON object of ticket attributes"


def test_timestamps_with_an_offset_format_or_a_zone_alone(tmp_path):
    with_offset = "columns: {t: ticket_id, at: at}\nconstants: {type: created}\ntimestamps: {format: '%d/%m/%Y %H:%M:%S %z'}\n"
    got = read(tmp_path, with_offset, "t,at\nA,02/03/2026 09:00:00 +0100\n")
    assert got["A"][0][0] == parse_instant("2026-03-02T08:00:00Z")  # type: ignore[index]
    zone_only = (
        "columns: {t: ticket_id, at: at}\nconstants: {type: created}\ntimestamps: {zone: America/New_York}\n"
    )
    got = read(tmp_path, zone_only, "t,at\nA,2026-07-01 09:00:00\nB,2026-07-01T09:00:00+02:00\nC,yesterday\n")
    assert got["A"][0][0] == parse_instant("2026-07-01T13:00:00Z")  # type: ignore[index]
    assert got["B"][0][0] == parse_instant("2026-07-01T07:00:00Z")  # type: ignore[index]
    assert "'yesterday' is not a timestamp" in str(got["C"])


def test_multi_line_attribute_cells_are_data_but_a_runaway_quote_is_caught(tmp_path):
    mapping = "columns: {t: ticket_id, at: at, type: type, subject: fields.subject}\n"
    got = read(tmp_path, mapping, 't,at,type,subject\nA,2026-03-02T08:00:00Z,created,"two\nlines"\n')
    assert got["A"][0][2] == {"subject": "two\nlines"}  # type: ignore[index]
    tickets, errors = read_events_file(
        str(
            write(
                tmp_path,
                "r.csv",
                't,at,type,subject\n"A,2026-03-02T08:00:00Z,created,x\nB,2026-03-02T08:00:00Z,created,y\n',
            )
        ),
        mapping=load_mapping(write(tmp_path, "m2.yaml", mapping)),
    )
    assert [str(e) for e in errors][0].startswith("line 2: a quoted cell runs on") and "B" in tickets


# ----------------------------------------------------------- the mapping file
def test_mapping_problems_are_located_with_did_you_mean(tmp_path):
    text = problems_of(
        tmp_path,
        """\
columns:
  Ticket: ticket_id
  Time: at
  Event: tpye
  Role: author
  Status: status
fields: [tier, Status]
values:
  author: {Agent: agnet}
  public: {"yes": false}
  status: {map: {Solved: solved}, other: keeep}
constants:
  at: "2026"
  fields.source: [1]
timestamps:
  format: "%d.%m.%Y %H:%M:%S"
valeus: {}
""",
    )
    where = str(tmp_path / "map.yaml")
    assert text.splitlines() == [
        f"{where}:11:35: at values.status.other: 'keeep' is not allowed; did you mean 'keep'?; expected reject or keep",
        f"{where}:17:1: at valeus: unknown key 'valeus'; did you mean 'values'?",
    ]
    text = problems_of(tmp_path, text_without(tmp_path, ["valeus", "keeep"]))
    assert text.splitlines() == [
        f"{where}:4:3: at columns.Event: 'tpye' is not an event field; did you mean 'type'?",
        f"{where}:7:16: at fields[1]: column 'Status' is also mapped at columns.Status; a column gives one field",
        f"{where}:9:12: at values.author.Agent: 'agnet' is not an author; did you mean 'agent'?; expected customer, agent or bot",
        f"{where}:10:3: at values.public: values.public maps nothing: no column gives it",
        f"{where}:13:3: at constants.at: at cannot be a constant; name the column that holds it",
        f"{where}:14:3: at constants.fields.source: [1] is not a single value (text, a number, true or false)",
        f"{where}:15:1: at timestamps: the format reads no UTC offset (%z), so its times are local: give zone, "
        "the time zone they are in (like Europe/Berlin); sla does not guess one",
    ]


def text_without(tmp_path: Path, words: list[str]) -> str:
    lines = (tmp_path / "map.yaml").read_text().splitlines(keepends=True)
    return "".join(line.replace("keeep", "keep") for line in lines if "valeus" not in line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ":1:1: the file is empty; expected columns:"),
        ("columns: {T: ticket_id}\n", "at columns: no column gives at; every event needs one"),
        ("columns: {T: ticket_id, A: at, B: type, C: at}\n", "at columns.C: at is also given at columns.A"),
        ("columns: {T: ticket_id, A: at}\nconstants: {type: mesage}\n", "did you mean 'message'?"),
        (
            "columns: {T: ticket_id, A: at, B: type}\nvalues: {at: {x: y}}\n",
            "values.at maps nothing: it is taken as written",
        ),
        (
            "columns: {T: ticket_id, A: at, B: type}\ntimestamps: {zone: Europe/Berln}\n",
            "unknown time zone 'Europe/Berln'",
        ),
        (
            "columns: {T: ticket_id, A: at, B: type}\ntimestamps: {format: '%H:%M'}\n",
            "does not give a date and time to the minute",
        ),
        (
            "columns: {T: ticket_id, A: at, B: type}\ntimestamps: {format: '%Y %Q'}\n",
            "is not a timestamp format",
        ),
        (
            "columns: {T: ticket_id, A: at, B: type}\ntimestamps: {format: '%Y-%m-%dT%H:%M%z', zone: UTC}\n",
            "at timestamps.zone: the format reads the UTC offset (%z), so zone would never apply",
        ),
        ("columns: {T: ticket_id, A: at, B: type}\ntimestamps: {}\n", "give format"),
        (
            "columns: {T: ticket_id, A: at, B: type}\nvalues: {type: {x: created}, type: {y: message}}\n",
            "given twice",
        ),
    ],
)
def test_each_mapping_problem_says_what_and_where(tmp_path, text, expected):
    assert expected in problems_of(tmp_path, text)


def test_json_and_toml_mappings_read_the_same(tmp_path):
    want = load_mapping(write(tmp_path, "m.yaml", MINIMAL))
    as_json = {
        "columns": {
            "Ticket": "ticket_id",
            "Time": "at",
            "Event": "type",
            "Role": "author",
            "Prio": "fields.priority",
        },
        "values": {"author": {"Agent": "agent", "Customer": "customer"}},
        "timestamps": {"format": "%Y-%m-%d %H:%M", "zone": "Europe/Berlin"},
    }
    got = load_mapping(write(tmp_path, "m.json", json.dumps(as_json)))
    toml = (
        '[columns]\nTicket = "ticket_id"\nTime = "at"\nEvent = "type"\nRole = "author"\nPrio = "fields.priority"\n'
        '[values.author]\nAgent = "agent"\nCustomer = "customer"\n[timestamps]\nformat = "%Y-%m-%d %H:%M"\nzone = "Europe/Berlin"\n'
    )

    def shape(m):
        return (
            [(c.name, c.target, c.values, c.keep_other) for c in m.columns],
            m.constants,
            m.time_format,
            m.zone,
        )

    for other in (got, load_mapping(write(tmp_path, "m.toml", toml)), load_mapping(as_json)):
        assert shape(other) == shape(want)
    bad = problems_of(tmp_path, '{"columns": {"T": "ticket_id"},\n "colums": {}}', "m.json")
    assert "m.json:2:2: at colums: unknown key 'colums'; did you mean 'columns'?" in bad


# ------------------------------------------------------------------- headers
def test_a_mapped_column_missing_from_the_header_stops_before_reading(capsys, tmp_path):
    mapping = write(tmp_path, "map.yaml", MINIMAL.replace("Prio:", "Priority:"))
    events = write(tmp_path, "events.csv", "Ticket,Time,Event,Role,Prio,Prio\nA,2026-03-02 09:00,created,,\n")
    status, out, err = evaluate(capsys, events, "--map", str(mapping))
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        f"{mapping}:6:3: at columns.Priority: column 'Priority' is not in the header of {events}; did you "
        "mean 'Prio'? (its columns: Ticket, Time, Event, Role, Prio, Prio)"
    ]
    mapping.write_text(MINIMAL)
    status, _, err = evaluate(capsys, events, "--map", str(mapping), "--output", str(tmp_path / "rows.jsonl"))
    assert status == 2 and "column 'Prio' is in the header of" in err and "2 times (columns 5, 6)" in err
    assert not (tmp_path / "rows.jsonl").exists()


def test_map_is_for_csv_input_and_must_exist(capsys, tmp_path):
    mapping = str(SAMPLES / "flat-map.yaml")
    status, _, err = evaluate(capsys, SAMPLES / "events.jsonl", "--map", mapping)
    assert status == 2 and "--map reads the columns of CSV input, but" in err and "read as jsonl" in err
    status, _, err = evaluate(capsys, SAMPLES / "flat-events.csv", "--map", str(tmp_path / "nope.yaml"))
    assert status == 2 and "--map: no such file" in err
    status, _, err = evaluate(capsys, SAMPLES / "flat-events.csv", "--map", mapping, "--output", mapping)
    assert status == 2 and "would destroy the input" in err
    if sys.platform != "win32":
        status, _, err = run(
            capsys,
            "explain",
            "--policies",
            POLICIES,
            "--events",
            str(SAMPLES / "events.jsonl"),
            "--map",
            mapping,
            "--ticket",
            "T001",
        )
        assert status == 2 and "--map reads the columns of CSV input" in err


# ---------------------------------------------------------------- the docs
def _section_blocks() -> dict[str, list[str]]:
    page = (ROOT / "docs" / "events.md").read_text()
    section = page[page.index("## CSV with your own columns") :]
    section = section[: section.index("\n## ", 1)]
    blocks: dict[str, list[str]] = {}
    for chunk in section.split("```")[1::2]:
        lang, _, body = chunk.partition("\n")
        blocks.setdefault(lang, []).append(body)
    return blocks


def test_the_docs_show_the_real_samples_and_messages(capsys, tmp_path, monkeypatch):
    blocks = _section_blocks()
    assert blocks["yaml"][0] == (SAMPLES / "flat-map.yaml").read_text()
    sample = (SAMPLES / "flat-events.csv").read_text().splitlines()
    shown = blocks["csv"][0].splitlines()
    assert shown[0] == sample[0] and set(shown) <= set(sample)
    head = (SAMPLES / "flat-events.csv").read_text().splitlines(keepends=True)[:12]
    rows = [
        "X1,25.10.2026 02:30:00,Ticket created,,,,,,,email,High,,,question,Order,free,emea,order,u1,Europe/Berlin,,\n",
        "X4,01.03.2026 10:00:00,Ticket created,,,,,,,email,High,,,question,Order,free,emea,order,u1,Europe/Berlin,,\n",
        "X4,01.03.2026 10:05:00,Comment,,Admin,no,,,,,,,,,,,,,,,,\n",
    ]
    events = write(tmp_path, "rows.csv", "".join(head + rows))
    monkeypatch.chdir(ROOT)
    status, _, err = evaluate(capsys, events, "--map", "samples/flat-map.yaml")
    assert status == 1
    assert err.splitlines()[:-1] == blocks["text"][0].splitlines()
