"""Conditions (policy language section 8): every operator against an
independent interpreter of the rules on random attributes, the errors a bad
condition gets, the words `sla validate` prints, and matching in the engine."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla
from sla.policy.conditions import equal, parse_condition
from sla.policy.messages import LocatedValueError

# ------------------------------------------------------- the reference
MISSING = object()


def ref_equal(a, b) -> bool:
    kinds = {bool: "b", str: "s", int: "n", float: "n", list: "l", dict: "d"}
    ka, kb = kinds.get(type(a)), kinds.get(type(b))
    if ka is None or ka != kb:
        return False
    if ka == "l":
        return len(a) == len(b) and all(ref_equal(x, y) for x, y in zip(a, b, strict=True))
    if ka == "d":
        return set(a) == set(b) and all(ref_equal(a[k], b[k]) for k in a)
    return a == b


def ref_holds(condition: dict, attrs: dict) -> bool:
    for key, want in condition.items():
        if key == "any":
            ok = any(ref_holds(c, attrs) for c in want)
        elif key == "all":
            ok = all(ref_holds(c, attrs) for c in want)
        elif key == "not":
            ok = not ref_holds(want, attrs)
        else:
            value = attrs.get(key, MISSING)
            if value is None:
                value = MISSING
            if isinstance(want, list):
                ok = value is not MISSING and any(ref_equal(value, w) for w in want)
            elif isinstance(want, dict):
                ok = all(ref_operator(op, operand, value) for op, operand in want.items())
            else:
                ok = value is not MISSING and ref_equal(value, want)
        if not ok:
            return False
    return True


def ref_operator(op: str, operand, value) -> bool:
    missing = value is MISSING
    number = not missing and type(value) in (int, float)
    if op == "eq":
        return not missing and ref_equal(value, operand)
    if op == "ne":
        return missing or not ref_equal(value, operand)
    if op == "in":
        return not missing and any(ref_equal(value, w) for w in operand)
    if op == "not_in":
        return missing or not any(ref_equal(value, w) for w in operand)
    if op in ("gt", "gte", "lt", "lte"):
        if not number:
            return False
        return {
            "gt": value > operand,
            "gte": value >= operand,
            "lt": value < operand,
            "lte": value <= operand,
        }[op]
    if op == "exists":
        return (not missing) == operand
    if op == "matches":
        return not missing and type(value) is str and re.search(operand, value) is not None
    assert op == "contains"
    if type(value) is list:
        return any(ref_equal(item, operand) for item in value)
    return type(value) is str and type(operand) is str and operand in value


# ------------------------------------------------------------ strategies
scalars = st.one_of(
    st.sampled_from(["a", "b", "urgent", "1", "true", "", "ab"]),
    st.sampled_from([0, 1, 2, -1, 10_000]),
    st.sampled_from([0.0, 1.0, 1.5, 2.0]),
    st.booleans(),
)
values = st.one_of(
    st.none(),
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(["x", "y"]), scalars, max_size=2),
)
KEYS = ["a", "b", "c"]
numbers = st.one_of(st.integers(-2, 3), st.sampled_from([0.5, 1.0, 1.5]))
operators = st.one_of(
    st.tuples(st.sampled_from(["eq", "ne", "contains"]), scalars),
    st.tuples(st.sampled_from(["in", "not_in"]), st.lists(scalars, max_size=3)),
    st.tuples(st.sampled_from(["gt", "gte", "lt", "lte"]), numbers),
    st.tuples(st.just("exists"), st.booleans()),
    st.tuples(st.just("matches"), st.sampled_from(["^a", "b$", "(?i)A", "1|true", ""])),
)
attribute_tests = st.one_of(
    scalars,
    st.lists(scalars, min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(["x"]), st.none()).flatmap(
        lambda _: st.lists(operators, min_size=1, max_size=3).map(dict)
    ),
)


def condition_maps(depth: int = 2):
    leaf = st.dictionaries(st.sampled_from(KEYS), attribute_tests, max_size=3)
    if depth == 0:
        return leaf
    inner = condition_maps(depth - 1)
    combos = st.one_of(
        st.tuples(st.just("any"), st.lists(inner, max_size=3)),
        st.tuples(st.just("all"), st.lists(inner, max_size=3)),
        st.tuples(st.just("not"), inner),
    )
    return st.tuples(leaf, st.lists(combos, max_size=2)).map(lambda t: {**t[0], **dict(t[1])})


attributes = st.dictionaries(st.sampled_from(KEYS), values, max_size=3)


@settings(max_examples=600, deadline=None)
@given(condition_maps(), st.lists(attributes, min_size=1, max_size=5))
def test_compiled_conditions_agree_with_the_rules(condition, many):
    holds = parse_condition(condition).compile()
    for attrs in many:
        assert holds(attrs) == ref_holds(condition, attrs), (condition, attrs)


@given(values, values)
def test_equality_is_the_languages(a, b):
    assert equal(a, b) == ref_equal(a, b)
    assert equal(a, b) == equal(b, a)


@pytest.mark.parametrize(
    ("condition", "attrs", "want"),
    [
        ({"p": 1}, {"p": 1.0}, True),
        ({"p": 1}, {"p": True}, False),
        ({"p": True}, {"p": 1}, False),
        ({"p": "1"}, {"p": 1}, False),
        ({"p": [1, "a"]}, {"p": "a"}, True),
        ({"p": ["a"]}, {"p": ["a"]}, False),  # the list form is not membership
        ({"tags": {"contains": "vip"}}, {"tags": ["x", "vip"]}, True),
        ({"tags": {"contains": "vip"}}, {"tags": "a vip ticket"}, True),
        ({"tags": {"contains": 1}}, {"tags": [1.0]}, True),
        ({"tags": {"contains": 1}}, {"tags": "1"}, False),
        ({"v": {"gte": 10}}, {"v": True}, False),
        ({"v": {"gt": 5, "lt": 10}}, {"v": 7.5}, True),
        ({"v": {"ne": "x"}}, {}, True),
        ({"v": {"ne": "x"}}, {"v": None}, True),
        ({"v": {"not_in": []}}, {}, True),
        ({"v": {"in": []}}, {"v": "x"}, False),
        ({"v": {"exists": False}}, {"v": None}, True),
        ({"v": {"exists": True}}, {"v": False}, True),
        ({"s": {"matches": "(?i)refund|chargeback"}}, {"s": "About a REFUND"}, True),
        ({"s": {"matches": "1"}}, {"s": 1}, False),
        ({"any": []}, {}, False),
        ({"all": []}, {}, True),
        ({"not": {"c": ["US", "CA"]}}, {}, True),
        ({"not": {"c": ["US", "CA"]}}, {"c": "US"}, False),
        ({"n": {"gt": 1e308}}, {"n": math.inf}, True),
        ({"n": {"lt": 0}}, {"n": math.nan}, False),
    ],
)
def test_rules_by_example(condition, attrs, want):
    assert parse_condition(condition).compile()(attrs) is want
    assert ref_holds(condition, attrs) is want


# ------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("condition", "path", "words"),
    [
        ({"c": {"inn": ["x"]}}, ("c", "inn"), "unknown operator 'inn'; did you mean 'in'?"),
        ({"c": {}}, ("c",), "an empty operator map"),
        ({"c": {"gte": "ten"}}, ("c", "gte"), "gte takes a number (not true/false); got 'ten'"),
        ({"c": {"gt": True}}, ("c", "gt"), "gt takes a number"),
        ({"c": {"exists": "yes"}}, ("c", "exists"), "exists takes true or false"),
        ({"c": {"in": "x"}}, ("c", "in"), "in takes a list of values"),
        ({"c": {"in": [None]}}, ("c", "in", 0), "never names null"),
        ({"c": {"matches": "("}}, ("c", "matches"), "does not compile at character 1"),
        ({"c": {"matches": 3}}, ("c", "matches"), "matches takes a regular expression"),
        ({"c": {"eq": [1]}}, ("c", "eq"), "is a list"),
        ({"c": None}, ("c",), "use {exists: false}"),
        ({"c": []}, ("c",), "an empty list never matches"),
        ({"c": ["a", ["b"]]}, ("c", 1), "inside a list"),
        ({"any": {"c": 1}}, ("any",), "any takes a list of condition maps"),
        ({"all": [3]}, ("all", 0), "expected a condition map"),
        ({"not": [{"c": 1}]}, ("not",), "expected a condition map"),
        ({1: "x"}, (1,), "match key 1 is not an attribute name"),
    ],
)
def test_a_bad_condition_names_the_place_and_the_fix(condition, path, words):
    with pytest.raises(LocatedValueError) as info:
        parse_condition(condition)
    found = dict(info.value.items)
    assert path in found, found
    assert words in found[path]


def test_every_problem_of_a_condition_is_reported_with_its_line(tmp_path):
    text = (
        "policies:\n"
        "  - name: a\n"
        "    match:\n"
        "      v: {gte: ten}\n"
        "      any:\n"
        "        - {s: {matches: '('}}\n"
        "        - {t: {contans: x}}\n"
    )
    with pytest.raises(sla.PolicyError) as info:
        sla.load_policies(text)
    problems = {(p.path, p.line) for p in info.value.problems}
    assert ("policies[0].match.v.gte", 4) in problems
    assert ("policies[0].match.any[0].s.matches", 6) in problems
    assert ("policies[0].match.any[1].t.contans", 7) in problems
    assert "did you mean 'contains'?" in str(info.value)


# ------------------------------------------------------------ words
@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({}, "every ticket"),
        ({"tier": "enterprise"}, "tier = enterprise"),
        ({"channel": ["twitter", "facebook"]}, "channel in twitter, facebook"),
        (
            {"lifetime_value": {"gte": 10000}, "not": {"tier": "enterprise"}},
            "lifetime_value >= 10000 and tier is not enterprise",
        ),
        ({"any": [{"a": 1}, {"b": {"exists": True}}]}, "a = 1 or b is set"),
        ({"x": "y", "any": [{"a": 1}, {"b": 2}]}, "x = y and (a = 1 or b = 2)"),
        ({"not": {"a": 1, "b": 2}}, "not (a = 1 and b = 2)"),
        ({"not": {"v": {"exists": False}}}, "v is set"),
        ({"s": {"matches": "^re"}}, "s matches /^re/"),
        ({"t": {"contains": "1"}}, 't contains "1"'),
    ],
)
def test_conditions_read_as_words(condition, words):
    assert parse_condition(condition).describe() == words


def test_validate_prints_conditions_and_notes_what_never_applies(tmp_path, capsys):
    from sla.cli.app import main

    path = tmp_path / "p.yaml"
    path.write_text(
        "policies:\n"
        "  - name: vip\n    match: {lifetime_value: {gte: 10000}, not: {tier: enterprise}}\n"
        "    targets: {first_response: 1h}\n"
        "  - name: nobody\n    match: {any: []}\n    targets: {first_response: 1h}\n"
        "  - name: rest\n    targets: {first_response: 8h}\n"
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1. vip: lifetime_value >= 10000 and tier is not enterprise;" in out
    assert "2. nobody: never;" in out and "its match can never hold" in out


# ------------------------------------------------------------ the engine
POLICIES = sla.load_policies(
    "policies:\n"
    "  - name: valued\n"
    "    match: {lifetime_value: {gte: 10000}, any: [{channel: [twitter, facebook]}, {vip: true}]}\n"
    "    targets: {first_response: 1h}\n"
    "  - name: numeric-one\n    match: {level: 1}\n    targets: {first_response: 2h}\n"
    "  - name: rest\n    targets: {first_response: 8h}\n"
)


@pytest.mark.parametrize(
    ("fields", "policy"),
    [
        ({"lifetime_value": 20000, "channel": "twitter"}, "valued"),
        ({"lifetime_value": 20000, "vip": True}, "valued"),
        ({"lifetime_value": 20000, "vip": 1}, "rest"),
        ({"lifetime_value": 9999.5, "channel": "twitter"}, "rest"),
        ({"level": 1.0}, "numeric-one"),
        ({"level": True}, "rest"),
        ({"level": "1"}, "rest"),
    ],
)
def test_the_engine_matches_policies_by_conditions(fields, policy):
    rows = sla.evaluate_ticket(
        POLICIES,
        [{"at": "2026-03-02T08:00:00Z", "type": "created", "fields": fields}],
        now="2026-03-02T09:00:00Z",
        ticket_id="T",
    )
    assert [r.policy for r in rows] == [policy]


def test_the_policy_cache_keeps_true_and_one_apart():
    assert POLICIES.policy_for({"level": 1}).name == "numeric-one"
    assert POLICIES.policy_for({"level": True}).name == "rest"
    assert POLICIES.policy_for({"level": 1}).name == "numeric-one"
