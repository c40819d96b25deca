"""Zammad (REST API v1): saved responses of tickets, ticket histories,
articles, states and priorities in, section-3 events out.

Zammad answers lists with bare JSON arrays; each page is recognised by the
keys of its first record (docs.zammad.org, "API", and Zammad's source for
the history):

- ``GET /api/v1/tickets`` (with or without ``expand=true``), one ticket
  (``GET /api/v1/tickets/{id}``), or the ``assets`` of a search
  (``GET /api/v1/tickets/search``) or of a history: the ticket's creation;
- ``GET /api/v1/ticket_history/{id}`` (``{"history": [...], "assets":
  {...}}``): ``state`` changes are ``status`` events; ``priority``,
  ``group``, ``owner``, ``customer``, ``organization`` and ``type`` changes
  are ``update`` events; other entries are not needed;
- ``GET /api/v1/ticket_articles/by_ticket/{id}``: a ``message`` each, by
  the article's sender: ``Agent`` is ``agent``, ``Customer`` is
  ``customer``, ``System`` (triggers, automations) is ``bot``; ``internal``
  ones (internal notes) are ``public: false``. Notes that are not internal
  are public messages;
- ``GET /api/v1/ticket_states`` and ``GET /api/v1/ticket_priorities``: the
  names behind ids.

Attributes: ``priority`` (the name without its number: ``2 normal`` is
``normal``), ``channel`` (the type of the creating article), ``type``,
``group``, ``assignee`` (the owner; none for the system user 1),
``requester`` (the customer), ``organization`` (ids as strings) and
``tags`` when the record has them. Tickets come out under their number
(``53004``), the id shown to people. The work of putting it together is in
:mod:`.zammad_finish`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sla.importers.base import Emit, EventDict, RecordError, Source, VendorCycle
from sla.importers.base import record_instant as _instant
from sla.importers.zammad_finish import ARTICLE, ATTRIBUTES, CHANGE, HISTORY, TICKET, ZammadTickets
from sla.importers.zammad_names import number
from sla.timefmt import format_instant

#: Article senders by name and by stock id (``db/seeds/ticket_article_senders.rb``).
AUTHORS = {"Agent": "agent", "Customer": "customer", "System": "bot"}
SENDER_IDS = {1: "Agent", 2: "Customer", 3: "System"}
# Ticket record values kept for finishing: ids, expanded names, free text.
_TICKET_KEYS = (
    "state_id",
    "state",
    "priority_id",
    "priority",
    "group_id",
    "owner_id",
    "customer_id",
    "organization_id",
    "type",
    "create_article_type_id",
    "create_article_type",
)


def record_kind(record: object) -> str | None:
    """Which Zammad record ``record`` is, by its keys, or None.

    >>> record_kind({"id": 1, "state_type_id": 1, "name": "new"})
    'states'
    """
    if not isinstance(record, Mapping):
        return None
    keys = record.keys()
    if {"id", "ticket_id", "internal", "created_at"} <= keys and ({"sender", "sender_id"} & keys):
        return "articles"
    if {"id", "number", "state_id", "priority_id", "customer_id", "created_at"} <= keys:
        return "tickets"
    if {"o_id", "object", "type", "created_at"} <= keys:
        return "history"
    if {"id", "name", "state_type_id"} <= keys:
        return "states"
    if {"id", "name", "default_create", "ui_color"} <= keys:
        return "priorities"
    return None


def _asset_tickets(doc: Mapping[str, object], only: set[int | str | None] | None = None) -> list[object]:
    """The ticket records among a response's ``assets`` (those of ``only`` ids)."""
    assets = doc.get("assets")
    tickets = assets.get("Ticket") if isinstance(assets, Mapping) else None
    if not isinstance(tickets, Mapping):
        return []
    return [
        t
        for t in tickets.values()
        if record_kind(t) == "tickets"
        and (only is None or (isinstance(t, Mapping) and _id(t.get("id")) in only))
    ]


def _id(value: object) -> int | str | None:
    """An id as a set member: a number or a text; anything else (a damaged
    export's object or list) is no id."""
    return value if isinstance(value, (int, str)) else None


