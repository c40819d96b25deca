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
from typing import Any

from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event
from sla.engine.metrics import MetricDef, Trigger
from sla.policy.conditions import equal

ENDED_BY_STOP = "stop"
ENDED_BY_DONE = "done"


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

    __slots__ = ("metric", "cycles", "seen_response")

    def __init__(self, metric: MetricDef):
        self.metric = metric
        self.cycles: list[Cycle] = []
        self.seen_response = False


class _Step:
    """What one event means, computed once and shared by every metric."""

    __slots__ = (
        "event",
        "became_done",
        "reopened",
        "previous_status",
        "previous_fields",
        "previous_attributes",
        "attributes",
        "done",
    )

    def __init__(
        self,
        event: Event,
        became_done: bool,
        reopened: bool,
        previous_status: str | None,
        previous_fields: Mapping[str, object],
        previous_attributes: Mapping[str, object],
        attributes: Mapping[str, object],
        done: bool,
    ):
        self.event = event
        self.became_done = became_done
        self.reopened = reopened
        self.previous_status = previous_status
        # The events' own fields (custom field triggers read these) and the
        # ticket's attributes after derive rules (ownership follows these).
        self.previous_fields = previous_fields
        self.previous_attributes = previous_attributes
        self.attributes = attributes
        self.done = done


def _fires(trigger: Trigger, step: _Step, metric: MetricDef) -> bool:
    event = step.event
    kind = trigger.kind
    if kind == "response":
        return event.kind == MESSAGE and event.public and event.author in metric.responders
    if kind == "created":
        return event.kind == CREATED
    if kind == "done":
        return step.became_done
    if kind == "reopened":
        return step.reopened
    if kind == "customer_message":
        return event.kind == MESSAGE and event.public and event.author == "customer"
    if kind == "csat":
        return event.kind == CSAT
    if kind == "status_entered":
        return (
            (event.kind == STATUS or event.kind == CREATED)
            and event.status in trigger.statuses
            and step.previous_status not in trigger.statuses
        )
    if kind == "status_left":
        return (
            event.kind == STATUS
            and step.previous_status in trigger.statuses
            and event.status not in trigger.statuses
        )
    if kind == "field_set" or kind == "field_changed":
        fields, name = event.fields, trigger.field_name
        if event.kind not in (CREATED, UPDATE) or fields is None or name is None or name not in fields:
            return False
        new = fields[name]
        old = step.previous_fields.get(name)
        if kind == "field_set":
            return new is not None and new != old
        return event.kind == UPDATE and name in step.previous_fields and new != old
    if kind == "message":
        return (
            event.kind == MESSAGE
            and (trigger.authors is None or event.author in trigger.authors)
            and (trigger.public is None or trigger.public == event.public)
        )
    return False  # pragma: no cover - the loader admits only known kinds


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


def _any(triggers: tuple[Trigger, ...], step: _Step, metric: MetricDef) -> bool:
    # A plain loop: any() over a generator costs twice as much here, and this
    # runs for every metric at every event.
    for trigger in triggers:
        if _fires(trigger, step, metric):
            return True
    return False


class ClockPlan(tuple[tuple[MetricDef, ...], tuple[tuple[int, ...], ...]]):
    """(metrics in name order, per event kind the indexes of the metrics it can
    affect): computed once per policy set, shared by every ticket's clock."""


