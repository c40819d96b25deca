"""``sla explain``: one ticket's timeline in words, for disputed breaches.

It shows the events, which policy judged each cycle and why (which match rule
held, which earlier policies did not), each clock's running and paused
stretches with business and calendar time, and the breach instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from sla.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_input_options,
    err,
    events_option,
    now_option,
    policies_option,
    printable,
)
from sla.engine.batch import run_clock
from sla.engine.clock import TicketClock
from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event, TicketEvents
from sla.engine.judge import CycleResult, judge_ticket
from sla.policy.compile import CompiledPolicy, PolicySet
from sla.policy.messages import show
from sla.policy.model import CalendarChoice
from sla.timefmt import format_instant


def _dur(us: int) -> str:
    sign = "-" if us < 0 else ""
    seconds = abs(us) / 1_000_000
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{days}d " if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"
    frac = seconds - int(seconds)
    return sign + text + (f"{frac:.6f}"[1:].rstrip("0") if frac else "")


def _event_text(event: Event) -> str:
    if event.kind == CREATED:
        return f"created (status {event.status or 'new'}) fields {event.fields}"
    if event.kind == MESSAGE:
        return f"message from {event.author}" + ("" if event.public else " (internal note)")
    if event.kind == STATUS:
        return f"status -> {event.status}"
    if event.kind == UPDATE:
        return f"update {event.fields}"
    if event.kind == CSAT:
        return f"csat {event.score:g}"
    return "?"  # pragma: no cover


def why_policy(
    policies: PolicySet, attributes: Mapping[str, object], created: int | None = None
) -> list[str]:
    """Sentences explaining which policy is in force for the attributes, for a
    ticket created at ``created`` (policy versions)."""
    lines = []
    for policy in policies.policies:
        effective = policy.spec.effective
        if created is not None and effective is not None and not effective.covers(created):
            lines.append(
                f"policy {policy.name!r} is another version: it applies to tickets created "
                f"{_range_text(effective.from_, effective.until)}; this one was created {format_instant(created)}"
            )
            continue
        reason = policy.condition.why_not(attributes)
        if reason is None:
            lines.append(
                f"policy {policy.name!r} is in force: "
                + (
                    f"its match holds ({policy.condition.describe()})"
                    if policy.condition.keys()
                    else "it matches every ticket"
                )
            )
            return lines
        lines.append(f"policy {policy.name!r} does not match: {reason}")
    lines.append("no policy matches: the ticket has no SLA at this instant")
    return lines


def _range_text(start: int | None, until: int | None) -> str:
    parts = [f"from {format_instant(start)}"] if start is not None else []
    parts += [f"before {format_instant(until)}"] if until is not None else []
    return " ".join(parts)


def _target_text(
    policies: PolicySet, attributes: Mapping[str, object], metric: str, created: int | None
) -> str:
    policy = policies.policy_for(attributes, created)
    if policy is None:
        return "no policy"
    target = policy.target(metric, attributes.get("priority"), attributes)
    if target is None:
        return f"policy {policy.name!r}, no target"
    return f"policy {policy.name!r}, target {_dur(target.us)} ({target.hours} hours)"


def _retargeting(policies: PolicySet, clock: TicketClock, start: int, end: int, metric: str) -> list[str]:
    """Lines telling how the policy or target changed while the cycle ran."""
    lines = []
    created = clock.created_at
    previous = _target_text(policies, clock.attributes_at(start), metric, created)
    for at in clock.history_at:
        if start < at <= end:
            now_text = _target_text(policies, clock.attributes_at(at), metric, created)
            if now_text != previous:
                lines.append(
                    f"re-targeted at {format_instant(at)}: {previous} -> {now_text}; "
                    "the cycle is judged by what is in force at its end, from its start"
                )
                previous = now_text
    return lines


def _calendar_text(policy: CompiledPolicy, attributes: Mapping[str, object]) -> str:
    """Which calendar (and zone) judges the cycle, and why."""
    calendar, name = policy.calendar_for(attributes)
    choice = policy.spec.calendar
    text = f" on calendar {name!r}"
    if isinstance(choice, CalendarChoice):
        value = attributes.get(choice.by)
        picked = type(value) is str and value in choice.map
        text += f" ({choice.by} is {show(value)}: " + ("its map entry" if picked else "the default") + ")"
    zoned = policy.zoned.get(name)
    if zoned is not None:
        value = attributes.get(zoned.by)
        if calendar is zoned.base and value != zoned.default:
            why = "missing" if value is None else f"{show(value)}, no known zone"
            text += f" in {zoned.default} ({zoned.by} {why}: the default zone)"
        else:
            text += f" in {calendar.zone.key} (from {zoned.by})"
    return text


def _derive_lines(policies: PolicySet, ticket: TicketEvents, now: int) -> list[str]:
    """When the attributes changed, which derive rules fired."""
    if not policies.derive_rules:
        return []
    out = ["", "Derived attributes (rules in file order, each seeing the ones before):"]
    fields: dict[str, object] = {}
    for event in ticket.events:
        if event.at > now or event.kind not in (CREATED, UPDATE):
            continue
        fields = dict(event.fields or {}) if event.kind == CREATED else {**fields, **(event.fields or {})}
        fired = policies.derive_trace(fields)
        rules = "; ".join(f"{i + 1}. {policies.derive_rules[i].describe()}" for i in fired) or "none"
        out.append(f"  {format_instant(event.at)}  line {event.line}: rules fired: {rules}")
    return out


def explain_ticket(policies: PolicySet, ticket: TicketEvents, now: int) -> str:
    out = [f"Ticket {ticket.ticket_id} as of {format_instant(now)}", "", "Events (in processing order):"]
    for event in ticket.events:
        mark = "  (after now: ignored)" if event.at > now else ""
        out.append(f"  {format_instant(event.at)}  line {event.line}: {_event_text(event)}{mark}")
    clock = run_clock(policies, ticket.events, now)
    if clock is None:
        out.append("")
        out.append("The ticket was created after now: no clocks yet.")
        return "\n".join(out) + "\n"
    out += _derive_lines(policies, ticket, now)
    created = clock.created_at
    results = {
        (r.metric, r.cycle): r
        for r in judge_ticket(ticket.ticket_id, clock, policies, now, with_warnings=True)
    }
    for metric_clock in sorted(clock.metrics, key=lambda c: c.metric.name):
        metric = metric_clock.metric
        for cycle in metric_clock.cycles:
            out.append("")
            result = results.get((metric.name, cycle.number))
            end = cycle.end if cycle.end is not None else now
            out.append(
                f"{metric.name} cycle {cycle.number}: started {format_instant(cycle.start)}, "
                + (
                    f"ended {format_instant(cycle.end)} ("
                    + (
                        "the ticket became done"
                        if cycle.ended_by == "done"
                        else "stop condition: " + (", ".join(t.describe() for t in metric.stop) or "a change")
                    )
                    + ")"
                    if cycle.end is not None
                    else "still open at now"
                )
            )
            attributes = clock.judging_attributes(metric.name, cycle.number, end)
            when = "its start" if metric.judged_at_start else "its end" if cycle.end is not None else "now"
            out.append(f"  attributes at {when}: {dict(attributes)}")
            out += ["  " + line for line in why_policy(policies, attributes, created)]
            if not metric.judged_at_start:
                out += ["  " + line for line in _retargeting(policies, clock, cycle.start, end, metric.name)]
            if result is None:
                out.append("  no target for this metric and priority: not measured")
                continue
            policy = policies.policy_for(attributes, created)
            out.append(
                f"  target {_dur(result.target_us)} in {result.hours} hours"
                + (
                    _calendar_text(policy, attributes)
                    if result.hours == "business" and policy is not None
                    else ""
                )
            )
            _stretch_lines(out, result, policies, attributes, created, now)
            out.append(
                f"  elapsed {_dur(result.elapsed_us)}, remaining {_dur(result.remaining_us)}, state {result.state}"
            )
            if result.breached and result.due_at is not None:
                out.append(
                    f"  BREACHED: the target was reached at {format_instant(result.due_at)}; every moment after counts against it"
                )
            elif result.due_at is not None:
                out.append(f"  due at {format_instant(result.due_at)}")
            for label, instant in result.warnings:
                out.append(f"  warning {label} at {format_instant(instant)}")
    return "\n".join(out) + "\n"


def _stretch_lines(
    out: list[str],
    result: CycleResult,
    policies: PolicySet,
    attributes: Mapping[str, object],
    created: int | None,
    now: int,
) -> None:
    policy = policies.policy_for(attributes, created)
    target = (
        policy.target(result.metric, attributes.get("priority"), attributes) if policy is not None else None
    )
    if target is None:  # judged cycles always have both; explain says so rather than crash
        return
    calendar = target.calendar
    end = result.ended_at if result.ended_at is not None else now
    cursor = result.started_at
    pauses = [(a, b if b is not None else end) for a, b in result.paused]
    for a, b in pauses + [(end, end)]:
        if a > cursor:
            business = calendar.elapsed_us(cursor, a)
            out.append(
                f"  running {format_instant(cursor)} .. {format_instant(a)}: {_dur(a - cursor)} calendar, "
                f"{_dur(business)} counted"
            )
        if b > a:
            out.append(f"  paused  {format_instant(a)} .. {format_instant(b)}: {_dur(b - a)} (not counted)")
        cursor = max(cursor, b)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="a readable timeline of one ticket's clocks")
    add_input_options(p)
    p.add_argument("--ticket", required=True, metavar="ID")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.sources import read_events_file

    policies = policies_option(args.policies)
    now = now_option(args.now)
    tickets, _ = read_events_file(events_option(args.events))
    ticket = tickets.get(args.ticket)
    if ticket is None:
        raise UsageError(f"ticket {args.ticket!r} is not in {args.events}")
    if ticket.error is not None:
        err(f"rejected: {printable(str(ticket.error))}")
        return EXIT_REJECTED
    sys.stdout.write(explain_ticket(policies, ticket, now))
    return EXIT_OK
