"""Real components for the service tests: a throwaway PostgreSQL cluster, a
webhook receiver, and ``sla serve`` in a subprocess."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PG_BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"))]


#: A policy with a 3-second first response and a warning at half of it:
#: alerts within seconds of a ticket's creation.
FAST_POLICY = """\
policies:
  - name: fast
    calendar: 24x7
    targets: {first_response: 3s}
    warnings: {at_percent: [50]}
"""
#: `sla serve` options that make the scheduler look and retry quickly.
FAST_OPTIONS = ["--poll", "0.05s", "--retry-initial", "0.2s", "--retry-max", "1s"]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ------------------------------------------------------------- PostgreSQL
def pg_bin() -> Path | None:
    """Where initdb and pg_ctl are, None when PostgreSQL is not installed."""
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def _unprivileged_user() -> str | None:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


class Postgres:
    """A PostgreSQL cluster in a temporary folder on a loopback port (run as
    an unprivileged user when the tests run as root: PostgreSQL refuses root)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="sla-pg-"))
        self.data = self.base / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = _unprivileged_user()
            if self.user is None:
                raise RuntimeError("running as root and no postgres/nobody user to run PostgreSQL as")
            entry = pwd.getpwnam(self.user)
            os.chmod(self.base, 0o755)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120, cwd=self.base)
        if done.returncode != 0:
            log = self.base / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}{tail}")

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "sla",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "log"),
            "-w",
            "start",
        )

    def url(self, database: str = "postgres") -> str:
        """The connection URL of a database of the cluster."""
        return f"postgresql://sla@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


