"""A Zendesk SLA policy's ``policy_metrics`` as the targets of a policy.

Each metric entry (Zendesk's SLA Policies reference: ``priority``,
``metric``, ``target`` in minutes, ``target_in_seconds``,
``business_hours``) is one priority's target of one metric. Metric names
map as ``sla reconcile`` pairs them (:data:`ZENDESK_METRICS`). There is no
``default`` priority: Zendesk gives a ticket without a priority no target,
and so does a target map without ``default``. The policy's ``hours`` is
the kind most of its targets have; the others are written
``{within: D, hours: calendar}`` (or ``business``).

>>> targets, hours, skipped = policy_targets([
...     {"priority": "urgent", "metric": "first_reply_time", "target": 10, "business_hours": False},
...     {"priority": "low", "metric": "first_reply_time", "target": 90, "business_hours": True},
...     {"priority": "low", "metric": "total_resolution_time", "target": 2880, "business_hours": True},
...     {"priority": "low", "metric": "csat_time", "target": 1, "business_hours": True}])
>>> targets, hours
({'first_response': {'low': '1h30m', 'urgent': {'within': '10m', 'hours': 'calendar'}}, \
'resolution': {'low': '48h'}}, 'business')
>>> skipped
["policy_metrics[3] csat_time for priority low: metric 'csat_time' has no counterpart here"]
"""

from __future__ import annotations

from collections.abc import Mapping

from sla.importers.zendesk_filter import PRIORITIES

#: Zendesk SLA metrics to this contract's metrics (as ``sla reconcile`` pairs them).
ZENDESK_METRICS = {
    "first_reply_time": "first_response",
    "next_reply_time": "next_response",
    "periodic_update_time": "periodic_update",
    "pausable_update_time": "pausable_update",
    "requester_wait_time": "requester_wait",
    "agent_work_time": "agent_work",
    "total_resolution_time": "resolution",
    "resolution_time": "resolution",
    "group_ownership_time": "group_ownership",
}
_METRIC_ORDER = list(dict.fromkeys(ZENDESK_METRICS.values()))

Targets = dict[str, dict[str, object]]


def policy_targets(metrics: object) -> tuple[Targets, str, list[str]]:
    """The targets (metric to priority to duration or ``{within, hours}``),
    the policy's kind of hours, and a line for each entry left out."""
    found: dict[str, dict[str, tuple[int, bool]]] = {}
    skipped: list[str] = []
    for index, item in enumerate(metrics if isinstance(metrics, list) else []):
        item = item if isinstance(item, Mapping) else {}
        metric, priority = ZENDESK_METRICS.get(str(item.get("metric"))), item.get("priority")
        seconds = item.get("target_in_seconds")
        if type(seconds) is not int:
            minutes = item.get("target")
            seconds = minutes * 60 if type(minutes) is int else None
        where = f"policy_metrics[{index}] {item.get('metric')} for priority {priority}"
        if metric is None:
            skipped.append(f"{where}: metric {item.get('metric')!r} has no counterpart here")
        elif not isinstance(priority, str) or not priority:
            skipped.append(f"{where}: no priority")
        elif seconds is None or seconds < 0:
            skipped.append(f"{where}: target is not a whole number of minutes")
        elif priority in found.get(metric, {}):
            skipped.append(f"{where}: a second target for the same metric and priority")
        else:
            found.setdefault(metric, {})[priority] = (seconds, item.get("business_hours") is True)
    kinds = [business for per in found.values() for _, business in per.values()]
    hours = "calendar" if kinds.count(False) > kinds.count(True) else "business"
    targets: Targets = {}
    for metric in [m for m in _METRIC_ORDER if m in found]:
        per: dict[str, object] = targets.setdefault(metric, {})
        for priority, (seconds, business) in sorted(found[metric].items(), key=_priority_rank):
            kind = "business" if business else "calendar"
            per[priority] = (
                duration(seconds) if kind == hours else {"within": duration(seconds), "hours": kind}
            )
    return targets, hours, skipped


def _priority_rank(item: tuple[str, object]) -> tuple[int, str]:
    """Zendesk's priorities low to urgent first, then any others by name."""
    priority = item[0]
    return (PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES), priority)


def duration(seconds: int) -> str:
    """Seconds as a duration in hours, minutes and seconds, never ``d`` (a
    day of business hours is not 24 of them).

    >>> duration(172800), duration(5430), duration(0)
    ('48h', '1h30m30s', '0m')
    """
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0m"


__all__ = ["ZENDESK_METRICS", "duration", "policy_targets"]