def plan(metrics: Iterable[MetricDef]) -> ClockPlan:
    ordered = tuple(sorted(metrics, key=lambda m: m.name))
    routes = tuple(
        tuple(i for i, m in enumerate(ordered) if kind in relevant_event_kinds(m))
        for kind in (CREATED, MESSAGE, STATUS, UPDATE, CSAT)
    )
    return ClockPlan((ordered, routes))


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
        "_by_kind",
        "_owners_by_kind",
        "derive",
        "attributes",
    )

    def __init__(
        self,
        metrics: Iterable[MetricDef] | ClockPlan,
        done_statuses: frozenset[str],
        derive: Callable[[Mapping[str, object]], dict[str, object]] | None = None,
    ):
        definitions, routes = metrics if isinstance(metrics, ClockPlan) else plan(metrics)
        self.metrics = [MetricClock(m) for m in definitions]
        # Per event kind, the metric clocks it can affect (a message cannot
        # move a resolution clock): most events touch few metrics.
        # Ownership clocks (group_ownership) step differently: kept apart so
        # the common loop tests nothing per clock.
        self._by_kind = [
            [c for c in (self.metrics[i] for i in route) if c.metric.ownership_field is None]
            for route in routes
        ]
        self._owners_by_kind = [
            [c for c in (self.metrics[i] for i in route) if c.metric.ownership_field is not None]
            for route in routes
        ]
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
        if self.last_at is not None and event.at < self.last_at:
            raise ValueError("events must be fed in time order")
        if self.created_at is None and event.kind != CREATED:
            raise ValueError("the first event of a ticket must be its created event")
        self.last_at = event.at
        previous_status = self.status
        previous_fields = self.fields
        previous_attributes = self.attributes
        became_done = reopened = False
        done = self.done_statuses
        kind = event.kind
        if kind == CREATED:
            self.created_at = event.at
            self.status = event.status if event.status is not None else "new"
            self.fields = dict(event.fields or {})
            self.attributes = self.fields if self.derive is None else self.derive(self.fields)
            self._remember(event.at)
            became_done = self.status in done
        elif kind == STATUS:
            self.status = event.status
            was_done = previous_status in done
            is_done = self.status in done
            became_done = is_done and not was_done
            reopened = was_done and not is_done
        elif kind == UPDATE:
            self.fields = {**self.fields, **(event.fields or {})}
            self.attributes = self.fields if self.derive is None else self.derive(self.fields)
            self._remember(event.at)
        clocks = self._by_kind[kind]
        owners = self._owners_by_kind[kind]
        if clocks or owners:
            step = _Step(
                event,
                became_done,
                reopened,
                previous_status,
                previous_fields,
                previous_attributes,
                self.attributes,
                self.status in done,
            )
            step_metric = self._step_metric
            for clock in clocks:
                step_metric(clock, step)
            for clock in owners:
                self._step_ownership(clock, step, clock.metric.ownership_field)  # type: ignore[arg-type]

    def _remember(self, at: int) -> None:
        if self.history_at and self.history_at[-1] == at:
            self.history[-1] = self.attributes
        else:
            self.history_at.append(at)
            self.history.append(self.attributes)

    def _step_metric(self, clock: MetricClock, step: _Step) -> None:
        metric = clock.metric
        event = step.event
        at = event.at
        cycles = clock.cycles
        current = cycles[-1] if cycles else None
        changed = False  # did the cycle start, end or resume?
        if current is not None and current.end is None:
            changed = self._maybe_end(current, step, metric)
            if changed and metric.restart_on_stop and current.ended_by == ENDED_BY_STOP and not step.done:
                # The response that ends an update cycle starts the next one.
                self._update_pause(current, metric, at)
                current = Cycle(len(cycles) + 1, at)
                cycles.append(current)
        elif metric.cycles == "resume" and current is not None:
            if _any(metric.resume, step, metric):
                current.end = current.ended_by = None
                changed = True
        elif (
            (current is None or metric.cycles == "repeat")
            and _any(metric.start, step, metric)
            and (not metric.needs_prior_response or clock.seen_response)
            and not (metric.start_needs_open and step.done)
        ):
            current = Cycle(len(cycles) + 1, at)
            cycles.append(current)
            if not metric.restart_on_stop:  # an update cycle's start is also its stop signal
                self._maybe_end(current, step, metric)
            changed = True
        kind = event.kind
        if kind == MESSAGE and not clock.seen_response and event.public and event.author in metric.responders:
            clock.seen_response = True
        # Whether the clock is paused depends only on the status and on the
        # cycle's own state: other events leave it as it was.
        if current is not None and (
            changed or kind in (STATUS, CREATED) or (kind == UPDATE and metric.pause_when is not None)
        ):
            self._update_pause(current, metric, at)

    def _step_ownership(self, clock: MetricClock, step: _Step, name: str) -> None:
        """Who owns the ticket: a cycle per stay of the attribute's value
        (section 12's group_ownership). Ends are normal ends, never cancels."""
        metric, at = clock.metric, step.event.at
        cycles = clock.cycles
        current = cycles[-1] if cycles and cycles[-1].end is None else None
        before, after = step.previous_attributes.get(name), step.attributes.get(name)
        moved = not (before is None and after is None) and not equal(before, after)
        if current is not None and (step.became_done or moved):
            current.end, current.ended_by = at, ENDED_BY_STOP
            self._update_pause(current, metric, at)
            current = None
        if current is None and after is not None and not step.done and (moved or step.reopened):
            current = Cycle(len(cycles) + 1, at, step.attributes)
            cycles.append(current)
            self._update_pause(current, metric, at)
        elif current is not None and (
            step.event.kind in (STATUS, CREATED)
            or (step.event.kind == UPDATE and metric.pause_when is not None)
        ):
            self._update_pause(current, metric, at)

    @staticmethod
    def _maybe_end(cycle: Cycle, step: _Step, metric: MetricDef) -> bool:
        if _any(metric.stop, step, metric):
            cycle.end, cycle.ended_by = step.event.at, ENDED_BY_STOP
            return True
        if metric.cancel_on_done and step.became_done:
            cycle.end, cycle.ended_by = step.event.at, ENDED_BY_DONE
            return True
        return False

    def _update_pause(self, cycle: Cycle, metric: MetricDef, at: int) -> None:
        if cycle.end is not None and metric.cycles != "resume":
            if cycle.pause_from is not None:  # ended for good: clip the pause to the end
                if cycle.end > cycle.pause_from:
                    cycle.pauses.append((cycle.pause_from, cycle.end))
                cycle.pause_from = None
            return
        # A stopped resumable cycle counts as paused until it resumes.
        paused = (
            cycle.end is not None
            or self.status in metric.pause_statuses
            or (metric.pause_when is not None and metric.pause_when(self.attributes))
        )
        if paused:
            if cycle.pause_from is None:
                # A stretch is maximal: a pause that resumes at the instant
                # the last one ended (open then pending at once) continues it.
                if cycle.pauses and cycle.pauses[-1][1] == at:
                    cycle.pause_from = cycle.pauses.pop()[0]
                else:
                    cycle.pause_from = at
        elif cycle.pause_from is not None:
            if at > cycle.pause_from:
                cycle.pauses.append((cycle.pause_from, at))
            cycle.pause_from = None

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
        i = bisect_right(self.history_at, at) - 1
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
        return clock
