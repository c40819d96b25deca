"""Import benchmark: `sla import zendesk` against the read floor.

The export is a Zendesk incremental ticket event export with comment events
(`GET /api/v2/incremental/ticket_events?include=comment_events`; the shape of
the Zendesk reference, research notes section 1.2), saved as a user saves it:
one compact JSON page of up to 1,000 ticket events per file, the events in
time order across all tickets as the API returns them, beside pages of
users (for roles) and the satisfaction ratings as JSON Lines. It is made from
`sla generate` (cached under benchmarks/.data/): each generated ticket's
events at one instant become one ticket event (an audit) whose children are
`Create`, `Change` and `Comment` events.

The read floor is one process that orjson-parses every line of the same
files, nothing else (lines as `for line in open(...)` gives them). A second
floor reads each file in one go and splits it at newlines, as the importer
reads a small file: it is shown beside the first for comparison, and the
ratios are taken against the first. The ratio (import / floor) is measured in one run on
the same files, wall and CPU time alike (CPU: user + system of the child
processes), with the peak memory of the import (psutil): the summed RSS of
the process tree, polled every 20 ms, which counts the pages a forked worker
shares with its parent once per process, and the summed PSS (proportional
set size: shared pages split between their sharers), polled every 0.2 s.

    python benchmarks/bench_import.py                    # 100k tickets
    python benchmarks/bench_import.py --tickets 1000000  # the 1M-ticket export

The import runs twice: with `--jobs 1` (one process, the CPU figure that
matters per core) and with every core (the wall time a user sees), as
installed (compiled where `pip install` could compile, see docs/release.md;
the first lines say which). `--interpreted` adds both runs on the
interpreted modules (tests/engine_shim.py), for comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import psutil

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SLA = [sys.executable, "-m", "sla.cli"]
#: The same command with every compiled module bypassed (the interpreted importer).
SLA_INTERPRETED = [sys.executable, str(HERE.parent / "tests" / "engine_shim.py")]
PAGE = 1000  # ticket events per page: the export's per_page maximum
USERS_PAGE = 100
#: Every file of the export, in the order the importer reads them.
_EACH_FILE = (
    "import os, sys, orjson\n"
    "for root, dirs, files in os.walk(sys.argv[1]):\n"
    "    dirs.sort()\n"
    "    for name in sorted(files):\n"
)
FLOOR = [
    sys.executable,
    "-c",
    _EACH_FILE
    + "        for line in open(os.path.join(root, name), 'rb'):\n            orjson.loads(line)\n",
]
#: The same floor with each file read in one go and split at newlines (as
#: the importer reads a saved page): shown beside the floor, for comparison.
FLOOR_WHOLE = [
    sys.executable,
    "-c",
    _EACH_FILE
    + (
        "        with open(os.path.join(root, name), 'rb') as handle:\n"
        "            for line in handle.read().split(b'\\n'):\n"
        "                if line.strip():\n"
        "                    orjson.loads(line)\n"
    ),
]
VIA = {"email": "Mail", "web": "Web form", "chat": "Chat", "phone": "Voice", "api": "API"}
CHANNEL = {"phone": "voice"}  # Zendesk's via.channel for the generator's words, where they differ
STATUS = {"on_hold": "hold", "escalated": "open"}  # Zendesk has no "escalated" status
CUSTOM = {"tier": 360000000001, "region": 360000000002, "category": 360000000003}
SYSTEM_USER = -1


def _seconds(at: str) -> int:
    return int(datetime.fromisoformat(at).timestamp())


class Ids:
    """Zendesk ids for the generator's names: users, agents, groups."""

    def __init__(self) -> None:
        self.users: dict[str, int] = {}
        self.agents: dict[str, int] = {}
        self.groups: dict[str, int] = {}
        self.next_id = 900_000_000_000

    def user(self, name: str) -> int:
        return self.users.setdefault(name, 10_000_000 + len(self.users))

    def agent(self, name: str) -> int:
        return self.agents.setdefault(name, 1_000 + len(self.agents))

    def group(self, name: str) -> int:
        return self.groups.setdefault(name, 9_000 + len(self.groups))

    def new(self) -> int:
        self.next_id += 20
        return self.next_id


