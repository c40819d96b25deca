"""The comparison core (sla.report.compare): figures of both policy sets,
changed cycles, merging, and the formats of sla.report.compare_html, on small
histories whose verdicts are known by hand."""

from __future__ import annotations

import csv
import io
import json
import pickle

import pytest

from sla import SlaError, load_policies
from sla.engine.jsonl import read_jsonl
from sla.report.compare import (
    CHANGES,
    CompareBuilder,
    Comparison,
    Compliance,
    MetricDelta,
    Verdict,
    verdict_text,
)
from sla.report.compare_html import (
    CSV_COLUMNS,
    delta_text,
    render_csv,
    render_html,
    render_json,
    render_table,
    write_comparison,
)
from sla.report.figures import build_report

NOW = "2026-03-02T12:00:00Z"
# On the 24x7 calendar business time is wall-clock time, so every elapsed
# time below is the minutes between creation and the reply.
OLD = """
policies:
  - name: standard
    targets:
      first_response: {urgent: 15m, default: 1h}
      next_response: 2h
"""
NEW = """
policies:
  - name: standard-v2
    targets:
      first_response: {urgent: 30m, default: 30m}
      resolution: {within: 8h, hours: calendar}
"""


def ticket(tid: str, priority: str, reply_minutes: int) -> list[str]:
    fields = {"priority": priority}
    return [
        json.dumps({"ticket_id": tid, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": fields}),
        json.dumps(
            {
                "ticket_id": tid,
                "at": f"2026-03-02T{8 + reply_minutes // 60:02d}:{reply_minutes % 60:02d}:00Z",
                "type": "message",
                "author": "agent",
            }
        ),
    ]


# T1 40m: achieved (1h) -> breached (30m); T2 20m: achieved both; T3 90m:
# breached both; T4 urgent 25m: breached (15m) -> achieved (30m).
LINES = [
    *ticket("T1", "normal", 40),
    *ticket("T2", "normal", 20),
    *ticket("T3", "low", 90),
    *ticket("T4", "urgent", 25),
]


@pytest.fixture(scope="module")
def old():
    return load_policies(OLD)


@pytest.fixture(scope="module")
def new():
    return load_policies(NEW)


def compare(old, new, lines=LINES, by=(), **options) -> Comparison:
    tickets, _ = read_jsonl(lines)
    builder = CompareBuilder(old, new, NOW, by, **options)
    for t in tickets.values():
        builder.add(t)
    return builder.finish()


def first_response(rows: list[MetricDelta]) -> list[MetricDelta]:
    return [r for r in rows if r.metric == "first_response"]


def test_hand_counted_compliance_and_changes(old, new):
    result = compare(old, new)
    (row,) = first_response(result.sla)
    assert row.before == Compliance(4, 2, 2) and row.after == Compliance(4, 2, 2)
    assert row.delta_points == 0.0  # one flip each way: same compliance
    assert result.changes == {"newly_breached": 1, "no_longer_breached": 1, "new": 4, "dropped": 0}
    assert [c.ticket_id for c in result.changed_cycles["newly_breached"]] == ["T1"]
    assert [c.ticket_id for c in result.changed_cycles["no_longer_breached"]] == ["T4"]
    assert [(c.ticket_id, c.metric) for c in result.changed_cycles["new"]] == [
        ("T1", "resolution"),
        ("T2", "resolution"),
        ("T3", "resolution"),
        ("T4", "resolution"),
    ]
    assert result.tickets == 4 and result.rejected == 0 and result.unlisted == 0


def test_grouped_by_priority(old, new):
    result = compare(old, new, by=["priority"])
    rows = {r.group["priority"]: r for r in first_response(result.sla)}
    assert rows["normal"].before.compliance == 1.0 and rows["normal"].after.compliance == 0.5
    assert rows["normal"].delta_points == -50.0
    assert rows["urgent"].delta_points == 100.0
    assert rows["low"].delta_points == 0.0
    (overall,) = first_response(result.overall)
    assert overall.group == {} and overall.delta_points == 0.0


def test_the_figures_are_those_of_two_reports(old, new):
    tickets, _ = read_jsonl(LINES)
    result = compare(old, new, by=["priority", "policy"])
    for side, policies in (("before", old), ("after", new)):
        report = build_report(policies, tickets, NOW, by=["priority", "policy"])
        got = {
            (json.dumps(r.group), r.metric): getattr(r, side) for r in result.sla if getattr(r, side).cycles
        }
        want = {
            (json.dumps(r.group), r.metric): Compliance(r.cycles, r.achieved, r.breached) for r in report.sla
        }
        assert got == want
        compliance = {(json.dumps(r.group), r.metric): r.compliance for r in report.sla}
        assert {key: value.compliance for key, value in got.items()} == compliance


def test_a_metric_only_one_side_targets_is_new_or_dropped(old, new):
    result = compare(old, new)
    rows = {r.metric: r for r in result.sla}
    assert rows["resolution"].before == Compliance() and rows["resolution"].after.cycles == 4
    assert rows["resolution"].delta_points is None
    backwards = compare(new, old)
    assert backwards.changes["dropped"] == 4 and backwards.changes["new"] == 0
    change = backwards.changed_cycles["dropped"][0]
    assert change.after is None and change.text().endswith("-> no target")


def test_identical_policies_change_nothing(old):
    result = compare(old, old, by=["priority"])
    assert all(r.before == r.after and r.delta_points == 0.0 for r in result.sla + result.overall)
    assert result.changes == dict.fromkeys(CHANGES, 0)
    assert all(not listed for listed in result.changed_cycles.values())


def test_the_one_liner_names_both_verdicts(old, new):
    result = compare(old, new)
    (t1,) = result.changed_cycles["newly_breached"]
    assert t1.text() == (
        'T1 first_response #1: achieved under "standard" (1h target, 40m business) '
        '-> breached under "standard-v2" (30m target, 40m business)'
    )
    calendar = Verdict("p", "running", 3_600_000_000, "calendar", 8 * 86_400_000_000, True)
    assert verdict_text(calendar) == 'running under "p" (1h target, 8d calendar)'
    assert verdict_text(None) == "no target"


def test_the_list_is_capped_and_the_rest_counted(old, new):
    result = compare(old, new, listed_per_change=2)
    assert result.changes["new"] == 4 and len(result.changed_cycles["new"]) == 2
    assert result.unlisted == 2
    assert [c.ticket_id for c in result.changed_cycles["new"]] == ["T1", "T2"]


def test_builders_merge_and_pickle_to_the_same_result(old, new):
    tickets, _ = read_jsonl(LINES)
    items = list(tickets.values())
    whole = compare(old, new, by=["priority"], listed_per_change=3)
    first, second = (CompareBuilder(old, new, NOW, ["priority"], listed_per_change=3) for _ in range(2))
    for t in items[:2]:
        first.add(t)
    for t in items[2:]:
        second.add(t)
    merged = CompareBuilder(old, new, NOW, ["priority"], listed_per_change=3)
    for part in (pickle.loads(pickle.dumps(first)), pickle.loads(pickle.dumps(second))):
        merged.merge(part)
    assert merged.finish().to_dict() == whole.to_dict()
    # Interleaved parts (hashed partitions) are put back in input order.
    odd, even = (CompareBuilder(old, new, NOW, ["priority"], listed_per_change=3) for _ in range(2))
    for index, t in enumerate(items):
        (odd if index % 2 else even).add(t)
    merged = CompareBuilder(old, new, NOW, ["priority"], listed_per_change=3)
    merged.merge(odd)
    merged.merge(even)
    merged.sort_by_first_line()
    assert merged.finish().to_dict() == whole.to_dict()


def test_rejected_tickets_are_counted_not_compared(old, new):
    bad = json.dumps({"ticket_id": "BAD", "at": "2026-03-02T08:00:00", "type": "created", "fields": {}})
    result = compare(old, new, lines=[*LINES, bad])
    assert result.rejected == 1 and result.tickets == 4


def test_delta_points_are_exact():
    row = MetricDelta({}, "m", Compliance(3, 1, 2), Compliance(3, 2, 1))
    assert row.delta_points == pytest.approx(100 / 3)
    assert MetricDelta({}, "m", Compliance(7, 3, 4), Compliance(7, 3, 4)).delta_points == 0.0
    assert delta_text(-6.79) == "-6.8" and delta_text(0.0) == "0.0" and delta_text(None) == "-"
    assert delta_text(1.25) == "+1.2"


def test_formats_carry_the_same_figures(old, new):
    result = compare(old, new, by=["priority"])
    data = result.to_dict()
    assert set(data) == {
        "now",
        "before",
        "after",
        "tickets",
        "rejected",
        "sla",
        "overall",
        "changes",
        "unlisted",
        "changed_cycles",
        "events",
    }
    assert data["events"]["first"] is not None and data["events"]["first"] <= data["events"]["last"]
    assert data["changed_cycles"][0]["change"] == "newly_breached"
    assert data["changed_cycles"][0]["before"]["target_seconds"] == 3600
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert tuple(rows[0]) == CSV_COLUMNS
    cycles = [r for r in rows if r["section"] == "cycle"]
    assert len(cycles) == len(data["changed_cycles"])
    assert cycles[0]["before_state"] == "achieved" and cycles[0]["after_state"] == "breached"
    assert [r for r in cycles if r["change"] == "new"][0]["before_policy"] == ""
    sla = [r for r in rows if r["section"] == "sla"]
    assert (
        len(sla) == len(data["sla"])
        and float(sla[0]["before_compliance"]) == data["sla"][0]["before"]["compliance"]
    )
    table = render_table(result)
    assert "first_response normal" in " ".join(table.split())
    assert "Newly breached (1)" in table and t1_line(result) in table
    page = render_html(result)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "standard-v2" in page


def t1_line(result: Comparison) -> str:
    return result.changed_cycles["newly_breached"][0].text()


def test_the_table_escapes_control_characters(old, new):
    lines = [line.replace('"T1"', '"T1\\nrejected: forged"') for line in LINES]
    table = render_table(compare(old, new, lines=lines))
    assert "T1\\nrejected: forged first_response" in table
    assert "\nrejected: forged" not in table


def test_a_history_without_cycles_prints_in_every_format(old, new):
    result = compare(old, new, lines=[line.replace("2026-03-02", "2026-03-03") for line in LINES])
    assert result.tickets == 0 and result.sla == [] and result.overall == []
    assert "(no cycles with a target)" in render_table(result)
    assert "0 newly breached, 0 no longer breached, 0 new, 0 dropped" in render_table(result)
    assert render_csv(result) == ",".join(CSV_COLUMNS) + "\n"
    assert json.loads(render_json(result))["changed_cycles"] == []
    page = render_html(result)
    assert "No cycles with a target" in page and "No cycle changes its verdict." in page
    with pytest.raises(SlaError, match="unknown compare format 'xml'"):
        write_comparison(result, io.BytesIO(), "xml")
