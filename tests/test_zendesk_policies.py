"""Zendesk SLA policies and schedules as a policy file (``--policies-output``,
section 14): the output validates and round-trips, means what the Zendesk
configuration means (same clocks as a hand-written file), and names every
condition it leaves out. Fixtures: tests/fixtures/README.md."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sla import cli, evaluate_ticket, load_policies
from sla.importers.rails_zones import RAILS_ZONES, iana_zone
from sla.importers.zendesk_filter import translate_condition, translate_filter
from sla.importers.zendesk_policies import ConversionError, HolidayPage, convert, write_policies
from sla.importers.zendesk_schedules import hours_by_day

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk_policies"
VENDOR, ACCOUNT = FIXTURES / "vendor", FIXTURES / "account"
H = 3600


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def written(*paths: Path, schedule: str | None = None) -> tuple[str, list[str]]:
    out = io.BytesIO()
    warnings = write_policies([str(p) for p in paths], out, schedule)
    return out.getvalue().decode("utf-8"), warnings


# ------------------------------------------------------------ the vendor's own examples
def test_vendor_examples_convert_validate_and_round_trip(tmp_path, capsys):
    text, warnings = written(VENDOR)
    path = tmp_path / "zendesk.yaml"
    path.write_text(text)
    assert cli.main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: OK, 2 policies, 2 calendars")

    policies = load_policies(path)
    assert [p.name for p in policies.policies] == ["Silver Plan", "Incidents"]  # by position 3, 4
    silver, incidents = policies.policies
    assert silver.spec.match == {"type": "incident", "channel": "email"}  # via_id 4 is email
    assert silver.calendar_name == incidents.calendar_name == "north-america"
    first = silver.target("first_response", "low")
    assert first is not None and (first.seconds, first.hours) == (H, "calendar")
    wait = silver.target("requester_wait", "urgent")
    assert wait is not None and (wait.seconds, wait.hours) == (2 * H, "business")
    assert silver.target("first_response", "normal") is None  # no default: unlisted priorities unmeasured
    assert silver.target("first_response", None) is None
    resolution = incidents.target("resolution", "normal")
    assert resolution is not None and (resolution.seconds, resolution.hours) == (48 * H, "business")

    north = policies.spec.calendars["north-america"]
    assert north.timezone == "America/Los_Angeles"  # "Pacific Time (US & Canada)"
    assert policies.spec.calendars["emea"].timezone == "Europe/London"  # "London"
    assert "2021-12-31" in text and "2022-01-02  # New Year" in text  # a holiday over four days
    cal = policies.calendars["north-america"]
    assert not cal.is_open(_at("2021-12-31T18:00:00Z")) and cal.is_open(_at("2021-12-29T18:00:00Z"))

    # the one condition it could not translate is named in the file and the warnings
    assert warnings == [
        "Zendesk SLA policy 25 'Silver Plan': not translated: filter.all[2] custom_status_id includes "
        '["1", "2"]: custom ticket statuses are not ticket attributes here; the policy matches more '
        "tickets than in Zendesk"
    ]
    assert "# not translated: filter.all[2] custom_status_id includes" in text


def test_a_single_policy_page_and_no_schedule_give_24x7():
    converted = convert([load(FIXTURES / "vendor-single" / "sla_policy.json")])
    policies = load_policies(converted.text)
    [policy] = policies.policies
    assert (policy.name, policy.calendar_name, policy.hours) == ("Urgent Incidents", "24x7", "calendar")
    assert [policy.target("requester_wait", p).seconds for p in ("low", "normal", "high", "urgent")] == [
        180 * 60,
        160 * 60,
        140 * 60,
        120 * 60,
    ]
    assert "No Zendesk schedule was read" in converted.text and converted.untranslated == []


# ------------------------------------------------------------ same clocks as a hand-written file
def test_converted_account_gives_the_clocks_of_a_hand_written_file(tmp_path, capsys):
    text, warnings = written(ACCOUNT)
    (tmp_path / "zendesk.yaml").write_text(text)
    assert cli.main(["validate", "--strict", str(tmp_path / "zendesk.yaml")]) == 0  # no notes either
    capsys.readouterr()
    converted, by_hand = load_policies(text), load_policies(FIXTURES / "account-equivalent.yaml")
    assert [p.name for p in converted.policies] == [p.name for p in by_hand.policies]
    assert len(warnings) == 2  # status (Email incidents), via_id 30 (Twitter)
    rows = 0
    for ticket_id, events in TICKETS.items():
        now = "2026-12-01T00:00:00Z"
        ours = evaluate_ticket(converted, events, now, ticket_id)
        theirs = evaluate_ticket(by_hand, events, now, ticket_id)
        assert ours == theirs, ticket_id
        rows += len(ours)
    assert rows >= 10
    states = {
        r.state for e in TICKETS.values() for r in evaluate_ticket(converted, e, "2026-12-01T00:00:00Z")
    }
    assert {"achieved", "breached"} <= states


def _ev(at: str, kind: str, **more: object) -> dict[str, object]:
    return {"at": at, "type": kind, **more}


TICKETS: dict[str, list[dict[str, object]]] = {
    # VIP by tag, urgent: calendar-hours targets
    "vip-urgent": [
        _ev(
            "2026-03-02T14:00:00Z",
            "created",
            fields={"organization": "360012345", "tags": ["vip"], "priority": "urgent"},
        ),
        _ev("2026-03-02T14:20:00Z", "message", author="agent"),
        _ev("2026-03-02T17:00:00Z", "status", status="solved"),
    ],
    # VIP by the enterprise plan field, normal raised to urgent mid-way (re-targets the open cycle)
    "vip-plan-raised": [
        _ev(
            "2026-03-06T21:00:00Z",
            "created",
            fields={"organization": "360012345", "custom_360005555": "enterprise", "priority": "normal"},
        ),
        _ev("2026-03-07T15:30:00Z", "update", fields={"priority": "urgent"}),
        _ev("2026-03-09T13:05:00Z", "message", author="agent"),
    ],
    # an email incident over a weekend with Saturday hours, replies, pending and on-hold
    "email-incident": [
        _ev(
            "2026-03-06T21:00:00Z",
            "created",
            fields={"channel": "email", "type": "incident", "priority": "normal"},
        ),
        _ev("2026-03-07T15:00:00Z", "message", author="agent"),
        _ev("2026-03-07T16:00:00Z", "message", author="customer"),
        _ev("2026-03-09T14:00:00Z", "status", status="pending"),
        _ev("2026-03-09T19:00:00Z", "message", author="customer"),
        _ev("2026-03-09T19:00:00Z", "status", status="open"),
        _ev("2026-03-10T15:00:00Z", "message", author="agent"),
    ],
    "email-incident-high": [
        _ev(
            "2026-11-25T21:00:00Z",
            "created",
            fields={"channel": "email", "type": "incident", "priority": "high"},
        ),
        _ev("2026-11-26T12:00:00Z", "status", status="on_hold"),
        _ev("2026-11-30T16:00:00Z", "status", status="open"),
        _ev("2026-11-30T18:00:00Z", "message", author="agent"),
        _ev("2026-11-30T20:00:00Z", "status", status="solved"),
    ],
    # everything else across Thanksgiving (a two-day holiday)
    "web-high": [
        _ev(
            "2026-11-25T22:00:00Z",
            "created",
            fields={"channel": "web", "priority": "high", "tags": ["billing"]},
        ),
        _ev("2026-11-30T16:30:00Z", "message", author="agent"),
    ],
    "web-normal-open": [
        _ev("2026-11-20T15:00:00Z", "created", fields={"channel": "web", "priority": "normal"}),
        _ev("2026-11-20T16:00:00Z", "message", author="agent"),
    ],
    # spam is not "everything else"; with via_id left out, Twitter catches low priority
    "spam-high": [_ev("2026-03-02T14:00:00Z", "created", fields={"priority": "high", "tags": ["spam"]})],
    "tweet-low": [
        _ev("2026-03-02T14:00:00Z", "created", fields={"channel": "twitter", "priority": "low"}),
        _ev("2026-03-02T15:30:00Z", "message", author="agent"),
    ],
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ------------------------------------------------------------ files, folders, gzip, JSON Lines
def test_folders_gzip_and_json_lines_other_documents_passed_over(tmp_path):
    shutil.copytree(ACCOUNT, tmp_path / "export")
    policies = tmp_path / "export" / "sla_policies.json"
    policies.with_suffix(".json.gz").write_bytes(gzip.compress(policies.read_bytes()))
    policies.unlink()
    schedules = load(tmp_path / "export" / "schedules.json")["schedules"]
    (tmp_path / "export" / "schedules.json").write_text("".join(json.dumps(s) + "\n" for s in schedules))
    holidays = tmp_path / "export" / "schedules" / "360000101" / "holidays.json"
    holidays.with_suffix(".jsonl").write_text(
        "".join(json.dumps(h) + "\n" for h in load(holidays)["holidays"])
    )
    holidays.unlink()
    (tmp_path / "export" / "audits.json").write_text(json.dumps({"audits": [], "next_page": None}))
    (tmp_path / "export" / "notes.txt").write_text("not JSON at all\n")
    text, warnings = written(tmp_path / "export")
    assert (text, warnings) == written(ACCOUNT)


def test_standard_input_is_left_to_the_events():
    text, warnings = written(ACCOUNT, Path("-"))
    assert text == written(ACCOUNT)[0]
    assert warnings[0] == "standard input is left to the events (save the pages to files)"


def test_no_policies_is_an_error(tmp_path):
    with pytest.raises(ConversionError, match="no Zendesk SLA policies found"):
        written(VENDOR / "schedules.json")


# ------------------------------------------------------------ schedules and zones
@pytest.mark.parametrize(
    ("rails", "iana"),
    [
        ("Eastern Time (US & Canada)", "America/New_York"),
        ("Berlin", "Europe/Berlin"),
        ("Kyiv", "Europe/Kyiv"),
        ("Kyev", "Europe/Kyiv"),  # the key before Rails renamed it
        ("Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("Greenland", "America/Nuuk"),
        ("Bern", "Europe/Zurich"),
        ("Europe/Lisbon", "Europe/Lisbon"),  # IANA names pass through
        ("Atlantis Standard Time", None),
    ],
)
def test_rails_zone_names(rails, iana):
    assert iana_zone(rails) == iana


def test_every_rails_zone_is_known_and_old_tz_data_gets_the_old_name():
    assert len(RAILS_ZONES) == 154 and all(iana_zone(name) for name in RAILS_ZONES)
    assert iana_zone("Kyiv", available={"Europe/Kiev"}) == "Europe/Kiev"


def test_an_unmappable_zone_is_refused_naming_the_schedule():
    with pytest.raises(ConversionError) as caught:
        convert([load(VENDOR / "sla_policies.json")], [load(FIXTURES / "unmappable-schedule.json")])
    assert "Zendesk schedule 360000303 'Atlantis Desk'" in str(caught.value)
    assert "'Atlantis Standard Time'" in str(caught.value)


def test_the_schedule_every_policy_uses_can_be_chosen_by_id_or_name():
    for wanted in ("360000202", "EMEA Support"):
        text, _ = written(ACCOUNT, schedule=wanted)
        assert {p.calendar_name for p in load_policies(text).policies} == {"emea-support"}
        assert "Here every policy uses schedule 360000202 (EMEA Support)" in text
    with pytest.raises(ConversionError, match="no Zendesk schedule 'Nope' among those read"):
        written(ACCOUNT, schedule="Nope")


def test_intervals_become_weekly_hours():
    assert hours_by_day([{"start_time": 0, "end_time": 10080}], "s") == {"mon-sun": ["00:00-24:00"]}
    # one that runs past midnight (Zendesk refuses those) is cut there; Saturday ends at 10080
    assert hours_by_day(
        [{"start_time": 2760, "end_time": 3000}, {"start_time": 9960, "end_time": 10080}], "s"
    ) == {
        "mon,sat": ["22:00-24:00"],
        "tue": ["00:00-02:00"],
    }
    # Zendesk: an end of 0, as of 10080, is the midnight between Saturday and Sunday
    assert hours_by_day([{"start_time": 9960, "end_time": 0}], "s") == {"sat": ["22:00-24:00"]}
    for bad in (
        [{"start_time": 0, "end_time": 0}],
        [{"start_time": 600, "end_time": 600}],
        [{"start_time": 1, "end_time": 10081}],
        [{"start_time": "9"}],
        [],
    ):
        with pytest.raises(ConversionError, match="^s: "):
            hours_by_day(bad, "s")


def test_holiday_records_of_json_lines_find_their_schedule_by_its_id():
    """A warehouse's holiday rows carry schedule_id; each goes to its schedule."""
    policies, schedules = load(VENDOR / "sla_policies.json"), load(VENDOR / "schedules.json")
    ids = [str(s["id"]) for s in schedules["schedules"]]
    record = {
        "schedule_id": int(ids[1]),
        "name": "Closed",
        "start_date": "2026-03-03",
        "end_date": "2026-03-04",
    }
    from sla.importers.zendesk_policies import ZendeskConfig

    config = ZendeskConfig()
    for doc in (policies, schedules, record):
        assert config.add(doc)
    converted = load_policies(config.convert().text)
    named = [name for name, spec in converted.spec.calendars.items() if spec.holidays is not None]
    assert len(named) == 1


