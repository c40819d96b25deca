"""Freshdesk (API v2): saved pages of tickets, conversations, agents, ticket
fields and contacts in, section-3 events out.

Freshdesk list responses are bare JSON arrays (no envelope), so each page is
recognised by the keys of its first record
(https://developers.freshdesk.com/api/, "Pagination"):

- ``GET /api/v2/tickets?include=stats`` (or one ticket,
  ``GET /api/v2/tickets/{id}?include=stats``; search pages,
  ``GET /api/v2/search/tickets``, carry no stats): the ``created`` event with
  the ticket's fields and the status history :mod:`.freshdesk_stats`
  rebuilds from ``stats``, and the ticket's description as the requester's
  first message (an agent's for an Outbound Email ticket);
- ``GET /api/v2/tickets/{id}/conversations`` (or embedded in a ticket
  saved with ``include=conversations``): a ``message`` each; a
  conversation carries no author role: a user in the agents list is an
  agent, the ticket's requester the customer (``incoming`` is only whether
  it came from outside the portal), others are the customer's when
  ``incoming``, else an agent's; ``private`` ones are ``public: false``.
  Freshdesk has no bot users;
- ``GET /api/v2/agents``: which users are agents;
- ``GET /api/v2/ticket_fields``: the names of custom statuses (codes from 6)
  and of the ticket sources;
- ``GET /api/v2/contacts``: recognised, not needed (anyone not an agent is a
  customer).

A ticket without conversations gets the responses ``stats`` names
(``first_responded_at``, ``agent_responded_at``, ``requester_responded_at``).
Fields are the ticket's values today: Freshdesk keeps no history of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sla.importers.base import Emit, EventDict, RecordError, Source, VendorCycle, id_text
from sla.importers.base import record_instant as instant
from sla.importers.base import word as normalise
from sla.importers.freshdesk_finish import MESSAGE, TICKET, FreshdeskTickets
from sla.importers.freshdesk_stats import PRIORITY_NAMES, code, read_stats
from sla.timefmt import format_instant

_ID_FIELDS = (
    ("group", "group_id"),
    ("assignee", "responder_id"),
    ("requester", "requester_id"),
    ("organization", "company_id"),
    ("product", "product_id"),
)


def record_kind(record: object) -> str | None:
    """Which Freshdesk record ``record`` is, by its keys, or None.

    >>> record_kind({"ticket_id": 1, "incoming": True, "private": False, "user_id": 5})
    'conversations'
    """
    if not isinstance(record, Mapping):
        return None
    keys = record.keys()
    if {"ticket_id", "incoming", "private", "user_id"} <= keys:
        return "conversations"
    if {"id", "requester_id", "status", "priority", "source", "created_at"} <= keys:
        return "tickets"
    if isinstance(record.get("contact"), Mapping) and {"id", "ticket_scope"} <= keys:
        return "agents"
    if {"name", "label", "type", "position"} <= keys:
        return "ticket_fields"
    if {"id", "name", "email", "time_zone", "language"} <= keys:
        return "contacts"
    return None


class FreshdeskSource(Source):
    """Freshdesk API v2 responses (see the module's docstring)."""

    name = "freshdesk"

    def __init__(self) -> None:
        self._tickets = FreshdeskTickets()

    # ----------------------------------------------------------- reading
    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        """A bare array of one kind of record (its first decides), the
        ``{"total", "results"}`` page of a search (``GET
        /api/v2/search/tickets``), or one record."""
        if isinstance(doc, Mapping) and isinstance(doc.get("results"), list) and "total" in doc:
            doc = doc["results"]
        if isinstance(doc, list):
            if not doc:
                return []
            kind = record_kind(doc[0])
            return None if kind is None else [(kind, list(doc))]
        kind = record_kind(doc)
        return None if kind is None else [(kind, [doc])]

    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle]:
        """Emit a ticket's creation or a conversation's message; learn agents,
        status and source names."""
        if not isinstance(record, Mapping):
            raise RecordError(f"a {kind} record must be a JSON object, not {type(record).__name__}")
        if kind == "tickets":
            return self._ticket(record)
        if kind == "conversations":
            return [self._conversation(record)]
        if kind == "agents":
            agent = code(record.get("id"))
            if agent is None:
                raise RecordError("agent without a numeric id")
            self._tickets.agents.add(agent)
        elif kind == "ticket_fields":
            self._ticket_field(record)
        elif kind != "contacts":
            raise RecordError(f"unknown record kind {kind!r}")
        return []

    def _ticket(self, record: Mapping[str, object]) -> list[Emit]:
        """The ticket's creation, and the conversations a ticket saved with
        ``include=conversations`` embeds (each a message, as from its own page)."""
        ticket = id_text(record.get("id"))
        if ticket is None:
            raise RecordError("ticket without an id")
        created = instant(record, "created_at", required=True)
        assert created is not None
        updated = instant(record, "updated_at")
        status = code(record.get("status"))
        if status is None:
            raise RecordError(
                f"status is {record.get('status')!r}; expected a status code (2 to 5, or custom)"
            )
        data = {
            "version": updated if updated is not None else created,
            "status": status,
            "source": code(record.get("source")),
            "requester": code(record.get("requester_id")),
            "stats": read_stats(record.get("stats")),
            "updated": updated,
        }
        event: EventDict = {
            "at": format_instant(created),
            "type": "created",
            "status": "open",
            "fields": self._fields(record),
            TICKET: data,
        }
        out = [Emit(ticket, event)]
        embedded = record.get("conversations")
        if isinstance(embedded, list):
            for index, conversation in enumerate(embedded):
                if not isinstance(conversation, Mapping):
                    raise RecordError(f"conversations[{index}] is not a JSON object")
                out.append(self._conversation({"ticket_id": record.get("id"), **conversation}))
        return out

    def _fields(self, record: Mapping[str, object]) -> dict[str, object]:
        fields: dict[str, object] = {}
        priority = code(record.get("priority"))
        if priority is not None:
            fields["priority"] = PRIORITY_NAMES.get(priority, str(priority))
            if priority not in PRIORITY_NAMES:
                self._tickets.unknown_codes.add(f"priority {priority}")
        kind = record.get("type")
        if isinstance(kind, str) and kind.strip():
            fields["type"] = kind
        for name, key in _ID_FIELDS:
            value = id_text(record.get(key))
            if value is not None:
                fields[name] = value
        tags = record.get("tags")
        if isinstance(tags, list):
            fields["tags"] = [tag for tag in tags if isinstance(tag, str)]
        custom = record.get("custom_fields")
        if isinstance(custom, Mapping):
            for key, value in custom.items():
                if isinstance(value, (str, int, float, bool)):
                    fields[f"custom_{key}"] = value
        return fields

    def _conversation(self, record: Mapping[str, object]) -> Emit:
        ticket = id_text(record.get("ticket_id"))
        if ticket is None:
            raise RecordError("conversation without a ticket_id")
        at = instant(record, "created_at", required=True)
        assert at is not None
        updated = instant(record, "updated_at")
        private, incoming = record.get("private"), record.get("incoming")
        for key, value in (("private", private), ("incoming", incoming)):
            if value is not None and not isinstance(value, bool):
                raise RecordError(f"{key} is {value!r}; expected true or false")
        data = {
            "id": code(record.get("id")),
            "user": code(record.get("user_id")),
            "incoming": bool(incoming),
            "version": updated if updated is not None else at,
        }
        event: EventDict = {
            "at": format_instant(at),
            "type": "message",
            "author": "customer" if incoming else "agent",  # settled in finish_ticket
            "public": not private,
            MESSAGE: data,
        }
        return Emit(ticket, event)

    def _ticket_field(self, record: Mapping[str, object]) -> None:
        choices = record.get("choices")
        if not isinstance(choices, Mapping):
            return
        if record.get("name") == "status":  # {"6": ["Waiting on Customer", "Awaiting your Reply"]}
            for key, labels in choices.items():
                label = labels[0] if isinstance(labels, list) and labels else labels
                if str(key).isdigit() and isinstance(label, str) and label.strip():
                    self._tickets.status_names[int(key)] = normalise(label)
        elif record.get("name") == "source":  # {"Email": 1, ...}
            for label, number in choices.items():
                if code(number) is not None and isinstance(label, str) and label.strip():
                    self._tickets.source_names[number] = normalise(label)

    # --------------------------------------------------------- finishing
    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's events: its latest ticket record rebuilt, conversations
        once each with their authors, all in time order."""
        return self._tickets.finish(ticket, events)

    def notes(self) -> list[str]:
        """What Freshdesk's export cannot show, with counts."""
        return self._tickets.notes()


__all__ = ["FreshdeskSource", "record_kind"]
