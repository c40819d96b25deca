"""The report's per-ticket step (:mod:`sla.report.tally`): a whole input
counted in one loop, ticket by ticket, or in pickled parts merged, gives
the same report; the watch list is told of every accepted ticket, as plain
fields; rejected tickets are
given back in input order, also when reading stops with an error."""

from __future__ import annotations

import io
import pickle
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import orjson
import pytest

from sla import load_policies
from sla.cli.progress import Progress
from sla.engine.batch import TicketJudge
from sla.engine.events import NotGrouped, TicketEvents, events_from_dicts
from sla.engine.jsonl import read_jsonl
from sla.engine.judge import CycleResult
from sla.io import pipeline
from sla.io.generate import generate
from sla.io.sinks import ReportSink
from sla.report import watch as watch_module
from sla.report.figures import ReportBuilder
from sla.report.localtime import LocalTime
from sla.report.results import Report
from sla.report.tally import GroupMemo, ReportTally
from sla.report.watch import Watchlist

POLICIES = load_policies((Path(__file__).parent.parent / "benchmarks" / "scale-policy.yaml").read_text())
NOW = "2026-03-20T12:00:00Z"  # inside the history: open, paused and breached cycles alike


def history() -> list[TicketEvents]:
    lines = [orjson.dumps(event).decode() for event in generate(400, seed=11)]
    lines.insert(5, '{"ticket_id": "BAD1", "at": "2026-01-05T09:00:00Z", "type": "nope"}')
    lines.append('{"ticket_id": "LATE", "at": "2026-03-30T09:00:00Z", "type": "created", "fields": {}}')
    lines.append('{"ticket_id": "BAD2", "at": "someday", "type": "created", "fields": {}}')
    tickets, line_errors = read_jsonl(lines)
    assert not line_errors
    return list(tickets.values())


TICKETS = history()


def everything(report: Report) -> tuple[object, ...]:
    extras = report.extras
    return (
        report.to_dict(),
        extras.watch,
        extras.breaches_by_day,
        extras.created_by_hour,
        extras.csat_scores,
        extras.attribute_names,
        sorted(extras.first_response_seconds),  # in the order the parts came: a histogram's input
    )


@pytest.mark.parametrize(
    ("by", "period", "tz"),
    [
        (("channel", "priority"), None, "UTC"),
        (("assignee", "policy"), "week", "Europe/Berlin"),
        ((), "day", "UTC"),
    ],
)
def test_one_loop_one_by_one_and_pickled_parts_give_the_same_report(
    by: tuple[str, ...], period: str | None, tz: str
) -> None:
    one_by_one = ReportBuilder(POLICIES, NOW, by, period, tz)
    for ticket in TICKETS:
        one_by_one.add(ticket)
    in_one_loop = ReportBuilder(POLICIES, NOW, by, period, tz)
    rejected = in_one_loop.add_all(TICKETS)
    assert [t.ticket_id for t in rejected] == ["BAD1", "BAD2"]
    assert in_one_loop.tally.seen == len(TICKETS)
    merged = ReportBuilder(POLICIES, NOW, by, period, tz)
    for start in (1, 0):  # interleaved parts, merged in another order than read
        part = ReportBuilder(POLICIES, NOW, by, period, tz)
        part.add_all(TICKETS[start::2])
        merged.merge(pickle.loads(pickle.dumps(part)))  # as workers send them back
    expected = everything(one_by_one.finish())
    assert expected == everything(in_one_loop.finish()) == everything(merged.finish())
    report = one_by_one.finish()
    created_by_now = [t for t in TICKETS if t.error is None and t.events[0].at <= one_by_one.now]
    assert report.tickets == len(created_by_now) > 0 and report.rejected == 2
    assert "LATE" not in {t.ticket_id for t in created_by_now}
    watch = report.extras.watch
    assert watch is not None and watch.breached and watch.at_risk  # the watch list has work to show


def test_the_watch_list_is_told_of_every_accepted_ticket() -> None:
    builder = ReportBuilder(POLICIES, NOW, ("assignee", "group"))
    builder.add_all(TICKETS)
    judge = TicketJudge(POLICIES, builder.now)
    told_everything = Watchlist(("assignee", "group"))
    for ticket in TICKETS:
        clock = judge.clock_of(ticket) if ticket.error is None else None
        if clock is not None:
            told_everything.add(
                ticket.ticket_id, judge.judge_fields(ticket.ticket_id, clock), clock, judge.now
            )
    assert builder.tally.watch.now == judge.now and builder.tally.watch.owner_keys == {"assignee", "group"}
    assert builder.tally.watch.finish() == told_everything.finish()


