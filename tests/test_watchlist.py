"""The watchlist of the HTML report (sla.report.watchlist): the breached and
at-risk cycles and the misses per day per owner.

The expectations are recomputed here from the rows of ``sla evaluate`` and
the raw events (owners at ``now`` and at each breach instant, local days in
the zone), without touching ``sla.report``.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla import load_policies
from sla.engine.batch import run_clock
from sla.engine.jsonl import read_jsonl
from sla.engine.judge import judge_fields, judge_ticket
from sla.report import build_report
from sla.report.watch import Watchlist
from sla.report.watchlist import MISS_DAYS, OWNER_KEYS, WatchlistResult

_spec = importlib.util.spec_from_file_location("report_cases", Path(__file__).with_name("test_report.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)  # type: ignore[union-attr]

AGENTS = ["ana", "bo", "chen", "dev", 7, "eli"]
GROUPS = ["billing", "tech", "shipping"]
DAY_US = 86_400 * 1_000_000


def with_owners(lines: list[dict], seed: int) -> list[dict]:
    """A random history with ``assignee`` and ``group`` on created events and
    reassignments (to another agent, or to none) on some updates."""
    rng = random.Random(seed)
    out = []
    for e in lines:
        e = dict(e)
        if e["type"] == "created":
            fields = dict(e["fields"])
            if rng.random() < 0.8:
                fields["assignee"] = rng.choice(AGENTS)
            if rng.random() < 0.7:
                fields["group"] = rng.choice(GROUPS)
            e["fields"] = fields
        elif e["type"] == "update" and rng.random() < 0.7:
            e["fields"] = {
                **e["fields"],
                "assignee": rng.choice([*AGENTS, None]),
                "group": rng.choice(GROUPS),
            }
        out.append(e)
    return out


def setup(tmp_path: Path, lines: list[dict], now: str) -> tuple[list[dict], dict]:
    """Write the policy and events; the rows of ``sla evaluate`` and the accepted tickets' events."""
    (tmp_path / "policy.yaml").write_text(cases.POLICY)
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    rows = cases.evaluate_rows(tmp_path, cases.POLICY, now)
    tickets, _ = cases.tickets_of(lines)
    return rows, tickets


def watch_of(lines: list[dict], now: str, by=("assignee", "group"), tz="UTC", limit=None) -> WatchlistResult:
    policies = load_policies(cases.POLICY)
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    if limit is None:
        return build_report(policies, tickets, now, by=list(by), tz=tz).extras.watch
    watch = Watchlist(by, limit=limit)
    now_us = cases.us(now)
    for t in tickets.values():
        if t.error is None:
            clock = run_clock(policies, t.events, now_us)
            if clock is not None:
                watch.add(t.ticket_id, judge_ticket(t.ticket_id, clock, policies, now_us), clock, now_us)
    return watch.finish()


def risk_order(row: dict) -> tuple:
    if row["due_at"] is None:
        return (1, row["remaining_seconds"], row["ticket_id"], row["metric"], row["cycle"])
    return (0, cases.us(row["due_at"]), row["ticket_id"], row["metric"], row["cycle"])


def breach_order(row: dict) -> tuple:
    return (-cases.us(row["due_at"]), row["ticket_id"], row["metric"], row["cycle"])


def ident(item) -> tuple:
    return (item.ticket_id, item.metric, item.cycle)


def row_ident(row: dict) -> tuple:
    return (row["ticket_id"], row["metric"], row["cycle"])


@pytest.mark.parametrize("seed", [1, 2])
def test_lists_and_counts_match_evaluate_rows(tmp_path, seed):
    lines = with_owners(cases.random_history(seed, tickets=300), seed)
    now = cases.GEN_NOW
    rows, tickets = setup(tmp_path, lines, now)
    now_us = cases.us(now)
    watch = watch_of(lines, now, limit=40)
    risk = sorted((r for r in rows if r["state"] in ("running", "paused")), key=risk_order)
    breached = sorted((r for r in rows if r["state"] == "breached"), key=breach_order)
    assert len(risk) > 40 and len(breached) > 40  # the bound is exercised
    assert [ident(i) for i in watch.at_risk] == [row_ident(r) for r in risk[:40]]
    assert [ident(i) for i in watch.breached] == [row_ident(r) for r in breached[:40]]
    assert watch.at_risk_total == len(risk)
    assert watch.at_risk_paused == sum(r["state"] == "paused" for r in risk)
    assert watch.due_within_day == sum(
        r["due_at"] is not None and cases.us(r["due_at"]) <= now_us + DAY_US for r in risk
    )
    assert watch.breached_total == len(breached)
    assert watch.breached_open == sum(r["ended_at"] is None for r in breached)
    by_id = {row_ident(r): r for r in rows}
    for item in (*watch.at_risk, *watch.breached):
        row = by_id[ident(item)]
        assert item.policy == row["policy"] and item.state == row["state"] and item.hours == row["hours"]
        assert item.elapsed_us == round(row["elapsed_seconds"] * 1_000_000)
        assert item.target_us == round(row["target_seconds"] * 1_000_000)
        assert item.due_at == (None if row["due_at"] is None else cases.us(row["due_at"]))
        assert item.open == (row["ended_at"] is None)
        attrs_now = cases.attrs_at(tickets[item.ticket_id], now_us)
        assert item.owner == tuple((k, attrs_now[k]) for k in OWNER_KEYS if k in attrs_now)
    assert watch.owner_keys == ("assignee", "group")


