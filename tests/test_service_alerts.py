"""Alerts in process, on a clock the test moves: which instants fire, what
is posted and signed, retries with back-off, giving up, and leases."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("fastapi")

from service_support import FakeClock, InProcess, Receiver, wait_until

import sla
from sla.service.settings import Settings

POLICY = """
policies:
  - name: all
    calendar: 24x7
    targets: {first_response: 1h}
    warnings: {at_percent: [50]}
"""
SECRET = "hook-secret"
MS = 1000


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-03-02T08:00:00Z")


def start(tmp_path: Path, clock: FakeClock, hooks: list[str], **options: object) -> InProcess:
    settings = Settings(
        sla.load_policies(POLICY),
        db_url=f"sqlite:///{tmp_path}/state.db",
        webhooks=tuple(hooks),
        webhook_secret=SECRET,
        clock=clock,
        poll_us=20 * MS,
        retry_initial_us=50 * MS,
        retry_max_us=200 * MS,
        **options,  # type: ignore[arg-type]
    )
    return InProcess(settings)


def post(svc: InProcess, *events: dict[str, object]) -> None:
    answer = svc.post("/v1/events", content=orjson.dumps(list(events)))
    assert answer.status_code == 200 and not answer.json()["rejected"], answer.text


def created(ticket: str, at: str) -> dict[str, object]:
    return {"ticket_id": ticket, "at": at, "type": "created", "fields": {}}


def reply(ticket: str, at: str) -> dict[str, object]:
    return {"ticket_id": ticket, "at": at, "type": "message", "author": "agent"}


def test_alerts_fire_when_the_clock_passes_their_instant(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    other = Receiver()
    svc = start(tmp_path, clock, [receiver.url, other.url])
    try:
        post(svc, created("T1", "2026-03-02T08:00:00Z"), created("T2", "2026-03-02T08:00:00Z"))
        clock.set("2026-03-02T08:29:59Z")
        svc.service.scheduler.wake()  # type: ignore[union-attr]
        post(svc, created("T0", "2026-03-02T08:29:00Z"))  # and a request wakes the scheduler
        assert receiver.alerts() == []
        clock.set("2026-03-02T08:30:00Z")
        wait_until(lambda: len(receiver.alerts()) == 2 and len(other.alerts()) == 2, 10, "the warnings")
        warning = receiver.alerts()[0]
        assert warning["type"] == "warning" and warning["at"] == "2026-03-02T08:30:00Z"
        assert warning["due_at"] == "2026-03-02T09:00:00Z" and warning["warning"] == "50%"
        assert set(warning) == {
            "id",
            "type",
            "ticket_id",
            "metric",
            "cycle",
            "policy",
            "at",
            "due_at",
            "warning",
        }
        # the signature is the HMAC of the exact body
        got = receiver.got[0]
        expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["X-SLA-Signature"] == expected
        # T2 answered: its breach never fires; T1's does, once
        post(svc, reply("T2", "2026-03-02T08:40:00Z"))
        clock.set("2026-03-02T09:00:01Z")
        wait_until(lambda: len(receiver.alerts()) == 4, 10, "T1's breach and T0's warning")
        clock.set("2026-03-02T10:00:00Z")
        wait_until(lambda: len(receiver.alerts()) == 5, 10, "T0's breach")
        breaches = [a for a in receiver.alerts() if a["type"] == "breach"]
        assert [(a["ticket_id"], a["at"]) for a in breaches] == [
            ("T1", "2026-03-02T09:00:00Z"),
            ("T0", "2026-03-02T09:29:00Z"),
        ]
        assert len({a["id"] for a in receiver.alerts()}) == 5
        assert sorted(a["id"] for a in other.alerts()) == sorted(a["id"] for a in receiver.alerts())
    finally:
        svc.close()
        other.close()


def test_an_alert_due_is_not_recalled_and_a_finished_history_sends_nothing(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    svc = start(tmp_path, clock, [receiver.url])
    try:
        # a history whose cycle ended: nothing, whatever its instants were
        clock.set("2026-03-02T12:00:00Z")
        post(svc, created("T1", "2026-03-02T08:00:00Z"), reply("T1", "2026-03-02T10:00:00Z"))
        # an open one: its passed warning and breach are sent now
        post(svc, created("T2", "2026-03-02T08:00:00Z"))
        wait_until(lambda: len(receiver.alerts()) == 2, 10, "T2's alerts")
        assert {a["ticket_id"] for a in receiver.alerts()} == {"T2"}
        # a late reply to T2 ends its cycle before the breach: what was sent stays sent
        post(svc, reply("T2", "2026-03-02T08:45:00Z"))
        rows = svc.get("/v1/tickets/T2").json()["rows"]
        assert rows[0]["state"] == "achieved"
        db = sqlite3.connect(f"{tmp_path}/state.db")
        assert db.execute("SELECT count(*) FROM alerts WHERE delivered_us IS NOT NULL").fetchone() == (2,)
    finally:
        svc.close()


def test_a_webhook_that_fails_twice_then_succeeds(tmp_path: Path, clock: FakeClock) -> None:
    receiver = Receiver(fail_first=2)
    svc = start(tmp_path, clock, [receiver.url])
    try:
        clock.set("2026-03-02T08:30:00Z")
        post(svc, created("T1", "2026-03-02T08:00:00Z"))
        wait_until(lambda: bool(receiver.attempts), 10, "a first attempt")
        (ident,) = receiver.attempts
        assert receiver.alerts() == []

        def delivered() -> bool:
            clock.now_us += 100 * MS  # the back-off waits for the clock
            return len(receiver.alerts()) == 1

        wait_until(delivered, 10, "the third attempt")
        assert receiver.attempts[ident] == 3 and receiver.alerts()[0]["id"] == ident
        db = sqlite3.connect(f"{tmp_path}/state.db")
        attempts, delivered = db.execute("SELECT attempts, delivered_us FROM alerts").fetchone()
        assert attempts == 3 and delivered is not None
        assert "1 delivered" not in svc.get("/").text
    finally:
        svc.close()
        receiver.close()


def test_a_webhook_that_never_answers_is_given_up_after_the_retry_period(
    tmp_path: Path, clock: FakeClock
) -> None:
    receiver = Receiver(fail_first=10**6)
    svc = start(tmp_path, clock, [receiver.url, "http://127.0.0.1:9/closed"], retry_for_us=500 * MS)
    try:
        clock.set("2026-03-02T08:30:00Z")
        post(svc, created("T1", "2026-03-02T08:00:00Z"))
        db = sqlite3.connect(f"{tmp_path}/state.db")

        def given_up() -> bool:
            clock.now_us += 100 * MS
            return db.execute("SELECT count(*) FROM alerts WHERE gave_up = 1").fetchone() == (2,)

        wait_until(given_up, 20, "giving up")
        errors = {row[0] for row in db.execute("SELECT last_error FROM alerts")}
        assert "HTTP 500" in errors and any(e and "Connect" in e for e in errors)
        assert "given up" in svc.get("/").text
    finally:
        svc.close()
        receiver.close()


def test_without_webhooks_alerts_are_kept_but_not_sent(tmp_path: Path, clock: FakeClock) -> None:
    svc = start(tmp_path, clock, [])
    try:
        assert svc.service.scheduler is None
        post(svc, created("T1", "2026-03-02T08:00:00Z"))
        db = sqlite3.connect(f"{tmp_path}/state.db")
        assert db.execute("SELECT count(*), min(webhook) FROM alerts").fetchone() == (2, "")
    finally:
        svc.close()


def test_alert_helpers() -> None:
    from sla.service.alerts import backoff_us, plan_alerts

    assert [backoff_us(n, 5, 300) for n in (1, 2, 7, 100)] == [5, 10, 300, 300]
    policies = sla.load_policies(POLICY)
    results = sla.evaluate_ticket(policies, [created("T1", "2026-03-02T08:00:00Z")], "2026-03-02T08:10:00Z")
    planned = plan_alerts(results)
    assert [orjson.loads(p.body)["type"] for p in planned] == ["warning", "breach"]
    answered = [created("T1", "2026-03-02T08:00:00Z"), reply("T1", "2026-03-02T08:01:00Z")]
    assert plan_alerts(sla.evaluate_ticket(policies, answered, "2026-03-02T08:10:00Z")) == []


def test_log_records_as_text_and_json() -> None:
    import json
    import logging

    from sla.service.logs import JsonFormatter, TextFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        import sys as _sys

        record = logging.LogRecord(
            "sla.serve", logging.ERROR, __file__, 1, "failed %s", ("x",), _sys.exc_info()
        )
    record.alert = "a-1"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed x" and entry["alert"] == "a-1" and entry["level"] == "error"
    assert entry["error"] == "ValueError: boom"
    line = TextFormatter().format(record)
    assert "failed x" in line and "alert=a-1" in line and "error=ValueError: boom" in line


def test_a_change_of_clock_rules_replays_the_stored_events(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    first = InProcess(Settings(sla.load_policies(POLICY), db_url=url, clock=clock))
    try:
        post(first, created("T1", "2026-03-02T08:00:00Z"))
        post(first, {"ticket_id": "T1", "at": "2026-03-02T08:10:00Z", "type": "status", "status": "parked"})
    finally:
        first.close()
    # "parked" becomes a done status: the stored tracker states no longer fit
    parked = sla.load_policies("done_statuses: [parked, solved]\n" + POLICY)
    second = InProcess(Settings(parked, db_url=url, clock=clock))
    try:
        [row] = second.get("/v1/tickets/T1", params={"now": "2026-03-02T09:00:00Z"}).json()["rows"]
        assert row["state"] == "cancelled" and row["ended_at"] == "2026-03-02T08:10:00Z"
        post(second, reply("T1", "2026-03-02T08:20:00Z"))
        clock.set("2026-03-02T09:00:00Z")
        assert second.get("/v1/tickets/T1").json()["rows"][0]["state"] == "cancelled"
    finally:
        second.close()