def test_a_watch_list_of_no_ticket_has_no_now() -> None:
    builder = ReportBuilder(POLICIES, NOW)
    builder.add_all([t for t in TICKETS if t.error is not None])
    watch = builder.finish().extras.watch
    assert watch is not None and watch.now is None and not watch.breached


def test_rejected_tickets_and_the_count_survive_an_error_while_reading() -> None:
    def stops_midway() -> Iterator[TicketEvents]:
        yield from TICKETS[:10]
        raise NotGrouped("line 99: ticket T001 appears again after other tickets")

    builder = ReportBuilder(POLICIES, NOW)
    rejected: list[TicketEvents] = []
    with pytest.raises(NotGrouped):
        builder.add_all(stops_midway(), rejected)
    assert [t.ticket_id for t in rejected] == ["BAD1"]  # the 6th ticket of the input
    created_by_now = [t for t in TICKETS[:10] if t.error is None and t.events[0].at <= builder.now]
    assert builder.tally.seen == 10 and builder.tally.rejected == 1
    assert builder.tally.accepted == len(created_by_now) > 0


def one_ticket() -> tuple[ReportTally, TicketJudge, TicketEvents]:
    policies = load_policies("policies:\n  - name: all\n    targets: {first_response: 1h, resolution: 1d}\n")
    judge = TicketJudge(policies, 3 * 86_400_000_000)
    ticket = events_from_dicts(
        [
            {"at": "1970-01-01T00:00:00Z", "type": "created", "fields": {"channel": "email"}},
            {"at": "1970-01-01T00:30:00Z", "type": "update", "fields": {"channel": "chat"}},
            {"at": "1970-01-02T02:00:00Z", "type": "message", "author": "agent"},
        ],
        "T1",
    )
    return ReportTally(("channel",), False, frozenset()), judge, ticket


def test_a_tickets_cycles_are_grouped_once_per_attribute_state() -> None:
    tally, judge, ticket = one_ticket()
    clock = judge.clock_of(ticket)
    assert clock is not None
    memo = GroupMemo()
    tally.tally_cycles(judge.judge_fields("T1", clock), clock, judge.now, LocalTime(UTC, None), memo)
    # both cycles end (or are judged at now) under the last attributes: one group, named once
    assert memo.attrs is clock.attributes and memo.key == ("chat",)
    assert tally.group_values == {("chat",): {"channel": "chat"}}
    assert {gkey: sorted(accs) for gkey, accs in tally.sla_acc.items()} == {
        ("chat",): ["first_response", "resolution"]
    }
    overall = tally.overall_sla()
    assert overall["first_response"].breached == 1 and overall["resolution"].breached == 1
    assert tally.breaches_by_day == {
        "1970-01-01": Counter({"first_response": 1}),
        "1970-01-02": Counter({"resolution": 1}),
    }
    assert tally.metric_hours == {"first_response": {"business"}, "resolution": {"business"}}


def test_with_a_period_each_cycle_is_grouped_by_its_start() -> None:
    _, judge, ticket = one_ticket()
    tally = ReportTally(("channel",), True, frozenset())
    clock = judge.clock_of(ticket)
    assert clock is not None
    memo = GroupMemo()
    tally.tally_cycles(judge.judge_fields("T1", clock), clock, judge.now, LocalTime(UTC, "day"), memo)
    assert memo.attrs is None  # the period depends on each cycle's start: nothing to remember
    assert sorted(tally.group_values) == [("chat", "1970-01-01")]
    tally.add(
        events_from_dicts([{"at": "1970-01-02T05:00:00Z", "type": "created", "fields": {}}], "T2"),
        judge,
        LocalTime(UTC, "day"),
    )
    assert sorted(tally.group_values, key=str) == [("chat", "1970-01-01"), (None, "1970-01-02")]
    assert tally.group_values[(None, "1970-01-02")] == {"channel": None, "period": "1970-01-02"}


