"""The embedding API: batch evaluation from dicts, the incremental tracker,
next_change timers, warnings and stored state."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sla
from sla.engine.batch import evaluate_ticket
from sla.engine.tracker import Tracker
from sla.errors import EarlyNowError, EventError, SlaError, StateError
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


def test_next_change_is_the_breach_when_the_target_ran_out_as_the_hours_closed():
    """8h on an 8-hour day: at 17:00 elapsed equals the target, the cycle is
    still running; it is breached at the first microsecond of Tuesday's
    hours, and next_change says so, strictly after now (never now itself)."""
    office = load_policies(
        'calendars: {office: {timezone: UTC, hours: {mon-fri: ["09:00-17:00"]}}}\n'
        "policies: [{name: all, calendar: office, targets: {first_response: 8h}}]\n"
    )
    tracker = Tracker(office, "T1")
    tracker.feed({"at": "2026-03-02T09:00:00Z", "type": "created", "fields": {}})
    assert tracker.next_change("2026-03-02T12:00:00Z") == utc("2026-03-02T17:00:00Z")
    breach = utc("2026-03-03T09:00:00Z") + timedelta(microseconds=1)
    for now in ("2026-03-02T17:00:00Z", "2026-03-02T18:00:00Z", "2026-03-03T08:59:59Z"):
        assert tracker.snapshot(now)[0].state == "running"
        assert tracker.next_change(now) == breach, now
    assert tracker.snapshot(breach)[0].state == "breached"
    assert tracker.snapshot(breach - timedelta(microseconds=1))[0].state == "running"
    assert tracker.next_change(breach) is None


def test_fields_that_are_no_json_values_are_refused_as_they_are_fed():
    """to_json() is stored as JSON: a datetime, a set or bytes among the fields
    would make it unstorable later; refused at feed, naming the field."""
    from datetime import datetime as dt

    tracker = Tracker(POLICIES, "T")
    for value in (dt(2026, 1, 1), {1, 2}, b"x", {"nested": [dt(2026, 1, 1)]}):
        with pytest.raises(EventError, match="fields.due is .*, not a JSON value"):
            tracker.feed({**created(), "fields": {"due": value}})
    tracker.feed({**created(), "fields": {"due": "2026-01-01", "n": [1, {"x": None}], "big": float("inf")}})
    assert json.loads(json.dumps(tracker.to_json()))


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
    with pytest.raises(EarlyNowError, match="before the last event fed"):
        tracker.snapshot("2026-03-02T08:30:00Z")
    with pytest.raises(SlaError, match="version"):
        Tracker.from_json(POLICIES, {"version": 99})


def test_datetimes_work_as_now():
    tracker = Tracker(POLICIES, "T")
    assert tracker.snapshot(datetime(2026, 3, 2, tzinfo=UTC)) == []
    tracker.feed(created())
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


# ------------------------------------------- snapshot == evaluate_ticket
sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_engine_properties as props  # noqa: E402  (its history generator)

#: Policies on the attributes props.histories() draws, every one with warnings
#: (business and calendar hours, a before_due longer than some targets).
WARNED = load_policies("""
derive:
  - when: {channel: twitter}
    set: {group: social}
metrics:
  requester_wait: {pause_statuses: [pending]}
  next_response: {responders: [agent, bot]}
calendars:
  berlin:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-12:00", "13:00-17:00"]}
    holidays: {dates: ["2026-03-30"]}
policies:
  - name: social
    match: {channel: [twitter]}
    targets: {first_response: 30m, next_response: 20m, resolution: {within: 1d, hours: calendar}}
    warnings: {at_percent: [50, 100], before_due: [5m]}
  - name: standard
    calendar: berlin
    targets:
      first_response: {urgent: 1h, default: 8h}
      next_response: 4h
      resolution: 2d
      requester_wait: 16h
      group_ownership: 2h
    warnings: {at_percent: [25, 75], before_due: [30m, 1d]}
