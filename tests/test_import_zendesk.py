"""The Zendesk source (sla.importers.zendesk): recognising saved pages and
JSON Lines records, mapping audits and incremental ticket events to section-3
events, authors' roles, satisfaction ratings, ticket metric events as the
vendor's own cycles, and clocks of imported tickets equal to the clocks of
the same tickets written by hand.

The fixtures in tests/fixtures/zendesk/ are built from the shapes in the
vendor research (tests/fixtures/README.md names the reference of each).
Where a shape is only SECONDARY or UNCONFIRMED there (string ids in Change
events, the ticket event export's field-as-key children, ``answer_bot``),
the test says so.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

import sla
from sla.cli.app import main
from sla.importers.base import Emit, EventDict, RecordError, VendorCycle
from sla.importers.run import import_events
from sla.importers.zendesk import ZendeskSource, record_kind
from sla.importers.zendesk_finish import sort_for_processing
from sla.importers.zendesk_metrics import ZendeskCycle
from sla.timefmt import parse_instant

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
FILES = sorted(FIXTURES.iterdir())
NOW = "2024-04-01T00:00:00Z"


# -- helpers -----------------------------------------------------------------


def documents(path: Path) -> list[object]:
    """A saved file's documents: a page is one, JSON Lines one per line."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if path.name.endswith(".jsonl"):
        return [json.loads(line) for line in raw.splitlines() if line.strip()]
    return [json.loads(raw)]


def read_all(source: ZendeskSource, docs: Iterable[object]) -> tuple[list[Emit], list[VendorCycle]]:
    """Everything ``source`` emits for the documents, in order."""
    emits: list[Emit] = []
    cycles: list[VendorCycle] = []
    for doc in docs:
        found = source.recognise(doc)
        assert found is not None, doc
        for kind, records in found:
            for record in records:
                for item in source.read(kind, record):
                    (emits if isinstance(item, Emit) else cycles).append(item)
    return emits, cycles


def finish(source: ZendeskSource, emits: list[Emit]) -> dict[str, list[EventDict]]:
    """What the driver does after reading: group by ticket (emission order),
    finish each ticket, sort by instant with ties in the order given."""
    grouped: dict[str, list[EventDict]] = defaultdict(list)
    for emit in emits:
        grouped[emit.ticket].append(emit.event)
    out = {}
    for ticket, events in grouped.items():
        final, finished = source.finish_ticket(ticket, events)
        out[final] = sorted(finished, key=lambda e: parse_instant(e["at"]))
    return out


def import_files(paths: Iterable[Path]) -> tuple[dict[str, list[EventDict]], ZendeskSource]:
    """The fixtures' tickets as the driver would write them."""
    source = ZendeskSource()
    emits, _ = read_all(source, [doc for path in paths for doc in documents(path)])
    return finish(source, emits), source


def one_ticket(*docs: object, ticket: str = "1") -> list[EventDict]:
    """A ticket's final events from inline documents."""
    source = ZendeskSource()
    emits, _ = read_all(source, docs)
    return finish(source, emits)[ticket]


def audit(
    ticket: int, at: str, author: int, events: list[dict[str, object]], **extra: object
) -> dict[str, object]:
    """An audit record in the vendor's shape (research notes §1.1)."""
    return {
        "id": extra.pop("id", 1000),
        "ticket_id": ticket,
        "created_at": at,
        "author_id": author,
        "via": extra.pop("via", {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}}),
        "metadata": {"custom": {}, "system": {}},
        "events": events,
        **extra,
    }


def comment(author: int, public: bool = True, **extra: object) -> dict[str, object]:
    return {
        "id": 1,
        "type": "Comment",
        "author_id": author,
        "body": "x",
        "public": public,
        "attachments": [],
        **extra,
    }


CREATE = audit(
    1,
    "2024-03-04T09:00:00Z",
    10,
    [comment(10), {"id": 2, "type": "Create", "field_name": "status", "value": "new"}],
    id=100,
)
USERS = {
    "users": [
        {"id": 10, "role": "end-user", "active": True},
        {"id": 20, "role": "agent", "active": True},
        {"id": 30, "role": "admin", "active": False},
    ]
}


# -- recognising ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("ticket-35436-audits.json", {"audits": 6}),
        ("ticket-audits.json", {"audits": 5}),
        ("ticket-events.json", {"ticket_events": 6}),
        ("users.json", {"users": 3}),
        ("tickets.json", {"tickets": 3}),
        ("ticket-metric-events.json.gz", {"ticket_metric_events": 31}),
    ],
)
def test_saved_pages_are_recognised_by_their_envelope(name: str, kinds: dict[str, int]):
    [doc] = documents(FIXTURES / name)
    found = ZendeskSource().recognise(doc)
    assert found is not None
    assert {kind: len(records) for kind, records in found} == kinds


def test_json_lines_records_are_recognised_by_their_fields():
    kinds = [record_kind(doc) for doc in documents(FIXTURES / "records.jsonl")]  # type: ignore[arg-type]
    assert kinds == ["satisfaction_ratings"] * 4 + ["users"]
    [events] = documents(FIXTURES / "ticket-events.json")
    [audits] = documents(FIXTURES / "ticket-35436-audits.json")
    [metrics] = documents(FIXTURES / "ticket-metric-events.json.gz")
    [tickets] = documents(FIXTURES / "tickets.json")
    source = ZendeskSource()
    assert source.recognise(events["ticket_events"][0]) == [("ticket_events", [events["ticket_events"][0]])]  # type: ignore[index]
    assert source.recognise(audits["audits"][0]) == [("audits", [audits["audits"][0]])]  # type: ignore[index]
    assert source.recognise(metrics["ticket_metric_events"][0])[0][0] == "ticket_metric_events"  # type: ignore[index]
    ticket = dict(tickets["tickets"][0])  # type: ignore[index]
    ticket["satisfaction_rating"] = {"id": 1234, "score": "good", "comment": "Great support!"}
    assert source.recognise(ticket) == [("tickets", [ticket])]  # a rating object inside is no page


