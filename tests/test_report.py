"""`sla report` (SEMANTICS.md sections 7 and 13).

The random-history tests recompute every figure of the JSON output with
plain code written from the spec: the cycles come from ``sla evaluate`` (the
engine's own contract, tested elsewhere); grouping, counting, percentiles and
every ticket figure are recomputed here from the raw events, without touching
``sla.report``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla.cli.app import main

POLICY = """\
calendars:
  office:
    timezone: Europe/Berlin
    hours:
      mon-fri: ["09:00-17:00"]
policies:
  - name: social
    match: {channel: [twitter, facebook]}
    calendar: 24x7
    targets:
      first_response: 1h
      next_response: 30m
      resolution: {urgent: 4h, default: 1d}
  - name: standard
    match: {channel: [email, chat, phone]}
    calendar: office
    targets:
      first_response: {urgent: 1h, high: 2h, default: 8h}
      next_response: 4h
      resolution: {default: {within: 3d, hours: calendar}}
      requester_wait: 16h
      agent_work: {urgent: 4h}
"""
POLICY_MATCH = [("social", ["twitter", "facebook"]), ("standard", ["email", "chat", "phone"])]
DONE = {"solved", "closed"}
SIMPLE_POLICY = """\
policies:
  - name: all
    targets:
      first_response: 1h
      next_response: 1h
      resolution: 1d
      requester_wait: 1d
"""


# ------------------------------------------------------------- helpers
def ts(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return ts(T0 + timedelta(minutes=minutes))


def ev(tid, minutes, type_, **kw):
    return {
        "ticket_id": tid,
        "at": at(minutes) if not isinstance(minutes, str) else minutes,
        "type": type_,
        **kw,
    }


def run(
    tmp_path: Path,
    events,
    *args,
    policy: str = SIMPLE_POLICY,
    now: str | None = None,
    fmt: str = "json",
    expect: int | None = None,
):
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(policy)
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    out = tmp_path / f"report.{fmt}"
    argv = [
        "report",
        "--policies",
        str(policy_file),
        "--events",
        str(events_file),
        "--format",
        fmt,
        "--output",
        str(out),
        *args,
    ]
    if now is not None:
        argv += ["--now", now]
    status = main(argv)
    if expect is not None:
        assert status == expect
    if fmt == "parquet":
        return out
    text = out.read_text()
    return json.loads(text) if fmt == "json" else text


def one(rows, **match):
    found = [
        r
        for r in rows
        if all((r["group"].get(k[2:]) if k.startswith("g_") else r.get(k)) == v for k, v in match.items())
    ]
    assert len(found) == 1, (match, rows)
    return found[0]


# ------------------------------------------------ random history generator
CHANNELS = ["email", "chat", "phone", "twitter", "facebook", "web"]
PRIORITIES = ["low", "normal", "high", "urgent"]
STATUSES = ["new", "open", "pending", "on_hold", "solved", "closed"]
OFFSETS = [
    UTC,
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
]
GEN_START = datetime(2026, 2, 23, tzinfo=UTC)
GEN_NOW = "2026-03-09T12:00:00Z"


def random_history(seed: int, tickets: int = 250, extras: bool = True) -> list[dict]:
    """A shuffled random history of ``tickets`` tickets (about 3% rejected).

    With ``extras`` (section 13), a second random stream adds ``time_spent``
    and ``sentiment`` (null too), tickets created ``closed``, and a few
    tickets rejected for a bad value; the events of the first stream are the
    same either way.
    """
    rng = random.Random(seed)
    extra = random.Random(seed * 7919 + 13) if extras else None
    lines: list[dict] = []
    for n in range(tickets):
        tid = f"T{n}"
        t = GEN_START + timedelta(minutes=rng.randrange(0, 15 * 24 * 60))  # runs past now
        fields = {}
        if rng.random() < 0.9:
            fields["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.85:
            fields["priority"] = rng.choice(PRIORITIES)
        if rng.random() < 0.8:
            fields["requester"] = f"user{rng.randrange(40)}"
        created = {"ticket_id": tid, "at": t, "type": "created", "fields": fields}
        r = rng.random()
        if r < 0.05:
            created["status"] = "solved"
        elif r < 0.2:
            created["status"] = "open"
        if extra is not None and extra.random() < 0.04:
            created["status"] = "closed"  # created done: opens no wait
        ticket = [created]
        for _ in range(rng.randrange(0, 14)):
            t = t + (timedelta(0) if rng.random() < 0.15 else timedelta(minutes=rng.expovariate(1 / 240)))
            kind = rng.choices(["message", "status", "update", "csat"], [6, 3, 1.2, 0.8])[0]
            e = {"ticket_id": tid, "at": t, "type": kind}
            if kind == "message":
                e["author"] = rng.choices(["customer", "agent", "bot"], [4, 4, 1])[0]
                if rng.random() < 0.2:
                    e["public"] = False
            elif kind == "status":
                e["status"] = rng.choice(STATUSES)
            elif kind == "update":
                key = rng.choice(["channel", "channel", "priority", "requester"])
                value = {
                    "channel": lambda: rng.choice(CHANNELS + [None]),
                    "priority": lambda: rng.choice(PRIORITIES),
                    "requester": lambda: f"user{rng.randrange(40)}",
                }[key]()
                e["fields"] = {key: value}
            else:
                e["score"] = rng.choice([1, 2, 3, 4, 5, 5, 4.5, 3.5])
            ticket.append(e)
        if extra is not None:
            add_extras(extra, ticket)
        if rng.random() < 0.03:  # rejected: an event before the created one
            ticket.append(
                {
                    "ticket_id": tid,
                    "at": created["at"] - timedelta(hours=1),
                    "type": "message",
                    "author": "customer",
                }
            )
        lines += ticket
    rng.shuffle(lines)  # input order matters only between events at the same instant
    for e in lines:
        e["at"] = e["at"].astimezone(rng.choice(OFFSETS)).isoformat()
    return lines


def add_extras(rng: random.Random, ticket: list[dict]) -> None:
    """Section 13's numbers on a ticket's events: ``time_spent`` on any event,
    ``sentiment`` on messages (null now and then), more bot messages, and
    now and then a value that rejects the ticket."""
    for e in ticket:
        if e["type"] == "message" and e["author"] != "bot" and rng.random() < 0.15:
            e["author"] = "bot"
        if rng.random() < 0.3:
            e["time_spent"] = rng.choice([0, 30, 60, 90.5, 300, 1200, 0.25, None])
        if e["type"] == "message" and rng.random() < 0.5:
            e["sentiment"] = rng.choice([-1, 1, 0, None, rng.uniform(-1, 1), round(rng.uniform(-1, 1), 2)])
    if rng.random() < 0.02:
        e = rng.choice(ticket)
        bad = [("time_spent", -1), ("time_spent", True), ("time_spent", "60"), ("sentiment", 1.5)]
        if e["type"] != "message":
            bad.append(("sentiment", 0.5))
        key, value = rng.choice(bad)
        e[key] = value


# ------------------------------------------ the independent recomputation
def us(text: str) -> int:
    return (
        datetime.fromisoformat(text.replace("Z", "+00:00")) - datetime(1970, 1, 1, tzinfo=UTC)
    ) // timedelta(microseconds=1)


def is_number(value) -> bool:
    """A finite JSON number that is not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def bad_extras(e: dict) -> bool:
    """Section 13: time_spent a finite number >= 0, sentiment one in [-1, 1] on
    a message only; null is absent."""
    spent, mood = e.get("time_spent"), e.get("sentiment")
    if spent is not None and not (is_number(spent) and spent >= 0):
        return True
    return mood is not None and not (e["type"] == "message" and is_number(mood) and -1 <= mood <= 1)


