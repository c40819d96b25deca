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
from sla.policy.compile import PolicySet
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


def why_policy(policies: PolicySet, attributes: Mapping[str, object]) -> list[str]:
    """Sentences explaining which policy is in force for the attributes."""
    lines = []
    for policy in policies.policies:
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


def _target_text(policies: PolicySet, attributes: Mapping[str, object], metric: str) -> str:
    policy = policies.policy_for(attributes)
    if policy is None:
        return "no policy"
    target = policy.target(metric, attributes.get("priority"))
    if target is None:
        return f"policy {policy.name!r}, no target"
    return f"policy {policy.name!r}, target {_dur(target.us)} ({target.hours} hours)"


def _retargeting(policies: PolicySet, clock: TicketClock, start: int, end: int, metric: str) -> list[str]:
    """Lines telling how the policy or target changed while the cycle ran."""
    lines = []
    previous = _target_text(policies, clock.attributes_at(start), metric)
    for at in clock.history_at:
        if start < at <= end:
            now_text = _target_text(policies, clock.attributes_at(at), metric)
            if now_text != previous:
                lines.append(
                    f"re-targeted at {format_instant(at)}: {previous} -> {now_text}; "
                    "the cycle is judged by what is in force at its end, from its start"
                )
                previous = now_text
    return lines


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
                        else "stop condition: " + ", ".join(t.describe() for t in metric.stop)
                    )
                    + ")"
                    if cycle.end is not None
                    else "still open at now"
                )
            )
            attributes = clock.attributes_at(end)
            out.append(f"  attributes at {'its end' if cycle.end is not None else 'now'}: {dict(attributes)}")
            out += ["  " + line for line in why_policy(policies, attributes)]
            out += ["  " + line for line in _retargeting(policies, clock, cycle.start, end, metric.name)]
            if result is None:
                out.append("  no target for this metric and priority: not measured")
                continue
            out.append(
                f"  target {_dur(result.target_us)} in {result.hours} hours"
                + (
                    f" on calendar {policy.calendar_name!r}"
                    if result.hours == "business" and (policy := policies.policy_for(attributes)) is not None
                    else ""
                )
            )
            _stretch_lines(out, clock, result, policies, attributes, now)
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
    clock: TicketClock,
    result: CycleResult,
    policies: PolicySet,
    attributes: Mapping[str, object],
    now: int,
) -> None:
    policy = policies.policy_for(attributes)
    target = policy.target(result.metric, attributes.get("priority")) if policy is not None else None
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
