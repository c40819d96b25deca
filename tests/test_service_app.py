"""``sla serve`` in process (httpx over ASGI, the lifespan run as uvicorn
runs it) on SQLite: ingest, idempotency, rejections, queries, auth, limits,
the status page and the OpenAPI document."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("fastapi")

from service_support import ROOT, FakeClock, InProcess, check_generated_history

import sla
from sla.service.settings import Settings

POLICY = """
policies:
  - name: all
    calendar: 24x7
    targets: {first_response: 1h, resolution: 4h}
    warnings: {at_percent: [50], before_due: [10m]}
"""
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def created(ticket: str, at: str, **extra: object) -> dict[str, object]:
    return {"ticket_id": ticket, "at": at, "type": "created", "fields": {"priority": "high"}, **extra}


def message(ticket: str, at: str, author: str = "agent", **extra: object) -> dict[str, object]:
    return {"ticket_id": ticket, "at": at, "type": "message", "author": author, **extra}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-03-02T08:30:00Z")


@pytest.fixture
def svc(tmp_path: Path, clock: FakeClock) -> Iterator[InProcess]:
    settings = Settings(
        sla.load_policies(POLICY),
        db_url=f"sqlite:///{tmp_path}/state.db",
        token=TOKEN,
        clock=clock,
        max_body_bytes=4096,
        max_depth=6,
    )
    service = InProcess(settings)
    yield service
    service.close()


def post(svc: InProcess, events: object, **headers: str) -> dict[str, object]:
    answer = svc.post("/v1/events", content=orjson.dumps(events), headers={**AUTH, **headers})
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()
    return data


def rows(svc: InProcess, ticket: str, now: str | None = None) -> list[dict[str, object]]:
    answer = svc.get(f"/v1/tickets/{ticket}", params={"now": now} if now else {}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["ticket_id"] == ticket
    result: list[dict[str, object]] = data["rows"]
    return result


def test_accepted_events_are_judged_like_evaluate(svc: InProcess) -> None:
    answer = post(
        svc, [created("T1", "2026-03-02T08:00:00Z", id="e1"), message("T1", "2026-03-02T08:20:00Z", id="e2")]
    )
    assert answer == {"accepted": 2, "duplicates": 0, "rejected": []}
    got = rows(svc, "T1", "2026-03-02T09:00:00Z")
    expected = sla.evaluate_ticket(
        sla.load_policies(POLICY),
        [created("T1", "2026-03-02T08:00:00Z"), message("T1", "2026-03-02T08:20:00Z")],
        "2026-03-02T09:00:00Z",
        with_warnings=False,
    )
    assert got == [r.to_row() for r in expected]
    assert [r["state"] for r in rows(svc, "T1")] == ["achieved", "running"]  # the server's clock


def test_a_retried_request_changes_nothing(svc: InProcess) -> None:
    batch = [created("T1", "2026-03-02T08:00:00Z", id="e1"), message("T1", "2026-03-02T08:20:00Z", id=2)]
    assert post(svc, batch)["accepted"] == 2
    assert post(svc, batch) == {"accepted": 0, "duplicates": 2, "rejected": []}
    # the same id twice in one request: the second is the duplicate
    again = [message("T1", "2026-03-02T08:25:00Z", id="e3"), message("T1", "2026-03-02T08:26:00Z", id="e3")]
    assert post(svc, again) == {"accepted": 1, "duplicates": 1, "rejected": []}
    # events without an id are never duplicates
    assert post(svc, [message("T1", "2026-03-02T08:27:00Z")] * 2)["accepted"] == 2


def test_each_bad_event_is_rejected_alone(svc: InProcess) -> None:
    answer = post(
        svc,
        [
            created("T1", "2026-03-02T08:00:00Z"),
            created("T1", "2026-03-02T08:05:00Z"),  # a second created
            {"ticket_id": "T1", "at": "2026-03-02T08:10:00", "type": "message", "author": "agent"},
            {"at": "2026-03-02T08:10:00Z", "type": "message"},
            {"ticket_id": True, "at": "2026-03-02T08:10:00Z", "type": "message"},
            ["not", "an", "object"],
            message("T1", "2026-03-02T07:00:00Z"),  # before created
            message("T1", "2026-03-02T08:10:00Z", id={"a": 1}),
            {"ticket_id": "T2", "at": "2026-03-02T08:10:00Z", "type": "status"},
            message("T1", "2026-03-02T08:10:00Z", fields={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}),
            message(7, "2026-03-02T08:10:00Z", author="robot"),
            message("T1", "2026-03-02T08:15:00Z"),
        ],
    )
    assert answer["accepted"] == 2 and answer["duplicates"] == 0
    rejected = answer["rejected"]
    assert isinstance(rejected, list)
    assert [r["index"] for r in rejected] == list(range(1, 11))
    reasons = {r["index"]: (r["ticket_id"], r["error"]) for r in rejected}
    assert reasons[1] == ("T1", reasons[1][1]) and "already has a created event" in reasons[1][1]
    assert "no UTC offset" in reasons[2][1]
    assert reasons[3] == (None, "ticket_id is missing")
    assert reasons[4][0] is None and "expected a string or an integer" in reasons[4][1]
    assert "JSON object" in reasons[5][1]
    assert "before the ticket's created event" in reasons[6][1]
    assert reasons[7][1].startswith("id:")
    assert reasons[8][0] == "T2" and "status" in reasons[8][1]
    assert "deeper than 6" in reasons[9][1]
    assert reasons[10][0] == "7" and "author" in reasons[10][1]
    # nothing of the rejected ones was stored
    assert svc.get("/v1/tickets/T2", headers=AUTH).status_code == 404
    assert len(rows(svc, "T1", "2026-03-02T08:20:00Z")) == 2


def test_ticket_ids_with_slashes_and_integers(svc: InProcess) -> None:
    post(svc, [created("JIRA/SUP-1", "2026-03-02T08:00:00Z"), created(42, "2026-03-02T08:00:00Z")])
    assert rows(svc, "JIRA/SUP-1")[0]["ticket_id"] == "JIRA/SUP-1"
    assert rows(svc, "42")[0]["ticket_id"] == "42"


def test_events_before_created_wait_for_it(svc: InProcess) -> None:
    post(
        svc, [message("T1", "2026-03-02T08:10:00Z", author="customer"), message("T1", "2026-03-02T08:20:00Z")]
    )
    assert rows(svc, "T1") == []
    # a created after an event already stored would put that event before it
    late = post(svc, [created("T1", "2026-03-02T08:15:00Z")])
    assert late["accepted"] == 0 and "before this created event" in late["rejected"][0]["error"]
    assert post(svc, [created("T1", "2026-03-02T08:00:00Z")])["accepted"] == 1
    [first, resolution] = rows(svc, "T1", "2026-03-02T09:00:00Z")
    assert first["state"] == "achieved" and first["ended_at"] == "2026-03-02T08:20:00Z"
    assert resolution["state"] == "running"


def test_events_at_one_instant_take_created_first_then_acceptance_order(svc: InProcess) -> None:
    at = "2026-03-02T08:00:00Z"
    post(svc, [{"ticket_id": "T1", "at": at, "type": "status", "status": "solved"}])
    post(svc, [created("T1", at)])
    post(svc, [{"ticket_id": "T1", "at": at, "type": "status", "status": "open"}])
    expected = sla.evaluate_ticket(
        sla.load_policies(POLICY),
        [
            {"ticket_id": "T1", "at": at, "type": "status", "status": "solved"},
            created("T1", at),
            {"ticket_id": "T1", "at": at, "type": "status", "status": "open"},
        ],
        "2026-03-02T09:00:00Z",
        with_warnings=False,
    )
    assert rows(svc, "T1", "2026-03-02T09:00:00Z") == [r.to_row() for r in expected]


def test_shuffled_batches_equal_sla_evaluate(svc: InProcess, tmp_path: Path, clock: FakeClock) -> None:
    """A generated history posted in shuffled batches, with retries: every
    ticket's rows are the bytes ``sla evaluate --format jsonl`` prints over
    the accepted events, at instants inside and after the history."""
    policies = ROOT / "policies" / "ecommerce.yaml"
    settings = Settings(sla.load_policies(policies), db_url=f"sqlite:///{tmp_path}/gen.db", clock=clock)
    clock.set("2026-04-01T00:00:00Z")
    service = InProcess(settings)
    try:
        check_generated_history(service, policies, tmp_path, seed=3)
    finally:
        service.close()


def test_json_lines_bodies(svc: InProcess) -> None:
    body = b'{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n\n' + (
        b'{"ticket_id": "T1", "at": "2026-03-02T08:05:00Z", "type": "status"}\n'
    )
    answer = svc.post("/v1/events", content=body, headers={**AUTH, "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200
    assert answer.json()["rejected"][0]["index"] == 1  # among the non-empty lines
    # JSON Lines without the media type are recognised too
    body = b'{"ticket_id": "T2", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n' * 2
    assert svc.post("/v1/events", content=body, headers=AUTH).json()["accepted"] == 1
    # a single object is one event
    assert post(svc, created("T3", "2026-03-02T08:00:00Z"))["accepted"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"not json", "application/json", "not JSON"),
        (
            b'{"ticket_id": "T9", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\nnope\n',
            "application/x-ndjson",
            "line 2",
        ),
        (b"[" * 2000 + b"]" * 2000, "application/json", "not JSON"),
        # a pretty-printed array with an error is told as JSON, not as JSON Lines
        (
            b'[\n {"ticket_id": "T9", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}},\n'
            b' {"ticket_id": "T9" "at": "x"}\n]\n',
            "application/json",
            "the body is not JSON",
        ),
    ],
)
def test_a_body_that_is_not_json_is_400_and_stores_nothing(
    svc: InProcess, body: bytes, content_type: str, message: str
) -> None:
    answer = svc.post("/v1/events", content=body, headers={**AUTH, "Content-Type": content_type})
    assert answer.status_code == 400 and message in answer.json()["detail"]
    assert svc.get("/v1/tickets/T9", headers=AUTH).status_code == 404


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", ""])
def test_a_json_scalar_body_is_one_rejected_event(svc: InProcess, content_type: str) -> None:
    # Section 15: a body that is JSON answers 200 whatever was rejected, as
    # the same bytes read as JSON Lines always did.
    answer = post_raw(svc, b"42", content_type)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [{"index": 0, "ticket_id": None, "error": "an event is a JSON object, got a number"}],
    }


def post_raw(svc: InProcess, body: bytes, content_type: str = "application/json") -> httpx.Response:
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    return svc.post("/v1/events", content=body, headers=headers)


def test_a_ticket_id_beyond_64_bits_keeps_its_digits_as_evaluate_does(svc: InProcess) -> None:
    big = "123456789012345678901234567890"
    event = f'{{"ticket_id": {big}, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {{}}}}'
    for body, content_type in [
        (f"[{event}]", "application/json"),
        (event.replace('"created"', '"message", "author": "agent"'), "application/json"),
        (event.replace(big, big + "1") + "\n", "application/x-ndjson"),
    ]:
        answer = post_raw(svc, body.encode(), content_type).json()
        assert answer["accepted"] == 1 and answer["rejected"] == [], answer
    assert [(r["ticket_id"], r["state"]) for r in rows(svc, big)][0] == (big, "achieved")
    assert rows(svc, big + "1")[0]["ticket_id"] == big + "1"


def test_a_ticket_id_holding_a_newline_is_found(svc: InProcess) -> None:
    assert post(svc, [created("a\nb", "2026-03-02T08:00:00Z")])["accepted"] == 1
    answer = svc.get("/v1/tickets/a%0Ab", headers=AUTH)
    assert answer.status_code == 200 and answer.json()["ticket_id"] == "a\nb"


def test_an_id_holding_a_nul_is_rejected_alone(svc: InProcess) -> None:
    # PostgreSQL's text cannot hold NUL: refused per event, on SQLite too.
    answer = post(
        svc,
        [
            created("good", "2026-03-02T08:00:00Z"),
            created("a\u0000b", "2026-03-02T08:00:00Z"),
            created("other", "2026-03-02T08:00:00Z", id="e\u00001"),
        ],
    )
    rejected = answer["rejected"]
    assert answer["accepted"] == 1 and isinstance(rejected, list)
    assert [(r["index"], r["error"].split(":")[0]) for r in rejected] == [(1, "ticket_id"), (2, "id")]
    assert "NUL" in rejected[0]["error"]
    assert rows(svc, "good") and svc.get("/v1/tickets/other", headers=AUTH).status_code == 404


def test_request_paths_cannot_forge_text_log_lines(svc: InProcess) -> None:
    import logging

    from sla.service.logs import TextFormatter

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(TextFormatter().format(record))

    logger = logging.getLogger("sla.serve.http")
    handler, level = Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        svc.get("/v1/x%0A2026-03-02T08:00:00Z%20error%20sla.serve:%20forged%0D")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    [line] = [line for line in lines if "forged" in line]
    assert "\n" not in line and "\r" not in line and "/v1/x\\n2026" in line


def test_a_body_over_the_limit_is_413(svc: InProcess) -> None:
    big = [created(f"T{i}", "2026-03-02T08:00:00Z") for i in range(100)]
    answer = svc.post("/v1/events", content=orjson.dumps(big), headers=AUTH)
    assert answer.status_code == 413 and "limit" in answer.json()["detail"]

    async def chunks():  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b" " * 1000

    answer = svc.post("/v1/events", content=chunks(), headers=AUTH)
    assert answer.status_code == 413
    assert svc.get("/v1/tickets/T0", headers=AUTH).status_code == 404


def test_a_body_of_more_events_than_the_limit_is_413(tmp_path: Path, clock: FakeClock) -> None:
    """Tiny items within --max-body would each cost objects and a rejection
    in the answer: --max-events bounds a request's memory."""
    settings = Settings(
        sla.load_policies(POLICY), db_url=f"sqlite:///{tmp_path}/s.db", clock=clock, max_events=3
    )
    svc = InProcess(settings)
    try:
        answer = svc.post("/v1/events", content=b"[1, 2, 3, 4]")
        assert answer.status_code == 413, answer.text
        assert answer.json()["detail"] == (
            "the body holds 4 events, over the limit of 3 (--max-events); send smaller batches"
        )
        three = [created(f"T{i}", "2026-03-02T08:00:00Z") for i in range(3)]
        answer = svc.post("/v1/events", content=orjson.dumps(three))
        assert answer.status_code == 200 and answer.json()["accepted"] == 3
    finally:
        svc.close()


