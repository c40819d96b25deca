"""The Zammad importer (``sla import zammad``), unit by unit: which saved
responses it recognises, every mapping rule (the creation's first values,
history changes, names behind ids, article senders), duplicates and file
order, the clocks of imported tickets against the same tickets written by
hand, and the notes.

Fixtures: tests/fixtures/zammad/ (shapes cited in tests/fixtures/README.md).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from sla import EventError, evaluate_many, evaluate_ticket, load_policies, read_jsonl
from sla.importers.base import Emit, RecordError
from sla.importers.zammad import ZammadSource, record_kind
from sla.importers.zammad_names import priority_name
from sla.timefmt import parse_instant

sys.path.insert(0, str(Path(__file__).resolve().parent))
from importer_support import fixture_documents, run_source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "zammad"
NOW = "2025-06-25T00:00:00Z"
POLICY = """
done_statuses: [closed, merged]
metrics:
  requester_wait: {pause_statuses: [pending_reminder, pending_close]}
policies:
  - name: all
    targets: {first_response: 1h, next_response: 4h, resolution: 2d, requester_wait: 2d}
"""


def documents(*names: str) -> list[object]:
    """The fixture files' documents: a whole JSON file, or one per JSON line."""
    return fixture_documents(FIXTURES, *names)


def run(docs: list[object], source: ZammadSource | None = None) -> dict[str, list[dict[str, object]]]:
    """What the driver does, without it (see importer_support)."""
    return run_source(source or ZammadSource(), docs)


def ticket(**changes: object) -> dict[str, object]:
    """A ticket of ``GET /api/v1/tickets`` (docs, "Tickets", without expand)."""
    base: dict[str, object] = {
        "id": 1,
        "number": "22001",
        "group_id": 1,
        "priority_id": 2,
        "state_id": 2,
        "organization_id": None,
        "owner_id": 1,
        "customer_id": 2,
        "type": None,
        "create_article_type_id": 5,
        "close_at": None,
        "last_close_at": None,
        "created_at": "2025-06-24T08:00:00.000Z",
        "updated_at": "2025-06-24T12:00:00.000Z",
    }
    return base | changes


def change(hid: int, attribute: str, at: str, **sides: object) -> dict[str, object]:
    """One history entry (Zammad's ``History.list``)."""
    entry: dict[str, object] = {"id": hid, "o_id": 1, "object": "Ticket", "type": "updated"}
    return entry | {"attribute": attribute, "created_by_id": 3, "created_at": at, **sides}


def history(*entries: dict[str, object]) -> dict[str, object]:
    created = {
        "id": 1,
        "o_id": 1,
        "object": "Ticket",
        "type": "created",
        "created_at": "2025-06-24T08:00:00.000Z",
    }
    return {"history": [created, *entries], "assets": {}}


def article(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 50,
        "ticket_id": 1,
        "type_id": 1,
        "sender_id": 2,
        "internal": False,
        "created_at": "2025-06-24T09:00:00.000Z",
        "updated_at": "2025-06-24T09:00:00.000Z",
        "type": "email",
        "sender": "Customer",
    }
    return base | changes


def statuses(events: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["at"], e["status"]) for e in events if e["type"] == "status"]


def updates(events: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(e["at"], e["fields"]) for e in events if e["type"] == "update"]


# ----------------------------------------------------------------- recognise
@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("tickets-expanded.json", ["tickets"]),
        ("tickets-plain.json", ["tickets"]),
        ("history-4.json", ["history"]),  # its assets name the ticket only by number
        ("history-3.json", ["history", "tickets"]),  # its assets hold the whole ticket
        ("articles-3.json", ["articles"]),
        ("states.json", ["states"]),
        ("priorities.json", ["priorities"]),
    ],
)
def test_each_saved_response_is_recognised_by_its_content(name: str, kinds: list[str]) -> None:
    [doc] = documents(name)
    found = ZammadSource().recognise(doc)
    assert found is not None and [k for k, _ in found] == kinds


def test_single_records_search_results_and_json_lines() -> None:
    source = ZammadSource()
    assert source.recognise(ticket()) == [("tickets", [ticket()])]
    search = {"tickets": [1], "tickets_count": 1, "assets": {"Ticket": {"1": ticket()}, "User": {}}}
    assert source.recognise(search) == [("tickets", [ticket()])]
    lines = documents("articles-5.jsonl")
    assert [source.recognise(d) for d in lines] == [[("articles", [d])] for d in lines]
    assert source.recognise(history()["history"][0]) == [("history", [history()["history"][0]])]  # type: ignore[index]


