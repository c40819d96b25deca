"""Invariants of the engine on random ticket histories (hypothesis).

- batch evaluation equals the incremental tracker, however events are
  chunked and whether or not its state goes through JSON between chunks;
- shuffling input lines with distinct timestamps changes nothing;
- elapsed never exceeds the cycle's wall time, paused time is never counted;
- breached iff remaining < 0; paused stretches are disjoint and inside the cycle;
- a ticket's rows do not depend on the other tickets of the batch.
"""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendar.index import Calendar
from sla.engine.batch import evaluate_many, evaluate_ticket
from sla.engine.clock import Cycle
from sla.engine.jsonl import read_jsonl
from sla.engine.judge import _judge, _stretches, reach_instant
from sla.engine.tracker import Tracker
from sla.io.policy_files import load_policies
from sla.timefmt import format_instant, parse_instant

POLICIES = load_policies("""
derive:
  - when: {channel: twitter}
    set: {group: social}
  - when: {priority: urgent, group: {exists: true}}
    set: {escalated: true}
metrics:
  requester_wait: {pause_statuses: [pending], pause_when: {escalated: true}}
  next_response: {responders: [agent, bot]}
  group_ownership: {pause_statuses: [pending]}
  periodic_update: {responders: [agent, bot]}
calendars:
  berlin:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-12:00", "13:00-17:00"], sat: ["22:00-02:00"]}
    holidays: {dates: ["2026-03-30"]}
  ny:
    timezone: America/New_York
    hours: {sun-thu: ["20:00-04:00"]}
policies:
  - name: social-april
    effective: {from: 2026-04-01}
    match: {channel: [twitter, facebook]}
    targets: {first_response: 15m, group_ownership: 2h, periodic_update: 1h}
  - name: social
    match: {channel: [twitter, facebook]}
    targets:
      first_response: 30m
      next_response: 20m
      resolution: {within: 1d, hours: calendar}
      group_ownership: {within: 6h, hours: calendar}
      pausable_update: 2h
  - name: ny
    match: {region: amer}
    calendar: ny
    targets: {first_response: {urgent: 1h, default: 4h}, resolution: 8h, agent_work: 6h}
  - name: standard
    calendar: berlin
    targets:
      first_response: {urgent: 1h, high: 2h, default: 8h}
      next_response: 4h
      resolution: {urgent: {within: 8h, hours: calendar}, default: 2d}
      requester_wait: 16h
      agent_work: {default: 0}
      group_ownership: {urgent: 1h, default: 4h}
      periodic_update: 3h
      pausable_update: 3h
""")

BASE = parse_instant("2026-03-26T06:00:00Z")  # spans the Berlin and the NY... DST weeks
STATUSES = ["open", "pending", "on_hold", "solved", "closed", "new"]


@st.composite
def histories(draw, ticket_id: str = "T"):
    """One ticket's events as dicts in processing order (times distinct or equal)."""
    n = draw(st.integers(0, 14))
    t = BASE + draw(st.integers(0, 10 * 86400)) * 1_000_000
    fields = {
        "channel": draw(st.sampled_from(["email", "twitter", "chat"])),
        "priority": draw(st.sampled_from(["low", "high", "urgent", None])),
    }
    if draw(st.booleans()):
        fields["region"] = "amer"
    created = {"ticket_id": ticket_id, "at": format_instant(t), "type": "created", "fields": fields}
    if draw(st.integers(0, 5)) == 0:
        created["status"] = draw(st.sampled_from(STATUSES))
    events = [created]
    for _ in range(n):
        t += draw(st.sampled_from([0, 1, 60, 900, 3600, 5 * 3600, 86400, 3 * 86400])) * 1_000_000
        kind = draw(st.sampled_from(["message", "message", "status", "status", "update", "csat"]))
        event = {"ticket_id": ticket_id, "at": format_instant(t), "type": kind}
        if kind == "message":
            event["author"] = draw(st.sampled_from(["customer", "agent", "bot"]))
            if draw(st.integers(0, 4)) == 0:
                event["public"] = False
        elif kind == "status":
            event["status"] = draw(st.sampled_from(STATUSES))
        elif kind == "update":
            event["fields"] = draw(
                st.sampled_from(
                    [
                        {"priority": "urgent"},
                        {"channel": "twitter"},
                        {"channel": "email"},
                        {"region": "amer"},
                        {"region": "emea"},
                        {"group": "tier2"},
                        {"group": "tier1", "priority": "urgent"},
                        {"group": None},
                    ]
                )
            )
        else:
            event["score"] = draw(st.integers(1, 5))
        events.append(event)
    now = (
        t
        + draw(st.sampled_from([0, 1, 3600, 86400 * 2])) * 1_000_000
        - draw(st.sampled_from([0, 0, 7200])) * 1_000_000
    )
    return events, now


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _rows(results):
    return [r.to_row() for r in results]


@FAST
@given(histories(), st.randoms(use_true_random=False))
def test_tracker_equals_batch_however_chunked(history, rnd):
    events, now = history
    expected = _rows(evaluate_ticket(POLICIES, events, now, ticket_id="T"))
    fed = [e for e in events if parse_instant(e["at"]) <= now]
    tracker = Tracker(POLICIES, "T")
    for event in fed:
        tracker.feed(event)
        if rnd.random() < 0.3:  # store and restore between chunks, as a product would
            tracker = Tracker.from_json(POLICIES, json.loads(json.dumps(tracker.to_json())))
        if rnd.random() < 0.3:  # snapshots in between must not disturb the state
            tracker.snapshot(parse_instant(event["at"]))
    assert _rows(tracker.snapshot(now, with_warnings=False)) == expected


