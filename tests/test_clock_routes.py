"""The clock's routes: a status event that neither makes the ticket done nor
reopens it goes only to the metrics it can change (``quiet_status_route``).
On random metrics (every trigger kind, pauses by status and by condition,
every cycle mode) and random histories, the clocks are what they are when
every metric sees every status event."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from clock_support import DONE, METRICS, history
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sla.engine.clock import ClockPlan, MetricClock, TicketClock
from sla.engine.events import CREATED, MESSAGE, STATUS, Event
from sla.engine.metrics import BUILTIN_METRICS, MetricDef, Trigger


def _state(clock: TicketClock) -> object:
    return clock.to_json()["metrics"]


def _entering(status: str) -> tuple[Trigger, ...]:
    return (Trigger("status_entered", frozenset({status})),)


_OPEN_THEN = [Event(0, CREATED, fields={}, status="open"), Event(5, STATUS, 1, status="pending")]
_ANSWERED_THEN = [
    Event(0, CREATED, fields={}, status="open"),
    Event(5, MESSAGE, 1, author="agent"),
    Event(9, STATUS, 2, status="pending"),
]


@settings(max_examples=600, deadline=None)
@given(metrics=METRICS, events=history(), builtin=st.booleans())
# A quiet status that starts, stops or resumes a cycle of a metric without pauses:
@example(metrics=(MetricDef("m", start=_entering("pending"), stop=()),), events=_OPEN_THEN, builtin=False)
@example(
    metrics=(MetricDef("m", start=(Trigger("created"),), stop=_entering("pending")),),
    events=_OPEN_THEN,
    builtin=False,
)
@example(
    metrics=(
        MetricDef(
            "m",
            start=(Trigger("created"),),
            stop=(Trigger("response"),),
            resume=_entering("pending"),
            cycles="resume",
        ),
    ),
    events=_ANSWERED_THEN,
    builtin=False,
)
def test_quiet_status_events_skip_only_metrics_they_cannot_change(metrics, events, builtin) -> None:
    chosen = tuple(BUILTIN_METRICS.values()) if builtin else metrics
    routed = ClockPlan(chosen)
    everyone = ClockPlan(chosen)
    everyone.quiet_status_route = everyone.routes[STATUS]
    a, b = TicketClock(routed, DONE), TicketClock(everyone, DONE)
    a.feed_all(events)
    b.feed_all(events)
    assert _state(a) == _state(b)


def test_the_built_in_metrics_a_quiet_status_leaves_alone() -> None:
    names = ClockPlan(BUILTIN_METRICS.values()).names
    routed = ClockPlan(BUILTIN_METRICS.values())
    assert sorted(names[i] for i in routed.quiet_status_route) == [
        "agent_work",
        "pausable_update",
        "requester_wait",
    ]


@settings(max_examples=400, deadline=None)
@given(metrics=METRICS, events=history(), builtin=st.booleans(), cut=st.integers(1, 15))
def test_a_clock_saved_and_restored_midway_goes_on_as_one_fed_whole(metrics, events, builtin, cut) -> None:
    # Each metric's clock keeps its last cycle at hand (MetricClock.last):
    # it must follow every cycle started, and come back with a saved state.
    chosen = tuple(BUILTIN_METRICS.values()) if builtin else metrics
    plan = ClockPlan(chosen)
    whole = TicketClock(plan, DONE)
    whole.feed_all(events)
    first = TicketClock(plan, DONE)
    first.feed_all(events[:cut])
    restored = TicketClock.from_json(json.loads(json.dumps(first.to_json())), chosen, DONE)
    restored.feed_all(events[cut:])
    assert _state(restored) == _state(whole)
    for clock in (whole, restored):
        for metric_clock in clock.metrics:
            assert metric_clock.last is (metric_clock.cycles[-1] if metric_clock.cycles else None)


#: MetricClock's fields (the interpreted class's slots; compiled, a native
#: class keeps no __slots__).
_METRIC_CLOCK_FIELDS = getattr(MetricClock, "__slots__", ("metric", "cycles", "last", "seen_response"))


def _fields(metric_clock: MetricClock) -> dict[str, object]:
    return {name: getattr(metric_clock, name) for name in _METRIC_CLOCK_FIELDS}


def test_a_ticket_clocks_metric_clocks_start_as_the_constructor_makes_them() -> None:
    # Interpreted, TicketClock sets each metric clock's fields itself rather
    # than calling MetricClock.__init__: both must give the same fresh clock.
    plan = ClockPlan(BUILTIN_METRICS.values())
    made = TicketClock(plan, DONE).metrics
    assert [_fields(c) for c in made] == [_fields(MetricClock(m)) for m in plan.metrics]
    assert len({id(c.cycles) for c in made}) == len(made)  # a list of its own each
