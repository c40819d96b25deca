"""Second-edition keys of a policy file: derive rules, policy versions
(effective), the new metrics' options; their errors, the words `sla
validate` prints, and the state a tracker keeps for them."""

from __future__ import annotations

import json

import pytest

import sla
from sla.cli.app import main


def problems_of(text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(sla.PolicyError) as info:
        sla.load_policies(text)
    return [(p.path, p.line, p.message) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (
            "policies:\n  - name: a\n    effective: {from: '2027-01-01T00:00:00'}\n",
            "policies[0].effective.from",
            "has no UTC offset",
        ),
        (
            "policies:\n  - name: a\n    effective: {from: 2027-01-01, until: 2026-01-01}\n",
            "policies[0].effective",
            "from must be before until",
        ),
        ("policies:\n  - name: a\n    effective: {}\n", "policies[0].effective", "needs from, until or both"),
        (
            "policies:\n  - name: a\n    effective: {from: 2027}\n",
            "policies[0].effective.from",
            "expected an RFC 3339",
        ),
        ("policies:\n  - name: a\n    effective: {since: 2027-01-01}\n", "policies[0].effective.since", ""),
        ("derive:\n  - set: {}\npolicies: [{name: a}]\n", "derive[0].set", "at least one attribute"),
        ("derive:\n  - set: {tags: [a]}\npolicies: [{name: a}]\n", "derive[0].set.tags", "is a list"),
        (
            "derive:\n  - when: {v: {gte: x}}\n    set: {p: 1}\npolicies: [{name: a}]\n",
            "derive[0].when.v.gte",
            "takes a number",
        ),
        ("derive:\n  - when: {v: 1}\npolicies: [{name: a}]\n", "derive[0].set", ""),
        # an empty when would otherwise set its attributes on every ticket
        (
            "derive:\n  - when:\n    set: {p: 1}\npolicies: [{name: a}]\n",
            "derive[0].when",
            "null is no condition",
        ),
        (
            "metrics:\n  requester_wait: {pause_when: null}\npolicies: [{name: a}]\n",
            "metrics.requester_wait.pause_when",
            "null is no condition",
        ),
        # a derive rule's error is told beside the other parts' errors
        (
            "derive:\n  - {when: {v: 1}, sett: {p: 1}}\npolicies: [{name: a, calendar: nowhere}]\n",
            "derive[0].sett",
            "did you mean 'set'",
        ),
        (
            "policies:\n  - {name: a, warnings: {at_percent: [true]}}\n",
            "policies[0].warnings.at_percent[0]",
            "true is a boolean",
        ),
        (
            "policies:\n  - {name: a, warnings: {at_percent: ['50']}}\n",
            "policies[0].warnings.at_percent[0]",
            "'50' is text",
        ),
        (
            "metrics:\n  m: {start: created, stop: done, cancel_on_done: 'yes'}\npolicies: [{name: a}]\n",
            "metrics.m.cancel_on_done",
            "is not true or false",
        ),
        (
            "metrics:\n  group_ownership: {field: ''}\npolicies: [{name: a}]\n",
            "metrics.group_ownership.field",
            "is empty text",
        ),
        (
            "derive:\n  - {when: {v: {gt: .nan}}, set: {p: 1}}\npolicies: [{name: a}]\n",
            "derive[0].when.v.gt",
            ".nan compares with none",
        ),
        (
            "metrics:\n  m: {start: {message: {public: 1}}, stop: done}\npolicies: [{name: a}]\n",
            "metrics.m.start.message.public",
            "is not true or false",
        ),
        ("derive:\n  - {sett: {p: 1}}\npolicies: [{name: a}]\n", "derive[0].sett", ""),
        (
            "metrics:\n  resolution: {responders: [bot]}\npolicies: [{name: a}]\n",
            "metrics.resolution.responders",
            "takes only pause_statuses",
        ),
        (
            "metrics:\n  first_response: {field: team}\npolicies: [{name: a}]\n",
            "metrics.first_response.field",
            "unknown key 'field'",
        ),
        (
            "metrics:\n  mine: {start: created, stop: done, field: team}\npolicies: [{name: a}]\n",
            "metrics.mine.field",
            "only group_ownership takes a field",
        ),
    ],
)
def test_a_bad_second_edition_key_is_located(text, path, words):
    found = problems_of(text)
    assert any(p == path and words in message for p, _, message in found), found
    assert all(line is not None for _, line, _ in found)


def test_effective_bounds_read_timestamps_with_a_space_and_dates_as_utc_midnight():
    policies = sla.load_policies(
        "policies:\n"
        "  - name: a\n    effective: {from: '2026-06-01 12:00:00+02:00', until: 2026-07-01}\n"
        "    targets: {first_response: 1h}\n"
    )
    effective = policies.policies[0].spec.effective
    from sla.timefmt import parse_instant

    assert effective.from_ == parse_instant("2026-06-01T10:00:00Z")
    assert effective.until == parse_instant("2026-07-01T00:00:00Z")


