"""``sla explain``: one ticket's timeline in words, for disputed breaches.

It shows the events, which policy judged each cycle and why (which match rule
held, which earlier policies did not), each clock's running and paused
stretches with business and calendar time, and the breach instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla.calendar.index import Calendar, load_zone
from sla.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    UsageError,
    add_input_options,
    err,
    events_option,
    map_option,
    now_option,
    policies_option,
    printable,
    stale_now_note,
    tz_option,
)
from sla.engine.batch import run_clock
from sla.engine.clock import TicketClock
from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event, TicketEvents
from sla.engine.judge import CycleResult, judge_ticket
from sla.policy.messages import json_text, show
from sla.policy.model import CalendarChoice
from sla.policy.runtime import CompiledPolicy, PolicySet, ResolvedTarget
from sla.timefmt import duration_text, format_instant, from_us, header_instant, to_us


def _dur(us: int, business: bool = True) -> str:
    """Exact durations in the one form of every command (``2h15m40.5s``)."""
    return duration_text(us, business=business, exact=True)


def _json(value: object) -> str:
    """Data as JSON (``{"channel": "email", "tags": ["free", "trial"]}``), never a Python repr."""
    return json_text(value)


class LocalClock:
    """Instants as explain prints them: local time in one zone with its UTC
    offset (``2026-03-02 18:01:32+01:00``), UTC itself as ``...Z``."""

    def __init__(self, zone: ZoneInfo | None):
        self.zone = None if zone is not None and zone.key in ("UTC", "Etc/UTC") else zone

    @property
    def name(self) -> str:
        return "UTC" if self.zone is None else self.zone.key

    def at(self, us: int) -> str:
        if self.zone is None:
            return format_instant(us).replace("T", " ")
        moment = from_us(us).astimezone(self.zone)
        text = moment.isoformat(sep=" ")
        return text.replace(".000000", "") if moment.microsecond else text

    def time_of_day(self, us: int) -> str:
        moment = from_us(us) if self.zone is None else from_us(us).astimezone(self.zone)
        return moment.strftime("%H:%M:%S").removesuffix(":00")

    def day_of(self, us: int) -> date:
        return (from_us(us) if self.zone is None else from_us(us).astimezone(self.zone)).date()

    def midnight(self, day: date) -> int:
        tz = self.zone if self.zone is not None else UTC
        return to_us(datetime.combine(day, time(0), tzinfo=tz))


def _event_text(event: Event) -> str:
    if event.kind == CREATED:
        return f"created (status {event.status or 'new'}) fields {_json(event.fields or {})}"
    if event.kind == MESSAGE:
        return f"message from {event.author}" + ("" if event.public else " (internal note)")
    if event.kind == STATUS:
        return f"status -> {event.status}"
    if event.kind == UPDATE:
        return f"update {_json(event.fields or {})}"
    if event.kind == CSAT:
        return f"csat {event.score:g}"
    return "?"  # pragma: no cover


def why_policy(
    policies: PolicySet,
    attributes: Mapping[str, object],
    created: int | None = None,
    local: LocalClock | None = None,
) -> list[str]:
    """Sentences explaining which policy is in force for the attributes, for a
    ticket created at ``created`` (policy versions)."""
    local = local or LocalClock(None)
    lines = []
    for policy in policies.policies:
        effective = policy.spec.effective
        if created is not None and effective is not None and not effective.covers(created):
            lines.append(
                f"policy {policy.name!r} is another version: it applies to tickets created "
                f"{_range_text(effective.from_, effective.until, local)}; this one was created {local.at(created)}"
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


def _range_text(start: int | None, until: int | None, local: LocalClock) -> str:
    parts = [f"from {local.at(start)}"] if start is not None else []
    parts += [f"before {local.at(until)}"] if until is not None else []
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
    return (
        f"policy {policy.name!r}, target {_dur(target.us, target.hours == 'business')} ({target.hours} hours)"
    )


def _retargeting(
    policies: PolicySet, clock: TicketClock, start: int, end: int, metric: str, local: LocalClock
) -> list[str]:
    """Lines telling how the policy or target changed while the cycle ran."""
    lines = []
    created = clock.created_at
    previous = _target_text(policies, clock.attributes_at(start), metric, created)
    for at in clock.history_at:
        if start < at <= end:
            now_text = _target_text(policies, clock.attributes_at(at), metric, created)
            if now_text != previous:
                lines.append(
                    f"re-targeted at {local.at(at)}: {previous} -> {now_text}; "
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


def _derive_lines(policies: PolicySet, ticket: TicketEvents, now: int, local: LocalClock) -> list[str]:
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
        out.append(f"  {local.at(event.at)}  line {event.line}: rules fired: {rules}")
    return out


def calendar_zone(policies: PolicySet, ticket: TicketEvents, now: int) -> ZoneInfo | None:
    """The zone of the first business-hours target that judges one of the
    ticket's cycles (explain's default zone); ``None`` (UTC) if there is none."""
    clock = run_clock(policies, ticket.events, now)
    if clock is None:
        return None
    for result in judge_ticket(ticket.ticket_id, clock, policies, now):
        if result.hours != "business":
            continue
        end = result.ended_at if result.ended_at is not None else now
        attributes = clock.judging_attributes(result.metric, result.cycle, end)
        target = _target_of(policies, attributes, result.metric, clock.created_at)
        if target is not None:
            return target.calendar.zone
    return None


def _target_of(
    policies: PolicySet, attributes: Mapping[str, object], metric: str, created: int | None
) -> ResolvedTarget | None:
    policy = policies.policy_for(attributes, created)
    return None if policy is None else policy.target(metric, attributes.get("priority"), attributes)


def explain_ticket(policies: PolicySet, ticket: TicketEvents, now: int, zone: ZoneInfo | None = None) -> str:
    """One ticket's timeline in words, instants in ``zone`` (``None``: UTC)."""
    local = LocalClock(zone)
    out = [
        f"Ticket {ticket.ticket_id} as of {local.at(now - now % 1_000_000)}"
        + ("" if local.zone is None else f" ({header_instant(now)})"),
        f"Times are local to {local.name} (--tz to change); durations are exact, "
        "business time where a target counts only open hours",
        *([f"Policies: {policies.source}"] if policies.source else []),
        "",
        "Events (in processing order):",
    ]
    for event in ticket.events:
        mark = "  (after now: ignored)" if event.at > now else ""
        out.append(f"  {local.at(event.at)}  line {event.line}: {_event_text(event)}{mark}")
    clock = run_clock(policies, ticket.events, now)
    if clock is None:
        out.append("")
        out.append("The ticket was created after now: no clocks yet.")
        return "\n".join(out) + "\n"
    out += _derive_lines(policies, ticket, now, local)
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
                f"{metric.name} cycle {cycle.number}: started {local.at(cycle.start)}, "
                + (
                    f"ended {local.at(cycle.end)} ("
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
            out.append(f"  attributes at {when}: {_json(dict(attributes))}")
            out += ["  " + line for line in why_policy(policies, attributes, created, local)]
            if not metric.judged_at_start:
                out += [
                    "  " + line
                    for line in _retargeting(policies, clock, cycle.start, end, metric.name, local)
                ]
            if result is None:
                out.append("  no target for this metric and priority: not measured")
                continue
            business = result.hours == "business"
            policy = policies.policy_for(attributes, created)
            out.append(
                f"  target {_dur(result.target_us, business)} in {result.hours} hours"
                + (_calendar_text(policy, attributes) if business and policy is not None else "")
            )
            _stretch_lines(out, result, policies, attributes, created, now, local)
            out.append(
                f"  elapsed {_dur(result.elapsed_us, business)}, remaining {_dur(result.remaining_us, business)} "
                f"({result.hours} time), state {result.state}"
            )
            if result.breached and result.due_at is not None:
                out.append(
                    f"  BREACHED: the target was reached at {local.at(result.due_at)}; every moment after counts against it"
                )
            elif result.due_at is not None:
                out.append(f"  due at {local.at(result.due_at)}")
            for label, instant in result.warnings:
                out.append(f"  warning {label} at {local.at(instant)}")
    return "\n".join(out) + "\n"


#: Open hours are listed for running stretches over at most this many local days.
OPEN_HOURS_DAYS = 3


def _open_hours_lines(calendar: Calendar, a: int, b: int, local: LocalClock) -> list[str]:
    """The calendar's open hours on each local day of ``[a, b)``: what makes
    counted time differ from calendar time."""
    first, last = local.day_of(a), local.day_of(max(a, b - 1))
    days = (last - first).days + 1
    if days > OPEN_HOURS_DAYS:
        return [f"      ({days} days: open hours not listed; sla calendar NAME hours FROM..TO lists them)"]
    lines = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start, stop = local.midnight(day), local.midnight(day + timedelta(days=1))
        opened = calendar.open_intervals_us(start, stop)
        hours = ", ".join(
            f"{local.time_of_day(x)}-{'24:00' if y == stop else local.time_of_day(y)}" for x, y in opened
        )
        lines.append(f"      {day:%a %Y-%m-%d}: " + (f"open {hours}" if hours else "closed all day"))
    return lines


def _stretch_lines(
    out: list[str],
    result: CycleResult,
    policies: PolicySet,
    attributes: Mapping[str, object],
    created: int | None,
    now: int,
    local: LocalClock,
) -> None:
    target = _target_of(policies, attributes, result.metric, created)
    if target is None:  # judged cycles always have both; explain says so rather than crash
        return
    calendar = target.calendar
    business = result.hours == "business"
    end = result.ended_at if result.ended_at is not None else now
    cursor = result.started_at
    pauses = [(a, b if b is not None else end) for a, b in result.paused]
    for a, b in pauses + [(end, end)]:
        if a > cursor:
            counted = calendar.elapsed_us(cursor, a) if business else a - cursor
            out.append(
                f"  running {local.at(cursor)} .. {local.at(a)}: {_dur(a - cursor, False)} calendar time, "
                + (f"{_dur(counted)} business time counted" if business else "all of it counted")
            )
            if business and counted != a - cursor:
                out += _open_hours_lines(calendar, cursor, a, local)
        if b > a:
            out.append(f"  paused  {local.at(a)} .. {local.at(b)}: {_dur(b - a, False)} (not counted)")
        cursor = max(cursor, b)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="a readable timeline of one ticket's clocks")
    add_input_options(p)
    p.add_argument("--ticket", required=True, metavar="ID")
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA zone of the times shown (default: the zone of the calendar that judges the ticket, else UTC)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.cli.progress import input_progress
    from sla.io.sources import read_events_file

    tz_option(args.tz)
    policies = policies_option(args.policies)
    now = now_option(args.now, args.tz)
    events = events_option(args.events)
    progress = input_progress(events)
    tickets, _ = read_events_file(
        events, mapping=map_option(args, events), only=args.ticket, progress=progress
    )
    progress.close()
    ticket = tickets.get(args.ticket)
    if ticket is None:
        raise UsageError(f"ticket {args.ticket!r} is not in {args.events}")
    if ticket.error is not None:
        err(f"rejected: {printable(str(ticket.error))}")
        return EXIT_REJECTED
    stale_now_note("explain", args.now, now, ticket.events[-1].at if ticket.events else None)
    zone = load_zone(args.tz, "--tz") if args.tz else calendar_zone(policies, ticket, now)
    sys.stdout.write(explain_ticket(policies, ticket, now, zone))
    return EXIT_OK