@FAST
@given(histories())
def test_invariants_of_every_row(history):
    events, now = history
    for result in evaluate_ticket(POLICIES, events, now, ticket_id="T"):
        end = result.ended_at if result.ended_at is not None else now
        wall = end - result.started_at
        assert 0 <= result.elapsed_us <= wall
        assert result.elapsed_us + result.paused_us <= wall
        assert result.breached == (result.remaining_us < 0) == (result.state == "breached")
        previous_end = result.started_at
        for a, b in result.paused:
            assert previous_end <= a, "stretches overlap or leave the cycle"
            if b is None:
                assert result.ended_at is None and result.state in ("paused", "breached")
                b = now
            assert a <= b <= end
            assert b > a or result.ended_at is None
            previous_end = b
        assert result.paused_us == sum((b if b is not None else now) - a for a, b in result.paused)
        if result.state in ("achieved", "cancelled"):
            assert result.ended_at is not None
        if result.due_at is not None and result.breached:
            assert result.due_at <= end


@FAST
@given(histories(), st.integers(0, 2**32))
def test_shuffling_distinct_instants_changes_nothing(history, seed):
    events, now = history
    seen, distinct = set(), []
    for e in events:
        if e["at"] not in seen:
            seen.add(e["at"])
            distinct.append(e)
    shuffled = distinct[:]
    random.Random(seed).shuffle(shuffled)
    assert _rows(evaluate_ticket(POLICIES, shuffled, now, ticket_id="T")) == _rows(
        evaluate_ticket(POLICIES, distinct, now, ticket_id="T")
    )


@FAST
@given(histories("A"), histories("B"))
def test_tickets_are_independent(first, second):
    events_a, now = first
    events_b, _ = second
    lines = [json.dumps(e) for e in events_a + events_b]
    tickets, errors = read_jsonl(lines)
    assert not errors
    together = [r.to_row() for r in evaluate_many(POLICIES, tickets.values(), now)]
    alone = _rows(evaluate_ticket(POLICIES, events_a, now, ticket_id="A")) + _rows(
        evaluate_ticket(POLICIES, events_b, now, ticket_id="B")
    )
    assert together == alone


@FAST
@given(histories())
def test_elapsed_never_decreases_as_now_advances(history):
    # With no new event (and so no re-targeting), time only adds elapsed time.
    events, now = history
    events = [e for e in events if parse_instant(e["at"]) <= now]
    if not events:
        return
    earlier = {
        (r.metric, r.cycle): r.elapsed_us for r in evaluate_ticket(POLICIES, events, now, ticket_id="T")
    }
    for step in (1, 3_600_000_000, 5 * 86_400_000_000):
        later = {
            (r.metric, r.cycle): r.elapsed_us
            for r in evaluate_ticket(POLICIES, events, now + step, ticket_id="T")
        }
        assert later.keys() == earlier.keys()
        for key, value in earlier.items():
            assert later[key] >= value


# ------------------------------------------------ judging a closed cycle
_HOUR_US = 3_600_000_000
_WEEKDAYS = Calendar.from_dict({"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}})


@settings(max_examples=600, deadline=None)
@given(
    st.integers(0, 400),  # start, in hours after a Monday
    st.lists(st.integers(0, 200), min_size=2, max_size=8),  # instants after the start, in hours
    st.integers(0, 3),  # how many of them are closed pauses (pairs)
    st.sampled_from(["none", "at_end", "after_end", "before_end"]),  # the pause going on
    st.integers(0, 100),  # the target, in hours
)
def test_a_closed_cycle_is_judged_as_its_running_stretches_give(start_h, offsets, pairs, going_on, target_h):
    """A stopped cycle (a resumable one counts as paused from its end) is
    judged by its running stretches, whichever path the judge takes."""
    monday = parse_instant("2026-03-02T00:00:00Z")
    start = monday + start_h * _HOUR_US
    marks = sorted(set(offsets))
    if len(marks) < 2:
        return
    end = start + marks[-1] * _HOUR_US
    inner = [start + h * _HOUR_US for h in marks[:-1]]
    pauses = [(a, b) for a, b in zip(inner[0::2], inner[1::2], strict=False) if a < b][:pairs]
    cycle = Cycle(1, start)
    cycle.end, cycle.ended_by = end, "stop"
    cycle.pauses = list(pauses)
    last = pauses[-1][1] if pauses else start
    cycle.pause_from = {
        "none": None,
        "at_end": end,
        "after_end": end + _HOUR_US,
        "before_end": last if last < end else None,
    }[going_on]
    calendar = _WEEKDAYS
    amount = target_h * _HOUR_US
    applied = (None, None, "p", amount, "business", calendar)
    now = end + 1000 * _HOUR_US
    got = _judge("T", "resolution", cycle, applied, now, False)  # type: ignore[arg-type]
    listed, paused_total, running = _stretches(cycle, end, False)
    due_at, elapsed = reach_instant(calendar, start, running, amount)
    assert (got[9], got[11], got[12], got[13]) == (elapsed, due_at, paused_total, tuple(listed))
    assert got[6] == ("breached" if elapsed > amount else "achieved")