def test_holidays_find_their_schedule():
    policies, schedules = load(VENDOR / "sla_policies.json"), load(VENDOR / "schedules.json")
    holidays = load(VENDOR / "schedules" / "1" / "holidays.json")
    by_page = convert([policies], [schedules], [HolidayPage(holidays, "2")])
    assert load_policies(by_page.text).spec.calendars["emea"].holidays is not None
    with pytest.raises(ConversionError, match="cannot tell which schedule these holidays belong to"):
        convert([policies], [schedules], [holidays])  # two schedules, a page that names none
    one = {"schedules": [schedules["schedules"][1]]}
    single = load_policies(convert([policies], [one], [holidays]).text)
    assert single.spec.calendars["emea"].holidays is not None


# ------------------------------------------------------------ conditions
@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("group_id", "is", ""), {"group": {"exists": False}}),
        (("assignee_id", "is_not", ""), {"assignee": {"exists": True}}),
        (("brand_id", "is", 10001), {"brand": "10001"}),
        (("ticket_form_id", "is_not", "77"), {"form": {"ne": "77"}}),
        (("requester_id", "includes", ["1", "2"]), {"requester": {"in": ["1", "2"]}}),
        (("ticket_type_id", "is_not", "4"), {"type": {"ne": "task"}}),
        (("priority", "less_than", "high"), {"priority": {"in": ["low", "normal"]}}),
        (("priority", "greater_than_equal", "high"), {"priority": {"in": ["high", "urgent"]}}),
        (("current_tags", "not_includes", "spam"), {"not": {"tags": {"contains": "spam"}}}),
        (("custom_fields_360005555", "is_not", "basic"), {"custom_360005555": {"ne": "basic"}}),
        (("via_id", "is_not", 8), {"channel": {"ne": "rule"}}),
    ],
)
def test_conditions_translate(condition, expected):
    field, operator, value = condition
    assert translate_condition({"field": field, "operator": operator, "value": value}) == expected


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        (("status", "less_than", "solved"), "status is not a ticket attribute"),
        (("via_id", "is", "26"), "via id 26 is channel 'twitter', which via ids 23, 30 also give"),
        (("via_id", "is", "99"), "via id 99 has no channel name"),
        (("assignee_id", "is", "current_user"), "current_user"),
        (("current_tags", "is", "vip"), "operator 'is' on current_tags"),
        (("exact_created_at", "less_than", "2026-01-01"), "effective"),
        (("satisfaction_score", "is", "good"), "'satisfaction_score' is not one of the attributes"),
    ],
)
def test_untranslatable_conditions_say_why(condition, reason):
    field, operator, value = condition
    match, dropped = translate_filter({"all": [{"field": field, "operator": operator, "value": value}]})
    assert match is None and len(dropped) == 1
    assert reason in dropped[0] and dropped[0].startswith(f"filter.all[0] {field} {operator} ")