class ZammadSource(Source):
    """Zammad REST API v1 responses (see the module's docstring)."""

    name = "zammad"

    def __init__(self) -> None:
        self._tickets = ZammadTickets()

    def recognise(self, doc: object) -> list[tuple[str, list[object]]] | None:
        """A history or search envelope, a bare array of one kind of record
        (its first decides), or one record."""
        if isinstance(doc, list):
            if not doc:
                return []
            kind = record_kind(doc[0])
            return None if kind is None else [(kind, list(doc))]
        if isinstance(doc, Mapping):
            history = doc.get("history")
            if isinstance(history, list):
                own = {
                    _id(h.get("o_id"))
                    for h in history
                    if isinstance(h, Mapping) and h.get("object") == "Ticket"
                }
                own.discard(None)
                tickets = _asset_tickets(doc, own)
                return [("history", list(history))] + ([("tickets", tickets)] if tickets else [])
            if isinstance(doc.get("tickets"), list) and isinstance(doc.get("assets"), Mapping):
                return [("tickets", _asset_tickets(doc))]
        kind = record_kind(doc)
        return None if kind is None else [(kind, [doc])]

    def read(self, kind: str, record: object) -> Iterable[Emit | VendorCycle]:
        """Emit a ticket's creation, a history change or an article's
        message; learn state and priority names."""
        if not isinstance(record, Mapping):
            raise RecordError(f"a {kind} record must be a JSON object, not {type(record).__name__}")
        if kind == "tickets":
            return [self._ticket(record)]
        if kind == "history":
            return self._history(record)
        if kind == "articles":
            return [self._article(record)]
        ident, name = number(record.get("id")), record.get("name")
        if ident is None or not isinstance(name, str):
            raise RecordError(f"a {kind} record needs a numeric id and a name")
        if kind == "states":
            kind_id = number(record.get("state_type_id"))
            self._tickets.names.states[ident] = (name, kind_id, record.get("ignore_escalation") is True)
        elif kind == "priorities":
            self._tickets.names.priorities[ident] = name
        else:
            raise RecordError(f"unknown record kind {kind!r}")
        return []

    def _ticket(self, record: Mapping[str, object]) -> Emit:
        ticket = number(record.get("id"))
        if ticket is None:
            raise RecordError("ticket without a numeric id")
        created = _instant(record, "created_at", required=True)
        assert created is not None
        updated = _instant(record, "updated_at")
        data: dict[str, object] = {key: record.get(key) for key in _TICKET_KEYS if _scalar(record.get(key))}
        shown = record.get("number")
        data |= {
            "version": updated if updated is not None else created,
            "created": created,
            "updated": updated,
            "close_at": _instant(record, "close_at"),
            "last_close_at": _instant(record, "last_close_at"),
            "number": shown if isinstance(shown, str) else str(shown) if number(shown) is not None else None,
        }
        tags = record.get("tags")
        if isinstance(tags, list):
            data["tags"] = [tag for tag in tags if isinstance(tag, str)]
        event: EventDict = {"at": format_instant(created), "type": "created", "fields": {}, TICKET: data}
        return Emit(str(ticket), event)

    def _history(self, record: Mapping[str, object]) -> list[Emit | VendorCycle]:
        if record.get("object") != "Ticket":
            return []  # articles, mentions, checklists: not needed
        kind, attribute = record.get("type"), record.get("attribute")
        mapped = kind == "updated" and isinstance(attribute, str) and attribute in ATTRIBUTES
        if kind != "created" and not mapped:
            return []
        ticket = number(record.get("o_id"))
        if ticket is None:
            raise RecordError("history entry without a numeric o_id")
        at = format_instant(_instant(record, "created_at", required=True) or 0)
        if not mapped:
            return [Emit(str(ticket), {"at": at, "type": "update", HISTORY: True})]
        change = {
            "history_id": number(record.get("id")),
            "attribute": attribute,
            **{key: record.get(key) for key in ("id_from", "id_to", "value_from", "value_to")},
        }
        for side in ("from", "to"):  # the names the history gives ids, for records that give ids only
            self._tickets.names.hear(attribute, record.get(f"id_{side}"), record.get(f"value_{side}"))
        return [Emit(str(ticket), {"at": at, "type": "update", CHANGE: change})]

    def _article(self, record: Mapping[str, object]) -> Emit:
        ticket = number(record.get("ticket_id"))
        if ticket is None:
            raise RecordError("article without a numeric ticket_id")
        at = _instant(record, "created_at", required=True)
        assert at is not None
        updated = _instant(record, "updated_at")
        sender = record.get("sender")
        if not isinstance(sender, str):
            sender = SENDER_IDS.get(number(record.get("sender_id")) or 0)
        author = AUTHORS.get(sender) if isinstance(sender, str) else None
        if author is None:
            raise RecordError(f"sender is {sender!r}; expected Agent, Customer or System")
        internal = record.get("internal")
        if internal is not None and not isinstance(internal, bool):
            raise RecordError(f"internal is {internal!r}; expected true or false")
        note = record.get("type") == "note" or (
            record.get("type") is None and number(record.get("type_id")) == 10
        )
        data = {
            "id": number(record.get("id")),
            "version": updated if updated is not None else at,
            "public_note": note and not internal and author == "agent",
        }
        event: EventDict = {
            "at": format_instant(at),
            "type": "message",
            "author": author,
            "public": not internal,
            ARTICLE: data,
        }
        return Emit(str(ticket), event)

    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's number and events: the creation with each
        attribute's first value, the history's changes, the articles."""
        return self._tickets.finish(ticket, events)

    def notes(self) -> list[str]:
        """What the export could not show, and defaults taken."""
        return self._tickets.notes()


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))


__all__ = ["ZammadSource", "record_kind"]
