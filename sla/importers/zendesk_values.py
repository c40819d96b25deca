"""Zendesk values as this contract writes them: ticket and user ids as
strings, instants, statuses, via channels (section 14).

>>> id_text(35436), id_text("35436"), status_name("hold"), channel_name("Web form"), channel_name("Closed ticket")
('35436', '35436', 'on_hold', 'web', 'closed_ticket')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sla.errors import TimestampError
from sla.importers.base import RecordError, id_text, word
from sla.timefmt import US_PER_SECOND, check_range, format_instant, parse_instant

#: Zendesk's system user: its comments and changes are ``bot`` (section 14).
SYSTEM_USER = "-1"
#: ``via.channel`` values of triggers, automations and Zendesk's own bots.
BOT_CHANNELS = frozenset({"rule", "answer_bot", "ai_agent"})
#: Via ids of the Via types reference that are channels this importer needs
#: by name (8 is "rule": a trigger or an automation).
VIA_IDS = {8: "rule"}
#: The ticket event export's display names of via types whose ``via.channel``
#: is another word (the Via types reference: via id 0 "Web form" is ``web``,
#: 4 "Mail" is ``email``, 5 "Web service" is ``api``), so that a ticket reads
#: the same channel from either export, and as ``--policies-output`` writes it.
DISPLAY_CHANNELS = {"Web form": "web", "Mail": "email", "Web service": "api"}


def as_object(record: object, what: str) -> Mapping[str, object]:
    """``record`` if it is a JSON object, else a :class:`RecordError`."""
    if not isinstance(record, Mapping):
        raise RecordError(f"{what}: expected a JSON object, got {type(record).__name__}")
    return record


def ticket_of(record: Mapping[str, object], key: str = "ticket_id") -> str:
    """The record's ticket id as a string, or a :class:`RecordError`."""
    ticket = id_text(record.get(key))
    if ticket is None:
        raise RecordError(f"{key} is {record.get(key)!r}; expected a ticket id")
    return ticket


def instant_us(value: object, what: str) -> int:
    """An ISO 8601 timestamp (or Unix seconds, as incremental exports write
    ``timestamp``) as epoch microseconds, or a :class:`RecordError`."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return check_range(value * US_PER_SECOND, value)
        return parse_instant(value)
    except TimestampError as exc:
        raise RecordError(f"{what}: {exc}") from None


def instant_text(value: object, what: str) -> str:
    """The same instant as section 3's text (UTC, ``Z``).

    >>> instant_text("2026-03-02T08:00:00Z", "at"), instant_text("2026-03-02T09:00:00+01:00", "at")
    ('2026-03-02T08:00:00Z', '2026-03-02T08:00:00Z')
    """
    if type(value) is str and _canonical(value):
        return value  # already the output's form (Zendesk writes whole seconds in UTC)
    return format_instant(instant_us(value, what))


def _canonical(text: str) -> bool:
    """Whether ``text`` is a whole-second UTC instant in section 3's own form
    (``2026-03-02T08:00:00Z``), a real date and time inside the supported range."""
    if len(text) != 20 or text[19] != "Z" or text[10] != "T" or text[4] != "-" or text[7] != "-":
        return False
    if text[13] != ":" or text[16] != ":" or not _IN_RANGE[0] <= text <= _IN_RANGE[1]:
        return False
    try:
        _fromisoformat(text[:19])
    except ValueError:
        return False
    return True


#: The supported range (:func:`sla.timefmt.check_range`), as text.
_IN_RANGE = ("0001-01-02T00:00:00Z", "9999-12-30T23:59:59Z")
_fromisoformat = datetime.fromisoformat


def status_name(value: object) -> str | None:
    """A status as section 14 writes it: lower-cased, spaces and hyphens as
    ``_``, Zendesk's ``hold`` as ``on_hold``; ``None`` for anything else."""
    if type(value) is str:  # the common case: one of a handful, remembered
        name = _STATUSES.get(value)
        if name is not None:
            return name
    if not isinstance(value, str) or not value.strip():
        return None
    name = word(value)
    name = "on_hold" if name == "hold" else name
    if type(value) is str:
        if len(_STATUSES) > 1024:
            _STATUSES.clear()
        _STATUSES[value] = name
    return name


#: Status names by their text.
_STATUSES: dict[str, str] = {}


def channel_name(value: object) -> str | None:
    """A via channel: ``via.channel`` strings as they are (``web``,
    ``email``, ``rule``); display names of the ticket event export as
    their channel (``"Web form"`` is ``web``, see :data:`DISPLAY_CHANNELS`)
    or else lower-cased with ``_`` for spaces; integer via ids as
    :data:`VIA_IDS` names them, else as their decimal text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return VIA_IDS.get(value, str(value))
    if isinstance(value, str):
        name = _CHANNELS.get(value)
        if name is None and value.strip():
            if len(_CHANNELS) > 1024:
                _CHANNELS.clear()
            name = _CHANNELS[value] = DISPLAY_CHANNELS.get(value.strip()) or word(value)
        return name
    return None


#: Channel names by their text: an export repeats a handful of them.
_CHANNELS: dict[str, str] = {}


def via_channel(via: object) -> str | None:
    """The channel of a ``via``: an object's ``channel``, or a display string."""
    if isinstance(via, str):  # the ticket event export's display name
        return channel_name(via)
    if isinstance(via, (dict, Mapping)):
        return channel_name(via.get("channel"))
    return channel_name(via)