def test_auth(svc: InProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        for method, url in (("GET", "/v1/tickets/T1"), ("GET", "/v1/due?within=1h"), ("POST", "/v1/events")):
            answer = svc.request(method, url, headers=headers, content=b"[]")
            assert answer.status_code == 401, (method, url, headers)
            assert answer.headers["www-authenticate"] == "Bearer"
    assert svc.get("/healthz").status_code == 200
    assert svc.get("/openapi.json").status_code == 200
    assert svc.get("/").status_code == 401
    assert svc.get("/", auth=("anyone", TOKEN)).status_code == 200
    assert svc.get("/", headers=AUTH).status_code == 200


def test_queries(svc: InProcess, clock: FakeClock) -> None:
    assert svc.get("/v1/tickets/nope", headers=AUTH).status_code == 404
    post(svc, [created("T1", "2026-03-02T08:00:00Z"), created("T2", "2026-03-02T08:10:00Z")])
    post(svc, [message("T2", "2026-03-02T08:15:00Z")])
    due = svc.get("/v1/due", params={"within": "1h"}, headers=AUTH).json()
    assert due["now"] == "2026-03-02T08:30:00Z"
    assert [(r["ticket_id"], r["metric"]) for r in due["rows"]] == [("T1", "first_response")]
    due = svc.get("/v1/due", params={"within": "4h", "now": "2026-03-02T08:12:00Z"}, headers=AUTH).json()
    assert [(r["ticket_id"], r["metric"], r["due_at"]) for r in due["rows"]] == [
        ("T1", "first_response", "2026-03-02T09:00:00Z"),
        ("T2", "first_response", "2026-03-02T09:10:00Z"),
        ("T1", "resolution", "2026-03-02T12:00:00Z"),
        ("T2", "resolution", "2026-03-02T12:10:00Z"),
    ]
    # a past instant before the ticket was created, and far in the future
    assert rows(svc, "T2", "2026-03-01T00:00:00Z") == []
    assert rows(svc, "T1", "2027-01-01T00:00:00Z")[0]["state"] == "breached"
    for params, message_ in (
        ({}, "within is required"),
        ({"within": "soon"}, "within:"),
        ({"within": "1h", "now": "yesterday"}, "now:"),
    ):
        answer = svc.get("/v1/due", params=params, headers=AUTH)
        assert answer.status_code == 400 and message_ in answer.json()["detail"]
    assert svc.get("/v1/tickets/T1", params={"now": "2026-03-02"}, headers=AUTH).status_code == 400


def test_status_page_and_openapi(svc: InProcess) -> None:
    post(svc, [created("T<1>", "2026-03-02T08:00:00Z")])
    page = svc.get("/", headers=AUTH)
    assert page.headers["content-type"].startswith("text/html")
    assert "T&lt;1&gt;" in page.text and "open cycles" in page.text and "<script" not in page.text
    assert svc.get("/", params={"within": "1d", "x": 1}, headers=AUTH).status_code == 200
    assert svc.get("/", params={"within": "never"}, headers=AUTH).status_code == 400
    schema = svc.get("/openapi.json").json()
    assert {"/v1/events", "/v1/tickets/{ticket_id}", "/v1/due", "/healthz"} <= set(schema["paths"])
    assert {"EventIn", "EventsAnswer", "TicketAnswer", "DueAnswer", "Alert", "Row"} <= set(
        schema["components"]["schemas"]
    )
    assert schema["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    health = svc.get("/healthz").json()
    assert health == {"status": "ok", "database": "sqlite", "schema_version": 2}


def test_state_survives_a_restart_and_a_policy_change(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    first = InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock))
    try:
        first.post("/v1/events", content=orjson.dumps([created("T1", "2026-03-02T08:00:00Z")]))
        with pytest.raises(sla.SlaError, match="another sla serve process"):
            InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock))
    finally:
        first.close()
    tighter = POLICY.replace("first_response: 1h", "first_response: 2h")
    second = InProcess(Settings(sla.load_policies(tighter), db_url=url, clock=clock))
    try:
        [row, _] = second.get("/v1/tickets/T1").json()["rows"]
        assert row["target_seconds"] == 7200 and row["due_at"] == "2026-03-02T10:00:00Z"
        due = second.get("/v1/due", params={"within": "1h"}).json()["rows"]
        assert due == []  # the stored due time was recomputed under the new file
    finally:
        second.close()
    db = sqlite3.connect(f"{tmp_path}/state.db")
    at = [
        json.loads(b)["at"]
        for (b,) in db.execute("SELECT body FROM alerts WHERE body LIKE '%breach%' ORDER BY at_us")
    ]
    assert at == ["2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z"]


