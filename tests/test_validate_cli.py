"""``sla validate``: exit 0 and a one-screen summary per good file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sla import cli
from sla.io.policy_files import load_policies
from sla.policy.summary import _day_ranges, summarize, weekly_hours

ROOT = Path(__file__).resolve().parent.parent
# The spec's worked examples, as copied into the scenario files (the shared
# folder beside the checkout is not always there).
SPEC_EXAMPLES = sorted((ROOT / "tests" / "scenarios").glob("spec-*.yaml"))


def validate(tmp_path, capsys, text: str) -> tuple[int, str, str]:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    status = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("scenario", SPEC_EXAMPLES, ids=lambda p: p.stem)
def test_spec_examples_validate(scenario, tmp_path, capsys):
    import yaml

    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_load(scenario.read_text())["policy"])
    assert cli.main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: OK") and err == ""


def test_summary_lists_calendars_policies_and_targets(tmp_path, capsys):
    status, out, err = validate(
        tmp_path,
        capsys,
        """\
        done_statuses: [solved, closed, spam]
        metrics:
          first_response: {responders: [agent, bot]}
          escalated: {start: {status_entered: [escalated]}, stop: {status_left: [escalated]}, cycles: repeat}
        calendars:
          berlin:
            timezone: Europe/Berlin
            hours: {mon-fri: ["09:00-12:00", "13:00-17:00"], sat: ["10:00-14:00"]}
            holidays: {country: DE, subdivision: BE, dates: [2026-12-24]}
            overrides: {2026-12-31: ["09:00-12:00"], 2026-06-15: []}
        policies:
          - name: social-urgent
            match: {channel: [twitter, facebook], priority: urgent}
            targets: {first_response: 15m, next_response: 30m}
          - name: standard
            calendar: berlin
            targets:
              first_response: {urgent: 1h, high: 2h, default: 8h}
              resolution: {urgent: 8h, default: {within: 3d, hours: calendar}}
              escalated: 4h
            warnings: {at_percent: [75, 90], before_due: [30m]}
        """,
    )
    assert status == 0 and err == ""
    assert "OK, 2 policies, 1 calendar" in out
    assert "calendar berlin (Europe/Berlin): mon-fri 09:00-12:00, 13:00-17:00; sat 10:00-14:00" in out
    assert "DE-BE holidays" in out and "closed 2026-12-24" in out
    assert "2026-06-15 closed" in out and "2026-12-31 09:00-12:00" in out
    assert "done statuses: solved, closed, spam" in out
    assert "first_response responses from agent, bot" in out
    assert (
        "custom metric escalated: starts on {status_entered: [escalated]}; stops on {status_left: [escalated]}"
        in out
    )
    assert "1. social-urgent: channel in twitter, facebook and priority = urgent; calendar 24x7" in out
    assert "2. standard: every ticket; calendar berlin, business hours" in out
    assert "first_response  urgent 1h, high 2h, default 8h" in out
    assert "resolution      urgent 8h, default 72h (calendar hours)" in out
    assert "warnings at 75%, 90%, 30m before due" in out


def test_summary_notes_policies_that_can_never_apply(tmp_path, capsys):
    status, out, _err = validate(
        tmp_path,
        capsys,
        """\
        policies:
          - {name: everyone, targets: {first_response: 8h}}
          - {name: vip, match: {vip: true}, targets: {first_response: 1h}}
        """,
    )
    assert status == 0
    assert "never applies, policy 1 (everyone) matches every ticket" in out


def test_several_files(tmp_path, capsys):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.json"
    a.write_text("policies: [{name: a}]\n")
    b.write_text('{"policies": [{"name": "b"}]}')
    assert cli.main(["validate", str(a), str(b)]) == 0
    out, _err = capsys.readouterr()
    assert f"{a}: OK, 1 policy, 0 calendars" in out and f"{b}: OK" in out


def test_validate_needs_a_file(capsys):
    assert cli.main(["validate"]) == 2
    capsys.readouterr()


@pytest.mark.parametrize(
    "days, text",
    [
        ([0, 1, 2, 3, 4], "mon-fri"),
        ([0, 2], "mon,wed"),
        ([5, 6, 0], "sat-mon"),
        ([0, 1], "mon,tue"),
        ([0, 1, 2, 4, 5, 6], "fri-wed"),
        (list(range(7)), "every day"),
        ([6], "sun"),
        ([0, 1, 2, 4], "mon-wed,fri"),
    ],
)
def test_weekdays_are_grouped(days, text):
    assert _day_ranges(days) == text


def test_identical_days_share_a_line():
    p = load_policies(
        textwrap.dedent("""\
        calendars:
          c:
            hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["10:00-12:00"], thu-fri: ["09:00-17:00"],
                    sun: ["22:00-06:00"]}
        policies: [{name: a, calendar: c}]
        """)
    )
    assert (
        weekly_hours(p.calendars["c"].schedule.days)
        == "mon,tue,thu,fri 09:00-17:00; wed 10:00-12:00; sun 22:00-06:00"
    )


def test_summary_is_one_screen_for_every_example():
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        text = summarize(load_policies(path), str(path))
        assert len(text.splitlines()) <= 50, path


def test_summary_durations_are_those_of_every_command(tmp_path, capsys):
    """sla.timefmt.duration_text: business durations never in days, calendar
    ones with d from a week up; targets exact to the second."""
    from sla.timefmt import duration_text

    status, out, _err = validate(
        tmp_path,
        capsys,
        """\
        calendars:
          office: {hours: {mon-fri: ["09:00-17:00"]}}
        policies:
          - name: a
            calendar: office
            targets:
              resolution: {urgent: 336h, high: {within: 14d, hours: calendar}, default: 1h30m15s}
              next_response: {within: 3d, hours: calendar}
            warnings: {before_due: [90m]}
          - name: b
            match: {tier: free}
            hours: calendar
            calendar: office
            targets: {resolution: 8d, first_response: 0.5s}
        """,
    )
    assert status == 0
    assert "resolution     urgent 336h, high 14d (calendar hours), default 1h30m15s" in out
    assert "next_response  72h (calendar hours)" in out
    assert "warnings at 1h30m before due" in out
    assert "resolution      8d" in out and "first_response  0.5s" in out
    assert duration_text(336 * 3_600_000_000, business=True) == "336h"
    assert duration_text(14 * 86_400_000_000, business=False) == "14d"


def test_strict_is_in_the_help(capsys):
    assert cli.main(["validate", "--help"]) == 0
    assert "--strict    exit 1 when a file has notes" in capsys.readouterr().out