def tickets_of(lines: list[dict]) -> tuple[dict[str, list[tuple[int, int, dict]]], int]:
    """Accepted tickets' events in processing order (at, created first, input order); rejected count."""
    raw: dict[str, list] = defaultdict(list)
    for i, e in enumerate(lines):
        raw[e["ticket_id"]].append((us(e["at"]), 0 if e["type"] == "created" else 1, i, e))
    accepted, rejected = {}, 0
    for tid, events in raw.items():
        created = [x for x in events if x[3]["type"] == "created"]
        if (
            len(created) != 1
            or any(x[0] < created[0][0] for x in events)
            or any(bad_extras(x[3]) for x in events)
        ):
            rejected += 1
            continue
        accepted[tid] = sorted(events, key=lambda x: x[:3])
    return accepted, rejected


def attrs_at(events, t: int) -> dict:
    attrs: dict = {}
    for at_us, _, _, e in events:
        if at_us > t:
            break
        if e["type"] in ("created", "update"):
            attrs.update(e["fields"])
    return attrs


def status_at(events, t: int) -> str:
    status = None
    for at_us, _, _, e in events:
        if at_us > t:
            break
        if e["type"] == "created":
            status = e.get("status", "new")
        elif e["type"] == "status":
            status = e["status"]
    return status


def policy_of(attrs: dict) -> str | None:
    for name, channels in POLICY_MATCH:
        if "channel" in attrs and attrs["channel"] in channels:
            return name
    return None


def local_period(t: int, period: str, tz: str) -> str:
    local = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=t)
    local = local.astimezone(ZoneInfo(tz))
    if period == "day":
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    iso = local.date().isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


def dist(values: list[float]):
    if not values:
        return None
    if len(values) == 1:
        return {"mean": values[0], "p50": values[0], "p90": values[0]}
    q = statistics.quantiles(values, n=10, method="inclusive")
    return {"mean": sum(values) / len(values), "p50": q[4], "p90": q[8]}


def share(a: int, b: int):
    return a / b if b else None


