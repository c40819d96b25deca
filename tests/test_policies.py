"""Loading policy files: the forms the spec allows, the defaults, and the
matching and targeting rules the engine and embedders share."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta

import pytest

from sla import ALWAYS_OPEN, Calendar
from sla.errors import PolicyError
from sla.io.policy_files import load_policies
from sla.policy.compile import PolicySet

H = 3600 * 10**6

SPEC_POLICY = """\
done_statuses: [solved, closed]
metrics:
  requester_wait: {pause_statuses: [pending]}
calendars:
  berlin:
    timezone: Europe/Berlin
    hours:
      mon-fri: ["09:00-12:00", "13:00-17:00"]
      sat: ["10:00-14:00"]
    holidays:
      country: DE
      subdivision: BE
      dates: ["2026-12-24"]
    overrides:
      "2026-12-31": ["09:00-12:00"]
      "2026-06-15": []
policies:
  - name: social-urgent
    match: {channel: [twitter, facebook], priority: urgent}
    calendar: 24x7
    targets:
      first_response: 15m
      next_response: 30m
  - name: standard
    calendar: berlin
    hours: business
    targets:
      first_response: {urgent: 1h, high: 2h, default: 8h}
      resolution: {urgent: 8h, default: {within: 3d, hours: calendar}}
