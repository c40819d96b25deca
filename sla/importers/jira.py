"""Jira Service Management (Jira Cloud) exports as section-3 events.

Saved API pages it reads (any file name, recognised by content):

* issue search pages with ``expand=changelog``, from the deprecated
  ``/rest/api/3/search`` (``startAt``/``total``) or ``/rest/api/3/search/jql``
  (``isLast``/``nextPageToken``), and single issues (``/rest/api/3/issue/{key}``);
* standalone changelog pages (``/rest/api/3/issue/{key}/changelog``);
* platform comment pages (``/rest/api/3/issue/{id}/comment``: ``jsdPublic``,
  authors with ``accountType``) and servicedesk comment pages
  (``/rest/servicedeskapi/request/{key}/comment``: ``public``, no ``accountType``);
* customer requests (``/rest/servicedeskapi/request``), request types
  (``/rest/servicedeskapi/requesttype``) and platform users, as lookups;
* request SLA pages (``/rest/servicedeskapi/request/{key}/sla``), as
  :class:`~sla.importers.base.VendorCycle` items for ``sla reconcile``.

Every event of an issue is emitted under its numeric id, the one name that
comment and SLA pages carry (in their ``self`` URLs); :meth:`finish_ticket`
renames the ticket to its key, learnt from the search pages, so file order
does not matter. Pages are recognised in :mod:`sla.importers.jira_pages`;
records become placeholder events in
:mod:`sla.importers.jira_records`, finished in
:mod:`sla.importers.jira_history`; SLA records are read in
:mod:`sla.importers.jira_sla`; shapes in :mod:`sla.importers.jira_shapes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from sla.importers.base import Emit, EventDict, Parked, RecordError, Source, VendorCycle
from sla.importers.jira_history import Facts, finish_messages, issue_timeline
from sla.importers.jira_pages import Records, is_issue, recognise_page
from sla.importers.jira_records import ATTRIBUTE_ORDER, history_event, issue_created, message_event
from sla.importers.jira_shapes import (
    ISSUE_COMMENT_URL,
    REQUEST_URL,
    as_map,
    get_list,
    get_map,
    get_text,
    instant,
    link_self,
    user_account,
)
from sla.importers.jira_sla import build_metric_map, sla_name_key, vendor_cycles

#: What reading one record gives: events, the vendor's cycles, or a record kept for later.
Read = Emit | VendorCycle | Parked


class JiraSource(Source):
    """Jira Service Management: issues with their changelog, comments, and
    request SLA records. ``metric_map`` adds SLA-name-to-metric pairs to the
    defaults ("Time to first response" and "Time to resolution")."""

    name = "jira"
    reads_vendor_slas = True  # request SLA records

    def __init__(self, metric_map: Mapping[str, str] | None = None) -> None:
        self._metrics = build_metric_map(metric_map)
        self._keys: dict[str, str] = {}  # issue id -> key
        self._ids: dict[str, str] = {}  # key -> issue id
        self._roles: dict[str, str] = {}  # accountId -> role
        self._type_names: dict[str, str] = {}  # request type id -> name
        self._request_types: dict[str, tuple[str | None, str | None]] = {}  # issue id -> (type id, name)
        self._waiting_events: dict[str, list[EventDict]] = {}  # key -> events until its id is known
        self._waiting_cycles: dict[str, list[VendorCycle]] = {}  # id -> cycles until its key is known
        self._slas_seen: set[tuple[str, str]] = set()
        self._unmapped_slas: Counter[str] = Counter()
        self._done_category: set[str] = set()
        self._truncated: dict[str, int] = {}  # issue id -> changelog total
        self._history_ids: dict[str, set[str]] = {}  # issue id or key -> history ids seen
        self._refused: list[int] = [0, 0]  # issues, comments
        self._unnamed_types: set[str] = set()
        self._truncated_keys: list[str] = []
        self._facts = Facts()
        self._readers: dict[str, Callable[[dict[str, object]], list[Read]]] = {
            "issues": self._read_issue,
            "changelogs": self._read_changelog,
            "comments": self._read_comment,
            "request-comments": self._read_request_comment,
            "requests": self._read_request,
            "request-types": self._read_request_type,
            "users": self._read_user,
            "sla-records": self._read_sla,
        }

    # -- recognising -------------------------------------------------------

    def recognise(self, doc: object) -> Records | None:
        """The records of a saved Jira page or JSON Lines record, by kind."""
        return recognise_page(doc)

    # -- reading -----------------------------------------------------------

    def read(self, kind: str, record: object) -> Iterable[Read]:
        """Learn from one record and emit its events (under the issue's id)."""
        reader = self._readers.get(kind)
        data = as_map(record)
        if reader is None or data is None:
            raise RecordError(f"not a Jira {kind} record")
        return reader(data)

    def _learn_user(self, user: object) -> None:
        account, role = user_account(user)
        if account is not None and role is not None:
            self._roles[account] = role

    def _learn_issue(self, issue_id: str, key: str) -> list[Read]:
        """Record an id-key pair; release what waited for it."""
        self._keys[issue_id], self._ids[key] = key, issue_id
        out: list[Read] = [Emit(issue_id, e) for e in self._waiting_events.pop(key, [])]
        out += [replace(c, ticket=key) for c in self._waiting_cycles.pop(issue_id, [])]
        return out

    def _for_issue(self, ref: str, event: EventDict) -> list[Read]:
        """``event`` under the issue's id; an issue named by key waits for its id."""
        issue_id = ref if ref.isdigit() else self._ids.get(ref)
        if issue_id is not None:
            return [Emit(issue_id, event)]
        self._waiting_events.setdefault(ref, []).append(event)
        return [Parked(ref)]

    def _read_issue(self, issue: dict[str, object]) -> list[Read]:
        if not is_issue(issue):
            raise RecordError("an issue needs an id, a key and fields")
        issue_id, key, fields = get_text(issue, "id") or "", str(issue["key"]), get_map(issue, "fields")
        created = issue_created(key, fields)
        out = self._learn_issue(issue_id, key)
        for user in ("assignee", "reporter", "creator"):
            self._learn_user(fields.get(user))
        if created.done_status is not None:
            self._done_category.add(created.done_status)
        out.append(Emit(issue_id, created.event))
        changelog = get_map(issue, "changelog")
        histories = get_list(changelog, "histories")
        total = changelog.get("total")
        if isinstance(total, int) and total > len(histories):
            self._truncated[issue_id] = total
        for history in histories:
            change = self._history(
                as_map(history) or {}, issue_id, created.type_field, issue_id in self._truncated
            )
            if change is not None:
                out.append(Emit(issue_id, change))
        return out

    def _history(
        self, history: dict[str, object], ref: str, type_field: frozenset[str], track: bool
    ) -> EventDict | None:
        """A changelog entry's placeholder; ``track`` keeps its id, to tell
        whether a truncated changelog was completed by changelog pages."""
        self._learn_user(history.get("author"))
        hid, event = history_event(history, type_field)
        if track:
            self._history_ids.setdefault(ref, set()).add(hid)
        return event

    def _read_changelog(self, record: dict[str, object]) -> list[Read]:
        ref = str(record.get("issue"))
        change = self._history(get_map(record, "history"), ref, frozenset(), True)
        return [] if change is None else self._for_issue(ref, change)

    def _read_comment(self, comment: dict[str, object]) -> list[Read]:
        cid = get_text(comment, "id") or ""
        found = ISSUE_COMMENT_URL.search(get_text(comment, "self") or "")
        if found is None:
            raise RecordError(f"comment {cid} names no issue (its self URL is missing)")
        self._learn_user(comment.get("author"))
        self._learn_user(comment.get("updateAuthor"))
        at = instant(comment.get("created"), f"comment {cid} created")
        public = comment.get("jsdPublic") is not False and comment.get("visibility") is None
        return self._for_issue(
            found.group(1), message_event(cid, at, public, comment.get("body"), comment.get("author"))
        )

    def _read_request_comment(self, comment: dict[str, object]) -> list[Read]:
        cid = get_text(comment, "id") or ""
        found = REQUEST_URL.search(link_self(comment) or "")
        if found is None:
            raise RecordError(f"request comment {cid} names no request (its _links.self is missing)")
        at = instant(comment.get("created"), f"request comment {cid} created")
        public = comment.get("public") is not False
        return self._for_issue(
            found.group(1), message_event(cid, at, public, comment.get("body"), comment.get("author"))
        )

    def _read_request(self, request: dict[str, object]) -> list[Read]:
        issue_id, key = get_text(request, "issueId"), get_text(request, "issueKey")
        if issue_id is None or key is None:
            raise RecordError("customer request without issueId and issueKey")
        type_id, expanded = get_text(request, "requestTypeId"), get_map(request, "requestType")
        name = get_text(expanded, "name")
        if type_id is not None and name is not None:
            self._type_names[type_id] = name
        self._request_types[issue_id] = (type_id, name)
        return self._learn_issue(issue_id, key)

    def _read_request_type(self, request_type: dict[str, object]) -> list[Read]:
        type_id, name = get_text(request_type, "id"), get_text(request_type, "name")
        if type_id is not None and name is not None:
            self._type_names[type_id] = name
        return []

    def _read_user(self, user: dict[str, object]) -> list[Read]:
        self._learn_user(user)
        return []

    def _read_sla(self, record: dict[str, object]) -> list[Read]:
        found = REQUEST_URL.search(link_self(record) or "")
        name = get_text(record, "name")
        if found is None or name is None:
            raise RecordError("SLA record without a name or a _links.self naming its request")
        mapped = self._metrics.get(sla_name_key(name))
        if mapped is None:
            self._unmapped_slas[name] += 1
            return []
        ref = found.group(1)
        seen = (ref, get_text(record, "id") or sla_name_key(name))
        if seen in self._slas_seen:
            return []
        self._slas_seen.add(seen)
        key = self._keys.get(ref) if ref.isdigit() else ref
        cycles = vendor_cycles(key or ref, record, mapped[1])
        if key is None:
            self._waiting_cycles.setdefault(ref, []).extend(cycles)
            return [Parked(ref)]
        return list(cycles)

    # -- finishing ---------------------------------------------------------

    def finish_ticket(self, ticket: str, events: list[EventDict]) -> tuple[str, list[EventDict]]:
        """The issue's key and its final events: fields at creation, the
        changelog replayed, comments deduplicated with their authors' roles."""
        key = self._keys.get(ticket)
        created = [e for e in events if e.get("type") == "created"]
        histories = [e for e in events if "_history" in e]
        messages = [e for e in events if e.get("type") == "message"]
        if key is None or not created:
            self._refused[0] += 1
            self._refused[1] += len(messages)
            raise RecordError(
                f"issue id {ticket}: {len(messages)} comment(s) and {len(histories)} changelog entr(ies) "
                "but no issue record with this id (save the search pages that hold it)"
            )
        first = dict(
            max(enumerate(created), key=lambda pair: (str(pair[1].get("_updated") or ""), pair[0]))[1]
        )
        given = first.get("fields")
        fields: dict[str, object] = dict(given) if isinstance(given, dict) else {}
        if "request_type" not in fields:
            type_id, name = self._request_types.get(ticket, (None, None))
            type_id = type_id or get_text(first, "_request_type_id")
            name = name or self._type_names.get(type_id or "")
            if name or type_id:
                fields["request_type"] = name or type_id
            if type_id and not name:
                self._unnamed_types.add(type_id)
        first["fields"] = {k: fields[k] for k in ATTRIBUTE_ORDER if k in fields} | fields
        total = self._truncated.get(ticket)
        if (
            total is not None
            and len(self._history_ids.get(ticket, set()) | self._history_ids.get(key, set())) < total
        ):
            self._truncated_keys.append(key)
        finished = finish_messages(messages, self._roles.get, self._facts)
        return key, issue_timeline(first, histories, finished, self._facts)

    def waiting(self) -> tuple[dict[str, str], list[VendorCycle]]:
        """Pages of issues named by a key no issue record gave, SLA records of
        requests whose id none gave: skipped, each at its place; their
        cycles, under the request's id, go to ``sla reconcile`` all the same
        (a vendor verdict on a ticket with no history is a difference)."""
        reasons = {
            key: f"issue {key}: no issue record with this key (save the search pages that hold it)"
            for key in self._waiting_events
        }
        reasons |= {
            ref: f"request {ref}: no issue record with this id (save the search pages that hold it)"
            for ref in self._waiting_cycles
        }
        return reasons, [cycle for cycles in self._waiting_cycles.values() for cycle in cycles]

    def notes(self) -> list[str]:
        """What the export could not show and the defaults taken."""
        facts, out = self._facts, []
        if self._refused[0]:
            out.append(
                f"{self._refused[0]:,} issue id(s) with {self._refused[1]:,} comment(s) but no issue record "
                "were refused: save the search pages that hold them"
            )
        if facts.defaulted_authors:
            out.append(
                f"{facts.defaulted_authors:,} comment(s) by {len(facts.defaulted_accounts):,} author(s) with no "
                "accountType anywhere in the export taken as customer (servicedesk comments carry none; "
                "save /rest/api/3/issue/{id}/comment pages or the users)"
            )
        done = sorted(set(facts.resolved_in) | self._done_category)
        if done:
            out.append(
                "Jira marks an issue done by its resolution; these statuses held resolved issues or are in "
                f"Jira's done category: list them in the policy, done_statuses: [{', '.join(done)}]"
            )
        if facts.resolution_without_status or facts.reopen_without_status:
            out.append(
                f"{facts.resolution_without_status:,} resolution(s) set and {facts.reopen_without_status:,} "
                "cleared without a status change: this contract sees done and reopen only through statuses"
            )
        if facts.moved_to_creation:
            out.append(
                f"{facts.moved_to_creation:,} event(s) dated before their issue's creation moved to it"
            )
        if self._truncated_keys:
            shown = ", ".join(sorted(self._truncated_keys)[:5])
            out.append(
                f"{len(self._truncated_keys):,} issue(s) with a truncated changelog ({shown}): "
                "save /rest/api/3/issue/{key}/changelog pages for them"
            )
        for name, count in sorted(self._unmapped_slas.items()):
            out.append(
                f"SLA {name!r} ({count:,} record(s)) maps to no metric: add --metric-map '{name}=METRIC'"
            )
        if self._unnamed_types:
            out.append(
                f"request type id(s) {', '.join(sorted(self._unnamed_types))} have no name: "
                "save /rest/servicedeskapi/requesttype pages"
            )
        return out
