"""`sla serve` speed, as ratios to the batch engine on the same events, same run.

What it measures, on one history from ``sla generate --tickets N --seed 1``
(events of each ticket together and in time order, as a helpdesk sends them):

* **batch**: ``sla evaluate --jobs 1 --format jsonl`` over the whole file
  (and with the default ``--jobs``): events per second, wall and CPU;
* **ingest**: the same events POSTed as JSON arrays of 500 to ``sla serve``
  by ``--clients`` threads, on SQLite, and on PostgreSQL with one and with
  two server processes (the clients spread over them): events per second
  (wall), the servers' CPU seconds per 1,000 events, and the ratio to the
  batch engine's events per second;
* **reads under load**: p50/p99 latency of ``GET /v1/tickets/{id}`` (a ticket
  already posted, at the server's clock) from one more thread while the
  ingest runs;
* **alerts**: ``--alert-tickets`` tickets whose warning and breach are due
  at once, posted in one go; alerts per second from the POST to the last
  delivery to a local receiver (``http.server`` on a thread pool).

PostgreSQL comes from ``--pg-url`` (a database the benchmark may fill), else
a throwaway cluster is started when ``initdb`` and ``pg_ctl`` are installed
(as the tests do), else those runs are skipped.  Run it as::

    .venv/bin/python benchmarks/bench_serve.py --tickets 4000

It prints a markdown section for docs/performance.md and exits non-zero
when SQLite ingest is below a quarter of the single-process batch speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from service_support import Postgres, Receiver, Server, pg_bin, wait_until  # noqa: E402

POLICY = ROOT / "policies" / "ecommerce.yaml"
ALERT_POLICY = """\
policies:
  - name: fast
    calendar: 24x7
    targets: {first_response: 1m}
    warnings: {at_percent: [50]}
