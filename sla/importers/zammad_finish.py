"""Finishing a Zammad ticket: the ticket record, its history's attribute
changes and its articles into section-3 events.

The ticket record holds today's values; the history
(``GET /api/v1/ticket_history/{id}``, shape from Zammad's
``app/models/history.rb`` and ``app/models/concerns/has_history.rb``) says
what each attribute was changed from and to, and when. The creation
therefore carries each attribute's value before its first change (today's
value when it never changed), and every change is a ``status`` event
(``state``) or an ``update`` (``priority``, ``group``, ``owner``,
``customer``, ``organization``, ``type``). A ticket whose record is newer
than its history's last change gets that difference at its ``updated_at``.
Without a history only today's state is known: it is placed at
``last_close_at`` (closed states) or ``updated_at``, after a creation in
``new``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from sla.importers.base import EventDict, RecordError
from sla.importers.base import word as normalise
from sla.importers.zammad_names import ARTICLE_TYPES, CLOSED_TYPES, NOBODY, ZammadNames, number
from sla.timefmt import format_instant, parse_instant

#: Placeholder keys of emitted events.
TICKET = "_zammad_ticket"  # a ticket record's values (ids and expanded names)
CHANGE = "_zammad_change"  # one history entry: attribute, id/value from and to
ARTICLE = "_zammad_article"  # an article's id and version, for duplicates
HISTORY = "_zammad_history"  # the ticket's "created" history entry: its history was saved

#: History attributes mapped: the name of this contract's attribute.
ATTRIBUTES = {
    "state": "status",
    "priority": "priority",
    "group": "group",
    "owner": "assignee",
    "customer": "requester",
    "organization": "organization",
    "type": "type",
}
# Tie order at one instant: creation, articles, changes (a reply and a close
# saved together: the reply first).
_CREATED, _MESSAGES, _CHANGES = range(3)
Ranked = tuple[int, int, int, EventDict]


class ZammadTickets:
    """Finishing, with what other records taught (:attr:`names`) and counts
    for the notes."""

    def __init__(self) -> None:
        self.names = ZammadNames()
        self._counts: Counter[str] = Counter()

    # --------------------------------------------------------- finishing
    def finish(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's number and its events in time order (see the module)."""
        records = [e for e in events if isinstance(e.get(TICKET), Mapping)]
        if not records:
            raise RecordError(
                "no ticket record was read for it, only its history or articles (save GET /api/v1/tickets)"
            )
        chosen = _data(
            max(
                records,
                key=lambda e: (_num(_data(e, TICKET).get("version")), len(_data(e, TICKET)), _canonical(e)),
            ),
            TICKET,
        )
        created = number(chosen.get("created"))
        if created is None:
            raise RecordError("the ticket record has no created_at")
        changes = _unique(events, CHANGE, "history_id")
        changes.sort(key=lambda e: (parse_instant(e["at"]), _num(_data(e, CHANGE).get("history_id"))))
        has_history = bool(changes) or any(e.get(HISTORY) for e in events)
        current = self._values(chosen)
        start = dict(current)
        ranked: list[Ranked] = []
        seen: set[str] = set()
        for i, e in enumerate(changes):
            change = _data(e, CHANGE)
            name = ATTRIBUTES[str(change.get("attribute"))]
            before, after = self._value(change, "from"), self._value(change, "to")
            if name not in seen:  # the first change says what the creation had
                seen.add(name)
                start[name] = before
            ranked.append((parse_instant(e["at"]), _CHANGES, i, _change_event(e["at"], name, after)))
        if has_history:
            ranked += self._catch_up(chosen, start, changes, current)
        else:
            ranked += self._without_history(chosen, start, current)
        status = start.pop("status", None) or "new"
        fields = {k: v for k, v in start.items() if v is not None}
        ranked.append(
            (
                created,
                _CREATED,
                0,
                {"at": format_instant(created), "type": "created", "status": status, "fields": fields},
            )
        )
        for i, e in enumerate(
            sorted(_unique(events, ARTICLE, "id"), key=lambda e: _num(_data(e, ARTICLE).get("id")))
        ):
            self._counts["public notes"] += _data(e, ARTICLE).get("public_note") is True
            ranked.append(
                (parse_instant(e["at"]), _MESSAGES, i, {k: v for k, v in e.items() if not k.startswith("_")})
            )
        out: list[EventDict] = []
        for at, _, _, event in sorted(ranked, key=lambda r: (max(r[0], created), r[1], r[2])):
            if at < created:
                self._counts["moved"] += 1
                event["at"] = format_instant(created)
            out.append(event)
        self._counts["tickets"] += 1
        shown = chosen.get("number")
        return (shown if isinstance(shown, str) and shown.strip() else ticket), out

    def _values(self, record: Mapping[str, object]) -> dict[str, object]:
        """A ticket record's values, as this contract's attributes."""
        values: dict[str, object] = {
            "status": self.names.state(record.get("state_id"), record.get("state")),
            "priority": self.names.priority(record.get("priority_id"), record.get("priority")),
            "group": _id(record.get("group_id")),
            "assignee": _owner(record.get("owner_id")),
            "requester": _id(record.get("customer_id")),
            "organization": _id(record.get("organization_id")),
            "type": record.get("type")
            if isinstance(record.get("type"), str) and record.get("type")
            else None,
        }
        kind, kind_id = record.get("create_article_type"), number(record.get("create_article_type_id"))
        if isinstance(kind, str) and kind.strip():
            values["channel"] = normalise(kind)
        elif kind_id is not None:
            values["channel"] = normalise(ARTICLE_TYPES.get(kind_id, str(kind_id)))
        tags = record.get("tags")
        if isinstance(tags, list):
            values["tags"] = [tag for tag in tags if isinstance(tag, str)]
        return values

    def _value(self, change: Mapping[str, object], side: str) -> object:
        """One side of a history change as this contract's value."""
        attribute, ident, text = (
            change.get("attribute"),
            change.get(f"id_{side}"),
            change.get(f"value_{side}"),
        )
        if attribute == "state":
            return self.names.state(ident, text)
        if attribute == "priority":
            return self.names.priority(ident, text)
        if attribute == "owner":
            return _owner(ident)
        if attribute in ("group", "customer", "organization"):
            return _id(ident)
        return text if isinstance(text, str) and text else None

    def _catch_up(
        self,
        record: Mapping[str, object],
        start: dict[str, object],
        changes: list[EventDict],
        current: dict[str, object],
    ) -> list[Ranked]:
        """Differences between the history's end and a newer ticket record, at its updated_at."""
        end = dict(start)
        for e in changes:
            change = _data(e, CHANGE)
            end[ATTRIBUTES[str(change.get("attribute"))]] = self._value(change, "to")
        updated = record.get("updated")
        last = parse_instant(changes[-1]["at"]) if changes else None
        if not isinstance(updated, int) or (last is not None and updated < last):
            return []
        differ = {k: current.get(k) for k in ATTRIBUTES.values() if end.get(k) != current.get(k)}
        if differ.get("status", "") is None:
            del differ["status"]  # a state with no name: keep the history's
        if not differ:
            return []
        self._counts["caught up"] += 1
        at = format_instant(updated)
        out: list[Ranked] = []
        if "status" in differ:
            out.append(
                (updated, _CHANGES, 1 << 30, {"at": at, "type": "status", "status": differ.pop("status")})
            )
        if differ:
            out.append((updated, _CHANGES, 1 << 30, {"at": at, "type": "update", "fields": differ}))
        return out

    def _without_history(
        self, record: Mapping[str, object], start: dict[str, object], current: dict[str, object]
    ) -> list[Ranked]:
        """Today's state after a creation in ``new``: at the last close for a
        closed state, else at ``updated_at``."""
        self._counts["no history"] += 1
        start["status"] = "new"
        state = current.get("status")
        if state in (None, "new"):
            return []
        closes = (
            ("last_close_at", "close_at") if self.names.is_closed(record.get("state_id"), str(state)) else ()
        )
        at = next(
            (number(record.get(k)) for k in (*closes, "updated") if number(record.get(k)) is not None), None
        )
        if at is None:
            return []
        return [(at, _CHANGES, 0, {"at": format_instant(at), "type": "status", "status": state})]

    # ------------------------------------------------------------- notes
    def notes(self) -> list[str]:
        """What the export could not show, and defaults taken, with counts."""
        n = self._counts
        out = []
        if n["no history"]:
            out.append(
                f"{n['no history']:,} ticket(s) without a history (save GET /api/v1/ticket_history/{{id}}): "
                "created in new, today's state placed at last_close_at (closed) or updated_at, "
                "today's priority, group and owner taken as set at creation"
            )
        if n["caught up"]:
            out.append(
                f"{n['caught up']:,} ticket(s) whose record is newer than their history: "
                "the difference placed at the record's updated_at"
            )
        if self.names.stock:
            out.append(
                f"named by Zammad's stock ids (save GET /api/v1/ticket_states and ticket_priorities): "
                f"{', '.join(sorted(self.names.stock))}"
            )
        if self.names.unnamed:
            out.append(
                "ids no list, history or stock table names, written as state_<id> and <id> (save GET "
                f"/api/v1/ticket_states and ticket_priorities): {', '.join(sorted(self.names.unnamed))}"
            )
        paused = sorted(
            normalise(name)
            for name, kind, ignore in self.names.states.values()
            if ignore and kind not in CLOSED_TYPES
        )
        if paused:
            out.append(
                f"Zammad stops its escalation clock in {', '.join(paused)}: list them in pause_statuses "
                "to measure the same way"
            )
        if n["public notes"]:
            out.append(
                f"{n['public notes']:,} public note(s) by agents written as responses; Zammad's SLAs count "
                "notes only when configured to (its default counts communication articles: email, phone, ...)"
            )
        if n["moved"]:
            out.append(f"{n['moved']:,} event(s) dated before their ticket's creation moved to the creation")
        return out


