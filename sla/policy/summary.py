"""A one-screen summary of a policy file, for ``sla validate``.

Durations print as every command prints them (:func:`sla.timefmt.duration_text`):
business ones in hours, calendar ones with days from a week up.  What is
legal but probably not meant (a policy that never applies, a metric no policy
targets) is not told here but by :mod:`sla.policy.notes`, each note located,
which ``sla validate`` prints after the summary.

>>> from sla import load_policies
>>> print(summarize(load_policies('''
... calendars:
...   office: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-17:00"], sat: ["10:00-14:00"]}}
... policies:
...   - {name: everyone, calendar: office, targets: {first_response: {urgent: 1h, default: 8h}}}
... '''), "policy.yaml"))
policy.yaml: OK, 1 policy, 1 calendar
  calendar office (Europe/Berlin): mon-fri 09:00-17:00; sat 10:00-14:00
  done statuses: solved, closed
  policies, first match wins:
    1. everyone: every ticket; calendar office, business hours
         first_response  urgent 1h, default 8h
"""

from __future__ import annotations

from collections.abc import Iterable

from sla.calendar.hours import DAY_NAMES
from sla.engine.metrics import Trigger
from sla.policy.model import CalendarChoice, Target, Within
from sla.policy.runtime import PolicySet
from sla.policy.source import scalar_text
from sla.timefmt import duration_text, format_instant


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _day_ranges(days: list[int]) -> str:
    """``[0, 1, 2, 3, 4]`` -> ``mon-fri``; ``[0, 2]`` -> ``mon,wed``; ``[5, 6, 0]`` -> ``sat-mon``."""
    day_set = set(days)
    if len(day_set) == 7:
        return "every day"
    # Start runs after a gap so that sat-mon reads as one range.
    start = next(d for d in range(7) if d in day_set and (d - 1) % 7 not in day_set)
    runs: list[list[int]] = []
    for offset in range(7):
        d = (start + offset) % 7
        if d not in day_set:
            continue
        if runs and (runs[-1][-1] + 1) % 7 == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    runs.sort(key=lambda run: run[0])
    parts = []
    for run in runs:
        if len(run) == 1:
            parts.append(DAY_NAMES[run[0]])
        elif len(run) == 2:
            parts.append(f"{DAY_NAMES[run[0]]},{DAY_NAMES[run[1]]}")
        else:
            parts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
    return ",".join(parts)


