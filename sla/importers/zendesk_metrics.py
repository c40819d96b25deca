"""Zendesk ticket metric events as the vendor's own SLA cycles (``sla reconcile``).

Zendesk writes one record per happening of a metric instance: ``activate``,
``pause``, ``fulfill``, ``apply_sla`` (the target), ``breach`` (scheduled
when the target is set; ``deleted`` once the instance was fulfilled in
time), ``update_status`` (the minutes counted so far), ``measure``. A cycle
is all the records of one (ticket, metric, instance), whatever file they
came in, so :class:`MetricEvents` keeps them and, for each record read,
gives the cycle as it stands with every record of it read so far: the last
:class:`ZendeskCycle` given for a (``ticket``, ``metric``, ``cycle``) is the
whole cycle, whatever the order of the files.

- ``reply_time`` instance 1 is ``first_response`` cycle 1, instance k > 1
  ``next_response`` cycle k - 1; ``requester_wait_time``,
  ``agent_work_time``, ``periodic_update_time``, ``pausable_update_time``,
  ``group_ownership_time`` and ``resolution_time`` are the metrics of those
  names without ``_time``, cycle = instance (section 14). Instance 0 (the
  ``measure`` records) is no cycle.
- ``started_at``: the first ``activate``; ``ended``/``ended_at``: the
  instance's last ``activate`` or ``fulfill`` is a ``fulfill`` (a reopened
  resolution is activated again and is open); ``breach_at``: the earliest
  ``breach`` not ``deleted``, whether or not it lies before ``now`` -
  :meth:`ZendeskCycle.verdict` applies ``now``.
- ``target_seconds``/``business_hours``: the last ``apply_sla`` (or
  ``apply_group_sla``), ``sla.target_in_seconds`` or ``sla.target``
  minutes; ``elapsed_seconds``: the last ``update_status``, its
  ``business`` or ``calendar`` minutes as the target's hours say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sla.importers.base import RecordError, VendorCycle, id_number
from sla.importers.zendesk_values import instant_us, ticket_of

#: Zendesk metric names and this contract's (``reply_time`` is split by instance).
METRICS = {
    "reply_time": "first_response",
    "requester_wait_time": "requester_wait",
    "agent_work_time": "agent_work",
    "periodic_update_time": "periodic_update",
    "pausable_update_time": "pausable_update",
    "group_ownership_time": "group_ownership",
    "resolution_time": "resolution",
}


@dataclass(frozen=True, slots=True)
class ZendeskCycle(VendorCycle):
    """A :class:`VendorCycle` with what Zendesk's verdict needs at ``now``.

    ``breached`` is True when a breach record that is not deleted exists
    (at any time), False for an ended cycle without one, else None;
    ``breach_at`` is that breach's instant (epoch microseconds);
    ``business_hours`` whether the target counts business hours.
    """

    business_hours: bool | None = None

    def verdict(self, now: int) -> bool | None:
        """Zendesk's verdict as of ``now`` (epoch microseconds): breached
        when the breach lies at or before ``now``; not breached when the
        cycle ended by then; else None (no verdict yet).

        >>> c = ZendeskCycle("1", "first_response", "reply_time", 1, True, True, ended_at=50, breach_at=20)
        >>> c.verdict(10), c.verdict(20), c.verdict(60)
        (None, True, True)
        """
        if self.breach_at is not None and self.breach_at <= now:
            return True
        if self.ended and self.ended_at is not None and self.ended_at <= now:
            return False
        return None


@dataclass(frozen=True, slots=True)
class _Record:
    """One metric event as kept: when, what, and its payload."""

    at: int
    order: int
    type: str
    deleted: bool
    sla: Mapping[str, object] | None
    status: Mapping[str, object] | None


#: What a copy of :class:`MetricEvents` read (its records and unknown metrics).
MetricsLearnt = tuple[dict[tuple[str, str, int], dict[int, _Record]], Counter[str]]
#: Records without an id sort after those with one at the same instant.
_NO_ID = 1 << 80


class MetricEvents:
    """Every metric event read, by (ticket, metric, cycle)."""

    def __init__(self) -> None:
        self._cycles: dict[tuple[str, str, int], dict[int, _Record]] = {}
        #: Records of metrics this contract has no name for, by metric name.
        self.unknown: Counter[str] = Counter()

    def learnt(self) -> MetricsLearnt:
        """The records kept and the unknown metrics counted (for :meth:`absorb`)."""
        return self._cycles, self.unknown

    def absorb(self, learnt: MetricsLearnt) -> None:
        """Fold in another copy's :meth:`learnt` (a record read by both counts once)."""
        cycles, unknown = learnt
        for key, records in cycles.items():
            self._cycles.setdefault(key, {}).update(records)
        self.unknown.update(unknown)

    def add(self, record: Mapping[str, object]) -> ZendeskCycle | None:
        """Keep one metric event; the cycle it belongs to as it now stands,
        or None for a record that belongs to no cycle."""
        ticket = ticket_of(record)
        vendor = record.get("metric")
        given = record.get("instance_id")
        instance = id_number(given)  # warehouse exports write it as text, like the ids
        kind = record.get("type")
        if not isinstance(vendor, str) or not isinstance(kind, str):
            raise RecordError(f"metric {vendor!r}, type {kind!r}: expected a metric event's names")
        if instance is None:
            raise RecordError(f"instance_id is {given!r}; expected an integer")
        at = instant_us(record.get("time"), "time")
        if vendor not in METRICS:
            self.unknown[vendor] += 1
            return None
        if instance < 1:
            return None  # `measure` records: the metric is measured, no cycle
        metric, cycle = METRICS[vendor], instance
        if vendor == "reply_time" and instance > 1:
            metric, cycle = "next_response", instance - 1
        sla = record.get("sla") if kind == "apply_sla" else record.get("group_sla")
        status = record.get("status")
        records = self._cycles.setdefault((ticket, metric, cycle), {})
        # Records of one instant in id order (Zendesk's ids grow), so the
        # order of the files does not matter; a record read twice counts once.
        key = id_number(record.get("id"))
        order = key if key is not None else _NO_ID + len(records)
        records[order] = _Record(
            at,
            order,
            kind,
            record.get("deleted") is True,
            sla if isinstance(sla, Mapping) else None,
            status if isinstance(status, Mapping) else None,
        )
        return _cycle(ticket, metric, vendor, cycle, records)


