"""``sla generate``: deterministic, valid, and shaped like what the example
policies measure (assignment, desks' hours, bots on social channels, work
logged, sentiment), so every example policy reports believable figures."""

from __future__ import annotations

import io
import json
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from sla.cli.app import main
from sla.io.generate import generate, write_history
from sla.io.generate_text import FIRST_NEUTRAL, TONES, TOPICS, body
from sla.io.generate_world import SOCIAL, START_S, WorkHours, desks, iso
from sla.io.policy_files import load_policies

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))
NOW = "2026-04-01T00:00:00Z"
Ticket = list[dict[str, object]]


def seconds(event: dict[str, object]) -> int:
    return int(datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")).timestamp())


def public_from(event: dict[str, object], author: str) -> bool:
    return event["type"] == "message" and event["author"] == author and event.get("public", True) is True


def fields(ticket: Ticket) -> dict[str, object]:
    created = ticket[0]["fields"]
    assert isinstance(created, dict)
    return created


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "events.jsonl"
    assert main(["generate", "--tickets", "2000", "--seed", "11", "--output", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def tickets(history: Path) -> dict[str, Ticket]:
    grouped: dict[str, Ticket] = defaultdict(list)
    order: list[str] = []
    for line in history.read_bytes().splitlines():
        event = orjson.loads(line)
        if not grouped[event["ticket_id"]]:
            order.append(event["ticket_id"])
        else:
            assert order[-1] == event["ticket_id"], "a ticket's lines are together"
        grouped[event["ticket_id"]].append(event)
    return dict(grouped)


def test_the_same_seed_gives_the_same_bytes():
    runs = []
    for seed in (5, 5, 6):
        out = io.BytesIO()
        count = write_history(out, tickets=300, seed=seed)
        assert count == out.getvalue().count(b"\n")
        runs.append(out.getvalue())
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_a_gz_output_name_is_gzip_compressed(tmp_path: Path):
    """A name never lies about its content: history.jsonl.gz is gzip, the
    same bytes inside as the plain file (and the same bytes run after run)."""
    import gzip

    plain, packed, again = tmp_path / "h.jsonl", tmp_path / "h.jsonl.gz", tmp_path / "again.jsonl.gz"
    for path in (plain, packed, again):
        assert main(["generate", "--tickets", "20", "--seed", "3", "--output", str(path)]) == 0
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    assert again.read_bytes() == packed.read_bytes()


def test_timestamps_are_whole_seconds_in_utc():
    assert iso(START_S) == "2026-01-05T00:00:00Z"
    assert iso(START_S + 86_399) == "2026-01-05T23:59:59Z"
    assert iso(START_S - 400 * 86_400) == "2024-12-01T00:00:00Z"  # outside the cached days


def test_every_event_is_valid(history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rows = tmp_path / "rows.jsonl"
    policy = str(ROOT / "policies" / "team-updates.yaml")
    assert (
        main(
            ["evaluate", "--policies", policy, "--events", str(history), "--now", NOW, "--output", str(rows)]
        )
        == 0
    )
    assert "reject" not in capsys.readouterr().err


def test_tickets_are_in_time_order_and_span_twelve_weeks(tickets: dict[str, Ticket]):
    assert len(tickets) == 2000
    for ticket in tickets.values():
        assert ticket[0]["type"] == "created"
        times = [seconds(e) for e in ticket]
        assert times == sorted(times)
    created = [seconds(t[0]) for t in tickets.values()]
    assert min(created) >= START_S
    assert max(created) < START_S + 85 * 86_400
    assert 6 < sum(map(len, tickets.values())) / len(tickets) < 8.5


def test_tickets_carry_what_the_policies_match_on(tickets: dict[str, Ticket]):
    created = [fields(t) for t in tickets.values()]
    for name in ("channel", "type", "category", "subject", "region", "requester", "lifetime_value"):
        assert all(name in f for f in created), name
    assert {f["region"] for f in created} == {"emea", "amer", "apac"}
    assert {"enterprise", "business", "free", "trial"} <= {f.get("tier") for f in created}
    assert 0.85 < sum("priority" in f for f in created) / len(created) < 1
    assert 0.85 < sum("requester_tz" in f for f in created) / len(created) < 1
    assert all(("followers" in f) == (f["channel"] in SOCIAL) for f in created)
    assert sum(f["type"] == "incident" for f in created) > 50
    vip = sum(isinstance(f["lifetime_value"], float) and f["lifetime_value"] >= 10_000 for f in created)
    assert 0.02 < vip / len(created) < 0.15
    social = [f for f in created if f["channel"] in SOCIAL]
    influencers = sum(isinstance(f["followers"], int) and f["followers"] >= 100_000 for f in social)
    assert 0 < influencers / len(social) < 0.1
    assert any("refund" in str(f["subject"]).lower() for f in created)
    requesters: dict[object, tuple[object, ...]] = {}
    for f in created:  # the same requester is the same customer
        known = (f.get("tier"), f["region"], f.get("requester_tz"), f["lifetime_value"])
        assert requesters.setdefault(f["requester"], known) == known


def test_assignment_comes_first_and_some_tickets_change_teams(tickets: dict[str, Ticket]):
    answered = assigned_first = moved = escalated = 0
    groups: set[object] = set()
    for ticket in tickets.values():
        updates = [e for e in ticket if e["type"] == "update" and "assignee" in e["fields"]]
        groups |= {e["fields"]["group"] for e in updates}
        moved += len({e["fields"]["group"] for e in updates}) > 1
        escalated += any(e.get("status") == "escalated" for e in ticket)
        replies = [seconds(e) for e in ticket if public_from(e, "agent")]
        if replies:
            answered += 1
            assigned_first += bool(updates) and seconds(updates[0]) < replies[0]
    assert groups == {"tier1", "tier2", "billing", "social"}
    assert assigned_first / answered > 0.85
    assert 0.05 < moved / len(tickets) < 0.25 and escalated > 50


def test_bots_answer_first_on_social_channels_only(tickets: dict[str, Ticket]):
    social = bot_first = bot_alone = 0
    for ticket in tickets.values():
        bots = [e for e in ticket if public_from(e, "bot")]
        if fields(ticket)["channel"] not in SOCIAL:
            assert not bots
            continue
        social += 1
        responses = [e for e in ticket if public_from(e, "bot") or public_from(e, "agent")]
        bot_first += bool(responses) and responses[0]["author"] == "bot"
        if bots and not any(public_from(e, "agent") for e in ticket):
            assert seconds(bots[0]) - seconds(ticket[0]) < 60
            bot_alone += ticket[-1].get("status") == "solved" or ticket[-1]["type"] == "csat"
    assert 0.3 < bot_first / social < 0.8
    assert 0.05 < bot_alone / social < 0.35


def test_agents_reply_in_their_desks_hours(tickets: dict[str, Ticket]):
    """Office replies fall in the calendars of the example policies, a few after hours;
    urgent tickets and incidents are answered around the clock."""
    berlin = load_policies(ROOT / "policies" / "b2b-tiers.yaml").calendars["berlin-office"]
    regions = load_policies(ROOT / "policies" / "b2b-regions.yaml").calendars
    office = {"emea": berlin, "amer": regions["new-york"], "apac": regions["singapore"]}
    inside: dict[str, list[bool]] = defaultdict(list)
    for ticket in tickets.values():
        f = fields(ticket)
        urgent = any(e["type"] == "update" and e["fields"].get("priority") == "urgent" for e in ticket)
        if f["channel"] in SOCIAL or f["type"] == "incident" or urgent or f.get("priority") == "urgent":
            key = "social" if f["channel"] in SOCIAL else "on call"
        else:
            key = str(f["region"])
        for event in ticket:
            if public_from(event, "agent"):
                at = datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00"))
                inside[key].append(office.get(key, berlin).is_open(at))
                inside["berlin"].append(berlin.is_open(at))
    for region in office:
        share = sum(inside[region]) / len(inside[region])
        assert 0.9 < share < 1, region  # mostly in hours, a few after
    assert sum(inside["berlin"]) / len(inside["berlin"]) > 0.5
    on_call = sum(inside["on call"]) / len(inside["on call"])
    assert 0.2 < on_call < 0.8 and len(inside["on call"]) > 100


def test_work_hours_follow_the_calendar():
    emea: WorkHours = desks()["emea"]
    monday_0900 = START_S + 8 * 3600  # 09:00 in Berlin
    assert emea.add(monday_0900, 0) == monday_0900 and emea.is_open(monday_0900)
    assert emea.add(monday_0900, 4 * 3600) == monday_0900 + 5 * 3600  # across the lunch break
    assert emea.add(monday_0900 - 3600, 60) == monday_0900 + 60
    friday_1800 = START_S + 4 * 86_400 + 17 * 3600
    assert emea.add(friday_1800, 60) == monday_0900 + 7 * 86_400 + 60
    assert not emea.is_open(friday_1800)


def test_time_spent_and_sentiment_are_in_range(tickets: dict[str, Ticket]):
    logged = agent_replies = with_body = with_sentiment = 0
    for ticket in tickets.values():
        for event in ticket:
            if "time_spent" in event:
                assert isinstance(event["time_spent"], int) and 0 <= event["time_spent"] <= 4 * 3600
                assert event["type"] in ("message", "status") and event.get("author", "agent") == "agent"
                logged += 1
            if "sentiment" in event:
                assert public_from(event, "customer") and "body" in event
                assert isinstance(event["sentiment"], float | int) and -1 <= event["sentiment"] <= 1
                with_sentiment += 1
            if "body" in event:
                assert public_from(event, "customer") and isinstance(event["body"], str)
                with_body += 1
            agent_replies += public_from(event, "agent")
    assert logged > agent_replies
    assert 0.3 < with_sentiment / with_body < 0.9


def test_sentiment_drifts_up_and_is_worse_on_slow_tickets(tickets: dict[str, Ticket]):
    changes, fast, slow = [], [], []
    for ticket in tickets.values():
        scores = [float(e["sentiment"]) for e in ticket if "sentiment" in e]
        if len(scores) > 1:
            changes.append(scores[-1] - scores[0])
        replies = [seconds(e) for e in ticket if public_from(e, "agent")]
        if scores and replies:
            wait = replies[0] - seconds(ticket[0])
            (fast if wait < 3600 else slow if wait > 12 * 3600 else []).append(scores[-1])
    assert statistics.mean(changes) > 0.1
    assert statistics.mean(fast) > statistics.mean(slow) + 0.1


def test_bodies_read_like_their_sentiment():
    vader = pytest.importorskip("vaderSentiment.vaderSentiment").SentimentIntensityAnalyzer()
    for mood in (-0.9, -0.4, 0.4, 0.9):
        for pick in (0.0, 0.3, 0.5, 0.7, 0.99):
            for topic in (None, *TOPICS.values()):
                text = body(mood, pick, topic)
                score = vader.polarity_scores(text)["compound"]
                assert score * mood > 0, text
    for sentence in TONES[2] + FIRST_NEUTRAL + tuple(s for topic in TOPICS.values() for s in topic):
        assert abs(vader.polarity_scores(sentence)["compound"]) < 0.2, sentence


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.stem)
def test_every_example_policy_measures_most_tickets_believably(
    policy: Path, history: Path, tickets: dict[str, Ticket], tmp_path: Path
):
    events = history
    if policy.stem == "social-care":  # its comment says it leaves email and web without an SLA
        events = tmp_path / "social.jsonl"
        social = [t for t in tickets.values() if fields(t)["channel"] in SOCIAL]
        events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for t in social for e in t))
    out = tmp_path / "report.json"
    argv = ["report", "--policies", str(policy), "--events", str(events), "--now", NOW]
    assert main([*argv, "--format", "json", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["rejected"] == 0
    assert report["meta"]["unmeasured_tickets"] < 0.1 * report["tickets"]
    compliance = {row["metric"]: row["compliance"] for row in report["sla"]}
    first = compliance.get("first_response") or compliance["first_human_response"]
    assert 0.6 < first < 0.99
    for metric, share in compliance.items():
        assert 0.6 < share < 0.99, metric


def test_generate_yields_the_same_events_as_the_file(history: Path):
    lines = history.read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines[:500]] == list(generate(2000, seed=11))[:500]