def test_the_state_is_where_the_compiled_modules_read_it() -> None:
    assert CycleResult._fields.index("state") == watch_module._STATE


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("bad_at", [20, -1], ids=["ungrouped: the sink starts over", "grouped"])
def test_the_sinks_loop_and_a_drawn_progress_bar_give_the_same_report(tmp_path: Path, bad_at: int) -> None:
    # without a drawn bar the report sink takes every ticket in the tally's
    # own loop (add_all); with one, ticket by ticket
    lines = [orjson.dumps(e) for e in generate(150, seed=8)]
    lines.insert(10, b"not json")
    bad = b'{"ticket_id": "BAD", "at": "someday", "type": "created", "fields": {}}'
    lines.insert(bad_at if bad_at >= 0 else len(lines), bad)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    now = ReportBuilder(POLICIES, NOW).now
    quiet_sink = ReportSink(POLICIES, now, by=("channel",))
    quiet = pipeline.run(quiet_sink, str(path))
    bar = Progress(0, "lines", stream=_Terminal(), delay=0.0, interval=0.0)
    bar.every = 1
    shown_sink = ReportSink(POLICIES, now, by=("channel",))
    told = pipeline.run(shown_sink, str(path), progress=bar)
    assert everything(quiet_sink.finish()) == everything(shown_sink.finish())
    assert told.tickets == quiet.tickets == 151
    # (ungrouped, the bar was also told the tickets streamed before the start over)
    assert bar.calls == 151 if bad_at < 0 else bar.calls > 151
    assert [str(r) for r in told.rejections] == [str(r) for r in quiet.rejections]
    assert len(quiet.rejections) == 2  # the line that is not JSON and ticket BAD, once each
    assert quiet_sink.finish().rejected == 1


@pytest.mark.parametrize(
    ("by", "period"), [(("channel", "priority"), None), (("assignee", "policy"), "week")]
)
def test_without_the_watch_tables_every_other_figure_is_the_same(
    by: tuple[str, ...], period: str | None
) -> None:
    """``watchlist=False`` (every output but the HTML page) keeps no watch
    tables, alone or merged from pickled parts, and changes no other figure."""
    kept = ReportBuilder(POLICIES, NOW, by, period)
    kept.add_all(TICKETS)
    without = ReportBuilder(POLICIES, NOW, by, period, watchlist=False)
    without.add_all(TICKETS)
    merged = ReportBuilder(POLICIES, NOW, by, period, watchlist=False)
    for start in (1, 0):
        part = ReportBuilder(POLICIES, NOW, by, period, watchlist=False)
        part.add_all(TICKETS[start::2])
        merged.merge(pickle.loads(pickle.dumps(part)))
    with_watch = kept.finish()
    assert with_watch.extras.watch is not None and with_watch.extras.watch.breached
    assert without.tally.watch is None and merged.tally.watch is None
    for report in (without.finish(), merged.finish()):
        assert report.extras.watch is None
        assert everything(report)[2:] == everything(with_watch)[2:]
        assert everything(report)[0] == everything(with_watch)[0]


def test_builders_that_disagree_on_the_watch_tables_do_not_merge() -> None:
    from sla.errors import ArgumentError

    kept = ReportBuilder(POLICIES, NOW)
    kept.add_all(TICKETS[::2])
    without = ReportBuilder(POLICIES, NOW, watchlist=False)
    without.add_all(TICKETS[1::2])
    alone = kept.finish().extras.watch
    for mine, theirs in ((kept, without), (without, kept)):
        with pytest.raises(ArgumentError, match="same watchlist="):
            mine.merge(theirs)
    assert kept.finish().extras.watch == alone  # nothing merged


@pytest.mark.parametrize(("fmt", "kept"), [("html", True), ("json", False), ("csv", False), ("table", False)])
def test_only_the_html_report_asks_for_the_watch_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, kept: bool
) -> None:
    from sla.cli.app import main

    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in generate(30, seed=3)))
    asked: list[object] = []
    report_file = pipeline.report_file

    def spy(*args: object, **options: object) -> object:
        asked.append(options.get("watchlist"))
        return report_file(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "report_file", spy)
    policy = Path(__file__).parent.parent / "benchmarks" / "scale-policy.yaml"
    out = tmp_path / f"report.{fmt}"
    argv = ["report", "--policies", str(policy), "--events", str(path), "--now", NOW, "--format", fmt]
    assert main([*argv, "--output", str(out)]) == 0
    assert asked == [kept]
    if kept:
        assert "Breached cycles" in out.read_text()