def test_side_loads_single_objects_and_foreign_documents():
    source = ZendeskSource()
    page = {"tickets": [{"id": 1}], "users": [{"id": 2, "role": "agent"}], "count": 1}
    assert sorted(kind for kind, _ in source.recognise(page) or []) == ["tickets", "users"]
    update = {"ticket": {"id": 1, "status": "open"}, "audit": CREATE}
    assert dict(source.recognise(update) or []) == {"tickets": [update["ticket"]], "audits": [CREATE]}
    # The Show satisfaction rating example wraps its object in a list (a docs bug): both read.
    assert source.recognise({"satisfaction_rating": [{"id": 1, "ticket_id": 1, "score": "good"}]})
    for foreign in ({"issues": []}, {"fake": 1}, [CREATE], "text", 7, None):
        assert source.recognise(foreign) is None


def test_policy_pages_are_recognised_and_left_to_the_policy_converter():
    source = ZendeskSource()
    page = {"sla_policies": [{"id": 25, "title": "Silver", "policy_metrics": []}], "count": 1}
    [(kind, records)] = source.recognise(page) or []
    assert kind == "sla_policies"
    assert list(source.read(kind, records[0])) == []
    assert source.recognise({"holidays": [{"id": 1, "start_date": "2021-07-04", "end_date": "2021-07-04"}]})
    assert record_kind({"id": 1, "name": "EMEA", "time_zone": "London", "intervals": []}) == "schedules"


# -- audits ----------------------------------------------------------------------


def test_the_creation_audit_makes_one_created_event_with_the_attributes():
    events = import_files([FIXTURES / "ticket-35436-audits.json"])[0]["35436"]
    created, first = events[0], events[1]
    assert created == {
        "type": "created",
        "at": "2024-03-04T09:00:00Z",
        "status": "new",
        "fields": {
            "priority": "high",
            "type": "incident",
            "group": "98738",  # a string id in a Create event (SECONDARY): kept as the string
            "tags": ["printer", "vip"],
            "channel": "web",  # the audit's via.channel
        },  # assignee_id null on Create: not an attribute; the notification: no event
    }
    assert first == {"type": "message", "at": "2024-03-04T09:00:00Z", "public": True, "author": "customer"}


def test_changes_become_status_and_update_events_in_the_audit_order():
    events = import_files([FIXTURES / "ticket-35436-audits.json", FIXTURES / "users.json"])[0]["35436"]
    at = "2024-03-04T09:42:10Z"
    assert [e for e in events if e["at"] == at] == [
        {"type": "message", "at": at, "public": True, "author": "agent"},
        {"type": "status", "at": at, "status": "pending"},
        {
            "type": "update",
            "at": at,
            "fields": {"assignee": "235323", "tags": ["printer", "vip", "hardware"]},
        },
    ]
    at = "2024-03-04T11:30:00Z"  # integer ids in a Change (VENDOR shape) are strings too
    assert [e for e in events if e["at"] == at] == [
        {"type": "message", "at": at, "public": False, "author": "agent"},
        {"type": "update", "at": at, "fields": {"group": "360002", "priority": "urgent"}},
    ]
    at = "2024-03-04T13:05:00Z"  # a reply and a solve in one audit: the reply first
    assert [e["type"] for e in events if e["at"] == at] == ["message", "status"]
    assert events[-1] == {"type": "status", "at": "2024-03-06T10:00:00Z", "status": "closed"}


def test_audit_order_is_kept_even_against_the_event_types():
    solve_then_reply = audit(
        1,
        "2024-03-04T10:00:00Z",
        20,
        [
            {"id": 5, "type": "Change", "field_name": "status", "value": "solved", "previous_value": "new"},
            comment(20),
        ],
        id=101,
    )
    events = one_ticket(CREATE, solve_then_reply, USERS)
    assert [(e["type"], e.get("status", e.get("author"))) for e in events[2:]] == [
        ("status", "solved"),
        ("message", "agent"),
    ]


def test_statuses_are_lower_cased_and_hold_is_on_hold():
    changes = [
        audit(
            1,
            f"2024-03-04T1{i}:00:00Z",
            20,
            [{"id": 5, "type": "Change", "field_name": "status", "value": value, "previous_value": "open"}],
            id=200 + i,
        )
        for i, value in enumerate(["hold", "Pending", "On-Hold", "waiting for customer"])
    ]
    events = one_ticket(CREATE, *changes)
    assert [e["status"] for e in events if e["type"] == "status"] == [
        "on_hold",
        "pending",
        "on_hold",
        "waiting_for_customer",
    ]


def test_ids_tags_and_custom_fields():
    create = audit(
        1,
        "2024-03-04T09:00:00Z",
        10,
        [
            {"id": 2, "type": "Create", "field_name": "requester_id", "value": 7700001},
            {"id": 3, "type": "Create", "field_name": "organization_id", "value": "509974"},
            {"id": 4, "type": "Create", "field_name": "brand_id", "value": 360000111},
            {"id": 5, "type": "Create", "field_name": "ticket_form_id", "value": 360000222},
            {"id": 6, "type": "Create", "field_name": "tags", "value": "printer  vip"},  # a string: split
            {"id": 7, "type": "Create", "field_name": "360001234567", "value": "hardware"},
            {"id": 8, "type": "Create", "field_name": 360009, "value": ["a", "b"]},  # multi-select, int id
            {"id": 9, "type": "Create", "field_name": "subject", "value": "Help"},  # not an attribute
            {"id": 10, "type": "Create", "field_name": "custom_status_id", "value": 123},
        ],
        id=100,
    )
    change = audit(
        1,
        "2024-03-04T10:00:00Z",
        20,
        [
            {
                "id": 11,
                "type": "Change",
                "field_name": "360001234567",
                "value": None,
                "previous_value": "hardware",
            },
            {
                "id": 12,
                "type": "Change",
                "field_name": "tags",
                "value": [],
                "previous_value": ["printer", "vip"],
            },
            {"id": 13, "type": "Change", "field_name": "assignee_id", "value": None, "previous_value": "20"},
        ],
        id=101,
    )
    created, update = one_ticket(create, change)
    assert created["fields"] == {
        "requester": "7700001",
        "organization": "509974",
        "brand": "360000111",
        "form": "360000222",
        "tags": ["printer", "vip"],
        "custom_360001234567": "hardware",
        "custom_360009": ["a", "b"],
        "channel": "web",
        "assignee": "20",  # not in the Create events: the first Change's previous_value
    }
    assert update["fields"] == {"custom_360001234567": None, "tags": [], "assignee": None}  # cleared: null