def test_a_dropped_any_condition_narrows_and_an_all_empty_any_widens():
    group = {"field": "group_id", "operator": "is", "value": 5}
    status = {"field": "status", "operator": "is", "value": "open"}
    match, dropped = translate_filter({"all": [], "any": [group, status]})
    assert match == {"group": "5"} and dropped[0].endswith("the policy matches fewer tickets than in Zendesk")
    match, dropped = translate_filter({"all": [group], "any": [status]})
    assert match == {"group": "5"} and "none of filter.any translated" in dropped[0]
    # the same attribute twice: kept apart under all
    twice = [{"field": "group_id", "operator": "is_not", "value": v} for v in (1, 2)]
    assert translate_filter({"all": twice})[0] == {"all": [{"group": {"ne": "1"}}, {"group": {"ne": "2"}}]}


def test_titles_and_values_of_any_text_survive_the_yaml(tmp_path):
    doc = load(VENDOR / "sla_policies.json")
    policy = dict(doc["sla_policies"][1])
    policy["title"] = 'Gold: "24/7"\nyes #1 – café'
    policy["filter"] = {"all": [{"field": "custom_fields_1", "operator": "is", "value": "no"}], "any": []}
    twin = dict(policy, id=37, position=5)
    converted = convert([{"sla_policies": [policy, twin]}])
    names = [p.name for p in load_policies(converted.text).policies]
    assert names == [policy["title"], f"{policy['title']} (37)"]
    assert load_policies(converted.text).policies[0].spec.match == {"custom_1": "no"}


