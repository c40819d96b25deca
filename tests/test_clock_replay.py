"""A ticket's clock built from the recipe of its shape (sla.engine.replay,
the interpreted engine's way) is the clock the state machine gives: on
random metrics (every trigger kind, every cycle mode, pauses) and random
histories, a ticket of the same shape as one run before (the same kinds,
statuses, authors and public flags, the same events sharing an instant)
but with other instants, other gaps between them, another ``now`` between
the same events and other field values, whole state for state; and a
ticket one part of a shape away is not built from that shape's recipe."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clock_support import DONE, METRICS, SHAPE_METRICS, STATUSES, history
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine import engine_kind, replay
from sla.engine.clock import ClockPlan, TicketClock
from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event
from sla.engine.metrics import BUILTIN_METRICS, MetricDef, Trigger
from sla.engine.replay import fed_clock

#: Mostly metrics that can be replayed; the others must run the machine.
_ANY_METRICS = st.one_of(SHAPE_METRICS, SHAPE_METRICS, SHAPE_METRICS, METRICS)
#: The built-in metrics but group_ownership (which reads a field).
_BY_SHAPE = tuple(m for name, m in BUILTIN_METRICS.items() if name != "group_ownership")


def _fed(plan: ClockPlan, events: list[Event], now: int) -> TicketClock | None:
    """The state machine's clock, without recipes."""
    clock = TicketClock(plan, DONE)
    clock.feed_all(events, now)
    return clock if clock.created_at is not None else None


def _whole_state(clock: TicketClock | None) -> object:
    if clock is None:
        return None
    state = clock.to_json()
    # Also what to_json leaves out: the attributes and each metric's last cycle.
    state["attributes"] = dict(clock.attributes)
    state["last"] = [None if m.last is None else m.last.to_json() for m in clock.metrics]
    assert all(m.last is (m.cycles[-1] if m.cycles else None) for m in clock.metrics)
    return json.loads(json.dumps(state))


def _event_takes_an_integer_flag() -> bool:
    try:
        Event(0, MESSAGE, author="agent", public=1)  # type: ignore[arg-type]
    except TypeError:  # compiled: the flag is typed, as every event read from a file has it
        return False
    return True


_INT_FLAGS_PASS = _event_takes_an_integer_flag()


@st.composite
def _same_shape(draw: st.DrawFn, events: list[Event], now: int) -> tuple[list[Event], int]:
    """Another ticket of the shape of ``events`` up to ``now``: the instants
    mapped in order onto others (new gaps, the same ones equal), ``now``
    between the same two of them, other field values, and public flags given
    as the integers equal to them (the API lets them through)."""
    instants = sorted({e.at for e in events})
    start = draw(st.integers(-(10**12), 10**12))
    gaps = draw(st.lists(st.integers(1, 10**10), min_size=len(instants), max_size=len(instants)))
    mapped, at = {}, start
    for old, gap in zip(instants, gaps, strict=True):
        mapped[old] = at
        at += gap
    before = [mapped[i] for i in instants if i <= now]
    after = [mapped[i] for i in instants if i > now]
    low = before[-1] if before else start - 10**10
    high = after[0] - 1 if after else low + 10**10
    other_now = draw(st.integers(low, high))
    values = st.sampled_from(["vendor", "billing", "x", None, 3])
    other: list[Event] = []
    for event in events:
        fields = event.fields
        if fields:
            fields = {name: draw(values) for name in fields}
        public = event.public
        if _INT_FLAGS_PASS and draw(st.booleans()):
            public = int(public)  # type: ignore[assignment]  # (1 == True: the same shape)
        other.append(
            Event(
                mapped[event.at],
                event.kind,
                event.seq,
                fields=fields,
                status=event.status,
                author=event.author,
                public=public,
            )
        )
    return other, other_now


@settings(max_examples=500, deadline=None)
@given(
    data=st.data(), metrics=_ANY_METRICS, events=history(), builtin=st.booleans(), now=st.integers(-1, 10**11)
)
def test_a_clock_built_from_a_recipe_is_the_machine_s(data, metrics, events, builtin, now) -> None:
    chosen = _BY_SHAPE if builtin else metrics
    plan = ClockPlan(chosen)
    first = fed_clock(plan, DONE, None, events, now, by_shape=True)
    assert _whole_state(first) == _whole_state(_fed(ClockPlan(chosen), events, now))
    recorded = dict(plan.recipes)
    assert len(recorded) == (1 if plan.replayable and first is not None else 0)
    other, other_now = data.draw(_same_shape(events, now))
    second = fed_clock(plan, DONE, None, other, other_now, by_shape=True)
    assert plan.recipes == recorded  # the second ticket's shape is the first's: built from its recipe
    assert _whole_state(second) == _whole_state(_fed(ClockPlan(chosen), other, other_now))