def weekly_hours(days: tuple[tuple[object, ...], ...]) -> str:
    """Weekly shifts with identical days grouped: ``mon-fri 09:00-12:00, 13:00-17:00; sat 10:00-14:00``."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, shifts in enumerate(days):
        if shifts:
            groups.setdefault(tuple(str(s) for s in shifts), []).append(index)
    return "; ".join(f"{_day_ranges(d)} {', '.join(shifts)}" for shifts, d in groups.items()) or "closed"


def _triggers(triggers: Iterable[Trigger]) -> str:
    return " or ".join(t.describe() for t in triggers)


def _target_text(target: Target, hours: str) -> str:
    """A target per priority, durations in the form of every command
    (:func:`sla.timefmt.duration_text`, exact): business ones in hours,
    calendar ones with days from a week up."""

    def one(w: Within) -> str:
        business = (w.hours or hours) == "business"
        return duration_text(w.within, business=business, exact=True) + (
            f" ({w.hours} hours)" if w.hours else ""
        )

    parts = [f"{scalar_text(prio)} {one(w)}" for prio, w in target.by_priority.items()]
    if target.default is not None:
        parts.append(("default " if target.by_priority else "") + one(target.default))
    return ", ".join(parts)


def _value(value: object) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return str(value)


def summarize(policies: PolicySet, path: str) -> str:
    """What ``sla validate`` prints for a good file: calendars, metrics, policies and targets."""
    calendars = {name: cal for name, cal in policies.calendars.items() if name != "24x7"}
    lines = [
        f"{path}: OK, {_plural(len(policies.policies), 'policy').replace('policys', 'policies')}, "
        f"{_plural(len(calendars), 'calendar')}"
    ]
    for name, cal in calendars.items():
        assert cal.schedule is not None  # only the built-in 24x7 has no weekly hours
        zoned = policies.zoned_calendars.get(name)
        zone = cal.zone.key if zoned is None else f"zone from {zoned.by}, else {zoned.default}"
        lines.append(f"  calendar {name} ({zone}): {weekly_hours(cal.schedule.days)}")
        extra = []
        if cal.holiday_country:
            where = cal.holiday_country + (f"-{cal.holiday_subdivision}" if cal.holiday_subdivision else "")
            extra.append(
                f"{where} holidays"
                + (f" ({', '.join(cal.holiday_categories)})" if cal.holiday_categories else "")
            )
        if cal.holiday_rules:
            recurring = sum(1 for rule in cal.holiday_rules if rule.rule is not None)
            extra.append(f"{_plural(len(cal.holiday_rules), 'iCalendar holiday')} ({recurring} recurring)")
        if cal.holiday_dates:
            extra.append(
                f"closed {', '.join(d.isoformat() for d in sorted(cal.holiday_dates)[:4])}"
                + (f" and {len(cal.holiday_dates) - 4} more" if len(cal.holiday_dates) > 4 else "")
            )
        if cal.overrides:
            shown = []
            for day in sorted(cal.overrides)[:3]:
                shifts = cal.overrides[day]
                shown.append(f"{day.isoformat()} {', '.join(str(s) for s in shifts) if shifts else 'closed'}")
            more = len(cal.overrides) - len(shown)
            extra.append("overrides " + "; ".join(shown) + (f" and {more} more" if more > 0 else ""))
        if extra:
            lines.append("    " + "; ".join(extra))
    done = list(policies.spec.done_statuses)
    lines.append(f"  done statuses: {', '.join(done)}")
    tuned = []
    for name in policies.active_metrics:
        metric = policies.metrics[name]
        rules = []
        if metric.pause_statuses:
            rules.append(f"paused while {', '.join(sorted(metric.pause_statuses))}")
        if metric.responders != frozenset({"agent"}):
            rules.append(f"responses from {', '.join(sorted(metric.responders))}")
        if metric.builtin:
            if rules:
                tuned.append(f"{name} {'; '.join(rules)}")
            continue
        lines.append(
            f"  custom metric {name}: starts on {_triggers(metric.start)}; "
            f"stops on {_triggers(metric.stop)}"
            + (f"; resumes on {_triggers(metric.resume)}" if metric.resume else "")
            + f"; cycles {metric.cycles}"
            + (f"; {'; '.join(rules)}" if rules else "")
            + ("; cancelled when done" if metric.cancel_on_done else "")
        )
    if tuned:
        lines.append(f"  clock rules: {' | '.join(tuned)}")
    if policies.derive_rules:
        lines.append("  derive, in order (each rule sees the ones before):")
        for number, rule in enumerate(policies.derive_rules, 1):
            lines.append(f"    {number}. {rule.describe()}")
    lines.append("  policies, first match wins:")
    for policy in policies.policies:
        choice = policy.spec.calendar
        if isinstance(choice, CalendarChoice):
            picks = ", ".join(f"{value} {name}" for value, name in choice.map.items())
            where = f"calendar by {choice.by} ({picks}; else {choice.default}), {policy.hours} hours"
        elif policy.calendar_name == "24x7":
            where = "calendar 24x7 (always open)"
        else:
            where = f"calendar {policy.calendar_name}, {policy.hours} hours"
        lines.append(f"    {policy.index + 1}. {policy.name}: {policy.condition.describe()}; {where}")
        effective = policy.spec.effective
        if effective is not None:
            bounds = [f"from {format_instant(effective.from_)}"] if effective.from_ is not None else []
            bounds += [f"until {format_instant(effective.until)}"] if effective.until is not None else []
            lines.append(f"         for tickets created {' '.join(bounds)}")
        width = max((len(m) for m in policy.spec.targets), default=0)
        for metric_name, target in policy.spec.targets.items():
            lines.append(f"         {metric_name.ljust(width)}  {_target_text(target, policy.hours)}")
        if not policy.spec.targets:
            lines.append("         (no targets: matching tickets are not measured)")
        warnings = policy.spec.warnings
        if warnings is not None and (warnings.at_percent or warnings.before_due):
            parts = [f"{p:g}%" for p in warnings.at_percent] + [
                f"{duration_text(d, business=policy.hours == 'business', exact=True)} before due"
                for d in warnings.before_due
            ]
            lines.append(f"         warnings at {', '.join(parts)}")
    return "\n".join(lines)
