"""The Freshdesk importer (``sla import freshdesk``), unit by unit: which
saved pages it recognises, every mapping rule (fields, codes, the status
history rebuilt from ``stats``, authors of conversations), duplicates and
file order, the clocks of imported tickets against the same tickets
written by hand, and the notes that say what Freshdesk's export loses.

Fixtures: tests/fixtures/freshdesk/ (shapes cited in tests/fixtures/README.md).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from sla import EventError, evaluate_many, evaluate_ticket, load_policies, read_jsonl
from sla.importers.base import Emit, RecordError
from sla.importers.freshdesk import FreshdeskSource, record_kind
from sla.importers.freshdesk_stats import CLOSED, OPEN, PENDING, RESOLVED, status_timeline
from sla.timefmt import parse_instant

sys.path.insert(0, str(Path(__file__).resolve().parent))
from importer_support import fixture_documents, run_source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "freshdesk"
NOW = "2024-03-10T00:00:00Z"
POLICY = """
done_statuses: [resolved, closed]
metrics:
  requester_wait: {pause_statuses: [pending, waiting_on_customer]}
policies:
  - name: all
    targets: {first_response: 1h, next_response: 2h, resolution: 1d, requester_wait: 1d}
"""


def documents(*names: str) -> list[object]:
    """The fixture files' documents: a whole JSON file, or one per JSON line."""
    return fixture_documents(FIXTURES, *names)


def run(docs: list[object], source: FreshdeskSource | None = None) -> dict[str, list[dict[str, object]]]:
    """What the driver does, without it (see importer_support)."""
    return run_source(source or FreshdeskSource(), docs)


def ticket(**changes: object) -> dict[str, object]:
    """A ticket of the list shape (API reference, "List All Tickets" with stats)."""
    base: dict[str, object] = {
        "id": 1,
        "status": 2,
        "priority": 1,
        "source": 2,
        "requester_id": 5,
        "responder_id": None,
        "group_id": None,
        "company_id": None,
        "type": None,
        "tags": [],
        "created_at": "2024-03-04T09:00:00Z",
        "updated_at": "2024-03-04T09:00:00Z",
        "custom_fields": {},
        "stats": dict.fromkeys(("resolved_at", "closed_at", "reopened_at", "pending_since")),
    }
    return base | changes


def conversation(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 100,
        "ticket_id": 1,
        "incoming": True,
        "private": False,
        "user_id": 5,
        "source": 0,
        "created_at": "2024-03-04T10:00:00Z",
        "updated_at": "2024-03-04T10:00:00Z",
    }
    return base | changes


AGENTS = [{"id": 1, "ticket_scope": 1, "contact": {"name": "Support"}}]


def statuses(events: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["at"], e["status"]) for e in events if e["type"] == "status"]


# ----------------------------------------------------------------- recognise
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("tickets-page-1.json", "tickets"),
        ("ticket-21.json", "tickets"),
        ("conversations-18.json", "conversations"),
        ("agents.json", "agents"),
        ("ticket-fields.json", "ticket_fields"),
        ("contacts.json", "contacts"),
    ],
)
def test_each_saved_page_is_recognised_by_its_content(name: str, kind: str) -> None:
    [doc] = documents(name)
    found = FreshdeskSource().recognise(doc)
    assert found is not None and [k for k, _ in found] == [kind]
    assert len(found[0][1]) == (len(doc) if isinstance(doc, list) else 1)


def test_json_lines_records_are_recognised_one_by_one() -> None:
    docs = documents("conversations-22.jsonl")
    assert [FreshdeskSource().recognise(d) for d in docs] == [[("conversations", [d])] for d in docs]


def test_a_search_page_holds_tickets() -> None:
    page = {"total": 1, "results": [ticket(id=47)]}
    assert FreshdeskSource().recognise(page) == [("tickets", [ticket(id=47)])]


def test_other_documents_are_not_freshdesk() -> None:
    source = FreshdeskSource()
    assert source.recognise([]) == []
    for doc in ({"audits": [], "next_page": None}, [{"id": 1, "number": "22001"}], "text", [1, 2], None):
        assert source.recognise(doc) is None
    assert record_kind({"ticket_id": 1}) is None