def test_a_group_sla_record_of_json_lines_is_passed_over_not_made_a_policy():
    """Zendesk's group SLA policy record (a text id, group_ownership_time):
    converted, it would win the first match over the ticket's SLA policies."""
    from sla.importers.zendesk_policies import ZendeskConfig

    group = {
        "id": "01H078CBDY28BZG7P6BONY09DN",
        "title": "Tier 1",
        "position": 1,
        "filter": {"all": [{"field": "group_id", "operator": "includes", "value": [10001]}]},
        "policy_metrics": [
            {"business_hours": False, "metric": "group_ownership_time", "priority": "normal", "target": 30}
        ],
    }
    numbered = dict(group, id=77)  # a number, but nothing but group ownership: a group SLA still
    config = ZendeskConfig()
    for record in load(VENDOR / "sla_policies.json")["sla_policies"] + [group, numbered]:
        assert config.add(record, "group_sla_policies.jsonl")
    converted = config.convert()
    assert "Tier 1" not in converted.text
    assert (
        sum("group SLA policies are not converted" in w for w in converted.untranslated) == 1
    )  # once a file


def test_group_sla_pages_and_unknown_metrics_are_named_not_dropped():
    doc = load(VENDOR / "sla_policies.json")
    policy = dict(
        doc["sla_policies"][1], policy_metrics=[{"priority": "low", "metric": "csat_time", "target": 5}]
    )
    group_page = {"group_sla_policies": [], "count": 0}
    config_warnings = convert([{"sla_policies": [policy]}, group_page]).untranslated
    assert config_warnings[0].endswith(
        "Zendesk group SLA policies are not converted (they apply beside the "
        "ticket's SLA policy, where a policy file has one policy in force per ticket)"
    )
    assert config_warnings[1] == (
        "Zendesk SLA policy 36 'Incidents': not translated: policy_metrics[0] csat_time for priority low: "
        "metric 'csat_time' has no counterpart here"
    )
