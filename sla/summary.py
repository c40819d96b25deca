"""A one-screen summary of a policy file, for ``sla validate``."""

from __future__ import annotations

from .policyset import PolicySet


def _duration(us: int) -> str:
    seconds = us // 1_000_000
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def summarize(policies: PolicySet, path: str) -> str:
    lines = [f"{path}: OK, {len(policies.policies)} policies, {len(policies.calendars) - 1} calendars"]
    lines.append(f"  done statuses: {', '.join(sorted(policies.done_statuses))}")
    for name, cal in policies.calendars.items():
        if name == "24x7":
            continue
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        hours = "; ".join(f"{d} {' '.join(str(s) for s in shifts)}" for d, shifts in zip(days, cal.schedule.days) if shifts)
        extra = []
        if cal.holiday_country:
            extra.append(f"holidays {cal.holiday_country}{'-' + cal.holiday_subdivision if cal.holiday_subdivision else ''}")
        if cal.holiday_dates:
            extra.append(f"{len(cal.holiday_dates)} extra closed dates")
        if cal.overrides:
            extra.append(f"{len(cal.overrides)} overrides")
        lines.append(f"  calendar {name} ({cal.zone.key}): {hours}" + (f" [{', '.join(extra)}]" if extra else ""))
    lines.append("  policies (first match wins):")
    for policy in policies.policies:
        match = ", ".join(f"{k} {'in ' + str(list(v)) if is_list else '= ' + repr(v)}" for k, v, is_list in policy.match) or "every ticket"
        lines.append(f"    {policy.index + 1}. {policy.name}: {match}; calendar {policy.calendar_name}, {policy.hours} hours")
        for metric, target in policy.spec.targets.items():
            parts = [f"{prio} {_duration(w.within)}{' (' + w.hours + ')' if w.hours else ''}" for prio, w in target.by_priority.items()]
            if target.default is not None:
                w = target.default
                parts.append(("default " if target.by_priority else "") + _duration(w.within) + (f" ({w.hours})" if w.hours else ""))
            lines.append(f"       {metric}: {', '.join(parts)}")
    custom = [m for m in policies.metrics.values() if not m.builtin]
    if custom:
        lines.append("  custom metrics:")
        for m in custom:
            lines.append(f"    {m.name}: start on {', '.join(t.describe() for t in m.start)}; stop on "
                         f"{', '.join(t.describe() for t in m.stop)}; cycles {m.cycles}"
                         + (f"; paused while {', '.join(sorted(m.pause_statuses))}" if m.pause_statuses else ""))
    return "\n".join(lines)