"""


@pytest.fixture(scope="module")
def spec_policies() -> PolicySet:
    return load_policies(SPEC_POLICY)


def test_the_spec_section_4_file_loads(spec_policies):
    p = spec_policies
    assert [x.name for x in p.policies] == ["social-urgent", "standard"]
    assert isinstance(p.calendars["berlin"], Calendar)
    assert p.calendars["24x7"] is ALWAYS_OPEN
    assert p.done_statuses == {"solved", "closed"}
    assert p.metrics["requester_wait"].pause_statuses == {"pending"}
    assert set(p.active_metrics) == {"first_response", "next_response", "resolution"}


def test_first_match_wins_and_every_key_must_hold(spec_policies):
    p = spec_policies
    assert p.policy_for({"channel": "twitter", "priority": "urgent"}).name == "social-urgent"
    assert p.policy_for({"channel": "twitter", "priority": "high"}).name == "standard"
    assert p.policy_for({"channel": "email", "priority": "urgent"}).name == "standard"
    assert p.policy_for({"channel": "twitter"}).name == "standard"  # a missing attribute never matches
    assert p.policy_for({}).name == "standard"  # no match: every ticket


def test_no_policy_in_force():
    p = load_policies("policies:\n  - {name: vip, match: {vip: true}, targets: {first_response: 1h}}\n")
    assert p.policy_for({"vip": False}) is None
    assert p.target_for({"vip": False}, "first_response") is None
    assert p.policy_for({"vip": True}).name == "vip"


def test_match_scalars_compare_by_value():
    p = load_policies(
        textwrap.dedent("""\
        policies:
          - {name: level-3, match: {level: 3}}
          - {name: listed, match: {level: [4, 5], team: [a, b]}}
          - {name: quoted, match: {level: "3"}}
        """)
    )
    assert p.policy_for({"level": 3}).name == "level-3"
    assert p.policy_for({"level": "3"}).name == "quoted"
    assert p.policy_for({"level": 5, "team": "b"}).name == "listed"
    assert p.policy_for({"level": 5, "team": "c"}) is None
    assert p.policy_for({"level": [5]}) is None  # unhashable attributes still work


def test_targets_by_priority_with_default(spec_policies):
    standard = spec_policies.policy_for({})
    assert standard.target("first_response", "urgent").us == 1 * H
    assert standard.target("first_response", "high").us == 2 * H
    assert standard.target("first_response", "low").us == 8 * H
    assert standard.target("first_response", None).us == 8 * H  # no priority: default
    assert standard.target("next_response", "urgent") is None  # no target: not measured
    urgent = standard.target("resolution", "urgent")
    assert (urgent.us, urgent.hours, urgent.calendar) == (
        8 * H,
        "business",
        spec_policies.calendars["berlin"],
    )
    default = standard.target("resolution", "normal")
    assert (default.us, default.hours, default.calendar) == (72 * H, "calendar", ALWAYS_OPEN)
    assert default.seconds == 72 * 3600


def test_target_without_default_leaves_other_priorities_unmeasured():
    p = load_policies("policies:\n  - {name: a, targets: {first_response: {urgent: 1h}}}\n")
    assert p.target_for({"priority": "urgent"}, "first_response")[1].us == H
    assert p.target_for({"priority": "low"}, "first_response") is None
    assert p.target_for({}, "first_response") is None


def test_policy_hours_calendar_is_the_default_for_its_targets():
    p = load_policies(
        textwrap.dedent("""\
        calendars: {office: {hours: {mon-fri: ["09:00-17:00"]}}}
        policies:
          - name: a
            calendar: office
            hours: calendar
            targets: {first_response: 1h, resolution: {within: 8h, hours: business}}
        """)
    )
    policy = p.policies[0]
    assert policy.target("first_response", None).hours == "calendar"
    assert policy.target("first_response", None).calendar is ALWAYS_OPEN
    assert policy.target("resolution", None).hours == "business"
    assert policy.target("resolution", None).calendar is p.calendars["office"]


def test_numeric_priority_keys_match_numbers_only():
    p = load_policies("policies:\n  - {name: a, targets: {first_response: {1: 1h, 2: 4h, '3': 5h}}}\n")
    assert p.policies[0].target("first_response", 1).us == H
    assert p.policies[0].target("first_response", 2.0).us == 4 * H
    assert p.policies[0].target("first_response", "2") is None  # a text never equals a number
    assert p.policies[0].target("first_response", "3").us == 5 * H
    assert p.policies[0].target("first_response", 3) is None


@pytest.mark.parametrize(
    "written, seconds",
    [
        ("90s", 90),
        ("15m", 900),
        ("1.5h", 5400),
        ("1h30m", 5400),
        ("'1h 30m'", 5400),
        ("2d", 172800),
        ("PT4H", 14400),
        ("P1DT2H", 93600),
        ("PT90M", 5400),
        ("3600", 3600),
        ("'3600'", 3600),
        ("0", 0),
        ("0.5s", 0.5),
    ],
)
def test_duration_forms(written, seconds):
    p = load_policies(f"policies:\n  - {{name: a, targets: {{first_response: {written}}}}}\n")
    assert p.policies[0].target("first_response", None).us == int(seconds * 10**6)


def test_defaults():
    p = load_policies("policies:\n  - name: a\n")
    policy = p.policies[0]
    assert policy.calendar_name == "24x7" and policy.calendar is ALWAYS_OPEN
    assert policy.hours == "business"
    assert policy.condition.keys() == frozenset() and policy.matches({})
    assert p.done_statuses == {"solved", "closed"}
    assert p.active_metrics == ()
    cal = load_policies(
        "calendars: {c: {hours: {mon: ['09:00-17:00']}}}\npolicies: [{name: a, calendar: c}]\n"
    )
    assert cal.calendars["c"].zone.key == "UTC"  # timezone defaults to UTC


def test_done_statuses_and_metric_options():
    p = load_policies(
        textwrap.dedent("""\
        done_statuses: [resolved, closed, spam]
        metrics:
          first_response: {responders: [agent, bot]}
          agent_work: {pause_statuses: [pending, on_hold, waiting_on_vendor]}
        policies: [{name: a, targets: {first_response: 1h, agent_work: 8h}}]
        """)
    )
    assert p.done_statuses == {"resolved", "closed", "spam"}
    assert p.metrics["first_response"].responders == {"agent", "bot"}
    assert p.metrics["agent_work"].pause_statuses == {"pending", "on_hold", "waiting_on_vendor"}


def test_custom_metrics_compile():
    p = load_policies(
        textwrap.dedent("""\
        metrics:
          escalated:
            description: time escalated
            start: {status_entered: [escalated, tier2]}
            stop: {status_left: escalated}
            cycles: repeat
            pause_statuses: [pending]
          assignment: {start: created, stop: {field_set: assignee}, cancel_on_done: true}
          touch:
            start: [created, reopened]
            stop: [{message: {author: [agent, bot], public: true}}, done]
            resume: [{field_changed: priority}]
            cycles: resume
            responders: [agent, bot]
        policies: [{name: a, targets: {escalated: 4h, assignment: 1h, touch: 2h}}]
        """)
    )
    esc = p.metrics["escalated"]
    assert (esc.cycles, esc.start[0].kind, esc.start[0].statuses) == (
        "repeat",
        "status_entered",
        {"escalated", "tier2"},
    )
    assert esc.stop[0].statuses == {"escalated"} and esc.pause_statuses == {"pending"}
    assert esc.description == "time escalated" and not esc.builtin
    assignment = p.metrics["assignment"]
    assert assignment.cycles == "once" and assignment.cancel_on_done and assignment.uses_fields
    touch = p.metrics["touch"]
    assert [t.kind for t in touch.start] == ["created", "reopened"]
    assert touch.stop[0].authors == {"agent", "bot"} and touch.stop[0].public is True
    assert touch.resume[0].kind == "field_changed" and touch.resume[0].field_name == "priority"
    assert touch.responders == {"agent", "bot"}


def test_yaml_1_2_scalars():
    p = load_policies(
        textwrap.dedent("""\
        calendars:
          oslo: {timezone: Europe/Oslo, hours: {mon-fri: ["08:00-16:00"]}, holidays: {country: NO}}
        policies:
          - {name: a, match: {answer: yes, flag: true}, calendar: oslo}
        """)
    )
    assert p.calendars["oslo"].holiday_country == "NO"  # Norway, not false
    assert not p.calendars["oslo"].is_open(datetime.fromisoformat("2026-05-14T10:00:00+02:00"))  # Ascension
    assert p.policy_for({"answer": "yes", "flag": True}).name == "a"


def test_load_from_path_text_mapping_json_and_toml(tmp_path):
    data = {"policies": [{"name": "a", "targets": {"first_response": "1h"}}]}
    (tmp_path / "p.yaml").write_text("policies:\n  - {name: a, targets: {first_response: 1h}}\n")
    (tmp_path / "p.json").write_text(json.dumps(data))
    (tmp_path / "p.toml").write_text('[[policies]]\nname = "a"\n[policies.targets]\nfirst_response = "1h"\n')
    loaded = [
        load_policies(tmp_path / "p.yaml"),
        load_policies(str(tmp_path / "p.json")),
        load_policies(tmp_path / "p.toml"),
        load_policies(data),
        load_policies(json.dumps(data)),
    ]
    for p in loaded:
        assert p.policies[0].target("first_response", None).us == H
    assert loaded[0].source == str(tmp_path / "p.yaml")


def test_mapping_errors_have_paths_but_no_lines():
    with pytest.raises(PolicyError) as info:
        load_policies({"policies": [{"name": "a", "targets": {"first_response": "soon"}}]})
    (problem,) = info.value.problems
    assert problem.path == "policies[0].targets.first_response" and problem.line is None


def test_schema_key_is_allowed_for_editors():
    p = load_policies('{"$schema": "./policy.schema.json", "policies": [{"name": "a"}]}')
    assert p.policies[0].name == "a"


def test_yaml_is_loaded_safely():
    with pytest.raises(PolicyError) as info:
        load_policies("policies: !!python/object/apply:os.system ['echo hi']\n")
    assert "YAML" in str(info.value)


def test_yaml_dates_and_date_strings_both_work():
    p = load_policies(
        textwrap.dedent("""\
        calendars:
          c:
            hours: {mon-sun: ["09:00-17:00"]}
            holidays: {dates: [2026-03-04, "2026-03-05"]}
            overrides: {2026-03-06: ["10:00-11:00"], "2026-03-07": [], 2026-03-09: null}
        policies: [{name: a, calendar: c}]
        """)
    )
    cal = p.calendars["c"]
    noon = timedelta(hours=12)
    for day, open_ in (
        ("2026-03-04", False),
        ("2026-03-05", False),
        ("2026-03-07", False),
        ("2026-03-08", True),
        ("2026-03-09", False),
        ("2026-03-10", True),
    ):
        assert cal.is_open(datetime.fromisoformat(day + "T00:00:00+00:00") + noon) is open_, day
    assert cal.is_open(datetime.fromisoformat("2026-03-06T10:30:00+00:00"))


def test_anchors_merge_keys_and_extension_keys():
    p = load_policies(
        textwrap.dedent("""\
        x-standard-targets: &standard
          first_response: {urgent: 1h, default: 8h}
          resolution: 40h
        policies:
          - name: vip
            match: {vip: true}
            targets: {<<: *standard, first_response: 30m}
          - name: everyone-else
            targets: *standard
        """)
    )
    vip, rest = p.policies
    assert vip.target("first_response", "urgent").us == H // 2
    assert vip.target("resolution", None).us == 40 * H
    assert rest.target("first_response", "urgent").us == H


def test_the_policy_models_annotations_are_objects_not_text():
    """sla.policy.model makes its annotations as objects (no ``from __future__
    import annotations``): pydantic would otherwise compile each text back
    into a type at every command's start-up (docs/performance.md)."""
    from pydantic import BaseModel

    import sla.policy.model as model

    models = [v for v in vars(model).values() if isinstance(v, type) and issubclass(v, BaseModel)]
    assert len(models) >= 15
    texts = {
        f"{cls.__name__}.{name}": hint
        for cls in models
        for name, hint in vars(cls).get("__annotations__", {}).items()
        if isinstance(hint, str)
    }
    assert texts == {}
