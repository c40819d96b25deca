"""The clock state machine: one ticket's events in, raw metric cycles out.

No policy is consulted here: a cycle is its start, end, how it ended and its
paused stretches.  Which policy, calendar and target judge a cycle is decided
afterwards (:mod:`sla.engine.judge`), because the spec judges a cycle by the policy in
force at its end.  Feeding events one at a time (``TicketClock.feed``) is the
same as feeding a whole history: batch evaluation is a loop over ``feed``.

The module runs past 400 lines because the state machine is one class whose
transitions (start, stop, resume, restart, ownership, pause) are read
together; splitting them would scatter one table of rules over files.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from types import FunctionType
from typing import Any, Final, final

from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event
from sla.engine.metrics import MetricDef, Trigger
from sla.policy.conditions import equal

ENDED_BY_STOP: Final = "stop"
ENDED_BY_DONE: Final = "done"


class Cycle:
    """One cycle of one metric: ``[start, end)`` with paused stretches."""

    __slots__ = ("number", "start", "end", "ended_by", "pauses", "pause_from", "start_attributes")

    def __init__(self, number: int, start: int, start_attributes: Mapping[str, object] | None = None):
        self.number = number
        self.start = start
        self.end: int | None = None
        self.ended_by: str | None = None
        self.pauses: list[tuple[int, int]] = []  # closed stretches of non-zero length
        self.pause_from: int | None = None  # a pause going on since then
        # For metrics judged at their start: the attributes right after the
        # event that started the cycle (several may share its instant).
        self.start_attributes = start_attributes

    def to_json(self) -> list[object]:
        data: list[object] = [
            self.number,
            self.start,
            self.end,
            self.ended_by,
            [list(p) for p in self.pauses],
            self.pause_from,
        ]
        if self.start_attributes is not None:
            data.append(dict(self.start_attributes))
        return data

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> Cycle:
        """A cycle from :meth:`to_json` data, as decoded from JSON."""
        cycle = cls(data[0], data[1], data[6] if len(data) > 6 else None)
        cycle.end, cycle.ended_by = data[2], data[3]
        cycle.pauses = [tuple(p) for p in data[4]]
        cycle.pause_from = data[5]
        return cycle


class MetricClock:
    """The running state of one metric on one ticket."""

    __slots__ = ("metric", "cycles", "last", "seen_response")

    def __init__(self, metric: MetricDef):
        self.metric = metric
        self.cycles: list[Cycle] = []
        #: The last of ``cycles`` (None before the first): the one an event
        #: may end, resume or follow, at hand without indexing the list.
        self.last: Cycle | None = None
        self.seen_response = False


# Trigger codes: a trigger's kind as a small integer, tested in one place.
# (Final, one per line: compiled, each is then a C constant, not a look-up.)
_T_CREATED: Final = 0
_T_RESPONSE: Final = 1
_T_CUSTOMER: Final = 2
_T_MESSAGE: Final = 3
_T_DONE: Final = 4
_T_REOPENED: Final = 5
_T_CSAT: Final = 6
_T_ENTERED: Final = 7
_T_LEFT: Final = 8
_T_FIELD_SET: Final = 9
_T_FIELD_CHANGED: Final = 10
_TRIGGER_CODES = {
    "created": _T_CREATED,
    "response": _T_RESPONSE,
    "customer_message": _T_CUSTOMER,
    "message": _T_MESSAGE,
    "done": _T_DONE,
    "reopened": _T_REOPENED,
    "csat": _T_CSAT,
    "status_entered": _T_ENTERED,
    "status_left": _T_LEFT,
    "field_set": _T_FIELD_SET,
    "field_changed": _T_FIELD_CHANGED,
}

_TRIGGER_KINDS = {
    "created": (CREATED,),
    "response": (MESSAGE,),
    "customer_message": (MESSAGE,),
    "message": (MESSAGE,),
    "done": (CREATED, STATUS),
    "reopened": (STATUS,),
    "csat": (CSAT,),
    "status_entered": (CREATED, STATUS),
    "status_left": (STATUS,),
    "field_set": (CREATED, UPDATE),
    "field_changed": (UPDATE,),
}
_KINDS = (CREATED, MESSAGE, STATUS, UPDATE, CSAT)


@final
class _Trigger:
    """A trigger compiled for the clock: its code and its refinements."""

    __slots__ = ("code", "statuses", "field_name", "authors", "public")

    def __init__(self, trigger: Trigger):
        self.code: int = _TRIGGER_CODES[trigger.kind]
        self.statuses: frozenset[str] = trigger.statuses
        self.field_name: str | None = trigger.field_name
        self.authors: frozenset[str] | None = trigger.authors
        self.public: bool | None = trigger.public


#: Per event kind (the index), the compiled triggers that can fire on it.
_ByKind = tuple[tuple[_Trigger, ...], ...]


def _by_kind(triggers: tuple[Trigger, ...]) -> _ByKind:
    compiled = [(_Trigger(t), _TRIGGER_KINDS[t.kind]) for t in triggers]
    return tuple(tuple(c for c, kinds in compiled if kind in kinds) for kind in _KINDS)


# Signals: what an event means that a trigger may test, as bits of one
# integer computed once per event.  Messages set one bit per (author, public)
# pair, so a response trigger is the bits of its metric's responders.
_S_CREATED: Final = 1
_S_DONE: Final = 2
_S_REOPENED: Final = 4
_S_CSAT: Final = 8
_AUTHOR_ORDER = ("customer", "agent", "bot")
#: Per author, the signal of its (private, public) message.
_MESSAGE_SIGNALS: Final = {author: (16 << (2 * i), 32 << (2 * i)) for i, author in enumerate(_AUTHOR_ORDER)}
#: Triggers whose firing the signals decide alone; the others look at statuses and fields.
_SIMPLE = frozenset({_T_CREATED, _T_RESPONSE, _T_CUSTOMER, _T_MESSAGE, _T_DONE, _T_REOPENED, _T_CSAT})


def _message_mask(authors: Iterable[str], public: Iterable[bool]) -> int:
    mask = 0
    for author in authors:
        pair = _MESSAGE_SIGNALS.get(author)
        if pair is not None:
            for flag in public:
                mask |= pair[1 if flag else 0]
    return mask


def _signal_mask(trigger: Trigger, responders: frozenset[str]) -> int:
    """The signals on which a simple trigger fires."""
    code = _TRIGGER_CODES[trigger.kind]
    if code == _T_CREATED:
        return _S_CREATED
    if code == _T_DONE:
        return _S_DONE
    if code == _T_REOPENED:
        return _S_REOPENED
    if code == _T_CSAT:
        return _S_CSAT
    if code == _T_RESPONSE:
        return _message_mask(responders, (True,))
    if code == _T_CUSTOMER:
        return _message_mask(("customer",), (True,))
    authors = _AUTHOR_ORDER if trigger.authors is None else tuple(trigger.authors)
    return _message_mask(authors, (False, True) if trigger.public is None else (trigger.public,))


def _masks(triggers: tuple[Trigger, ...], responders: frozenset[str]) -> tuple[int, _ByKind]:
    """The signals of a trigger list's simple triggers, and per event kind its
    other triggers (tested one by one with :func:`_hit`)."""
    mask = 0
    for trigger in triggers:
        if _TRIGGER_CODES[trigger.kind] in _SIMPLE:
            mask |= _signal_mask(trigger, responders)
    rest = tuple(t for t in triggers if _TRIGGER_CODES[t.kind] not in _SIMPLE)
    return mask, _by_kind(rest)


@final
class MetricProgram:
    """A metric definition compiled for the clock's inner loop: per event kind
    the triggers that can fire, their signals as bit masks, and its options
    as plain flags."""

    __slots__ = (
        "metric",
        "start",
        "stop",
        "resume",
        "start_mask",
        "stop_mask",
        "resume_mask",
        "start_rest",
        "stop_rest",
        "resume_rest",
        "response_mask",
        "cancel_on_done",
        "restart_on_stop",
        "repeat",
        "resumable",
        "needs_prior_response",
        "start_needs_open",
        "responders",
        "pause_statuses",
        "pause_when",
        "pausable",
        "owner",
        "minds_quiet_status",
    )

    def __init__(self, metric: MetricDef):
        self.metric = metric
        responders = metric.responders
        # Every trigger per kind (events whose signals are irregular: typed
        # events given through the API with an unknown author).
        self.start = _by_kind(metric.start)
        self.stop = _by_kind(metric.stop)
        self.resume = _by_kind(metric.resume)
        self.start_mask, self.start_rest = _masks(metric.start, responders)
        self.stop_mask, self.stop_rest = _masks(metric.stop, responders)
        self.resume_mask, self.resume_rest = _masks(metric.resume, responders)
        #: The signals of a public response by one of the metric's responders.
        self.response_mask = _message_mask(responders, (True,))
        self.cancel_on_done = metric.cancel_on_done
        self.restart_on_stop = metric.restart_on_stop
        self.repeat = metric.cycles == "repeat"
        self.resumable = metric.cycles == "resume"
        self.needs_prior_response = metric.needs_prior_response
        self.start_needs_open = metric.start_needs_open
        self.responders = responders
        self.pause_statuses = metric.pause_statuses
        self.pause_when = metric.pause_when
        #: Can an open cycle of this metric ever be paused?
        self.pausable = bool(metric.pause_statuses) or metric.pause_when is not None
        self.owner = metric.ownership_field
        #: Can a status event that neither makes the ticket done nor reopens
        #: it change this metric's clock?  Only through a pause status, a
        #: pause condition (tested again at each status event) or a
        #: trigger on statuses entered or left; the signals of such an
        #: event are none.
        self.minds_quiet_status = (
            self.pausable
            or bool(self.start_rest[STATUS])
            or bool(self.stop_rest[STATUS])
            or bool(self.resume_rest[STATUS])
        )


def _hit(
    triggers: tuple[_Trigger, ...],
    event: Event,
    became_done: bool,
    reopened: bool,
    previous_status: str | None,
    previous_fields: Mapping[str, object],
    responders: frozenset[str],
) -> bool:
    """Does any of the triggers fire on the event?  They are those that can
    fire on its kind, so the kind is not tested again."""
    for trigger in triggers:
        code = trigger.code
        if code == _T_RESPONSE:
            if event.public and event.author in responders:
                return True
        elif code in (_T_CREATED, _T_CSAT):
            return True
        elif code == _T_DONE:
            if became_done:
                return True
        elif code == _T_REOPENED:
            if reopened:
                return True
        elif code == _T_CUSTOMER:
            if event.public and event.author == "customer":
                return True
        elif code == _T_ENTERED:
            if event.status in trigger.statuses and previous_status not in trigger.statuses:
                return True
        elif code == _T_LEFT:
            if previous_status in trigger.statuses and event.status not in trigger.statuses:
                return True
        elif code == _T_MESSAGE:
            authors, public = trigger.authors, trigger.public
            if (authors is None or event.author in authors) and (public is None or public == event.public):
                return True
        else:  # field_set, field_changed
            fields, name = event.fields, trigger.field_name
            if fields is None or name is None or name not in fields:
                continue
            new = fields[name]
            old = previous_fields.get(name)
            if code == _T_FIELD_SET:
                if new is not None and new != old:
                    return True
            elif event.kind == UPDATE and name in previous_fields and new != old:
                return True
    return False


@lru_cache(maxsize=256)
def relevant_event_kinds(metric: MetricDef) -> frozenset[int]:
    """The event kinds that can change this metric's clock; others are skipped."""
    kinds = {
        kind
        for trigger in metric.start + metric.stop + metric.resume
        for kind in _TRIGGER_KINDS[trigger.kind]
    }
    if metric.cancel_on_done:
        kinds |= {CREATED, STATUS}
    if metric.pause_statuses:
        kinds.add(STATUS)
    if metric.needs_prior_response:
        kinds.add(MESSAGE)
    if metric.ownership_field is not None:
        kinds |= {CREATED, UPDATE, STATUS}
    if metric.pause_when is not None:
        kinds |= {CREATED, UPDATE}
    return frozenset(kinds)