"""
BATCH = 500


def run_batch(events: Path, jobs: int | None, now: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``sla evaluate`` over the file."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    argv = [sys.executable, "-m", "sla.cli", "evaluate", "--policies", str(POLICY), "--events", str(events)]
    argv += ["--now", now, "--format", "jsonl", "--output", os.devnull]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    subprocess.run(argv, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cpu_seconds(servers: list[Server]) -> float:
    total = 0.0
    for server in servers:
        times = psutil.Process(server.process.pid).cpu_times()
        total += times.user + times.system
    return total


def ingest(servers: list[Server], bodies: list[bytes], tickets: list[str], clients: int) -> dict[str, float]:
    """POST every body (clients spread over the servers) while one more
    thread reads tickets; wall seconds, server CPU seconds, read latencies."""
    work = list(enumerate(bodies))
    lock = threading.Lock()
    posted: list[str] = []
    failures: list[str] = []
    done = threading.Event()

    def client(number: int) -> None:
        server = servers[number % len(servers)]
        with httpx.Client(base_url=server.url, timeout=120) as http:
            while True:
                with lock:
                    if not work:
                        return
                    index, body = work.pop(0)
                answer = http.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
                if answer.status_code != 200 or answer.json()["rejected"]:
                    failures.append(answer.text[:300])
                with lock:
                    posted.extend(tickets[index * BATCH : (index + 1) * BATCH : 50])

    latencies: list[float] = []

    def reader() -> None:
        with httpx.Client(base_url=servers[0].url, timeout=60) as http:
            i = 0
            while not done.is_set():
                with lock:
                    ticket = posted[(i * 7919) % len(posted)] if posted else None
                if ticket is None:
                    time.sleep(0.005)
                    continue
                start = time.perf_counter()
                answer = http.get(f"/v1/tickets/{ticket}")
                latencies.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text
                i += 1
                time.sleep(0.002)

    cpu_before = cpu_seconds(servers)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    read = threading.Thread(target=reader)
    start = time.perf_counter()
    read.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    done.set()
    read.join()
    if failures:
        raise SystemExit(f"ingest failed: {failures[:3]}")
    latencies.sort()
    return {
        "wall": wall,
        "cpu": cpu_seconds(servers) - cpu_before,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if len(latencies) > 100 else float("nan"),
        "reads": len(latencies),
    }


def alerts(db: str, folder: Path, count: int) -> dict[str, float]:
    """Alerts per second: ``count`` tickets whose two alerts are due at once."""
    policy = folder / "alerts.yaml"
    policy.write_text(ALERT_POLICY)
    receiver = Receiver()
    server = Server(policy, db, "--webhook", receiver.url, "--poll", "0.05s", log=folder / "alerts.log")
    try:
        at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        events = [{"ticket_id": f"A{i}", "at": at, "type": "created", "fields": {}} for i in range(count)]
        start = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for i in range(0, count, BATCH):
                assert http.post("/v1/events", json=events[i : i + BATCH]).status_code == 200
        wait_until(lambda: len(receiver.got) >= 2 * count, 600, "every alert", step=0.01)
        wall = time.perf_counter() - start
        server.terminate()
    finally:
        server.stop()
        receiver.close()
    return {"alerts": 2 * count, "wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--alert-tickets", type=int, default=1000)
    parser.add_argument(
        "--pg-url", help="a PostgreSQL server URL (without the database); default: a throwaway one"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="sla-bench-serve-"))
    events_path = folder / "events.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sla.cli",
            "generate",
            "--tickets",
            str(args.tickets),
            "--seed",
            "1",
            "--output",
            str(events_path),
        ],
        check=True,
        cwd=ROOT,
    )
    lines = events_path.read_bytes().splitlines()
    n_events = len(lines)
    tickets = [json.loads(line)["ticket_id"] for line in lines]
    bodies = [b"[" + b",".join(lines[i : i + BATCH]) + b"]" for i in range(0, n_events, BATCH)]
    now = "2026-04-15T00:00:00Z"

    results: list[tuple[str, float, float]] = []  # (run, wall, cpu)
    batch1 = min((run_batch(events_path, 1, now) for _ in range(3)), key=lambda r: r[0])
    batch_default = min((run_batch(events_path, None, now) for _ in range(3)), key=lambda r: r[0])
    base_eps = n_events / batch1[0]

    pg: Postgres | None = None
    pg_server = args.pg_url
    if pg_server is None and pg_bin() is not None:
        pg = Postgres(pg_bin())  # type: ignore[arg-type]
        pg.start()
        pg_server = pg.url("postgres").rsplit("/", 1)[0]

    def new_pg_db() -> str:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{pg_server}/{name}"

    runs: list[tuple[str, list[str]]] = [("SQLite, 1 process", [f"sqlite:///{folder}/bench.db"])]
    if pg_server:
        runs.append(("PostgreSQL, 1 process", [new_pg_db()]))
        db2 = new_pg_db()
        runs.append(("PostgreSQL, 2 processes", [db2, db2]))
    ingest_rows = []
    try:
        for label, dbs in runs:
            servers = [Server(POLICY, db, log=folder / f"{label[:6]}{i}.log") for i, db in enumerate(dbs)]
            try:
                figures = ingest(servers, bodies, tickets, args.clients)
            finally:
                for server in servers:
                    server.terminate()
                    server.stop()
            ingest_rows.append((label, figures))
            results.append((label, figures["wall"], figures["cpu"]))
        alert_rows = [("SQLite", alerts(f"sqlite:///{folder}/alerts.db", folder, args.alert_tickets))]
        if pg_server:
            alert_rows.append(("PostgreSQL", alerts(new_pg_db(), folder, args.alert_tickets)))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)

    cpu_info = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_info = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    print(f"## The service: `sla serve` ({datetime.now(UTC):%Y-%m-%d})\n")
    print(
        f"Measured with `benchmarks/bench_serve.py --tickets {args.tickets} --clients {args.clients} "
        f"--alert-tickets {args.alert_tickets}` on {cpu_info}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"CPython {platform.python_version()}: {args.tickets:,} generated tickets, {n_events:,} events "
        f"(`sla generate --seed 1`), policy `policies/ecommerce.yaml`, POSTed as JSON arrays of {BATCH} by "
        f"{args.clients} client threads on the same machine (plus one thread reading tickets), SQLite "
        "with every commit synced (`synchronous=FULL`, WAL), PostgreSQL 15 (a throwaway cluster, "
        "`fsync=off`). Ratios are to `sla evaluate --jobs 1` over the same file in the same run (its "
        "figures include its start-up, about half a second); the CPU columns count the server processes "
        "only (not the clients, the reader or PostgreSQL).\n"
    )
    print(
        "| run | events/s (wall) | x batch (wall) | CPU s / 1k events | x batch (CPU) | GET p50 ms | GET p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    base_cpu = batch1[1] / n_events * 1000
    print(f"| batch: `sla evaluate --jobs 1` | {base_eps:,.0f} | 1.00 | {base_cpu:.3f} | 1.00 | | |")
    default_cpu = batch_default[1] / n_events * 1000
    print(
        f"| batch: `sla evaluate` (all cores) | {n_events / batch_default[0]:,.0f} | "
        f"{batch1[0] / batch_default[0]:.2f} | {default_cpu:.3f} | {base_cpu / default_cpu:.2f} | | |"
    )
    for label, f in ingest_rows:
        eps = n_events / f["wall"]
        cpu = f["cpu"] / n_events * 1000
        print(
            f"| serve ingest: {label} | {eps:,.0f} | {eps / base_eps:.2f} | {cpu:.3f} | {base_cpu / cpu:.2f} "
            f"| {f['p50']:.1f} | {f['p99']:.1f} |"
        )
    print()
    print("| alerts | delivered | seconds | alerts/s |")
    print("|---|---:|---:|---:|")
    for label, a in alert_rows:
        print(f"| {label} | {a['alerts']:,.0f} | {a['wall']:.2f} | {a['alerts'] / a['wall']:,.0f} |")
    sqlite_ratio = n_events / ingest_rows[0][1]["wall"] / base_eps
    print(f"\nSQLite ingest at {sqlite_ratio:.2f}x the single-process batch speed (target: at least 0.25x).")
    return 0 if sqlite_ratio >= 0.25 else 1


if __name__ == "__main__":
    sys.exit(main())
