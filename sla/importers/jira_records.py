"""Jira records as placeholder events: an issue's ``created`` (its fields as
they are now), one placeholder per changelog entry, one per comment. They
are finished by :mod:`sla.importers.jira_history` once every file is read.
Pure functions of the record."""

from __future__ import annotations

from dataclasses import dataclass

from sla.importers.base import EventDict, RecordError
from sla.importers.base import word as status_name
from sla.importers.jira_shapes import (
    as_map,
    change_attribute,
    change_values,
    comment_text,
    get_list,
    get_map,
    get_text,
    instant,
    named,
    organization_name,
    request_type_field,
    user_account,
)
from sla.timefmt import format_instant

#: The attributes of an imported issue, in the order ``created`` lists them.
ATTRIBUTE_ORDER = (
    "priority",
    "issue_type",
    "request_type",
    "assignee",
    "requester",
    "organization",
    "tags",
    "components",
    "project",
    "resolution",
)


@dataclass(frozen=True, slots=True)
class IssueCreated:
    """An issue's ``created`` placeholder and what reading it learnt."""

    event: EventDict
    #: The custom field holding the JSM request type (empty when none).
    type_field: frozenset[str]
    #: The current status when Jira puts it in its "done" category.
    done_status: str | None


def issue_attributes(fields: dict[str, object]) -> tuple[dict[str, object], frozenset[str], str | None]:
    """Section 14's attributes from an issue's current fields (a field the
    search did not return is left out; an empty one is null), the request
    type's custom field id, and the request type id when the field gives no
    name."""
    out: dict[str, object] = {}
    if "priority" in fields:
        priority = named(fields["priority"])
        out["priority"] = priority.lower() if priority else None
    if "issuetype" in fields:
        out["issue_type"] = named(fields["issuetype"])
    found, type_id = request_type_field(fields), None
    if found is not None and found[2]:
        out["request_type"] = found[2]
    elif found is not None:
        type_id = found[1]
    if "assignee" in fields:
        out["assignee"] = user_account(fields["assignee"])[0]
    if "reporter" in fields:
        out["requester"] = user_account(fields["reporter"])[0]
    organization = organization_name(fields)
    if organization is not None:
        out["organization"] = organization
    if "labels" in fields:
        out["tags"] = [label for label in get_list(fields, "labels") if isinstance(label, str)]
    if "components" in fields:
        out["components"] = [n for n in map(named, get_list(fields, "components")) if n]
    if "project" in fields:
        out["project"] = get_text(get_map(fields, "project"), "key")
    if "resolution" in fields:
        out["resolution"] = named(fields["resolution"])
    return out, frozenset([found[0]] if found else []), type_id


def issue_created(key: str, fields: dict[str, object]) -> IssueCreated:
    """The ``created`` placeholder of an issue: current attributes and
    status, with ``_updated`` (to pick the newest copy of an issue saved
    twice) and ``_request_type_id`` (named at the end)."""
    if "created" not in fields:
        raise RecordError(f"issue {key} has no fields.created (search with fields=*all)")
    created = instant(fields["created"], f"issue {key} fields.created")
    attributes, type_field, type_id = issue_attributes(fields)
    event: EventDict = {"at": format_instant(created), "type": "created", "fields": attributes}
    status = get_map(fields, "status")
    name = named(status)
    done = None
    if name:
        event["status"] = status_name(name)
        if get_text(get_map(status, "statusCategory"), "key") == "done":
            done = status_name(name)
    event["_updated"] = get_text(fields, "updated")
    event["_request_type_id"] = type_id
    return IssueCreated(event, type_field, done)


def history_event(history: dict[str, object], type_field: frozenset[str]) -> tuple[str, EventDict | None]:
    """A changelog entry's id and its placeholder (None when it changes no
    attribute this contract follows): its changes as ``[attribute, before,
    after]``."""
    at = instant(history.get("created"), "changelog entry created")
    changes: list[list[object]] = []
    for value in get_list(history, "items"):
        item = as_map(value) or {}
        attribute = change_attribute(item, type_field)
        if attribute is not None:
            changes.append([attribute, *change_values(attribute, item)])
    hid = get_text(history, "id") or f"{at}:{changes}"
    if not changes:
        return hid, None
    return hid, {
        "at": format_instant(at),
        "type": "update",
        "fields": {},
        "_history": hid,
        "_changes": changes,
    }


def message_event(cid: str, at: int, public: bool, body: object, author: object) -> EventDict:
    """A comment's placeholder ``message``: ``_comment`` (its id, to drop a
    copy saved from the other API), ``_account`` and ``_role`` (None when the
    author object has no ``accountType``; resolved at the end)."""
    account, role = user_account(author)
    event: EventDict = {"at": format_instant(at), "type": "message", "author": role or "customer"}
    event["public"] = public
    text = comment_text(body)
    if text:
        event["body"] = text
    event.update({"_comment": cid, "_account": account, "_role": role})
    return event
