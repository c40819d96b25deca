"""Whole-file evaluation: every path (streaming, in-memory sort, disk spill,
parallel byte ranges, parallel partitions) and every input format gives the
same rows, in order of first appearance, with the same rejections."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import orjson
import pytest

from sla.engine.batch import evaluate_events
from sla.engine.jsonl import read_jsonl
from sla.io import pipeline
from sla.io.generate import generate
from sla.io.policy_files import load_policies
from sla.timefmt import parse_instant

NOW = parse_instant("2026-04-01T00:00:00Z")


@pytest.fixture(scope="module")
def policies():
    import yaml

    doc = yaml.safe_load((Path(__file__).parent / "scenarios" / "spec-basic.yaml").read_text())
    return load_policies(doc["policy"])


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    events = [orjson.dumps(e) for e in generate(400, seed=11)]
    # A few bad lines and tickets, to check rejections travel through every
    # path; inserted before a created event, so the input stays grouped.
    starts = [i for i, line in enumerate(events) if b'"type":"created"' in line]
    for index, extra in reversed(
        [
            (starts[3], [b"not json"]),
            (
                starts[20],
                [
                    orjson.dumps(
                        {"ticket_id": "BAD1", "at": "2026-02-01T00:00:00", "type": "created", "fields": {}}
                    )
                ],
            ),
            (
                starts[150],
                [
                    orjson.dumps(
                        {
                            "ticket_id": "BAD2",
                            "at": "2026-02-01T00:00:00Z",
                            "type": "message",
                            "author": "agent",
                        }
                    ),
                    orjson.dumps({"at": "2026-02-01T00:00:00Z"}),
                ],
            ),
        ]
    ):
        events[index:index] = extra
    return events


def reference(policies, lines: list[bytes]) -> tuple[list[dict], list[str]]:
    tickets, line_errors = read_jsonl(lines)
    rows = [
        r.to_row() for t in tickets.values() if t.error is None for r in evaluate_events(policies, t, NOW)
    ]
    rejected = sorted(
        [(e.line, f"line {e.line}: {e.reason}") for e in line_errors]
        + [(t.error.line, str(t.error)) for t in tickets.values() if t.error is not None]
    )
    return rows, [text for _, text in rejected]


def run(policies, path: Path, **kwargs) -> tuple[list[dict], list[str], pipeline.RunSummary]:
    out = io.BytesIO()
    summary = pipeline.evaluate_file(policies, str(path), NOW, out, **kwargs)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return rows, [str(r) for r in summary.rejections], summary


def shuffled(lines: list[bytes]) -> list[bytes]:
    copy = lines[:]
    random.Random(5).shuffle(copy)
    return copy


def write_input(tmp_path: Path, lines: list[bytes], grouped: bool) -> tuple[list[bytes], Path]:
    data = lines if grouped else shuffled(lines)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    return data, path


def force_path(monkeypatch, mode: str, streamer: str) -> tuple[int, list]:
    """Make small input take the path under test; returns the jobs to ask
    for and a list that records what the path did (checked by the caller)."""
    taken: list = []
    if mode == "stream-or-memory":
        return 1, taken
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 20_000)
    # What the parent spills: records as read (spill), or JSONL lines as they came (spill_range).
    for name in ("spill", "spill_range"):
        original = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _f=original, _n=name: taken.append(_n) or _f(*a))
    if mode == "spill":
        monkeypatch.setattr(pipeline, "IN_MEMORY_LIMIT_BYTES", 0)
        # Grouped input streams and never spills: make streaming give up.
        monkeypatch.setattr(pipeline, streamer, lambda *a: None)
        return 1, taken
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    pool = pipeline._pool
    monkeypatch.setattr(pipeline, "_pool", lambda *a: taken.append("pool") or pool(*a))
    return 2, taken  # JSONL the workers spill themselves, by byte ranges: the parent never does


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "shuffled"])
@pytest.mark.parametrize("mode", ["stream-or-memory", "spill", "parallel"])
def test_every_path_gives_the_reference_rows(policies, lines, tmp_path, monkeypatch, grouped, mode):
    data, path = write_input(tmp_path, lines, grouped)
    want_rows, want_rejected = reference(policies, data)
    jobs, taken = force_path(monkeypatch, mode, streamer="_stream")
    rows, rejected, summary = run(policies, path, jobs=jobs)
    assert (
        taken
        == {
            "stream-or-memory": [],
            "spill": ["spill_range"],
            "parallel": ["pool"] if grouped else ["pool", "pool"],
        }[mode]
    )
    assert rows == want_rows
    assert rejected == want_rejected
    assert summary.rejected_tickets == 2 and summary.rejected_lines == 2
    assert summary.tickets == 402
    assert summary.rows == len(want_rows)


def _csv_text(lines: list[bytes]) -> str:
    buffer = io.StringIO()
    columns = ["ticket_id", "at", "type", "fields", "status", "author", "public", "score"]
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for line in lines:
        event = orjson.loads(line)
        cells = []
        for column in columns:
            value = event.get(column)
            if column == "fields" and value is not None:
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return buffer.getvalue()


def test_csv_and_parquet_inputs_give_the_same_rows(policies, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    good = [orjson.dumps(e) for e in generate(150, seed=3)]
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_bytes(b"\n".join(good) + b"\n")
    csv_path = tmp_path / "events.csv"
    csv_path.write_text(_csv_text(good))
    events = [orjson.loads(line) for line in good]
    table = pa.table(
        {
            "ticket_id": [e["ticket_id"] for e in events],
            "at": pa.array([parse_instant(e["at"]) for e in events], pa.timestamp("us", tz="UTC")),
            "type": [e["type"] for e in events],
            "fields": [json.dumps(e["fields"]) if "fields" in e else None for e in events],
            "status": [e.get("status") for e in events],
            "author": [e.get("author") for e in events],
            "public": [e.get("public") for e in events],
            "score": [float(e["score"]) if "score" in e else None for e in events],
        }
    )
    parquet_path = tmp_path / "events.parquet"
    pq.write_table(table, parquet_path)
    base, _, _ = run(policies, jsonl)
    assert base
    assert run(policies, csv_path)[0] == base
    assert run(policies, parquet_path)[0] == base


def test_parquet_output_cuts_row_groups_on_ticket_boundaries(policies, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from sla.io import writers

    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(200, seed=4)) + b"\n")
    rows, _, _ = run(policies, path)
    out = tmp_path / "rows.parquet"
    original = writers.ParquetWriter.__init__
    monkeypatch.setattr(
        writers.ParquetWriter, "__init__", lambda self, o, group_rows=100: original(self, o, group_rows)
    )
    with open(out, "wb") as handle:
        pipeline.evaluate_file(policies, str(path), NOW, handle, fmt="parquet")
    parquet = pq.ParquetFile(out)
    assert parquet.num_row_groups > 3
    seen_in_groups: dict[str, int] = {}
    for index in range(parquet.num_row_groups):
        for ticket in set(parquet.read_row_group(index).column("ticket_id").to_pylist()):
            assert ticket not in seen_in_groups, "a ticket straddles two row groups"
            seen_in_groups[ticket] = index
    back = parquet.read().to_pylist()
    # Every column of every row, as the JSONL rows hold it (seconds as floats).
    seconds = ("target_seconds", "elapsed_seconds", "remaining_seconds", "paused_seconds")
    assert back == [{k: float(v) if k in seconds else v for k, v in r.items()} for r in rows]
    assert any(r["paused"] for r in back) and any(r["due_at"] for r in back)
    assert any(r["ended_at"] is None for r in back)


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable stream, like a shell pipe."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)

    def seek(self, *args):
        raise OSError("not seekable")


def test_ungrouped_input_to_a_pipe_starts_over_cleanly(policies, lines, tmp_path):
    data = shuffled(lines)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    pipe = _Pipe()
    pipeline.evaluate_file(policies, str(path), NOW, pipe, jobs=1)
    rows = [json.loads(line) for line in bytes(pipe.data).splitlines()]
    assert rows == reference(policies, data)[0]


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "shuffled"])
@pytest.mark.parametrize("mode", ["stream-or-memory", "spill", "parallel"])
def test_every_path_gives_the_same_report(policies, lines, tmp_path, monkeypatch, grouped, mode):
    from sla.report.figures import build_report

    data, path = write_input(tmp_path, lines, grouped)
    tickets, _ = read_jsonl(data)
    options = {"by": ["channel", "policy"], "period": "week", "tz": "Europe/Berlin"}
    want = build_report(policies, tickets, NOW, **options).to_dict()
    jobs, taken = force_path(monkeypatch, mode, streamer="_stream")
    report, summary = pipeline.report_file(policies, str(path), NOW, jobs=jobs, **options)
    assert (
        taken
        == {
            "stream-or-memory": [],
            "spill": ["spill_range"],
            "parallel": ["pool"] if grouped else ["pool", "pool"],
        }[mode]
    )
    got = report.to_dict()

    def key(row):
        return json.dumps(row["group"], sort_keys=True) + row.get("metric", "")

    for section in ("sla", "kpis"):
        got[section].sort(key=key)
        want[section].sort(key=key)
    assert got == want
    assert [str(r) for r in summary.rejections] == reference(policies, data)[1]


@pytest.mark.parametrize("fmt", ["csv", "table", "parquet"])
def test_ungrouped_input_restarts_cleanly_in_every_output_format(policies, lines, tmp_path, fmt):
    """Streaming gives up on ungrouped input; the abandoned writer must not
    close or write into the output that the sorted run then fills."""
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    data = shuffled(lines)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    want = reference(policies, data)[0]
    for target in (tmp_path / f"rows.{fmt}", None):
        sink = open(target, "wb") if target else _Pipe()  # noqa: SIM115
        pipeline.evaluate_file(policies, str(path), NOW, sink, fmt=fmt, jobs=1)
        payload = target.read_bytes() if target else bytes(sink.data)
        if target:
            sink.close()
        if fmt == "csv":
            got = list(csv.DictReader(io.StringIO(payload.decode())))
            assert [(r["ticket_id"], r["metric"], r["cycle"]) for r in got] == [
                (r["ticket_id"], r["metric"], str(r["cycle"])) for r in want
            ]
        elif fmt == "table":
            assert (
                payload.decode()
                .rstrip()
                .endswith(f"{len(want)} cycles, {sum(r['breached'] for r in want)} breached (marked !)")
            )
        else:
            import pyarrow.parquet as pq

            got = pq.read_table(io.BytesIO(payload)).to_pylist()
            assert [(r["ticket_id"], r["metric"], r["cycle"]) for r in got] == [
                (r["ticket_id"], r["metric"], r["cycle"]) for r in want
            ]


def test_ungrouped_standard_input_is_read_once_and_evaluated_whole(
    policies, lines, tmp_path, monkeypatch, capsysbinary
):
    from sla.cli.app import main

    data = shuffled(lines)
    policy = tmp_path / "policy.yaml"
    import yaml

    policy.write_text(
        yaml.safe_load((Path(__file__).parent / "scenarios" / "spec-basic.yaml").read_text())["policy"]
    )
    for command in (["evaluate"], ["report", "--format", "json"]):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\n".join(data) + b"\n")))
        status = main(command + ["--policies", str(policy), "--events", "-", "--now", "2026-04-01T00:00:00Z"])
        captured = capsysbinary.readouterr()
        assert status == 1  # the two bad tickets and two bad lines of the fixture
        assert captured.err.decode().count("rejected: ") == 4
        if command == ["evaluate"]:
            rows = [json.loads(line) for line in captured.out.decode().splitlines()]
            assert rows == reference(policies, data)[0]
        else:
            assert json.loads(captured.out)["tickets"] == 400


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "shuffled"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
@pytest.mark.parametrize("opening", ["wb", "ab", "pipe"])
def test_parallel_runs_write_what_one_job_writes(
    policies, lines, tmp_path, monkeypatch, grouped, fmt, opening
):
    """Workers' pieces reach the output whole and in order, in every format:
    copied by the kernel into a regular file (JSONL from byte ranges),
    through a buffer where the kernel refuses (a file opened to append) or
    cannot (a pipe), read back ticket by ticket otherwise."""
    data, path = write_input(tmp_path, lines, grouped)

    def evaluate(jobs: int) -> bytes:
        target = tmp_path / f"rows-{jobs}.{fmt}"
        if opening == "pipe":
            pipe = _Pipe()
            pipeline.evaluate_file(policies, str(path), NOW, pipe, fmt=fmt, jobs=jobs)
            return bytes(pipe.data)
        with open(target, opening) as handle:
            if opening == "ab":
                handle.write(b"already there\n")
            pipeline.evaluate_file(policies, str(path), NOW, handle, fmt=fmt, jobs=jobs)
        return target.read_bytes()

    alone = evaluate(1)
    if opening == "ab":  # starting over (ungrouped input) cuts back to where the run began
        assert alone.startswith(b"already there\n") and alone.count(b"already there") == 1
    jobs, taken = force_path(monkeypatch, "parallel", streamer="_stream")
    assert evaluate(jobs) == alone
    assert taken == (["pool"] if grouped else ["pool", "pool"])
    if fmt == "jsonl":
        body = alone.removeprefix(b"already there\n") if opening == "ab" else alone
        assert [json.loads(line) for line in body.splitlines()] == reference(policies, data)[0]


def test_workers_spilling_ranges_read_every_line_as_one_job_does(policies, lines, tmp_path, monkeypatch):
    """Ungrouped JSONL spilled by the workers, a byte range each, lines as
    they came: lines that read in unusual ways (a byte order mark, a ticket
    id beyond 64 bits, 1e999, a carriage return) and bad lines in every
    range give the rows and the rejections, with their line numbers, of one
    job reading the whole file."""
    odd = [
        b'{"ticket_id":123456789012345678901234567890,"at":"2026-03-02T08:00:00Z","type":"created",'
        b'"fields":{"channel":"email","priority":"high","n":1e999}}',
        b'{"ticket_id":123456789012345678901234567890,"at":"2026-03-02T09:00:00Z","type":"message",'
        b'"author":"agent"}\r',
        b'{"ticket_id":"\\u00e9t\\u00e9","at":"2026-03-02T08:00:00Z","type":"created","fields":{}}',
        b"[1]",
        b"{broken",
    ]
    data = shuffled(lines + odd)
    data[0] = b"\xef\xbb\xbf" + data[0]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    one = run(policies, path)
    assert sum(1 for row in one[0] if row["ticket_id"] == "123456789012345678901234567890") > 0
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 5_000)  # many partitions
    jobs, taken = force_path(monkeypatch, "parallel", streamer="_stream")
    two = run(policies, path, jobs=jobs)
    assert taken == ["pool", "pool"]
    assert two[0] == one[0]
    assert two[1] == one[1] and len(one[1]) == 6
    assert two[2].tickets == one[2].tickets


def test_the_reader_keeps_the_inputs_texts_of_instants_only_for_runs_that_write_rows(
    policies, lines, tmp_path
):
    # A report writes no rows: its reading leaves the formatter's cache as
    # it was (a speed matter: its figures are the same on every path, see
    # test_every_path_gives_the_same_report); an evaluation puts there the
    # texts its rows name.
    from sla.timefmt import _FORMATTED

    _, path = write_input(tmp_path, lines, grouped=True)
    _FORMATTED.clear()
    pipeline.report_file(policies, str(path), NOW, by=["channel"])
    reported = len(_FORMATTED)  # the tickets' first events, and what the report formats
    _FORMATTED.clear()
    pipeline.evaluate_file(policies, str(path), NOW, io.BytesIO())
    evaluated = len(_FORMATTED)
    assert reported * 3 < evaluated

    # A sink that does not say whether it writes rows is taken to write them.
    from sla.io.sinks import RowSink

    class Unsaid:
        def __init__(self, inner: RowSink) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            if name == "writes_rows":
                raise AttributeError(name)
            return getattr(self.inner, name)

    _FORMATTED.clear()
    pipeline.run(Unsaid(RowSink(policies, NOW, io.BytesIO())), str(path))
    assert len(_FORMATTED) == evaluated