def test_a_policy_change_judges_again_the_ticket_whose_id_is_empty(tmp_path: Path, clock: FakeClock) -> None:
    """ "" is a ticket id sla evaluate takes: walking the tickets in pages
    must not start after it."""
    url = f"sqlite:///{tmp_path}/state.db"
    looser = POLICY.replace("first_response: 1h", "first_response: 2h")
    first = InProcess(Settings(sla.load_policies(looser), db_url=url, clock=clock))
    try:
        both = [created("", "2026-03-02T08:00:00Z"), created("x", "2026-03-02T08:00:00Z")]
        assert first.post("/v1/events", content=orjson.dumps(both)).json()["accepted"] == 2
    finally:
        first.close()
    second = InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock))
    try:  # due at 09:00 now, no longer 10:00
        due = second.get("/v1/due", params={"within": "1h", "now": "2026-03-02T08:10:00Z"}).json()["rows"]
        assert sorted((r["ticket_id"], r["due_at"]) for r in due) == [
            ("", "2026-03-02T09:00:00Z"),
            ("x", "2026-03-02T09:00:00Z"),
        ]
    finally:
        second.close()


def test_a_newer_schema_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock)).close()
    with sqlite3.connect(f"{tmp_path}/state.db") as db:
        db.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(sla.SlaError, match="newer than this sla"):
        InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock))


ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{}END:VCALENDAR\r\n"
TUESDAY_CLOSED = "BEGIN:VEVENT\r\nUID:closed\r\nDTSTART;VALUE=DATE:20260303\r\nEND:VEVENT\r\n"
OFFICE_POLICY = """
calendars:
  office:
    timezone: UTC
    hours: {mon-fri: ["09:00-17:00"]}
    holidays: {ics: closed.ics}
policies:
  - name: all
    calendar: office
    targets: {first_response: 2h}
"""


