"""The loop of ``sla evaluate``'s usual run (``JsonlRun``): tickets judged
and their rows written as JSON Lines in chunks, compiled with the engine.
It must give what judging ticket by ticket gives, count what it saw, hand
back rejected tickets in order, and step aside where rows are filtered or
a progress bar is drawn."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from sla.cli.progress import Progress
from sla.engine.batch import TicketJudge
from sla.engine.events import (
    BATCH_EVENTS,
    BATCH_TICKETS,
    CREATED,
    MESSAGE,
    Event,
    EventRange,
    NotGrouped,
    TicketEvents,
    events_from_dicts,
    ticket_batches,
)
from sla.engine.jsonl import read_jsonl
from sla.engine.jsonl_run import JsonlRun
from sla.engine.rows import row_of, rows_jsonl, ticket_jsonl
from sla.io import pipeline
from sla.io.generate import generate
from sla.io.policy_files import load_policies
from sla.io.row_filter import RowFilter
from sla.io.sinks import RowSink
from sla.timefmt import parse_instant

NOW = parse_instant("2026-04-01T00:00:00Z")
POLICY = Path(__file__).resolve().parents[1] / "benchmarks" / "scale-policy.yaml"


@pytest.fixture(scope="module")
def policies():
    return load_policies(POLICY.read_text())


@pytest.fixture(scope="module")
def tickets() -> list[TicketEvents]:
    lines = [orjson.dumps(e) for e in generate(300, seed=3)]  # several batches (ticket_batches)
    found, errors = read_jsonl(lines)
    assert not errors
    bad = events_from_dicts([{"at": "2026-02-01T00:00:00Z", "type": "message", "author": "agent"}], "BAD")
    assert bad.error is not None
    listed = list(found.values())
    return listed[:40] + [bad] + listed[40:]


def test_chunks_are_the_tickets_rows_in_order(policies, tickets) -> None:
    judge = TicketJudge(policies, NOW)
    seen = EventRange()
    run = JsonlRun(*judge.run_arguments(), seen, 4096)
    items = list(run.chunks(tickets))
    chunks = [item for item in items if isinstance(item, bytes)]
    rejected = [item for item in items if isinstance(item, TicketEvents)]
    good = [t for t in tickets if t.error is None]
    want = b"".join(ticket_jsonl(judge.fields(t)) for t in good)
    assert b"".join(chunks) == want
    assert want == b"".join(
        orjson.dumps(r.to_row(), option=orjson.OPT_APPEND_NEWLINE) for t in good for r in judge(t)
    )
    assert all(len(chunk) >= 4096 for chunk in chunks[:-1]) and len(chunks) > 2
    assert [t.ticket_id for t in rejected] == ["BAD"]
    assert run.tickets == len(tickets) and run.rows == want.count(b"\n")
    assert (seen.first, seen.last) == (
        min(t.events[0].at for t in good),
        max(t.events[-1].at for t in good),
    )


def test_a_rejected_ticket_comes_as_its_batch_is_read_before_the_batchs_rows(policies, tickets) -> None:
    run = JsonlRun(*TicketJudge(policies, NOW).run_arguments(), EventRange(), 1)  # a chunk per batch
    items = list(run.chunks(tickets))
    # The 41st ticket is in the first batch (BATCH_TICKETS of them): it
    # comes first, then a chunk of rows per batch.
    assert isinstance(items[0], TicketEvents) and items[0].ticket_id == "BAD"
    assert all(isinstance(item, bytes) for item in items[1:])
    assert len(items) - 1 == -(-(len(tickets) - 1) // BATCH_TICKETS)


def test_nothing_in_gives_nothing_out(policies) -> None:
    run = JsonlRun(*TicketJudge(policies, NOW).run_arguments(), EventRange(), 1 << 16)
    assert list(run.chunks([])) == [] and run.tickets == run.rows == 0


def _events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    lines = [orjson.dumps(e) for e in generate(150, seed=8)]
    lines.insert(10, b"not json")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_drawn_progress_bar_is_told_every_ticket_and_rows_are_the_same(policies, tmp_path) -> None:
    path = _events_file(tmp_path)
    plain = io.BytesIO()
    quiet = pipeline.run(RowSink(policies, NOW, plain), str(path))
    bar = Progress(0, "lines", stream=_Terminal(), delay=0.0, interval=0.0)
    bar.every = 1
    shown = io.BytesIO()
    told = pipeline.run(RowSink(policies, NOW, shown), str(path), progress=bar)
    assert shown.getvalue() == plain.getvalue() and plain.getvalue()
    assert bar.calls == told.tickets == quiet.tickets == 150
    assert [str(r) for r in told.rejections] == [str(r) for r in quiet.rejections] != []


def test_filtered_rows_take_the_ticket_by_ticket_path(policies, tmp_path) -> None:
    path = _events_file(tmp_path)
    keep = RowFilter(states=frozenset({"breached"}))
    out = io.BytesIO()
    sink = RowSink(policies, NOW, out, keep=keep)
    summary = pipeline.run(sink, str(path))
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert rows and {row["state"] for row in rows} == {"breached"}
    assert sink.finish() == len(rows) and summary.tickets == 150
    everything = io.BytesIO()
    pipeline.run(RowSink(policies, NOW, everything), str(path))
    assert rows == [
        r for r in map(orjson.loads, everything.getvalue().splitlines()) if r["state"] == "breached"
    ]


def test_row_of_and_the_text_agree_on_a_whole_history(policies, tickets) -> None:
    # the text path itself (rows_jsonl), whichever path ticket_jsonl takes here
    judge = TicketJudge(policies, NOW)
    for ticket in tickets:
        if ticket.error is None:
            fields = judge.fields(ticket)
            want = b"".join(orjson.dumps(row_of(f), option=orjson.OPT_APPEND_NEWLINE) for f in fields)
            assert rows_jsonl(fields) == ticket_jsonl(fields) == want


def _created(ticket_id: str, events: int = 1) -> TicketEvents:
    return TicketEvents(
        ticket_id, 1, [Event(0, CREATED, fields={})] + [Event(1, MESSAGE, author="agent")] * (events - 1)
    )


def test_a_batch_ends_at_a_few_tickets_or_at_many_events() -> None:
    small = [_created(f"S{n}") for n in range(BATCH_TICKETS + 1)]
    big = _created("BIG", BATCH_EVENTS)
    batches = list(ticket_batches([small[0], big, *small[1:]]))
    assert [len(batch) for batch in batches] == [2, BATCH_TICKETS]
    assert [t.ticket_id for batch in batches for t in batch] == ["S0", "BIG"] + [
        f"S{n}" for n in range(1, 65)
    ]


def test_what_was_read_before_an_error_is_judged_then_the_error_goes_on(policies, tickets) -> None:
    def stops_midway() -> Iterator[TicketEvents]:
        yield from tickets[:3]
        raise NotGrouped("line 99: ticket T001 appears again after other tickets")

    assert [[t.ticket_id for t in batch] for batch in _batches_until_error(stops_midway())] == [
        [t.ticket_id for t in tickets[:3]]
    ]
    judge = TicketJudge(policies, NOW)
    run = JsonlRun(*judge.run_arguments(), EventRange(), 1)
    items = _drain(run, stops_midway())
    assert run.tickets == 3
    assert b"".join(item for item in items if isinstance(item, bytes)) == b"".join(
        ticket_jsonl(judge.fields(t)) for t in tickets[:3]
    )


def _batches_until_error(source: Iterator[TicketEvents]) -> list[list[TicketEvents]]:
    got: list[list[TicketEvents]] = []
    with pytest.raises(NotGrouped):
        for batch in ticket_batches(source):
            got.append(list(batch))
    return got


def _drain(run: JsonlRun, source: Iterator[TicketEvents]) -> list[bytes | TicketEvents]:
    """What ``run.chunks`` gave before the error it raised."""
    items: list[bytes | TicketEvents] = []
    with pytest.raises(NotGrouped):
        for item in run.chunks(source):
            items.append(item)
    return items