def expected_report(lines, rows, now: str, by: list[str], period: str | None, tz: str) -> dict:
    now_us = us(now)
    tickets, rejected = tickets_of(lines)

    def group(attrs: dict, policy, t: int) -> dict:
        g = {k: (policy if k == "policy" else attrs.get(k)) for k in by}
        if period:
            g["period"] = local_period(t, period, tz)
        return g

    sla: dict = {}
    for row in rows:
        events = tickets[row["ticket_id"]]
        end = us(row["ended_at"]) if row["ended_at"] else now_us
        g = group(attrs_at(events, end), row["policy"], us(row["started_at"]))
        key = (json.dumps(g, sort_keys=True), row["metric"])
        acc = sla.setdefault(key, {"group": g, "metric": row["metric"], "states": [], "elapsed": []})
        acc["states"].append(row["state"])
        if row["ended_at"] and row["state"] in ("achieved", "breached"):
            acc["elapsed"].append(row["elapsed_seconds"])
    sla_out = []
    for acc in sla.values():
        st = acc["states"]
        a, b = st.count("achieved"), st.count("breached")
        sla_out.append(
            {
                "group": acc["group"],
                "metric": acc["metric"],
                "cycles": len(st),
                "achieved": a,
                "breached": b,
                "cancelled": st.count("cancelled"),
                "running": st.count("running"),
                "paused": st.count("paused"),
                "compliance": share(a, a + b),
                "elapsed_seconds": dist(acc["elapsed"]),
            }
        )

    kpis: dict = {}
    count = 0
    for _tid, events in tickets.items():
        created_at = events[0][0]
        if created_at > now_us:
            continue
        count += 1
        now_attrs = attrs_at(events, now_us)
        g = group(now_attrs, policy_of(now_attrs), created_at)
        k = kpis.setdefault(
            json.dumps(g, sort_keys=True),
            {
                "group": g,
                "tickets": 0,
                "in": 0,
                "out": 0,
                "req": set(),
                "responded": 0,
                "done": 0,
                "reopened": 0,
                "fcr": 0,
                "redirected": 0,
                "frt": [],
                "csat": [],
                **new_figures_acc(),
            },
        )
        new_figures_add(k, events, now_us)
        k["tickets"] += 1
        responses, first, reopened, redirected, csat = 0, None, False, False, None
        status, attrs = None, {}
        for at_us, _, _, e in events:
            if at_us > now_us:
                break
            if e["type"] == "message" and e.get("public", True):
                if e["author"] == "customer":
                    k["in"] += 1
                else:
                    k["out"] += 1
                if e["author"] == "agent":
                    responses += 1
                    if first is None:
                        first = (at_us - created_at) / 1e6
            elif e["type"] == "status":
                if status in DONE and e["status"] not in DONE:
                    reopened = True
                status = e["status"]
            elif e["type"] == "created":
                status = e.get("status", "new")
                attrs = dict(e["fields"])
            elif e["type"] == "update":
                new = e["fields"].get("channel", attrs.get("channel"))
                if (
                    "channel" in e["fields"]
                    and attrs.get("channel") is not None
                    and new is not None
                    and new != attrs["channel"]
                ):
                    redirected = True
                attrs.update(e["fields"])
            elif e["type"] == "csat":
                csat = e["score"]
        if now_attrs.get("requester") is not None:
            k["req"].add(now_attrs["requester"])
        k["responded"] += responses > 0
        if first is not None:
            k["frt"].append(first)
        done = status in DONE
        k["done"] += done
        k["fcr"] += done and responses == 1 and not reopened
        k["reopened"] += reopened
        k["redirected"] += redirected
        if csat is not None:
            k["csat"].append(csat)
    kpi_out = []
    for k in kpis.values():
        n = k["tickets"]
        c = k["csat"]
        kpi_out.append(
            {
                "group": k["group"],
                "tickets": n,
                "messages_in": k["in"],
                "messages_out": k["out"],
                "unique_requesters": len(k["req"]),
                "response_rate": share(k["responded"], n),
                "resolution_rate": share(k["done"], n),
                "reopen_rate": share(k["reopened"], n),
                "fcr_rate": share(k["fcr"], k["done"]),
                "redirect_rate": share(k["redirected"], n),
                "first_response_seconds": dist(k["frt"]),
                "csat": {
                    "responses": len(c),
                    "mean": sum(c) / len(c) if c else None,
                    "satisfied_share": share(sum(1 for s in c if s >= 4), len(c)),
                },
                **new_figures_out(k),
            }
        )
    return {"now": now, "tickets": count, "rejected": rejected, "sla": sla_out, "kpis": kpi_out}


# Section 13, recomputed from its words: replies, handle time, sentiment, bots.
def new_figures_acc() -> dict:
    return {
        "waits": [],
        "handled": [],
        "first_moods": [],
        "last_moods": [],
        "agent_msgs": 0,
        "bot_msgs": 0,
        "done_now": 0,
        "bot_alone": 0,
    }


def new_figures_add(k: dict, events, now_us: int) -> None:
    """One ticket's section 13 figures into its group's ``k``."""
    opened = None  # when the open wait opened; None: no wait is open
    status = None
    spent = None
    moods: list[float] = []
    agents = bots = 0
    for at_us, _, _, e in events:
        if at_us > now_us:  # only events at or before now
            break
        if e.get("time_spent") is not None:
            spent = (spent or 0) + e["time_spent"]
        kind = e["type"]
        if kind == "created":
            status = e.get("status") or "new"
            if status not in DONE:  # created done: no wait at created
                opened = at_us
        elif kind == "status":
            if status not in DONE and e["status"] in DONE:
                opened = None  # open when the ticket becomes done: not counted, closes
            status = e["status"]
        elif kind == "message" and e.get("public", True) is not False:
            who = e["author"]
            if who == "customer":
                if opened is None:
                    opened = at_us
                if e.get("sentiment") is not None:
                    moods.append(e["sentiment"])
            elif who == "agent":
                agents += 1
                if opened is not None:
                    k["waits"].append((at_us - opened) / 1e6)
                opened = None
            else:
                bots += 1
    # a wait still open at now is not counted
    if spent is not None:
        k["handled"].append(spent)
    if moods:
        k["first_moods"].append(moods[0])
        k["last_moods"].append(moods[-1])
    k["agent_msgs"] += agents
    k["bot_msgs"] += bots
    if status in DONE:
        k["done_now"] += 1
        k["bot_alone"] += bots > 0 and agents == 0


def new_figures_out(k: dict) -> dict:
    handled, first, last = k["handled"], k["first_moods"], k["last_moods"]
    total = float(sum(handled))
    n = len(first)
    return {
        "reply_seconds": dist(k["waits"]),
        "handle_seconds": {
            "tickets": len(handled),
            "total": total,
            "mean": total / len(handled) if handled else None,
        },
        "sentiment": {
            "tickets": n,
            "first_mean": sum(first) / n if n else None,
            "last_mean": sum(last) / n if n else None,
            "change_mean": sum(b - a for a, b in zip(first, last, strict=True)) / n if n else None,
        },
        "bot_share": share(k["bot_msgs"], k["agent_msgs"] + k["bot_msgs"]),
        "bot_resolved_rate": share(k["bot_alone"], k["done_now"]),
    }


def assert_same(actual, expected, path="$"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), (path, actual, expected)
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-6), path
    else:
        assert actual == expected, path


