"""``sla serve`` as users run it: uvicorn in a subprocess on a loopback
port, a real webhook receiver, the real clock.  Alert timing, retries,
``kill -9`` and restart, SIGTERM, logs, and the command line's errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("uvicorn")

from service_support import FAST_OPTIONS, FAST_POLICY, ROOT, Receiver, Server, wait_until

POLICY = FAST_POLICY
FAST = FAST_OPTIONS


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def created(ticket: str, at: datetime) -> dict[str, object]:
    return {"ticket_id": ticket, "at": iso(at), "type": "created", "fields": {}, "id": f"{ticket}-c"}


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_alerts_arrive_on_time_and_retries_back_off(policies: Path, tmp_path: Path) -> None:
    receiver = Receiver(fail_first=2)
    server = Server(
        policies,
        f"sqlite:///{tmp_path}/s.db",
        "--webhook",
        receiver.url,
        *FAST,
        "--webhook-secret",
        "hush",
        "--log-format",
        "json",
        log=tmp_path / "log",
        token="tok",
    )
    try:
        start = datetime.now(UTC)
        assert server.post([created("T1", start)])["accepted"] == 1
        wait_until(lambda: len(receiver.alerts()) == 2, 15, "the warning and the breach")
        warning, breach = receiver.got
        # a failed attempt is retried within the back-off (0.2 s, then 0.4 s)
        assert warning.alert["type"] == "warning" and breach.alert["type"] == "breach"
        for got, offset in ((warning, 1.5), (breach, 3.0)):
            late = got.when - (start.timestamp() + offset)
            assert 0.5 <= late < 3.0, late  # after its instant and two back-offs, soon after
        assert receiver.attempts == {warning.alert["id"]: 3, breach.alert["id"]: 3}
        assert server.terminate() == 0
    finally:
        server.stop()
        receiver.close()
    text = server.log_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert {"serving", "alert delivered", "alert delivery failed", "stopped"} <= {
        r["message"] for r in records
    }
    assert "hush" not in text and "/hook" not in text and "Bearer" not in text and 'tok"' not in text


def test_kill_9_with_alerts_pending_loses_none(policies: Path, tmp_path: Path, receiver: Receiver) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    server = Server(policies, db, "--webhook", receiver.url, *FAST, log=tmp_path / "log")
    start = datetime.now(UTC)
    try:
        answer = server.post([created(f"T{i}", start + timedelta(milliseconds=100 * i)) for i in range(10)])
        assert answer["accepted"] == 10
        time.sleep(1.6)  # some warnings delivered, the rest pending
        server.kill()
        before = len(receiver.alerts())
        assert before < 20
        time.sleep(1.5)  # instants pass while nothing runs
    finally:
        server.stop()
    again = Server(policies, db, "--webhook", receiver.url, *FAST, log=tmp_path / "log2")
    try:
        wait_until(lambda: len({a["id"] for a in receiver.alerts()}) == 20, 15, "every alert")
        tickets = sorted((a["ticket_id"], a["type"]) for a in receiver.alerts())
        assert sorted(set(tickets)) == sorted((f"T{i}", t) for i in range(10) for t in ("breach", "warning"))
        assert again.terminate() == 0
    finally:
        again.stop()


def test_sigterm_lets_requests_finish(policies: Path, tmp_path: Path) -> None:
    """A request under way when SIGTERM arrives (its body still uploading)
    is answered in full and its events are stored; the process exits 0."""
    import threading

    db = f"sqlite:///{tmp_path}/s.db"
    server = Server(policies, db, log=tmp_path / "log")
    body = json.dumps([created(f"T{i}", datetime.now(UTC)) for i in range(200)]).encode()

    def slowly() -> Iterator[bytes]:
        for start in range(0, len(body), len(body) // 10 + 1):
            yield body[start : start + len(body) // 10 + 1]
            time.sleep(0.1)

    answers: list[httpx.Response] = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            sender = threading.Thread(
                target=lambda: answers.append(
                    client.post("/v1/events", content=slowly(), headers={"Content-Type": "application/json"})
                )
            )
            sender.start()
            time.sleep(0.35)
            status = server.terminate()
            sender.join(30)
        assert status == 0
        assert answers and answers[0].status_code == 200 and answers[0].json()["accepted"] == 200
    finally:
        server.stop()
    again = Server(policies, db, log=tmp_path / "log2")
    try:
        assert again.client.get("/v1/tickets/T199").status_code == 200
    finally:
        again.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--webhook", "ftp://files.test/x"], "--webhook: 'ftp://files.test/x' is not an http(s) URL"),
        (  # repeated, as section 15 allows: each value is checked
            ["--webhook", "http://hooks.test/a", "--webhook", "ftp://files.test/x"],
            "--webhook: 'ftp://files.test/x' is not an http(s) URL",
        ),
        (  # a host the alert client cannot encode: refused at start, not at every delivery
            ["--webhook", "http://xn--zz.test/hook"],
            "--webhook: 'http://xn--zz.test/hook' is not a usable URL",
        ),
        (["--db", "mysql://x"], "--db: expected sqlite:///PATH or postgresql://"),
        (["--lease", "5m"], "--lease: 5m is out of range"),
        (["--retry-max", "soon"], "--retry-max:"),
        (["--port", "70000"], "--port: 70000 is not a port"),
        (["--max-body", "10"], "--max-body: 10 is too small"),
        (["--max-events", "0"], "--max-events: 0 is too small"),
        (["--max-depth", "1"], "--max-depth: 1 is out of range"),
        (["--db", "postgresql://nobody@127.0.0.1:9/none"], "cannot connect to PostgreSQL"),
    ],
)
def test_usage_errors_name_the_option(
    policies: Path, tmp_path: Path, options: list[str], message: str
) -> None:
    import contextlib
    import io

    from sla.cli.app import main

    db = [] if "--db" in options else ["--db", f"sqlite:///{tmp_path}/s.db"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["serve", "--policies", str(policies), *db, *options])
    assert status == 2 and message in err.getvalue(), err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_a_second_process_on_one_sqlite_file_is_refused(policies: Path, tmp_path: Path) -> None:
    server = Server(policies, f"sqlite:///{tmp_path}/s.db", log=tmp_path / "log")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sla.cli",
                "serve",
                "--policies",
                str(policies),
                "--db",
                f"sqlite:///{tmp_path}/s.db",
                "--port",
                "0",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 2 and "another sla serve process uses" in done.stderr, done.stderr
    finally:
        server.stop()


def test_serve_in_this_process_until_sigterm(policies: Path, tmp_path: Path, receiver: Receiver) -> None:
    """The command itself (uvicorn in this process, JSON logs), stopped by
    SIGTERM as a service manager stops it."""
    import logging
    import os
    import signal
    import threading

    from service_support import free_port

    from sla.cli.app import main

    port = free_port()
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in ("sla.serve", "uvicorn", "uvicorn.error")
    }
    outcome: list[object] = []

    def drive() -> None:
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until(lambda: _healthy(url), 30, "the server")
            answer = httpx.post(
                f"{url}/v1/events", json=[created("T1", datetime.now(UTC) - timedelta(seconds=5))]
            )
            outcome.append(answer.json())
            wait_until(lambda: len(receiver.alerts()) == 2, 10, "the alerts")
        except BaseException as exc:  # reported by the main thread
            outcome.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        status = main(
            [
                "serve",
                "--policies",
                str(policies),
                "--db",
                f"sqlite:///{tmp_path}/s.db",
                "--port",
                str(port),
                "--webhook",
                receiver.url,
                "--log-format",
                "json",
                "--poll",
                "0.05s",
            ]
        )
    finally:
        driver.join(30)
        logging.getLogger("uvicorn.access").disabled = False
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
    assert status == 0
    assert outcome and outcome[0] == {"accepted": 1, "duplicates": 0, "rejected": []}, outcome


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