@pytest.mark.parametrize("seed", [1, 2])
def test_plain_fields_and_named_results_are_watched_alike(seed):
    # the report hands the watch list plain tuples of the fields (no named
    # result built per cycle); the API hands it results
    lines = with_owners(cases.random_history(seed, tickets=300), seed)
    policies = load_policies(cases.POLICY)
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    now_us = cases.us(cases.GEN_NOW)
    named, plain = Watchlist(("assignee", "group"), limit=40), Watchlist(("assignee", "group"), limit=40)
    for t in tickets.values():
        if t.error is None:
            clock = run_clock(policies, t.events, now_us)
            if clock is not None:
                named.add(t.ticket_id, judge_ticket(t.ticket_id, clock, policies, now_us), clock, now_us)
                plain.add(t.ticket_id, judge_fields(t.ticket_id, clock, policies, now_us), clock, now_us)
    expected, got = named.finish(), plain.finish()
    assert got == expected
    assert len(got.breached) == 40 and len(got.at_risk) == 40 and got.misses


def test_the_default_bound_and_the_hook(tmp_path):
    """Through build_report: at most 200 per list, every cycle counted."""
    lines = with_owners(cases.random_history(5, tickets=900), 5)
    rows, _ = setup(tmp_path, lines, cases.GEN_NOW)
    watch = watch_of(lines, cases.GEN_NOW)
    breached = [r for r in rows if r["state"] == "breached"]
    assert len(breached) > 200
    assert len(watch.breached) == 200 and watch.limit == 200
    assert watch.breached_total == len(breached)
    assert len(watch.at_risk) == min(200, watch.at_risk_total)


def _parts(lines: list[dict], now: str, assignment: list[int], limit: int) -> list[Watchlist]:
    policies = load_policies(cases.POLICY)
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    now_us = cases.us(now)
    parts = [Watchlist(["group", "assignee"], limit=limit) for _ in range(max(assignment) + 1)]
    for index, t in enumerate(tickets.values()):
        if t.error is None:
            clock = run_clock(policies, t.events, now_us)
            if clock is not None:
                judged = judge_ticket(t.ticket_id, clock, policies, now_us)
                parts[assignment[index]].add(t.ticket_id, judged, clock, now_us)
    return parts


def test_merge_order_does_not_matter(tmp_path):
    lines = with_owners(cases.random_history(9, tickets=260), 9)
    now = cases.GEN_NOW
    rng = random.Random(3)
    results = []
    for parts_count in (1, 3, 5):
        assignment = [rng.randrange(parts_count) for _ in range(400)]
        parts = [
            pickle.loads(pickle.dumps(p)) for p in _parts(lines, now, assignment, limit=9)
        ]  # as workers send them
        rng.shuffle(parts)
        first, *rest = parts
        for part in rest:
            first.merge(part)
        results.append(first.finish())
    assert results[0] == results[1] == results[2]
    assert len(results[0].breached) == 9 and len(results[0].at_risk) == 9
    assert results[0].miss_keys == ("group", "assignee")
    for key in results[0].miss_keys:
        assert results[0].misses_per_day(key, "Asia/Kolkata") == results[2].misses_per_day(
            key, "Asia/Kolkata"
        )


def test_ties_are_broken_by_ticket_metric_and_cycle():
    """Tickets created together with the same target are due together: ticket id decides."""
    policies = load_policies("policies:\n  - name: all\n    targets: {first_response: 1h, resolution: 1h}\n")
    lines = [
        {"ticket_id": tid, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"group": "g"}}
        for tid in ("T3", "T1", "T2")
    ]
    now = cases.us("2026-03-02T08:30:00Z")
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    orders = []
    for order in (["T3", "T1", "T2"], ["T2", "T3", "T1"]):
        watch = Watchlist(limit=4)
        for tid in order:
            clock = run_clock(policies, tickets[tid].events, now)
            watch.add(tid, judge_ticket(tid, clock, policies, now), clock, now)
        orders.append([ident(i) for i in watch.finish().at_risk])
    assert (
        orders[0]
        == orders[1]
        == [
            ("T1", "first_response", 1),
            ("T1", "resolution", 1),
            ("T2", "first_response", 1),
            ("T2", "resolution", 1),
        ]
    )