def assert_report_matches(actual: dict, expected: dict):
    assert actual["now"] == expected["now"]
    assert actual["tickets"] == expected["tickets"]
    assert actual["rejected"] == expected["rejected"]
    for section, key in (
        ("sla", lambda r: (json.dumps(r["group"], sort_keys=True), r["metric"])),
        ("kpis", lambda r: json.dumps(r["group"], sort_keys=True)),
    ):
        got = {key(r): r for r in actual[section]}
        want = {key(r): r for r in expected[section]}
        assert len(got) == len(actual[section]), f"duplicate groups in {section}"
        assert set(got) == set(want), section
        for k in want:
            assert_same(got[k], want[k], f"{section}[{k}]")


def evaluate_rows(tmp_path: Path, policy: str, now: str) -> list[dict]:
    out = tmp_path / "rows.jsonl"
    main(
        [
            "evaluate",
            "--policies",
            str(tmp_path / "policy.yaml"),
            "--events",
            str(tmp_path / "events.jsonl"),
            "--now",
            now,
            "--output",
            str(out),
        ]
    )
    return [json.loads(line) for line in out.read_text().splitlines()]


CONFIGS = [
    ([], None, "UTC"),
    (["channel", "policy"], "week", "America/New_York"),
    (["priority"], "day", "Asia/Kolkata"),
    (["requester", "nonexistent"], "month", "UTC"),
    (["policy"], None, "UTC"),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_match_independent_recomputation(tmp_path, seed):
    lines = random_history(seed)
    for line in lines:
        assert isinstance(line["at"], str)
    first = run(tmp_path, lines, policy=POLICY, now=GEN_NOW, expect=1)  # some tickets are rejected
    rows = evaluate_rows(tmp_path, POLICY, GEN_NOW)
    assert_report_matches(first, expected_report(lines, rows, GEN_NOW, [], None, "UTC"))
    assert first["rejected"] > 0 and first["tickets"] > 100
    states = {s for r in rows for s in [r["state"]]}
    assert states == {"achieved", "breached", "cancelled", "running", "paused"}
    for by, period, tz in CONFIGS[1:]:
        args = ["--tz", tz]
        if by:
            args += ["--by", ",".join(by)]
        if period:
            args += ["--period", period]
        actual = run(tmp_path, lines, *args, policy=POLICY, now=GEN_NOW)
        assert_report_matches(actual, expected_report(lines, rows, GEN_NOW, by, period, tz))


def test_random_history_at_another_now(tmp_path):
    lines = random_history(7, tickets=150)
    now = "2026-03-01T00:00:00+02:00"
    actual = run(tmp_path, lines, "--by", "channel", "--period", "day", policy=POLICY, now=now)
    rows = evaluate_rows(tmp_path, POLICY, now)
    expected = expected_report(lines, rows, "2026-02-28T22:00:00Z", ["channel"], "day", "UTC")
    assert_report_matches(actual, expected)


# --------------------------------------------------------- named cases
def test_cancelled_cycles_are_outside_compliance(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 10, "status", status="solved"),  # fr cancelled
        ev("B", 0, "created", fields={}),
        ev("B", 30, "message", author="agent"),  # fr achieved
        ev("C", 0, "created", fields={}, status="solved"),  # created done: fr cancelled at created
    ]
    report = run(tmp_path, events, now=at(600))
    fr = one(report["sla"], metric="first_response")
    assert (fr["cycles"], fr["achieved"], fr["breached"], fr["cancelled"]) == (3, 1, 0, 2)
    assert fr["compliance"] == 1.0
    assert fr["elapsed_seconds"] == {"mean": 1800.0, "p50": 1800.0, "p90": 1800.0}


def test_open_breached_cycles_count_as_breached_but_not_in_elapsed(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),  # no response: open, breached at now
        ev("B", 0, "created", fields={}),
        ev("B", 90, "message", author="agent"),  # ended, breached
        ev("C", 0, "created", fields={}),
        ev("C", 20, "message", author="agent"),  # achieved
        ev("D", 170, "created", fields={}),  # open, running
    ]
    report = run(tmp_path, events, now=at(180))
    fr = one(report["sla"], metric="first_response")
    assert (fr["cycles"], fr["achieved"], fr["breached"], fr["running"], fr["paused"]) == (4, 1, 2, 1, 0)
    assert fr["compliance"] == pytest.approx(1 / 3)
    # Over the two ended cycles only: 20 min and 90 min.
    assert fr["elapsed_seconds"]["mean"] == pytest.approx(3300.0)
    assert fr["elapsed_seconds"]["p50"] == pytest.approx(3300.0)
    assert fr["elapsed_seconds"]["p90"] == pytest.approx(1200 + 0.9 * 4200)


def test_paused_and_running_counts(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 5, "message", author="agent"),
        ev("A", 6, "status", status="pending"),  # requester_wait paused at now
        ev("B", 0, "created", fields={}),
        ev("B", 5, "message", author="agent"),  # running
    ]
    report = run(tmp_path, events, now=at(60))
    rw = one(report["sla"], metric="requester_wait")
    assert (rw["running"], rw["paused"], rw["compliance"], rw["elapsed_seconds"]) == (1, 1, None, None)


def test_percentiles_interpolate_inclusively(tmp_path):
    events = []
    for i, minutes in enumerate([10, 20, 30, 40]):
        events += [ev(f"T{i}", 0, "created", fields={}), ev(f"T{i}", minutes, "message", author="agent")]
    report = run(tmp_path, events, now=at(600))
    fr = one(report["sla"], metric="first_response")
    assert fr["elapsed_seconds"] == pytest.approx({"mean": 1500.0, "p50": 1500.0, "p90": 2220.0})
    assert report["kpis"][0]["first_response_seconds"] == pytest.approx(
        {"mean": 1500.0, "p50": 1500.0, "p90": 2220.0}
    )


