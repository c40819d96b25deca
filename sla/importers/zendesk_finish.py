"""Finishing a Zendesk ticket once every file was read: copies of an audit
dropped, the latest satisfaction rating kept, the creation completed, and
comment authors' roles (:class:`Roles`) resolved. The rules are told in
:mod:`sla.importers.zendesk`.

Placeholders the readers put on events (JSON values: they go through the
driver's spill files): ``_audit`` ``[rank, audit id, read number]``,
``_order`` ``[group, id, position]`` (ties at one instant), ``_author`` (a
user id), ``_previous`` (an update's previous values), ``_previous_status``,
``_rating`` ``[updated_at µs, rating id]``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sla.importers.base import EventDict, id_text, instant_of
from sla.importers.zendesk_values import SYSTEM_USER

#: Roles of the users API that are agents (section 14).
AGENT_ROLES = frozenset({"agent", "admin"})


class Roles:
    """Comment authors' roles from the users files and the assignments seen.

    A user is ``agent`` when any users record of it says ``agent`` or
    ``admin`` (a role history: files may hold records from several times),
    or when the exports show it as a ticket's assignee (Zendesk writes a
    deleted or downgraded agent back as an end-user, but only agents are
    assigned tickets); the system user (-1) is ``bot``; anyone else is
    ``customer``, and an author in no users file is counted for the notes.
    Every fact is a union, so the order of the files does not matter.
    """

    def __init__(self) -> None:
        self._roles: dict[str, set[str]] = {}  # user id -> every role its records show
        self.assignees: set[str] = set()  # user ids seen as a ticket's assignee
        self._unknown: set[str] = set()
        self._by_assignment: set[str] = set()

    def learn(self, uid: str, role: object) -> None:
        """Note one users record's role."""
        self._roles.setdefault(uid, set()).update([role] if isinstance(role, str) else [])

    def author(self, user: str | None) -> str:
        """A comment author's role, ``agent``, ``bot`` or ``customer``."""
        if user == SYSTEM_USER:
            return "bot"
        roles = self._roles.get(user) if user is not None else None
        if roles is not None and roles & AGENT_ROLES:
            return "agent"
        if user is not None and user in self.assignees:
            self._by_assignment.add(user)
            return "agent"
        if roles is None:
            self._unknown.add(user or "(no author)")
        return "customer"

    def learnt(self) -> tuple[dict[str, set[str]], set[str]]:
        """The roles and assignees read (for :meth:`absorb`)."""
        return self._roles, self.assignees

    def absorb(self, learnt: tuple[dict[str, set[str]], set[str]]) -> None:
        """Fold in another copy's :meth:`learnt` (every fact is a union)."""
        roles, assignees = learnt
        for uid, seen in roles.items():
            self._roles.setdefault(uid, set()).update(seen)
        self.assignees |= assignees

    def take_finish_facts(self) -> tuple[set[str], set[str]]:
        """The authors noted while finishing (unknown, agents by
        assignment) since the last call, taken away from this copy."""
        facts = self._unknown, self._by_assignment
        self._unknown, self._by_assignment = set(), set()
        return facts

    def absorb_finish(self, facts: tuple[set[str], set[str]]) -> None:
        """Fold in another copy's :meth:`take_finish_facts`."""
        self._unknown |= facts[0]
        self._by_assignment |= facts[1]

    def notes(self) -> list[str]:
        """Summary lines: authors read as customers for want of a users
        record, authors read as agents for their assignments."""
        out = []
        if self._unknown:
            extra = "" if self._roles else " (no users file was read: add /api/v2/users pages for agents)"
            out.append(
                f"{len(self._unknown):,} comment author(s) not in the users files were read as customers{extra}"
            )
        if self._by_assignment:
            out.append(
                f"{len(self._by_assignment):,} comment author(s) not shown as agents by the users files "
                "were read as agents: they were ticket assignees (deleted or downgraded agents)"
            )
        return out


def drop_copies(events: list[EventDict]) -> tuple[list[EventDict], int]:
    """One copy of each audit (the audits API's, then the first read) and
    how many copies were dropped."""
    # The common case: every audit read once. A read is numbered once for
    # all its events, whatever its kind: the number alone tells the copies.
    copies: dict[int, object] = {}
    for event in events:
        mark = event.get("_audit")
        if type(mark) is list and type(mark[1]) is int and copies.setdefault(mark[1], mark[2]) != mark[2]:
            break
    else:
        return events, 0
    best: dict[int, tuple[int, int]] = {}
    for event in events:
        mark = event.get("_audit")
        if isinstance(mark, list) and isinstance(mark[1], int):
            copy = (mark[0], mark[2])
            best[mark[1]] = min(best.get(mark[1], copy), copy)
    dropped: set[tuple[int, int, int]] = set()
    kept = []
    for event in events:
        mark = event.get("_audit")
        if isinstance(mark, list) and isinstance(mark[1], int) and (mark[0], mark[2]) != best[mark[1]]:
            dropped.add((mark[1], mark[0], mark[2]))
        else:
            kept.append(event)
    return kept, len(dropped)


