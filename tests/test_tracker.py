"""The embedding API: batch evaluation from dicts, the incremental tracker,
next_change timers, warnings and stored state."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sla.engine.batch import evaluate_ticket
from sla.engine.tracker import Tracker
from sla.errors import EventError, SlaError
from sla.io.policy_files import load_policies
from sla.timefmt import parse_instant

POLICIES = load_policies("""
calendars:
  office:
    timezone: UTC
    hours: {mon-fri: ["09:00-17:00"]}
policies:
  - name: office
    calendar: office
    targets: {first_response: 2h, resolution: {within: 1d, hours: calendar}}
    warnings: {at_percent: [50, 75], before_due: [15m]}
""")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def created(at: str = "2026-03-02T08:00:00Z", **extra) -> dict:
    return {"at": at, "type": "created", "fields": {}, **extra}


def test_warnings_and_next_change_follow_business_hours():
    tracker = Tracker(POLICIES, "T")
    tracker.feed(created())  # Monday 08:00, before opening
    first = {r.metric: r for r in tracker.snapshot("2026-03-02T08:30:00Z")}["first_response"]
    labels = dict(first.warnings)
    # 2h business target from 09:00: 50% at 10:00, 75% at 10:30, 15m before due at 10:45.
    assert labels == {
        "50%": parse_instant("2026-03-02T10:00:00Z"),
        "75%": parse_instant("2026-03-02T10:30:00Z"),
        "15m before due": parse_instant("2026-03-02T10:45:00Z"),
    }
    assert tracker.next_change("2026-03-02T08:30:00Z") == utc("2026-03-02T10:00:00Z")
    assert tracker.next_change("2026-03-02T10:40:00Z") == utc("2026-03-02T10:45:00Z")
    assert tracker.next_change("2026-03-02T10:50:00Z") == utc("2026-03-02T11:00:00Z")
    # After the first-response target, the next change is the calendar-hours resolution due time.
    assert tracker.next_change("2026-03-02T11:30:00Z") == utc("2026-03-02T20:00:00Z")


def test_next_change_is_none_when_everything_is_settled_or_paused():
    tracker = Tracker(POLICIES, "T")
    tracker.feed(created())
    tracker.feed({"at": "2026-03-02T09:10:00Z", "type": "message", "author": "agent"})
    tracker.feed({"at": "2026-03-02T09:20:00Z", "type": "status", "status": "solved"})
    assert tracker.next_change("2026-03-02T10:00:00Z") is None


def test_snapshot_equals_batch_and_survives_json():
    events = [
        created(),
        {"at": "2026-03-02T09:30:00Z", "type": "message", "author": "customer"},
        {"at": "2026-03-02T12:00:00Z", "type": "update", "fields": {"priority": "urgent"}},
    ]
    tracker = Tracker(POLICIES, "T")
    for event in events:
        tracker.feed(event)
        tracker = Tracker.from_json(POLICIES, json.loads(json.dumps(tracker.to_json())))
    now = "2026-03-03T10:00:00Z"
    assert [r.to_row() for r in tracker.snapshot(now, with_warnings=False)] == [
        r.to_row() for r in evaluate_ticket(POLICIES, events, now, ticket_id="T")
    ]


def test_tracker_refuses_bad_order_and_bad_events():
    tracker = Tracker(POLICIES, "T")
    with pytest.raises(EventError, match="before the ticket's created"):
        tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "message", "author": "agent"})
    tracker.feed(created())
    with pytest.raises(EventError, match="already has a created"):
        tracker.feed(created("2026-03-02T09:00:00Z"))
    tracker.feed({"at": "2026-03-02T09:00:00Z", "type": "status", "status": "open"})
    with pytest.raises(EventError, match="time order"):
        tracker.feed({"at": "2026-03-02T08:59:00Z", "type": "status", "status": "pending"})
    with pytest.raises(EventError, match="author"):
        tracker.feed({"at": "2026-03-02T09:30:00Z", "type": "message", "author": "robot"})
    with pytest.raises(EventError, match="offset"):
        tracker.feed({"at": "2026-03-02T09:30:00", "type": "status", "status": "open"})
    with pytest.raises(SlaError, match="at or after the last event"):
        tracker.snapshot("2026-03-02T08:30:00Z")
    with pytest.raises(SlaError, match="version"):
        Tracker.from_json(POLICIES, {"version": 99})


def test_snapshot_before_creation_is_empty_and_datetimes_work():
    tracker = Tracker(POLICIES, "T")
    assert tracker.snapshot(datetime(2026, 3, 2, tzinfo=UTC)) == []
    tracker.feed(created())
    assert tracker.snapshot(datetime(2026, 3, 2, 7, tzinfo=UTC)) == []
    rows = tracker.snapshot(datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert [r.metric for r in rows] == ["first_response", "resolution"]


def test_batch_takes_typed_events_too():
    from sla.engine.events import CREATED, MESSAGE, Event

    start = parse_instant("2026-03-02T08:00:00Z")
    typed = [Event(start, CREATED, fields={}), Event(start + 600_000_000, MESSAGE, author="agent")]
    as_dicts = [created(), {"at": "2026-03-02T08:10:00Z", "type": "message", "author": "agent"}]
    now = "2026-03-02T12:00:00Z"
    assert [r.to_row() for r in evaluate_ticket(POLICIES, typed, now, ticket_id="T")] == [
        r.to_row() for r in evaluate_ticket(POLICIES, as_dicts, now, ticket_id="T")
    ]


def test_priority_lookup_is_the_same_cached_or_not():
    from sla import load_policies

    policies = load_policies(
        "policies:\n  - name: all\n    targets: {first_response: {'1': 1h, '1.0': 2h, default: 3h}}\n"
    )
    now = "2026-03-02T12:00:00Z"
    targets = []
    for priority in (1, 1.0, True, "1"):
        rows = evaluate_ticket(policies, [created(fields={"priority": priority})], now, ticket_id="T")
        targets.append(rows[0].target_us // 3_600_000_000)
    # The keys are the texts "1" and "1.0": a number or a boolean equals no
    # text, so only the priority "1" finds a key; the others get the default.
    assert targets == [3, 3, 3, 1]


def test_true_one_and_text_one_are_three_priority_keys():
    from sla import load_policies

    policies = load_policies(
        "policies:\n  - name: all\n    targets: {first_response: {1: 1h, true: 2h, '1': 3h, default: 4h}}\n"
    )
    now = "2026-03-02T12:00:00Z"
    targets = []
    for priority in (1, 1.0, True, "1", "1.0", False):
        rows = evaluate_ticket(policies, [created(fields={"priority": priority})], now, ticket_id="T")
        targets.append(rows[0].target_us // 3_600_000_000)
    assert targets == [1, 1, 2, 3, 4, 4]