def test_paused_cycles_come_after_the_ones_with_a_due_time():
    policies = load_policies(
        "policies:\n  - name: all\n    targets: {resolution: 8h}\n"
        "metrics:\n  resolution: {pause_statuses: [pending]}\n"
    )
    lines = [
        {"ticket_id": "A", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}},
        {"ticket_id": "A", "at": "2026-03-02T08:10:00Z", "type": "status", "status": "pending"},
        {"ticket_id": "B", "at": "2026-03-02T09:00:00Z", "type": "created", "fields": {}},
    ]
    now = cases.us("2026-03-02T10:00:00Z")
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    watch = Watchlist()
    for tid, t in tickets.items():
        clock = run_clock(policies, t.events, now)
        watch.add(tid, judge_ticket(tid, clock, policies, now), clock, now)
    result = watch.finish()
    assert [(i.ticket_id, i.state, i.due_at is None) for i in result.at_risk] == [
        ("B", "running", False),
        ("A", "paused", True),
    ]
    assert result.at_risk_paused == 1 and result.owner_keys == ()


def expected_misses(rows, tickets, key: str, now: str, tz: str) -> dict[str, list[int]]:
    """Per owner (JSON), breached cycles per local day over the MISS_DAYS days up to now's local day."""
    zone = ZoneInfo(tz)

    def local_day(us: int) -> date:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(zone).date()

    last = local_day(cases.us(now))
    first = last - timedelta(days=MISS_DAYS - 1)
    counts: dict[str, list[int]] = {}
    for row in rows:
        if row["state"] != "breached":
            continue
        due = cases.us(row["due_at"])
        day = local_day(due)
        if first <= day <= last:
            owner = json.dumps(cases.attrs_at(tickets[row["ticket_id"]], due).get(key))
            counts.setdefault(owner, [0] * MISS_DAYS)[(day - first).days] += 1
    return counts


@pytest.mark.parametrize(
    "now, tz",
    [
        (cases.GEN_NOW, "UTC"),
        (cases.GEN_NOW, "Asia/Kolkata"),  # +05:30: a local day is no whole UTC hours
        ("2026-03-30T03:00:00Z", "Europe/Berlin"),  # DST change inside, old misses out of the window
    ],
)
def test_misses_per_day_per_owner_match_evaluate_rows(tmp_path, now, tz):
    lines = with_owners(cases.random_history(11, tickets=400), 11)
    rows, tickets = setup(tmp_path, lines, now)
    watch = watch_of(lines, now, tz=tz)
    for key in ("assignee", "group"):
        expected = expected_misses(rows, tickets, key, now, tz)
        table = watch.misses_per_day(key, tz)
        got = {json.dumps(row.owner): list(row.counts) for row in table.rows}
        assert table.other is None and got == expected, key
        assert [row.total for row in table.rows] == sorted((sum(c) for c in expected.values()), reverse=True)
        assert list(table.day_totals) == [sum(c[i] for c in expected.values()) for i in range(MISS_DAYS)]
        assert table.total == sum(map(sum, expected.values())) > 0
        zone = ZoneInfo(tz)
        last = (
            (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=cases.us(now))).astimezone(zone).date()
        )
        assert table.days[-1] == last.isoformat() and len(table.days) == MISS_DAYS


def test_misses_keep_the_top_owners_and_sum_the_rest(tmp_path):
    lines = with_owners(cases.random_history(12, tickets=300), 12)
    rows, tickets = setup(tmp_path, lines, cases.GEN_NOW)
    watch = watch_of(lines, cases.GEN_NOW, by=("assignee",))
    expected = expected_misses(rows, tickets, "assignee", cases.GEN_NOW, "UTC")
    table = watch.misses_per_day("assignee", "UTC", owners=3)
    ranked = sorted(expected.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    assert [json.dumps(r.owner) for r in table.rows] == [owner for owner, _ in ranked[:3]]
    assert table.other_owners == len(ranked) - 3
    assert list(table.other.counts) == [sum(c[i] for _, c in ranked[3:]) for i in range(MISS_DAYS)]
    assert table.total == sum(r.total for r in table.rows) + table.other.total
    assert watch.miss_keys == ("assignee",)
    # Keys that name no owner attribute count nothing.
    assert watch_of(lines, cases.GEN_NOW, by=("channel",)).miss_keys == ()


def test_memory_is_bounded_by_the_window(tmp_path):
    """Only misses due in the window before now are kept per owner (per UTC quarter hour)."""
    lines = with_owners(cases.random_history(13, tickets=300), 13)
    watch = watch_of(lines, "2026-04-20T00:00:00Z")  # the history ends in early March
    assert all(not owners for owners in watch.misses.values())
    assert watch.misses_per_day("assignee", "UTC").total == 0
    assert watch.breached_total > 0


def test_no_tickets():
    result = Watchlist(["assignee"]).finish()
    assert result.now is None and result.breached == () and result.at_risk == ()
    assert result.misses_per_day("assignee", "UTC").days == ()