def test_validate_prints_derive_rules_and_versions(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(
        "derive:\n"
        "  - when: {lifetime_value: {gte: 10000}}\n    set: {priority: urgent, segment: vip}\n"
        "  - set: {note: null}\n"
        "policies:\n"
        "  - name: new\n    effective: {from: 2027-01-01T00:00:00+01:00}\n    targets: {first_response: 2h}\n"
        "  - name: old\n    targets: {first_response: 4h}\n"
        "  - name: never\n    targets: {first_response: 4h}\n"
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1. set priority = urgent, segment = vip when lifetime_value >= 10000" in out
    assert "2. set note = null" in out
    assert "for tickets created from 2026-12-31T23:00:00Z" in out
    # A versioned policy without match is no catch-all; the one after the plain catch-all is.
    assert "never applies, policy 2 (old) matches every ticket" in out
    assert out.count("never applies") == 1


def test_a_tracker_keeps_derived_ownership_across_json():
    policies = sla.load_policies(
        "derive:\n  - when: {category: billing}\n    set: {group: finance}\n"
        "policies:\n  - name: all\n    targets: {group_ownership: {urgent: 1h, default: 4h}}\n"
    )
    tracker = sla.Tracker(policies, "T")
    tracker.feed(
        {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"group": "t1", "priority": "urgent"}}
    )
    tracker.feed({"at": "2026-03-02T09:00:00Z", "type": "update", "fields": {"category": "billing"}})
    saved = json.loads(json.dumps(tracker.to_json()))
    same = sla.Tracker.from_json(policies, saved)
    same.feed({"at": "2026-03-02T09:30:00Z", "type": "update", "fields": {"priority": "low"}})
    rows = same.snapshot("2026-03-02T10:00:00Z")
    batch = sla.evaluate_ticket(
        policies,
        [
            {
                "at": "2026-03-02T08:00:00Z",
                "type": "created",
                "fields": {"group": "t1", "priority": "urgent"},
            },
            {"at": "2026-03-02T09:00:00Z", "type": "update", "fields": {"category": "billing"}},
            {"at": "2026-03-02T09:30:00Z", "type": "update", "fields": {"priority": "low"}},
        ],
        now="2026-03-02T10:00:00Z",
        ticket_id="T",
        with_warnings=True,
    )
    assert [r.to_row() for r in rows] == [r.to_row() for r in batch]
    # Stay 2 (finance) started while urgent: judged at its start, so 1h, not the 4h in force at now.
    assert [(r.cycle, r.target_us // 3_600_000_000) for r in rows] == [(1, 1), (2, 1)]


# ------------------------------------------------------------ a calendar per ticket
ZONED = (
    "calendars:\n"
    "  a: {timezone: UTC, hours: {mon-fri: ['12:00-17:00']}}\n"
    "  b: {timezone: UTC, hours: {mon-fri: ['10:00-11:00']}}\n"
    "  local:\n    timezone: {by: tz, default: Europe/London}\n    hours: {mon-fri: ['09:00-17:00']}\n"
    "policies:\n"
    "  - name: chosen\n    match: {kind: chosen}\n"
    "    calendar: {by: key, map: {1: a, true: b, 2026-01-01: b, ~: a}, default: local}\n"
    "    targets: {first_response: 1h}\n"
    "  - name: zoned\n    calendar: local\n    targets: {first_response: 1h}\n"
)


def due_of(fields: dict, policies=None) -> str:
    rows = sla.evaluate_ticket(
        policies or sla.load_policies(ZONED),
        [{"at": "2026-03-02T06:00:00Z", "type": "created", "fields": fields}],  # a Monday
        now="2026-03-02T06:30:00Z",
        ticket_id="T",
    )
    from sla.timefmt import format_instant

    return format_instant(rows[0].due_at)


@pytest.mark.parametrize(
    ("key", "due"),
    [
        ("1", "2026-03-02T13:00:00Z"),  # map key 1 is the text "1": calendar a, open from 12:00
        ("true", "2026-03-02T11:00:00Z"),  # "true": calendar b, open 10:00-11:00
        ("2026-01-01", "2026-03-02T11:00:00Z"),
        (1, "2026-03-02T10:00:00Z"),  # a number picks no entry: the default, London from 09:00
        (True, "2026-03-02T10:00:00Z"),
        ("emea", "2026-03-02T10:00:00Z"),
        ("null", "2026-03-02T13:00:00Z"),  # map key ~ is the text "null", as YAML writes it
        ("None", "2026-03-02T10:00:00Z"),  # not Python's name for it
        (None, "2026-03-02T10:00:00Z"),  # a null attribute picks no entry
    ],
)
def test_a_calendar_map_reads_its_keys_as_text(key, due):
    assert due_of({"kind": "chosen", "key": key}) == due


@pytest.mark.parametrize(
    ("tz", "due"),
    [
        ("Asia/Tokyo", "2026-03-02T07:00:00Z"),  # 15:00 in Tokyo: open now, due an hour later
        ("US/Eastern", "2026-03-02T15:00:00Z"),  # a link name counts: 09:00 EST is 14:00 UTC
        ("Mars/Olympus", "2026-03-02T10:00:00Z"),  # unknown: the default, London
        ("asia/tokyo", "2026-03-02T10:00:00Z"),  # names compare with case
        (9, "2026-03-02T10:00:00Z"),
        (None, "2026-03-02T10:00:00Z"),
    ],
)
def test_a_zoned_calendar_reads_hours_in_the_tickets_zone(tz, due):
    fields = {"kind": "zoned"} if tz is None else {"kind": "zoned", "tz": tz}
    assert due_of(fields) == due


@pytest.mark.parametrize(
    ("calendar", "path", "words"),
    [
        (
            "{by: region, map: {emea: berln}, default: a}",
            "policies[0].calendar.map.emea",
            "unknown calendar 'berln'",
        ),
        ("{by: region, map: {emea: a}}", "policies[0].calendar.default", ""),
        (
            "{by: region, map: {emea: a}, default: nowhere}",
            "policies[0].calendar.default",
            "unknown calendar",
        ),
    ],
)
def test_a_bad_calendar_choice_is_located(calendar, path, words):
    text = (
        "calendars:\n  a: {timezone: UTC, hours: {mon-fri: ['09:00-17:00']}}\n"
        f"policies:\n  - name: p\n    calendar: {calendar}\n    targets: {{first_response: 1h}}\n"
    )
    found = problems_of(text)
    assert any(p == path and words in message for p, _, message in found), found


def test_a_bad_calendar_choice_is_told_once_not_as_the_text_it_is_not():
    """calendar is text or a choice: a choice with a bad part is told by
    that part, without a line saying the mapping is not text."""
    text = (
        "calendars:\n  a: {timezone: UTC, hours: {mon-fri: ['09:00-17:00']}}\n"
        "policies:\n  - name: p\n    calendar: {by: region, map: {x: 5}}\n"
    )
    found = problems_of(text)
    assert sorted(p for p, _, _ in found) == ["policies[0].calendar.default", "policies[0].calendar.map.x"], (
        found
    )


def test_a_zone_choice_needs_a_known_default():
    found = problems_of(
        "calendars:\n  c:\n    timezone: {by: tz, default: Europe/Londn}\n    hours: {mon-fri: ['09:00-17:00']}\n"
        "policies: [{name: p, calendar: c}]\n"
    )
    assert any(p == "calendars.c.timezone.default" and "Europe/London" in m for p, _, m in found), found


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "posix/Europe/Berlin", "right/UTC"])
@pytest.mark.parametrize("written", ["{by: tz, default: %s}", "%s"])
def test_a_host_file_is_no_known_zone(zone, written):
    """ZoneInfo opens these, but their meaning is the machine's (section 10:
    localtime and posixrules excluded): a calendar naming one is refused."""
    timezone = written % zone
    found = problems_of(
        f"calendars:\n  c:\n    timezone: {timezone}\n    hours: {{mon-fri: ['09:00-17:00']}}\n"
        "policies: [{name: p, calendar: c}]\n"
    )
    path = "calendars.c.timezone.default" if "by" in timezone else "calendars.c.timezone"
    assert any(p == path and f"unknown time zone {zone!r}" in m for p, _, m in found), found


def test_calendar_from_dict_takes_a_zone_chosen_per_ticket():
    """The mapping a policy file holds builds the same calendar through the
    Python API: it answers in its default zone (section 2 and 10)."""
    mapping = {"timezone": {"by": "tz", "default": "Europe/London"}, "hours": {"mon-fri": ["09:00-17:00"]}}
    calendar = sla.Calendar.from_dict(mapping)
    assert calendar.zone.key == "Europe/London"
    assert calendar.in_zone("Asia/Tokyo").zone.key == "Asia/Tokyo"
    assert calendar.in_zone("localtime") is calendar
    from_file = sla.load_policies(ZONED).calendars["local"]
    monday = 1_772_438_400_000_000  # 2026-03-02T08:00:00Z, a Monday
    assert calendar.add_us(monday, 3_600_000_000) == from_file.add_us(monday, 3_600_000_000)
    for bad, words in [
        ({"by": "tz"}, "needs a default zone"),
        ({"default": "UTC"}, "is not a time zone"),
        ({"by": "", "default": "UTC"}, "timezone.by names the attribute"),
        ({"by": "tz", "default": "localtime"}, "unknown time zone 'localtime'"),
        ({"by": "tz", "default": "UTC", "zone": "x"}, "unknown key 'zone'"),
    ]:
        with pytest.raises(sla.CalendarError, match=words):
            sla.Calendar.from_dict({**mapping, "timezone": bad})


def test_unknown_zones_are_noted_once_on_a_terminal(tmp_path, capsys, monkeypatch):
    import sys

    policy = tmp_path / "p.yaml"
    policy.write_text(ZONED)
    events = tmp_path / "e.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {"ticket_id": f"T{i}", "at": "2026-03-02T06:00:00Z", "type": "created", "fields": {"tz": tz}}
            )
            + "\n"
            for i, tz in enumerate(["Moon/Base", "Moon/Base", "Asia/Tokyo", "Mars/Olympus"])
        )
    )
    assert (
        main(
            ["evaluate", "--policies", str(policy), "--events", str(events), "--now", "2026-03-02T07:00:00Z"]
        )
        == 0
    )
    assert "note:" not in capsys.readouterr().err  # not a terminal: rows only, even with 2>&1
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    main(["evaluate", "--policies", str(policy), "--events", str(events), "--now", "2026-03-02T07:00:00Z"])
    err = capsys.readouterr().err
    assert err.count("note:") == 1
    assert "2 attribute value(s) named no known time zone ('Mars/Olympus', 'Moon/Base')" in err