@st.composite
def _one_shape_away(draw: st.DrawFn, events: list[Event]) -> list[Event]:
    """``events`` with one part of their shape changed: two events made to
    share an instant or not, or one event's kind, status, author or public flag."""
    change = draw(st.sampled_from(["instant", "kind", "status", "author", "public"]))
    messages = [i for i, e in enumerate(events) if e.kind == MESSAGE]
    if change in ("author", "public") and messages:
        i = draw(st.sampled_from(messages))  # (a message's author or flag)
    else:
        i = draw(st.integers(1, len(events) - 1))
    other = list(events)
    if change == "instant":
        gap = events[i].at - events[i - 1].at
        by = 1 if gap == 0 else -gap  # later ones move along: the order holds
        other[i:] = [_at(e, e.at + by) for e in events[i:]]
        return other
    event = events[i]
    kind, status, author, public = event.kind, event.status, event.author, event.public
    if change == "kind":  # (the rest as it was: only the kind differs)
        kind = draw(st.sampled_from([k for k in (CREATED, MESSAGE, STATUS, UPDATE, CSAT) if k != event.kind]))
    elif change == "status" or event.kind != MESSAGE:
        status = draw(st.sampled_from([s for s in STATUSES if s != event.status]))
    elif change == "author":
        author = draw(st.sampled_from([a for a in ("customer", "agent", "bot") if a != event.author]))
    else:
        public = not public
    other[i] = Event(
        event.at, kind, event.seq, fields=event.fields, status=status, author=author, public=public
    )
    return other


def _at(event: Event, at: int) -> Event:
    return Event(
        at,
        event.kind,
        event.seq,
        fields=event.fields,
        status=event.status,
        author=event.author,
        public=event.public,
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data(), metrics=_ANY_METRICS, events=history(), builtin=st.booleans())
def test_a_ticket_one_shape_away_is_not_built_from_the_recipe(data, metrics, events, builtin) -> None:
    if len(events) < 2:
        return
    chosen = _BY_SHAPE if builtin else metrics
    plan = ClockPlan(chosen)
    fed_clock(plan, DONE, None, events, 10**12, by_shape=True)
    other = data.draw(_one_shape_away(events))
    clock = fed_clock(plan, DONE, None, other, 10**12, by_shape=True)
    assert _whole_state(clock) == _whole_state(_fed(ClockPlan(chosen), other, 10**12))
    # And a ticket of that new shape (a second created event, say) from its recipe:
    third, third_now = data.draw(_same_shape(other, 10**12))
    clock = fed_clock(plan, DONE, None, third, third_now, by_shape=True)
    assert _whole_state(clock) == _whole_state(_fed(ClockPlan(chosen), third, third_now))


def test_the_built_in_metrics_replay_and_a_metric_reading_fields_does_not() -> None:
    assert ClockPlan(BUILTIN_METRICS.values()).replayable is False  # group_ownership
    without = list(_BY_SHAPE)
    assert ClockPlan(without).replayable is True
    on_field = MetricDef("m", start=(Trigger("field_set", field_name="tier"),), stop=(Trigger("done"),))
    assert ClockPlan([*without, on_field]).replayable is False
    paused = MetricDef("m", start=(Trigger("created"),), stop=(Trigger("done"),), pause_when=lambda _: True)
    assert ClockPlan([*without, paused]).replayable is False


_TICKET = [
    Event(0, CREATED, fields={"tier": "gold"}, status="open"),
    Event(60_000_000, MESSAGE, 1, author="agent"),
    Event(60_000_000, STATUS, 2, status="pending"),
    Event(120_000_000, MESSAGE, 3, author="customer"),
    Event(180_000_000, UPDATE, 4, fields={"tier": "silver"}),
    Event(240_000_000, STATUS, 5, status="solved"),
]
_METRICS = list(_BY_SHAPE)


def _shifted(events: list[Event], by: int) -> list[Event]:
    return [
        Event(e.at + by, e.kind, e.seq, fields=e.fields, status=e.status, author=e.author, public=e.public)
        for e in events
    ]


def test_derive_rules_run_the_machine_every_time() -> None:
    plan = ClockPlan(_METRICS)
    for by in (0, 10**9):
        clock = fed_clock(
            plan,
            DONE,
            lambda fields: {**fields, "derived": True},
            _shifted(_TICKET, by),
            10**12,
            by_shape=True,
        )
        assert clock is not None and clock.attributes["derived"] is True
    assert plan.recipes == {}


def test_events_out_of_order_are_refused_though_their_shape_was_seen() -> None:
    plan = ClockPlan(_METRICS)
    assert fed_clock(plan, DONE, None, _TICKET, 10**12, by_shape=True) is not None
    swapped = [_TICKET[0], _TICKET[3], _TICKET[1], _TICKET[2], *_TICKET[4:]]
    with pytest.raises(ValueError, match="time order"):
        fed_clock(plan, DONE, None, swapped, 10**12, by_shape=True)