def test_comments_public_and_internal_and_their_via():
    events = one_ticket(
        CREATE,
        audit(1, "2024-03-04T10:00:00Z", 20, [comment(20, public=False), comment(20)], id=101),
        audit(1, "2024-03-04T11:00:00Z", 20, [comment(20, via={"channel": "ai_agent"})], id=102),
        audit(
            1,
            "2024-03-04T12:00:00Z",
            20,
            [{"id": 3, "type": "VoiceComment", "author_id": 20, "public": True}],
        ),
        USERS,
    )
    assert [(e["author"], e["public"]) for e in events if e["type"] == "message"] == [
        ("customer", True),
        ("agent", False),
        ("agent", True),
        ("bot", True),  # the comment's own via says a Zendesk bot
        ("agent", True),
    ]


def test_records_that_cannot_be_mapped_raise_record_errors():
    source = ZendeskSource()
    bad = [
        ("audits", "not an object"),
        ("audits", {**CREATE, "ticket_id": None}),
        ("audits", {**CREATE, "created_at": "2024-03-04 09:00"}),  # no offset
        ("audits", {**CREATE, "events": {"type": "Create"}}),
        ("audits", {**CREATE, "events": [comment(10, public="yes")]}),
        ("audits", {**CREATE, "events": [{"type": "Change", "field_name": "status", "value": 3}]}),
        ("ticket_events", {"ticket_id": 1, "created_at": "2024-03-04T09:00:00Z"}),
        ("users", {"id": None, "role": "agent"}),
        ("satisfaction_ratings", {"ticket_id": 1, "score": "good", "updated_at": "yesterday"}),
        ("ticket_metric_events", {"ticket_id": 1, "metric": "reply_time", "type": "activate"}),
        ("nonsense", {}),
    ]
    for kind, record in bad:
        with pytest.raises(RecordError):
            list(source.read(kind, record))


def test_the_vendors_wrong_ticket_event_example_is_refused_with_a_reason():
    wrong = {
        "id": 1,
        "ticket_id": 1,
        "metric": "agent_work_time",
        "instance_id": 0,
        "type": "measure",
        "time": "2024-03-04T09:00:00Z",
    }
    with pytest.raises(RecordError, match="documentation"):
        list(ZendeskSource().read("ticket_events", wrong))


# -- incremental ticket events -----------------------------------------------------


def test_incremental_ticket_events_map_like_audits():
    tickets, _ = import_files([FIXTURES / "ticket-events.json", FIXTURES / "users.json"])
    events = tickets["35438"]
    assert events[0] == {
        "type": "created",
        "at": "2024-03-07T07:30:00Z",
        "status": "new",
        "fields": {
            "priority": "low",
            "type": "question",  # `type` as a child's key is the ticket type (UNCONFIRMED shape)
            "group": "98738",
            "tags": ["printer"],
            "channel": "web",  # from the comment child's via object, not "Web form"
        },
    }
    assert [(e["type"], e.get("author", e.get("status"))) for e in events[1:]] == [
        ("message", "customer"),
        ("message", "bot"),  # via answer_bot (UNCONFIRMED channel name); its author is in no users file
        ("message", "agent"),
        ("status", "pending"),
        ("update", None),
        ("message", "customer"),
        ("status", "open"),
        ("message", "agent"),
        ("status", "on_hold"),
        ("status", "solved"),
    ]
    assert events[5]["fields"] == {"assignee": "235323"}


def web_form_ticket_event(*children: dict[str, object]) -> dict[str, object]:
    """An incremental export's ticket event of ticket 1 at 2024-03-04T09:00:00Z
    (a Unix timestamp), by user 20 from the web form, with ``children``."""
    return {
        "id": 5,
        "ticket_id": 1,
        "timestamp": 1709542800,
        "updater_id": 20,
        "via": "Web form",
        "event_type": "Audit",
        "child_events": list(children),
    }


def test_ticket_event_children_in_the_field_name_form_and_unix_timestamps():
    record = web_form_ticket_event(
        {"id": 6, "event_type": "Create", "field_name": "status", "value": "open"},
        {"id": 7, "type": "Create", "field_name": "priority", "value": "urgent"},
        {"id": 8, "via": "Web form", "type": None, "event_type": "Create"},
        {"id": 9, "event_type": "Notification", "subject": "x", "recipients": [10]},
    )
    [created] = one_ticket(record)
    assert created == {
        "type": "created",
        "at": "2024-03-04T09:00:00Z",
        "status": "open",
        "fields": {"priority": "urgent", "channel": "web"},  # nulls dropped; "Web form" is the web channel
    }


def test_a_child_or_audit_event_whose_type_is_no_text_is_an_unknown_event():
    # A damaged export once ended the import here: a list is no set member.
    record = web_form_ticket_event(
        {"id": 6, "event_type": "Create", "field_name": "status", "value": "open"},
        {"id": 7, "event_type": ["Comment"], "body": "x"},
        {"id": 8, "type": {"Comment": 1}, "field_name": "priority", "value": "urgent"},
    )
    # The list-typed child is passed over like an unknown event; a `type`
    # that is no capitalised text is no event type, so child 8 is a change.
    created, update = one_ticket(record)
    assert created["status"] == "open"
    assert update == {"type": "update", "at": "2024-03-04T09:00:00Z", "fields": {"priority": "urgent"}}
    solve = audit(
        1, "2024-03-04T10:00:00Z", 20, [{"id": 5, "type": ["Change"], "field_name": "status"}], id=101
    )
    assert [e["type"] for e in one_ticket(CREATE, solve, USERS)] == ["created", "message"]


def test_a_comment_without_the_comment_events_sideload_is_read_from_its_flags():
    start = {
        "id": 5,
        "ticket_id": 1,
        "created_at": "2024-03-04T09:00:00Z",
        "updater_id": 10,
        "via": "Email",
        "child_events": [
            {
                "id": 6,
                "via": "Email",
                "status": "new",
                "comment_present": True,
                "comment_public": True,
                "event_type": "Create",
            }
        ],
    }
    note = {
        "id": 7,
        "ticket_id": 1,
        "created_at": "2024-03-04T09:10:00Z",
        "updater_id": 20,
        "via": "Web form",
        "child_events": [{"id": 8, "via": "Web form", "comment_present": True, "comment_public": False}],
    }
    events = one_ticket(start, note, USERS)
    assert events[0]["fields"] == {"channel": "email"}
    assert [(e["author"], e["public"]) for e in events[1:]] == [("customer", True), ("agent", False)]