# ----------------------------------------------------------- ticket fields
def test_a_ticket_becomes_a_creation_with_its_fields() -> None:
    events = run(documents("tickets-page-1.json", "agents.json"))["18"]
    created = events[0]
    assert created == {
        "at": "2024-03-04T09:00:00Z",
        "type": "created",
        "status": "open",
        "fields": {
            "priority": "high",
            "type": "Incident",
            "group": "2",
            "assignee": "1",
            "requester": "5",
            "tags": ["printer", "vip"],
            "custom_category": "Default",
            "channel": "email",
        },
    }
    # the description is the requester's first message
    assert events[1] == {
        "at": "2024-03-04T09:00:00Z",
        "type": "message",
        "author": "customer",
        "public": True,
    }


@pytest.mark.parametrize(("code", "name"), [(1, "low"), (2, "medium"), (3, "high"), (4, "urgent")])
def test_priority_codes_are_named(code: int, name: str) -> None:
    assert run([ticket(priority=code)])["1"][0]["fields"]["priority"] == name  # type: ignore[index]


@pytest.mark.parametrize(
    ("code", "name"),
    [(1, "email"), (2, "portal"), (3, "phone"), (7, "chat"), (9, "feedback_widget"), (10, "outbound_email")],
)
def test_source_codes_are_channels(code: int, name: str) -> None:
    assert run([ticket(source=code)])["1"][0]["fields"]["channel"] == name  # type: ignore[index]


def test_company_product_and_null_fields() -> None:
    record = ticket(company_id=7, product_id=3, type="", custom_fields={"cf_x": None, "cf_y": 2})
    assert run([record])["1"][0]["fields"] == {
        "priority": "low",
        "requester": "5",
        "organization": "7",
        "product": "3",
        "tags": [],
        "custom_cf_y": 2,
        "channel": "portal",
    }


def test_unknown_codes_are_kept_as_numbers_and_noted() -> None:
    source = FreshdeskSource()
    fields = run([ticket(priority=9, source=42)], source)["1"][0]["fields"]
    assert fields["priority"] == "9" and fields["channel"] == "42"  # type: ignore[index]
    assert any("priority 9" in n and "source 42" in n for n in source.notes())


def test_ticket_fields_name_custom_statuses_and_sources() -> None:
    without = run(documents("ticket-21.json"))["21"]
    assert statuses(without) == [("2024-03-07T11:00:00Z", "status_6")]
    source = FreshdeskSource()
    with_fields = run(documents("ticket-21.json", "ticket-fields.json"), source)["21"]
    assert statuses(with_fields) == [("2024-03-07T11:00:00Z", "waiting_on_customer")]
    assert not any("unnamed" in n for n in source.notes())
    noted = FreshdeskSource()
    run(documents("ticket-21.json"), noted)
    assert any("status code(s) 6 unnamed" in n for n in noted.notes())


# ---------------------------------------------------- status from stats
def test_status_history_rebuilt_from_stats() -> None:
    out = run(documents("tickets-page-1.json", "tickets-page-2.json", "ticket-fields.json"))
    assert statuses(out["18"]) == [("2024-03-05T16:10:00Z", "resolved")]
    assert statuses(out["17"]) == [("2024-03-04T15:00:00Z", "pending")]
    assert statuses(out["19"]) == [("2024-03-06T12:00:00Z", "resolved"), ("2024-03-07T09:00:00Z", "open")]
    assert statuses(out["20"]) == [("2024-03-06T15:00:00Z", "resolved"), ("2024-03-08T15:00:00Z", "closed")]
    # reopened at 10:00, resolved again at 14:00: the first resolution is not in stats
    assert statuses(out["22"]) == [("2024-03-07T14:00:00Z", "resolved")]


def test_timeline_rules() -> None:
    # pending_since counts only while the ticket is pending
    assert status_timeline(OPEN, {"pending_since": 5}, 9).changes == []
    # a closed ticket resolved and closed at once: resolved, then closed
    assert status_timeline(CLOSED, {"resolved_at": 5, "closed_at": 5}, 9).changes == [
        (5, RESOLVED),
        (5, CLOSED),
    ]
    # a stats instant after the current status began contradicts it: dropped
    late = status_timeline(PENDING, {"pending_since": 5, "resolved_at": 7}, 9)
    assert late.changes == [(5, PENDING)] and late.dropped == 1
    # resolved, then open again with no reopened_at: the reopen at status_updated_at
    assert status_timeline(OPEN, {"resolved_at": 5, "status_updated_at": 8}, 9).changes == [
        (5, RESOLVED),
        (8, OPEN),
    ]
    # and with nothing at all to place it: at updated_at
    nothing = status_timeline(OPEN, {"resolved_at": 5}, 9)
    assert nothing.changes == [(5, RESOLVED), (9, OPEN)] and nothing.at_updated
    # reopened with no resolution known before: lost
    assert status_timeline(OPEN, {"reopened_at": 5}, 9).lost_resolution
    assert not status_timeline(OPEN, {"resolved_at": 3, "reopened_at": 5}, 9).lost_resolution