def test_rates_and_their_denominators(tmp_path):
    events = [
        # A: one response, solved, never reopened: fcr
        ev("A", 0, "created", fields={"requester": "ann"}),
        ev("A", 1, "message", author="customer"),
        ev("A", 10, "message", author="agent"),
        ev("A", 20, "status", status="solved"),
        # B: two responses, closed: done but not fcr
        ev("B", 0, "created", fields={"requester": "ann"}),
        ev("B", 10, "message", author="agent"),
        ev("B", 15, "message", author="agent"),
        ev("B", 20, "status", status="closed"),
        # C: one response, solved, reopened, solved again: reopened, not fcr
        ev("C", 0, "created", fields={"requester": "bob"}),
        ev("C", 10, "message", author="agent"),
        ev("C", 20, "status", status="solved"),
        ev("C", 30, "status", status="open"),
        ev("C", 40, "status", status="solved"),
        # D: bot message and an internal note only: no response, not done
        ev("D", 0, "created", fields={}),
        ev("D", 5, "message", author="bot"),
        ev("D", 6, "message", author="agent", public=False),
        ev("D", 7, "message", author="customer", public=False),
        # E: created solved then reopened: reopen counts, not done at now
        ev("E", 0, "created", fields={"requester": "cy"}, status="solved"),
        ev("E", 50, "status", status="open"),
    ]
    k = run(tmp_path, events, now=at(100))["kpis"][0]
    assert (k["tickets"], k["messages_in"], k["messages_out"], k["unique_requesters"]) == (5, 1, 5, 3)
    assert k["response_rate"] == pytest.approx(3 / 5)
    assert k["resolution_rate"] == pytest.approx(3 / 5)
    assert k["reopen_rate"] == pytest.approx(2 / 5)
    assert k["fcr_rate"] == pytest.approx(1 / 3)
    assert k["redirect_rate"] == 0.0


def test_fcr_is_null_without_done_tickets_and_csat_empty_shape(tmp_path):
    events = [ev("A", 0, "created", fields={}), ev("A", 5, "message", author="customer")]
    k = run(tmp_path, events, now=at(10))["kpis"][0]
    assert k["fcr_rate"] is None and k["resolution_rate"] == 0.0 and k["response_rate"] == 0.0
    assert k["first_response_seconds"] is None
    assert k["csat"] == {"responses": 0, "mean": None, "satisfied_share": None}
    assert k["unique_requesters"] == 0


def test_no_tickets_at_all(tmp_path):
    events = [ev("A", 100, "created", fields={})]
    report = run(tmp_path, events, now=at(10), expect=0)
    meta = report.pop("meta")
    assert report == {"now": at(10), "tickets": 0, "rejected": 0, "sla": [], "kpis": []}
    # the created-after-now ticket is in the file's range, but measured by nothing
    assert meta["events"] == {"first": at(100), "last": at(100)}
    assert (meta["unmeasured_tickets"], meta["no_policy_tickets"], meta["hours"]) == (0, 0, {})


def test_redirect_means_changing_an_existing_channel(tmp_path):
    events = [
        ev("A", 0, "created", fields={"channel": "email"}),
        ev("A", 5, "update", fields={"channel": "chat"}),
        ev("B", 0, "created", fields={}),
        ev("B", 5, "update", fields={"channel": "chat"}),  # first set
        ev("C", 0, "created", fields={"channel": "email"}),
        ev("C", 5, "update", fields={"channel": "email"}),
        ev("D", 0, "created", fields={"channel": "email"}),
        ev("D", 5, "update", fields={"priority": "high"}),
        ev("E", 0, "created", fields={"channel": "email"}),
        ev("E", 50, "update", fields={"channel": "web"}),
    ]
    k = run(tmp_path, events, now=at(10))["kpis"][0]  # E's update comes after now
    assert k["redirect_rate"] == pytest.approx(1 / 5)


def test_a_redirect_is_a_change_by_section_8s_equality(tmp_path):
    """true is no 1 (a change), 1 is 1.0 (none), as policy matching compares."""
    events = [
        ev("A", 0, "created", fields={"channel": True}),
        ev("A", 5, "update", fields={"channel": 1}),
        ev("B", 0, "created", fields={"channel": {"a": 1}}),
        ev("B", 5, "update", fields={"channel": {"a": True}}),
        ev("C", 0, "created", fields={"channel": 1}),
        ev("C", 5, "update", fields={"channel": 1.0}),
        ev("D", 0, "created", fields={"channel": [1, "x"]}),
        ev("D", 5, "update", fields={"channel": [1.0, "x"]}),
    ]
    k = run(tmp_path, events, now=at(10))["kpis"][0]
    assert k["redirect_rate"] == pytest.approx(2 / 4)


def test_values_equal_by_section_8_are_one_group_and_one_requester(tmp_path):
    """1 and 1.0 are one value (section 8), as a policy's match takes them;
    true and "1" are others."""
    events = [
        ev("A", 0, "created", fields={"tier": 1, "requester": 7}),
        ev("B", 0, "created", fields={"tier": 1.0, "requester": 7.0}),
        ev("C", 0, "created", fields={"tier": 1, "requester": 7}),
        ev("D", 0, "created", fields={"tier": True, "requester": True}),
        ev("E", 0, "created", fields={"tier": "1", "requester": "7"}),
    ]
    assert run(tmp_path, events, now=at(10))["kpis"][0]["unique_requesters"] == 3
    report = run(tmp_path, events, "--by", "tier", now=at(10))
    assert sorted(((k["group"]["tier"], k["tickets"]) for k in report["kpis"]), key=repr) == sorted(
        [(1, 3), (True, 1), ("1", 1)], key=repr
    )
    first = [g for g in report["sla"] if g["metric"] == "first_response"]
    assert sorted(((g["group"]["tier"], g["cycles"]) for g in first), key=repr) == sorted(
        [(1, 3), (True, 1), ("1", 1)], key=repr
    )


