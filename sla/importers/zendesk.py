"""Zendesk exports as section-3 events (``sla import zendesk``) and
Zendesk's own SLA verdicts (``sla reconcile zendesk``).

Documents are recognised by their content (:meth:`ZendeskSource.recognise`):
a saved page by its envelope key, a JSON Lines record by its distinctive
fields:

==========================  =============================  ===============================================
kind                        page envelope key(s)           a JSON Lines record that has
==========================  =============================  ===============================================
``audits``                  ``audits``, ``audit``          ``events`` (a list) and ``ticket_id``
``ticket_events``           ``ticket_events``              ``child_events``
``ticket_metric_events``    ``ticket_metric_events``       ``metric`` and ``instance_id``
``satisfaction_ratings``    ``satisfaction_ratings``,      ``score`` and ``ticket_id``
                            ``satisfaction_rating``
``users``                   ``users``, ``user``            ``role`` and ``id``, no ``ticket_id``
``tickets``                 ``tickets``, ``ticket``        ``requester_id``, ``status`` and ``id``, no
                                                           ``ticket_id``
``sla_policies``,           ``sla_policies``,              ``policy_metrics``; ``intervals`` and
``schedules``, ``holidays`` ``sla_policy``, ``schedules``, ``time_zone``; ``start_date`` and ``end_date``
                            ``schedule``, ``holidays``
==========================  =============================  ===============================================

The record rules are tried first, in this order (a ticket record holds a
``satisfaction_rating`` object, no page of ratings), then the envelope keys;
a page may hold several (side-loads such as ``include=users``). The last
row is for ``--policies-output`` (:mod:`sla.importers.zendesk_policies`):
this source recognises those pages, so that they sit in the same folder,
and reads nothing from them.

How records become events is told in :mod:`~sla.importers.zendesk_audits`
(audits, ticket events) and :mod:`~sla.importers.zendesk_metrics` (metric
events); after every file, :meth:`ZendeskSource.finish_ticket`:

- drops an audit read twice: from overlapping pages, or from both the audits
  API and the incremental ticket event export (whose event ``id`` is the
  audit's id; the audits API's copy is kept);
- keeps the ticket's latest ``good`` (5) or ``bad`` (1) satisfaction rating,
  at its ``updated_at``;
- completes the ``created`` fields: a field first seen in a ``Change`` takes
  its ``previous_value``; one the events never mention takes the tickets
  file's value; ``channel`` is the tickets file's ``via.channel`` when there
  is one (the ticket event export only names its via for display);
- resolves comment authors: the system user (-1) is ``bot``; a user that any
  users record shows as ``agent`` or ``admin`` is ``agent``, and so is one
  the exports show as a ticket's assignee (a deleted or downgraded agent is
  written back as an end-user, but only agents are assigned tickets);
  another user in the users files is ``customer``; an author missing from
  them is ``customer`` too, counted in :meth:`ZendeskSource.notes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar, cast

from sla.importers.base import Emit, EventDict, RecordError, Source, VendorCycle, id_number, id_text
from sla.importers.zendesk_audits import (
    ATTRIBUTE_NAMES,
    Mapped,
    attribute_value,
    audit_steps,
    map_steps,
    ticket_event_steps,
)
from sla.importers.zendesk_finish import (
    Roles,
    complete_creation,
    drop_copies,
    finish_events,
    latest_rating,
    sort_for_processing,
)
from sla.importers.zendesk_metrics import MetricEvents, MetricsLearnt, ZendeskCycle
from sla.importers.zendesk_values import as_object, instant_us, ticket_of, via_channel
from sla.timefmt import format_instant

__all__ = ["ZendeskCycle", "ZendeskSource", "record_kind"]

#: Envelope keys of saved pages and the kinds of their records.
ENVELOPES = {
    "audits": "audits",
    "audit": "audits",
    "ticket_events": "ticket_events",
    "ticket_metric_events": "ticket_metric_events",
    "satisfaction_ratings": "satisfaction_ratings",
    "satisfaction_rating": "satisfaction_ratings",
    "users": "users",
    "user": "users",
    "tickets": "tickets",
    "ticket": "tickets",
    "sla_policies": "sla_policies",
    "schedules": "schedules",
    "schedule": "schedules",
    "sla_policy": "sla_policies",
    "holidays": "holidays",
}
#: Kinds this source recognises but reads nothing from.
POLICY_KINDS = frozenset({"sla_policies", "schedules", "holidays"})
#: Builds an :class:`Emit` without the named tuple's Python-level ``__new__``.
_new_emit = tuple.__new__
#: Which copy of an audit read twice is kept: the lower rank.
_RANK = {"audits": 0, "ticket_events": 1}
_SCORES = {"good": 5, "bad": 1}
_WHAT = {"audits": "an audit", "ticket_events": "a ticket event"}
#: What a copy of the source learnt while reading (``ZendeskSource.learnt``).
_Learnt = tuple[
    tuple[dict[str, set[str]], set[str]],
    dict[str, tuple[tuple[int, int], dict[str, object]]],
    MetricsLearnt,
]


def record_kind(record: Mapping[str, object]) -> str | None:
    """The kind of one JSON Lines record by its distinctive fields (the
    table in the module text), or None."""
    has = record.__contains__
    if has("child_events"):
        return "ticket_events"
    if isinstance(record.get("events"), list) and has("ticket_id"):
        return "audits"
    if has("metric") and has("instance_id"):
        return "ticket_metric_events"
    if has("score") and has("ticket_id"):
        return "satisfaction_ratings"
    if has("role") and has("id") and not has("ticket_id"):
        return "users"
    if has("requester_id") and has("status") and has("id") and not has("ticket_id"):
        return "tickets"
    if has("policy_metrics"):
        return "sla_policies"
    if has("intervals") and has("time_zone"):
        return "schedules"
    if has("start_date") and has("end_date"):
        return "holidays"
    return None


class ZendeskSource(Source):
    """Zendesk Support API responses (see the module text)."""

    name: ClassVar[str] = "zendesk"
    reads_vendor_slas: ClassVar[bool] = True  # ticket metric events

    def __init__(self) -> None:
        self._roles = Roles()
        # id -> ((updated_at, -file index), attributes): the latest record, the first read of equals
        self._tickets: dict[str, tuple[tuple[int, int], dict[str, object]]] = {}
        self._file = 0  # the index of the file being read
        self._metrics = MetricEvents()
        self._reads = 0  # numbers each update read, to tell copies of an audit apart
        self._copies_dropped = 0

    # -- recognising -------------------------------------------------------

    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        """The records of a saved page (by envelope key) or of one JSON Lines
        record (by its fields), or None when ``doc`` is not Zendesk's."""
        if not isinstance(doc, Mapping):
            return None
        # A record first: a ticket record holds a `satisfaction_rating`
        # object, which is no page of ratings.
        single = record_kind(doc)
        if single is not None:
            return [(single, [doc])]
        found: dict[str, list[object]] = {}
        for key, kind in ENVELOPES.items():
            value = doc.get(key)
            if isinstance(value, list):
                if kind in found:
                    found[kind].extend(value)
                else:
                    found[kind] = value  # the page's own list: the reader frees its records as it goes
            elif isinstance(value, Mapping):
                found.setdefault(kind, []).append(value)
        return list(found.items()) or None

    # -- reading -----------------------------------------------------------

    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle]:
        """Learn from one record or emit its events (see the module text)."""
        if kind in POLICY_KINDS:
            return []
        if type(record) is dict:  # the common case, without the ABC check
            data: Mapping[str, object] = record
        else:
            data = record if isinstance(record, Mapping) else as_object(record, _WHAT.get(kind, "a record"))
        if kind == "ticket_events":  # the bulk of an incremental export first
            if "metric" in data and "child_events" not in data:
                raise RecordError(
                    "a ticket metric event inside ticket_events (copied from Zendesk's documentation "
                    "example, which is wrong): save /api/v2/incremental/ticket_metric_events for these"
                )
            at, channel, steps = ticket_event_steps(data)
            return self._update(ticket_of(data), kind, data.get("id"), map_steps(at, channel, steps))
        if kind == "audits":
            at, channel, steps = audit_steps(data)
            return self._update(ticket_of(data), kind, data.get("id"), map_steps(at, channel, steps))
        if kind == "users":
            self._user(data)
            return []
        if kind == "tickets":
            self._ticket(data)
            return []
        if kind == "satisfaction_ratings":
            return self._rating(data)
        if kind == "ticket_metric_events":
            cycle = self._metrics.add(data)
            return [] if cycle is None else [cycle]
        raise RecordError(f"{kind}: not a kind of Zendesk record this importer reads")

    def _update(self, ticket: str, kind: str, raw_id: object, mapped: Mapped) -> list[Emit]:
        """One update's events with their placeholders: ``_audit`` (which
        copy of which audit) and ``_order`` (ties in audit order)."""
        self._reads += 1
        reads = self._reads
        if mapped.assignees:
            self._roles.assignees |= mapped.assignees
        audit = raw_id if type(raw_id) is int else id_number(raw_id)
        rank = _RANK[kind]
        out = []
        for position, event in enumerate(mapped.events):
            event["_audit"] = [rank, audit, reads]
            event["_order"] = [0, audit or 0, position]
            out.append(_new_emit(Emit, (ticket, event)))
        return out

    def _user(self, user: Mapping[str, object]) -> None:
        """Learn a user's role (every record of it counts)."""
        uid = id_text(user.get("id"))
        if uid is None:
            raise RecordError(f"id is {user.get('id')!r}; expected a user id")
        self._roles.learn(uid, user.get("role"))

    def _ticket(self, ticket: Mapping[str, object]) -> None:
        """Learn a ticket's attributes (its latest record by ``updated_at``)."""
        tid = ticket_of(ticket, "id")
        attrs: dict[str, object] = {}
        for field_name, name in ATTRIBUTE_NAMES.items():
            value = attribute_value(field_name, ticket[field_name]) if field_name in ticket else None
            if value is not None:
                attrs[name] = value
        custom = ticket.get("custom_fields")
        for item in custom if isinstance(custom, list) else []:
            fid = id_text(item.get("id")) if isinstance(item, Mapping) else None
            if fid is not None and item.get("value") is not None:
                attrs[f"custom_{fid}"] = item["value"]
        channel = via_channel(ticket.get("via"))
        if channel is not None:
            attrs["channel"] = channel
        if isinstance(attrs.get("assignee"), str):
            self._roles.assignees.add(str(attrs["assignee"]))
        raw = ticket.get("updated_at")
        updated = (instant_us(raw, "updated_at") if raw is not None else -1, -self._file)
        if tid not in self._tickets or updated > self._tickets[tid][0]:
            self._tickets[tid] = (updated, attrs)

    def _rating(self, rating: Mapping[str, object]) -> list[Emit]:
        """A ``good`` or ``bad`` rating as a ``csat`` at its ``updated_at``
        (``finish_ticket`` keeps each ticket's latest); others are no score."""
        ticket = ticket_of(rating)
        assignee = id_text(rating.get("assignee_id"))
        if assignee is not None:
            self._roles.assignees.add(assignee)
        label = rating.get("score")
        score = _SCORES.get(label) if isinstance(label, str) else None
        if score is None:
            return []  # offered, unoffered
        raw = rating["updated_at"] if rating.get("updated_at") is not None else rating.get("created_at")
        at = instant_us(raw, "updated_at")
        number = id_number(rating.get("id")) or 0
        event: EventDict = {"type": "csat", "at": format_instant(at), "score": score}
        event["_rating"] = [at, number]
        event["_order"] = [1, number, 0]
        return [Emit(ticket, event)]

    # -- reading with several processes -------------------------------------

    mergeable: ClassVar[bool] = True
    finishes_in_time_order: ClassVar[bool] = True  # section 3's processing order, every `at` made here

    def start_file(self, index: int) -> None:
        """Number the updates of file ``index`` after every earlier file's,
        whichever process read those (copies of an audit: the first read wins)."""
        self._file = index
        self._reads = index << 32

    def learnt(self) -> _Learnt:
        """Roles, assignees, ticket records and metric events read."""
        return self._roles.learnt(), self._tickets, self._metrics.learnt()

    def absorb(self, learnt: object) -> None:
        """Fold in another copy's :meth:`learnt`."""
        roles, tickets, metrics = cast(_Learnt, learnt)
        self._roles.absorb(roles)
        for tid, (updated, attrs) in tickets.items():
            if tid not in self._tickets or updated > self._tickets[tid][0]:
                self._tickets[tid] = (updated, attrs)
        self._metrics.absorb(metrics)

    def finish_facts(self) -> object:
        """Authors noted and audit copies dropped since the last call."""
        facts = self._roles.take_finish_facts(), self._copies_dropped
        self._copies_dropped = 0
        return facts

    def absorb_finish(self, facts: object) -> None:
        """Fold in another copy's :meth:`finish_facts`."""
        roles, dropped = cast(tuple[tuple[set[str], set[str]], int], facts)
        self._roles.absorb_finish(roles)
        self._copies_dropped += dropped

    # -- finishing ---------------------------------------------------------

    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's final events: copies of an audit dropped, the latest
        rating kept, the creation completed, authors resolved, placeholders
        removed, in section 3's processing order. The events are changed in
        place: they are the caller's to give up (read back for this call)."""
        kept, dropped = drop_copies(events)
        self._copies_dropped += dropped
        kept = latest_rating(kept)
        sort_for_processing(kept)
        created = [e for e in kept if e.get("type") == "created"]
        if not created:
            raise RecordError(
                "no creation (no audit with Create events): the export starts after the ticket was "
                "created; export its audits, or the ticket events from before its creation"
            )
        if len(created) > 1:
            raise RecordError(f"{len(created)} creations (audits with Create events) at {created[1]['at']}")
        if kept[0] is not created[0]:
            raise RecordError(f"an update at {kept[0]['at']} comes before the creation at {created[0]['at']}")
        complete_creation(created[0], kept, self._tickets.get(ticket, (0, {}))[1])
        return ticket, finish_events(kept, self._roles)

    def notes(self) -> list[str]:
        """What the summary should say about defaults taken."""
        out = self._roles.notes()
        if self._copies_dropped:
            out.append(f"{self._copies_dropped:,} copies of audits read twice were dropped")
        for metric, count in sorted(self._metrics.unknown.items()):
            out.append(f"{count:,} ticket metric event(s) of metric {metric!r} skipped: no such metric here")
        return out