def _cycle(ticket: str, metric: str, vendor: str, cycle: int, kept: dict[int, _Record]) -> ZendeskCycle:
    """A cycle from every record of it (see the module text)."""
    records = sorted(kept.values(), key=lambda r: (r.at, r.order))
    started = next((r.at for r in records if r.type == "activate"), None)
    ended_at: int | None = None
    for r in records:
        if r.type == "activate":
            ended_at = None
        elif r.type == "fulfill":
            ended_at = r.at
    breach_at = min((r.at for r in records if r.type == "breach" and not r.deleted), default=None)
    target: float | None = None
    business: bool | None = None
    for r in records:
        if r.sla is not None:
            target, business = _target(r.sla)
    elapsed: float | None = None
    for r in records:
        if r.type == "update_status" and r.status is not None:
            minutes = r.status.get("business" if business else "calendar")
            if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
                elapsed = float(minutes) * 60
    return ZendeskCycle(
        ticket=ticket,
        metric=metric,
        vendor_metric=vendor,
        cycle=cycle,
        breached=True if breach_at is not None else (False if ended_at is not None else None),
        ended=ended_at is not None,
        elapsed_seconds=elapsed,
        started_at=started,
        ended_at=ended_at,
        target_seconds=target,
        breach_at=breach_at,
        business_hours=business,
    )


def _target(sla: Mapping[str, object]) -> tuple[float | None, bool | None]:
    """An ``sla`` object's target in seconds and whether it is in business hours."""
    seconds = sla.get("target_in_seconds")
    minutes = sla.get("target")
    target: float | None = None
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        target = float(seconds)
    elif isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
        target = float(minutes) * 60
    business = sla.get("business_hours")
    return target, business if isinstance(business, bool) else None
