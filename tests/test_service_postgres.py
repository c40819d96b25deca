"""``sla serve`` on PostgreSQL: a throwaway cluster (``initdb`` into a temp
folder, ``pg_ctl`` on a loopback port, as an unprivileged user when the
tests run as root), the same answers as on SQLite, and several processes
sharing one database: every alert delivered, none twice, and a killed
process's alerts taken over."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("psycopg")
pytest.importorskip("uvicorn")

from service_support import (
    FAST_OPTIONS,
    FAST_POLICY,
    ROOT,
    FakeClock,
    InProcess,
    Postgres,
    Receiver,
    Server,
    check_generated_history,
    pg_bin,
    wait_until,
)

import sla
from sla.service.settings import Settings

POLICY = FAST_POLICY
FAST = FAST_OPTIONS


@pytest.fixture(scope="module")
def cluster() -> Iterator[Postgres]:
    folder = pg_bin()
    if folder is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    pg = Postgres(folder)
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture
def db_url(cluster: Postgres) -> str:
    return cluster.create_database(f"sla_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(POLICY)
    return path


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def created(ticket: str, at: datetime | str) -> dict[str, object]:
    when = at if isinstance(at, str) else iso(at)
    return {"ticket_id": ticket, "at": when, "type": "created", "fields": {}, "id": f"{ticket}-c"}


def test_shuffled_batches_equal_sla_evaluate_on_postgresql(db_url: str, tmp_path: Path) -> None:
    policies = ROOT / "policies" / "ecommerce.yaml"
    clock = FakeClock("2026-04-01T00:00:00Z")
    service = InProcess(Settings(sla.load_policies(policies), db_url=db_url, clock=clock))
    try:
        assert service.get("/healthz").json()["database"] == "postgresql"
        check_generated_history(service, policies, tmp_path, seed=5)
        page = service.get("/")
        assert page.status_code == 200 and "open cycles" in page.text
    finally:
        service.close()


def test_two_schedulers_share_the_alerts_in_process(db_url: str, policies: Path) -> None:
    clock = FakeClock("2026-03-02T08:00:00Z")
    receiver = Receiver()
    settings = Settings(
        sla.load_policies(policies),
        db_url=db_url,
        webhooks=(receiver.url,),
        clock=clock,
        poll_us=20_000,
        claim_batch=3,
    )
    one, two = InProcess(settings), InProcess(settings)
    try:
        events = [created(f"T{i}", "2026-03-02T08:00:00Z") for i in range(30)]
        for i in range(0, 30, 5):  # to both, and retried on the other
            assert (one if i % 2 else two).post(
                "/v1/events", content=orjson.dumps(events[i : i + 5])
            ).status_code == 200
            (two if i % 2 else one).post("/v1/events", content=orjson.dumps(events[i : i + 5]))
        clock.set("2026-03-02T08:00:05Z")
        wait_until(lambda: len(receiver.alerts()) >= 60, 20, "60 alerts")
        time.sleep(0.3)
        counts = Counter(a["id"] for a in receiver.alerts())
        assert len(counts) == 60 and set(counts.values()) == {1}
    finally:
        one.close()
        two.close()
        receiver.close()


def test_two_server_processes_deliver_every_alert_once(db_url: str, policies: Path, tmp_path: Path) -> None:
    receiver = Receiver()
    servers = [
        Server(policies, db_url, "--webhook", receiver.url, *FAST, log=tmp_path / f"log{i}") for i in range(2)
    ]
    try:
        start = datetime.now(UTC)
        for i in range(20):
            answer = servers[i % 2].post([created(f"T{i}", start + timedelta(milliseconds=50 * i))])
            assert answer["accepted"] == 1
        wait_until(lambda: len(receiver.alerts()) >= 40, 20, "40 alerts")
        time.sleep(0.5)
        counts = Counter(a["id"] for a in receiver.alerts())
        assert len(counts) == 40 and set(counts.values()) == {1}, counts
        # both processes answer for every ticket
        for server in servers:
            assert server.client.get("/v1/tickets/T3").json()["rows"][0]["state"] == "breached"
        assert [s.terminate() for s in servers] == [0, 0]
    finally:
        for server in servers:
            server.stop()
        receiver.close()


def test_a_killed_process_alerts_are_taken_over(db_url: str, policies: Path, tmp_path: Path) -> None:
    # Every first attempt hangs (then fails): the first process is killed
    # while it holds claims, which the other takes over once the lease ends.
    receiver = Receiver(hang_first=3.0)
    options = ["--webhook", receiver.url, *FAST, "--lease", "2s"]
    first = Server(policies, db_url, *options, log=tmp_path / "log1")
    second = Server(policies, db_url, *options, log=tmp_path / "log2")
    try:
        start = datetime.now(UTC)
        first.post([created(f"T{i}", start) for i in range(6)])
        wait_until(lambda: len(receiver.attempts) >= 6, 10, "the first attempts")  # the warnings, claimed
        first.kill()
        killed = time.monotonic()
        wait_until(lambda: len({a["id"] for a in receiver.alerts()}) == 12, 30, "every alert after the kill")
        assert time.monotonic() - killed < 30
        assert second.terminate() == 0
    finally:
        first.stop()
        second.stop()
        receiver.close()


def test_an_id_committed_meanwhile_by_another_process_is_a_duplicate(db_url: str, policies: Path) -> None:
    """Two processes given one event id at once, for two tickets: the one
    that commits second finds the id taken at its insert, runs the request
    again, and counts the event as a duplicate (not a 500)."""
    import threading

    import psycopg

    service = InProcess(
        Settings(sla.load_policies(policies), db_url=db_url, clock=FakeClock("2026-03-02T09:00:00Z"))
    )
    other = psycopg.connect(db_url)  # the other process, part way through its request
    try:
        other.execute(
            "INSERT INTO events (ticket_id, event_id, at_us, created, body) VALUES ('T1', 'shared', 0, 1, '{}')"
        )
        answers: list[dict[str, object]] = []
        event = {**created("T2", "2026-03-02T08:00:00Z"), "id": "shared"}
        posting = threading.Thread(
            target=lambda: answers.append(service.post("/v1/events", content=orjson.dumps([event])).json())
        )
        posting.start()
        time.sleep(0.5)  # the post waits on the other transaction's row
        assert not answers
        other.commit()
        posting.join(30)
        assert answers == [{"accepted": 0, "duplicates": 1, "rejected": []}]
        assert service.get("/v1/tickets/T2").status_code == 404  # nothing of it stored
    finally:
        other.close()
        service.close()


def test_a_nul_in_an_id_is_rejected_alone_on_postgresql(db_url: str, policies: Path) -> None:
    """PostgreSQL's text cannot hold NUL: such an id failed the whole
    request with a 500, losing the valid events of its body."""
    service = InProcess(
        Settings(sla.load_policies(policies), db_url=db_url, clock=FakeClock("2026-03-02T09:00:00Z"))
    )
    try:
        body = [
            created("good", "2026-03-02T08:00:00Z"),
            created("a\u0000b", "2026-03-02T08:00:00Z"),
            {**created("other", "2026-03-02T08:00:00Z"), "id": "e\u00001"},
        ]
        answer = service.post("/v1/events", content=orjson.dumps(body))
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == 1
        assert [r["index"] for r in answer.json()["rejected"]] == [1, 2]
        assert service.get("/v1/tickets/good").status_code == 200
    finally:
        service.close()
