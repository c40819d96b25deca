"""The Python API answers a wrong argument with an SlaError that names the
argument and what it should be, never a bare TypeError, KeyError or
AttributeError from deep inside."""

from __future__ import annotations

import io
import re

import pytest

import sla
from sla.errors import ArgumentError

POLICIES = sla.load_policies("policies:\n  - name: all\n    targets: {first_response: 1h}\n")
CREATED = {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: sla.Tracker("policies.yaml", "T1"), "policies"),
        (lambda: sla.Tracker(POLICIES, 7), "ticket_id"),
        (lambda: sla.Tracker(POLICIES, "T1").feed(["created"]), "event"),
        (lambda: sla.Tracker.from_json(POLICIES, "{}"), "data"),
        (lambda: sla.Tracker.from_json("policies.yaml", {}), "policies"),
    ],
)
def test_a_wrong_argument_is_named(call, named):
    with pytest.raises(ArgumentError, match=f"^{named}: expected "):
        call()


def test_argument_errors_are_sla_errors_and_type_errors():
    with pytest.raises(sla.SlaError):
        sla.Tracker(POLICIES, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sla.Tracker(POLICIES, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("damage", "path"),
    [
        (lambda s: s.pop("clock"), "clock"),
        (lambda s: s.pop("seq"), "seq"),
        (lambda s: s.pop("ticket_id"), "ticket_id"),
        (lambda s: s.update(clock="nonsense"), "clock"),
        (lambda s: s.update(clock={}), "clock.status"),
        (lambda s: s.update(seq="x"), "seq"),
        (lambda s: s["clock"].pop("metrics"), "clock.metrics"),
    ],
)
def test_damaged_tracker_state_is_a_state_error_naming_the_place(damage, path):
    tracker = sla.Tracker(POLICIES, "T1")
    tracker.feed(CREATED)
    state = tracker.to_json()
    damage(state)
    with pytest.raises(
        sla.StateError, match=rf"^tracker state( of ticket T1)?: at {re.escape(path)}: "
    ) as info:
        sla.Tracker.from_json(POLICIES, state)
    assert isinstance(info.value, sla.SlaError) and info.value.path == path


def test_a_restored_tracker_goes_on_where_it_stopped():
    tracker = sla.Tracker(POLICIES, "T1")
    tracker.feed(CREATED)
    same = sla.Tracker.from_json(POLICIES, tracker.to_json())
    same.feed({"at": "2026-03-02T08:30:00Z", "type": "message", "author": "agent"})
    assert [r.state for r in same.snapshot("2026-03-02T09:00:00Z")] == ["achieved"]


def test_load_policies_names_a_wrong_source():
    with pytest.raises(ArgumentError, match="^source: expected "):
        sla.load_policies(42)  # type: ignore[arg-type]
    with pytest.raises(sla.PolicyError, match="not UTF-8"):
        sla.load_policies(b"\xff\xfe policies: []")
    assert sla.load_policies(b"policies:\n  - name: all\n").policies[0].name == "all"


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (
            lambda: sla.evaluate_ticket("p.yaml", [], now="2026-03-02T09:00:00Z"),
            ArgumentError,
            "policies: expected",
        ),
        (
            lambda: sla.evaluate_ticket(POLICIES, 5, now="2026-03-02T09:00:00Z"),
            ArgumentError,
            "events: expected",
        ),
        (lambda: sla.evaluate_ticket(POLICIES, [CREATED], now=None), ArgumentError, "now: expected"),
        (lambda: sla.evaluate_ticket(POLICIES, [CREATED], now=1.5), ArgumentError, "now: expected"),
        (lambda: sla.evaluate_ticket(POLICIES, [CREATED], now=True), ArgumentError, "now: expected"),
        (
            lambda: sla.evaluate_ticket(POLICIES, [5], now="2026-03-02T09:00:00Z"),
            sla.EventError,
            "must be a dict",
        ),
        (
            lambda: list(sla.evaluate_many(POLICIES, [{}], now="2026-03-02T09:00:00Z")),
            ArgumentError,
            "tickets: expected",
        ),
        (lambda: sla.Tracker(POLICIES, "T").snapshot(None), ArgumentError, "now: expected"),
        (lambda: sla.Tracker(POLICIES, "T").next_change("soon"), sla.TimestampError, "soon"),
        (
            lambda: sla.Tracker(POLICIES, "T").feed({**CREATED, "ticket_id": ["T"]}),
            sla.EventError,
            "ticket_id is",
        ),
        (
            lambda: sla.build_report(POLICIES, {}, "2026-03-02T09:00:00Z", tz="Mars/Base"),
            sla.ReportError,
            "Mars/Base",
        ),
        # a string is a sequence of strings: "tier" would group by t, i, e, r
        (
            lambda: sla.build_report(POLICIES, {}, "2026-03-02T09:00:00Z", by="tier"),
            ArgumentError,
            "by: expected a list of attribute names, like \\['tier'\\]",
        ),
        # one ticket's events are never merged with another's
        (
            lambda: sla.evaluate_ticket(
                POLICIES,
                [
                    {**CREATED, "ticket_id": "A"},
                    {"at": "2026-03-02T08:10:00Z", "type": "message", "author": "agent", "ticket_id": "B"},
                ],
                now="2026-03-02T09:00:00Z",
            ),
            sla.EventError,
            "ticket_id is 'B', another ticket",
        ),
        (
            lambda: sla.evaluate_ticket(
                POLICIES, [{**CREATED, "ticket_id": "A"}], "2026-03-02T09:00:00Z", ticket_id="B"
            ),
            sla.EventError,
            "ticket_id is 'A', another ticket",
        ),
        (
            lambda: sla.read_jsonl('{"ticket_id": "T"}'),
            ArgumentError,
            "lines: expected lines or an open file",
        ),
        (lambda: sla.read_jsonl([], start_line="1"), ArgumentError, "start_line: expected a line number"),
        (
            lambda: sla.evaluate_ticket(POLICIES, [CREATED], "2026-03-02T09:00:00Z", ticket_id=5),
            ArgumentError,
            "ticket_id: expected",
        ),
        (
            lambda: sla.evaluate_ticket(POLICIES, [CREATED], "2026-03-02T09:00:00Z", with_warnings="no"),
            ArgumentError,
            "with_warnings: expected",
        ),
        (
            lambda: list(sla.evaluate_many(POLICIES, [], "2026-03-02T09:00:00Z", rejected=())),
            ArgumentError,
            "rejected: expected",
        ),
        (lambda: POLICIES.policy_for(None), ArgumentError, "attributes: expected a mapping"),
        (lambda: POLICIES.policy_for([1]), ArgumentError, "attributes: expected a mapping"),
        (
            lambda: sla.build_report(POLICIES, {}, "2026-03-02T09:00:00Z").records("x"),
            ArgumentError,
            "section: expected",
        ),
        (lambda: sla.ReportBuilder(None, "2026-03-02T09:00:00Z"), ArgumentError, "policies: expected"),
        (lambda: sla.write_report({}, io.BytesIO()), ArgumentError, "report: expected a Report"),
        (
            lambda: sla.write_report(
                sla.build_report(POLICIES, {}, "2026-03-02T09:00:00Z"), io.StringIO(), "csv"
            ),
            ArgumentError,
            "out: expected a binary stream",
        ),
    ],
)
def test_batch_calls_name_a_wrong_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_read_jsonl_takes_a_file_opened_in_text_mode_too(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"ticket_id": "T", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n')
    with path.open() as text, path.open("rb") as binary:
        assert list(sla.read_jsonl(text)[0]) == list(sla.read_jsonl(binary)[0]) == ["T"]


def test_calendar_add_names_a_wrong_duration():
    from datetime import UTC, datetime

    with pytest.raises(sla.CalendarError, match="duration: expected a timedelta"):
        sla.ALWAYS_OPEN.add(datetime(2026, 3, 2, tzinfo=UTC), "1h")  # type: ignore[arg-type]