def _tickets(history: Path) -> Iterator[list[dict[str, object]]]:
    """The generated history's tickets, each a list of its events (grouped, in time order)."""
    current: list[dict[str, object]] = []
    with open(history, "rb") as handle:
        for line in handle:
            event = orjson.loads(line)
            if current and event["ticket_id"] != current[0]["ticket_id"]:
                yield current
                current = []
            current.append(event)
    if current:
        yield current


def ticket_events(events: list[dict[str, object]], ids: Ids) -> Iterator[dict[str, object]]:
    """One generated ticket as Zendesk incremental ticket events (one per instant)."""
    ticket = int(str(events[0]["ticket_id"]).lstrip("T"))
    fields = events[0]["fields"]
    assert isinstance(fields, dict)
    channel = str(fields.get("channel", "web"))
    requester = ids.user(str(fields.get("requester", "anonymous")))
    via_channel = CHANNEL.get(channel, channel)
    via_text = VIA.get(channel, channel.capitalize())
    status, assignee = "new", None
    start = 0
    while start < len(events):
        end = start
        while end < len(events) and events[end]["at"] == events[start]["at"]:
            end += 1
        at = str(events[start]["at"])
        audit_id = ids.new()
        children: list[dict[str, object]] = []
        updater: int = assignee or SYSTEM_USER
        for event in events[start:end]:
            kind = event["type"]
            child_id = audit_id + len(children) + 1
            if kind == "created":
                updater = requester
                assert isinstance(event["fields"], dict)
                made = {"status": "new", "type": event["fields"].get("type"), "requester_id": requester}
                if "priority" in event["fields"]:
                    made["priority"] = event["fields"]["priority"]
                for name, field_id in CUSTOM.items():
                    if name in event["fields"]:
                        made[str(field_id)] = event["fields"][name]
                for key, value in made.items():
                    children.append(
                        {
                            "id": child_id + len(children),
                            "via": via_text,
                            "via_reference_id": None,
                            key: value,
                            "event_type": "Create",
                        }
                    )
            elif kind == "message":
                author = event["author"]
                who = (
                    requester
                    if author == "customer"
                    else SYSTEM_USER
                    if author == "bot"
                    else assignee or ids.agent("triage")
                )
                if author != "bot":
                    updater = who
                body = str(event.get("body", "Thanks, looking into it."))
                children.append(
                    {
                        "id": child_id,
                        "via": {
                            "channel": "answer_bot" if author == "bot" else via_channel,
                            "source": {"from": {}, "to": {}, "rel": None},
                        },
                        "via_reference_id": None,
                        "type": "Comment",
                        "author_id": who,
                        "body": body,
                        "html_body": f'<div class="zd-comment"><p dir="auto">{body}</p></div>',
                        "public": event.get("public", True),
                        "attachments": [],
                        "audit_id": audit_id,
                        "created_at": at,
                        "event_type": "Comment",
                    }
                )
            elif kind == "status":
                new = STATUS.get(str(event["status"]), str(event["status"]))
                if new != status:
                    children.append(
                        {
                            "id": child_id,
                            "via": via_text,
                            "via_reference_id": None,
                            "status": new,
                            "previous_value": status,
                            "event_type": "Change",
                        }
                    )
                    status = new
            elif kind == "update":
                assert isinstance(event["fields"], dict)
                for name, value in event["fields"].items():
                    key, new_value = {
                        "group": ("group_id", ids.group(str(value))),
                        "assignee": ("assignee_id", ids.agent(str(value))),
                        "priority": ("priority", value),
                    }.get(name, (None, None))
                    if key is None:
                        continue
                    if key == "assignee_id":
                        assignee = int(str(new_value))
                    children.append(
                        {
                            "id": child_id + len(children),
                            "via": via_text,
                            "via_reference_id": None,
                            key: new_value,
                            "event_type": "Change",
                        }
                    )
        start = end
        if children:
            yield {
                "id": audit_id,
                "ticket_id": ticket,
                "timestamp": _seconds(at),
                "created_at": at,
                "updater_id": updater,
                "via": via_text,
                "system": {},
                "metadata": {},
                "event_type": "Audit",
                "child_events": children,
            }