# A ticket's clock recorded by the shape of its events, to build the clock of
# the next ticket of that shape without running the state machine (see
# sla.engine.replay).  Instants are the indexes of the events at them.
#: A cycle: start, end (-1: none), how it ended, its closed pauses, the
#: pause going on (-1: none).
CycleRecipe = tuple[int, int, str | None, tuple[tuple[int, int], ...], int]
#: A metric's clock: whether it saw a first response, its cycles.
MetricRecipe = tuple[bool, tuple[CycleRecipe, ...]]
#: A ticket's clock: its status, its metrics' clocks (in the plan's order),
#: the indexes of the events that set its fields (created, update).
Recipe = tuple[str | None, tuple[MetricRecipe, ...], tuple[int, ...]]
#: An event's shape: whether it shares the instant of the one before, its
#: kind, status, author and public flag.
EventShape = tuple[bool, int, str | None, str | None, bool]
#: A ticket's shape: the statuses that are done, its events' shapes.
ShapeKey = tuple[frozenset[str], tuple[EventShape, ...]]


@final
class ClockPlan:
    """The metrics in name order, compiled, and per event kind the indexes of
    the metrics it can affect (ownership metrics apart): computed once per
    policy set, shared by every ticket's clock."""

    __slots__ = (
        "metrics",
        "names",
        "programs",
        "routes",
        "owner_routes",
        "quiet_status_route",
        "replayable",
        "recipes",
        "tickets_keyed",
        "tickets_replayed",
    )

    def __init__(self, metrics: Iterable[MetricDef]):
        ordered = tuple(sorted(metrics, key=lambda m: m.name))
        self.metrics: tuple[MetricDef, ...] = ordered
        self.names: tuple[str, ...] = tuple(m.name for m in ordered)
        self.programs: tuple[MetricProgram, ...] = tuple(MetricProgram(m) for m in ordered)
        self.routes: tuple[tuple[int, ...], ...] = tuple(
            tuple(
                i
                for i, m in enumerate(ordered)
                if kind in relevant_event_kinds(m) and m.ownership_field is None
            )
            for kind in _KINDS
        )
        self.owner_routes: tuple[tuple[int, ...], ...] = tuple(
            tuple(
                i
                for i, m in enumerate(ordered)
                if kind in relevant_event_kinds(m) and m.ownership_field is not None
            )
            for kind in _KINDS
        )
        #: The metrics a status event that neither makes the ticket done nor
        #: reopens it can change (ownership metrics apart): the others skip it.
        self.quiet_status_route: tuple[int, ...] = tuple(
            i for i in self.routes[STATUS] if self.programs[i].minds_quiet_status
        )
        #: Do a ticket's events decide its metrics' cycles by their shape alone
        #: (kinds, statuses, authors, public flags, which share an instant)?
        #: Not when a metric reads the ticket's fields: a pause condition, a
        #: trigger on a field, ownership by a field (see sla.engine.replay,
        #: which also sets it false when the plan's recipes rarely serve).
        self.replayable: bool = all(
            metric.pause_when is None
            and metric.ownership_field is None
            and not any(
                _TRIGGER_CODES[trigger.kind] in (_T_FIELD_SET, _T_FIELD_CHANGED)
                for trigger in metric.start + metric.stop + metric.resume
            )
            for metric in ordered
        )
        #: The recipes of the ticket shapes seen so far (sla.engine.replay),
        #: by shape: filled as tickets are run, bounded there.
        self.recipes: dict[ShapeKey, Recipe] = {}
        #: Tickets whose shape was looked up, and those built from a recipe:
        #: what tells recipes that rarely serve to stop (sla.engine.replay).
        self.tickets_keyed = 0
        self.tickets_replayed = 0