def test_a_reply_read_from_its_flags_comes_before_the_solve_of_its_update():
    """Section 14: a reply and a solve in one update are the reply, then the
    solve, as the comment events' export gives them (the comment first)."""
    start = {
        "id": 5,
        "ticket_id": 1,
        "timestamp": 1709542800,  # 2024-03-04T09:00:00Z
        "updater_id": 10,
        "via": "Mail",
        "child_events": [{"id": 6, "status": "new", "comment_present": True, "event_type": "Create"}],
    }
    solve = {
        "id": 7,
        "ticket_id": 1,
        "timestamp": 1709545500,  # 09:45
        "updater_id": 20,
        "via": "Web form",
        "child_events": [
            {
                "id": 8,
                "status": "solved",
                "previous_value": "new",
                "comment_present": True,
                "comment_public": True,
                "event_type": "Change",
            }
        ],
    }
    events = one_ticket(start, solve, USERS)
    assert events[0]["fields"] == {"channel": "email"}  # "Mail", as the audits name it
    assert [(e["type"], e.get("author"), e.get("status")) for e in events[1:]] == [
        ("message", "customer", None),
        ("message", "agent", None),
        ("status", None, "solved"),
    ]
    assert events[-1]["at"] == events[-2]["at"] == "2024-03-04T09:45:00Z"


#: An incremental export's first update of ticket 1: created by email.
EMAILED_IN = {
    "id": 5,
    "ticket_id": 1,
    "created_at": "2024-03-04T09:00:00Z",
    "updater_id": 10,
    "via": "Email",
    "child_events": [{"id": 6, "via": "Email", "status": "new", "event_type": "Create"}],
}


def test_a_comment_without_a_via_takes_the_updates_channel_even_from_a_later_child():
    # The update's channel is the first child's via object, wherever it is:
    # here after the comment, and a trigger's ("rule") makes the comment a bot's.
    def comment_then_status(update: int, at: str, channel: str, status: str) -> dict[str, object]:
        return {
            "id": update,
            "ticket_id": 1,
            "created_at": at,
            "updater_id": 20,
            "via": "Rule",
            "child_events": [
                {
                    "id": update + 1,
                    "type": "Comment",
                    "author_id": 20,
                    "public": True,
                    "event_type": "Comment",
                },
                {
                    "id": update + 2,
                    "via": {"channel": channel, "source": {}},
                    "status": status,
                    "event_type": "Change",
                },
            ],
        }

    automated = comment_then_status(7, "2024-03-04T09:10:00Z", "rule", "pending")
    reply = comment_then_status(10, "2024-03-04T09:20:00Z", "web", "open")
    events = one_ticket(EMAILED_IN, automated, reply, USERS)
    assert [(e["type"], e.get("author")) for e in events] == [
        ("created", None),
        ("message", "bot"),
        ("status", None),
        ("message", "agent"),
        ("status", None),
    ]


def test_a_childs_event_type_given_as_type_leaves_one_field_with_its_previous_value():
    # `"type": "Change"` names the event, not the ticket type: the child
    # changes one field, whose previous value is the ticket's at creation.
    change = {
        "id": 7,
        "ticket_id": 1,
        "created_at": "2024-03-04T09:10:00Z",
        "updater_id": 20,
        "via": "Web form",
        "child_events": [
            {"id": 8, "via": "Web form", "type": "Change", "priority": "high", "previous_value": "low"}
        ],
    }
    events = one_ticket(EMAILED_IN, change, USERS)
    assert events[0]["fields"] == {"channel": "email", "priority": "low"}
    assert events[1] == {"type": "update", "at": "2024-03-04T09:10:00Z", "fields": {"priority": "high"}}


def test_events_are_put_in_processing_order_whatever_order_they_come_in():
    def event(at: str, kind: str, order: list[int]) -> EventDict:
        return {"type": kind, "at": at, "_order": order}

    in_order = [
        event("2024-03-04T09:00:00Z", "created", [0, 5, 0]),
        event("2024-03-04T09:00:00Z", "message", [0, 5, 1]),
        event("2024-03-04T09:00:00Z", "status", [0, 7, 0]),
        event("2024-03-04T09:10:00Z", "message", [0, 8, 0]),
        event("2024-03-04T09:10:00.500000Z", "csat", [1, 3, 0]),
    ]
    rng = random.Random(7)
    for _ in range(20):
        shuffled = [dict(e) for e in in_order]
        rng.shuffle(shuffled)
        sort_for_processing(shuffled)
        assert shuffled == in_order
    # At one instant: the created event before any other, then audit order.
    later_creation = [in_order[1], in_order[0]]
    sort_for_processing(later_creation)
    assert later_creation == in_order[:2]
    ties = [in_order[2], in_order[1]]
    sort_for_processing(ties)
    assert ties == in_order[1:3]


def test_an_audit_read_twice_counts_once_and_the_audits_api_copy_wins():
    as_event = {
        "id": 100,  # a ticket event's id is its audit's id
        "ticket_id": 1,
        "created_at": "2024-03-04T09:00:00Z",
        "updater_id": 10,
        "via": "Web form",
        "child_events": [{"id": 2, "status": "new", "event_type": "Create"}],
    }
    source = ZendeskSource()
    emits, _ = read_all(source, [as_event, {"audits": [CREATE]}, {"audits": [CREATE]}, USERS])
    events = finish(source, emits)["1"]
    assert events == [
        {"type": "created", "at": "2024-03-04T09:00:00Z", "status": "new", "fields": {"channel": "web"}},
        {"type": "message", "at": "2024-03-04T09:00:00Z", "public": True, "author": "customer"},
    ]
    assert "2 copies of audits read twice were dropped" in source.notes()


