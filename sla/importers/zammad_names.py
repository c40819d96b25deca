"""Zammad's names behind ids: states, priorities and article types, from
the installation's lists when saved (``GET /api/v1/ticket_states``,
``GET /api/v1/ticket_priorities``), else the names a record gives
(``expand=true``, a history value), else Zammad's stock seeds."""

from __future__ import annotations

import re

from sla.importers.base import id_number
from sla.importers.base import word as normalise

#: Stock ids (Zammad's seeds; the API's states and priorities lists say the
#: names of an installation, and win): states (``ticket_states`` docs),
#: priorities (``ticket_priorities`` docs), article types
#: (``db/seeds/ticket_article_types.rb``).
STOCK_STATES = {
    1: "new",
    2: "open",
    3: "pending reminder",
    4: "closed",
    5: "merged",
    6: "removed",
    7: "pending close",
}
STOCK_PRIORITIES = {1: "1 low", 2: "2 normal", 3: "3 high"}
ARTICLE_TYPES = {
    1: "email",
    2: "sms",
    3: "chat",
    4: "fax",
    5: "phone",
    6: "twitter status",
    7: "twitter direct-message",
    8: "facebook feed post",
    9: "facebook feed comment",
    10: "note",
    11: "web",
    12: "telegram personal-message",
    13: "facebook direct-message",
    14: "whatsapp message",
}
#: State types that end work (``db/seeds/ticket_state_types.rb``): closed, merged, removed.
CLOSED_TYPES = {5, 6, 7}
CLOSED_NAMES = {"closed", "merged", "removed"}
#: The owner a ticket has when nobody owns it: the system user.
NOBODY = 1


def priority_name(name: str) -> str:
    """A Zammad priority without its ordering number.

    >>> priority_name("2 normal"), priority_name("urgent")
    ('normal', 'urgent')
    """
    return normalise(re.sub(r"^\s*\d+\s+", "", name))


#: An id: an int (not a bool), its decimal text or a whole float, else None.
number = id_number


class ZammadNames:
    """The states and priorities an installation listed, and which stock
    names had to be assumed."""

    def __init__(self) -> None:
        self.states: dict[int, tuple[str, int | None, bool]] = {}  # id -> name, type id, ignore_escalation
        self.priorities: dict[int, str] = {}
        #: Names the history gave ids (a change's id_to with its value_to):
        #: a ticket record naming a state only by its id is then read as the
        #: same state, not as another.
        self.heard_states: dict[int, str] = {}
        self.heard_priorities: dict[int, str] = {}
        self.stock: set[str] = set()
        #: Ids no list, history or stock table names (written as state_<id>, <id>).
        self.unnamed: set[str] = set()

    def hear(self, attribute: object, ident: object, text: object) -> None:
        """Learn a name a history entry gives an id."""
        key = number(ident)
        if key is None or not isinstance(text, str) or not text.strip():
            return
        if attribute == "state":
            self.heard_states.setdefault(key, text)
        elif attribute == "priority":
            self.heard_priorities.setdefault(key, text)

    def state(self, state_id: object, given: object) -> str | None:
        """A state's name: the states list's, the name given (expanded, or a
        history value), Zammad's stock name; normalised."""
        sid = number(state_id)
        if sid is not None and sid in self.states:
            return normalise(self.states[sid][0])
        if isinstance(given, str) and given.strip():
            return normalise(given)
        if sid is not None and sid in self.heard_states:
            return normalise(self.heard_states[sid])
        if sid is not None and sid in STOCK_STATES:
            self.stock.add(f"state {sid}")
            return normalise(STOCK_STATES[sid])
        if sid is None:
            return None
        self.unnamed.add(f"state {sid}")
        return f"state_{sid}"

    def priority(self, priority_id: object, given: object) -> str | None:
        """A priority's name, found like :meth:`state`'s, without its number."""
        pid = number(priority_id)
        if pid is not None and pid in self.priorities:
            return priority_name(self.priorities[pid])
        if isinstance(given, str) and given.strip():
            return priority_name(given)
        if pid is not None and pid in self.heard_priorities:
            return priority_name(self.heard_priorities[pid])
        if pid is not None and pid in STOCK_PRIORITIES:
            self.stock.add(f"priority {pid}")
            return priority_name(STOCK_PRIORITIES[pid])
        if pid is None:
            return None
        self.unnamed.add(f"priority {pid}")
        return str(pid)

    def is_closed(self, state_id: object, name: str | None) -> bool:
        sid = number(state_id)
        if sid is not None and sid in self.states:
            return self.states[sid][1] in CLOSED_TYPES
        return name in CLOSED_NAMES


__all__ = ["ARTICLE_TYPES", "NOBODY", "ZammadNames", "normalise", "number", "priority_name"]