def _change_event(at: object, name: str, value: object) -> EventDict:
    if name == "status":
        return {"at": at, "type": "status", "status": value if isinstance(value, str) else "unknown"}
    return {"at": at, "type": "update", "fields": {name: value}}


def _id(value: object) -> str | None:
    ident = number(value)
    return None if ident is None else str(ident)


def _owner(value: object) -> str | None:
    ident = number(value)
    return None if ident is None or ident == NOBODY else str(ident)


def _data(event: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = event.get(key)
    return value if isinstance(value, Mapping) else {}


def _num(value: object) -> int:
    """A number for ordering, absent before any."""
    ident = number(value)
    return -(1 << 62) if ident is None else ident


def _canonical(event: Mapping[str, object]) -> str:
    """A stable text of an event, so a choice between copies does not depend on file order."""
    return json.dumps(event, sort_keys=True, default=str)


def _unique(events: list[EventDict], key: str, ident: str) -> list[EventDict]:
    """The events carrying placeholder ``key``, one per id (the newest
    version, ties by content), whatever order they came in."""
    best: dict[object, EventDict] = {}
    for e in sorted(events, key=_canonical):
        data = e.get(key)
        if not isinstance(data, Mapping):
            continue
        name = data.get(ident)
        name = _canonical(e) if name is None else name
        seen = best.get(name)
        if seen is None or _num(data.get("version")) > _num(_data(seen, key).get("version")):
            best[name] = e
    return list(best.values())


__all__ = ["ARTICLE", "ATTRIBUTES", "CHANGE", "HISTORY", "TICKET", "ZammadTickets"]