def plan(metrics: Iterable[MetricDef]) -> ClockPlan:
    return ClockPlan(metrics)


def _update_pause(
    cycle: Cycle, program: MetricProgram, at: int, status: str | None, attributes: Mapping[str, object]
) -> None:
    """Open, extend or close the cycle's pause after an event at ``at``."""
    end = cycle.end
    if end is not None and not program.resumable:
        pause_from = cycle.pause_from
        if pause_from is not None:  # ended for good: clip the pause to the end
            if end > pause_from:
                cycle.pauses.append((pause_from, end))
            cycle.pause_from = None
        return
    # A stopped resumable cycle counts as paused until it resumes.
    pause_when = program.pause_when
    paused = (
        end is not None
        or status in program.pause_statuses
        or (pause_when is not None and pause_when(attributes))
    )
    if paused:
        if cycle.pause_from is None:
            # A stretch is maximal: a pause that resumes at the instant
            # the last one ended (open then pending at once) continues it.
            pauses = cycle.pauses
            if pauses and pauses[-1][1] == at:
                cycle.pause_from = pauses.pop()[0]
            else:
                cycle.pause_from = at
    elif cycle.pause_from is not None:
        if at > cycle.pause_from:
            cycle.pauses.append((cycle.pause_from, at))
        cycle.pause_from = None