def test_without_stats_the_status_is_placed_at_updated_at_and_noted() -> None:
    source = FreshdeskSource()
    events = run([ticket(status=4, stats=None, updated_at="2024-03-05T08:00:00Z")], source)["1"]
    assert statuses(events) == [("2024-03-05T08:00:00Z", "resolved")]
    assert any("1 ticket(s) had no stats" in n and "include=stats" in n for n in source.notes())


# -------------------------------------------------------------- messages
def test_conversation_authors_and_visibility() -> None:
    out = run(documents("tickets-page-1.json", "conversations-18.json", "agents.json"))["18"]
    messages = [(e["at"], e["author"], e["public"]) for e in out if e["type"] == "message"]
    assert messages == [
        ("2024-03-04T09:00:00Z", "customer", True),  # the description
        ("2024-03-04T09:42:10Z", "agent", True),
        ("2024-03-04T10:00:00Z", "agent", False),  # a private note
        ("2024-03-05T10:00:00Z", "customer", True),
        ("2024-03-05T16:00:00Z", "agent", True),
    ]


def test_incoming_by_an_agent_is_the_agent_and_outgoing_by_others_is_noted() -> None:
    source = FreshdeskSource()
    docs = [AGENTS, ticket(), [conversation(id=1, user_id=1), conversation(id=2, incoming=False, user_id=77)]]
    authors = [e["author"] for e in run(docs, source)["1"] if e["type"] == "message"]
    assert authors == ["customer", "agent", "agent"]
    assert any("1 outgoing conversation(s) by users not in the agents list" in n for n in source.notes())


def test_the_requesters_own_portal_reply_is_the_customers() -> None:
    """incoming says only whether a conversation came from outside the portal:
    the requester's portal reply (not incoming) is still the customer's."""
    docs = [AGENTS, ticket(requester_id=5), [conversation(id=2, incoming=False, user_id=5)]]
    assert [e["author"] for e in run(docs)["1"] if e["type"] == "message"] == ["customer", "customer"]


def test_conversations_embedded_in_a_ticket_are_its_messages() -> None:
    """GET /api/v2/tickets/{id}?include=stats,conversations embeds up to ten."""
    embedded = [
        {
            k: v
            for k, v in conversation(id=n, user_id=1, incoming=False, created_at=at).items()
            if k != "ticket_id"
        }
        | extra
        for n, at, extra in (
            (11, "2024-03-04T10:00:00Z", {}),
            (12, "2024-03-04T10:10:00Z", {"private": True}),
            (13, "2024-03-04T10:20:00Z", {"user_id": 5, "incoming": True}),
        )
    ]
    source = FreshdeskSource()
    out = run([AGENTS, ticket(conversations=embedded)], source)["1"]
    messages = [(e["at"][11:16], e["author"], e["public"]) for e in out if e["type"] == "message"]
    assert messages == [
        ("09:00", "customer", True),  # the description
        ("10:00", "agent", True),
        ("10:10", "agent", False),
        ("10:20", "customer", True),
    ]
    assert not any("without conversations" in note for note in source.notes())
    with pytest.raises(RecordError, match=r"conversations\[0\] is not a JSON object"):
        FreshdeskSource().read("tickets", ticket(conversations=["x"]))


def test_without_an_agents_list_incoming_decides_and_is_noted() -> None:
    source = FreshdeskSource()
    docs = [ticket(), [conversation(id=1), conversation(id=2, incoming=False, user_id=1)]]
    authors = [e["author"] for e in run(docs, source)["1"] if e["type"] == "message"]
    assert authors == ["customer", "customer", "agent"]
    assert any("no agents list read" in n and "1 customer, 1 agent" in n for n in source.notes())