def test_a_ticket_created_after_now_has_no_clock_and_no_recipe() -> None:
    plan = ClockPlan(_METRICS)
    assert fed_clock(plan, DONE, None, _shifted(_TICKET, 10**12), 10**11, by_shape=True) is None
    assert plan.recipes == {}


def test_a_status_that_does_not_hash_is_refused_and_recorded_nowhere() -> None:
    plan = ClockPlan(_METRICS)
    with pytest.raises(TypeError):
        # (compiled, the event refuses it; interpreted, the machine, once the
        # shape has been found not to hash)
        odd = [*_TICKET[:2], Event(60_000_000, STATUS, 2, status=["pending"])]  # type: ignore[arg-type]
        fed_clock(plan, DONE, None, odd, 10**12, by_shape=True)
    assert plan.recipes == {}


def test_recipes_stop_being_recorded_past_the_bound() -> None:
    plan = ClockPlan(_METRICS)
    for n in range(replay.MAX_RECIPES):
        plan.recipes[(frozenset({str(n)}), ())] = (None, (), ())
    plan.tickets_keyed = plan.tickets_replayed = 10**6  # (recipes that serve)
    assert _whole_state(fed_clock(plan, DONE, None, _TICKET, 10**12, by_shape=True)) == _whole_state(
        _fed(ClockPlan(_METRICS), _TICKET, 10**12)
    )
    assert len(plan.recipes) == replay.MAX_RECIPES and plan.replayable


def _unique_shape(n: int) -> list[Event]:
    """A ticket whose shape no other n has: its statuses spell n in binary."""
    return [Event(0, CREATED, fields={"n": n}, status="open")] + [
        Event(k + 1, STATUS, k + 1, status="open" if n >> k & 1 else "pending") for k in range(14)
    ]


def test_a_plan_whose_tickets_rarely_share_a_shape_stops_looking_them_up() -> None:
    plan = ClockPlan(_METRICS)
    for n in range(replay.MAX_RECIPES):
        fed_clock(plan, DONE, None, _unique_shape(n), 10**12, by_shape=True)
    assert plan.replayable and plan.tickets_keyed == replay.MAX_RECIPES and plan.tickets_replayed == 0
    last = fed_clock(plan, DONE, None, _unique_shape(replay.MAX_RECIPES), 10**12, by_shape=True)
    assert not plan.replayable  # no ticket in 10,001 shared a shape
    assert _whole_state(last) == _whole_state(
        _fed(ClockPlan(_METRICS), _unique_shape(replay.MAX_RECIPES), 10**12)
    )
    again = fed_clock(
        plan, DONE, None, _unique_shape(0), 10**12, by_shape=True
    )  # (its recipe is there, unused now)
    assert plan.tickets_keyed == replay.MAX_RECIPES + 1
    assert _whole_state(again) == _whole_state(_fed(ClockPlan(_METRICS), _unique_shape(0), 10**12))


def test_events_given_as_another_iterable_run_the_machine() -> None:
    plan = ClockPlan(_METRICS)
    clock = fed_clock(plan, DONE, None, iter(_TICKET), 10**12, by_shape=True)
    assert _whole_state(clock) == _whole_state(_fed(ClockPlan(_METRICS), _TICKET, 10**12))
    assert plan.recipes == {}


def test_statuses_are_part_of_the_shape() -> None:
    plan = ClockPlan(_METRICS)
    fed_clock(plan, DONE, None, _TICKET, 10**12, by_shape=True)
    on_hold = [*_TICKET[:2], Event(60_000_000, STATUS, 2, status="on_hold"), *_TICKET[3:]]
    clock = fed_clock(plan, DONE, None, on_hold, 10**12, by_shape=True)
    assert len(plan.recipes) == 2
    assert _whole_state(clock) == _whole_state(_fed(ClockPlan(_METRICS), on_hold, 10**12))


def test_the_interpreted_engine_builds_clocks_from_recipes_and_the_compiled_one_runs_the_machine() -> None:
    interpreted = engine_kind() == "interpreted"
    assert replay.REPLAY_PAYS is interpreted
    plan = ClockPlan(_METRICS)
    for by in (0, 10**9):
        clock = fed_clock(plan, DONE, None, _shifted(_TICKET, by), 10**12)
        assert _whole_state(clock) == _whole_state(_fed(ClockPlan(_METRICS), _shifted(_TICKET, by), 10**12))
    assert (plan.tickets_keyed, plan.tickets_replayed) == ((2, 1) if interpreted else (0, 0))
    machine_only = ClockPlan(_METRICS)
    for by in (0, 10**9):
        fed_clock(machine_only, DONE, None, _shifted(_TICKET, by), 10**12, by_shape=False)
    assert machine_only.recipes == {} and machine_only.tickets_keyed == 0
