"""Zendesk ticket audits and incremental ticket events as section-3 events.

Both exports describe one ticket update the same way: an author, an instant,
a via, and a list of events (``Create``/``Change`` of one field each,
``Comment``). Each is first turned into :class:`Step` values, then
:func:`map_steps` writes the section-3 events in the update's own order:

- the ``Create`` events of an update make one ``created`` event (first, as
  section 3 processes it first at its instant) whose ``fields`` are the
  attributes set and whose ``status`` is the status set, plus ``channel``
  from the update's ``via.channel``;
- a ``Change`` of ``status`` is a ``status`` event; consecutive ``Change``
  events of attributes are one ``update`` event;
- a comment is a ``message``: ``public`` as the comment says, the author
  ``bot`` for the system user (id -1) or a comment via ``rule``,
  ``answer_bot`` or ``ai_agent``, else left for
  :meth:`~sla.importers.zendesk.ZendeskSource.finish_ticket` to resolve from
  the users files (placeholder ``_author``).

Attributes (section 14): ``priority``, ``type``, ``group_id`` as ``group``,
``assignee_id`` as ``assignee``, ``requester_id`` as ``requester``,
``organization_id`` as ``organization``, ``brand_id`` as ``brand``,
``ticket_form_id`` as ``form``, ``tags`` (a list), and a custom field (its
numeric id as the field name) as ``custom_<id>``; ids are written as strings.
Other fields (subject, custom_status_id, ...) and other event types
(notifications, satisfaction rating events, ...) are not read.

The incremental ticket event export names a change's field as a key of the
child event (``{"status": "solved", "event_type": "Change"}``, research notes
§1.2: unconfirmed) or, like audits, as ``field_name``/``value``; both are read.
Without ``include=comment_events`` a comment is only ``comment_present`` /
``comment_public``: it is read as a message by the event's ``updater_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, cast

from sla.importers.base import EventDict, RecordError, id_text
from sla.importers.zendesk_values import (
    BOT_CHANNELS,
    SYSTEM_USER,
    as_object,
    instant_text,
    status_name,
    via_channel,
)

#: Zendesk ticket fields and the attribute names section 14 gives them.
ATTRIBUTE_NAMES = {
    "priority": "priority",
    "type": "type",
    "group_id": "group",
    "assignee_id": "assignee",
    "requester_id": "requester",
    "organization_id": "organization",
    "brand_id": "brand",
    "ticket_form_id": "form",
    "tags": "tags",
}
#: Fields whose values are ids, written as strings.
ID_FIELDS = frozenset(
    {"group_id", "assignee_id", "requester_id", "organization_id", "brand_id", "ticket_form_id"}
)
#: Audit event types read as messages (the Ticket Audit events reference). A
#: tuple, not a set: a type that is no text (a list) is then only unknown.
COMMENT_TYPES = ("Comment", "VoiceComment", "FacebookComment")
#: Keys of an incremental ticket event's child that are not a changed field.
CHILD_KEYS = frozenset(
    {
        "id",
        "via",
        "via_reference_id",
        "event_type",
        "field_name",
        "value",
        "previous_value",
        "created_at",
        "audit_id",
        "author_id",
        "body",
        "html_body",
        "plain_body",
        "public",
        "attachments",
        "comment_present",
        "comment_public",
        "metadata",
        "system",
        "data",
    }
)


def attribute_name(field_name: object) -> str | None:
    """The attribute a Zendesk field is imported as, or ``None`` if it is not
    imported. Custom fields are named by their numeric id.

    >>> attribute_name("group_id"), attribute_name("360001234567"), attribute_name("subject")
    ('group', 'custom_360001234567', None)
    """
    if type(field_name) is str:  # the common case, remembered
        found = _NAMES.get(field_name, _UNKNOWN)
        if found is not _UNKNOWN:
            return cast("str | None", found)
        if len(_NAMES) > 4096:
            _NAMES.clear()
        name = _NAMES[field_name] = _attribute_name(field_name)
        return name
    return _attribute_name(field_name)


def _attribute_name(field_name: object) -> str | None:
    if isinstance(field_name, int) and not isinstance(field_name, bool):
        return f"custom_{field_name}"
    if isinstance(field_name, str):
        if field_name in ATTRIBUTE_NAMES:
            return ATTRIBUTE_NAMES[field_name]
        if field_name.isdigit():
            return f"custom_{field_name}"
    return None


#: Attribute names (or None) by field name, as found.
_NAMES: dict[str, str | None] = {}
_UNKNOWN = object()  # not looked at yet


def attribute_value(field_name: object, value: object) -> object:
    """A field's value as imported: ids as strings, tags as a list of strings
    (a space-separated string is split), anything else as it is."""
    if field_name in ID_FIELDS:
        return id_text(value)
    if field_name == "tags":
        if value is None:
            return []
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [tag for tag in value if isinstance(tag, str)]
        raise RecordError(f"tags is {value!r}; expected a list of tags")
    return value


class Step(NamedTuple):
    """One event of an update: ``kind`` is ``Create``, ``Change`` or
    ``Comment`` (``previous`` holds ``previous_value`` when ``has_previous``).
    A tuple: one is made per field change of every update. (The values are
    ``Any`` rather than ``object``: mypyc cannot compile a named tuple with
    an ``object`` field.)"""

    kind: str
    field_name: Any = None
    value: Any = None
    has_previous: bool = False
    previous: Any = None
    author: str | None = None
    public: Any = True
    channel: str | None = None


class Mapped:
    """An update's section-3 events and the user ids it shows as assignees
    (a plain slotted class: one is made per update of an export)."""

    __slots__ = ("events", "assignees")

    def __init__(self) -> None:
        self.events: list[EventDict] = []
        self.assignees: set[str] = set()


def map_steps(at: str, channel: str | None, steps: list[Step]) -> Mapped:
    """The section-3 events of one update at ``at`` (see the module text)."""
    out = Mapped()
    events = out.events
    fields: dict[str, object] | None = None
    # The Create steps first: they make one `created` event, first.
    for kind, field_name, value, _, _, _, _, _ in steps:
        if kind != "Create":
            continue
        if fields is None:
            fields = {}
            created: EventDict = {"type": "created", "at": at, "fields": fields}
        if field_name == "status":
            status = status_name(value)
            if status is not None:
                created["status"] = status
        elif (name := attribute_name(field_name)) is not None:
            fields[name] = _value(field_name, value, out)
    if fields is not None:
        if channel is not None and "channel" not in fields:
            fields["channel"] = channel
        events.append(created)
    changed: dict[str, object] | None = None  # the open update's fields and previous values
    previous: dict[str, object] = {}
    for step in steps:
        kind, field_name, value, has_previous, previous_value, _, _, _ = step
        if kind == "Change":
            if field_name == "status":
                status = status_name(value)
                if status is None:
                    raise RecordError(f"a status change to {value!r}; expected a status name")
                event: EventDict = {"type": "status", "at": at, "status": status}
                before = status_name(previous_value) if has_previous else None
                if before is not None:
                    event["_previous_status"] = before
                events.append(event)
                changed = None
            elif (name := attribute_name(field_name)) is not None:
                if changed is None:
                    changed, previous = {}, {}
                    events.append({"type": "update", "at": at, "fields": changed, "_previous": previous})
                changed[name] = _value(field_name, value, out)
                if has_previous:
                    previous.setdefault(name, _value(field_name, previous_value, out))
        elif kind == "Comment":
            events.append(_message(at, step))
            changed = None
    return out


def _value(field_name: object, value: object, out: Mapped) -> object:
    """A field value as imported; an assignee id is noted as an agent's."""
    imported = attribute_value(field_name, value)
    if field_name == "assignee_id" and isinstance(imported, str):
        out.assignees.add(imported)
    return imported