def _ratings(events: list[dict[str, object]], ids: Ids) -> Iterator[dict[str, object]]:
    """The ticket's CSAT events as Zendesk satisfaction ratings (4-5 good, 1-2 bad)."""
    ticket = int(str(events[0]["ticket_id"]).lstrip("T"))
    for event in events:
        if event["type"] == "csat" and event["score"] != 3:
            score = "good" if float(str(event["score"])) >= 4 else "bad"
            yield {
                "id": ids.new(),
                "ticket_id": ticket,
                "score": score,
                "created_at": event["at"],
                "updated_at": event["at"],
            }


def convert(history: Path, folder: Path) -> None:
    """Write the Zendesk export of a generated history into ``folder``."""
    ids = Ids()
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "ticket_events").mkdir(parents=True)
    (folder / "users").mkdir()
    unsorted = folder / "ticket-events.unsorted"
    with open(unsorted, "wb") as events_out, open(folder / "satisfaction_ratings.jsonl", "wb") as ratings_out:
        for events in _tickets(history):
            for record in ticket_events(events, ids):
                events_out.write(b"%d\t" % record["timestamp"] + orjson.dumps(record) + b"\n")
            for rating in _ratings(events, ids):
                ratings_out.write(orjson.dumps(rating) + b"\n")
    ordered = folder / "ticket-events.sorted"
    subprocess.run(  # the export is in time order across tickets: sort on disk, stable
        [
            "sort",
            "-s",
            "-n",
            "-t",
            "\t",
            "-k1,1",
            "-S",
            "25%",
            "-T",
            str(folder),
            "-o",
            str(ordered),
            str(unsorted),
        ],
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    )
    unsorted.unlink()
    with open(ordered, "rb") as handle:
        page: list[bytes] = []
        number = 0
        for line in handle:
            page.append(line.split(b"\t", 1)[1].rstrip(b"\n"))
            if len(page) == PAGE:
                number += 1
                _write_page(folder, number, page, last=False)
                page = []
        _write_page(folder, number + 1, page, last=True)
    ordered.unlink()
    users = [{"id": i, "name": n, "role": "end-user"} for n, i in ids.users.items()]
    users += [{"id": i, "name": n, "role": "agent"} for n, i in ids.agents.items()]
    for start in range(0, len(users), USERS_PAGE):
        chunk = users[start : start + USERS_PAGE]
        more = start + USERS_PAGE < len(users)
        doc = {"users": chunk, "meta": {"has_more": more}, "links": {"next": None}}
        (folder / "users" / f"page-{start // USERS_PAGE + 1:06d}.json").write_bytes(orjson.dumps(doc))
    (folder / ".done").touch()


def _write_page(folder: Path, number: int, lines: list[bytes], last: bool) -> None:
    end_time = orjson.loads(lines[-1])["timestamp"] if lines else 0
    body = b'{"ticket_events":[' + b",".join(lines) + b"]"
    tail = {
        "next_page": f"https://example.zendesk.com/api/v2/incremental/ticket_events.json?start_time={end_time}",
        "count": len(lines),
        "end_time": end_time,
        "end_of_stream": last,
    }
    body += b"," + orjson.dumps(tail)[1:]
    (folder / "ticket_events" / f"page-{number:06d}.json").write_bytes(body)