def test_parquet_keeps_an_empty_text_group_apart_from_a_missing_value(tmp_path):
    """ "" and a missing attribute are two groups in JSON; Parquet too."""
    pq = pytest.importorskip("pyarrow.parquet")
    events = [ev("A", 0, "created", fields={"x": ""}), ev("B", 0, "created", fields={})]
    report = run(tmp_path, events, "--by", "x", now=at(10))
    assert sorted((k["group"]["x"] is None, k["tickets"]) for k in report["kpis"]) == [(False, 1), (True, 1)]
    run(tmp_path, events, "--by", "x", now=at(10), fmt="parquet")
    table = pq.read_table(tmp_path / "report.parquet").to_pylist()
    kpis = [row for row in table if row["section"] == "kpis"]
    assert sorted(row["x"] is None for row in kpis) == [False, True]
    assert [row["x"] for row in kpis if row["x"] is not None] == [""]


def test_csat_uses_the_last_score_per_ticket(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 5, "csat", score=5),
        ev("A", 6, "csat", score=2),
        ev("B", 0, "created", fields={}),
        ev("B", 5, "csat", score=4),
        ev("C", 0, "created", fields={}),
        ev("C", 5, "csat", score=3),
        ev("C", 50, "csat", score=5),  # after now
        ev("D", 0, "created", fields={}),
    ]
    csat = run(tmp_path, events, now=at(10))["kpis"][0]["csat"]
    assert csat["responses"] == 3
    assert csat["mean"] == pytest.approx(3.0)
    assert csat["satisfied_share"] == pytest.approx(1 / 3)  # the 4; 4 counts as satisfied


def test_grouping_uses_the_value_at_the_cycles_end_and_tickets_at_now(tmp_path):
    events = [
        ev("A", 0, "created", fields={"priority": "low"}),
        ev("A", 10, "message", author="agent"),
        ev("A", 20, "update", fields={"priority": "urgent"}),
        # B: the update at the same instant as the response is in force at the cycle's end
        ev("B", 0, "created", fields={"priority": "low"}),
        ev("B", 10, "message", author="agent"),
        ev("B", 10, "update", fields={"priority": "high"}),
    ]
    report = run(tmp_path, events, "--by", "priority", now=at(60))
    assert one(report["sla"], metric="first_response", g_priority="low")["cycles"] == 1
    assert one(report["sla"], metric="first_response", g_priority="high")["cycles"] == 1
    assert one(report["sla"], metric="resolution", g_priority="urgent")["running"] == 1
    assert one(report["kpis"], g_priority="urgent")["tickets"] == 1
    assert {json.dumps(r["group"]) for r in report["kpis"]} == {
        '{"priority": "urgent"}',
        '{"priority": "high"}',
    }


def test_policy_key_and_missing_attributes_group_as_null(tmp_path):
    events = [
        ev("A", 0, "created", fields={"channel": "twitter"}),
        ev("B", 0, "created", fields={"channel": "web"}),  # no policy: no cycles
        ev("C", 0, "created", fields={}),
        ev("C", 10, "update", fields={"channel": "email"}),
        ev("D", 0, "created", fields={"channel": "email"}),
        ev("D", 10, "message", author="agent"),
        ev(
            "D", 20, "update", fields={"channel": "twitter"}
        ),  # fr judged by standard? no: by social at its end
    ]
    report = run(tmp_path, events, "--by", "policy,channel", policy=POLICY, now=at(60))
    assert one(report["kpis"], g_policy=None, g_channel="web")["tickets"] == 1
    assert one(report["kpis"], g_policy="standard", g_channel="email")["tickets"] == 1
    assert one(report["kpis"], g_policy="social", g_channel="twitter")["tickets"] == 2
    assert one(report["sla"], metric="first_response", g_policy="standard", g_channel="email")["cycles"] == 2
    assert one(report["sla"], metric="first_response", g_policy="social", g_channel="twitter")["cycles"] == 1
    assert all(r["group"]["policy"] is not None for r in report["sla"])
    report = run(tmp_path, events, "--by", "nothing", policy=POLICY, now=at(60))
    assert [r["group"] for r in report["kpis"]] == [{"nothing": None}]


def test_period_week_uses_the_iso_year(tmp_path):
    events = [
        ev("A", "2027-01-01T10:00:00Z", "created", fields={}),  # Friday of ISO week 2026-W53
        ev("B", "2024-12-30T10:00:00Z", "created", fields={}),  # Monday of ISO week 2025-W01
        ev("C", "2026-03-02T10:00:00Z", "created", fields={}),  # 2026-W10
    ]
    report = run(tmp_path, events, "--period", "week", now="2027-02-01T00:00:00Z")
    assert sorted(r["group"]["period"] for r in report["kpis"]) == ["2025-W01", "2026-W10", "2026-W53"]
    assert sorted(r["group"]["period"] for r in report["sla"] if r["metric"] == "resolution") == [
        "2025-W01",
        "2026-W10",
        "2026-W53",
    ]
    report = run(tmp_path, events, "--period", "month", now="2027-02-01T00:00:00Z")
    assert sorted(r["group"]["period"] for r in report["kpis"]) == ["2024-12", "2026-03", "2027-01"]


