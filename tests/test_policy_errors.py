"""Broken policy files of every kind are refused by ``sla validate`` with exit
status 2 and a message that names the file, the line and the culprit; never a
traceback.  All problems of a file come together.
"""

from __future__ import annotations

import textwrap

import pytest

from sla import cli
from sla.errors import PolicyError
from sla.io.policy_files import load_policies

GOOD_POLICY = """\
policies:
  - name: standard
    targets: {first_response: 8h}
"""


def run_validate(tmp_path, capsys, text: str, name: str = "policy.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    status = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err, str(path)


# (id, file text, line of the problem, strings the message must contain)
CASES = [
    (
        "yaml-syntax",
        """\
        policies:
          - name: a
            targets: {first_response: 1h
          - name: b
        """,
        4,
        ["YAML syntax error"],
    ),
    ("yaml-tab", "policies:\n\t- name: a\n", 2, ["YAML syntax error", "tabs"]),
    (
        "unknown-top-level-key",
        """\
        polices:
          - name: a
        policies:
          - name: b
        """,
        1,
        ["polices", "did you mean 'policies'"],
    ),
    (
        "unknown-policy-key",
        """\
        policies:
          - name: a
            calender: 24x7
        """,
        3,
        ["policies[0].calender", "did you mean 'calendar'"],
    ),
    (
        "unknown-key-deep-inside",
        """\
        metrics:
          bot_touch:
            start: created
            stop: {message: {authr: [bot]}}
        policies:
          - {name: a, targets: {bot_touch: 1h}}
        """,
        4,
        ["metrics.bot_touch.stop.message.authr", "did you mean 'author'"],
    ),
    (
        "unknown-key-lists-the-known-ones",
        """\
        policies:
          - name: a
            zzz: 1
        """,
        3,
        ["policies[0].zzz", "expected one of name, description, match, calendar, hours, targets, warnings"],
    ),
    (
        "unknown-calendar",
        """\
        calendars:
          berlin: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-17:00"]}}
        policies:
          - name: a
            calendar: berlim
            targets: {first_response: 1h}
        """,
        5,
        ["policies[0].calendar", "unknown calendar 'berlim'", "did you mean 'berlin'"],
    ),
    (
        "unknown-metric",
        """\
        policies:
          - name: a
            targets:
              first_response: 1h
              resolutin: 8h
        """,
        5,
        ["policies[0].targets.resolutin", "unknown metric", "did you mean 'resolution'"],
    ),
    (
        "bad-duration",
        """\
        policies:
          - name: a
            targets:
              first_response: {urgent: 1x, default: 8h}
        """,
        4,
        ["policies[0].targets.first_response.urgent", "'1x'", "a duration like 15m"],
    ),
    (
        "negative-duration-text",
        """\
        policies:
          - name: a
            targets: {first_response: -5m}
        """,
        3,
        ["policies[0].targets.first_response", "'-5m'", "negative"],
    ),
    (
        "negative-duration-number",
        """\
        policies:
          - name: a
            targets:
              resolution: {within: -3600, hours: calendar}
        """,
        4,
        ["policies[0].targets.resolution.within", "-3600", "negative"],
    ),
    (
        "duration-wrong-order",
        """\
        policies:
          - name: a
            targets: {first_response: 30m1h}
        """,
        3,
        ["'30m1h'", "expected a duration"],
    ),
    (
        "sexagesimal-is-not-a-duration",
        """\
        policies:
          - name: a
            targets: {first_response: 25:00}
        """,
        3,
        ["'25:00'", "expected a duration"],
    ),
    (
        "unknown-time-zone",
        """\
        calendars:
          office:
            timezone: Europe/Berln
            hours: {mon-fri: ["09:00-17:00"]}
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        3,
        ["calendars.office.timezone", "unknown time zone 'Europe/Berln'", "did you mean 'Europe/Berlin'"],
    ),
    (
        "bad-clock-time",
        """\
        calendars:
          office:
            hours:
              mon-fri: ["09:00-17:00"]
              sat: ["10:00-25:00"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.office.hours.sat[0]", "'25:00'", "clock time"],
    ),
    (
        "bad-interval",
        """\
        calendars:
          office:
            hours:
              mon-fri: ["9-17"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        4,
        ["calendars.office.hours.mon-fri[0]", "'9'", "HH:MM"],
    ),
    (
        "overlap",
        """\
        calendars:
          office:
            hours:
              mon-fri: ["09:00-12:00", "11:30-17:00"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        4,
        ["calendars.office.hours.mon-fri[1]", "09:00-12:00 and 11:30-17:00 overlap", "mon"],
    ),
    (
        "overnight-spill",
        """\
        calendars:
          night:
            hours:
              mon-fri: ["07:00-15:00"]
              sun-thu: ["22:00-08:00"]
        policies:
          - {name: a, calendar: night, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.night.hours.sun-thu[0]", "22:00-08:00 runs into 07:00-15:00", "sun into mon"],
    ),
    (
        "day-named-twice",
        """\
        calendars:
          office:
            hours:
              mon-fri: ["09:00-17:00"]
              fri: ["09:00-15:00"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.office.hours.fri", "fri is named twice"],
    ),
    (
        "bad-day-name",
        """\
        calendars:
          office:
            hours:
              mon-fry: ["09:00-17:00"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        4,
        ["calendars.office.hours.mon-fry", "'fry' in 'mon-fry' is not a day", "did you mean 'fri'"],
    ),
    (
        "empty-week",
        """\
        calendars:
          office:
            timezone: Europe/Berlin
            hours: {mon-fri: []}
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        4,
        ["calendars.office.hours", "no open hours"],
    ),
    (
        "impossible-override-date",
        """\
        calendars:
          office:
            hours: {mon-fri: ["09:00-17:00"]}
            overrides:
              2026-02-30: []
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.office.overrides.2026-02-30", "not a date", "day is out of range"],
    ),
    (
        "impossible-quoted-override-date",
        """\
        calendars:
          office:
            hours: {mon-fri: ["09:00-17:00"]}
            overrides:
              "2026-13-01": ["09:00-12:00"]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.office.overrides.2026-13-01", "not a date", "month"],
    ),
    (
        "impossible-holiday-date",
        """\
        calendars:
          office:
            hours: {mon-fri: ["09:00-17:00"]}
            holidays:
              dates: [2026-12-24, 2026-04-31]
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.office.holidays.dates[1]", "'2026-04-31' is not a date"],
    ),
    (
        "unknown-holiday-country",
        """\
        calendars:
          office:
            hours: {mon-fri: ["09:00-17:00"]}
            holidays: {country: XY}
        policies:
          - {name: a, calendar: office, targets: {first_response: 1h}}
        """,
        4,
        ["calendars.office.holidays.country", "unknown holidays country 'XY'"],
    ),
    (
        "override-overlaps-overnight",
        """\
        calendars:
          night:
            hours: {mon-fri: ["22:00-06:00"]}
            overrides:
              2026-03-03: ["05:00-09:00"]
        policies:
          - {name: a, calendar: night, targets: {first_response: 1h}}
        """,
        5,
        ["calendars.night.overrides.2026-03-03", "overlap"],
    ),
    (
        "builtin-calendar-name",
        """\
        calendars:
          24x7: {hours: {mon-sun: ["00:00-24:00"]}}
        policies:
          - {name: a, targets: {first_response: 1h}}
        """,
        2,
        ["calendars.24x7", "built in"],
    ),
    (
        "duplicate-policy-names",
        """\
        policies:
          - name: standard
            targets: {first_response: 1h}
          - name: standard
            targets: {first_response: 2h}
        """,
        4,
        ["policies[1].name", "'standard' is used twice"],
    ),
    (
        "match-mapping",
        """\
        policies:
          - name: a
            match: {channel: {inn: [email]}}
            targets: {first_response: 1h}
        """,
        3,
        ["policies[0].match.channel.inn", "unknown operator 'inn'", "did you mean 'in'?"],
    ),
    (
        "match-nested-list",
        """\
        policies:
          - name: a
            match:
              channel: [email, [web, chat]]
            targets: {first_response: 1h}
        """,
        4,
        ["policies[0].match.channel[1]", "inside a list"],
    ),
    ("no-policies", "done_statuses: [solved]\n", 1, ["no policies"]),
    ("empty-policies", "policies: []\n", 1, ["no policies"]),
    ("empty-file", "# nothing yet\n", 1, ["empty"]),
    ("not-a-mapping", "- name: a\n", 1, ["not a policy file"]),
    (
        "policy-not-a-mapping",
        """\
        policies:
          - standard
        """,
        2,
        ["policies[0]", "'standard' is not a policy"],
    ),
    (
        "policy-without-name",
        """\
        policies:
          - targets: {first_response: 1h}
        """,
        2,
        ["policies[0].name", "required"],
    ),
    (
        "bad-hours-kind",
        """\
        policies:
          - name: a
            hours: buisness
            targets: {first_response: 1h}
        """,
        3,
        ["policies[0].hours", "'buisness'", "did you mean 'business'"],
    ),
    (
        "bad-within-hours",
        """\
        policies:
          - name: a
            targets:
              resolution: {within: 3d, hours: wallclock}
        """,
        4,
        ["policies[0].targets.resolution.hours", "'wallclock'", "business or calendar"],
    ),
    (
        "bad-warning-percent",
        """\
        policies:
          - name: a
            targets: {first_response: 1h}
            warnings: {at_percent: [75, 120]}
        """,
        4,
        ["policies[0].warnings.at_percent[1]", "120", "percentage"],
    ),
    (
        "custom-metric-unknown-condition",
        """\
        metrics:
          escalated_time:
            start: {status_entered: [escalated]}
            stop: [status_left_escalated]
        policies:
          - {name: a, targets: {escalated_time: 4h}}
        """,
        4,
        ["metrics.escalated_time.stop[0]", "unknown condition 'status_left_escalated'"],
    ),
    (
        "custom-metric-misspelt-condition",
        """\
        metrics:
          waiting:
            start: creatd
            stop: done
        policies:
          - {name: a, targets: {waiting: 4h}}
        """,
        3,
        ["metrics.waiting.start", "'creatd'", "did you mean 'created'"],
    ),
    (
        "custom-metric-two-keys",
        """\
        metrics:
          assignment:
            start: created
            stop: {field_set: assignee, status_entered: [open]}
        policies:
          - {name: a, targets: {assignment: 1h}}
        """,
        4,
        ["metrics.assignment.stop", "exactly one of"],
    ),
    (
        "custom-metric-bad-author",
        """\
        metrics:
          bot_touch:
            start: created
            stop: {message: {author: [robot]}}
        policies:
          - {name: a, targets: {bot_touch: 1h}}
        """,
        4,
        ["metrics.bot_touch.stop.message.author[0]", "'robot'", "did you mean 'bot'"],
    ),
    (
        "custom-metric-without-stop",
        """\
        metrics:
          escalated_time:
            start: {status_entered: [escalated]}
        policies:
          - {name: a, targets: {escalated_time: 4h}}
        """,
        2,
        ["metrics.escalated_time", "needs stop"],
    ),
    (
        "custom-metric-resume-without-cycles",
        """\
        metrics:
          work:
            start: created
            stop: done
            resume: reopened
        policies:
          - {name: a, targets: {work: 4h}}
        """,
        5,
        ["metrics.work.resume", "cycles: resume"],
    ),
    (
        "custom-metric-bad-cycles",
        """\
        metrics:
          work:
            start: created
            stop: done
            cycles: always
        policies:
          - {name: a, targets: {work: 4h}}
        """,
        5,
        ["metrics.work.cycles", "'always'", "once, repeat or resume"],
    ),
    (
        "builtin-metric-with-start",
        """\
        metrics:
          first_response: {start: created}
        policies:
          - {name: a, targets: {first_response: 1h}}
        """,
        2,
        ["metrics.first_response.start", "built-in"],
    ),
    (
        "misspelt-builtin-metric-options",
        """\
        metrics:
          requester_wiat: {pause_statuses: [pending]}
        policies:
          - {name: a, targets: {requester_wait: 1h}}
        """,
        2,
        ["metrics.requester_wiat", "did you mean the built-in 'requester_wait'"],
    ),
    (
        "bad-responder",
        """\
        metrics:
          first_response: {responders: [agent, bots]}
        policies:
          - {name: a, targets: {first_response: 1h}}
        """,
        2,
        ["metrics.first_response.responders[1]", "'bots'", "did you mean 'bot'"],
    ),
    (
        "done-statuses-not-a-list",
        """\
        done_statuses: solved
        policies:
          - {name: a, targets: {first_response: 1h}}
        """,
        1,
        ["done_statuses", "'solved'", "list of statuses"],
    ),
    (
        "name-is-a-number",
        """\
        policies:
          - name: 2024
            targets: {first_response: 1h}
        """,
        2,
        ["policies[0].name", "2024", "quote it"],
    ),
    (
        "duplicate-yaml-key",
        """\
        policies:
          - name: a
            targets: {first_response: 1h}
            targets: {first_response: 2h}
        """,
        4,
        ["policies[0].targets", "given twice", "line 3"],
    ),
    (
        "duration-in-words",
        """\
        policies:
          - name: a
            targets: {first_response: 8 hours}
        """,
        3,
        ["policies[0].targets.first_response", "'8 hours' is not a duration", "did you mean '8h'?"],
    ),
    (
        "duration-in-words-within",
        """\
        policies:
          - name: a
            targets:
              resolution: {within: 1.5 hrs, hours: calendar}
        """,
        4,
        ["policies[0].targets.resolution.within", "'1.5 hrs'", "did you mean '1.5h'?"],
    ),
    (
        "duration-in-words-per-priority",
        """\
        policies:
          - name: a
            targets:
              next_response: {urgent: 30 min, default: 4h}
        """,
        4,
        ["policies[0].targets.next_response.urgent", "'30 min'", "did you mean '30m'?"],
    ),
    (
        "within-misspelt",
        """\
        policies:
          - name: a
            targets:
              resolution: {withn: 3d, hours: calendar}
        """,
        4,
        ["policies[0].targets.resolution.withn", "unknown key 'withn'; did you mean 'within'?"],
    ),
    (
        "hours-misspelt-in-a-target",
        """\
        policies:
          - name: a
            targets:
              resolution: {within: 3d, hour: calendar}
        """,
        4,
        ["policies[0].targets.resolution.hour", "unknown key 'hour'; did you mean 'hours'?"],
    ),
    (
        "within-misspelt-per-priority",
        """\
        policies:
          - name: a
            targets:
              resolution: {urgent: {witin: 8h, hours: calendar}, default: 40h}
        """,
        4,
        ["policies[0].targets.resolution.urgent.witin", "did you mean 'within'?"],
    ),
]


@pytest.mark.parametrize("text, line, culprits", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_file_is_refused_with_line_and_culprit(tmp_path, capsys, text, line, culprits):
    status, out, err, path = run_validate(tmp_path, capsys, text)
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    matching = [entry for entry in lines if all(c in entry for c in culprits)]
    assert matching, f"no message names {culprits}:\n{err}"
    assert any(entry.startswith(f"{path}:{line}:") for entry in matching), f"expected line {line}:\n{err}"


def test_a_misspelt_target_key_gets_one_message_each(tmp_path, capsys):
    """{withn: 3d, hours: calendar} is a target with a typo, not two priorities
    named withn and hours (whose 'calendar' would not be a duration)."""
    status, _out, err, path = run_validate(
        tmp_path,
        capsys,
        """\
        policies:
          - name: a
            targets:
              resolution: {withn: 3d, hours: calendar}
              first_response: {within: 1h, hors: calendar, extra: 1}
              next_response: {hours: calendar}
        """,
    )
    assert status == 2
    assert err.splitlines() == [
        f"{path}:4:20: at policies[0].targets.resolution.withn: unknown key 'withn'; did you mean 'within'?",
        f"{path}:5:36: at policies[0].targets.first_response.hors: unknown key 'hors'; did you mean 'hours'?",
        f"{path}:5:52: at policies[0].targets.first_response.extra: unknown key 'extra'; "
        "expected a duration like 4h, or {within: <duration>, hours: business|calendar}",
        f"{path}:6:7: at policies[0].targets.next_response: missing within; "
        "expected a duration like 4h, or {within: <duration>, hours: business|calendar}",
    ]


@pytest.mark.parametrize(
    "text, fix",
    [
        ("8 hours", "8h"),
        ("1 hour 30 minutes", "1h30m"),
        ("2 days, 4 hours", "2d4h"),
        ("4H", "4h"),
        ("pt4h", "PT4H"),
    ],
)
def test_a_duration_in_words_suggests_the_short_form(text, fix):
    from sla.errors import DurationError
    from sla.policy.duration import parse_duration_us

    with pytest.raises(DurationError) as caught:
        parse_duration_us(text)
    assert str(caught.value) == (
        f"{text!r} is not a duration; expected a duration like 15m, 1h30m, 2d, PT4H or a number of seconds; "
        f"did you mean {fix!r}?"
    )
    assert parse_duration_us(fix) > 0  # the suggestion is a duration


@pytest.mark.parametrize("text", ["30m1h", "5 mins 1 hour", "soon", "-8 hours", "8 fortnights"])
def test_no_suggestion_without_a_clear_reading(text):
    from sla.errors import DurationError
    from sla.policy.duration import parse_duration_us

    with pytest.raises(DurationError) as caught:
        parse_duration_us(text)
    assert "did you mean" not in str(caught.value)


def test_a_one_digit_hour_suggests_two_digits(tmp_path, capsys):
    status, _out, err, path = run_validate(
        tmp_path,
        capsys,
        """\
        calendars:
          office: {hours: {mon-fri: ["9:00-17:00"]}}
        policies:
          - {name: a, calendar: office, targets: {first_response: 4h}}
        """,
    )
    assert status == 2
    assert f"{path}:2:30: at calendars.office.hours.mon-fri[0]:" in err
    assert "'9:00' is not a clock time" in err and "did you mean '09:00'?" in err


def test_every_problem_of_a_file_comes_at_once(tmp_path, capsys):
    text = """\
        polices: []
        calendars:
          office:
            timezone: Mars/Olympus
            hours:
              mon-fri: ["09:00-12:00", "11:00-17:00"]
              mon: ["18:00-19:00"]
            overrides:
              2026-02-30: []
          closed:
            hours: {sat: []}
        metrics:
          escalated_time:
            start: {status_entered: [escalated]}
            stop: [{status_left: [escalated], field_set: x}]
        policies:
          - name: a
            calendar: ofice
            match: {channel: {x: 1}}
            targets:
              first_response: {urgent: 1x, default: -5m}
              resolutin: 1h
          - name: a
            targets: {first_response: 25:00}
          - just text
        """
    status, out, err, path = run_validate(tmp_path, capsys, text)
    assert status == 2
    expected = [
        (1, "polices"),
        (4, "Mars/Olympus"),
        (6, "overlap"),
        (7, "named twice"),
        (9, "2026-02-30"),
        (11, "no open hours"),
        (15, "exactly one of"),
        (18, "unknown calendar 'ofice'"),
        (19, "match.channel"),
        (21, "'1x'"),
        (21, "'-5m'"),
        (22, "resolutin"),
        (23, "used twice"),
        (24, "'25:00'"),
        (25, "policies[2]"),
    ]
    lines = err.strip().splitlines()
    for line, culprit in expected:
        assert any(e.startswith(f"{path}:{line}:") and culprit in e for e in lines), (line, culprit, err)
    # In file order.
    numbers = [int(e[len(path) + 1 :].split(":")[0]) for e in lines]
    assert numbers == sorted(numbers)


def test_problems_are_available_to_embedders():
    with pytest.raises(PolicyError) as info:
        load_policies("policies:\n  - name: a\n    targets: {first_response: soon}\n")
    (problem,) = info.value.problems
    assert problem.path == "policies[0].targets.first_response"
    assert problem.line == 3
    assert "'soon'" in problem.message


def test_an_unknown_metric_in_a_policy_with_other_problems_is_still_named(tmp_path, capsys):
    status, _out, err, _path = run_validate(
        tmp_path,
        capsys,
        """\
        policies:
          - name: a
            hours: sometimes
            targets: {first_respons: 1h}
        """,
    )
    assert status == 2
    assert "sometimes" in err and "did you mean 'first_response'" in err


def test_json_syntax_error_names_the_line(tmp_path, capsys):
    status, _out, err, path = run_validate(
        tmp_path, capsys, '{"policies": [\n  {"name": "a",}\n]}\n', "p.json"
    )
    assert status == 2
    assert err.startswith(f"{path}:2:") and "JSON syntax error" in err


def test_json_problem_names_the_line(tmp_path, capsys):
    text = '{\n  "policies": [\n    {"name": "a", "targets": {"first_response": "1y"}}\n  ]\n}\n'
    status, _out, err, path = run_validate(tmp_path, capsys, text, "p.json")
    assert status == 2
    assert err.startswith(f"{path}:3:") and "'1y'" in err


def test_toml_syntax_error_names_the_line(tmp_path, capsys):
    status, _out, err, path = run_validate(
        tmp_path, capsys, '[[policies]]\nname = "a"\ntargets = \n', "p.toml"
    )
    assert status == 2
    assert err.startswith(f"{path}:3:") and "TOML syntax error" in err


def test_toml_problem_names_the_line(tmp_path, capsys):
    text = '[[policies]]\nname = "a"\n[policies.targets]\nfirst_response = "1x"\n'
    status, _out, err, path = run_validate(tmp_path, capsys, text, "p.toml")
    assert status == 2
    assert err.startswith(f"{path}:4:") and "policies[0].targets.first_response" in err


def test_missing_file_and_directory(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert cli.main(["validate", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "nope.yaml" in err and "no such file" in err
    assert "directory" in err
    assert "Traceback" not in out + err


def test_one_bad_file_among_good_ones(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD_POLICY)
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies:\n  - name: a\n    targets: {first_response: never}\n")
    status = cli.main(["validate", str(good), str(bad)])
    out, err = capsys.readouterr()
    assert status == 2
    assert f"{good}: OK" in out
    assert f"{bad}:3:" in err and "'never'" in err


def test_alias_bomb_is_refused_not_expanded(tmp_path, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]")
    lines.append("policies: [{name: a, match: {x: *a8}}]")
    status, _out, err, _path = run_validate(tmp_path, capsys, "\n".join(lines) + "\n")
    assert status == 2
    assert "too large" in err


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_evaluate_and_report_refuse_a_bad_policy_file_before_reading_events(tmp_path, capsys, command):
    policy = tmp_path / "bad.yaml"
    policy.write_text("policies:\n  - name: a\n    targets: {first_response: 1x}\n")
    status = cli.main(
        [
            command,
            "--policies",
            str(policy),
            "--events",
            str(tmp_path / "missing.jsonl"),
            "--now",
            "2026-03-02T00:00:00Z",
        ]
    )
    out, err = capsys.readouterr()
    assert status == 2
    assert f"{policy}:3:" in err and "'1x'" in err
    assert "missing.jsonl" not in err
    assert "Traceback" not in out + err