def _message(at: str, step: Step) -> EventDict:
    """A comment as a ``message``: ``bot`` now when the author or the via
    says so, else the author's id for :meth:`finish_ticket` to resolve."""
    public = True if step.public is None else step.public
    if not isinstance(public, bool):
        raise RecordError(f"a comment's public is {step.public!r}; expected true or false")
    event: EventDict = {"type": "message", "at": at, "public": public}
    if step.author == SYSTEM_USER or step.channel in BOT_CHANNELS:
        event["author"] = "bot"
    else:
        event["_author"] = step.author
    return event


def audit_steps(audit: Mapping[str, object]) -> tuple[str, str | None, list[Step]]:
    """The instant, via channel and steps of a ticket audit."""
    at = instant_text(audit.get("created_at"), "created_at")
    author = id_text(audit.get("author_id"))
    channel = via_channel(audit.get("via"))
    events = audit.get("events")
    if not isinstance(events, list):
        raise RecordError(f"events is {type(events).__name__}; expected a list of audit events")
    steps = []
    for index, raw in enumerate(events):
        event = raw if isinstance(raw, Mapping) else as_object(raw, f"event {index + 1}")
        kind = event.get("type")
        if kind in ("Create", "Change"):
            steps.append(
                Step(
                    str(kind),
                    event.get("field_name"),
                    event.get("value"),
                    "previous_value" in event,
                    event.get("previous_value"),
                )
            )
        elif kind in COMMENT_TYPES:
            steps.append(_comment(event, author, channel))
    return at, channel, steps


