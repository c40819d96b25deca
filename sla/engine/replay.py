"""A ticket's clock by the shape of its events: how the interpreted engine
runs a batch's clocks (:data:`REPLAY_PAYS`).

The clock's state machine decides a ticket's cycles from its events' kinds,
statuses, authors and public flags, and from which events share an instant,
never from the instants' values (events come in processing order), as long
as no metric of the plan reads the ticket's fields (a pause condition, a
trigger on a field, ownership: :attr:`ClockPlan.replayable`) and no derive
rules rewrite them.  Tickets repeat a few shapes (a run over the 100k-ticket
bench history recorded 1,757 recipes and built 98.2% of its tickets from
them), so
the first ticket of a shape is run through the machine and its clock is
recorded as a recipe, by the indexes of the events at its instants; the
next tickets of that shape are built from the recipe with their own
instants and fields.  The result is the clock the machine gives, field for
field (``tests/test_clock_replay.py`` compares the two on random metrics
and histories).

>>> from sla.engine.events import Event, CREATED, MESSAGE
>>> from sla.engine.metrics import BUILTIN_METRICS
>>> clock_plan = ClockPlan([BUILTIN_METRICS["first_response"]])
>>> def ticket(start):
...     return [Event(start, CREATED, fields={}), Event(start + 60_000_000, MESSAGE, author="agent")]
>>> done = frozenset({"solved"})
>>> first = fed_clock(clock_plan, done, None, ticket(0), 10**12, by_shape=True)
>>> second = fed_clock(clock_plan, done, None, ticket(3_600_000_000), 10**12, by_shape=True)
>>> len(clock_plan.recipes), [(c.start, c.end) for c in second.metrics[0].cycles]
(1, [(3600000000, 3660000000)])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import FunctionType
from typing import Final

from sla.engine.clock import (
    ClockPlan,
    Cycle,
    CycleRecipe,
    EventShape,
    MetricRecipe,
    Recipe,
    ShapeKey,
    TicketClock,
)
from sla.engine.events import CREATED, UPDATE, Event

#: Recipes kept per plan at most: past it, tickets of new shapes are run
#: through the machine without being recorded, and if by then fewer than
#: one ticket in :data:`MIN_REPLAYED` was built from a recipe, the plan stops
#: looking shapes up (histories whose tickets rarely share a shape: long
#: ones, each its own story), which costs about 4% of a run for nothing.
MAX_RECIPES: Final = 10_000
MIN_REPLAYED: Final = 4
#: An instant before any event's (the first event shares no instant).
_BEFORE_ALL: Final = -(1 << 62)


def recipe_of(clock: TicketClock, events: list[Event], count: int) -> Recipe:
    """The recipe of a clock fed the first ``count`` of ``events``: each
    instant of its cycles named by the first of those events at it."""
    first_at: dict[int, int] = {}
    setting_fields: list[int] = []
    for i in range(count):
        event = events[i]
        first_at.setdefault(event.at, i)
        if event.kind == CREATED or event.kind == UPDATE:
            setting_fields.append(i)
    metrics: list[MetricRecipe] = []
    for metric_clock in clock.metrics:
        cycles: list[CycleRecipe] = []
        for cycle in metric_clock.cycles:
            end, pause_from = cycle.end, cycle.pause_from
            cycles.append(
                (
                    first_at[cycle.start],
                    -1 if end is None else first_at[end],
                    cycle.ended_by,
                    tuple([(first_at[start], first_at[stop]) for start, stop in cycle.pauses]),
                    -1 if pause_from is None else first_at[pause_from],
                )
            )
        metrics.append((metric_clock.seen_response, tuple(cycles)))
    return clock.status, tuple(metrics), tuple(setting_fields)


def replay(clock: TicketClock, recipe: Recipe, events: list[Event], count: int) -> None:
    """Build a new clock's state from ``recipe``, with the instants and the
    fields of the first ``count`` of ``events`` (a ticket of the recipe's
    shape): what feeding them would give."""
    status, metrics, setting_fields = recipe
    for metric_clock, (seen_response, cycle_recipes) in zip(clock.metrics, metrics, strict=True):
        metric_clock.seen_response = seen_response
        if cycle_recipes:
            cycles = metric_clock.cycles
            cycle: Cycle | None = None
            for start, end, ended_by, pauses, pause_from in cycle_recipes:
                cycle = Cycle(len(cycles) + 1, events[start].at)
                if end >= 0:
                    cycle.end = events[end].at
                    cycle.ended_by = ended_by
                if pauses:
                    cycle.pauses = [(events[a].at, events[b].at) for a, b in pauses]
                if pause_from >= 0:
                    cycle.pause_from = events[pause_from].at
                cycles.append(cycle)
            metric_clock.last = cycle
    # The fields as the created and update events set them, a snapshot per
    # instant (as TicketClock.feed_all keeps them; no derive rules here).
    fields: dict[str, object] = {}
    history_at, history = clock.history_at, clock.history
    created_at = events[0].at
    for i in setting_fields:
        event = events[i]
        at = event.at
        if event.kind == CREATED:  # (the first event; another, given through the API, starts over)
            fields = dict(event.fields) if event.fields else {}
            created_at = at
        else:
            fields = {**fields, **(event.fields or {})}
        if history_at and history_at[-1] == at:
            history[-1] = fields
        else:
            history_at.append(at)
            history.append(fields)
    clock.status = status
    clock.fields = fields
    clock.attributes = fields
    clock.last_at = events[count - 1].at
    clock.created_at = created_at


#: Whether :func:`fed_clock` builds clocks from recipes by default: interpreted, a
#: ticket's clock from its recipe takes about a third of the machine's
#: bytecodes (the interpreted report: 6.5% fewer instructions a ticket,
#: about 2% less time: see docs/performance.md);
#: compiled, the machine runs faster than the shape is looked up (19.5 k
#: instructions a ticket for the clock against 26.1 k, measured).
REPLAY_PAYS: Final = isinstance(replay, FunctionType)


def fed_clock(
    clock_plan: ClockPlan,
    done_statuses: frozenset[str],
    derive: Callable[[Mapping[str, object]], dict[str, object]] | None,
    events: Iterable[Event],
    now: int,
    by_shape: bool = REPLAY_PAYS,
) -> TicketClock | None:
    """A ticket's clock fed its events (in processing order) up to ``now``;
    None when the ticket was created after ``now``.  With ``by_shape`` (the
    interpreted engine's default, :data:`REPLAY_PAYS`), built from the
    recipe of the ticket's shape when a ticket of that shape was run before
    on this plan, else run through the machine and its recipe recorded (see
    the module); without, always run through the machine."""
    clock = TicketClock(clock_plan, done_statuses, derive)
    if by_shape and derive is None and clock_plan.replayable and isinstance(events, list):
        # (Typed again: narrowed by isinstance it is a list of Any, whose
        # items' fields, compiled, are looked up by name.)
        ticket: list[Event] = events
        shapes: list[EventShape] = []
        previous = _BEFORE_ALL
        for event in ticket:
            at = event.at
            if at > now:
                break
            if at < previous:  # out of order: the machine says so
                shapes.clear()
                break
            shapes.append((at == previous, event.kind, event.status, event.author, event.public))
            previous = at
        if shapes:
            count = len(shapes)
            recipes = clock_plan.recipes
            key: ShapeKey = (done_statuses, tuple(shapes))
            recipe: Recipe | None
            try:
                recipe = recipes.get(key)
                hashable = True
            except TypeError:  # a status or author that does not hash (given through the API)
                recipe, hashable = None, False
            clock_plan.tickets_keyed += 1
            if recipe is not None:
                clock_plan.tickets_replayed += 1
                replay(clock, recipe, ticket, count)
                return clock
            clock.feed_all(ticket, now)
            if hashable and clock.created_at is not None:
                if len(recipes) < MAX_RECIPES:
                    recipes[key] = recipe_of(clock, ticket, count)
                elif clock_plan.tickets_replayed * MIN_REPLAYED < clock_plan.tickets_keyed:
                    clock_plan.replayable = False
            return clock if clock.created_at is not None else None
    clock.feed_all(events, now)
    return clock if clock.created_at is not None else None