def test_tz_shifts_the_day(tmp_path):
    events = [
        ev("A", "2026-03-31T22:30:00Z", "created", fields={}),
        ev("A", "2026-04-01T00:30:00Z", "message", author="agent"),
    ]
    now = "2026-04-02T00:00:00Z"
    utc = run(tmp_path, events, "--period", "day", now=now)
    berlin = run(tmp_path, events, "--period", "day", "--tz", "Europe/Berlin", now=now)
    assert utc["kpis"][0]["group"] == {"period": "2026-03-31"}
    assert berlin["kpis"][0]["group"] == {"period": "2026-04-01"}
    # Cycles by their start's local date.
    assert one(berlin["sla"], metric="first_response")["group"] == {"period": "2026-04-01"}
    month = run(tmp_path, events, "--period", "month", "--tz", "Europe/Berlin", now=now)
    assert month["kpis"][0]["group"] == {"period": "2026-04"}


def test_now_bounds_tickets_and_events(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 30, "message", author="agent"),  # exactly at now counts
        ev("B", 30, "created", fields={}),  # created at now counts
        ev("C", 31, "created", fields={}),  # after now: out
        ev("A", 31, "message", author="agent"),
        ev("R", 5, "message", author="customer"),  # rejected: no created
    ]
    report = run(tmp_path, events, now=at(30), expect=1)
    assert (report["tickets"], report["rejected"]) == (2, 1)
    k = report["kpis"][0]
    assert (k["tickets"], k["messages_out"], k["response_rate"]) == (2, 1, 0.5)


def test_unique_requesters_use_the_value_at_now(tmp_path):
    events = [
        ev("A", 0, "created", fields={"requester": "ann"}),
        ev("B", 0, "created", fields={"requester": "ann"}),
        ev("B", 5, "update", fields={"requester": "bob"}),
        ev("C", 0, "created", fields={"requester": 7}),
        ev("D", 0, "created", fields={"requester": "7"}),
    ]
    assert run(tmp_path, events, now=at(10))["kpis"][0]["unique_requesters"] == 4


def test_bad_options_are_usage_errors(tmp_path, capsys):
    events = [ev("A", 0, "created", fields={})]
    policy = tmp_path / "p.yaml"
    policy.write_text(SIMPLE_POLICY)
    evfile = tmp_path / "e.jsonl"
    evfile.write_text(json.dumps(events[0]) + "\n")
    assert main(["report", "--policies", str(policy), "--events", str(evfile), "--tz", "Mars/Olympus"]) == 2
    assert "Mars/Olympus" in capsys.readouterr().err
    assert main(["report", "--policies", str(policy), "--events", str(evfile), "--period", "year"]) == 2


# ------------------------------------------- table and csv vs json
def _pct(x):
    return "-" if x is None else f"{x * 100:.1f}%"


def _duration(seconds):
    """The table's one duration form (calendar time), from the JSON seconds."""
    from sla.timefmt import duration_text

    return "-" if seconds is None else duration_text(seconds * 1e6, business=False)