def latest_rating(events: list[EventDict]) -> list[EventDict]:
    """The events with only the latest rating's ``csat`` (by ``updated_at``,
    then rating id)."""
    ratings = [e for e in events if "_rating" in e]
    if not ratings:
        return events
    latest = max(ratings, key=lambda e: _rating_key(e["_rating"]))
    return [e for e in events if e is latest or "_rating" not in e]


def _rating_key(mark: object) -> tuple[int, int]:
    """A ``_rating`` placeholder as a sort key."""
    if isinstance(mark, list) and len(mark) == 2 and all(isinstance(n, int) for n in mark):
        return mark[0], mark[1]
    return (0, 0)


def complete_creation(created: EventDict, events: list[EventDict], learnt: Mapping[str, object]) -> None:
    """Fill the ``created`` fields and status: a field first seen in a
    ``Change`` takes its ``previous_value``, a status first seen in a change
    its previous status; a field no event mentions takes the tickets file's
    value (``learnt``), and ``channel`` the tickets file's whenever it has
    one. Null fields are dropped (null is the same as absent)."""
    raw = created.get("fields")
    fields = dict(raw) if isinstance(raw, Mapping) else {}
    mentioned = set(fields)
    first: dict[str, object] = {}
    status_seen = False
    for event in events:
        if event.get("type") == "update":
            previous = event.get("_previous")
            changed = event.get("fields")
            for name in changed if isinstance(changed, Mapping) else ():
                if name not in mentioned and isinstance(previous, Mapping) and name in previous:
                    first[name] = previous[name]
                mentioned.add(name)
        elif event.get("type") == "status" and not status_seen:
            status_seen = True
            if "status" not in created and "_previous_status" in event:
                created["status"] = event["_previous_status"]
    fields.update(first)
    for name, value in learnt.items():
        if name == "channel" or name not in mentioned:
            fields[name] = value
    created["fields"] = {k: v for k, v in fields.items() if v is not None}


def finish_events(events: list[EventDict], roles: Roles) -> list[EventDict]:
    """The events as written, in place: each message whose author was left
    open given its role, and every placeholder removed (one pass)."""
    for event in events:
        if event.get("type") == "message" and "author" not in event:
            event["author"] = roles.author(id_text(event.get("_author")))
        for key in PLACEHOLDERS:
            if key in event:
                del event[key]
    return events


def sort_for_processing(events: list[EventDict]) -> None:
    """Sort into section 3's order: by instant, ``created`` first, then
    audit order (``_order``)."""
    if _in_processing_order(events):
        return
    instants: dict[object, int] = {}  # an update's events share their instant

    def order(event: EventDict) -> tuple[int, int, list[int]]:
        at = event.get("at")
        instant = instants.get(at)
        if instant is None:
            instant = instants[at] = instant_of(at)
        mark = event.get("_order")
        return (
            instant,
            0 if event.get("type") == "created" else 1,
            mark if isinstance(mark, list) else [2, 0, 0],
        )

    events.sort(key=order)


def _in_processing_order(events: list[EventDict]) -> bool:
    """Whether the events are in section 3's order already (as an export in
    time order gives them), found by comparing their ``at`` texts: every
    ``at`` here is made by this importer, and in the output's whole-second
    form (20 characters) text order is time order."""
    previous: EventDict = {}
    previous_at = ""  # before every `at`: the first event is never compared
    for event in events:
        at = event.get("at")
        if type(at) is not str or len(at) != 20:
            return False  # another form: sorted by instants
        if at < previous_at or (at == previous_at and _tie_order(event) < _tie_order(previous)):
            return False
        previous, previous_at = event, at
    return True


def _tie_order(event: EventDict) -> tuple[int, list[int]]:
    """The order of events at one instant: ``created`` first, then ``_order``."""
    mark = event.get("_order")
    return (0 if event.get("type") == "created" else 1, mark if isinstance(mark, list) else [2, 0, 0])


#: Every placeholder the Zendesk readers put on events (see the module text).
PLACEHOLDERS = ("_audit", "_order", "_author", "_previous", "_previous_status", "_rating")