def test_a_history_with_ids_that_are_no_ids_is_still_recognised() -> None:
    # A damaged export: an o_id or an asset's id that is an object or a list
    # must not end the import (they cannot be set members); such a ticket is
    # simply not one of the history's own.
    doc = history(change(2, "state_id", "2025-06-24T09:00:00.000Z", id_from=1, id_to=2))
    doc["history"][1]["o_id"] = {"id": 1}  # type: ignore[index]
    doc["assets"] = {"Ticket": {"1": ticket(), "2": ticket(id=[2])}}
    found = ZammadSource().recognise(doc)
    assert found is not None and [kind for kind, _ in found] == ["history", "tickets"]
    assert found[1][1] == [ticket()]


def test_other_documents_are_not_zammad() -> None:
    source = ZammadSource()
    assert source.recognise([]) == []
    for doc in ({"audits": []}, [{"id": 18, "status": 2, "requester_id": 5}], "text", [1], None):
        assert source.recognise(doc) is None
    assert record_kind({"id": 1, "name": "x"}) is None


# --------------------------------------------------------------- creation
def test_the_creation_has_each_attributes_value_before_its_first_change() -> None:
    events = run(documents("tickets-expanded.json", "history-4.json", "articles-4.json"))["53004"]
    assert events[0] == {
        "at": "2025-06-24T10:46:58.554Z",
        "type": "created",
        "status": "new",
        "fields": {"priority": "normal", "group": "1", "requester": "10", "channel": "web"},
    }


def test_a_ticket_without_changes_is_created_with_todays_values() -> None:
    record = ticket(organization_id=9, owner_id=4, type="Incident", tags=["vip"], create_article_type_id=13)
    created = run([record, history()])["22001"][0]
    assert created["status"] == "open"
    assert created["fields"] == {
        "priority": "normal",
        "group": "1",
        "assignee": "4",
        "requester": "2",
        "organization": "9",
        "type": "Incident",
        "channel": "facebook_direct_message",
        "tags": ["vip"],
    }


def test_tickets_come_out_under_their_number() -> None:
    assert sorted(run(documents())) == ["53003", "53004", "53005"]
    assert list(run([ticket(number=None)])) == ["1"]


@pytest.mark.parametrize(
    ("given", "want"), [("1 low", "low"), ("2 normal", "normal"), ("4 disaster", "disaster")]
)
def test_priority_names_lose_their_number(given: str, want: str) -> None:
    assert priority_name(given) == want


# ----------------------------------------------------------------- history
def test_history_changes_become_status_and_update_events() -> None:
    events = run(documents("tickets-expanded.json", "history-4.json", "articles-4.json"))["53004"]
    assert statuses(events) == [
        ("2025-06-24T11:05:00Z", "open"),
        ("2025-06-24T12:00:00Z", "pending_reminder"),
    ]
    assert updates(events) == [
        ("2025-06-24T11:05:00Z", {"assignee": "5"}),
        ("2025-06-24T11:05:00Z", {"priority": "high"}),
        ("2025-06-24T11:06:00Z", {"group": "2"}),
    ]  # first_response_at and pending_time entries, and article entries, are not needed


def test_unassigning_customer_organization_and_type_changes() -> None:
    entries = [
        change(
            2, "owner", "2025-06-24T09:00:00Z", id_from=1, id_to=5, value_from="-", value_to="Emma Taylor"
        ),
        change(
            3, "owner", "2025-06-24T10:00:00Z", id_from=5, id_to=1, value_from="Emma Taylor", value_to="-"
        ),
        change(4, "customer", "2025-06-24T10:00:00Z", id_from=2, id_to=8, value_from="A", value_to="B"),
        change(
            5, "organization", "2025-06-24T10:00:00Z", id_from=None, id_to=3, value_from="", value_to="Org"
        ),
        change(6, "type", "2025-06-24T10:00:00Z", value_from="", value_to="Problem"),
        change(7, "title", "2025-06-24T10:00:00Z", value_from="a", value_to="b"),
    ]
    events = run([ticket(customer_id=8, organization_id=3, type="Problem"), history(*entries)])["22001"]
    assert events[0]["fields"] == {"priority": "normal", "group": "1", "requester": "2", "channel": "phone"}
    assert updates(events) == [
        ("2025-06-24T09:00:00Z", {"assignee": "5"}),
        ("2025-06-24T10:00:00Z", {"assignee": None}),
        ("2025-06-24T10:00:00Z", {"requester": "8"}),
        ("2025-06-24T10:00:00Z", {"organization": "3"}),
        ("2025-06-24T10:00:00Z", {"type": "Problem"}),
    ]