def test_csv_carries_the_json_numbers(tmp_path):
    lines = random_history(11, tickets=120)
    args = ("--by", "channel", "--period", "week")
    report = run(tmp_path, lines, *args, policy=POLICY, now=GEN_NOW)
    text = run(tmp_path, lines, *args, policy=POLICY, now=GEN_NOW, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["section", "channel", "period", "metric", "figure", "value"]
    cells = {(r["section"], (r["channel"], r["period"]), r["metric"], r["figure"]): r["value"] for r in rows}
    assert len(cells) == len(rows)
    assert cells[("report", ("", ""), "", "tickets")] == str(report["tickets"])
    assert cells[("report", ("", ""), "", "now")] == report["now"]
    assert cells[("report", ("", ""), "", "meta.unmeasured_tickets")] == str(
        report["meta"]["unmeasured_tickets"]
    )
    assert cells[("report", ("", ""), "", "meta.events.first")] == report["meta"]["events"]["first"]

    def check(section, row, metric):
        g = (row["group"]["channel"] or "", row["group"]["period"])
        flat = {}
        for key, value in row.items():
            if key in ("group", "metric"):
                continue
            if isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            elif value is None and key.endswith("_seconds"):
                flat.update({f"{key}.{p}": None for p in ("mean", "p50", "p90")})
            else:
                flat[key] = value
        for figure, value in flat.items():
            cell = cells.pop((section, g, metric, figure))
            if value is None:
                assert cell == ""
            else:
                assert float(cell) == pytest.approx(value, rel=1e-12), (section, g, figure)

    for row in report["sla"]:
        check("sla", row, row["metric"])
    for row in report["kpis"]:
        check("kpis", row, "")
    assert {k[0] for k in cells} == {"report"}


def test_table_carries_the_json_numbers(tmp_path):
    lines = random_history(12, tickets=120)
    report = run(tmp_path, lines, "--by", "channel", policy=POLICY, now=GEN_NOW)
    table = run(tmp_path, lines, "--by", "channel", policy=POLICY, now=GEN_NOW, fmt="table")
    lines_out = table.splitlines()
    assert max(len(line) for line in lines_out) <= 100
    assert f"{report['tickets']:,} tickets" in lines_out[0]
    for row in report["sla"]:
        name = "(none)" if row["group"]["channel"] is None else row["group"]["channel"]
        match = [line.split() for line in lines_out if line.split()[:2] == [row["metric"], name]]
        assert len(match) == 1, (row, table)
        cells = match[0]
        assert cells[2:6] == [
            str(row["cycles"]),
            str(row["achieved"]),
            str(row["breached"]),
            str(row["cancelled"]),
        ]
        assert cells[6] == str(row["running"] + row["paused"])
        assert cells[7] == _pct(row["compliance"])
        if row["compliance"] is not None and row["compliance"] < 0.8:
            assert cells[8] == "!!"
    kpi_lines = lines_out[lines_out.index("Tickets  (FRT: first response time, calendar time)") :]
    for row in report["kpis"]:
        name = "(none)" if row["group"]["channel"] is None else row["group"]["channel"]
        volume, rates, work = [line.split() for line in kpi_lines if line.split()[:1] == [name]]
        assert volume[1:5] == [
            str(row["tickets"]),
            str(row["messages_in"]),
            str(row["messages_out"]),
            str(row["unique_requesters"]),
        ]
        assert rates[1:] == [
            _pct(row[k])
            for k in ("response_rate", "resolution_rate", "reopen_rate", "fcr_rate", "redirect_rate")
        ]
        reply, handle, mood = row["reply_seconds"], row["handle_seconds"], row["sentiment"]
        assert work[1:] == [
            _duration(None if reply is None else reply["p50"]),
            _duration(None if reply is None else reply["p90"]),
            str(handle["tickets"]),
            _duration(handle["mean"]),
            str(mood["tickets"]),
            "-" if mood["change_mean"] is None else f"{mood['change_mean']:+.2f}",
            _pct(row["bot_share"]),
            _pct(row["bot_resolved_rate"]),
        ]
    assert "Replies, work, sentiment, bots  (durations in calendar time)" in lines_out


# ----------------------------------------------------------- the API
def test_typed_report_api(tmp_path):
    from sla.engine.jsonl import read_jsonl
    from sla.io.policy_files import load_policies
    from sla.report.figures import build_report
    from sla.report.results import Report

    lines = random_history(5, tickets=60)
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    report = build_report(load_policies(POLICY), tickets, GEN_NOW, by=["channel"], period="day")
    assert isinstance(report, Report)
    cli = run(tmp_path, lines, "--by", "channel", "--period", "day", policy=POLICY, now=GEN_NOW)
    assert cli["meta"].pop("policies") == [str(tmp_path / "policy.yaml")]
    assert report.to_dict()["meta"].pop("policies") == []  # policies given as text name no file
    mine = json.loads(json.dumps(report.to_dict()))
    del mine["meta"]["policies"]
    assert mine == cli
    records = report.records("kpis")
    assert {"channel", "period", "tickets", "csat.mean", "first_response_seconds.p90"} <= set(records[0])
    assert len(report.records("sla")) == len(report.sla)
    assert sum(sum(row) for row in report.extras.created_by_hour) == report.tickets


def test_chart_extras_match_a_direct_count(tmp_path):
    """The HTML-only figures: misses per local day of due_at, creations by local weekday and hour."""
    from sla.engine.jsonl import read_jsonl
    from sla.io.policy_files import load_policies
    from sla.report.figures import build_report

    lines = random_history(8, tickets=200)  # spans the US DST change of 2026-03-08
    tz = "America/New_York"
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    report = build_report(load_policies(POLICY), tickets, GEN_NOW, tz=tz)
    run(tmp_path, lines, policy=POLICY, now=GEN_NOW)
    rows = evaluate_rows(tmp_path, POLICY, GEN_NOW)
    misses: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row["breached"]:
            misses[local_period(us(row["due_at"]), "day", tz)][row["metric"]] += 1
    assert {d: dict(c) for d, c in report.extras.breaches_by_day.items()} == {
        d: dict(c) for d, c in misses.items()
    }
    grid = [[0] * 24 for _ in range(7)]
    accepted, _ = tickets_of(lines)
    for events in accepted.values():
        if events[0][0] <= us(GEN_NOW):
            local = datetime.fromisoformat(events[0][3]["at"]).astimezone(ZoneInfo(tz))
            grid[local.weekday()][local.hour] += 1
    assert report.extras.created_by_hour == grid
    scores = defaultdict(int)
    for events in accepted.values():
        last = [e["score"] for at_us, _, _, e in events if e["type"] == "csat" and at_us <= us(GEN_NOW)]
        if last and events[0][0] <= us(GEN_NOW):
            scores[float(last[-1])] += 1
    assert dict(report.extras.csat_scores) == dict(scores)


def test_to_pandas_and_arrow_when_installed(tmp_path):
    from sla.engine.jsonl import read_jsonl
    from sla.io.policy_files import load_policies
    from sla.report.figures import build_report

    tickets, _ = read_jsonl([json.dumps(e) for e in random_history(5, tickets=30)])
    report = build_report(load_policies(POLICY), tickets, GEN_NOW, by=["channel"])
    for name, method in (("pandas", report.to_pandas), ("pyarrow", report.to_arrow)):
        try:
            __import__(name)
        except ImportError:
            with pytest.raises(ImportError, match=name):
                method()
            continue
        table = method("sla")
        assert len(table) == len(report.sla)


def test_progress_is_silent_off_a_terminal_and_draws_on_one():
    from sla.cli.progress import Progress

    quiet = io.StringIO()
    bar = Progress(10_000, stream=quiet, delay=0, interval=0)
    for i in range(1, 10_001):
        bar.update(i)
    bar.close()
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    bar = Progress(10_000, stream=tty, delay=0, interval=0)
    for i in range(1, 10_001, 7):
        bar.update(i)
    bar.close()
    assert "%" in tty.getvalue() and "tickets" in tty.getvalue() and tty.getvalue().endswith("\r")


def test_an_unknown_report_format_is_an_sla_error():
    import io as _io

    from sla import SlaError, build_report, load_policies, write_report

    report = build_report(
        load_policies("policies:\n  - name: all\n    targets: {first_response: 1h}\n"), [], 0
    )
    with pytest.raises(
        SlaError, match="unknown report format 'xml'; expected one of table, json, csv, html, parquet"
    ):
        write_report(report, _io.BytesIO(), "xml")
