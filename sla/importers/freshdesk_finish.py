"""Finishing a Freshdesk ticket: its latest ticket record rebuilt into a
creation, the description, the status changes ``stats`` allow
(:mod:`.freshdesk_stats`), and its conversations once each with their
authors, in time order; and the summary's notes on what was lost."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from sla.importers.base import EventDict, RecordError
from sla.importers.freshdesk_stats import (
    OUTBOUND_EMAIL,
    PENDING,
    RESOLVED,
    SOURCE_NAMES,
    STATUS_NAMES,
    code,
    status_timeline,
)
from sla.timefmt import format_instant, parse_instant

#: Placeholder keys of emitted events: what finishing needs of a ticket
#: record, and a conversation's id, user and direction.
TICKET = "_freshdesk_ticket"
MESSAGE = "_freshdesk_message"
# Tie order at one instant: creation, the description, messages, status changes
# (a reply and a resolve in the same second: the reply first).
_CREATED, _DESCRIPTION, _MESSAGES, _STATUS = range(4)
Ranked = tuple[int, int, int, EventDict]  # (instant, tie rank, tie order, event)


class FreshdeskTickets:
    """What finishing learns from the other records (agents, status and
    source names) and counts for the notes."""

    def __init__(self) -> None:
        self.agents: set[int] = set()
        self.status_names: dict[int, str] = {}  # custom statuses, from ticket_fields
        self.source_names: dict[int, str] = {}  # from ticket_fields
        self.unknown_codes: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._unnamed_statuses: set[int] = set()

    def finish(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The ticket's events: its latest ticket record rebuilt, conversations
        once each with their authors, all in time order."""
        records = [e for e in events if isinstance(e.get(TICKET), Mapping)]
        if not records:
            raise RecordError(
                "no ticket record was read for it, only conversations "
                "(save GET /api/v2/tickets?include=stats)"
            )
        chosen = max(records, key=lambda e: (_order(_num(e, TICKET, "version")), _canonical(e)))
        conversations: dict[object, EventDict] = {}
        for e in sorted(events, key=_canonical):
            if isinstance(e.get(MESSAGE), Mapping):
                conversation = _num(e, MESSAGE, "id")
                key = _canonical(e) if conversation is None else conversation
                best = conversations.get(key)
                if best is None or _order(_num(e, MESSAGE, "version")) > _order(
                    _num(best, MESSAGE, "version")
                ):
                    conversations[key] = e
        created = parse_instant(chosen["at"])
        ranked = self._ticket_events(chosen, created, has_conversations=bool(conversations))
        requester = _num(chosen, TICKET, "requester")
        for e in conversations.values():
            message = {k: v for k, v in e.items() if not k.startswith("_")}
            message["author"] = self._author(
                _num(e, MESSAGE, "user"), bool(_data(e, MESSAGE).get("incoming")), requester
            )
            ranked.append((parse_instant(e["at"]), _MESSAGES, _order(_num(e, MESSAGE, "id")), message))
        out: list[EventDict] = []
        for at, _, _, event in sorted(ranked, key=lambda r: (max(r[0], created), r[1], r[2])):
            if at < created:
                self._counts["moved"] += 1
                event["at"] = format_instant(created)
            out.append(event)
        return ticket, out

    def _ticket_events(self, chosen: EventDict, created: int, *, has_conversations: bool) -> list[Ranked]:
        data = _data(chosen, TICKET)
        raw = data.get("stats")
        stats = {str(k): code(v) for k, v in raw.items()} if isinstance(raw, Mapping) else None
        source, status = _num(chosen, TICKET, "source"), _num(chosen, TICKET, "status")
        updated = _num(chosen, TICKET, "updated")
        if status is None:
            raise RecordError("the ticket record lost its status code")
        given = chosen.get("fields")
        fields: dict[str, object] = dict(given) if isinstance(given, Mapping) else {}
        if source is not None:
            fields["channel"] = self.source_names.get(source) or SOURCE_NAMES.get(source, str(source))
            if source not in self.source_names and source not in SOURCE_NAMES:
                self.unknown_codes.add(f"source {source}")
        at = chosen["at"]
        ranked: list[Ranked] = [
            (created, _CREATED, 0, {"at": at, "type": "created", "status": "open", "fields": fields})
        ]
        requester_is_agent = _num(chosen, TICKET, "requester") in self.agents
        author = "agent" if source == OUTBOUND_EMAIL or requester_is_agent else "customer"
        ranked.append(
            (created, _DESCRIPTION, 0, {"at": at, "type": "message", "author": author, "public": True})
        )
        timeline = status_timeline(status, stats, updated if updated is not None else created)
        for i, (when, new) in enumerate(timeline.changes):
            ranked.append(
                (
                    when,
                    _STATUS,
                    i,
                    {"at": format_instant(when), "type": "status", "status": self._status(new)},
                )
            )
        self._counts["tickets"] += 1
        self._counts["pending now"] += status == PENDING
        self._counts["no stats"] += stats is None
        self._counts["at updated"] += stats is not None and timeline.at_updated
        self._counts["dropped"] += timeline.dropped > 0
        self._counts["lost resolution"] += timeline.lost_resolution
        self._counts["resolved"] += any(new == RESOLVED for _, new in timeline.changes)
        if stats is not None and not has_conversations:
            ranked += self._stats_messages(stats, created)
        return ranked

    def _stats_messages(self, stats: Mapping[str, int | None], created: int) -> list[Ranked]:
        """The responses ``stats`` names, for a ticket without conversations."""
        first = stats.get("first_responded_at")
        said = [
            (first, "agent"),
            (stats.get("agent_responded_at"), "agent"),
            (stats.get("requester_responded_at"), "customer"),
        ]
        out: list[Ranked] = []
        seen: set[tuple[int, str]] = set()
        for i, (when, author) in enumerate(said):
            if when is None or (when, author) in seen or (author == "customer" and when <= created):
                continue
            seen.add((when, author))
            out.append(
                (
                    when,
                    _MESSAGES,
                    i,
                    {"at": format_instant(when), "type": "message", "author": author, "public": True},
                )
            )
        self._counts["stats messages"] += bool(out)
        return out

    def _status(self, status: int) -> str:
        name = STATUS_NAMES.get(status) or self.status_names.get(status)
        if name is None:
            self._unnamed_statuses.add(status)
            return f"status_{status}"
        return name

    def _author(self, user: object, incoming: bool, requester: object = None) -> str:
        """An agent if the agents list names the user; else the ticket's
        requester is the customer whatever the channel (``incoming`` says
        only whether it came from outside the portal: a requester's portal
        reply or public note is not incoming), and anyone else is taken by
        ``incoming``."""
        if user in self.agents:
            return "agent"
        if incoming:
            self._counts["incoming unchecked"] += not self.agents
            return "customer"
        if user is not None and user == requester:
            return "customer"
        self._counts["outgoing unlisted" if self.agents else "outgoing unchecked"] += 1
        return "agent"

    # ------------------------------------------------------------- notes
    def notes(self) -> list[str]:
        """What Freshdesk's export cannot show, with counts."""
        n = self._counts
        if not n["tickets"]:
            return []
        out = [
            f"Freshdesk keeps no status history: {n['tickets']:,} ticket(s) rebuilt from their current status "
            "and stats (resolved_at, closed_at, reopened_at, pending_since, status_updated_at)",
            f"pauses lost: pending is known only for the {n['pending now']:,} ticket(s) pending now (from "
            "pending_since); every other pending stretch is lost, so requester_wait and any clock paused in "
            "pending are overstated, never understated",
            "priority, group, assignee, type, tags and custom fields are each ticket's values today, "
            "taken as set at creation",
        ]
        if n["resolved"]:
            out.append(
                f"{n['resolved']:,} ticket(s) reached Freshdesk's resolved status: it is done only when the "
                "policy file says done_statuses: [resolved, closed]"
            )
        if n["lost resolution"]:
            out.append(
                f"{n['lost resolution']:,} ticket(s) were reopened with no resolution known before the reopen: "
                "that resolved stretch is lost (counted as open)"
            )
        if n["no stats"]:
            out.append(
                f"{n['no stats']:,} ticket(s) had no stats (save the tickets with include=stats): "
                "their current status is placed at updated_at, the latest it can have been set"
            )
        if n["at updated"]:
            out.append(
                f"{n['at updated']:,} ticket(s): current status placed at updated_at (no stats instant for it)"
            )
        if n["dropped"]:
            out.append(
                f"{n['dropped']:,} ticket(s) had stats instants after their current status began: ignored"
            )
        if n["stats messages"]:
            out.append(
                f"{n['stats messages']:,} ticket(s) without conversations: messages taken from stats "
                "(first response, latest agent and requester responses); others are lost"
            )
        if n["outgoing unlisted"]:
            out.append(
                f"{n['outgoing unlisted']:,} outgoing conversation(s) by users not in the agents list "
                "taken as an agent's"
            )
        if n["incoming unchecked"] or n["outgoing unchecked"]:
            out.append(
                "no agents list read (save GET /api/v2/agents): conversations' authors taken from "
                f"incoming ({n['incoming unchecked']:,} customer, {n['outgoing unchecked']:,} agent)"
            )
        if self._unnamed_statuses:
            codes = ", ".join(str(c) for c in sorted(self._unnamed_statuses))
            out.append(
                f"status code(s) {codes} unnamed (save GET /api/v2/ticket_fields): written as status_<code>"
            )
        if self.unknown_codes:
            out.append(
                f"codes not in Freshdesk's tables, written as numbers: {', '.join(sorted(self.unknown_codes))}"
            )
        if n["moved"]:
            out.append(f"{n['moved']:,} event(s) dated before their ticket's creation moved to the creation")
        return out


def _data(event: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = event.get(key)
    return value if isinstance(value, Mapping) else {}


def _num(event: Mapping[str, object], key: str, name: str) -> int | None:
    """A number of a placeholder, None when absent."""
    return code(_data(event, key).get(name))


def _order(value: int | None) -> int:
    """A number for ordering, absent before any."""
    return -(1 << 62) if value is None else value


def _canonical(event: Mapping[str, object]) -> str:
    """A stable text of an event, so the choice between two copies does not
    depend on file order."""
    return json.dumps(event, sort_keys=True, default=str)


__all__ = ["MESSAGE", "TICKET", "FreshdeskTickets"]
