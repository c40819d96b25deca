"""Notes: what a valid policy file says that is probably not meant, each
located (file, line, column, path) like an error; ``sla validate`` prints
them after the summary and ``--strict`` fails on them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sla import cli
from sla.cli.validate import _parse_zone_names, zone_names
from sla.policy.compile import compile_document
from sla.policy.notes import KNOWN_ALIASES, Note, ZoneNames, find_notes, zone_note
from sla.policy.source import parse_json, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
# A slice of the tz database: two region names, links as tzdata.zi has them.
ZONES = ZoneNames(
    regions=frozenset({"America/New_York", "Europe/Amsterdam", "Europe/Berlin", "Asia/Kolkata"}),
    links={
        "US/Eastern": "America/New_York",
        "Europe/Amsterdam": "Europe/Brussels",
        "Asia/Calcutta": "Asia/Kolkata",
        "Old/Alias": "US/Eastern",
        "Zulu": "Etc/UTC",
    },
)


def notes(text: str, zones: ZoneNames | None = ZONES) -> list[tuple[int | None, int | None, str, str]]:
    located = parse_yaml(textwrap.dedent(text), "p.yaml")
    return [
        (n.line, n.column, n.path, n.message) for n in find_notes(located, compile_document(located), zones)
    ]


def calendar_with_zone(zone: str) -> str:
    return f"""\
        calendars:
          office:
            timezone: {zone}
            hours: {{mon-fri: ["09:00-17:00"]}}
        policies:
          - {{name: a, calendar: office, targets: {{first_response: 4h}}}}
        """


# ------------------------------------------------------------ zones
@pytest.mark.parametrize(
    "zone, words",
    [
        (
            "EST",
            "'EST' is a fixed offset, UTC-05:00 all year with no daylight saving time; "
            "use a region name like America/New_York",
        ),
        ("MST", "UTC-07:00 all year"),
        (
            "Etc/GMT+5",
            "UTC-05:00 all year with no daylight saving time (Etc/GMT signs are inverted); "
            "use a region name like America/New_York",
        ),
        ("Etc/GMT-9", "UTC+09:00 all year"),
        ("EST5EDT", "'EST5EDT' is a legacy POSIX-style zone; write America/New_York (the same rules)"),
        ("CET", "'CET' is a legacy zone name; use the region name of the place, like Europe/Berlin"),
        ("US/Eastern", "'US/Eastern' is a deprecated alias of America/New_York; write America/New_York"),
        ("Asia/Calcutta", "write Asia/Kolkata"),
        (
            "GMT",
            "'GMT' is another name for UTC (UTC+00:00 all year, no summer time); write UTC, "
            "or a region name like Europe/London for UK time",
        ),
        ("Zulu", "another name for UTC"),
    ],
)
def test_a_zone_that_is_no_region_is_noted_at_the_timezone_key(zone, words):
    (found,) = notes(calendar_with_zone(zone))
    assert found[:3] == (3, 5, "calendars.office.timezone")
    assert words in found[3]


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Europe/Amsterdam"])
def test_region_names_and_utc_are_fine(zone):
    """Europe/Amsterdam is a link in today's tz data, but a region name of zone.tab."""
    assert notes(calendar_with_zone(zone)) == []


def test_a_link_to_a_link_names_the_final_region():
    assert (
        zone_note("Old/Alias", ZONES)
        == "'Old/Alias' is a deprecated alias of America/New_York; write America/New_York"
    )


def test_without_tz_data_a_short_list_serves():
    assert (
        zone_note("US/Pacific")
        == "'US/Pacific' is a deprecated alias of America/Los_Angeles; write America/Los_Angeles"
    )
    assert zone_note("Europe/Amsterdam") is None and KNOWN_ALIASES["Asia/Calcutta"] == "Asia/Kolkata"
    assert notes(calendar_with_zone("US/Eastern"), zones=None)[0][:3] == (3, 5, "calendars.office.timezone")


def test_the_default_zone_of_a_zone_by_attribute_is_noted():
    found = notes(
        """\
        calendars:
          office:
            timezone: {by: requester_tz, default: US/Eastern}
            hours: {mon-fri: ["09:00-17:00"]}
        policies:
          - {name: a, calendar: office, targets: {first_response: 4h}}
        """
    )
    assert [f[:3] for f in found] == [(3, 34, "calendars.office.timezone.default")]


def test_zone_data_is_read_from_tzdata_files():
    zones = _parse_zone_names(
        "# comment\nNL\t+5222+00454\tEurope/Amsterdam\nUS\t+404251-0740023\tAmerica/New_York\tEastern\n",
        "# version\nZ Etc/UTC 0 - UTC\nL America/New_York US/Eastern\nL Europe/Brussels Europe/Amsterdam\n",
    )
    assert zones.regions == {"Europe/Amsterdam", "America/New_York"}
    assert zones.links == {"US/Eastern": "America/New_York", "Europe/Amsterdam": "Europe/Brussels"}