def test_the_description_is_the_agents_on_outbound_email_or_an_agent_requester() -> None:
    assert run([ticket(source=10)])["1"][1]["author"] == "agent"
    assert run([AGENTS, ticket(requester_id=1)])["1"][1]["author"] == "agent"
    assert run([ticket()])["1"][1]["author"] == "customer"


def test_without_conversations_the_responses_come_from_stats() -> None:
    source = FreshdeskSource()
    out = run(documents("tickets-page-1.json", "conversations-18.json", "conversations-19.json"), source)
    assert [(e["at"], e["author"]) for e in out["17"] if e["type"] == "message"] == [
        ("2024-03-04T12:02:06Z", "customer"),
        ("2024-03-04T15:00:00Z", "agent"),  # first_responded_at (= agent_responded_at)
    ]
    assert len([e for e in out["18"] if e["type"] == "message"]) == 5  # conversations, not stats
    assert any("1 ticket(s) without conversations: messages taken from stats" in n for n in source.notes())


def test_a_reply_and_a_status_at_one_instant_keep_the_reply_first() -> None:
    events = run(
        [ticket(status=3, stats={"pending_since": "2024-03-04T10:00:00Z"}), [conversation(incoming=False)]]
    )
    assert [e["type"] for e in events["1"]] == ["created", "message", "message", "status"]


def test_events_before_the_creation_move_to_it() -> None:
    source = FreshdeskSource()
    events = run([ticket(), [conversation(created_at="2024-03-04T08:00:00Z")]], source)["1"]
    assert [e["at"] for e in events] == ["2024-03-04T09:00:00Z"] * 3
    assert any("1 event(s) dated before" in n for n in source.notes())


# ------------------------------------------------- duplicates and order
def test_pages_saved_twice_and_newer_ticket_versions() -> None:
    older = ticket(priority=1, updated_at="2024-03-04T09:30:00Z")
    newer = ticket(priority=4, updated_at="2024-03-05T09:30:00Z")
    page = [conversation(id=1), conversation(id=2, incoming=False)]
    for docs in ([older, newer, page, page], [page, newer, page, older]):
        events = run(docs)["1"]
        assert events[0]["fields"]["priority"] == "urgent"  # type: ignore[index]
        assert len([e for e in events if e["type"] == "message"]) == 3


def test_file_and_record_order_do_not_matter() -> None:
    docs = documents()
    want = run(docs)
    assert run(list(reversed(docs))) == want
    backwards = [list(reversed(d)) if isinstance(d, list) else d for d in docs]
    assert run(backwards[3:] + backwards[:3]) == want


