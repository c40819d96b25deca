"""The JSON Schema of policy files: printed by ``sla schema``, shipped as
docs/policy.schema.json, and in agreement with the loader on real files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from sla import cli
from sla.io.policy_files import read_document
from sla.policy.schema import SCHEMA_ID, json_schema
from sla.policy.source import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "docs" / "policy.schema.json"
SPEC_EXAMPLES = sorted((ROOT.parent / "shared" / "spec" / "examples").glob("*/policy.yaml"))
POLICY_FILES = sorted((ROOT / "policies").glob("*.yaml")) + SPEC_EXAMPLES


def plain(value: object) -> object:
    """What an editor's YAML 1.2 parser sees: unquoted dates are text."""
    if isinstance(value, dict):
        return {(k.isoformat() if isinstance(k, date) else str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")  # pip install jsonschema to run these
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def errors(validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(plain(parse_yaml(text).data))]


def test_sla_schema_prints_the_schema(capsys):
    assert cli.main(["schema"]) == 0
    out, _err = capsys.readouterr()
    assert json.loads(out) == json_schema()


def test_shipped_schema_file_is_up_to_date():
    assert SHIPPED.exists(), "run: sla schema > docs/policy.schema.json"
    assert json.loads(SHIPPED.read_text(encoding="utf-8")) == json_schema(), (
        "docs/policy.schema.json is stale; run: sla schema > docs/policy.schema.json"
    )


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_policy_files_validate_against_the_schema(validator, path):
    found = [e.message for e in validator.iter_errors(plain(read_document(path).data))]
    assert found == []


def test_example_files_point_editors_at_the_schema_by_its_id():
    """Not a path into this repository: the line still works in a copy of the file."""
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={SCHEMA_ID}", path


def test_the_schema_has_a_stable_id():
    schema = json_schema()
    assert schema["$id"] == SCHEMA_ID == "https://sla.dev/schema/policy/v2.json"
    assert list(schema)[:2] == ["$schema", "$id"]
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert shipped["$id"] == SCHEMA_ID  # the copy editors use is the same schema


def _patterned(node: object, out: list[dict]) -> list[dict]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            out.append(node)
        for value in node.values():
            _patterned(value, out)
    elif isinstance(node, list):
        for value in node:
            _patterned(value, out)
    return out


def test_every_pattern_has_words_for_editors():
    """VS Code and the YAML language server show patternErrorMessage (errorMessage
    for a value of the wrong kind) instead of "does not match the pattern ^(?=..."."""
    found = _patterned(json_schema(), [])
    assert len(found) >= 6
    for node in found:
        words = node.get("patternErrorMessage")
        assert words and words.startswith("Expected ") and "^" not in words, node
        assert node["errorMessage"] == words


def test_a_bad_duration_reads_like_a_duration():
    duration = json_schema()["$defs"]["Duration"]
    text, number = duration["anyOf"]
    assert "a duration like 15m, 4h or PT4H" in text["patternErrorMessage"]
    assert number["errorMessage"] == text["patternErrorMessage"]
    interval = json_schema()["$defs"]["Interval"]
    assert "09:00, not 9:00" in interval["patternErrorMessage"]
    hours = json_schema()["$defs"]["CalendarSpec"]["properties"]["hours"]
    assert "mon-fri" in hours["propertyNames"]["patternErrorMessage"]


@pytest.mark.parametrize(
    "text, culprit",
    [
        ("polices: []\npolicies: [{name: a}]\n", "polices"),
        ("policies: [{name: a, calender: x}]\n", "calender"),
        ("policies: []\n", "non-empty"),
        ("done_statuses: [solved]\n", "policies"),
        ("policies: [{targets: {first_response: 1h}}]\n", "name"),
        ("policies: [{name: a, targets: {first_response: 1x}}]\n", "1x"),
        ("policies: [{name: a, targets: {first_response: 30m1h}}]\n", "30m1h"),
        ("policies: [{name: a, targets: {first_response: -5}}]\n", "-5"),
        ("policies: [{name: a, targets: {first_response: {within: 1h, hours: wall}}}]\n", "within"),
        ("policies: [{name: a, match: {channel: {inn: [x]}}}]\n", "inn"),
        ("policies: [{name: a, hours: sometimes}]\n", "sometimes"),
        ("policies: [{name: a, warnings: {at_percent: [120]}}]\n", "120"),
        ("calendars: {c: {hours: {mon-fry: ['09:00-17:00']}}}\npolicies: [{name: a}]\n", "mon-fry"),
        ("calendars: {c: {hours: {mon: ['09:00-25:00']}}}\npolicies: [{name: a}]\n", "25:00"),
        ("calendars: {c: {timezone: UTC}}\npolicies: [{name: a}]\n", "hours"),
        (
            "calendars: {c: {hours: {mon: ['09:00-17:00']}, overrides: {xmas: []}}}\npolicies: [{name: a}]\n",
            "xmas",
        ),
        ("metrics: {waiting: {start: created}}\npolicies: [{name: a}]\n", "stop"),
        ("metrics: {first_response: {cycles: repeat}}\npolicies: [{name: a}]\n", "cycles"),
        ("metrics: {w: {start: creatd, stop: done}}\npolicies: [{name: a}]\n", "creatd"),
        (
            "metrics: {w: {start: created, stop: {field_set: a, field_changed: b}}}\npolicies: [{name: a}]\n",
            "field_set",
        ),
        ("metrics: {first_response: {responders: [robot]}}\npolicies: [{name: a}]\n", "robot"),
    ],
)
def test_schema_rejects_what_the_loader_rejects(validator, text, culprit):
    found = errors(validator, text)
    assert found, text
    assert any(culprit in message for message in found), found


def test_schema_accepts_every_documented_form(validator):
    text = """\
        $schema: https://sla.dev/schema/policy/v2.json
        x-hours: &office ["09:00-12:00", "13:00-17:00"]
        done_statuses: [solved, closed]
        metrics:
          first_response: {responders: [agent, bot]}
          requester_wait: {pause_statuses: pending}
          escalated: {start: {status_entered: escalated}, stop: {status_left: [escalated]}, cycles: repeat}
          assigned: {start: created, stop: {field_set: assignee}, cancel_on_done: true}
          touched: {start: [created, reopened], stop: [{message: {author: agent, public: true}}, done],
                    resume: reopened, cycles: resume}
        calendars:
          office:
            timezone: Europe/Berlin
            hours: {Mon-Fri: ["09:00-12:00", "13:00:30-17:00"], "sat,sun": "10:00-14:00"}
            holidays: {country: DE, subdivision: BE, categories: public, dates: [2026-12-24, "2026-12-31"]}
            overrides: {2026-12-22: *office, 2026-12-23: ["09:00-12:00"], "2026-06-15": [], 2026-06-16: null, 2026-06-17: "22:00-24:00"}
        policies:
          - name: a
            description: all the forms
            match: {channel: [twitter, facebook], priority: urgent, vip: true, level: 3}
            calendar: office
            hours: calendar
            targets:
              first_response: {urgent: 1h, high: 1.5h, default: 8h}
              next_response: "1h 30m"
              resolution: {urgent: {within: PT4H, hours: business}, default: {within: 3d, hours: calendar}}
              requester_wait: 86400
              agent_work: "3600"
              escalated: P1DT2H
            warnings: {at_percent: [75, 90], before_due: [30m]}
        """
    import textwrap

    from sla.io.policy_files import load_policies

    text = textwrap.dedent(text)
    assert errors(validator, text) == []
    load_policies(text)  # the loader agrees


# ------------------------------------------------------------ docs/policies.md
DOC = ROOT / "docs" / "policies.md"


def _schema_names(node: object, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            _schema_names(value, out)
    elif isinstance(node, list):
        for value in node:
            _schema_names(value, out)
    return out


def _yaml_blocks(text: str) -> list[str]:
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if not inside and line.startswith("```yaml"):
            inside, current = True, []
        elif inside and line.startswith("```"):
            inside = False
            blocks.append("\n".join(current) + "\n")
        elif inside:
            current.append(line)
    return blocks


def test_every_schema_key_is_documented():
    from sla.policy.model import CONDITION_KEYS, CONDITION_NAMES

    doc = DOC.read_text(encoding="utf-8")
    names = _schema_names(json_schema(), set()) | set(CONDITION_NAMES) | set(CONDITION_KEYS)
    missing = sorted(name for name in names if f"`{name}`" not in doc and f"{name}:" not in doc)
    assert missing == [], f"document these in docs/policies.md: {missing}"


def test_documented_example_files_load():
    from sla.io.policy_files import load_policies

    doc = DOC.read_text(encoding="utf-8")
    broken = _yaml_blocks(doc[doc.index("A broken file prints") :])[0]
    whole = [
        b
        for b in _yaml_blocks(doc)
        if b != broken and any(line.startswith("policies:") for line in b.splitlines())
    ]
    assert len(whole) >= 4
    for block in whole:
        load_policies(block)


def test_documented_error_output_is_what_validate_prints(tmp_path, capsys, monkeypatch):
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index("A broken file prints") :]
    broken = _yaml_blocks(section)[0]
    command = "$ sla validate policy.yaml  # exits 2\n"
    start = section.index(command) + len(command)
    documented = section[start : section.index("```", start)]
    (tmp_path / "policy.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate", "policy.yaml"]) == 2
    _out, err = capsys.readouterr()
    assert err == documented