def test_warnings_at_100_percent_and_before_due_as_long_as_the_target():
    policies = sla.load_policies(
        "policies:\n  - name: a\n    targets: {first_response: 1h}\n"
        "    warnings: {at_percent: [100], before_due: [1h, 30m]}\n"
    )
    rows = sla.evaluate_ticket(
        policies,
        [{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}],
        now="2026-03-02T08:10:00Z",
        ticket_id="T",
        with_warnings=True,
    )
    from sla.timefmt import format_instant

    # 100% is the due instant; a before_due as long as the target gives none.
    assert [(label, format_instant(at)) for label, at in rows[0].warnings] == [
        ("30m before due", "2026-03-02T08:30:00Z"),
        ("100%", "2026-03-02T09:00:00Z"),
    ]


# ------------------------------------------------------------ explain
def test_explain_tells_versions_calendars_zones_and_derive_rules(capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parent / "scenarios" / "spec-customer-value.yaml"
    import yaml

    doc = yaml.safe_load(example.read_text())
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        policy, events = Path(folder) / "p.yaml", Path(folder) / "e.jsonl"
        policy.write_text(doc["policy"])
        events.write_text(doc["events_jsonl"])

        def explain(ticket: str) -> str:
            argv = ["explain", "--policies", str(policy), "--events", str(events), "--now", doc["now"]]
            assert main([*argv, "--ticket", ticket]) == 0
            return capsys.readouterr().out

        s1, s2, b1, r2 = explain("S1"), explain("S2"), explain("B1"), explain("R2")
    assert (
        "policy 'social-2026-03' is another version: it applies to tickets created from 2026-03-04 00:00:00Z"
        in s1
    )
    assert "rules fired: 2. set segment = influencer when followers >= 100000; 3. set priority = high" in s2
    assert "on calendar 'new-york' (region is 'amer': its map entry)" in b1
    assert "in Europe/London (requester_tz 'Moon/Base', no known zone: the default zone)" in r2


def test_explain_judges_ownership_at_its_start(tmp_path, capsys):
    policy = tmp_path / "p.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {group_ownership: {urgent: 1h, default: 4h}}\n")
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"ticket_id": "G", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"group": "t1", "priority": "urgent"}}\n'
        '{"ticket_id": "G", "at": "2026-03-02T08:30:00Z", "type": "update", "fields": {"priority": "low"}}\n'
    )
    argv = ["explain", "--policies", str(policy), "--events", str(events), "--now", "2026-03-02T10:00:00Z"]
    assert main([*argv, "--ticket", "G"]) == 0
    out = capsys.readouterr().out
    assert 'attributes at its start: {"group": "t1", "priority": "urgent"}' in out
    assert "target 1h in business hours" in out and "re-targeted" not in out


def test_a_zoned_calendar_answers_in_its_default_zone_and_in_zone_switches():
    policies = sla.load_policies(ZONED)
    calendar = policies.calendars["local"]
    assert calendar.zone.key == "Europe/London"
    tokyo = calendar.in_zone("Asia/Tokyo")
    assert tokyo.zone.key == "Asia/Tokyo" and calendar.in_zone("Asia/Tokyo") is tokyo  # built once
    assert calendar.in_zone("Moon/Base") is calendar and calendar.in_zone(5) is calendar