""")


@props.FAST
@given(props.histories(), st.randoms(use_true_random=False))
def test_snapshot_equals_evaluate_ticket_by_default_warnings_included(history, rnd):
    events, now = history
    expected = evaluate_ticket(WARNED, events, now, ticket_id="T")
    tracker = Tracker(WARNED, "T")
    for event in [e for e in events if parse_instant(e["at"]) <= now]:
        tracker.feed(event)
        if rnd.random() < 0.3:
            tracker = Tracker.from_json(WARNED, json.loads(json.dumps(tracker.to_json())))
    # Whole results, warnings included, with both defaults.
    assert tracker.snapshot(now) == expected
    assert tracker.snapshot(now, with_warnings=False) == evaluate_ticket(
        WARNED, events, now, ticket_id="T", with_warnings=False
    )
    if any(r.ended_at is None and r.state == "running" for r in expected):
        assert any(r.warnings for r in expected), "an open running cycle of a warned policy has warnings"


def test_the_defaults_agree_and_carry_warnings():
    def default(function, name="with_warnings"):
        return inspect.signature(function).parameters[name].default

    assert default(evaluate_ticket) is default(Tracker.snapshot) is default(sla.evaluate_many) is True
    events = [created()]
    now = "2026-03-02T08:30:00Z"
    tracker = Tracker(POLICIES, "T")
    tracker.feed(created())
    rows = evaluate_ticket(POLICIES, events, now, ticket_id="T")
    assert rows == tracker.snapshot(now)
    assert [dict(r.warnings) != {} for r in rows] == [True, True]
    tickets, _ = sla.read_jsonl([json.dumps({"ticket_id": "T", **e}) for e in events])
    assert list(sla.evaluate_many(POLICIES, tickets.values(), now)) == rows
    # The CLI's rows carry no warnings: to_row() is the same either way.
    bare = evaluate_ticket(POLICIES, events, now, ticket_id="T", with_warnings=False)
    assert all(r.warnings == () for r in bare)
    assert [r.to_row() for r in bare] == [r.to_row() for r in rows]


# ----------------------------------------------- a now before the state
def test_a_now_before_the_last_event_raises_also_before_created():
    tracker = Tracker(POLICIES, "T")
    assert tracker.last_event_at is None
    assert tracker.snapshot("2000-01-01T00:00:00Z") == []  # fed nothing: no ticket yet
    assert tracker.next_change("2000-01-01T00:00:00Z") is None
    tracker.feed(created())  # 08:00
    assert tracker.last_event_at == utc("2026-03-02T08:00:00Z")
    # Before created ...
    with pytest.raises(EarlyNowError) as before_created:
        tracker.snapshot("2026-03-02T07:00:00Z")
    with pytest.raises(EarlyNowError):
        tracker.next_change("2026-03-02T07:00:00Z")
    tracker.feed({"at": "2026-03-02T09:00:00Z", "type": "status", "status": "open"})
    # ... and before a later event: the same error.
    with pytest.raises(EarlyNowError) as before_last:
        tracker.snapshot("2026-03-02T08:30:00Z")
    for info, now in ((before_created, "07:00"), (before_last, "08:30")):
        error = info.value
        assert isinstance(error, SlaError) and isinstance(error, ValueError)
        assert error.ticket_id == "T"
        assert error.now == parse_instant(f"2026-03-02T{now}:00Z")
        assert error.last_event_at <= parse_instant("2026-03-02T09:00:00Z")
        assert f"now 2026-03-02T{now}:00Z is before the last event fed" in str(error)
        assert "sla.evaluate_ticket" in str(error)
    assert tracker.snapshot("2026-03-02T09:00:00Z")  # at the last event: fine
    # The way back, as the message says: replay the events up to then.
    assert evaluate_ticket(POLICIES, [created()], "2026-03-02T07:00:00Z") == []
    past = Tracker(POLICIES, "T")
    past.feed(created())
    assert evaluate_ticket(POLICIES, [created()], "2026-03-02T08:30:00Z", ticket_id="T") == past.snapshot(
        "2026-03-02T08:30:00Z"
    )


# ------------------------------------------------------ bad events fed
@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "status", "status": "open"}, "at"),
        ({"at": 1_000, "type": "status", "status": "open"}, "at"),
        ({"at": "2026-03-02T09:00:00Z"}, "type"),
        ({"at": "2026-03-02T09:00:00Z", "type": "note"}, "type"),
        ({"at": "2026-03-02T09:00:00Z", "type": "update", "fields": ["priority"]}, "fields"),
        ({"at": "2026-03-02T09:00:00Z", "type": "status", "status": 3}, "status"),
        ({"at": "2026-03-02T09:00:00Z", "type": "message", "author": "agent", "public": "no"}, "public"),
        ({"at": "2026-03-02T09:00:00Z", "type": "csat", "score": "good"}, "score"),
        ({"at": "2026-03-02T09:00:00Z", "type": "status", "status": "open", "ticket_id": 1.5}, "ticket_id"),
        ({"at": "2026-03-02T09:00:00Z", "type": "status", "status": "open", "ticket_id": "T9"}, "ticket_id"),
    ],
)
def test_a_bad_event_names_its_field_and_changes_nothing(event, field):
    tracker = Tracker(POLICIES, "T")
    tracker.feed(created(ticket_id="T"))
    before = tracker.to_json()
    with pytest.raises(EventError, match=rf"^ticket T: (a \w+ event needs |\w+ needs )?{field}\b") as info:
        tracker.feed(event)
    assert isinstance(info.value, SlaError)
    assert tracker.to_json() == before


def test_an_event_may_name_its_ticket_as_a_number():
    tracker = Tracker(POLICIES, "42")
    tracker.feed(created(ticket_id=42))
    assert tracker.snapshot("2026-03-02T09:00:00Z")


# ---------------------------------------------------------- stored state
def stored() -> dict:
    """The state of a tracker fed three events, through JSON."""
    tracker = Tracker(POLICIES, "T")
    tracker.feed(created())
    tracker.feed({"at": "2026-03-02T09:00:00Z", "type": "status", "status": "pending"})
    tracker.feed({"at": "2026-03-02T09:30:00Z", "type": "status", "status": "open"})
    return json.loads(json.dumps(tracker.to_json()))


def _set(path: tuple, value):
    def damage(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return damage


_DELETE = object()
_CYCLE = ("clock", "metrics", "first_response", "cycles", 0)


@pytest.mark.parametrize(
    ("damage", "path", "words"),
    [
        (_set(("version",), _DELETE), "version", "the key is missing; expected 1"),
        (_set(("version",), 2), "version", "unknown tracker state version 2; expected 1"),
        (_set(("version",), "1"), "version", "version '1'; expected 1"),
        (_set(("ticket_id",), _DELETE), "ticket_id", "the key is missing; store what Tracker.to_json"),
        (_set(("ticket_id",), 7), "ticket_id", "expected a string, got int 7"),
        (_set(("seq",), _DELETE), "seq", "the key is missing"),
        (_set(("seq",), "x"), "seq", "expected the number of events fed (an integer), got str 'x'"),
        (_set(("seq",), -1), "seq", "out of range"),
        (_set(("rules",), 5), "rules", "expected a string"),
        (_set(("rules",), "0123456789abcdef"), "rules", "other clock rules"),
        (_set(("clock",), _DELETE), "clock", "the key is missing"),
        (_set(("clock",), "nonsense"), "clock", "expected an object, got str 'nonsense'"),
        (_set(("clock",), {}), "clock.status", "the key is missing"),
        (_set(("clock", "status"), 3), "clock.status", "expected a string or null, got int 3"),
        (_set(("clock", "fields"), []), "clock.fields", "expected an object, got list []"),
        (_set(("clock", "fields"), {1: "x"}), "clock.fields", "keys must be strings"),
        (_set(("clock", "history"), {}), "clock.history", "expected a list of [at, attributes]"),
        (_set(("clock", "history", 0), [1]), "clock.history[0]", "got 1 items"),
        (
            _set(("clock", "history", 0, 0), "2026-03-02T08:00:00Z"),
            "clock.history[0][0]",
            "expected epoch microseconds (an integer), got str",
        ),
        (_set(("clock", "history", 0, 0), 10**30), "clock.history[0][0]", "out of range"),
        (_set(("clock", "history", 0, 1), None), "clock.history[0][1]", "expected an object of attributes"),
        (_set(("clock", "last_at"), None), "clock", "must all be set (events fed) or all be empty"),
        (_set(("clock", "history"), []), "clock", "must all be set"),
        (_set(("clock", "last_at"), 0), "clock.last_at", "cannot come before created_at"),
        (_set(("clock", "created_at"), True), "clock.created_at", "got bool True"),
        (_set(("clock", "metrics"), []), "clock.metrics", "expected an object"),
        (_set(("clock", "metrics", "resolution"), _DELETE), "clock.metrics", "no state for 'resolution'"),
        (
            _set(("clock", "metrics", "requester_wait"), {"seen_response": False, "cycles": []}),
            "clock.metrics",
            "a state for 'requester_wait', which the policy file does not run",
        ),
        (
            _set(("clock", "metrics", "first_response", "seen_response"), "no"),
            "clock.metrics.first_response.seen_response",
            "expected true or false, got str 'no'",
        ),
        (
            _set(("clock", "metrics", "first_response", "cycles"), None),
            "clock.metrics.first_response.cycles",
            "expected a list of cycles",
        ),
        (_set((*_CYCLE[:-1], 0), [1, 2]), "clock.metrics.first_response.cycles[0]", "expected 6 or 7 items"),
        (_set((*_CYCLE, 0), 2), "clock.metrics.first_response.cycles[0][0]", "expected the cycle number 1"),
        (_set((*_CYCLE, 1), "x"), "clock.metrics.first_response.cycles[0][1]", "epoch microseconds"),
        (_set((*_CYCLE, 2), 0), "clock.metrics.first_response.cycles[0][2]", "cannot end before it starts"),
        (_set((*_CYCLE, 3), "maybe"), "clock.metrics.first_response.cycles[0][3]", "expected null, 'stop'"),
        (_set((*_CYCLE, 4), [[1]]), "clock.metrics.first_response.cycles[0][4][0]", "a [from, to] pair"),
        (
            _set((*_CYCLE, 4), [[5, 1]]),
            "clock.metrics.first_response.cycles[0][4][0]",
            "end before it starts",
        ),
        (_set((*_CYCLE, 5), "soon"), "clock.metrics.first_response.cycles[0][5]", "or null, got str"),
    ],
)
def test_a_malformed_state_is_a_located_state_error(damage, path, words):
    state = stored()
    Tracker.from_json(POLICIES, state)  # the undamaged state restores
    damage(state)
    with pytest.raises(StateError) as info:
        Tracker.from_json(POLICIES, state)
    error = info.value
    assert isinstance(error, SlaError) and isinstance(error, ValueError)
    assert error.path == path
    assert words in error.reason
    assert str(error).startswith("tracker state") and f"at {path}: " in str(error)


def test_a_state_from_another_policy_file_is_refused_unless_only_targets_changed():
    state = stored()
    other_metrics = load_policies("policies: [{name: a, targets: {first_response: 1h}}]")
    with pytest.raises(StateError, match="replay the ticket's events"):
        Tracker.from_json(other_metrics, state)
    # Same metrics, but pending pauses resolution now: other clock rules.
    other_rules = load_policies("""
metrics:
  resolution: {pause_statuses: [pending]}
policies:
  - name: office
    targets: {first_response: 2h, resolution: 1d}
""")
    with pytest.raises(StateError, match="other clock rules") as info:
        Tracker.from_json(other_rules, state)
    assert info.value.path == "rules"
    # Other targets, calendars and warnings judge the same clock: fine.
    retargeted = load_policies("policies: [{name: other, targets: {first_response: 4h, resolution: 3d}}]")
    rows = Tracker.from_json(retargeted, state).snapshot("2026-03-02T12:00:00Z")
    assert [(r.policy, r.target) for r in rows] == [
        ("other", timedelta(hours=4)),
        ("other", timedelta(days=3)),
    ]


def test_a_state_without_the_rules_fingerprint_still_restores():
    state = stored()
    del state["rules"]
    assert Tracker.from_json(POLICIES, state).to_json() == stored()


def test_the_rules_fingerprint_does_not_depend_on_hashing():
    code = (
        "from sla import load_policies; from sla.engine.tracker import rules_digest; "
        "print(rules_digest(load_policies('policies/b2b-tiers.yaml')))"
    )
    root = Path(__file__).resolve().parents[1]
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
