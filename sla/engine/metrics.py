"""Metric definitions: one clock mechanism, the built-in metrics as presets.

A metric is data: which signals start, stop and resume its cycles, which
statuses pause it, whether it repeats.  The engine (:mod:`sla.engine.batch`) runs
any definition; nothing in it is specific to a metric name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Protocol

# Signals the engine derives from each event (see sla.engine.batch).
CREATED = "created"
RESPONSE = "response"
CUSTOMER_MESSAGE = "customer_message"
DONE = "done"
REOPENED = "reopened"
CSAT = "csat"

CycleMode = Literal["once", "repeat", "resume"]


@dataclass(frozen=True, slots=True)
class Trigger:
    """A condition on one event.

    ``kind`` is a signal name (``created``, ``response``...) or one of
    ``status_entered``, ``status_left``, ``field_set``, ``field_changed``,
    ``message``, refined by the other fields.
    """

    kind: str
    statuses: frozenset[str] = frozenset()
    field_name: str | None = None
    authors: frozenset[str] | None = None
    public: bool | None = None

    def describe(self) -> str:
        """The condition as a policy file writes it."""
        if self.kind in ("status_entered", "status_left"):
            return f"{{{self.kind}: [{', '.join(sorted(self.statuses))}]}}"
        if self.kind in ("field_set", "field_changed"):
            return f"{{{self.kind}: {self.field_name}}}"
        if self.kind == "message":
            parts = []
            if self.authors:
                parts.append(f"author: [{', '.join(sorted(self.authors))}]")
            if self.public is not None:
                parts.append(f"public: {'true' if self.public else 'false'}")
            return f"{{message: {{{', '.join(parts)}}}}}"
        return self.kind


class Compilable(Protocol):
    """A parsed condition (:class:`sla.policy.conditions.AttributeCondition`)."""

    def compile(self) -> Callable[[Mapping[str, object]], bool]: ...


@dataclass(frozen=True, slots=True)
class MetricDef:
    """How one metric's clock runs."""

    name: str
    start: tuple[Trigger, ...]
    stop: tuple[Trigger, ...]
    resume: tuple[Trigger, ...] = ()
    pause_statuses: frozenset[str] = frozenset()
    responders: frozenset[str] = frozenset({"agent"})
    cycles: CycleMode = "once"
    cancel_on_done: bool = False
    needs_prior_response: bool = False
    #: The response that ends a cycle starts the next one (update metrics).
    restart_on_stop: bool = False
    #: No cycle starts while the ticket is done.
    start_needs_open: bool = False
    #: A cycle per stay of this attribute's non-null value (group_ownership).
    ownership_field: str | None = None
    #: Judged by the policy in force at the cycle's start, not its end.
    judged_at_start: bool = False
    #: Paused, besides pause_statuses, while the attributes satisfy this (pause_when).
    pause_when: Callable[[Mapping[str, object]], bool] | None = field(default=None, compare=False)
    pause_when_text: str = ""
    #: What ``pause_when`` was compiled from: a metric pickles with it (and
    #: compiles it again when loaded), since a compiled predicate is a closure.
    pause_condition: Compilable | None = field(default=None, compare=False)
    description: str = ""
    builtin: bool = False
    # Derived flags so the engine's hot loop tests booleans, not tuples.
    uses_fields: bool = field(default=False, compare=False)

    def __reduce__(self) -> tuple[Callable[[dict[str, Any]], MetricDef], tuple[dict[str, Any]]]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.pause_condition is not None:
            values["pause_when"] = None
        return _metric_def, (values,)


def _metric_def(values: dict[str, Any]) -> MetricDef:
    condition = values["pause_condition"]
    if condition is not None:
        values = {**values, "pause_when": condition.compile()}
    return MetricDef(**values)


def _t(kind: str) -> Trigger:
    return Trigger(kind)


# Update metrics: each response ends the open cycle and starts the next.
_UPDATES: dict[str, Any] = {
    "start": (_t(RESPONSE),),
    "stop": (_t(RESPONSE),),
    "cycles": "repeat",
    "cancel_on_done": True,
    "restart_on_stop": True,
    "start_needs_open": True,
    "builtin": True,
}

BUILTIN_METRICS: dict[str, MetricDef] = {
    "first_response": MetricDef(
        "first_response",
        start=(_t(CREATED),),
        stop=(_t(RESPONSE),),
        cycles="once",
        cancel_on_done=True,
        builtin=True,
        description="From ticket creation to the first public response.",
    ),
    "next_response": MetricDef(
        "next_response",
        start=(_t(CUSTOMER_MESSAGE),),
        stop=(_t(RESPONSE),),
        cycles="repeat",
        cancel_on_done=True,
        needs_prior_response=True,
        builtin=True,
        description="From a customer message (after a first response) to the next public response.",
    ),
    "resolution": MetricDef(
        "resolution",
        start=(_t(CREATED),),
        stop=(_t(DONE),),
        resume=(_t(REOPENED),),
        cycles="resume",
        builtin=True,
        description="From creation until the ticket is done; resumes on reopen.",
    ),
    "periodic_update": MetricDef(
        "periodic_update",
        **_UPDATES,
        description="From a public response to the next one: how long the customer waits for each update.",
    ),
    "pausable_update": MetricDef(
        "pausable_update",
        **_UPDATES,
        pause_statuses=frozenset({"pending", "on_hold"}),
        description="Like periodic_update, paused while pending or on hold.",
    ),
    "group_ownership": MetricDef(
        "group_ownership",
        start=(),
        stop=(),
        ownership_field="group",
        judged_at_start=True,
        builtin=True,
        description="Each stay of the ticket with one group (team), judged by the policy at its start.",
    ),
    "requester_wait": MetricDef(
        "requester_wait",
        start=(_t(CREATED),),
        stop=(_t(DONE),),
        resume=(_t(REOPENED),),
        cycles="resume",
        pause_statuses=frozenset({"pending"}),
        builtin=True,
        description="Resolution time less the time waiting on the customer (pending).",
    ),
    "agent_work": MetricDef(
        "agent_work",
        start=(_t(CREATED),),
        stop=(_t(DONE),),
        resume=(_t(REOPENED),),
        cycles="resume",
        pause_statuses=frozenset({"pending", "on_hold"}),
        builtin=True,
        description="Resolution time less the time pending or on hold.",
    ),
}


#: Which built-in metrics take which options besides description and pause_statuses.
RESPONDER_METRICS = frozenset({"first_response", "next_response", "periodic_update", "pausable_update"})
FIELD_METRICS = frozenset({"group_ownership"})


def with_options(
    metric: MetricDef,
    *,
    pause_statuses: Iterable[str] | None = None,
    responders: Iterable[str] | None = None,
    field: str | None = None,
    pause_when: tuple[Compilable, str] | None = None,
) -> MetricDef:
    """A metric with its options replaced (``pause_when``: a condition and its words)."""
    if pause_statuses is not None:
        metric = replace(metric, pause_statuses=frozenset(pause_statuses))
    if responders is not None:
        metric = replace(metric, responders=frozenset(responders))
    if field is not None:
        metric = replace(metric, ownership_field=field)
    if pause_when is not None:
        condition, words = pause_when
        metric = replace(
            metric, pause_when=condition.compile(), pause_when_text=words, pause_condition=condition
        )
    return metric


def finish(metric: MetricDef) -> MetricDef:
    """Fill the derived flags."""
    triggers = metric.start + metric.stop + metric.resume
    return replace(metric, uses_fields=any(t.kind in ("field_set", "field_changed") for t in triggers))
