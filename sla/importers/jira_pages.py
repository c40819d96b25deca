"""Which saved Jira page or JSON Lines record a document is, and its
records by kind (``issues``, ``changelogs``, ``comments``,
``request-comments``, ``requests``, ``request-types``, ``users``,
``sla-records``). Shapes and their sources: ``tests/fixtures/README.md``,
section "Jira Service Management"."""

from __future__ import annotations

from sla.importers.jira_shapes import (
    ISSUE_CHANGELOG_URL,
    ISSUE_COMMENT_URL,
    as_map,
    get_map,
    get_text,
    link_self,
)

#: Envelope keys of the issue search pages: the deprecated ``/rest/api/3/search``
#: (``startAt``, ``maxResults``, ``total``) and ``/rest/api/3/search/jql``
#: (``isLast``, ``nextPageToken``).
SEARCH_KEYS = frozenset({"startAt", "maxResults", "total", "isLast", "nextPageToken"})
#: Envelope keys of a platform page of comments (``PageOfComments``).
COMMENT_PAGE_KEYS = frozenset({"startAt", "maxResults", "total"})

Records = list[tuple[str, list[object]]]


def is_issue(value: object) -> bool:
    """An ``IssueBean``: ``id``, ``key`` and a ``fields`` object."""
    record = as_map(value)
    return (
        record is not None
        and get_text(record, "id") is not None
        and isinstance(record.get("key"), str)
        and isinstance(record.get("fields"), dict)
    )


def is_user(value: object) -> bool:
    """A platform ``UserDetails`` (``accountId`` and ``accountType``) that is not an issue."""
    record = as_map(value)
    return (
        record is not None
        and isinstance(record.get("accountId"), str)
        and isinstance(record.get("accountType"), str)
        and "fields" not in record
    )


def is_platform_comment(value: object, *, alone: bool = False) -> bool:
    """A platform ``Comment``: ``id`` and a ``created`` string; a comment
    read ``alone`` (a JSON Lines record, not in a page) must also have a
    ``self`` URL naming its issue."""
    record = as_map(value)
    if record is None or get_text(record, "id") is None or not isinstance(record.get("created"), str):
        return False
    if not alone:
        return True
    url = get_text(record, "self")
    return url is not None and ISSUE_COMMENT_URL.search(url) is not None


def is_history(value: object) -> bool:
    """A changelog entry: ``created`` and a list of ``items``."""
    record = as_map(value)
    return (
        record is not None
        and isinstance(record.get("created"), str)
        and isinstance(record.get("items"), list)
    )


def servicedesk_kind(value: object, *, alone: bool = False) -> str | None:
    """Which servicedesk record ``value`` is: ``sla-records``
    (``SlaInformationDTO``), ``request-comments`` (``CommentDTO``),
    ``requests`` (``CustomerRequestDTO``), ``request-types``
    (``RequestTypeDTO``), or None. A record read ``alone`` must carry a
    servicedesk ``_links.self``."""
    record = as_map(value)
    if record is None:
        return None
    url = link_self(record) or ""
    if alone and "/rest/servicedeskapi/" not in url:
        return None
    if "completedCycles" in record or "ongoingCycle" in record or "/sla/" in url:
        return "sla-records"
    if "issueId" in record and "issueKey" in record:
        return "requests"
    if isinstance(record.get("public"), bool) and isinstance(record.get("created"), dict):
        return "request-comments"
    if "issueTypeId" in record and "serviceDeskId" in record and "name" in record:
        return "request-types"
    return None


def is_servicedesk_page(doc: dict[str, object]) -> bool:
    """A servicedesk ``PagedDTO`` envelope: ``values`` with ``size``/``start``/
    ``limit``/``isLastPage`` or a ``_links.base`` of the servicedesk API."""
    if not isinstance(doc.get("values"), list):
        return False
    base = get_text(get_map(doc, "_links"), "base") or ""
    return "/servicedeskapi" in base or {"size", "start", "limit", "isLastPage"} <= doc.keys()


def recognise_page(doc: object) -> Records | None:
    """The records of ``doc`` by kind, or None when it is no Jira page or record."""
    if isinstance(doc, list):
        return [("users", doc)] if doc and all(is_user(u) for u in doc) else None
    record = as_map(doc)
    if record is None:
        return None
    issues = record.get("issues")
    if (
        isinstance(issues, list)
        and all(is_issue(i) for i in issues)
        and (issues or SEARCH_KEYS & record.keys())
    ):
        return [("issues", issues)]
    if is_issue(record):
        return [("issues", [record])]
    comments = record.get("comments")
    if isinstance(comments, list) and COMMENT_PAGE_KEYS & record.keys():
        return [("comments", comments)] if all(is_platform_comment(c) for c in comments) else None
    if is_platform_comment(record, alone=True):
        return [("comments", [record])]
    values = record.get("values")
    page = ISSUE_CHANGELOG_URL.search(get_text(record, "self") or "")
    if isinstance(values, list) and page and all(is_history(v) for v in values):
        return [("changelogs", [{"issue": page.group(1), "history": v} for v in values])]
    if isinstance(values, list) and is_servicedesk_page(record):
        kinds = {servicedesk_kind(v) for v in values}
        if None in kinds or len(kinds) > 1:
            return None
        return [(kinds.pop() or "", values)] if kinds else []
    kind = servicedesk_kind(record, alone=True)
    if kind is not None:
        return [(kind, [record])]
    return [("users", [record])] if is_user(record) else None
