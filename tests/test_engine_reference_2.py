"""The engine against the reference on the second edition (SEMANTICS 8-12):
conditions, derive rules, policy versions, a calendar chosen by an attribute,
a calendar read in a zone an attribute names, ``periodic_update``,
``pausable_update``, ``group_ownership`` and the project's ``pause_when``.

Random policies and histories come from the same calendar, duration and
timestamp generators as ``test_engine_reference.py`` (DST changes in three
zones), and first-edition metrics still run beside the new ones.
SLA_ENGINE_EXAMPLES_2=N runs more random cases.  No tolerance: every field of
every row must match.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_engine_reference as base
from reference.refengine import evaluate

SPEC_EXAMPLES_2 = Path(__file__).resolve().parents[2] / "shared" / "spec" / "examples-2"
N_EXAMPLES = int(os.environ.get("SLA_ENGINE_EXAMPLES_2", "500"))

METRICS = base.METRICS + ("periodic_update", "pausable_update", "group_ownership")
RESPONSE_METRICS = ("first_response", "next_response", "periodic_update", "pausable_update")
GROUPS = ("tier1", "tier2", "billing", 7)
REGIONS = ("emea", "amer", "apac", "1", 1, True, "true")
VALUES = (0, 500, 999.5, 1000, 1000.0, 10000, 250000, "1000", True)
TZS = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "US/Eastern",
    "UTC",
    "Moon/Base",
    "europe/berlin",
    "localtime",
    5,
)
TAGS = (["vip"], ["vip", "beta"], [], ["beta", 1], ["VIP"])
SUBJECTS = ("Refund please", "chargeback!", "hello", "", "re: refund")
WAITING = ("vendor", "customer", "nobody")
SEGMENTS = ("vip", "basic", "influencer")
DOMAINS = {
    "channel": base.CHANNELS,
    "priority": base.PRIORITIES,
    "group": GROUPS,
    "region": REGIONS,
    "value": VALUES,
    "tz": TZS,
    "subject": SUBJECTS,
    "waiting_on": WAITING,
    "segment": SEGMENTS,
}
# attributes a condition may test (tags is a list: only the operators see inside it)
COND_ATTRS = (*DOMAINS, "tags", "group", "priority", "region", "value", "value")
SCALARS_FOR = {**DOMAINS, "tags": ("vip", "beta", 1, "VIP")}
NUMBERS = (0, 500, 999.5, 1000, 10000, 1e5, -1)
REGEXES = ("(?i)refund|chargeback", "^t", "[0-9]", "e$", "^$", "ti")


# ------------------------------------------------------------ conditions
def _scalar(attr):
    return st.sampled_from([v for v in SCALARS_FOR[attr] if not isinstance(v, list)])


@st.composite
def operator_map(draw, attr):
    ops = draw(
        st.lists(
            st.sampled_from(
                ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "matches", "contains"]
            ),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    out = {}
    for op in ops:
        if op in ("eq", "ne"):
            out[op] = draw(_scalar(attr))
        elif op in ("in", "not_in"):
            out[op] = draw(st.lists(_scalar(attr), max_size=3, unique_by=repr))
        elif op in ("gt", "gte", "lt", "lte"):
            out[op] = draw(st.sampled_from(NUMBERS))
        elif op == "exists":
            out[op] = draw(st.booleans())
        elif op == "matches":
            out[op] = draw(st.sampled_from(REGEXES))
        else:
            out[op] = draw(st.sampled_from(("vip", "e", 1, "Refund", "ti", True)))
    return out


@st.composite
def condition(draw, depth=1):
    cond: dict = {}
    for attr in draw(st.lists(st.sampled_from(COND_ATTRS), min_size=1, max_size=2, unique=True)):
        # (repeats in COND_ATTRS weight the attributes updates change most)
        form = draw(st.integers(0, 3))
        if form == 0:
            cond[attr] = draw(_scalar(attr))
        elif form == 1:
            cond[attr] = draw(st.lists(_scalar(attr), min_size=1, max_size=3, unique_by=repr))
        else:
            cond[attr] = draw(operator_map(attr))
    if depth > 0:
        for key in draw(st.lists(st.sampled_from(["any", "all", "not"]), max_size=2, unique=True)):
            if key == "not":
                cond["not"] = draw(condition(depth - 1))
            else:
                cond[key] = draw(st.lists(condition(depth - 1), max_size=3))
    return cond


@st.composite
def derive_rules(draw):
    rules = []
    for _ in range(draw(st.sampled_from([0, 2, 2, 3, 4]))):
        rule: dict = {}
        if draw(st.integers(0, 4)) > 0:
            rule["when"] = draw(condition(depth=draw(st.integers(0, 1))))
        settable = ("priority", "segment", "segment", "group", "region", "tz", "waiting_on", "value")
        rule["set"] = {
            key: draw(st.one_of(st.none(), _scalar(key)))
            for key in draw(st.lists(st.sampled_from(settable), min_size=1, max_size=2, unique=True))
        }
        rules.append(rule)
    return rules


# ------------------------------------------------------------ policies
def _chance(draw, k: int) -> bool:
    """True about once in k draws (``st.integers(0, k) == 0`` is far likelier under hypothesis)."""
    return draw(st.sampled_from([False] * (k - 1) + [True]))


def _bound(draw, anchor: datetime):
    moment = anchor + timedelta(minutes=15 * draw(st.integers(-4 * 24 * 4, 3 * 24 * 4)))
    style = draw(st.integers(0, 3))
    if style == 0:
        return moment.date()  # a date: 00:00 UTC
    if style == 1:
        return moment.date().isoformat()
    text = base.render(moment, draw(st.sampled_from(base.OFFSETS)))
    return text.replace("T", " ") if style == 3 else text


@st.composite
def policy_docs_2(draw, zone, anchor):
    doc: dict = {}
    cals: dict = {}
    for i in range(draw(st.integers(1, 3))):
        cal_zone = draw(st.sampled_from(base.ZONES))
        cal = draw(base.calendars(cal_zone, anchor))
        if draw(st.integers(0, 2)) == 0:  # read in the zone the `tz` attribute names
            cal["timezone"] = {"by": "tz", "default": cal_zone}
        cals[f"cal{i}"] = cal
    doc["calendars"] = cals
    names = list(cals)
    rules = draw(derive_rules())
    if rules:
        doc["derive"] = rules
    if draw(st.integers(0, 3)) == 0:
        doc["done_statuses"] = draw(
            st.sampled_from([["solved"], ["closed"], ["solved", "closed", "archived"]])
        )
    options = {}
    for metric in METRICS:
        if draw(st.integers(0, 2)) == 0:
            opt: dict = {}
            if draw(st.booleans()):
                opt["pause_statuses"] = draw(
                    st.lists(
                        st.sampled_from(["pending", "on_hold", "new", "solved", "archived"]),
                        max_size=3,
                        unique=True,
                    )
                )
            if metric in RESPONSE_METRICS and draw(st.booleans()):
                opt["responders"] = draw(st.sampled_from([["agent", "bot"], ["bot"], ["agent"]]))
            if metric == "group_ownership" and draw(st.booleans()):
                opt["field"] = draw(st.sampled_from(["group", "region", "segment"]))
            if draw(st.booleans()):
                opt["pause_when"] = draw(
                    st.one_of(
                        st.just({"waiting_on": "vendor"}),
                        st.just({"waiting_on": {"in": ["vendor", "customer"]}}),
                        condition(depth=0),
                    )
                )
            if opt:
                options[metric] = opt
    if options:
        doc["metrics"] = options
    policies = []
    n = draw(st.integers(1, 3))
    for i in range(n):
        pol: dict = {"name": f"p{i}"}
        last = i == n - 1
        if _chance(draw, 8 if last else 3):
            eff = {}
            if draw(st.booleans()):
                eff["from"] = _bound(draw, anchor)
            if draw(st.booleans()) or not eff:
                eff["until"] = _bound(draw, anchor)
            if "from" in eff and "until" in eff:
                lo, hi = eff["from"], eff["until"]
                if _bound_key(lo) >= _bound_key(hi):
                    del eff["from"]
            pol["effective"] = eff
        if not last or _chance(draw, 6):
            pol["match"] = draw(condition(depth=draw(st.integers(0, 1))))
        choice = draw(st.integers(0, 4))
        if choice <= 1:
            # YAML keys 1 and true are the texts "1" and "true" (not both: 1 == True in Python)
            odd = draw(st.sampled_from([1, True]))
            keys = draw(
                st.lists(st.sampled_from(["emea", "amer", "apac", odd]), min_size=1, max_size=4, unique=True)
            )
            pol["calendar"] = {
                "by": "region",
                "map": {k: draw(st.sampled_from([*names, "24x7"])) for k in keys},
                "default": draw(st.sampled_from(names)),
            }
        elif choice <= 3:
            pol["calendar"] = draw(st.sampled_from(names))
        elif draw(st.booleans()):
            pol["calendar"] = "24x7"
        if draw(st.integers(0, 3)) == 0:
            pol["hours"] = draw(st.sampled_from(["business", "calendar"]))
        if draw(st.integers(0, 4)) == 0:  # warnings are not columns of evaluate
            pol["warnings"] = {"at_percent": [50, 100], "before_due": ["30m"]}
        targets = {}
        for metric in METRICS:
            if draw(st.integers(0, 3)) > 0:
                targets[metric] = draw(base.target_value())
        pol["targets"] = targets
        policies.append(pol)
    doc["policies"] = policies
    return doc


def _bound_key(value) -> datetime:
    if isinstance(value, str) and len(value) == 10:
        value = datetime.fromisoformat(value).date()
    if not isinstance(value, str):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------ events
UPDATABLE = (
    "priority",
    "priority",
    "channel",
    "group",
    "group",
    "region",
    "value",
    "tz",
    "tags",
    "subject",
    "waiting_on",
)


def _attr_value(draw, key):
    if key == "tags":
        return list(draw(st.sampled_from(TAGS)))
    return draw(st.sampled_from(DOMAINS[key]))


@st.composite
def ticket_events_2(draw, tid, anchor):
    start = anchor + timedelta(minutes=draw(st.integers(-4 * 24 * 4, 3 * 24 * 4)) * 15)
    if draw(st.integers(0, 5)) == 0:
        start += timedelta(microseconds=draw(st.integers(1, 999_999)))
    fields = {"channel": draw(st.sampled_from(base.CHANNELS))}
    for key in ("priority", "group", "region", "value", "tz", "tags", "subject", "waiting_on"):
        if draw(st.integers(0, 2)) > 0:
            fields[key] = _attr_value(draw, key)
    created = {"ticket_id": tid, "at": start, "type": "created", "fields": fields}
    if draw(st.integers(0, 4)) == 0:
        created["status"] = draw(st.sampled_from(base.STATUSES))
    events = [created]
    t = start
    for _ in range(draw(st.integers(0, 16))):
        t = t + draw(base.STEP)
        kind = draw(
            st.sampled_from(["message", "message", "message", "status", "status", "update", "update"])
        )
        ev: dict = {"ticket_id": tid, "at": t, "type": kind}
        if kind == "message":
            ev["author"] = draw(st.sampled_from(["customer", "customer", "agent", "agent", "bot"]))
            if draw(st.integers(0, 4)) == 0:
                ev["public"] = False
        elif kind == "status":
            ev["status"] = draw(st.sampled_from(base.STATUSES))
        else:
            upd = {}
            for key in draw(st.lists(st.sampled_from(UPDATABLE), min_size=1, max_size=3, unique=True)):
                upd[key] = None if draw(st.integers(0, 5)) == 0 else _attr_value(draw, key)
            ev["fields"] = upd
        events.append(ev)
    return events


@st.composite
def scenarios_2(draw):
    zone = draw(st.sampled_from(base.ZONES))
    anchor = draw(st.sampled_from(base.ANCHORS[zone][draw(st.sampled_from(base.YEARS))]))
    doc = draw(policy_docs_2(zone, anchor))
    events = []
    for i in range(draw(st.integers(1, 4))):
        events.extend(draw(ticket_events_2(f"T{i + 1}", anchor)))
    events = draw(st.permutations(events))
    now = anchor + timedelta(minutes=draw(st.integers(-2 * 24 * 4, 6 * 24 * 4)) * 15)
    if draw(st.integers(0, 4)) == 0:
        now = draw(st.sampled_from([e["at"] for e in events]))
    lines = []
    for ev in events:
        ev = dict(ev)
        ev["at"] = base.render(ev["at"], draw(st.sampled_from(base.OFFSETS)), draw(st.booleans()))
        lines.append(ev)
    return doc, lines, base.render(now, draw(st.sampled_from(base.OFFSETS)), draw(st.booleans()))


# ------------------------------------------------------------ tests
@settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
@given(scenarios_2())
def test_engine_matches_reference_second_edition(tmp_path, scenario):
    doc, lines, now = scenario
    want = evaluate(doc, lines, now)
    got = base.run_engine(tmp_path, doc, lines, now)
    base.compare(got, want, base._context(doc, lines, now))


def _spec_example_2(example: str):
    """A worked example from the contract beside the checkout, else its
    committed copy in tests/scenarios (spec-<name>.yaml)."""
    folder = SPEC_EXAMPLES_2 / example
    if not folder.exists():
        copy = yaml.safe_load((Path(__file__).parent / "scenarios" / f"spec-{example}.yaml").read_text())
        lines = [json.loads(x) for x in copy["events_jsonl"].splitlines() if x.strip()]
        return yaml.safe_load(copy["policy"]), lines, copy["now"], copy["expected"]
    now = (folder / "now.txt").read_text().strip()
    doc = yaml.safe_load((folder / "policy.yaml").read_text())
    lines = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines() if x.strip()]
    want = [json.loads(x) for x in (folder / "expected.jsonl").read_text().splitlines() if x.strip()]
    return doc, lines, now, want


@pytest.mark.parametrize("example", ["customer-value", "updates-and-ownership"])
def test_reference_matches_spec_examples_2(example):
    doc, lines, now, want = _spec_example_2(example)
    base.compare(evaluate(doc, lines, now), want, "reference vs expected.jsonl")


@pytest.mark.parametrize("example", ["customer-value", "updates-and-ownership"])
def test_engine_matches_reference_on_spec_examples_2(example, tmp_path):
    doc, lines, now, _ = _spec_example_2(example)
    base.compare(base.run_engine(tmp_path, doc, lines, now), evaluate(doc, lines, now))


# ------------------------------------------------------------ targeted cases
def _ev(tid, at, kind, **extra):
    return {"ticket_id": tid, "at": at, "type": kind, **extra}


_DAY = "2026-03-02T"  # a Monday

CASES_2 = {
    # SEMANTICS 8: gt holds only on numbers (not booleans), matches only on text.
    "kinds-in-conditions": (
        {
            "policies": [
                {"name": "gt", "match": {"value": {"gt": 0.5}}, "targets": {"resolution": "1h"}},
                {"name": "text", "match": {"value": {"matches": "^1"}}, "targets": {"resolution": "2h"}},
                {"name": "ne", "match": {"value": {"ne": True}}, "targets": {"resolution": "3h"}},
                {"name": "rest", "targets": {"resolution": "4h"}},
            ]
        },
        [
            _ev("A", _DAY + "10:00:00Z", "created", fields={"value": 1.0}),
            _ev("B", _DAY + "10:00:00Z", "created", fields={"value": "1"}),
            _ev("C", _DAY + "10:00:00Z", "created", fields={"value": True}),
            _ev("D", _DAY + "10:00:00Z", "created", fields={}),
        ],
        _DAY + "11:00:00Z",
    ),
    # SEMANTICS 10: map keys read as text (true -> "true", 1 -> "1"); only a text value picks.
    "calendar-map-key-text": (
        {
            "calendars": {
                "early": {"timezone": "UTC", "hours": {"mon-sun": ["00:00-12:00"]}},
                "late": {"timezone": "UTC", "hours": {"mon-sun": ["12:00-24:00"]}},
                "all": {"timezone": "UTC", "hours": {"mon-sun": ["00:00-24:00"]}},
            },
            "policies": [
                {
                    "name": "a",
                    "match": {"region": ["true", True]},
                    "calendar": {"by": "region", "map": {True: "early"}, "default": "all"},
                    "targets": {"resolution": "24h"},
                },
                {
                    "name": "b",
                    "calendar": {"by": "region", "map": {1: "late"}, "default": "all"},
                    "targets": {"resolution": "24h"},
                },
            ],
        },
        [
            _ev("R1", _DAY + "00:00:00Z", "created", fields={"region": "true"}),
            _ev("R2", _DAY + "00:00:00Z", "created", fields={"region": True}),
            _ev("R3", _DAY + "00:00:00Z", "created", fields={"region": "1"}),
            _ev("R4", _DAY + "00:00:00Z", "created", fields={"region": 1}),
        ],
        _DAY + "18:00:00Z",
    ),
    # SEMANTICS 10: a zone by attribute; unknown names (case, localtime, a number) use the default.
    "zone-by-attribute": (
        {
            "calendars": {
                "z": {
                    "timezone": {"by": "tz", "default": "Europe/Berlin"},
                    "hours": {"mon-sun": ["09:00-17:00"]},
                }
            },
            "policies": [{"name": "a", "calendar": "z", "targets": {"resolution": "24h"}}],
        },
        [
            _ev(f"Z{i}", _DAY + "00:00:00Z", "created", fields={"tz": tz})
            for i, tz in enumerate(
                [
                    "Europe/Berlin",
                    "America/New_York",
                    "US/Eastern",
                    "localtime",
                    "europe/berlin",
                    5,
                    "Asia/Tokyo",
                ]
            )
        ]
        + [_ev("Z9", _DAY + "00:00:00Z", "created", fields={})],
        _DAY + "12:00:00Z",
    ),
    # pause_when (docs/policies.md) on derived attributes, beside the done pause of resolution.
    "pause-when-derived": (
        {
            "derive": [{"when": {"vendor_case": {"exists": True}}, "set": {"waiting_on": "vendor"}}],
            "metrics": {"resolution": {"pause_when": {"waiting_on": "vendor"}}},
            "policies": [{"name": "a", "targets": {"resolution": "2h"}}],
        },
        [
            _ev("W", _DAY + "10:00:00Z", "created", fields={}),
            _ev("W", _DAY + "10:30:00Z", "update", fields={"waiting_on": "vendor"}),
            _ev("W", _DAY + "11:00:00Z", "update", fields={"waiting_on": None}),
            _ev("W", _DAY + "11:30:00Z", "status", status="solved"),
            _ev("W", _DAY + "11:45:00Z", "status", status="open"),
            _ev("W", _DAY + "12:00:00Z", "update", fields={"vendor_case": 1}),
        ],
        _DAY + "13:00:00Z",
    ),
    # SEMANTICS 12: group_ownership on another field, judged at each cycle's start (a
    # zero-length stay with billing gets billing's urgent target), a reopen, a removal.
    "ownership-judged-at-start": (
        {
            "derive": [{"when": {"team": "billing"}, "set": {"priority": "urgent"}}],
            "metrics": {"group_ownership": {"field": "team"}},
            "policies": [{"name": "a", "targets": {"group_ownership": {"urgent": "30m", "default": "2h"}}}],
        },
        [
            _ev("G", _DAY + "10:00:00Z", "created", fields={"team": "tier1"}),
            _ev("G", _DAY + "10:30:00Z", "update", fields={"team": "billing"}),
            _ev("G", _DAY + "10:30:00Z", "update", fields={"team": "tier2"}),
            _ev("G", _DAY + "11:00:00Z", "status", status="solved"),
            _ev("G", _DAY + "11:15:00Z", "update", fields={"team": "billing"}),
            _ev("G", _DAY + "11:30:00Z", "status", status="open"),
            _ev("G", _DAY + "12:00:00Z", "update", fields={"team": None}),
        ],
        _DAY + "13:00:00Z",
    ),
    # SEMANTICS 11: from <= created < until; a date is 00:00 UTC.
    "effective-bounds": (
        {
            "policies": [
                {"name": "new", "effective": {"from": "2026-03-02"}, "targets": {"resolution": "1h"}},
                {
                    "name": "old",
                    "effective": {"until": _DAY + "01:00:00+01:00"},
                    "targets": {"resolution": "2h"},
                },
            ]
        },
        [
            _ev("A", _DAY + "00:00:00Z", "created", fields={}),
            _ev("B", "2026-03-01T23:59:59.5Z", "created", fields={}),
            _ev("C", _DAY + "01:00:00+01:00", "created", fields={}),
        ],
        _DAY + "02:00:00Z",
    ),
    # SEMANTICS 12: periodic_update with bots as responders: a response while done starts
    # nothing, a response and a solve at one instant give a zero-length cancelled cycle.
    "periodic-update-edges": (
        {
            "metrics": {"periodic_update": {"responders": ["bot"]}},
            "policies": [{"name": "a", "targets": {"periodic_update": "20m", "pausable_update": "20m"}}],
        },
        [
            _ev("P", _DAY + "10:00:00Z", "created", fields={}, status="solved"),
            _ev("P", _DAY + "10:10:00Z", "message", author="bot"),
            _ev("P", _DAY + "10:20:00Z", "status", status="open"),
            _ev("P", _DAY + "10:30:00Z", "message", author="bot"),
            _ev("P", _DAY + "10:30:00Z", "status", status="solved"),
            _ev("P", _DAY + "10:40:00Z", "status", status="pending"),
            _ev("P", _DAY + "10:50:00Z", "message", author="agent"),
            _ev("P", _DAY + "11:00:00Z", "message", author="bot"),
            _ev("P", _DAY + "11:10:00Z", "status", status="open"),
            _ev("P", _DAY + "11:30:00Z", "message", author="bot"),
        ],
        _DAY + "12:00:00Z",
    ),
}


@pytest.mark.parametrize("name", list(CASES_2))
def test_engine_matches_reference_on_second_edition_cases(name, tmp_path):
    doc, lines, now = CASES_2[name]
    base.compare(
        base.run_engine(tmp_path, doc, lines, now), evaluate(doc, lines, now), base._context(doc, lines, now)
    )


def _rows(name):
    doc, lines, now = CASES_2[name]
    return {(r["ticket_id"], r["metric"], r["cycle"]): r for r in evaluate(doc, lines, now)}


def test_reference_sanity_second_edition_by_hand():
    """Hand-computed values, so the reference is checked against the spec and not only the engine."""
    rows = _rows("kinds-in-conditions")
    assert [rows[t, "resolution", 1]["policy"] for t in "ABCD"] == ["gt", "text", "rest", "ne"]
    rows = _rows("calendar-map-key-text")
    assert [rows[t, "resolution", 1]["elapsed_seconds"] for t in ("R1", "R2", "R3", "R4")] == [
        43200,
        64800,
        21600,
        64800,
    ]
    rows = _rows("zone-by-attribute")  # Berlin 08:00Z-16:00Z, New York 14:00Z-22:00Z, Tokyo 00:00Z-08:00Z
    elapsed = [rows[f"Z{i}", "resolution", 1]["elapsed_seconds"] for i in (0, 1, 2, 3, 4, 5, 6, 9)]
    assert elapsed == [14400, 0, 0, 14400, 14400, 14400, 28800, 14400]
    rows = _rows("pause-when-derived")
    row = rows["W", "resolution", 1]
    assert row["paused"] == [
        [_DAY + "10:30:00Z", _DAY + "11:00:00Z"],
        [_DAY + "11:30:00Z", _DAY + "11:45:00Z"],
        [_DAY + "12:00:00Z", None],
    ]
    assert (row["elapsed_seconds"], row["state"]) == (4500, "paused")
    rows = _rows("ownership-judged-at-start")
    got = [
        (r["started_at"][11:16], r["ended_at"] and r["ended_at"][11:16], r["target_seconds"], r["state"])
        for k, r in sorted(rows.items())
        if k[1] == "group_ownership"
    ]
    assert got == [
        ("10:00", "10:30", 7200, "achieved"),
        ("10:30", "10:30", 1800, "achieved"),  # billing's own (urgent) target, not tier2's
        ("10:30", "11:00", 7200, "achieved"),  # ended by the solve: never cancelled
        ("11:30", "12:00", 1800, "achieved"),  # the reopen while with billing; exactly on target
    ]
    rows = _rows("effective-bounds")
    assert [rows[t, "resolution", 1]["policy"] for t in "ABC"] == ["new", "old", "new"]
    rows = _rows("periodic-update-edges")
    periodic = [
        (r["started_at"][11:16], r["ended_at"], r["state"])
        for k, r in sorted(rows.items())
        if k[1] == "periodic_update"
    ]
    assert periodic == [
        ("10:30", _DAY + "10:30:00Z", "cancelled"),
        ("11:00", _DAY + "11:30:00Z", "breached"),
        ("11:30", None, "breached"),
    ]
    pausable = [
        (r["started_at"][11:16], r["ended_at"], r["state"])
        for k, r in sorted(rows.items())
        if k[1] == "pausable_update"
    ]
    # agent responses only: the one at 10:50 (not done: pending) starts a cycle, paused until 11:10
    assert pausable == [("10:50", None, "breached")]
    assert rows["P", "pausable_update", 1]["paused"] == [[_DAY + "10:50:00Z", _DAY + "11:10:00Z"]]