def test_states_and_priorities_lists_name_the_ids() -> None:
    states = [
        {"id": 2, "state_type_id": 2, "name": "In Progress"},
        {"id": 9, "state_type_id": 3, "name": "On Hold"},
    ]
    priorities = [{"id": 2, "name": "2 medium", "default_create": True, "ui_color": None}]
    entry = change(
        2, "state", "2025-06-24T09:00:00Z", id_from=2, id_to=9, value_from="open", value_to="waiting"
    )
    events = run([states, priorities, ticket(state_id=9), history(entry)])["22001"]
    assert events[0]["status"] == "in_progress" and events[0]["fields"]["priority"] == "medium"  # type: ignore[index]
    assert statuses(events) == [("2025-06-24T09:00:00Z", "on_hold")]


def test_without_lists_the_expanded_or_stock_names_serve_and_are_noted() -> None:
    source = ZammadSource()
    events = run([ticket(state_id=7, priority_id=3), history()], source)["22001"]
    assert (events[0]["status"], events[0]["fields"]["priority"]) == ("pending_close", "high")  # type: ignore[index]
    assert any("stock ids" in n and "priority 3" in n and "state 7" in n for n in source.notes())
    expanded = run([ticket(state_id=70, state="Waiting", priority_id=30, priority="5 critical"), history()])
    assert expanded["22001"][0]["status"] == "waiting"
    assert expanded["22001"][0]["fields"]["priority"] == "critical"  # type: ignore[index]


def test_a_record_newer_than_its_history_catches_up_at_updated_at() -> None:
    source = ZammadSource()
    entries = [
        change(2, "state", "2025-06-24T09:00:00Z", id_from=1, id_to=2, value_from="new", value_to="open"),
        change(
            3, "priority", "2025-06-24T09:00:00Z", id_from=2, id_to=1, value_from="2 normal", value_to="1 low"
        ),
    ]
    events = run([ticket(state_id=4, priority_id=3, group_id=5), history(*entries)], source)["22001"]
    assert events[0]["fields"]["priority"] == "normal"  # type: ignore[index]
    assert events[0]["fields"]["group"] == "5"  # type: ignore[index]  # never changed: today's
    assert statuses(events) == [("2025-06-24T09:00:00Z", "open"), ("2025-06-24T12:00:00Z", "closed")]
    assert updates(events) == [
        ("2025-06-24T09:00:00Z", {"priority": "low"}),
        ("2025-06-24T12:00:00Z", {"priority": "high"}),
    ]
    assert any("1 ticket(s) whose record is newer than their history" in n for n in source.notes())


def test_an_id_the_history_named_is_that_name_in_a_record_that_gives_the_id_only() -> None:
    """Zammad moves updated_at for much the history leaves out (articles,
    escalation times): a custom state named in the history and given by id
    in the newer record is the same state, not a made-up change to state_8."""
    source = ZammadSource()
    entries = [
        change(
            2,
            "state",
            "2025-06-24T09:00:00Z",
            id_from=1,
            id_to=8,
            value_from="new",
            value_to="Waiting for Customer",
        ),
        change(
            3,
            "priority",
            "2025-06-24T09:00:00Z",
            id_from=2,
            id_to=4,
            value_from="2 normal",
            value_to="4 very high",
        ),
    ]
    events = run([ticket(state_id=8, priority_id=4), history(*entries)], source)["22001"]
    assert statuses(events) == [("2025-06-24T09:00:00Z", "waiting_for_customer")]
    assert updates(events) == [("2025-06-24T09:00:00Z", {"priority": "very_high"})]
    assert not any("newer than their history" in n or "no list" in n for n in source.notes())


def test_an_id_nothing_names_is_written_as_it_is_and_noted() -> None:
    source = ZammadSource()
    events = run([ticket(state_id=9, priority_id=40), history()], source)["22001"]
    assert (events[0]["status"], events[0]["fields"]["priority"]) == ("state_9", "40")  # type: ignore[index]
    assert any(
        "ids no list, history or stock table names" in n and "priority 40, state 9" in n
        for n in source.notes()
    )


