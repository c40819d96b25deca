"""Random metrics and ticket histories for the clock's property tests
(``test_clock_routes.py``, ``test_clock_replay.py``): every trigger kind,
pauses by status and by condition, every cycle mode."""

from __future__ import annotations

from hypothesis import strategies as st

from sla.engine.events import CREATED, MESSAGE, STATUS, UPDATE, Event
from sla.engine.metrics import MetricDef, Trigger

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
DONE = frozenset({"solved", "closed"})
SETS = st.frozensets(st.sampled_from(STATUSES), min_size=1, max_size=3)


def held(attributes: object) -> bool:
    return getattr(attributes, "get", lambda _: None)("waiting") == "vendor"


ON_STATUS = st.builds(Trigger, st.sampled_from(["status_entered", "status_left"]), SETS)
TRIGGERS = st.one_of(
    ON_STATUS,  # (twice as likely as any other: the triggers a quiet status can fire)
    ON_STATUS,
    st.sampled_from(["created", "response", "customer_message", "done", "reopened", "csat"]).map(Trigger),
    st.builds(Trigger, st.sampled_from(["field_set", "field_changed"]), field_name=st.just("waiting")),
    st.builds(
        Trigger,
        st.just("message"),
        authors=st.none() | st.frozensets(st.sampled_from(["customer", "agent", "bot"]), min_size=1),
        public=st.none() | st.booleans(),
    ),
)
LISTS = st.lists(TRIGGERS, max_size=2).map(tuple)
#: Triggers that read no field: the metrics made of them (and no pause
#: condition) can be replayed by shape (sla.engine.replay).
SHAPE_TRIGGERS = TRIGGERS.filter(lambda t: t.kind not in ("field_set", "field_changed"))
SHAPE_LISTS = st.lists(SHAPE_TRIGGERS, max_size=2).map(tuple)


@st.composite
def metric(draw: st.DrawFn, index: int, by_shape: bool = False) -> MetricDef:
    """A random metric; with ``by_shape``, one that reads no field."""
    lists = SHAPE_LISTS if by_shape else LISTS
    return MetricDef(
        f"m{index}",
        start=draw(lists),
        stop=draw(lists),
        resume=draw(lists),
        # (mostly none: a metric without pauses is the one quiet events skip)
        pause_statuses=draw(st.sampled_from([frozenset(), frozenset(), frozenset({"pending", "on_hold"})])),
        cycles=draw(st.sampled_from(["once", "repeat", "resume"])),
        cancel_on_done=draw(st.booleans()),
        needs_prior_response=draw(st.booleans()),
        restart_on_stop=draw(st.booleans()),
        start_needs_open=draw(st.booleans()),
        pause_when=None if by_shape else draw(st.sampled_from([None, None, held])),
    )


METRICS = st.integers(1, 4).flatmap(lambda n: st.tuples(*(metric(i) for i in range(n))))
SHAPE_METRICS = st.integers(1, 4).flatmap(lambda n: st.tuples(*(metric(i, True) for i in range(n))))


@st.composite
def history(draw: st.DrawFn) -> list[Event]:
    events = [Event(0, CREATED, fields={}, status=draw(st.sampled_from(STATUSES)))]
    at = 0
    for seq in range(1, draw(st.integers(0, 14)) + 1):
        at += draw(st.sampled_from([0, 60_000_000, 3_600_000_000]))
        kind = draw(st.sampled_from([MESSAGE, STATUS, STATUS, UPDATE]))
        if kind == MESSAGE:
            author = draw(st.sampled_from(["customer", "agent", "bot"]))
            events.append(Event(at, MESSAGE, seq, author=author, public=draw(st.booleans())))
        elif kind == STATUS:
            events.append(Event(at, STATUS, seq, status=draw(st.sampled_from(STATUSES))))
        else:
            name = draw(st.sampled_from(["waiting", "group"]))  # (group: group_ownership's field)
            value = draw(st.sampled_from(["vendor", "billing", None]))
            events.append(Event(at, UPDATE, seq, fields={name: value}))
    return events