def test_a_changed_ics_holiday_file_judges_every_ticket_again(tmp_path: Path) -> None:
    # The policy file names the .ics file; its content is what the due times
    # were computed from, so a changed file is a policy change at start.
    (tmp_path / "closed.ics").write_text(ICS.format(TUESDAY_CLOSED))
    (tmp_path / "p.yaml").write_text(OFFICE_POLICY)
    clock = FakeClock("2026-03-02T16:30:00Z")

    def start() -> InProcess:
        policies = sla.load_policies(tmp_path / "p.yaml")
        return InProcess(Settings(policies, db_url=f"sqlite:///{tmp_path}/state.db", clock=clock))

    first = start()
    try:
        first.post("/v1/events", content=orjson.dumps([created("T1", "2026-03-02T16:00:00Z")]))
        assert first.get("/v1/tickets/T1").json()["rows"][0]["due_at"] == "2026-03-04T10:00:00Z"
    finally:
        first.close()
    (tmp_path / "closed.ics").write_text(ICS.format(""))  # the holiday is withdrawn
    clock.set("2026-03-03T10:30:00Z")
    second = start()
    try:
        [row] = second.get("/v1/tickets/T1").json()["rows"]
        assert (row["due_at"], row["state"]) == ("2026-03-03T10:00:00Z", "breached")
        due = second.get("/v1/due", params={"within": "0s"}).json()["rows"]
        assert [r["ticket_id"] for r in due] == ["T1"]
    finally:
        second.close()


def test_a_request_that_keeps_meeting_taken_ids_is_503_without_them_in_the_logs(
    svc: InProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After its retries, a POST whose event ids other processes keep
    committing raised the database's error, which quotes the id, into the
    server's log; it is a 503 to try again now."""
    import logging

    from sla.service import ingest

    class Taken(Exception):
        pass

    def conflicting(*args: object) -> None:
        raise Taken("duplicate key value: Key (event_id)=(secret-id) already exists")

    monkeypatch.setattr(ingest, "ingest", conflicting)
    monkeypatch.setattr(svc.service.db, "is_conflict", lambda exc: isinstance(exc, Taken))
    with caplog.at_level(logging.DEBUG):
        answer = post_raw(svc, orjson.dumps([created("T1", "2026-03-02T08:00:00Z", id="secret-id")]))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1", answer.text
    assert "secret-id" not in answer.text and "secret-id" not in caplog.text