# ------------------------------------------------------------ bad records
@pytest.mark.parametrize(
    ("kind", "record", "message"),
    [
        ("tickets", ticket(created_at=None), "created_at is missing"),
        ("tickets", ticket(created_at="2024-03-04 09:00"), "created_at"),
        ("tickets", ticket(status="open"), "status"),
        ("tickets", ticket(stats={"resolved_at": "soon"}), "stats.resolved_at"),
        ("conversations", conversation(ticket_id=None), "ticket_id"),
        ("conversations", conversation(private="yes"), "private"),
        ("agents", {"id": "x", "ticket_scope": 1, "contact": {}}, "numeric id"),
        ("tickets", [1], "JSON object"),
    ],
)
def test_records_that_cannot_be_mapped(kind: str, record: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        list(FreshdeskSource().read(kind, record))


def test_a_ticket_with_conversations_only_is_refused() -> None:
    source = FreshdeskSource()
    [emit] = source.read("conversations", conversation())
    assert isinstance(emit, Emit)
    with pytest.raises(RecordError, match="no ticket record"):
        source.finish_ticket("1", [json.loads(json.dumps(emit.event))])


# ---------------------------------------------------------------- clocks
BY_HAND = {
    "18": """
{"at": "2024-03-04T09:00:00Z", "type": "created", "status": "open", "fields": {"priority": "high", "channel": "email"}}
{"at": "2024-03-04T09:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-04T09:42:10Z", "type": "message", "author": "agent"}
{"at": "2024-03-04T10:00:00Z", "type": "message", "author": "agent", "public": false}
{"at": "2024-03-05T10:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-05T16:00:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-05T16:10:00Z", "type": "status", "status": "resolved"}
""",
    "17": """
{"at": "2024-03-04T12:02:06Z", "type": "created", "fields": {"priority": "low"}}
{"at": "2024-03-04T12:02:06Z", "type": "message", "author": "customer"}
{"at": "2024-03-04T15:00:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-04T15:00:00Z", "type": "status", "status": "pending"}
""",
    "19": """
{"at": "2024-03-06T08:00:00Z", "type": "created", "fields": {"priority": "medium"}}
{"at": "2024-03-06T08:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-06T08:20:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-06T11:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-06T11:30:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-06T12:00:00Z", "type": "status", "status": "resolved"}
{"at": "2024-03-07T09:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-07T09:00:00Z", "type": "status", "status": "open"}
""",
    "20": """
{"at": "2024-03-06T09:00:00Z", "type": "created", "fields": {"priority": "urgent"}}
{"at": "2024-03-06T09:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-06T09:30:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-06T15:00:00Z", "type": "status", "status": "resolved"}
{"at": "2024-03-08T15:00:00Z", "type": "status", "status": "closed"}
""",
    "21": """
{"at": "2024-03-07T08:00:00Z", "type": "created", "fields": {"priority": "high"}}
{"at": "2024-03-07T08:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-07T11:00:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-07T11:00:00Z", "type": "status", "status": "waiting_on_customer"}
""",
    "22": """
{"at": "2024-03-06T10:00:00Z", "type": "created", "fields": {"priority": "medium"}}
{"at": "2024-03-06T10:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-06T11:00:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-07T10:00:00Z", "type": "message", "author": "customer"}
{"at": "2024-03-07T13:00:00Z", "type": "message", "author": "agent"}
{"at": "2024-03-07T14:00:00Z", "type": "status", "status": "resolved"}
""",
}


@pytest.mark.parametrize("ticket_id", sorted(BY_HAND))
def test_imported_clocks_equal_the_tickets_written_by_hand(ticket_id: str) -> None:
    policies = load_policies(POLICY)
    imported = run(documents())[ticket_id]
    by_hand = [json.loads(line) for line in BY_HAND[ticket_id].strip().splitlines()]
    got = evaluate_ticket(policies, imported, NOW, ticket_id, with_warnings=False)
    want = evaluate_ticket(policies, by_hand, NOW, ticket_id, with_warnings=False)
    assert got == want
    assert {row.metric for row in got} >= {"first_response", "resolution", "requester_wait"}


def test_the_pending_ticket_pauses_only_in_its_current_pending_stretch() -> None:
    rows = evaluate_ticket(load_policies(POLICY), run(documents())["17"], NOW, "17", with_warnings=False)
    [wait] = [r for r in rows if r.metric == "requester_wait"]
    assert wait.state == "paused" and wait.paused == ((parse_instant("2024-03-04T15:00:00Z"), None),)


# ----------------------------------------------------------------- notes
def test_the_notes_say_what_is_lost_with_counts() -> None:
    source = FreshdeskSource()
    run(documents(), source)
    notes = source.notes()
    assert notes[0].startswith("Freshdesk keeps no status history: 6 ticket(s) rebuilt")
    assert "pending is known only for the 1 ticket(s) pending now" in notes[1]
    assert "every other pending stretch is lost" in notes[1] and "overstated" in notes[1]
    assert any("1 ticket(s) were reopened with no resolution known before the reopen" in n for n in notes)
    assert any("4 ticket(s) reached Freshdesk's resolved status" in n and "done_statuses" in n for n in notes)
    assert FreshdeskSource().notes() == []


# ------------------------------------------------------------ end to end
def test_end_to_end_through_the_driver() -> None:
    run_module = pytest.importorskip("sla.importers.run")
    out = io.BytesIO()
    summary, cycles = run_module.import_events(FreshdeskSource(), [str(FIXTURES)], out)
    assert summary.complete and cycles == []
    assert (summary.files, summary.tickets) == (10, 6)
    assert any("pending stretch is lost" in note for note in summary.notes)
    lines = out.getvalue().decode().splitlines()
    tickets, errors = read_jsonl(lines)
    assert not errors and sorted(tickets) == sorted(BY_HAND)
    rejected: list[EventError] = []
    assert list(evaluate_many(load_policies(POLICY), tickets.values(), NOW, rejected)) and not rejected
    by_ticket: dict[str, list[dict[str, object]]] = {}
    for line in lines:
        event = json.loads(line)
        by_ticket.setdefault(event.pop("ticket_id"), []).append(event)
    assert by_ticket == run(documents())