def test_without_a_history_todays_state_is_placed_and_noted() -> None:
    source = ZammadSource()
    out = run(documents("tickets-plain.json", "articles-5.jsonl", "states.json"), source)
    assert out["53005"][0]["status"] == "new"
    assert statuses(out["53005"]) == [("2021-08-03T10:15:00Z", "closed")]  # last_close_at
    pending = run([ticket(state_id=3)])["22001"]
    assert statuses(pending) == [("2025-06-24T12:00:00Z", "pending_reminder")]  # updated_at
    assert run([ticket(state_id=1)])["22001"][0]["status"] == "new"
    assert any("1 ticket(s) without a history" in n for n in source.notes())


# ----------------------------------------------------------------- articles
def test_article_senders_and_visibility() -> None:
    events = run(documents("tickets-expanded.json", "history-4.json", "articles-4.json"))["53004"]
    assert [(e["at"], e["author"], e["public"]) for e in events if e["type"] == "message"] == [
        ("2025-06-24T10:46:58.6Z", "customer", True),
        ("2025-06-24T10:46:59.1Z", "bot", True),  # a trigger's auto-reply: sender System
        ("2025-06-24T11:05:00Z", "agent", True),
        ("2025-06-24T11:06:30Z", "agent", False),  # an internal note
    ]


def test_a_public_note_is_a_public_message_and_sender_ids_serve() -> None:
    docs = [
        ticket(),
        history(),
        [
            article(id=1, type="note", type_id=10, sender="Agent", sender_id=1),
            article(id=2, sender=None, sender_id=3, created_at="2025-06-24T09:30:00Z"),
        ],
    ]
    source = ZammadSource()
    messages = [(e["author"], e["public"]) for e in run(docs, source)["22001"] if e["type"] == "message"]
    assert messages == [("agent", True), ("bot", True)]
    assert any("1 public note(s) by agents written as responses" in n for n in source.notes())


def test_a_reply_and_a_change_at_one_instant_keep_the_reply_first() -> None:
    entry = change(
        2, "state", "2025-06-24T09:00:00.000Z", id_from=2, id_to=4, value_from="open", value_to="closed"
    )
    events = run([ticket(state_id=4), history(entry), [article(sender="Agent", sender_id=1)]])["22001"]
    assert [e["type"] for e in events] == ["created", "message", "status"]


def test_events_before_the_creation_move_to_it() -> None:
    source = ZammadSource()
    events = run([ticket(), history(), [article(created_at="2025-06-24T07:59:59.900Z")]], source)["22001"]
    assert events[1]["at"] == "2025-06-24T08:00:00Z"
    assert any("1 event(s) dated before" in n for n in source.notes())


# ------------------------------------------------- duplicates and order
def test_pages_saved_twice_and_a_ticket_from_several_responses() -> None:
    docs = documents()
    twice = run(
        docs + documents("history-3.json", "history-4.json", "articles-4.json", "tickets-expanded.json")
    )
    assert twice == run(docs)
    older, newer = ticket(priority_id=1, updated_at="2025-06-24T10:00:00Z"), ticket(priority_id=3)
    for order in ([older, newer], [newer, older]):
        assert run([*order, history()])["22001"][0]["fields"]["priority"] == "high"  # type: ignore[index]


def test_file_and_record_order_do_not_matter() -> None:
    docs = documents()
    want = run(docs)
    assert run(list(reversed(docs))) == want

    def backwards(doc: object) -> object:
        if isinstance(doc, list):
            return list(reversed(doc))
        if isinstance(doc, dict) and "history" in doc:
            return {**doc, "history": list(reversed(doc["history"]))}
        return doc

    assert run([backwards(d) for d in docs[4:] + docs[:4]]) == want


