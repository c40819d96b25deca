"""More report figures (SEMANTICS.md section 13): ``time_spent`` and
``sentiment`` on events, and the ``kpis`` figures ``reply_seconds``,
``handle_seconds``, ``sentiment``, ``bot_share`` and ``bot_resolved_rate``.

The random-history tests check every figure against the independent
recomputation of tests/test_report.py (``expected_report``, written from the
contract's words); the named cases below pin each rule on a small history.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest

from sla.cli.app import main
from sla.engine.events import events_from_dicts
from sla.engine.tracker import Tracker
from sla.errors import EventError
from sla.io import pipeline
from sla.io.policy_files import load_policies

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report import (
    GEN_NOW,
    POLICY,
    SIMPLE_POLICY,
    assert_report_matches,
    at,
    ev,
    evaluate_rows,
    expected_report,
    random_history,
    run,
)

ROOT = Path(__file__).resolve().parent.parent
NO_WAIT = None
EMPTY_HANDLE = {"tickets": 0, "total": 0.0, "mean": None}
EMPTY_SENTIMENT = {"tickets": 0, "first_mean": None, "last_mean": None, "change_mean": None}


def kpis(tmp_path: Path, events: list[dict], now_minutes: float, *args: str, **kw) -> dict:
    """The one ``kpis`` entry of a report over ``events`` at ``at(now_minutes)``."""
    report = run(tmp_path, events, *args, now=at(now_minutes), **kw)
    assert len(report["kpis"]) == 1, report["kpis"]
    return report["kpis"][0]


def said(tmp_path: Path, events: list[dict], capsys, now_minutes: float = 600) -> tuple[dict, str]:
    """The report and what it said on standard error."""
    capsys.readouterr()
    report = run(tmp_path, events, now=at(now_minutes))
    return report, capsys.readouterr().err


# ------------------------------------------------ against the recomputation
@pytest.mark.parametrize("seed", range(20, 44))
def test_many_random_histories_match_the_recomputation(tmp_path, seed):
    lines = random_history(seed, tickets=120)
    report = run(tmp_path, lines, policy=POLICY, now=GEN_NOW)
    rows = evaluate_rows(tmp_path, POLICY, GEN_NOW)
    assert_report_matches(report, expected_report(lines, rows, GEN_NOW, [], None, "UTC"))
    by, period, tz = ["channel", "policy"], "week", "America/New_York"
    grouped = run(
        tmp_path, lines, "--by", ",".join(by), "--period", period, "--tz", tz, policy=POLICY, now=GEN_NOW
    )
    assert_report_matches(grouped, expected_report(lines, rows, GEN_NOW, by, period, tz))


def test_the_random_histories_exercise_every_new_figure(tmp_path):
    lines = random_history(3)
    assert any("time_spent" in e for e in lines) and any("sentiment" in e for e in lines)
    assert any(e["type"] == "created" and e.get("status") == "closed" for e in lines)
    report = run(tmp_path, lines, "--by", "channel", policy=POLICY, now=GEN_NOW)
    rows = report["kpis"]
    assert all(r["reply_seconds"] is not None for r in rows if r["tickets"] > 10)
    assert sum(r["handle_seconds"]["tickets"] for r in rows) > 50
    assert sum(r["sentiment"]["tickets"] for r in rows) > 50
    assert any(r["bot_resolved_rate"] for r in rows) and all(r["bot_share"] for r in rows)
    overall = run(tmp_path, lines, policy=POLICY, now=GEN_NOW)["kpis"][0]
    assert overall["handle_seconds"]["tickets"] == sum(r["handle_seconds"]["tickets"] for r in rows)
    assert overall["handle_seconds"]["total"] == pytest.approx(
        sum(r["handle_seconds"]["total"] for r in rows)
    )


@pytest.mark.parametrize("now", ["2026-03-01T00:00:00+02:00", "2026-03-04T13:30:00Z"])
def test_random_histories_at_earlier_nows(tmp_path, now):
    lines = random_history(31, tickets=150)
    actual = run(tmp_path, lines, "--by", "priority", policy=POLICY, now=now)
    rows = evaluate_rows(tmp_path, POLICY, now)
    utc = json.loads(json.dumps(actual["now"]))
    assert_report_matches(actual, expected_report(lines, rows, utc, ["priority"], None, "UTC"))


# ------------------------------------------------------------- reply_seconds
def test_waits_open_at_created_and_customer_messages_and_close_at_an_agent_reply(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 5, "message", author="customer"),  # a wait is open (since created): no new one
        ev("A", 10, "message", author="agent"),  # closes it: 600 s
        ev("A", 12, "message", author="agent"),  # no wait open: nothing
        ev("A", 20, "message", author="customer"),  # opens
        ev("A", 25, "message", author="customer"),  # one is open: no new one
        ev("A", 27, "message", author="bot"),  # a bot never closes a wait
        ev("A", 28, "message", author="agent", public=False),  # nor does an internal note
        ev("A", 29, "message", author="customer", public=False),  # nor opens one
        ev("A", 40, "message", author="agent"),  # closes: 1200 s
        ev("A", 50, "message", author="customer", public=False),  # internal: opens nothing
        ev("A", 55, "message", author="agent"),
    ]
    k = kpis(tmp_path, events, 600)
    assert k["reply_seconds"] == {"mean": 900.0, "p50": 900.0, "p90": 1140.0}


def test_a_wait_open_when_the_ticket_becomes_done_is_not_counted(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 10, "status", status="solved"),  # closes the wait from created, uncounted
        ev("A", 20, "message", author="agent"),  # no wait open
        ev("A", 30, "status", status="open"),  # reopening opens no wait
        ev("A", 40, "message", author="agent"),
        ev("B", 0, "created", fields={}),
        ev("B", 5, "message", author="agent"),  # 300 s
        ev("B", 6, "message", author="customer"),
        ev("B", 8, "status", status="pending"),  # not done: the wait stays open
        ev("B", 10, "status", status="closed"),  # becomes done: closes uncounted
        ev("B", 11, "status", status="solved"),  # done to done
        ev("B", 12, "message", author="agent"),
    ]
    assert kpis(tmp_path, events, 600)["reply_seconds"] == {"mean": 300.0, "p50": 300.0, "p90": 300.0}


def test_a_customer_message_after_done_opens_a_wait(tmp_path):
    """The contract's words: a public customer message opens a wait when none is
    open, whatever the status (a customer writing on a solved ticket waits)."""
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 10, "status", status="solved"),
        ev("A", 20, "message", author="customer"),
        ev("A", 25, "message", author="agent"),
    ]
    assert kpis(tmp_path, events, 600)["reply_seconds"]["mean"] == 300.0


def test_a_ticket_created_done_opens_no_wait_at_created(tmp_path):
    events = [
        ev("A", 0, "created", fields={}, status="closed"),
        ev("A", 10, "message", author="agent"),
        ev("B", 0, "created", fields={}, status="solved"),
        ev("B", 20, "message", author="customer"),
        ev("B", 21, "message", author="agent"),  # 60 s: the customer's message opened it
    ]
    assert kpis(tmp_path, events, 600)["reply_seconds"] == {"mean": 60.0, "p50": 60.0, "p90": 60.0}


def test_done_follows_the_policy_files_done_statuses(tmp_path):
    policy = "done_statuses: [resolved]\n" + SIMPLE_POLICY
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 5, "status", status="solved"),  # not done under this policy: the wait stays open
        ev("A", 10, "message", author="agent"),  # 600 s
        ev("B", 0, "created", fields={}, status="resolved"),
        ev("B", 10, "message", author="agent"),  # created done: no wait
    ]
    assert kpis(tmp_path, events, 600, policy=policy)["reply_seconds"]["mean"] == 600.0


def test_a_wait_open_at_now_is_not_counted_and_a_reply_at_now_is(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 40, "message", author="agent"),  # after now
        ev("B", 0, "created", fields={}),
        ev("B", 30, "message", author="agent"),  # exactly at now: 1800 s
        ev("C", 0, "created", fields={}),
        ev("C", 10, "message", author="agent"),  # 600 s
        ev("C", 20, "message", author="customer"),  # open at now
    ]
    assert kpis(tmp_path, events, 30)["reply_seconds"] == {"mean": 1200.0, "p50": 1200.0, "p90": 1680.0}
    assert kpis(tmp_path, events[:2], 30)["reply_seconds"] is NO_WAIT


def test_a_reply_at_the_same_instant_as_the_customer_message_is_a_zero_wait(tmp_path):
    events = [
        ev("A", 0, "created", fields={}, status="solved"),
        ev("A", 10, "message", author="customer"),
        ev("A", 10, "message", author="agent"),  # after it in input order
        ev("B", 0, "created", fields={}, status="solved"),
        ev("B", 10, "message", author="agent"),  # before it in input order: no wait open yet
        ev("B", 10, "message", author="customer"),  # open at now
    ]
    assert kpis(tmp_path, events, 600)["reply_seconds"] == {"mean": 0.0, "p50": 0.0, "p90": 0.0}


# ------------------------------------------------------------ handle_seconds
def test_handle_seconds_sums_time_spent_up_to_now(tmp_path):
    events = [
        ev("A", 0, "created", fields={}, time_spent=60),
        ev("A", 5, "message", author="agent", public=False, time_spent=120.5),  # notes count
        ev("A", 6, "status", status="pending", time_spent=0),
        ev("A", 7, "csat", score=5, time_spent=None),  # null: absent
        ev("A", 50, "message", author="agent", time_spent=1000),  # after now
        ev("B", 0, "created", fields={}),
        ev("B", 5, "update", fields={}, time_spent=0),  # 0 is logged work: B counts
        ev("C", 0, "created", fields={}),  # no time_spent: not counted
        ev("D", 0, "created", fields={}),
        ev("D", 40, "message", author="agent", time_spent=30),  # only after now
    ]
    handle = kpis(tmp_path, events, 30)["handle_seconds"]
    assert handle == {"tickets": 2, "total": 180.5, "mean": 90.25}


def test_handle_seconds_without_time_spent(tmp_path):
    k = kpis(tmp_path, [ev("A", 0, "created", fields={}), ev("A", 5, "message", author="agent")], 30)
    assert k["handle_seconds"] == EMPTY_HANDLE
    assert k["sentiment"] == EMPTY_SENTIMENT
    assert (k["bot_share"], k["bot_resolved_rate"]) == (0.0, None)


# ----------------------------------------------------------------- sentiment
def test_sentiment_first_and_last_over_public_customer_messages(tmp_path):
    events = [
        # A: -0.5 .. 0.25 (agent, internal and null scores ignored; the one after now too)
        ev("A", 0, "created", fields={}),
        ev("A", 1, "message", author="agent", sentiment=0.9),
        ev("A", 2, "message", author="customer", public=False, sentiment=-1),
        ev("A", 3, "message", author="customer", sentiment=None),
        ev("A", 4, "message", author="customer", sentiment=-0.5),
        ev("A", 5, "message", author="bot", sentiment=1),
        ev("A", 6, "message", author="customer"),
        ev("A", 7, "message", author="customer", sentiment=0.25),
        ev("A", 40, "message", author="customer", sentiment=1),
        # B: one message is both first and last
        ev("B", 0, "created", fields={}),
        ev("B", 3, "message", author="customer", sentiment=-1),
        # C: at the same instant, processing order is input order
        ev("C", 0, "created", fields={}),
        ev("C", 9, "message", author="customer", sentiment=0.5),
        ev("C", 9, "message", author="customer", sentiment=1),
        # D: no score at or before now: not counted
        ev("D", 0, "created", fields={}),
        ev("D", 5, "message", author="customer"),
        ev("D", 31, "message", author="customer", sentiment=0.0),
    ]
    mood = kpis(tmp_path, events, 30)["sentiment"]
    assert mood["tickets"] == 3
    assert mood["first_mean"] == pytest.approx((-0.5 - 1 + 0.5) / 3)
    assert mood["last_mean"] == pytest.approx((0.25 - 1 + 1) / 3)
    assert mood["change_mean"] == pytest.approx((0.75 + 0 + 0.5) / 3)


def test_a_single_score_is_first_and_last_with_no_change(tmp_path):
    events = [ev("A", 0, "created", fields={}), ev("A", 5, "message", author="customer", sentiment=-0.4)]
    mood = kpis(tmp_path, events, 30)["sentiment"]
    assert mood == {"tickets": 1, "first_mean": -0.4, "last_mean": -0.4, "change_mean": 0.0}


# -------------------------------------------------------------- bot figures
def test_bot_share_counts_public_agent_and_bot_messages(tmp_path):
    events = [
        ev("A", 0, "created", fields={}),
        ev("A", 1, "message", author="bot"),
        ev("A", 2, "message", author="bot", public=False),  # internal: out
        ev("A", 3, "message", author="customer"),  # customers: out of both
        ev("A", 4, "message", author="agent"),
        ev("A", 5, "message", author="agent", public=False),
        ev("B", 0, "created", fields={}),
        ev("B", 1, "message", author="bot"),
        ev("B", 40, "message", author="agent"),  # after now
    ]
    k = kpis(tmp_path, events, 30)
    assert k["bot_share"] == pytest.approx(2 / 3)
    assert k["messages_out"] == 3  # the same messages as section 7 counts


def test_bot_share_is_null_without_agent_or_bot_messages(tmp_path):
    events = [ev("A", 0, "created", fields={}), ev("A", 1, "message", author="customer")]
    events.append(ev("A", 2, "message", author="bot", public=False))
    assert kpis(tmp_path, events, 30)["bot_share"] is None


def test_bot_resolved_rate_is_over_the_tickets_done_at_now(tmp_path):
    events = [
        # A: done, a bot answered alone: counted
        ev("A", 0, "created", fields={}),
        ev("A", 1, "message", author="bot"),
        ev("A", 2, "message", author="agent", public=False),  # an internal note is no answer
        ev("A", 3, "status", status="solved"),
        # B: done, bot and agent: not counted
        ev("B", 0, "created", fields={}),
        ev("B", 1, "message", author="bot"),
        ev("B", 2, "message", author="agent"),
        ev("B", 3, "status", status="closed"),
        # C: done, no message at all: in the denominator only
        ev("C", 0, "created", fields={}, status="solved"),
        # D: a bot alone but not done at now: out of both
        ev("D", 0, "created", fields={}),
        ev("D", 1, "message", author="bot"),
        ev("D", 2, "status", status="solved"),
        ev("D", 3, "status", status="open"),
        # E: done, bot alone at now; the agent message comes after now
        ev("E", 0, "created", fields={}),
        ev("E", 1, "message", author="bot"),
        ev("E", 2, "status", status="solved"),
        ev("E", 40, "message", author="agent"),
        # F: done, only an internal bot note: not counted
        ev("F", 0, "created", fields={}),
        ev("F", 1, "message", author="bot", public=False),
        ev("F", 2, "status", status="solved"),
    ]
    k = kpis(tmp_path, events, 30)
    assert k["resolution_rate"] == pytest.approx(5 / 6)
    assert k["bot_resolved_rate"] == pytest.approx(2 / 5)


def test_bot_resolved_rate_is_null_without_done_tickets(tmp_path):
    events = [ev("A", 0, "created", fields={}), ev("A", 1, "message", author="bot")]
    k = kpis(tmp_path, events, 30)
    assert (k["bot_resolved_rate"], k["bot_share"]) == (None, 1.0)


def test_the_new_figures_group_like_the_ticket_figures(tmp_path):
    events = [
        ev("A", 0, "created", fields={"channel": "email"}, time_spent=10),
        ev("A", 5, "update", fields={"channel": "chat"}),  # grouped by the value at now
        ev("A", 6, "message", author="bot"),
        ev("B", 0, "created", fields={"channel": "email"}, time_spent=20),
        ev("B", 6, "message", author="agent"),
    ]
    report = run(tmp_path, events, "--by", "channel", now=at(30))
    rows = {r["group"]["channel"]: r for r in report["kpis"]}
    assert rows["chat"]["handle_seconds"]["total"] == 10.0 and rows["chat"]["bot_share"] == 1.0
    assert rows["email"]["handle_seconds"]["total"] == 20.0 and rows["email"]["bot_share"] == 0.0
    assert rows["email"]["reply_seconds"]["mean"] == 360.0 and rows["chat"]["reply_seconds"] is None


# --------------------------------------------------------------- rejections
GOOD = [ev("G", 0, "created", fields={}), ev("G", 5, "message", author="agent")]
TIME_SPENT_WANTED = "expected a finite number of seconds, 0 or more (or null)"
SENTIMENT_WANTED = "expected a finite number from -1 to 1 (or null)"
REJECTED = [
    ("time_spent", -1, "message", f"time_spent is -1; {TIME_SPENT_WANTED}"),
    ("time_spent", -0.001, "status", f"time_spent is -0.001; {TIME_SPENT_WANTED}"),
    ("time_spent", True, "message", f"time_spent is True; {TIME_SPENT_WANTED}"),
    ("time_spent", False, "csat", f"time_spent is False; {TIME_SPENT_WANTED}"),
    ("time_spent", "60", "update", f"time_spent is '60'; {TIME_SPENT_WANTED}"),
    ("time_spent", [60], "message", f"time_spent is [60]; {TIME_SPENT_WANTED}"),
    ("time_spent", {"s": 1}, "message", f"time_spent is {{'s': 1}}; {TIME_SPENT_WANTED}"),
    ("sentiment", 1.0001, "message", f"sentiment is 1.0001; {SENTIMENT_WANTED}"),
    ("sentiment", -2, "message", f"sentiment is -2; {SENTIMENT_WANTED}"),
    ("sentiment", True, "message", f"sentiment is True; {SENTIMENT_WANTED}"),
    ("sentiment", "0.5", "message", f"sentiment is '0.5'; {SENTIMENT_WANTED}"),
    (
        "sentiment",
        0.5,
        "status",
        "sentiment is 0.5 on a status event; only a message carries a sentiment score",
    ),
    ("sentiment", 0, "csat", "sentiment is 0 on a csat event; only a message carries a sentiment score"),
    (
        "sentiment",
        -1,
        "update",
        "sentiment is -1 on a update event; only a message carries a sentiment score",
    ),
]


def _event(kind: str, minutes: float = 5, **kw) -> dict:
    extra = {
        "message": {"author": "customer"},
        "status": {"status": "open"},
        "update": {"fields": {}},
        "csat": {"score": 4},
    }[kind]
    return ev("B", minutes, kind, **extra, **kw)


@pytest.mark.parametrize(("key", "value", "kind", "message"), REJECTED, ids=repr)
def test_a_bad_value_rejects_its_ticket_naming_the_field(tmp_path, capsys, key, value, kind, message):
    events = [*GOOD, ev("B", 0, "created", fields={}), _event(kind, **{key: value})]
    report, err = said(tmp_path, events, capsys)
    assert (report["tickets"], report["rejected"]) == (1, 1)
    assert f"rejected: line 4: ticket B: {message}" in err


def test_sentiment_on_a_created_event_rejects_and_even_after_now(tmp_path, capsys):
    events = [*GOOD, ev("B", 0, "created", fields={}, sentiment=0.1), ev("C", 0, "created", fields={})]
    events.append(ev("C", 900, "message", author="agent", time_spent=-5))  # after now: checked all the same
    report, err = said(tmp_path, events, capsys, now_minutes=60)
    assert report["rejected"] == 2
    assert "line 3: ticket B: sentiment is 0.1 on a created event" in err
    assert f"line 5: ticket C: time_spent is -5; {TIME_SPENT_WANTED}" in err


@pytest.mark.parametrize("raw", ["1e999", "-1e999"])
def test_an_infinite_value_in_jsonl_rejects_its_ticket(tmp_path, capsys, raw):
    line = json.dumps(_event("message", time_spent="@@", sentiment="##"))
    events = [*GOOD, ev("B", 0, "created", fields={})]
    report, err = said(tmp_path, [*events, line.replace('"@@"', raw).replace('"##"', "0")], capsys)
    assert report["rejected"] == 1 and "time_spent is inf" in err or "time_spent is -inf" in err
    report, err = said(tmp_path, [*events, line.replace('"@@"', "0").replace('"##"', raw)], capsys)
    assert report["rejected"] == 1 and f"sentiment is {'-' if raw[0] == '-' else ''}inf; " in err


@pytest.mark.parametrize("key", ["time_spent", "sentiment"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=repr)
def test_nan_and_infinity_from_the_api_reject_the_ticket(key, value):
    ticket = events_from_dicts(
        [{"at": at(0), "type": "created", "fields": {}}, {**_event("message"), key: value}], "B"
    )
    assert ticket.error is not None and f"{key} is {value!r}" in ticket.error.reason


def test_null_values_and_the_bounds_are_accepted():
    ticket = events_from_dicts(
        [
            {"at": at(0), "type": "created", "fields": {}, "time_spent": 0, "sentiment": None},
            {**_event("status"), "sentiment": None, "time_spent": None},
            {**_event("message"), "sentiment": -1, "time_spent": 10**6},
            {**_event("message"), "sentiment": 1, "time_spent": 1.5e300},
            {**_event("message"), "sentiment": 0},
        ],
        "B",
    )
    assert ticket.error is None
    assert [(e.time_spent, e.sentiment) for e in ticket.events] == [
        (0.0, None),
        (None, None),
        (1e6, -1.0),
        (1.5e300, 1.0),
        (None, 0.0),
    ]
    assert all(type(e.time_spent) in (float, type(None)) for e in ticket.events)


def test_the_tracker_checks_the_new_fields_too():
    tracker = Tracker(load_policies(SIMPLE_POLICY), "T1")
    tracker.feed({"at": at(0), "type": "created", "fields": {}, "time_spent": 5})
    with pytest.raises(EventError, match="sentiment is 0.5 on a status event"):
        tracker.feed({"at": at(1), "type": "status", "status": "open", "sentiment": 0.5})


def test_a_typed_event_keeps_its_numbers():
    first = events_from_dicts([{"at": at(0), "type": "created", "fields": {}, "time_spent": 7}], "A")
    again = events_from_dicts(first.events, "A")
    assert (again.events[0].time_spent, again.events[0].sentiment) == (7.0, None)


# ------------------------------------------------------- every input path
def _sorted(report: dict) -> dict:
    def key(row: dict) -> str:
        return json.dumps(row["group"], sort_keys=True) + row.get("metric", "")

    for section in ("sla", "kpis"):
        report[section].sort(key=key)
    return report


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "shuffled"])
def test_jobs_2_gives_the_report_of_jobs_1(tmp_path, monkeypatch, grouped):
    lines = random_history(41, tickets=300)
    if grouped:
        lines.sort(key=lambda e: int(e["ticket_id"][1:]))  # stable: each ticket's order kept
    args = ("--by", "channel,policy", "--period", "week", "--tz", "Europe/Berlin")
    one = run(tmp_path, lines, *args, "--jobs", "1", policy=POLICY, now=GEN_NOW)
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 20_000)
    taken: list[str] = []
    pool = pipeline._pool
    monkeypatch.setattr(pipeline, "_pool", lambda *a: taken.append("pool") or pool(*a))
    two = run(tmp_path, lines, *args, "--jobs", "2", policy=POLICY, now=GEN_NOW)
    assert taken, "the parallel path was not taken"
    assert _sorted(two) == _sorted(one)  # exactly: sums are rounded once, whatever the order
    assert any(r["handle_seconds"]["tickets"] for r in one["kpis"])


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


CSV_COLUMNS = [
    "ticket_id",
    "at",
    "type",
    "fields",
    "status",
    "author",
    "public",
    "score",
    "time_spent",
    "sentiment",
]


def test_csv_and_parquet_input_carry_time_spent_and_sentiment(tmp_path, capsys):
    lines = random_history(42, tickets=150)
    for e in lines:  # CSV has no types: a cell "60" is the number 60, so make the bad text another bad value
        if isinstance(e.get("time_spent"), str):
            e["time_spent"] = -1
    want = run(tmp_path, lines, "--by", "channel", policy=POLICY, now=GEN_NOW)
    assert sum(r["sentiment"]["tickets"] for r in want["kpis"]) > 10
    path = tmp_path / "events.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for e in lines:
            writer.writerow([_csv_cell(e.get(c)) for c in CSV_COLUMNS])
    out = tmp_path / "csv.json"
    policy = tmp_path / "policy.yaml"
    argv = ["report", "--policies", str(policy), "--events", str(path), "--now", GEN_NOW, "--by", "channel"]
    main([*argv, "--format", "json", "--output", str(out)])
    got = json.loads(out.read_text())
    del got["meta"], want["meta"]
    assert _sorted(got) == _sorted(want)
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    columns = {c: [e.get(c) for e in lines] for c in CSV_COLUMNS}
    columns["fields"] = [None if f is None else json.dumps(f) for f in columns["fields"]]
    for name in ("score", "time_spent", "sentiment"):  # a typed column: wrong types can't be written
        columns[name] = [None if isinstance(v, (str, bool)) else v for v in columns[name]]
    table = pyarrow.table(columns)
    pq.write_table(table, tmp_path / "events.parquet")
    argv[argv.index(str(path))] = str(tmp_path / "events.parquet")
    main([*argv, "--format", "json", "--output", str(out)])
    assert table.schema.field("time_spent").type == pyarrow.float64()
    assert json.loads(out.read_text())["tickets"] > 100


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("time_spent", "nan", f"time_spent is nan; {TIME_SPENT_WANTED}"),
        ("time_spent", "-inf", f"time_spent is -inf; {TIME_SPENT_WANTED}"),
        ("time_spent", "1e999", f"time_spent is inf; {TIME_SPENT_WANTED}"),
        ("time_spent", "an hour", f"time_spent is 'an hour'; {TIME_SPENT_WANTED}"),
        ("sentiment", "NaN", f"sentiment is nan; {SENTIMENT_WANTED}"),
        ("sentiment", "1.5", f"sentiment is 1.5; {SENTIMENT_WANTED}"),
        ("sentiment", "positive", f"sentiment is 'positive'; {SENTIMENT_WANTED}"),
    ],
)
def test_a_bad_csv_cell_rejects_its_ticket(tmp_path, capsys, column, cell, message):
    rows = [
        "ticket_id,at,type,fields,author,time_spent,sentiment",
        f"G,{at(0)},created,{{}},,,",
        f"G,{at(5)},message,,customer,12,0.5",
        f"B,{at(0)},created,{{}},,,",
        f"B,{at(5)},message,,customer,{cell if column == 'time_spent' else ''},{cell if column == 'sentiment' else ''}",
    ]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(rows) + "\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(SIMPLE_POLICY)
    out = tmp_path / "report.json"
    status = main(
        ["report", "--policies", str(policy), "--events", str(path), "--now", at(60), "--output", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 1 and f"rejected: line 5: ticket B: {message}" in err
    k = json.loads(out.read_text())["kpis"][0]
    assert k["handle_seconds"] == {"tickets": 1, "total": 12.0, "mean": 12.0}
    assert k["sentiment"]["first_mean"] == 0.5


def test_csv_map_reads_the_new_fields(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {Ticket: ticket_id, Time: at, Event: type, Role: author, Spent: time_spent, Mood: sentiment}\n"
    )
    path = tmp_path / "export.csv"
    path.write_text(
        "Ticket,Time,Event,Role,Spent,Mood\n"
        f"A,{at(0)},created,,30,\n"
        f"A,{at(1)},message,customer,,-0.5\n"
        f"A,{at(2)},message,agent,90,\n"
        f"A,{at(3)},message,customer,,0.5\n"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text(SIMPLE_POLICY)
    out = tmp_path / "report.json"
    argv = ["report", "--policies", str(policy), "--events", str(path), "--map", str(mapping)]
    assert main([*argv, "--now", at(60), "--output", str(out)]) == 0
    k = json.loads(out.read_text())["kpis"][0]
    assert k["handle_seconds"] == {"tickets": 1, "total": 120.0, "mean": 120.0}
    assert k["sentiment"] == {"tickets": 1, "first_mean": -0.5, "last_mean": 0.5, "change_mean": 1.0}
    assert k["reply_seconds"]["mean"] == 120.0


# --------------------------------------------------------- output formats
NO_REPLY = [
    ev("A", 0, "created", fields={"channel": "email"}, time_spent=30),
    ev("A", 1, "message", author="customer", sentiment=-0.25),
]


def test_csv_output_flattens_the_new_figures_and_a_null_reply_to_empty_cells(tmp_path):
    text = run(tmp_path, NO_REPLY, now=at(30), fmt="csv")
    cells = {r["figure"]: r["value"] for r in csv.DictReader(io.StringIO(text)) if r["section"] == "kpis"}
    assert {k: cells[k] for k in cells if k.startswith("reply_seconds")} == {
        "reply_seconds.mean": "",
        "reply_seconds.p50": "",
        "reply_seconds.p90": "",
    }
    assert cells["handle_seconds.tickets"] == "1" and cells["handle_seconds.total"] == "30.0"
    assert cells["sentiment.change_mean"] == "0.0" and cells["sentiment.first_mean"] == "-0.25"
    assert cells["bot_share"] == "" and cells["bot_resolved_rate"] == ""


def test_records_and_parquet_have_the_same_columns_with_and_without_a_reply(tmp_path):
    from sla.engine.jsonl import read_jsonl
    from sla.report.figures import build_report

    events = [
        *NO_REPLY,
        ev("B", 0, "created", fields={"channel": "chat"}),
        ev("B", 3, "message", author="agent"),
    ]
    tickets, _ = read_jsonl([json.dumps(e) for e in events])
    report = build_report(load_policies(SIMPLE_POLICY), tickets, at(30), by=["channel"])
    chat, email = report.records("kpis")
    assert set(chat) == set(email)
    assert email["reply_seconds.p90"] is None and chat["reply_seconds.p90"] == 180.0
    assert email["handle_seconds.mean"] == 30.0 and chat["handle_seconds.mean"] is None
    assert email["sentiment.tickets"] == 1 and chat["sentiment.last_mean"] is None
    assert report.kpis[1].handle_seconds.total == 30.0 and report.kpis[0].reply_seconds is not None
    overall = report.extras.overall_kpis
    assert overall is not None and overall.handle_seconds.tickets == 1 and overall.bot_share == 0.0
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from sla.report.formats import write_report

    with (tmp_path / "r.parquet").open("wb") as out:
        write_report(report, out, "parquet")
    table = pq.read_table(tmp_path / "r.parquet")
    assert {"reply_seconds.mean", "handle_seconds.total", "sentiment.change_mean", "bot_share"} <= set(
        table.column_names
    )


def test_the_table_shows_the_new_figures_within_100_columns(tmp_path):
    events = [
        ev("A", 0, "created", fields={"channel": "email"}, time_spent=5400),
        ev("A", 1, "message", author="customer", sentiment=-0.5),
        ev("A", 90, "message", author="agent"),
        ev("A", 91, "message", author="customer", sentiment=0.25),
        ev("B", 0, "created", fields={"channel": "email"}),
        ev("B", 1, "message", author="bot"),
        ev("B", 2, "status", status="solved"),
    ]
    table = run(tmp_path, events, "--by", "channel", now=at(600), fmt="table")
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 100
    start = lines.index("Replies, work, sentiment, bots  (durations in calendar time)")
    assert lines[start + 1].split()[:3] == ["channel", "reply", "p50"]
    assert lines[start + 3].split() == [
        "email",
        "1h30m",
        "1h30m",
        "1",
        "1h30m",
        "1",
        "+0.75",
        "50.0%",
        "100.0%",
    ]
    assert "bot solo: of the done tickets, those only a bot answered" in " ".join(lines[start + 4 :])


def test_a_handle_total_beyond_the_float_range_is_null_in_every_format(tmp_path):
    events = [
        ev("A", 0, "created", fields={}, time_spent=1e308),
        ev("A", 5, "message", author="agent", time_spent=1e308),
        ev("B", 0, "created", fields={}, time_spent=1.5e308),
    ]
    k = kpis(tmp_path, events, 30)
    assert k["handle_seconds"] == {"tickets": 2, "total": None, "mean": None}
    text = run(tmp_path, events, now=at(30), fmt="csv")
    cells = {r["figure"]: r["value"] for r in csv.DictReader(io.StringIO(text)) if r["section"] == "kpis"}
    assert (cells["handle_seconds.total"], cells["handle_seconds.mean"]) == ("", "")
    table = run(tmp_path, events, now=at(30), fmt="table").splitlines()
    start = table.index("Replies, work, sentiment, bots  (durations in calendar time)")
    assert table[start + 3].split()[3:5] == ["2", "-"]