def ticket_event_steps(record: Mapping[str, object]) -> tuple[str, str | None, list[Step]]:
    """The instant, via channel and steps of an incremental ticket event.

    Its ``via`` is a display string (``"Web form"``); the channel is taken
    from the first child with a ``via`` object (a comment's), else from it.
    """
    raw_at = record.get("created_at")
    at = instant_text(record.get("timestamp") if raw_at is None else raw_at, "created_at")
    author = id_text(record.get("updater_id"))
    children = record.get("child_events")
    if not isinstance(children, list):
        raise RecordError(f"child_events is {type(children).__name__}; expected a list of events")
    # One pass over the children (this runs for every child of every update
    # of an export): the update's channel is known only at the end, so a
    # comment without a via of its own is given it afterwards.
    channel: str | None = None
    with_via = False
    steps: list[Step] = []
    inheriting: list[int] = []  # comment steps that take the update's channel
    flagged: Mapping[str, object] | None = None
    for i, child in enumerate(children):
        if type(child) is not dict and not isinstance(child, Mapping):
            as_object(child, f"child event {i + 1}")  # its error
        via = child.get("via")
        if not with_via and via is not None and type(via) is not str and isinstance(via, Mapping):
            channel, with_via = via_channel(via), True
        kind = child.get("event_type")
        declared = child.get("type")
        if kind is None and isinstance(declared, str) and declared[:1].isupper():
            kind = declared
        if kind in COMMENT_TYPES:
            if via is None:
                inheriting.append(len(steps))
            steps.append(_comment(child, author, None))
            continue
        if kind is not None and kind != "Create" and kind != "Change":
            continue  # a notification, a satisfaction rating, ...
        step_kind = "Create" if kind == "Create" else "Change"
        if "field_name" in child:
            name, value = child["field_name"], child.get("value")
        else:
            # The changed field is the key; `type` is a field when it is the
            # ticket type (lower case or null), not the event's type.
            fields = _changed_keys(child)
            if len(fields) != 1 or fields[0] == "type":
                fields = tuple(key for key in fields if key != "type" or _ticket_type(declared))
                if len(fields) != 1:
                    steps += [
                        _new_step(Step, (step_kind, key, child[key], False, None, None, True, None))
                        for key in fields
                    ]
                    if child.get("comment_present") is True:
                        flagged = child
                    continue
            name = fields[0]  # the common case: one field
            value = child[name]
        if "previous_value" in child:
            steps.append(
                _new_step(Step, (step_kind, name, value, True, child["previous_value"], None, True, None))
            )
        else:
            steps.append(_new_step(Step, (step_kind, name, value, False, None, None, True, None)))
        if child.get("comment_present") is True:
            flagged = child
    if not with_via:
        channel = via_channel(record.get("via"))
    for index in inheriting:
        steps[index] = steps[index]._replace(channel=channel)
    if flagged is not None and not any(step.kind == "Comment" for step in steps):
        # First, where an audit has its comment: a reply and a solve in one
        # update are the reply, then the solve (SEMANTICS.md section 14).
        public = flagged.get("comment_public")
        steps.insert(0, Step("Comment", author=author, public=public, channel=channel))
    return at, channel, steps


#: Builds a step from all its fields without the named tuple's Python-level
#: ``__new__`` (one is made per field change of every update).
_new_step = tuple.__new__


def _changed_keys(child: Mapping[str, object]) -> tuple[str, ...]:
    """The keys of an incremental export's child that name changed fields,
    in order: found once per shape of child (an export has a few dozen)."""
    shape = tuple(child)
    keys = _SHAPES.get(shape)
    if keys is None:
        if len(_SHAPES) > 4096:
            _SHAPES.clear()
        keys = _SHAPES[shape] = tuple(key for key in shape if key not in CHILD_KEYS)
    return keys


#: Children's keys, by the tuple of all their keys.
_SHAPES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _ticket_type(value: object) -> bool:
    """Whether a child's ``type`` is the ticket's type, not the event's."""
    return value is None or (isinstance(value, str) and not value[:1].isupper())


def _comment(event: Mapping[str, object], author: str | None, channel: str | None) -> Step:
    """A comment step: its own author and via, else the update's."""
    own = id_text(event.get("author_id"))
    via = event.get("via")
    if via is not None:
        channel = via_channel(via)
    return _new_step(Step, ("Comment", None, None, False, None, own or author, event.get("public"), channel))