def as_text_ids(value: object) -> object:
    """A record as a warehouse export (BigQuery) writes it: every id (an
    INT64 column) as its decimal text."""
    if isinstance(value, dict):
        return {
            key: str(item)
            if (key == "id" or key.endswith("_id")) and isinstance(item, int) and not isinstance(item, bool)
            else as_text_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [as_text_ids(item) for item in value]
    return value


def test_audits_with_ids_as_text_keep_their_order_and_a_copy_counts_once():
    """Audits at one instant keep the export's order by audit id, and a
    copy is dropped, whether the ids are integers or their text."""
    reply_and_solve = audit(
        1,
        "2024-03-04T10:00:00Z",
        20,
        [comment(20), {"id": 3, "type": "Change", "field_name": "status", "value": "solved"}],
        id=101,
    )
    reopen = audit(
        1,
        "2024-03-04T10:00:00Z",
        10,
        [comment(10), {"id": 5, "type": "Change", "field_name": "status", "value": "open"}],
        id=102,
    )
    as_numbers = one_ticket({"audits": [reopen, reply_and_solve, CREATE]}, USERS)
    shown = [(e["type"], e.get("author"), e.get("status")) for e in as_numbers[1:]]
    assert shown == [
        ("message", "customer", None),
        ("message", "agent", None),
        ("status", None, "solved"),
        ("message", "customer", None),
        ("status", None, "open"),
    ]
    audits = [as_text_ids(a) for a in (reopen, reply_and_solve, CREATE)]
    assert one_ticket({"audits": audits}, as_text_ids(USERS)) == as_numbers
    source = ZendeskSource()
    emits, _ = read_all(source, [{"audits": audits}, {"audits": audits}, as_text_ids(USERS)])
    assert finish(source, emits)["1"] == as_numbers
    assert "3 copies of audits read twice were dropped" in source.notes()


def test_metric_events_with_ids_as_text_are_read_as_with_integers():
    [page] = documents(FIXTURES / "ticket-metric-events.json.gz")
    expected = final_cycles(read_all(ZendeskSource(), [page])[1])
    assert expected
    as_text = as_text_ids(page)
    assert final_cycles(read_all(ZendeskSource(), [as_text])[1]) == expected


# -- authors -----------------------------------------------------------------------


def test_authors_roles_bots_and_unknown_authors():
    tickets, source = import_files(FILES)
    authors = [(e["at"][11:16], e["author"]) for e in tickets["35437"] if e["type"] == "message"]
    assert authors == [
        ("08:00", "customer"),  # 7700001 is in no users file: a customer, counted
        ("08:20", "agent"),  # 9011: end-user and inactive in the users record, but an assignee
        ("12:00", "bot"),  # via rule (a trigger), whoever the author
        ("14:00", "agent"),  # 8678530: an inactive admin stays an agent
    ]
    assert source.notes() == [
        "1 comment author(s) not in the users files were read as customers",
        "1 comment author(s) not shown as agents by the users files were read as agents: "
        "they were ticket assignees (deleted or downgraded agents)",
        "1 copies of audits read twice were dropped",
    ]


def test_the_system_user_is_a_bot_and_unknown_authors_are_counted_once():
    events = one_ticket(
        CREATE,
        audit(1, "2024-03-04T10:00:00Z", -1, [comment(-1)], id=101),
        audit(1, "2024-03-04T11:00:00Z", 99, [comment(99), comment(99)], id=102),
        audit(1, "2024-03-04T12:00:00Z", 98, [comment(98)], id=103),
    )
    assert [e["author"] for e in events if e["type"] == "message"] == [
        "customer",
        "bot",
        "customer",
        "customer",
        "customer",
    ]
    source = ZendeskSource()
    emits, _ = read_all(
        source, [CREATE, audit(1, "2024-03-04T11:00:00Z", 99, [comment(99), comment(99)], id=102)]
    )
    finish(source, emits)
    assert source.notes() == [  # 10 (the creation's author) and 99, each once
        "2 comment author(s) not in the users files were read as customers "
        "(no users file was read: add /api/v2/users pages for agents)"
    ]


def test_a_role_history_counts_any_agent_record():
    downgraded = {"users": [{"id": 20, "role": "end-user", "active": False}]}
    events = one_ticket(
        CREATE, audit(1, "2024-03-04T10:00:00Z", 20, [comment(20)], id=101), USERS, downgraded
    )
    assert events[-1]["author"] == "agent"  # an earlier users page showed 20 as an agent


def test_the_order_of_the_files_does_not_matter():
    expected, _ = import_files(FILES)
    for seed in range(5):
        shuffled = list(FILES)
        random.Random(seed).shuffle(shuffled)
        assert import_files(shuffled)[0] == expected
        assert import_files(reversed(shuffled))[0] == expected


# -- tickets file: attributes the audits lack ---------------------------------------


def test_attributes_from_the_tickets_file_and_from_previous_values():
    tickets, _ = import_files(FILES)
    assert tickets["35436"][0]["fields"] == {
        "priority": "high",
        "type": "incident",
        "group": "98738",
        "tags": ["printer", "vip"],
        "channel": "web",
        "requester": "5246746",  # the audits never name these: the tickets file does
        "organization": "509974",
        "brand": "360000111",
        "form": "360000222",
    }  # assignee (null at creation, changed later) and the custom field (null now) are not filled
    assert (
        tickets["35437"][0]["fields"]["custom_360001234567"] == "hardware"
    )  # creation, not today's "software"
    assert tickets["35437"][0]["fields"]["channel"] == "email"
    assert tickets["35438"][0]["fields"]["custom_360001234567"] == "hardware"  # never in the events
    first_change = audit(
        1,
        "2024-03-04T10:00:00Z",
        20,
        [
            {"id": 3, "type": "Change", "field_name": "priority", "value": "high", "previous_value": "low"},
            {"id": 4, "type": "Change", "field_name": "status", "value": "open", "previous_value": "pending"},
        ],
        id=101,
    )
    no_status = {
        **CREATE,
        "events": [comment(10), {"id": 2, "type": "Create", "field_name": "type", "value": "task"}],
    }
    created = one_ticket(no_status, first_change)[0]
    assert created["fields"] == {"type": "task", "channel": "web", "priority": "low"}
    assert created["status"] == "pending"


def test_the_tickets_file_channel_wins_over_a_display_name():
    record = {
        "id": 5,
        "ticket_id": 1,
        "created_at": "2024-03-04T09:00:00Z",
        "updater_id": 10,
        "via": "Web Widget",
        "child_events": [{"id": 6, "status": "new", "event_type": "Create"}],
    }
    old = {
        "id": 1,
        "status": "open",
        "requester_id": 10,
        "via": {"channel": "chat"},
        "updated_at": "2024-03-04T09:00:00Z",
    }
    new = {**old, "via": {"channel": "web"}, "updated_at": "2024-03-05T09:00:00Z", "brand_id": 3}
    assert one_ticket(record, {"tickets": [new, old]})[0]["fields"] == {
        "channel": "web",
        "requester": "10",
        "brand": "3",
    }
    assert one_ticket(record, {"tickets": [old, new]})[0]["fields"]["channel"] == "web"
    assert one_ticket(record)[0]["fields"] == {"channel": "web_widget"}


def test_a_ticket_without_its_creation_is_refused():
    source = ZendeskSource()
    emits, _ = read_all(source, [audit(1, "2024-03-04T10:00:00Z", 20, [comment(20)], id=101)])
    with pytest.raises(RecordError, match="no creation"):
        finish(source, emits)
    source = ZendeskSource()
    emits, _ = read_all(
        source,
        [
            {
                "satisfaction_ratings": [
                    {"id": 1, "ticket_id": 2, "score": "good", "updated_at": "2024-03-04T10:00:00Z"}
                ]
            }
        ],
    )
    with pytest.raises(RecordError):
        finish(source, emits)
    early = audit(1, "2024-03-04T08:00:00Z", 20, [comment(20)], id=99)
    source = ZendeskSource()
    emits, _ = read_all(source, [CREATE, early])
    with pytest.raises(RecordError, match="before the creation"):
        finish(source, emits)
    source = ZendeskSource()
    emits, _ = read_all(source, [CREATE, {**CREATE, "id": 102, "created_at": "2024-03-04T11:00:00Z"}])
    with pytest.raises(RecordError, match="2 creations"):
        finish(source, emits)


# -- satisfaction ---------------------------------------------------------------------


def test_csat_is_the_latest_good_or_bad_rating_at_its_updated_at():
    tickets, _ = import_files(FILES)
    assert [e for e in tickets["35436"] if e["type"] == "csat"] == [
        {"type": "csat", "at": "2024-03-05T09:30:00Z", "score": 1}  # bad, updated last; `offered` is no score
    ]
    assert [e["score"] for e in tickets["35438"] if e["type"] == "csat"] == [5]
    assert not [e for e in tickets["35437"] if e["type"] == "csat"]


def test_a_rating_changed_later_replaces_the_earlier_one_whatever_the_file_order():
    good = {
        "id": 7,
        "ticket_id": 1,
        "score": "good",
        "created_at": "2024-03-05T08:00:00Z",
        "updated_at": "2024-03-05T08:00:00Z",
    }
    bad = {**good, "score": "bad", "updated_at": "2024-03-06T08:00:00Z"}
    unoffered = {**good, "id": 8, "score": "unoffered", "updated_at": "2024-03-07T08:00:00Z"}
    for order in ([good, bad, unoffered], [unoffered, bad, good]):
        events = one_ticket(CREATE, *({"satisfaction_ratings": [r]} for r in order))
        assert [e for e in events if e["type"] == "csat"] == [
            {"type": "csat", "at": "2024-03-06T08:00:00Z", "score": 1}
        ]


# -- ticket metric events ----------------------------------------------------------------


def metric_event(
    i: int, metric: str, instance: int, kind: str, at: str, **extra: object
) -> dict[str, object]:
    return {
        "id": i,
        "ticket_id": 1,
        "metric": metric,
        "instance_id": instance,
        "type": kind,
        "time": at,
        **extra,
    }


def final_cycles(cycles: Iterable[VendorCycle]) -> dict[tuple[str, str, int], VendorCycle]:
    """The last cycle given for each key (what reconcile keeps)."""
    return {(c.ticket, c.metric, c.cycle): c for c in cycles}


def test_metric_events_become_the_vendors_cycles():
    _, cycles = read_all(ZendeskSource(), documents(FIXTURES / "ticket-metric-events.json.gz"))
    assert all(isinstance(c, ZendeskCycle) for c in cycles)
    final = final_cycles(cycles)
    assert sorted(final) == [
        ("35436", "first_response", 1),
        ("35436", "next_response", 1),  # reply_time instance 2
        ("35436", "requester_wait", 1),
        ("35438", "first_response", 1),
        ("35438", "next_response", 1),
        ("35438", "requester_wait", 1),
    ]  # agent_work_time instance 0 (`measure`): no cycle
    first = final["35436", "first_response", 1]
    assert (first.breached, first.ended, first.target_seconds, first.elapsed_seconds) == (
        False,
        True,
        3600,
        2520,
    )
    assert first.ended_at == parse_instant("2024-03-04T09:42:10Z")  # the deleted breach is ignored
    assert first.vendor_metric == "reply_time"
    following = final["35436", "next_response", 1]
    assert isinstance(following, ZendeskCycle)
    assert (following.breached, following.breach_at) == (True, parse_instant("2024-03-04T11:45:00Z"))
    assert following.started_at == parse_instant("2024-03-04T11:15:00Z")
    wait = final["35436", "requester_wait", 1]
    assert (wait.ended, wait.target_seconds, wait.elapsed_seconds) == (True, None, 152 * 60)


def test_a_breach_counts_at_or_before_now_only():
    source = ZendeskSource()
    records = [
        metric_event(1, "reply_time", 1, "activate", "2024-03-04T09:00:00Z"),
        metric_event(
            2,
            "reply_time",
            1,
            "apply_sla",
            "2024-03-04T09:00:00Z",
            sla={"target": 60, "target_in_seconds": 3600, "business_hours": True, "policy": {"id": 1}},
        ),
        metric_event(3, "reply_time", 1, "breach", "2024-03-04T10:00:00Z", deleted=False),
        metric_event(
            4,
            "reply_time",
            1,
            "update_status",
            "2024-03-04T10:30:00Z",
            status={"calendar": 95, "business": 90},
        ),
    ]
    [cycle] = final_cycles(read_all(source, [{"ticket_metric_events": records}])[1]).values()
    assert isinstance(cycle, ZendeskCycle)
    assert (cycle.breached, cycle.ended, cycle.target_seconds, cycle.business_hours) == (
        True,
        False,
        3600,
        True,
    )
    assert cycle.elapsed_seconds == 90 * 60  # business minutes for a business-hours target
    assert cycle.verdict(parse_instant("2024-03-04T09:59:59Z")) is None  # scheduled, not yet happened
    assert cycle.verdict(parse_instant("2024-03-04T10:00:00Z")) is True


def test_a_reopened_instance_is_open_again_and_later_replies_are_next_responses():
    records = [
        metric_event(1, "resolution_time", 1, "activate", "2024-03-04T09:00:00Z"),
        metric_event(2, "resolution_time", 1, "fulfill", "2024-03-04T10:00:00Z"),
        metric_event(3, "resolution_time", 1, "activate", "2024-03-04T11:00:00Z"),
        metric_event(4, "reply_time", 3, "activate", "2024-03-04T11:00:00Z"),
        metric_event(5, "group_ownership_time", 2, "activate", "2024-03-04T11:00:00Z"),
        metric_event(6, "agent_work_time", 1, "fulfill", "2024-03-04T12:00:00Z"),
        metric_event(7, "sla_magic_time", 1, "activate", "2024-03-04T11:00:00Z"),
    ]
    source = ZendeskSource()
    final = final_cycles(read_all(source, [{"ticket_metric_events": records}])[1])
    assert sorted(final) == [
        ("1", "agent_work", 1),
        ("1", "group_ownership", 2),
        ("1", "next_response", 2),
        ("1", "resolution", 1),
    ]
    resolution = final["1", "resolution", 1]
    assert (resolution.ended, resolution.ended_at, resolution.breached) == (False, None, None)
    assert source.notes() == [
        "1 ticket metric event(s) of metric 'sla_magic_time' skipped: no such metric here"
    ]


def test_the_last_cycle_given_is_the_whole_cycle_in_any_order():
    [page] = documents(FIXTURES / "ticket-metric-events.json.gz")
    records = list(page["ticket_metric_events"])  # type: ignore[index]
    expected = final_cycles(read_all(ZendeskSource(), [page])[1])
    for seed in range(5):
        random.Random(seed).shuffle(records)
        again = final_cycles(read_all(ZendeskSource(), [{"ticket_metric_events": r} for r in records])[1])
        assert again == expected
    twice = final_cycles(read_all(ZendeskSource(), [page, page])[1])
    assert twice == expected  # a record read twice counts once


# -- imported clocks equal hand-written clocks --------------------------------------------

POLICIES = """\
policies:
  - name: vip
    match: {tags: {contains: vip}}
    targets:
      first_response: 1h
      next_response: 30m
      resolution: {urgent: 4h, default: 1d}
      requester_wait: 8h
      agent_work: 8h
  - name: hardware
    match: {custom_360001234567: hardware, channel: [email, web]}
    targets: {first_response: 30m, next_response: 1h, resolution: 2d, requester_wait: 1d, agent_work: 1d}
  - name: standard
    targets: {first_response: 2h, next_response: 1h, resolution: 2d, requester_wait: 1d, agent_work: 1d}
"""

# The same three tickets written by hand in section 3's format, from what
# the saved pages say happened.
BY_HAND = """\
{"ticket_id": "35436", "at": "2024-03-04T09:00:00Z", "type": "created", "status": "new", "fields": {"channel": "web", "priority": "high", "type": "incident", "group": "98738", "requester": "5246746", "organization": "509974", "brand": "360000111", "form": "360000222", "tags": ["printer", "vip"]}}
{"ticket_id": "35436", "at": "2024-03-04T09:00:00Z", "type": "message", "author": "customer"}
{"ticket_id": "35436", "at": "2024-03-04T09:42:10Z", "type": "message", "author": "agent"}
{"ticket_id": "35436", "at": "2024-03-04T09:42:10Z", "type": "status", "status": "pending"}
{"ticket_id": "35436", "at": "2024-03-04T09:42:10Z", "type": "update", "fields": {"assignee": "235323", "tags": ["printer", "vip", "hardware"]}}
{"ticket_id": "35436", "at": "2024-03-04T11:15:00Z", "type": "message", "author": "customer"}
{"ticket_id": "35436", "at": "2024-03-04T11:15:00Z", "type": "status", "status": "open"}
{"ticket_id": "35436", "at": "2024-03-04T11:30:00Z", "type": "message", "author": "agent", "public": false}
{"ticket_id": "35436", "at": "2024-03-04T11:30:00Z", "type": "update", "fields": {"group": "360002", "priority": "urgent"}}
{"ticket_id": "35436", "at": "2024-03-04T13:05:00Z", "type": "message", "author": "agent"}
{"ticket_id": "35436", "at": "2024-03-04T13:05:00Z", "type": "status", "status": "solved"}
{"ticket_id": "35436", "at": "2024-03-05T09:30:00Z", "type": "csat", "score": 1}
{"ticket_id": "35436", "at": "2024-03-06T10:00:00Z", "type": "status", "status": "closed"}
{"ticket_id": "35437", "at": "2024-03-05T08:00:00Z", "type": "created", "status": "new", "fields": {"channel": "email", "priority": "normal", "type": "question", "group": "98738", "requester": "7700001", "organization": "509974", "brand": "360000111", "form": "360000222", "tags": ["billing"], "custom_360001234567": "hardware"}}
{"ticket_id": "35437", "at": "2024-03-05T08:00:00Z", "type": "message", "author": "customer"}
{"ticket_id": "35437", "at": "2024-03-05T08:20:00Z", "type": "update", "fields": {"assignee": "9011"}}
{"ticket_id": "35437", "at": "2024-03-05T08:20:00Z", "type": "message", "author": "agent"}
{"ticket_id": "35437", "at": "2024-03-05T08:20:00Z", "type": "status", "status": "on_hold"}
{"ticket_id": "35437", "at": "2024-03-05T12:00:00Z", "type": "message", "author": "bot"}
{"ticket_id": "35437", "at": "2024-03-05T12:00:00Z", "type": "status", "status": "open"}
{"ticket_id": "35437", "at": "2024-03-05T14:00:00Z", "type": "message", "author": "agent"}
{"ticket_id": "35437", "at": "2024-03-05T14:00:00Z", "type": "update", "fields": {"custom_360001234567": "software"}}
{"ticket_id": "35437", "at": "2024-03-05T14:00:00Z", "type": "status", "status": "solved"}
{"ticket_id": "35438", "at": "2024-03-07T07:30:00Z", "type": "created", "status": "new", "fields": {"channel": "web", "priority": "low", "type": "question", "group": "98738", "requester": "5246746", "organization": "509974", "brand": "360000111", "form": "360000222", "tags": ["printer"], "custom_360001234567": "hardware"}}
{"ticket_id": "35438", "at": "2024-03-07T07:30:00Z", "type": "message", "author": "customer"}
{"ticket_id": "35438", "at": "2024-03-07T07:31:00Z", "type": "message", "author": "bot"}
{"ticket_id": "35438", "at": "2024-03-07T08:10:00Z", "type": "message", "author": "agent"}
{"ticket_id": "35438", "at": "2024-03-07T08:10:00Z", "type": "status", "status": "pending"}
{"ticket_id": "35438", "at": "2024-03-07T08:10:00Z", "type": "update", "fields": {"assignee": "235323"}}
{"ticket_id": "35438", "at": "2024-03-07T09:00:00Z", "type": "message", "author": "customer"}
{"ticket_id": "35438", "at": "2024-03-07T09:00:00Z", "type": "status", "status": "open"}
{"ticket_id": "35438", "at": "2024-03-07T09:20:00Z", "type": "message", "author": "agent"}
{"ticket_id": "35438", "at": "2024-03-07T09:20:00Z", "type": "status", "status": "on_hold"}
{"ticket_id": "35438", "at": "2024-03-07T15:00:00Z", "type": "status", "status": "solved"}
{"ticket_id": "35438", "at": "2024-03-07T16:00:00Z", "type": "csat", "score": 5}
"""


@pytest.mark.parametrize("now", ["2024-03-04T11:20:00Z", "2024-03-05T10:00:00Z", NOW])
def test_imported_clocks_equal_the_clocks_of_the_same_tickets_written_by_hand(now: str):
    policies = sla.load_policies(POLICIES)
    imported, _ = import_files(FILES)
    by_hand: dict[str, list[EventDict]] = defaultdict(list)
    for line in BY_HAND.splitlines():
        event = json.loads(line)
        by_hand[event.pop("ticket_id")].append(event)
    assert sorted(by_hand) == sorted(imported) == ["35436", "35437", "35438"]
    rows = 0
    for ticket, events in imported.items():
        ours = sla.evaluate_ticket(policies, events, now=now, ticket_id=ticket)
        theirs = sla.evaluate_ticket(policies, by_hand[ticket], now=now, ticket_id=ticket)
        assert ours == theirs, ticket
        rows += len(ours)
    assert rows > 0


def test_the_imported_clocks_show_what_the_mapping_meant():
    policies = sla.load_policies(POLICIES)
    imported, _ = import_files(FILES)
    rows = {
        (r.ticket_id, r.metric, r.cycle): r
        for ticket, events in imported.items()
        for r in sla.evaluate_ticket(policies, events, now=NOW, ticket_id=ticket, with_warnings=False)
    }
    # The internal note at 11:30 is no reply: the next response waits for 13:05, breached.
    assert rows["35436", "next_response", 1].state == "breached"
    assert rows["35436", "next_response", 1].elapsed_us == (110 * 60) * 10**6
    # Raised to urgent before the solve: judged by the vip policy's 4h.
    assert rows["35436", "resolution", 1].target_us == 4 * 3600 * 10**6
    # on_hold (Zendesk's hold) pauses agent_work but not requester_wait.
    assert rows["35438", "agent_work", 1].paused_us == (50 + 340) * 60 * 10**6  # pending, then on_hold
    assert rows["35438", "requester_wait", 1].paused_us == 50 * 60 * 10**6
    # The answer bot's reply at 07:31 is no agent response.
    assert rows["35438", "first_response", 1].ended_at == parse_instant("2024-03-07T08:10:00Z")
    # The former agent's reply (an assignee, end-user in the users file) is a response.
    assert rows["35437", "first_response", 1].ended_at == parse_instant("2024-03-05T08:20:00Z")
    assert rows["35437", "first_response", 1].policy == "hardware"  # judged while the field said hardware


# -- through the driver ------------------------------------------------------------------


def test_end_to_end_through_the_import_driver(tmp_path: Path):
    out = io.BytesIO()
    summary, cycles = import_events(ZendeskSource(), [str(FIXTURES)], out, workdir=str(tmp_path))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    imported, source = import_files(FILES)
    by_ticket: dict[str, list[EventDict]] = defaultdict(list)
    for line in lines:
        by_ticket[line.pop("ticket_id")].append(line)
    assert by_ticket == imported
    assert (summary.files, summary.tickets, summary.events, summary.complete) == (7, 3, len(lines), True)
    assert summary.notes == source.notes()
    assert final_cycles(cycles) == final_cycles(
        read_all(ZendeskSource(), documents(FIXTURES / "ticket-metric-events.json.gz"))[1]
    )
    tickets, errors = sla.read_jsonl(out.getvalue().decode().splitlines())
    assert not errors and len(tickets) == 3


def test_sla_reconcile_agrees_with_the_fixtures_metric_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The metric events tell the same story as the audits: under targets
    equal to the applied SLAs, on the wall clock, every cycle agrees."""
    policies = tmp_path / "zendesk.yaml"
    policies.write_text(
        "policies:\n  - name: silver\n    calendar: 24x7\n"
        "    targets: {first_response: 1h, next_response: 30m, requester_wait: 8h}\n"
    )
    argv = [
        "reconcile",
        "zendesk",
        str(FIXTURES),
        "--policies",
        str(policies),
        "--now",
        NOW,
        "--format",
        "json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["differences"] == []
    assert {m: (f["compared"], f["agreeing"]) for m, f in result["metrics"].items()} == {
        "first_response": (2, 2),
        "next_response": (2, 2),  # 35436's breached at 11:45 on both sides
        "requester_wait": (2, 2),
    }
