"""Reading Jira Cloud and Jira Service Management JSON: the small values
inside records (instants, users, issue references in URLs, comment text,
changelog items, the JSM custom fields).

Shapes and their sources are listed in ``tests/fixtures/README.md``
(section "Jira Service Management"); ``docs/importing.md`` explains the
mapping. Everything here is a pure function of its argument.
"""

from __future__ import annotations

import re

from sla.errors import SlaError
from sla.importers.base import RecordError
from sla.importers.base import word as status_name
from sla.timefmt import parse_instant

#: Roles by the platform's ``accountType`` (``UserDetails``): "'atlassian'
#: (normal users), 'app' (application user) or 'customer' (Jira Service
#: Desk customer user)". Any other value is a customer (section 14).
ROLE_BY_ACCOUNT_TYPE = {"atlassian": "agent", "customer": "customer", "app": "bot"}

#: ``.../rest/api/3/issue/10002/comment/10000`` (the numeric issue id).
ISSUE_COMMENT_URL = re.compile(r"/rest/api/[^/]+/issue/([^/?#]+)/comment\b")
#: ``.../rest/api/3/issue/TT-1/changelog?startAt=2``.
ISSUE_CHANGELOG_URL = re.compile(r"/rest/api/[^/]+/issue/([^/?#]+)/changelog\b")
#: ``.../rest/servicedeskapi/request/2000/comment/1000``, ``.../request/101102/sla/10030``.
REQUEST_URL = re.compile(r"/rest/servicedeskapi/request/([^/?#]+)")


#: Changelog items by ``fieldId`` (or by ``field`` when an old changelog has
#: no ``fieldId``) to the attribute they change.
CHANGE_ATTRIBUTES = {
    "status": "status",
    "priority": "priority",
    "assignee": "assignee",
    "reporter": "requester",
    "labels": "tags",
    "components": "components",
    "component": "components",
    "issuetype": "issue_type",
    "issue type": "issue_type",
    "resolution": "resolution",
    "customer request type": "request_type",
    "request type": "request_type",
}


def as_map(value: object) -> dict[str, object] | None:
    """``value`` if it is a JSON object, else None."""
    return value if isinstance(value, dict) else None


def get_map(record: dict[str, object], key: str) -> dict[str, object]:
    """The object under ``key`` (empty when absent or not an object)."""
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def get_list(record: dict[str, object], key: str) -> list[object]:
    """The list under ``key`` (empty when absent or not a list)."""
    value = record.get(key)
    return value if isinstance(value, list) else []


def get_text(record: dict[str, object], key: str) -> str | None:
    """The string under ``key``; an integer id as its decimal string; else None."""
    value = record.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def link_self(record: dict[str, object]) -> str | None:
    """A record's own URL: ``self`` (platform) or ``_links.self`` (servicedesk)."""
    return get_text(record, "self") or get_text(get_map(record, "_links"), "self")


def instant(value: object, what: str) -> int:
    """Epoch microseconds of a platform timestamp
    (``2024-03-04T09:00:00.000+0000``) or a servicedesk ``DateDTO``
    (``epochMillis`` preferred, else ``iso8601`` or ``jira``).

    >>> instant("1970-01-01T00:00:01.000+0000", "created"), instant({"epochMillis": 1500}, "created")
    (1000000, 1500000)
    """
    if isinstance(value, dict):
        millis = value.get("epochMillis")
        if isinstance(millis, int) and not isinstance(millis, bool):
            return millis * 1000
        value = value.get("iso8601") or value.get("jira")
    try:
        return parse_instant(value)
    except SlaError as exc:
        raise RecordError(f"{what}: {exc}") from None


def user_account(user: object) -> tuple[str | None, str | None]:
    """A user's ``accountId`` and role (None when the object has no
    ``accountType``, as servicedesk ``UserDTO`` objects never do)."""
    record = as_map(user)
    if record is None:
        return None, None
    kind = record.get("accountType")
    role = ROLE_BY_ACCOUNT_TYPE.get(kind, "customer") if isinstance(kind, str) else None
    return get_text(record, "accountId"), role


def named(value: object) -> str | None:
    """The ``name`` of an object field (priority, issue type, status...), or None."""
    record = as_map(value)
    return get_text(record, "name") if record is not None else None


def comment_text(body: object) -> str:
    """A comment's text: a v2/servicedesk string as it is, or the text nodes
    of an Atlassian Document Format body, one line per block.

    >>> comment_text({"type": "doc", "content": [{"type": "paragraph", "content": [
    ...     {"type": "text", "text": "Hi"}, {"type": "hardBreak"}, {"type": "text", "text": "there"}]}]})
    'Hi\\nthere'
    """
    if isinstance(body, str):
        return body
    parts: list[str] = []

    def walk(node: object) -> None:
        record = as_map(node)
        if record is None:
            return
        kind = record.get("type")
        if kind == "text":
            parts.append(get_text(record, "text") or "")
        elif kind == "hardBreak":
            parts.append("\n")
        for child in get_list(record, "content"):
            walk(child)
        if kind not in ("text", "hardBreak", "doc") and get_list(record, "content"):
            parts.append("\n")

    walk(body)
    return "".join(parts).strip()


def change_attribute(item: dict[str, object], request_type_fields: frozenset[str]) -> str | None:
    """The attribute a changelog item changes, or None for fields this
    contract does not follow. The request type is recognised by name or by
    the custom field that holds it on the issue."""
    field_id = get_text(item, "fieldId")
    if field_id is not None and field_id in request_type_fields:
        return "request_type"
    for key in (field_id, get_text(item, "field")):
        if key is not None and key.strip().lower() in CHANGE_ATTRIBUTES:
            return CHANGE_ATTRIBUTES[key.strip().lower()]
    return None


def change_values(attribute: str, item: dict[str, object]) -> tuple[object, object]:
    """The value before and after a changelog item, as the attribute holds it:
    statuses and priorities by (normalised) name, people by ``accountId``,
    labels as a list, a component by name (one per item), other fields by name."""
    before, after = get_text(item, "fromString"), get_text(item, "toString")
    if attribute == "status":
        return (status_name(before) if before else None), (status_name(after) if after else None)
    if attribute == "priority":
        return (before.lower() if before else None), (after.lower() if after else None)
    if attribute in ("assignee", "requester"):
        return get_text(item, "from") or before, get_text(item, "to") or after
    if attribute == "tags":
        return (before or "").split(), (after or "").split()
    return before or None, after or None


def request_type_field(fields: dict[str, object]) -> tuple[str, str | None, str | None] | None:
    """The JSM request type custom field of an issue, found by its value's
    shape (an object with a ``requestType``): its field id, the request type
    id and its name."""
    for field_id, value in fields.items():
        if not field_id.startswith("customfield_"):
            continue
        request_type = get_map(as_map(value) or {}, "requestType")
        if request_type:
            return field_id, get_text(request_type, "id"), get_text(request_type, "name")
    return None


def organization_name(fields: dict[str, object]) -> str | None:
    """The first JSM organization of an issue: a custom field whose value is
    a list of ``OrganizationDTO`` (``name``, ``_links.self`` under
    ``/servicedeskapi/organization/``)."""
    for field_id, value in fields.items():
        if not field_id.startswith("customfield_") or not isinstance(value, list) or not value:
            continue
        first = as_map(value[0])
        if first is not None and "/servicedeskapi/organization/" in (link_self(first) or ""):
            return get_text(first, "name")
    return None
