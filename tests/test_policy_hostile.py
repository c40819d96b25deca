"""Hostile policy files: control characters, deep nesting, endless files, byte-order
marks, JSON that is not YAML, keys that are equal in Python but not in YAML, odd
condition values, dates at the ends of the calendar.  Each is refused (exit 2)
with the file, line and column, or read correctly; never an internal error.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla import cli
from sla.errors import PolicyError
from sla.io.policy_files import load_policies, read_document

GOOD = "policies:\n  - name: a\n    targets: {first_response: 1h}\n"
GOOD_JSON = '{"policies": [{"name": "a", "targets": {"first_response": "1h"}}]}'
GOOD_TOML = '[[policies]]\nname = "a"\ntargets = {first_response = "1h"}\n'
EXAMPLES = sorted((Path(__file__).parent.parent / "policies").glob("*.yaml"))


def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in out + err
    return status, err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


# ------------------------------------------------------------ 1. control characters
@pytest.mark.parametrize(
    ("name", "text", "where", "what"),
    [
        (
            "p.yaml",
            "policies:\n  - name: a\x00b\n    targets: {first_response: 1h}\n",
            "2:12",
            "U+0000 (NUL)",
        ),
        (
            "p.yaml",
            "policies:\n  - name: a\x7fb\n    targets: {first_response: 1h}\n",
            "2:12",
            "U+007F (DEL)",
        ),
        (
            "p.yaml",
            "policies:\n  - name: a\x1bb\n    targets: {first_response: 1h}\n",
            "2:12",
            "U+001B (ESC)",
        ),
        ("p.json", GOOD_JSON.replace('"a"', '"a\x00"'), "1:26", "U+0000 (NUL)"),
        ("p.toml", GOOD_TOML.replace('"a"', '"a\x01"'), "2:10", "U+0001 (SOH)"),
    ],
)
def test_a_control_character_is_refused_where_it_stands(tmp_path, capsys, name, text, where, what):
    path = write(tmp_path, name, text)
    status, err = validate(path, capsys)
    assert status == 2
    assert err.startswith(f"{path}:{where}: ")
    assert what in err and "is not allowed" in err


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("p.json", GOOD_JSON.replace('"a"', '"a\\ud800"'), 1),
        ("p.json", GOOD_JSON.replace('"a"', '"a\\u0000"'), 1),
        ("p.yaml", 'policies:\n  - name: "a\\ud800"\n    targets: {first_response: 1h}\n', 2),
        ("p.toml", GOOD_TOML.replace('"a"', '"a\\u0007"'), 2),
    ],
)
def test_an_escaped_surrogate_or_control_character_is_refused_at_its_value(
    tmp_path, capsys, name, text, line
):
    path = write(tmp_path, name, text)
    status, err = validate(path, capsys)
    assert status == 2
    assert err.startswith(f"{path}:{line}:") and "policies[0].name" in err
    assert "is not allowed" in err and "U+" in err


def test_a_raw_lone_surrogate_in_text_is_refused():
    with pytest.raises(PolicyError) as info:
        load_policies("policies:\n  - name: a\ud800\n    targets: {first_response: 1h}\n")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (2, 12)
    assert "lone surrogate U+D800" in problem.message


def test_a_character_yaml_refuses_is_located():
    with pytest.raises(PolicyError) as info:
        load_policies("policies:\n  - name: a\ufffe\n")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (2, 12) and "U+FFFE" in problem.message


def test_tab_newline_and_carriage_return_are_still_fine():
    policies = load_policies(
        'policies:\r\n  - name: a\r\n    description: "one\\ttwo\\nthree"\r\n'
        "    targets: {first_response: 1h}\r\n"
    )
    assert policies.policies[0].spec.description == "one\ttwo\nthree"


# ------------------------------------------------------------ 2. nesting depth
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("p.json", '{"x-deep": ' + "[" * 1000 + "]" * 1000 + ', "policies": []}'),
        ("p.json", '{"x-deep": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"),
        ("p.toml", "x-deep = " + "{b = " * 1000 + "1" + "}" * 1000 + "\n"),
        ("p.toml", "x-deep = " + "[" * 1000 + "]" * 1000 + "\n"),
        ("p.yaml", "x-deep: " + "[" * 1000 + "]" * 1000 + "\n"),
        ("p.yaml", "".join("  " * i + "a:\n" for i in range(1000))),
    ],
)
def test_deep_nesting_is_refused_with_the_line(tmp_path, capsys, name, text):
    path = write(tmp_path, name, text)
    status, err = validate(path, capsys)
    assert status == 2
    assert err.startswith(f"{path}:") and "nested more than 64 levels deep" in err
    line = int(err[len(str(path)) + 1 :].split(":")[0])
    assert line >= 1


def test_toml_dotted_keys_nesting_deep_are_refused(tmp_path, capsys):
    path = write(tmp_path, "p.toml", "x-deep." + ".".join(["a"] * 200) + " = 1\n" + GOOD_TOML)
    status, err = validate(path, capsys)
    assert status == 2 and err.startswith(f"{path}:1:") and "nested more than 64" in err


def test_deep_or_cyclic_mappings_from_python_are_refused():
    deep: dict[str, object] = {}
    inner = deep
    for _ in range(500):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    cyclic: dict[str, object] = {"policies": []}
    cyclic["x-self"] = cyclic
    for data in (deep, cyclic):
        with pytest.raises(PolicyError, match="nested more than 64 levels deep"):
            load_policies(data)


def test_sixty_four_levels_are_still_read():
    text = '{"policies": [{"name": "a", "targets": {"first_response": "1h"}}], "x-deep": '
    text += "[" * 62 + "]" * 62 + "}"
    assert load_policies(text).policies[0].name == "a"


def test_a_file_that_is_not_utf8_names_the_line_and_column_of_the_first_bad_byte(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"policies:\n  - name: \xc3\xa9t\xe9\n    targets: {first_response: 1h}\n")
    status, err = validate(path, capsys)
    assert status == 2
    assert err.strip() == f"{path}:2:13: byte 0xe9 is not UTF-8 text; save the file as UTF-8"


# ------------------------------------------------------------ 3. huge or endless files
def test_an_endless_file_is_read_only_up_to_the_limit(tmp_path, capsys):
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    for path in (link, Path("/dev/zero")):
        status, err = validate(path, capsys)
        assert status == 2
        assert err.strip() == f"{path}: larger than 10 MB; a policy file is expected to be small"


def test_a_file_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "#" * (10 * 1024 * 1024) + "\n")
    with pytest.raises(PolicyError, match=r"big\.yaml: larger than 10 MB"):
        read_document(path)


# ------------------------------------------------------------ 4. byte-order mark
@pytest.mark.parametrize(("name", "text"), [("p.yaml", GOOD), ("p.json", GOOD_JSON), ("p.toml", GOOD_TOML)])
def test_a_byte_order_mark_is_skipped(tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    status, _err = validate(path, capsys)
    assert status == 0
    if name != "p.toml":  # TOML is read from files only
        assert load_policies("\ufeff" + text).policies[0].name == "a"


def test_a_byte_order_mark_does_not_shift_columns(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"policies": [{"name": "a", "targets": {"first_response": "1x"}}]}')
    with pytest.raises(PolicyError) as info:
        load_policies(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (1, 41)


# ------------------------------------------------------------ 5. JSON is read as JSON
TAB_JSON = '{\n\t"policies": [\n\t\t{"name": "a", "targets": {"first_response": "1x"}}\n\t]\n}\n'
LONG_KEY_JSON = (
    '{"x-' + "k" * 1100 + '": 1,\n "policies": [{"name": "a", "targets": {"first_response": "1x"}}]}'
)


@pytest.mark.parametrize("text", [TAB_JSON, LONG_KEY_JSON])
@pytest.mark.parametrize("name", ["p.json", "p.yaml", None])
def test_valid_json_with_tabs_or_long_keys_is_read_as_json_with_positions(tmp_path, text, name):
    with pytest.raises(PolicyError) as info:
        load_policies(write(tmp_path, name, text) if name else text)
    (problem,) = info.value.problems
    assert "syntax error" not in problem.message
    assert problem.path == "policies[0].targets.first_response" and "'1x'" in problem.message
    assert (problem.line, problem.column) == ((3, 29) if text == TAB_JSON else (2, 41))


def test_json_reads_the_same_values_as_json_loads():
    import json

    text = (
        '{"a": [1, -2.5e3, 0.0, true, false, null, "x\\u00e9\\n", {}, [], NaN],'
        ' "b": {"c": {"d": [[1], {"e": "f"}]}}, "b2": 1E2, "c": 10}'
    )
    from sla.policy.source import parse_json

    parsed = parse_json(text)
    expected = json.loads(text)
    assert repr(parsed.data) == repr(expected)
    assert parsed.positions[("b", "c", "d", "1", "e")] == (1, text.index('"e"') + 1)
    assert parsed.positions[("a", "9")] == (1, text.index("NaN") + 1)


def test_json_duplicate_keys_are_named():
    with pytest.raises(PolicyError) as info:
        load_policies('{"policies": [{"name": "a", "targets": {"first_response": "1h"}}],\n"policies": []}')
    assert any(
        p.line == 2 and "'policies' is given twice (first on line 1)" in p.message
        for p in info.value.problems
    )


def test_yaml_flow_text_starting_with_a_brace_is_still_yaml():
    assert load_policies("{policies: [{name: a, targets: {first_response: 1h}}]}").policies[0].name == "a"


def test_broken_json_text_gets_a_json_error():
    with pytest.raises(PolicyError, match=r"<policies>:2:1: JSON syntax error"):
        load_policies('{"policies": [\n}')


# ------------------------------------------------------------ 6. 1, 1.0 and true as priorities
def test_one_and_one_point_zero_are_the_same_priority_given_twice(tmp_path, capsys):
    path = write(
        tmp_path,
        "p.yaml",
        "policies:\n  - name: a\n    targets:\n      first_response:\n        1: 1h\n        1.0: 2h\n",
    )
    status, err = validate(path, capsys)
    assert status == 2
    assert err.strip() == (
        f"{path}:6:9: at policies[0].targets.first_response.1.0: '1.0' is given twice "
        "(first on line 5); the later one would silently win"
    )


@pytest.mark.parametrize(
    "targets",
    ["{1: 1h, true: 3h, default: 8h}", "{true: 3h, 1: 1h, default: 8h}", "{1.0: 1h, true: 3h, default: 8h}"],
)
def test_true_and_one_are_different_priorities(targets):
    policies = load_policies(f"policies:\n  - name: a\n    targets:\n      first_response: {targets}\n")

    def hours(priority: object) -> float:
        found = policies.target_for({"priority": priority}, "first_response")
        assert found is not None
        return found[1].us / 3_600_000_000

    assert hours(1) == 1 and hours(1.0) == 1
    assert hours("1") == 8  # text never equals a number
    assert hours(True) == 3
    assert hours(0) == 8 and hours(False) == 8 and hours("urgent") == 8


def test_false_and_zero_in_a_match_list_keep_their_problems_apart():
    with pytest.raises(PolicyError) as info:
        load_policies(
            "policies:\n  - name: a\n    match: {0: x, false: y}\n    targets: {first_response: 1h}\n"
        )
    messages = [p.message for p in info.value.problems]
    assert any("match key 0 " in m for m in messages) and any("match key false " in m for m in messages)


# ------------------------------------------------------------ 7. odd condition values
@pytest.mark.parametrize("key", ["field_changed", "field_set", "status_entered", "status_left", "message"])
@pytest.mark.parametrize("where", ["start", "stop", "resume"])
def test_a_condition_with_a_null_value_is_a_located_problem(tmp_path, capsys, key, where):
    conditions = {"start": "created", "stop": "done", "resume": "reopened"}
    conditions[where] = f"[{{{key}: null}}]"
    text = "metrics:\n  m:\n    cycles: resume\n"
    text += "".join(f"    {name}: {value}\n" for name, value in conditions.items())
    text += "policies:\n  - name: a\n    targets: {m: 1h}\n"
    path = write(tmp_path, "p.yaml", text)
    status, err = validate(path, capsys)
    line = 4 + list(conditions).index(where)
    assert status == 2
    assert err.startswith(f"{path}:{line}:") and f"metrics.m.{where}[0].{key}" in err
    assert f"{key} needs a value" in err


# ------------------------------------------------------------ 8. dates at the ends of the range
@pytest.mark.parametrize("day", ["0001-01-01", "0001-12-31", "9999-01-01", "9999-12-31"])
@pytest.mark.parametrize("quoted", [False, True])
def test_dates_outside_years_2_to_9998_are_refused(tmp_path, capsys, day, quoted):
    shown = f'"{day}"' if quoted else day
    text = (
        "calendars:\n  c:\n    hours: {mon-fri: '09:00-17:00'}\n"
        f"    holidays: {{dates: [{shown}]}}\n    overrides:\n      {shown}: []\n"
        "policies:\n  - {name: a, calendar: c, targets: {first_response: 1h}}\n"
    )
    path = write(tmp_path, "p.yaml", text)
    status, err = validate(path, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:4:") and lines[1].startswith(f"{path}:6:")
    for line in lines:
        assert "dates must be within years 2 to 9998" in line and "time zones" in line


@pytest.mark.parametrize("day", ["0002-01-01", "9998-12-31"])
def test_dates_at_the_ends_of_the_accepted_range_build(day):
    policies = load_policies(
        "calendars:\n  c:\n    timezone: Pacific/Kiritimati\n    hours: {mon-sun: '00:00-24:00'}\n"
        f"    holidays: {{dates: [{day}]}}\n    overrides:\n      {day}: ['09:00-10:00']\n"
        "policies:\n  - {name: a, calendar: c, targets: {first_response: 1h}}\n"
    )
    assert "c" in policies.calendars


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # An unquoted date as a key (overrides write them so) where a list was wanted:
        # found by the fuzz test below, once an internal error (json.dumps refused the key).
        ("policies:\n  2026-12-23: ['09:00-12:30']\n", '{"2026-12-23": ["09:00-12:30"]}'),
        (
            "policies:\n  - name: a\n    targets: [{2026-01-01: 1h}]\n",
            '[{"2026-01-01": "1h"}]',
        ),
        (
            "policies:\n  - name: a\n    targets: {first_response: 1h}\n"
            "    match: [{2026-01-01: {2026-01-02: x}}]\n",
            '[{"2026-01-01": {"2026-01-02": "x"}}]',
        ),
    ],
)
def test_a_date_key_inside_a_wrong_value_is_shown_as_its_text(tmp_path, capsys, text, shown):
    status, err = validate(write(tmp_path, "p.yaml", text), capsys)
    assert status == 2
    assert shown in err


# ------------------------------------------------------------ fuzz
def _mutate(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind == 0 and data:
            index = rng.randrange(len(data))
            data = data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1 :]
        elif kind == 1:
            data = data[: rng.randrange(len(data) + 1)]
        elif kind == 2 and lines:
            index = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines) + 1), lines[index])
            data = b"\n".join(lines)
        else:
            index = rng.randrange(len(data) + 1)
            data = data[:index] + bytes([rng.randrange(256)]) + data[index:]
        lines = data.split(b"\n")
    return data


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=st.sampled_from(EXAMPLES), seed=st.integers(0, 2**32 - 1))
def test_mutated_example_files_are_refused_cleanly(tmp_path, capsys, example, seed):
    path = tmp_path / f"fuzz{example.suffix}"
    path.write_bytes(_mutate(example.read_bytes(), random.Random(seed)))
    status, _err = validate(path, capsys)
    assert status in (0, 2)