# ----------------------------------------------------------- the receiver
@dataclass
class Received:
    """One POST the receiver got."""

    when: float
    body: bytes
    headers: dict[str, str]

    @property
    def alert(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """A webhook receiver on a loopback port.  ``fail_first`` answers 500 to
    the first N attempts of each alert id; ``hang_first`` holds the first
    attempt of each id that many seconds, then answers 503."""

    fail_first: int = 0
    hang_first: float = 0.0
    got: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as webhook receivers behind a proxy do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ident = json.loads(body).get("id", "")
                with receiver.lock:
                    n = receiver.attempts[ident] = receiver.attempts.get(ident, 0) + 1
                    ok = n > receiver.fail_first and not (receiver.hang_first and n == 1)
                if receiver.hang_first and n == 1:
                    time.sleep(receiver.hang_first)
                with receiver.lock:
                    if ok:
                        receiver.got.append(Received(time.time(), body, dict(self.headers.items())))
                try:
                    self.send_response(200 if ok else 500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed while this attempt hung)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Listener(ThreadingHTTPServer):
            request_queue_size = 256  # many deliveries at once (the default, 5, drops connections)
            daemon_threads = True

        self.server = Listener(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def alerts(self) -> list[dict[str, object]]:
        """The alerts delivered (answered 200), in arrival order."""
        with self.lock:
            return [r.alert for r in self.got]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Trickle:
    """A webhook that answers 200 and then sends its body one byte every
    ``every`` seconds: no single read waits long, the whole answer does."""

    def __init__(self, every: float = 0.1, body_bytes: int = 10):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.every = every
        self.body_bytes = body_bytes
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            self.requests += 1
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.body_bytes)
                for _ in range(self.body_bytes):
                    time.sleep(self.every)
                    conn.sendall(b"x")
            except OSError:
                pass  # the sender gave up

    def close(self) -> None:
        self.sock.close()


# ------------------------------------------------------- sla serve process
class Server:
    """``sla serve`` started as a user starts it, on a free loopback port."""

    def __init__(self, policies: Path, db: str, *options: str, log: Path, token: str | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        argv = [sys.executable, "-m", "sla.cli", "serve", "--policies", str(policies), "--db", db]
        argv += ["--port", str(self.port), *options]
        if token:
            argv += ["--token", token]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.pop("COVERAGE_PROCESS_START", None)
        self.log = log
        self.handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(argv, stdout=self.handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.client = httpx.Client(base_url=self.url, timeout=30, headers=self._auth())
        wait_until(self._up, 30, f"sla serve on port {self.port} (log: {self.log_text()[-1500:]})")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"sla serve exited {self.process.returncode}: {self.log_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log_text(self) -> str:
        if not self.handle.closed:
            self.handle.flush()
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def post(self, events: list[dict[str, object]]) -> dict[str, object]:
        answer = self.client.post("/v1/events", json=events)
        assert answer.status_code == 200, answer.text
        data: dict[str, object] = answer.json()
        return data

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, and the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self._wait(timeout)

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        self.process.kill()
        self._wait(10)

    def _wait(self, timeout: float) -> int:
        try:
            status = self.process.wait(timeout)
        finally:
            self.client.close()
            self.handle.close()
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self._wait(10)


# ------------------------------------------------------ in-process service
class FakeClock:
    """A server clock the test moves (epoch microseconds)."""

    def __init__(self, text: str):
        from sla.timefmt import parse_instant

        self.now_us = parse_instant(text)

    def __call__(self) -> int:
        return self.now_us

    def set(self, text: str) -> None:
        from sla.timefmt import parse_instant

        self.now_us = parse_instant(text)


class InProcess:
    """The application on an event loop in a thread, its lifespan run as
    uvicorn runs it, and a synchronous client over ``httpx.ASGITransport``
    (so coverage sees the service's code)."""

    def __init__(self, settings: object):
        import asyncio

        from sla.service.app import create_app
        from sla.service.runtime import Service

        assert settings is not None
        self.service = Service(settings)  # type: ignore[arg-type]
        self.app = create_app(settings, self.service)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._lifespan = self.app.router.lifespan_context(self.app)
        self._call(self._lifespan.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://sla.test"
        )

    def _call(self, coroutine: object) -> object:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)  # type: ignore[arg-type]

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        response = self._call(self.client.request(method, url, **kwargs))  # type: ignore[arg-type]
        assert isinstance(response, httpx.Response)
        return response

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        try:
            self._call(self.client.aclose())
            self._call(self._lifespan.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


def generated_events(tickets: int, seed: int) -> list[dict[str, object]]:
    """``sla generate`` output, as event dicts."""
    done = subprocess.run(
        [sys.executable, "-m", "sla.cli", "generate", "--tickets", str(tickets), "--seed", str(seed)],
        capture_output=True,
        check=True,
        cwd=ROOT,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def evaluate_cli(
    policies: Path, events: list[dict[str, object]], now: str, folder: Path
) -> dict[str, list[bytes]]:
    """``sla evaluate --format jsonl`` over ``events`` (in this order) at
    ``now``: each ticket's lines, as bytes."""
    path = folder / "accepted.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sla.cli",
            "evaluate",
            "--policies",
            str(policies),
            "--events",
            str(path),
            "--now",
            now,
            "--format",
            "jsonl",
        ],
        capture_output=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    rows: dict[str, list[bytes]] = {}
    for line in done.stdout.splitlines():
        if line.strip():
            rows.setdefault(json.loads(line)["ticket_id"], []).append(line)
    return rows


def check_generated_history(service: InProcess, policies: Path, folder: Path, seed: int) -> None:
    """Post ``sla generate --tickets 50`` in shuffled batches, with retries,
    and check every ticket's answer is, byte for byte, the lines of ``sla
    evaluate --format jsonl`` over the accepted events (in acceptance order),
    at an instant inside the history and one after it; and ``/v1/due``."""
    import random

    import orjson

    from sla.timefmt import parse_instant

    events = generated_events(50, seed)
    for i, event in enumerate(events):
        event["id"] = f"g{i}"
    rng = random.Random(seed)
    shuffled = events[:]
    rng.shuffle(shuffled)
    accepted: list[dict[str, object]] = []
    for start in range(0, len(shuffled), 61):
        batch = shuffled[start : start + 61]
        answer = service.post("/v1/events", content=orjson.dumps(batch)).json()
        assert answer["rejected"] == [] and answer["accepted"] == len(batch)
        accepted += batch
        if start % 3 == 0:  # a retried request: all duplicates
            assert service.post("/v1/events", content=orjson.dumps(batch)).json()["duplicates"] == len(batch)
    tickets = list(dict.fromkeys(str(e["ticket_id"]) for e in events))
    for now in ("2026-02-01T12:00:00Z", "2026-04-01T00:00:00Z"):
        expected = evaluate_cli(policies, accepted, now, folder)
        for ticket in tickets:
            answer = service.get(f"/v1/tickets/{ticket}", params={"now": now})
            assert answer.status_code == 200
            prefix = b'{"ticket_id":' + orjson.dumps(ticket) + b',"rows":['
            assert answer.content == prefix + b",".join(expected.get(ticket, [])) + b"]}", ticket
        due = service.get("/v1/due", params={"within": "3d", "now": now}).json()
        lines = [row for ticket in expected.values() for row in ticket]
        want = [json.loads(r) for r in lines if json.loads(r)["ended_at"] is None and json.loads(r)["due_at"]]
        until = parse_instant(now) + 3 * 86_400_000_000
        want = [r for r in want if parse_instant(r["due_at"]) <= until]
        assert sorted(due["rows"], key=lambda r: (r["ticket_id"], r["metric"], r["cycle"])) == sorted(
            want, key=lambda r: (r["ticket_id"], r["metric"], r["cycle"])
        )
        assert [r["due_at"] for r in due["rows"]] == sorted(r["due_at"] for r in due["rows"])