def test_the_installed_tz_data_knows_the_usual_aliases():
    zones = zone_names()
    if zones is None:
        pytest.skip("no tz data files on this machine (the built-in list serves)")
    assert "America/New_York" in zones.regions and zones.links["US/Eastern"] == "America/New_York"
    assert zone_note("US/Eastern", zones) == zone_note("US/Eastern")


# ------------------------------------------------------------ durations
def test_days_in_a_business_hours_target_are_noted_with_the_hours_they_mean():
    found = notes(
        """\
        calendars:
          office: {hours: {mon-fri: ["09:00-17:00"]}}
        policies:
          - name: a
            match: {tier: gold}
            calendar: office
            targets:
              first_response: 4h
              resolution: {urgent: 1d, high: {within: P2D}, default: {within: 3d, hours: calendar}}
              next_response: 1.5d
          - name: b
            match: {tier: silver}
            calendar: office
            hours: calendar
            targets: {resolution: 2d}
          - name: c
            targets: {resolution: 2d}
        """
    )
    assert [f[:3] for f in found] == [
        (9, 20, "policies[0].targets.resolution.urgent"),
        (9, 39, "policies[0].targets.resolution.high.within"),
        (10, 7, "policies[0].targets.next_response"),
    ]
    assert found[0][3] == (
        "'1d' is 24h of business hours (a d is always 24 hours), about 3 working days on calendar "
        "'office'; write 24h to say so, or {within: 1d, hours: calendar} for 24h of the clock"
    )
    assert "'P2D' is 48h of business hours" in found[1][3] and "about 6 working days" in found[1][3]
    assert "'1.5d' is 36h of business hours" in found[2][3] and "about 4.5 working days" in found[2][3]


def test_a_bare_number_under_a_minute_is_noted():
    found = notes(
        """\
        policies:
          - name: a
            targets: {first_response: 8, next_response: 3600, resolution: {within: "30"}}
        """
    )
    assert [f[:3] for f in found] == [
        (3, 15, "policies[0].targets.first_response"),
        (3, 68, "policies[0].targets.resolution.within"),
    ]
    assert found[0][3] == (
        "8 is 8 seconds (a bare number counts seconds); write 8s if that is meant, or give a unit like 8m or 8h"
    )


# ------------------------------------------------------------ priorities
def test_a_priority_key_differing_in_case_from_the_match_is_noted_with_did_you_mean():
    found = notes(
        """\
        policies:
          - name: vip
            match: {priority: [urgent, high]}
            targets:
              first_response: {Urgent: 1h, high: 2h}
              resolution: {urgent: 8h, "High ": 16h, default: 40h}
        """
    )
    assert [f[:3] for f in found] == [
        (5, 24, "policies[0].targets.first_response.Urgent"),
        (6, 32, "policies[0].targets.resolution.High "),
    ]
    assert found[0][3] == (
        "priority key 'Urgent' differs from 'urgent' (at policies[0].match.priority[0]) only in case or spaces; "
        "priorities match exactly, so a ticket with priority 'urgent' gets no first_response target from this "
        "policy; did you mean 'urgent'?"
    )
    assert "so a ticket with priority 'high' gets the default resolution target here" in found[1][3]


def test_priority_keys_are_checked_against_each_other_and_derive_rules():
    found = notes(
        """\
        derive:
          - when: {vip: true}
            set: {priority: P1}
        policies:
          - name: a
            match: {tier: gold}
            targets:
              first_response: {p1: 1h, P1: 2h}
              resolution: {urgent: 4h}
          - name: b
            targets: {resolution: {Urgent: 8h, urgent: 9h}}
        """
    )
    assert [(f[0], f[1], f[2]) for f in found] == [
        (8, 24, "policies[0].targets.first_response.p1"),
        (11, 28, "policies[1].targets.resolution.Urgent"),
    ]
    assert "differs from 'P1' (at derive[0].set.priority)" in found[0][3]
    assert "gets the 'P1' entry, never this one" in found[0][3]
    assert "differs from 'urgent' (at policies[0].targets.resolution.urgent)" in found[1][3]


def test_distinct_priorities_and_other_kinds_are_not_noted():
    assert (
        notes(
            """\
        policies:
          - name: a
            match: {priority: {in: [urgent, high]}}
            targets: {first_response: {urgent: 1h, high: 2h, 1: 3h, true: 4h, "1": 5h, default: 8h}}
        """
        )
        == []
    )