# ------------------------------------------------------------ bad records
@pytest.mark.parametrize(
    ("kind", "record", "message"),
    [
        ("tickets", ticket(created_at=None), "created_at is missing"),
        ("tickets", ticket(id="x"), "numeric id"),
        ("tickets", ticket(updated_at="yesterday"), "updated_at"),
        ("history", change(2, "state", "2025-06-24 09:00"), "created_at"),
        ("history", {**change(2, "state", "2025-06-24T09:00:00Z"), "o_id": None}, "o_id"),
        ("articles", article(sender="Robot", sender_id=None), "sender"),
        ("articles", article(internal="no"), "internal"),
        ("articles", article(ticket_id=None), "ticket_id"),
        ("states", {"id": None, "name": "new", "state_type_id": 1}, "numeric id"),
        ("tickets", "not an object", "JSON object"),
    ],
)
def test_records_that_cannot_be_mapped(kind: str, record: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        list(ZammadSource().read(kind, record))


def test_unneeded_history_entries_are_not_errors() -> None:
    source = ZammadSource()
    for entry in (
        {
            "id": 9,
            "o_id": 31,
            "object": "Ticket::Article",
            "type": "created",
            "created_at": "2025-06-24T09:00:00Z",
        },
        {"id": 9, "o_id": 1, "object": "Mention", "type": "created", "created_at": "2025-06-24T09:00:00Z"},
        change(9, "pending_time", "2025-06-24T09:00:00Z", value_from="", value_to="2025-06-25 09:00:00 UTC"),
        {"id": 9, "o_id": 1, "object": "Ticket", "type": "merged_into", "created_at": "2025-06-24T09:00:00Z"},
    ):
        assert list(source.read("history", entry)) == []


def test_a_ticket_with_articles_only_is_refused() -> None:
    source = ZammadSource()
    [emit] = source.read("articles", article())
    assert isinstance(emit, Emit)
    with pytest.raises(RecordError, match="no ticket record"):
        source.finish_ticket("1", [json.loads(json.dumps(emit.event))])


# ---------------------------------------------------------------- clocks
BY_HAND = {
    "53003": """
{"at": "2025-01-22T10:46:58.255Z", "type": "created", "status": "new", "fields": {"priority": "normal"}}
{"at": "2025-01-22T10:46:58.300Z", "type": "message", "author": "customer"}
{"at": "2025-01-22T11:00:00Z", "type": "update", "fields": {"assignee": "3"}}
{"at": "2025-01-22T11:00:00Z", "type": "status", "status": "open"}
{"at": "2025-01-24T08:46:58.510Z", "type": "message", "author": "agent"}
{"at": "2025-01-24T08:50:00Z", "type": "status", "status": "closed"}
""",
    "53004": """
{"at": "2025-06-24T10:46:58.554Z", "type": "created", "status": "new", "fields": {"priority": "normal"}}
{"at": "2025-06-24T10:46:58.600Z", "type": "message", "author": "customer"}
{"at": "2025-06-24T10:46:59.100Z", "type": "message", "author": "bot"}
{"at": "2025-06-24T11:05:00Z", "type": "message", "author": "agent"}
{"at": "2025-06-24T11:05:00Z", "type": "status", "status": "open"}
{"at": "2025-06-24T11:05:00Z", "type": "update", "fields": {"priority": "high"}}
{"at": "2025-06-24T11:06:30Z", "type": "message", "author": "agent", "public": false}
{"at": "2025-06-24T12:00:00Z", "type": "status", "status": "pending_reminder"}
""",
    "53005": """
{"at": "2021-08-02T11:57:18Z", "type": "created", "status": "new", "fields": {"priority": "low"}}
{"at": "2021-08-02T11:57:18.068Z", "type": "message", "author": "customer"}
{"at": "2021-08-03T09:57:18.121Z", "type": "message", "author": "agent"}
{"at": "2021-08-03T10:10:00Z", "type": "message", "author": "agent", "public": false}
{"at": "2021-08-03T10:15:00Z", "type": "status", "status": "closed"}
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


def test_the_bot_auto_reply_is_no_first_response() -> None:
    rows = evaluate_ticket(
        load_policies(POLICY), run(documents())["53004"], NOW, "53004", with_warnings=False
    )
    [first] = [r for r in rows if r.metric == "first_response"]
    assert first.ended_at == parse_instant("2025-06-24T11:05:00Z")


# ----------------------------------------------------------------- notes
def test_the_notes_name_the_states_zammad_pauses_in() -> None:
    source = ZammadSource()
    run(documents(), source)
    notes = source.notes()
    assert any("escalation clock in pending_close, pending_reminder" in n for n in notes)
    assert any("1 ticket(s) without a history" in n for n in notes)
    assert ZammadSource().notes() == []


# ------------------------------------------------------------ end to end
def test_end_to_end_through_the_driver() -> None:
    run_module = pytest.importorskip("sla.importers.run")
    out = io.BytesIO()
    summary, cycles = run_module.import_events(ZammadSource(), [str(FIXTURES)], out)
    assert summary.complete and cycles == []
    assert (summary.files, summary.tickets) == (9, 3)
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
