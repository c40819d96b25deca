"""One Jira issue's final events, built after every file was read.

An issue record gives the fields as they are *now*; its changelog gives
every change with the value before and after. The ``created`` event needs
the fields as they were at creation, so the changelog is undone from the
newest change back (``fromString`` of each item), then replayed forward as
``update`` and ``status`` events. Doing this at the end, over every
changelog entry found in any file (deduplicated by history id), makes the
result independent of file order and lets standalone changelog pages fill
in a truncated ``expand=changelog``.

At one instant the order is: ``created``, comments, attribute updates,
status changes, so a reply posted in the transition that resolves a
request counts as the reply (what JSM's "Comment: For customers" SLA
condition sees).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sla.importers.base import EventDict
from sla.timefmt import format_instant, parse_instant

_CREATED, _MESSAGE, _UPDATE, _STATUS = 0, 1, 2, 3


@dataclass
class Facts:
    """What finishing the issues noticed, for :meth:`JiraSource.notes`."""

    #: Statuses an issue was in right after its resolution was set.
    resolved_in: Counter[str] = field(default_factory=Counter)
    resolution_without_status: int = 0
    reopen_without_status: int = 0
    moved_to_creation: int = 0
    defaulted_authors: int = 0
    defaulted_accounts: set[str] = field(default_factory=set)


def _history_order(event: EventDict) -> tuple[int, int, str]:
    hid = str(event.get("_history", ""))
    return parse_instant(event["at"]), int(hid) if hid.isdigit() else 0, hid


def _changes(event: EventDict) -> list[tuple[str, object, object]]:
    raw = event.get("_changes")
    out = []
    for change in raw if isinstance(raw, list) else []:
        if isinstance(change, list) and len(change) == 3 and isinstance(change[0], str):
            out.append((change[0], change[1], change[2]))
    return out


def _undo(
    fields: dict[str, object], status: object, histories: list[EventDict]
) -> tuple[dict[str, object], object]:
    """The fields and status before every change in ``histories`` (oldest first)."""
    state = dict(fields)
    components = [c for c in _as_list(state.get("components")) if isinstance(c, str)]
    touched = "components" in state
    for history in reversed(histories):
        for attribute, before, after in reversed(_changes(history)):
            if attribute == "status":
                status = before if before is not None else status
            elif attribute == "components":
                touched = True
                if isinstance(after, str) and after in components:
                    components.remove(after)
                if isinstance(before, str) and before not in components:
                    components.append(before)
            else:
                state[attribute] = before
    if touched:
        state["components"] = components
    return state, status


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def issue_timeline(
    created: EventDict, histories: list[EventDict], messages: list[EventDict], facts: Facts
) -> list[EventDict]:
    """The final events of one issue: its ``created`` placeholder (current
    fields), its changelog placeholders and its finished messages."""
    start = parse_instant(created["at"])
    unique = {str(h.get("_history")): h for h in histories}
    ordered = sorted(unique.values(), key=_history_order)
    fields = created.get("fields")
    state, status = _undo(fields if isinstance(fields, dict) else {}, created.get("status"), ordered)
    first: EventDict = {"at": format_instant(start), "type": "created", "fields": state}
    if isinstance(status, str):
        first["status"] = status
    rows: list[tuple[int, int, int, EventDict]] = [(start, _CREATED, 0, first)]

    def at(event: EventDict) -> int:
        us = parse_instant(event["at"])
        if us < start:
            facts.moved_to_creation += 1
            return start
        return us

    components = [c for c in _as_list(state.get("components")) if isinstance(c, str)]
    resolution = state.get("resolution")
    for seq, history in enumerate(ordered):
        when, before = at(history), resolution
        update: dict[str, object] = {}
        statuses: list[str] = []
        for attribute, old, new in _changes(history):
            if attribute == "status":
                if isinstance(new, str):
                    statuses.append(new)
            elif attribute == "components":
                if isinstance(old, str) and old in components:
                    components.remove(old)
                if isinstance(new, str) and new not in components:
                    components.append(new)
                update["components"] = list(components)
            else:
                update[attribute] = new
                resolution = new if attribute == "resolution" else resolution
        text = format_instant(when)
        if update:
            rows.append((when, _UPDATE, seq, {"at": text, "type": "update", "fields": update}))
        for name in statuses:
            rows.append((when, _STATUS, seq, {"at": text, "type": "status", "status": name}))
            status = name
        if before is None and resolution is not None:
            if statuses and isinstance(status, str):
                facts.resolved_in[status] += 1
            else:
                facts.resolution_without_status += 1
        elif before is not None and resolution is None and not statuses:
            facts.reopen_without_status += 1
    for seq, message in enumerate(messages):
        when = at(message)
        rows.append((when, _MESSAGE, seq, {**message, "at": format_instant(when)}))
    rows.sort(key=lambda row: row[:3])
    return [row[3] for row in rows]


def finish_messages(
    messages: list[EventDict], role_of: Callable[[str], str | None], facts: Facts
) -> list[EventDict]:
    """Comments as final ``message`` events: one per comment id (a comment
    saved from both APIs keeps the platform copy, which knows the author's
    ``accountType``), the author's role from the users learnt (a customer
    when unknown, counted), placeholders removed."""
    chosen: dict[str, EventDict] = {}
    order: list[str] = []
    for index, message in enumerate(messages):
        cid = str(message.get("_comment", f"#{index}"))
        if cid not in chosen:
            order.append(cid)
            chosen[cid] = message
        elif message.get("_role") is not None and chosen[cid].get("_role") is None:
            chosen[cid] = message
    out = []
    for cid in order:
        message = chosen[cid]
        role = message.get("_role")
        account = message.get("_account")
        if not isinstance(role, str):
            role = role_of(account) if isinstance(account, str) else None
        if role is None:
            role = "customer"
            facts.defaulted_authors += 1
            if isinstance(account, str):
                facts.defaulted_accounts.add(account)
        final = {k: v for k, v in message.items() if not k.startswith("_")}
        final["author"] = role
        out.append(final)
    return out