def export(tickets: int) -> Path:
    """The cached Zendesk export of ``tickets`` generated tickets."""
    DATA.mkdir(exist_ok=True)
    history = DATA / f"history-{tickets}.jsonl"
    if not history.exists():
        subprocess.run(
            SLA + ["generate", "--tickets", str(tickets), "--seed", "1", "--output", str(history)], check=True
        )
    folder = DATA / f"zendesk-{tickets}"
    if not (folder / ".done").exists():
        started = time.perf_counter()
        convert(history, folder)
        print(f"made {folder} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return folder


#: The runs' environment: this one, with Python's bytecode cache on as in an
#: installed package (a sandbox that sets PYTHONDONTWRITEBYTECODE would have
#: every run compile the package's sources again, a start-up cost no user pays).
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _proportional(process: psutil.Process) -> int:
    """A process's proportional set size (its own pages, and its share of
    pages it shares, such as a forked worker's with its parent), else its RSS."""
    try:
        return int(process.memory_full_info().pss)
    except (AttributeError, psutil.AccessDenied):  # no PSS outside Linux
        return int(process.memory_info().rss)


def measure(argv: list[str]) -> tuple[float, float, int, int, str]:
    """Wall seconds, CPU seconds (user + system), peak summed RSS and peak
    summed PSS of the process tree (bytes), and standard error of a run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = psutil.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=RUN_ENV)
    peak = peak_pss = polls = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            if polls % 10 == 0:  # reading PSS walks every mapping: every 0.2 s
                peak_pss = max(peak_pss, sum(_proportional(p) for p in tree if p.is_running()))
        except psutil.Error:
            pass
        polls += 1
        time.sleep(0.02)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    err = process.stderr.read().decode() if process.stderr else ""
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    return wall, cpu, peak, peak_pss, err


def zendesk_available() -> str | None:
    """Why the Zendesk source cannot run, or None."""
    sys.path.insert(0, str(HERE.parent))
    from sla.errors import SlaError
    from sla.importers.registry import source_class

    try:
        source_class("zendesk")
    except SlaError as exc:
        return str(exc)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--tickets", type=int, default=100_000, help="tickets in the export (default 100,000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each side; the best is shown (default 1)"
    )
    parser.add_argument(
        "--interpreted", action="store_true", help="also run the import on the interpreted modules"
    )
    args = parser.parse_args()
    missing = zendesk_available()
    if missing is not None:
        print(f"skipped: {missing}")
        return
    folder = export(args.tickets)
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != ".done"]
    size = sum(p.stat().st_size for p in files)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    )
    print(f"export: {args.tickets:,} tickets, {len(files):,} files, {size / 2**20:,.0f} MB ({folder})")
    out = folder.parent / f"zendesk-{args.tickets}.events.jsonl"
    cores = os.cpu_count() or 1
    commands = {"": SLA, " (interpreted)": SLA_INTERPRETED} if args.interpreted else {"": SLA}
    runs = {"read floor": FLOOR + [str(folder)], "floor, files whole": FLOOR_WHOLE + [str(folder)]}
    for label, sla in commands.items():
        # Also caches the bytecode before the measured runs.
        version = subprocess.run([*sla, "--version"], env=RUN_ENV, capture_output=True, text=True, check=True)
        print(
            f"import{label}:", ", ".join(version.stdout.split("\n")[1:]).strip(", ")
        )  # engine: ..., importers: ...
        for jobs in sorted({1, cores}):
            argv = [*sla, "import", "zendesk", str(folder), "--output", str(out), "--jobs", str(jobs)]
            runs[f"import --jobs {jobs}{label}"] = argv
    best: dict[str, tuple[float, float, int, int, str]] = {}
    for _ in range(args.repeat):  # interleaved, so load changes hit both sides alike
        for name, argv in runs.items():
            result = measure(argv)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    floor_wall, floor_cpu = best["read floor"][:2]
    header = (
        f"{'run':<34} {'wall s':>8} {'cpu s':>8} {'x floor wall':>13} {'x floor cpu':>12} {'tickets/s':>10} "
        f"{'peak RSS MB':>12} {'peak PSS MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, (wall, cpu, peak, peak_pss, _) in best.items():
        print(
            f"{name:<34} {wall:>8.2f} {cpu:>8.2f} {wall / floor_wall:>13.1f} {cpu / floor_cpu:>12.1f} "
            f"{args.tickets / wall:>10,.0f} {peak / 2**20:>12.0f} {peak_pss / 2**20:>12.0f}"
        )
    print("import summary:", *best["import --jobs 1"][4].strip().splitlines()[-4:], sep="\n  ")


if __name__ == "__main__":
    main()