# ------------------------------------------------------------ metrics and policies
def test_metric_options_and_custom_metrics_no_policy_targets():
    found = notes(
        """\
        metrics:
          agent_work: {pause_statuses: [pending, on_hold]}
          escalated: {start: {status_entered: escalated}, stop: {status_left: escalated}}
          requester_wait: {pause_statuses: [pending]}
        policies:
          - {name: a, targets: {requester_wait: 8h}}
        """
    )
    assert found == [
        (2, 3, "metrics.agent_work", "options for agent_work have no effect: no policy has a target for it"),
        (
            3,
            3,
            "metrics.escalated",
            "custom metric 'escalated' is never measured: no policy has a target for it; "
            "add one under a policy's targets, or remove the metric",
        ),
    ]


def test_policies_and_derive_rules_that_never_apply():
    found = notes(
        """\
        derive:
          - when: {tier: {in: []}}
            set: {segment: none}
        policies:
          - name: nobody
            match: {any: []}
          - name: everyone
          - name: later
            match: {channel: email}
          - name: versioned
            effective: {from: 2027-01-01}
        """
    )
    assert found == [
        (2, 5, "derive[0].when", "never applies, its when can never hold"),
        (6, 5, "policies[0].match", "never applies, its match can never hold"),
        (
            8,
            5,
            "policies[2]",
            "never applies, policy 2 (everyone) matches every ticket; move it before that policy, or remove it",
        ),
        (
            10,
            5,
            "policies[3]",
            "never applies, policy 2 (everyone) matches every ticket; move it before that policy, or remove it",
        ),
    ]


def test_notes_on_a_json_file_are_located_too():
    located = parse_json(
        '{"calendars": {"c": {"timezone": "EST", "hours": {"mon": ["09:00-17:00"]}}},\n'
        ' "policies": [{"name": "a", "calendar": "c", "targets": {"first_response": "1d"}}]}',
        "p.json",
    )
    found = find_notes(located, compile_document(located), ZONES)
    assert [(n.line, n.column, n.path) for n in found] == [
        (1, 22, "calendars.c.timezone"),
        (2, 58, "policies[0].targets.first_response"),
    ]


def test_a_note_renders_like_an_error():
    note = Note("p.yaml", 3, 5, "calendars.office.timezone", "'EST' is a fixed offset; use a region name")
    assert (
        note.render()
        == "p.yaml:3:5: note: at calendars.office.timezone: 'EST' is a fixed offset; use a region name"
    )
    assert Note(None, None, None, "policies", "x").render() == "<policies>: note: at policies: x"


# ------------------------------------------------------------ sla validate
NOTED = """\
calendars:
  office: {timezone: EST, hours: {mon-fri: ["09:00-17:00"]}}
policies:
  - {name: a, calendar: office, targets: {first_response: 1d}}
"""


def test_validate_prints_notes_after_the_summary_and_exits_0(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(NOTED)
    assert cli.main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"{path}: OK, 1 policy, 1 calendar" and err == ""
    assert lines[-2].startswith(f"{path}:2:12: note: at calendars.office.timezone: 'EST' is a fixed offset")
    assert lines[-1].startswith(f"{path}:4:43: note: at policies[0].targets.first_response: '1d' is 24h")
    assert all(": note: " not in line for line in lines[:-2])


def test_strict_exits_1_on_notes_and_0_without(tmp_path, capsys):
    noted, clean = tmp_path / "noted.yaml", tmp_path / "clean.yaml"
    noted.write_text(NOTED)
    clean.write_text("policies: [{name: a, targets: {first_response: 4h}}]\n")
    assert cli.main(["validate", "--strict", str(clean)]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["validate", "--strict", str(clean), str(noted)]) == 1
    out, err = capsys.readouterr()
    assert out.count(": note: ") == 2 and err == "2 note(s); --strict counts them as failures\n"


def test_a_broken_file_still_exits_2_under_strict(tmp_path, capsys):
    noted, broken = tmp_path / "noted.yaml", tmp_path / "broken.yaml"
    noted.write_text(NOTED)
    broken.write_text("policies: [{name: a, targets: {first_response: 8 hours}}]\n")
    assert cli.main(["validate", "--strict", str(noted), str(broken)]) == 2
    out, err = capsys.readouterr()
    assert "did you mean '8h'?" in err and out.count(": note: ") == 2


def test_the_bundled_policies_have_no_notes(capsys):
    files = [str(p) for p in sorted((ROOT / "policies").glob("*.yaml"))]
    assert len(files) >= 7
    assert cli.main(["validate", "--strict", *files]) == 0
    out, err = capsys.readouterr()
    assert ": note: " not in out and err == ""