#: An object of a class, made without running its ``__init__``.
_new_object: Final = object.__new__
#: Whether this module's classes are native (compiled): their constructors
#: are then direct calls, and object.__new__ cannot make them.
_NATIVE_CLASSES: Final = not isinstance(_update_pause, FunctionType)


class TicketClock:
    """All metric clocks of one ticket, fed events in processing order.

    >>> from sla.engine.metrics import BUILTIN_METRICS
    >>> from sla.engine.events import Event, CREATED, MESSAGE
    >>> clock = TicketClock([BUILTIN_METRICS["first_response"]], frozenset({"solved"}))
    >>> clock.feed(Event(0, CREATED, fields={}))
    >>> clock.feed(Event(60_000_000, MESSAGE, author="agent"))
    >>> cycle = clock.metrics[0].cycles[0]
    >>> (cycle.start, cycle.end, cycle.ended_by)
    (0, 60000000, 'stop')
    """

    __slots__ = (
        "metrics",
        "done_statuses",
        "status",
        "fields",
        "history_at",
        "history",
        "last_at",
        "created_at",
        "plan",
        "derive",
        "attributes",
    )

    def __init__(
        self,
        metrics: Iterable[MetricDef] | ClockPlan,
        done_statuses: frozenset[str],
        derive: Callable[[Mapping[str, object]], dict[str, object]] | None = None,
    ):
        clock_plan = metrics if isinstance(metrics, ClockPlan) else ClockPlan(metrics)
        self.plan = clock_plan  # the metrics it runs, shared by every ticket's clock
        if _NATIVE_CLASSES:
            self.metrics = [MetricClock(m) for m in clock_plan.metrics]  # direct constructor calls
        else:
            # Interpreted, each metric's clock is made without a call of its
            # __init__ (a frame per metric per ticket), its fields set here as
            # __init__ sets them (tests/test_clock_routes.py compares the two).
            self.metrics = metric_clocks = []
            for metric in clock_plan.metrics:
                metric_clock = _new_object(MetricClock)
                metric_clock.metric = metric
                metric_clock.cycles = []
                metric_clock.last = None
                metric_clock.seen_response = False
                metric_clocks.append(metric_clock)
        self.done_statuses = done_statuses
        self.status: str | None = None
        self.fields: dict[str, object] = {}  # as the events set them
        # The ticket's attributes: the fields after the derive rules, if any.
        self.derive = derive
        self.attributes: Mapping[str, object] = self.fields
        # Attribute snapshots: the attributes in force from history_at[i] on.
        self.history_at: list[int] = []
        self.history: list[Mapping[str, object]] = []
        self.last_at: int | None = None
        self.created_at: int | None = None

    # ---------------------------------------------------------------- feed
    def feed(self, event: Event) -> None:
        """Apply one event; events must come in processing order."""
        self.feed_all((event,))

    def feed_all(self, events: Iterable[Event], until: int | None = None) -> None:
        """Apply events in processing order, as :meth:`feed` does one by one;
        with ``until``, stop before the first event after that instant.

        The clock's state is kept in local variables while the events are
        applied (the engine's inner loop) and stored back at the end, also
        when an event is refused."""
        last_at, created_at = self.last_at, self.created_at
        status, fields, attributes = self.status, self.fields, self.attributes
        done_statuses, derive = self.done_statuses, self.derive
        history_at, history = self.history_at, self.history
        clock_plan = self.plan
        routes, owner_routes = clock_plan.routes, clock_plan.owner_routes
        quiet_status_route = clock_plan.quiet_status_route
        programs = clock_plan.programs
        clocks = self.metrics
        # Whether the status is a done one, kept up to date when it changes
        # (a set look-up per status change, not several per event).
        done = status in done_statuses
        try:
            for event in events:
                at = event.at
                if until is not None and at > until:
                    break
                if last_at is not None and at < last_at:
                    raise ValueError("events must be fed in time order")
                kind = event.kind
                if created_at is None and kind != CREATED:
                    raise ValueError("the first event of a ticket must be its created event")
                last_at = at
                previous_status = status
                previous_fields = fields
                previous_attributes = attributes
                became_done = reopened = False
                # One test of the kind per event: the ticket's state, the metrics the
                # event can affect (its route) and its signals, once for every
                # metric.  An event given through the API with an author or public
                # flag no message can have is irregular: its triggers are all
                # tested one by one.  A public message may be a metric's first
                # response (its author one of the metric's responders).
                regular = True
                public_message = False
                if kind == MESSAGE:
                    route = routes[MESSAGE]
                    author, public = event.author, event.public
                    public_message = public
                    try:
                        private_signals, public_signals = _MESSAGE_SIGNALS[author]  # type: ignore[index]
                    except (KeyError, TypeError):  # unknown, unhashable
                        regular = False
                        signals = 0
                    else:
                        # (Signals count only while regular: a flag that is no
                        # bool, set through the API unchecked, makes it irregular.)
                        regular = type(public) is bool
                        signals = public_signals if public else private_signals
                elif kind == STATUS:
                    status = event.status
                    was_done = done
                    done = status in done_statuses
                    if done == was_done:
                        # Neither done nor reopened: quiet, for the metrics
                        # that mind statuses alone.
                        route = quiet_status_route
                        signals = 0
                    else:
                        route = routes[STATUS]
                        if done:
                            became_done = True
                            signals = _S_DONE
                        else:
                            reopened = True
                            signals = _S_REOPENED
                elif kind == UPDATE:
                    route = routes[UPDATE]
                    signals = 0
                    fields = {**fields, **(event.fields or {})}
                    attributes = fields if derive is None else derive(fields)
                    # The attributes in force from `at` on (an earlier event at the
                    # same instant gives way), written out here and for CREATED:
                    # interpreted, a shared helper's call cost 0.2-0.3% of a run.
                    if history_at and history_at[-1] == at:
                        history[-1] = attributes
                    else:
                        history_at.append(at)
                        history.append(attributes)
                elif kind == CREATED:
                    route = routes[CREATED]
                    created_at = at
                    status = event.status if event.status is not None else "new"
                    fields = dict(event.fields) if event.fields else {}
                    attributes = fields if derive is None else derive(fields)
                    if history_at and history_at[-1] == at:
                        history[-1] = attributes
                    else:
                        history_at.append(at)
                        history.append(attributes)
                    became_done = done = status in done_statuses
                    signals = _S_CREATED | _S_DONE if became_done else _S_CREATED
                else:  # CSAT (or a kind no event has, given through the API)
                    route = routes[kind]
                    signals = _S_CSAT if kind == CSAT else 0
                owners = owner_routes[kind]
                if not route and not owners:
                    continue
                for i in route:
                    clock = clocks[i]
                    program = programs[i]
                    current = clock.last
                    changed = False  # did the cycle start, end or resume?
                    if current is not None and current.end is None:
                        hit = regular and (signals & program.stop_mask) != 0
                        if not hit:
                            rest = program.stop_rest[kind] if regular else program.stop[kind]
                            if rest:  # (a statement, not bool(rest): interpreted, no call)
                                hit = _hit(
                                    rest,
                                    event,
                                    became_done,
                                    reopened,
                                    previous_status,
                                    previous_fields,
                                    program.responders,
                                )
                        if hit:
                            current.end, current.ended_by, changed = at, ENDED_BY_STOP, True
                            if program.restart_on_stop and not done:
                                # The response that ends an update cycle starts the next one.
                                _update_pause(current, program, at, status, attributes)
                                cycles = clock.cycles
                                current = clock.last = Cycle(len(cycles) + 1, at)
                                cycles.append(current)
                        elif program.cancel_on_done and became_done:
                            current.end, current.ended_by, changed = at, ENDED_BY_DONE, True
                    elif program.resumable and current is not None:
                        hit = regular and (signals & program.resume_mask) != 0
                        if not hit:
                            rest = program.resume_rest[kind] if regular else program.resume[kind]
                            if rest:
                                hit = _hit(
                                    rest,
                                    event,
                                    became_done,
                                    reopened,
                                    previous_status,
                                    previous_fields,
                                    program.responders,
                                )
                        if hit:
                            current.end = current.ended_by = None
                            changed = True
                    elif current is None or program.repeat:
                        hit = regular and (signals & program.start_mask) != 0
                        if not hit:
                            rest = program.start_rest[kind] if regular else program.start[kind]
                            if rest:
                                hit = _hit(
                                    rest,
                                    event,
                                    became_done,
                                    reopened,
                                    previous_status,
                                    previous_fields,
                                    program.responders,
                                )
                        if (
                            hit
                            and (not program.needs_prior_response or clock.seen_response)
                            and not (program.start_needs_open and done)
                        ):
                            cycles = clock.cycles
                            current = clock.last = Cycle(len(cycles) + 1, at)
                            cycles.append(current)
                            if not program.restart_on_stop:  # an update cycle's start is also its stop signal
                                hit = regular and (signals & program.stop_mask) != 0
                                if not hit:
                                    rest = program.stop_rest[kind] if regular else program.stop[kind]
                                    if rest:
                                        hit = _hit(
                                            rest,
                                            event,
                                            became_done,
                                            reopened,
                                            previous_status,
                                            previous_fields,
                                            program.responders,
                                        )
                                if hit:
                                    current.end, current.ended_by = at, ENDED_BY_STOP
                                elif program.cancel_on_done and became_done:
                                    current.end, current.ended_by = at, ENDED_BY_DONE
                            changed = True
                    if public_message and not clock.seen_response and author in program.responders:
                        clock.seen_response = True
                    # Whether the clock is paused depends only on the status and on the
                    # cycle's own state: other events leave it as it was.  A cycle that
                    # is not paused has nothing to update if it can never pause while
                    # open, or if it ended for good (not resumable).
                    if (
                        current is not None
                        and (
                            current.pause_from is not None
                            or (program.pausable if current.end is None else program.resumable)
                        )
                        and (
                            changed
                            or kind in (STATUS, CREATED)
                            or (kind == UPDATE and program.pause_when is not None)
                        )
                    ):
                        _update_pause(current, program, at, status, attributes)
                for i in owners:
                    self._step_ownership(
                        clocks[i],
                        programs[i],
                        event,
                        became_done,
                        reopened,
                        previous_attributes,
                        done,
                        attributes,
                        status,
                    )
        finally:
            self.last_at, self.created_at = last_at, created_at
            self.status, self.fields, self.attributes = status, fields, attributes

    def _step_ownership(
        self,
        clock: MetricClock,
        program: MetricProgram,
        event: Event,
        became_done: bool,
        reopened: bool,
        previous_attributes: Mapping[str, object],
        done: bool,
        attributes: Mapping[str, object],
        status: str | None,
    ) -> None:
        """Who owns the ticket: a cycle per stay of the attribute's value
        (section 12's group_ownership). Ends are normal ends, never cancels.
        ``attributes`` and ``status``: the ticket's, after the event."""
        name = program.owner
        assert name is not None
        at = event.at
        cycles = clock.cycles
        current = clock.last
        if current is not None and current.end is not None:
            current = None
        before, after = previous_attributes.get(name), attributes.get(name)
        moved = not (before is None and after is None) and not equal(before, after)
        if current is not None and (became_done or moved):
            current.end, current.ended_by = at, ENDED_BY_STOP
            _update_pause(current, program, at, status, attributes)
            current = None
        if current is None and after is not None and not done and (moved or reopened):
            current = clock.last = Cycle(len(cycles) + 1, at, attributes)
            cycles.append(current)
            _update_pause(current, program, at, status, attributes)
        elif current is not None and (
            event.kind in (STATUS, CREATED) or (event.kind == UPDATE and program.pause_when is not None)
        ):
            _update_pause(current, program, at, status, attributes)

    # ------------------------------------------------------------- queries
    def judging_attributes(self, metric: str, cycle: int, end: int) -> Mapping[str, object]:
        """The attributes a cycle is judged and grouped by: at its start for
        metrics judged there (group_ownership), else at ``end``."""
        for metric_clock in self.metrics:
            if metric_clock.metric.name == metric:
                start_attributes = metric_clock.cycles[cycle - 1].start_attributes
                if start_attributes is not None:
                    return start_attributes
                break
        return self.attributes_at(end)

    def attributes_at(self, at: int) -> Mapping[str, object]:
        """The attributes after every event at or before ``at``."""
        history_at = self.history_at
        if history_at and at >= history_at[-1]:  # most asked: the last state
            return self.history[-1]
        i = bisect_right(history_at, at) - 1
        return self.history[i] if i >= 0 else {}

    # ---------------------------------------------------------- persistence
    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict of the whole state (see :meth:`from_json`)."""
        return {
            "status": self.status,
            "fields": self.fields,
            "history": [[at, fields] for at, fields in zip(self.history_at, self.history, strict=False)],
            "last_at": self.last_at,
            "created_at": self.created_at,
            "metrics": {
                c.metric.name: {"seen_response": c.seen_response, "cycles": [cy.to_json() for cy in c.cycles]}
                for c in self.metrics
            },
        }

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        metrics: Iterable[MetricDef],
        done_statuses: frozenset[str],
        derive: Callable[[Mapping[str, object]], dict[str, object]] | None = None,
    ) -> TicketClock:
        clock = cls(metrics, done_statuses, derive)
        clock.status = data["status"]
        clock.history_at = [at for at, _ in data["history"]]
        clock.history = [attributes for _, attributes in data["history"]]
        clock.fields = dict(data["fields"])
        clock.attributes = clock.history[-1] if clock.history else clock.fields
        clock.last_at, clock.created_at = data["last_at"], data["created_at"]
        saved = data["metrics"]
        for metric_clock in clock.metrics:
            state = saved.get(metric_clock.metric.name)
            if state is None:
                raise ValueError(
                    f"the saved state has no metric {metric_clock.metric.name!r}; replay the events instead"
                )
            metric_clock.seen_response = state["seen_response"]
            metric_clock.cycles = [Cycle.from_json(c) for c in state["cycles"]]
            metric_clock.last = metric_clock.cycles[-1] if metric_clock.cycles else None
        return clock
