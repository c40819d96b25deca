"""The example policies in policies/ load, validate, and mean what their
comments say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sla import cli
from sla.io.policy_files import load_policies

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "policies").glob("*.yaml"))
UTC = UTC


def test_the_four_examples_are_there():
    names = {p.name for p in EXAMPLES}
    assert {"social-care.yaml", "b2b-tiers.yaml", "follow-the-sun.yaml", "ecommerce.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_on_one_screen(path, capsys):
    assert cli.main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith(f"{path}: OK")
    assert len(out.splitlines()) <= 50


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_commented(path):
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 8


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_social_care():
    p = load_policies(ROOT / "policies" / "social-care.yaml")
    assert p.metrics["first_response"].responders == {"agent", "bot"}
    assert p.metrics["next_response"].responders == {"agent"}
    assert p.metrics["first_human_response"].stop[0].authors == {"agent"}
    for channel in ("twitter", "x", "facebook", "instagram", "whatsapp"):
        policy = p.policy_for({"channel": channel, "priority": "normal"})
        assert policy is not None and policy.calendar_name == "24x7", channel
    twitter = p.policy_for({"channel": "twitter"})
    assert twitter.target("first_human_response", "low").us == 2 * 3600 * 10**6  # Twitter: within two hours
    assert twitter.target("first_human_response", "normal").us == 3600 * 10**6  # within the hour
    assert twitter.target("first_response", "normal") is None  # bots do not count there
    facebook = p.policy_for({"channel": "facebook"})
    assert facebook.target("first_response", None).us <= 8 * 3600 * 10**6  # the same day
    for channel in ("whatsapp", "instagram", "facebook", "linkedin"):
        policy = p.policy_for({"channel": channel})
        assert policy.target("first_response", "low").us <= 24 * 3600 * 10**6  # within 24 hours
        assert policy.target("next_response", None) is not None
    assert p.policy_for({"channel": "email"}) is None


def test_b2b_tiers():
    p = load_policies(ROOT / "policies" / "b2b-tiers.yaml")
    cal = p.calendars["berlin-office"]
    assert cal.is_open(at("2026-03-03T10:00:00+01:00"))
    assert not cal.is_open(at("2026-03-03T13:00:00+01:00"))  # lunch
    assert cal.is_open(at("2026-03-09T10:00:00+01:00"))  # an ordinary Monday
    assert not cal.is_open(at("2026-04-06T10:00:00+02:00"))  # Easter Monday
    assert not cal.is_open(at("2026-03-09T07:00:00+01:00"))
    assert not cal.is_open(at("2026-12-24T10:00:00+01:00"))  # company closure
    assert not cal.is_open(at("2026-12-23T14:00:00+01:00"))  # half day
    assert cal.elapsed(at("2026-03-02T00:00:00+01:00"), at("2026-03-03T00:00:00+01:00")) == timedelta(hours=8)
    for tier, name in (
        ("enterprise", "enterprise"),
        ("business", "business"),
        ("free", "free"),
        ("trial", "free"),
        (None, "untiered"),
    ):
        attrs = {"priority": "urgent"} | ({"tier": tier} if tier else {})
        policy = p.policy_for(attrs)
        assert policy.name == name
        urgent = policy.target("resolution", "urgent")
        assert urgent.hours == "calendar", name  # urgent resolution on the wall clock
        assert policy.target("resolution", "normal").hours == "business"
    assert p.metrics["requester_wait"].pause_statuses == {"pending"}


def test_follow_the_sun():
    p = load_policies(ROOT / "policies" / "follow-the-sun.yaml")
    assert {p.policy_for({"region": r}).calendar.zone.key for r in ("emea", "amer", "apac")} == {
        "Europe/Berlin",
        "America/New_York",
        "Asia/Singapore",
    }
    assert p.policy_for({"region": "apac", "priority": "urgent"}).calendar_name == "24x7"
    assert p.policy_for({}).name == "unrouted"
    amer = p.calendars["amer"]
    assert amer.is_open(at("2026-03-03T02:00:00-05:00"))  # Monday's night shift, Tuesday 02:00
    assert not amer.is_open(at("2026-03-03T07:00:00-05:00"))  # between the night and the day shift
    assert amer.is_open(at("2026-03-02T03:00:00-05:00"))  # Sunday night into Monday
    assert not amer.is_open(at("2026-03-07T03:00:00-05:00"))  # Friday has no night shift
    assert not amer.is_open(at("2026-07-03T10:00:00-04:00"))  # Independence Day (observed)
    assert amer.is_open(at("2026-11-27T10:00:00-05:00")) and not amer.is_open(at("2026-11-27T16:00:00-05:00"))
    emea = p.calendars["emea"]
    assert emea.is_open(at("2026-05-14T11:00:00+02:00"))  # holiday, opened by an override
    assert not emea.is_open(at("2026-05-14T15:00:00+02:00"))
    assert not emea.is_open(at("2026-12-24T13:00:00+01:00"))
    apac = p.calendars["apac"]
    assert not apac.is_open(at("2026-02-17T10:00:00+08:00"))
    assert apac.is_open(at("2026-02-19T10:00:00+08:00")) and not apac.is_open(at("2026-02-19T14:00:00+08:00"))


def test_ecommerce():
    p = load_policies(ROOT / "policies" / "ecommerce.yaml")
    cal = p.calendars["support"]
    assert not cal.is_open(at("2026-11-03T21:00:00+00:00"))  # an ordinary evening
    assert cal.is_open(at("2026-12-03T21:00:00+00:00"))  # peak season: until 22:00
    assert cal.is_open(at("2026-12-06T11:00:00+00:00"))  # peak Sunday
    assert not cal.is_open(at("2026-12-25T12:00:00+00:00"))  # Christmas Day
    assert cal.is_open(at("2026-12-26T12:00:00+00:00"))  # Boxing Day sales
    assert cal.is_open(at("2026-11-27T22:30:00+00:00"))  # Black Friday
    assert p.policy_for({"category": "tracking"}).name == "shipping"
    assert p.policy_for({"category": "refund"}).name == "payments"
    assert p.policy_for({"category": "cancellation"}).name == "orders"
    assert p.policy_for({"category": "product"}).name == "general"
    escalation = p.metrics["escalation_time"]
    assert escalation.cycles == "repeat" and not escalation.builtin
    assert escalation.start[0].statuses == {"escalated"} and escalation.stop[0].kind == "status_left"
    assert p.metrics["time_to_assignment"].stop[0].field_name == "assignee"
    assert {"escalation_time", "time_to_assignment"} <= set(p.active_metrics)
