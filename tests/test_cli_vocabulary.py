"""Issue 12: one time vocabulary and nothing silent in evaluate, explain and
report: durations in one form (business time never in days), labels that
say business or calendar time, --tz, headers naming the policy file and the
events' range, the stale --now note, row filters, report meta, parquet and
CSV group columns, did-you-mean for names."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.cli.app import main
from sla.cli.progress import input_progress
from sla.policy.duration import parse_duration_us
from sla.timefmt import duration_text, header_instant

ROOT = Path(__file__).resolve().parent.parent
EVENTS = str(ROOT / "samples" / "events.jsonl")
B2B = str(ROOT / "policies" / "b2b-tiers.yaml")
SOCIAL = str(ROOT / "policies" / "social-care.yaml")
NOW = "2026-04-01T00:00:00Z"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def rows_of(capsys, *argv: str) -> list[dict[str, object]]:
    status, out, _ = run(capsys, "evaluate", "--policies", B2B, "--events", EVENTS, "--now", NOW, *argv)
    assert status == 0
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------ durations
@given(st.integers(min_value=0, max_value=10**15))
def test_exact_duration_text_reads_back_as_the_same_duration(us):
    text = duration_text(us, exact=True)
    assert "d" not in text  # business time: never days
    assert parse_duration_us(text) == us


@given(st.integers(min_value=7 * 86400 * 10**6, max_value=10**15))
def test_calendar_durations_use_days_from_a_week(us):
    text = duration_text(us, business=False, exact=True)
    assert text.count("d") == 1 and parse_duration_us(text) == us


@pytest.mark.parametrize(
    ("us", "business", "expected"),
    [
        (0, True, "0s"),
        (59 * 60_000_000 + 18_000_000, True, "59m18s"),
        (8_100_000_000 + 40_000_000, True, "2h15m"),  # two largest units
        (7_240_000_000, True, "2h"),  # 2h0m40s: minutes are the second unit
        (24 * 3600 * 10**6, True, "24h"),
        (80 * 3600 * 10**6, False, "80h"),
        (8 * 86400 * 10**6, True, "192h"),
        (8 * 86400 * 10**6, False, "8d"),
        (-117_000_000, True, "-1m57s"),
        (500_000, True, "1s"),  # rounded to whole seconds unless exact
    ],
)
def test_duration_text_cases(us, business, expected):
    assert duration_text(us, business=business) == expected


def test_header_instants_have_no_microseconds():
    assert header_instant(1_767_225_600_123_456) == "2026-01-01T00:00:00Z"


# ------------------------------------------------------------- evaluate
def table_lines(capsys, *argv: str) -> list[str]:
    status, out, _ = run(
        capsys, "evaluate", "--policies", B2B, "--events", EVENTS, "--now", NOW, "--format", "table", *argv
    )
    assert status == 0
    return out.splitlines()


def test_table_header_names_now_zone_policy_file_and_event_range(capsys):
    lines = table_lines(capsys)
    assert lines[0].startswith("cycles as of 2026-04-01T00:00:00Z; due times in UTC")
    assert lines[1] == f"policies: {B2B}; events: 2026-01-05T02:33:49Z .. 2026-03-30T13:48:54Z"


def test_table_durations_follow_each_rows_hours(capsys):
    lines = table_lines(capsys)
    body = [line.split() for line in lines if re.match(r"^!?\s+T\d+", line)]
    assert body
    for cells in body:
        cells = [c for c in cells if c != "!"]
        hours, durations = cells[-1], cells[5:8]
        assert hours in ("business", "calendar")
        if hours == "business":
            assert not any("d" in d for d in durations), cells
        for text in durations:
            assert re.fullmatch(r"-?(\d+d)?(\d+h)?(\d+m)?(\d+s)?", text), text


def test_table_due_times_in_the_tz_zone(capsys):
    utc = rows_of(capsys, "--state", "running")
    lines = table_lines(capsys, "--tz", "Europe/Berlin", "--state", "running")
    assert "due (Europe/Berlin)" in lines[3]
    first = utc[0]
    due = first["due_at"]
    assert isinstance(due, str)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Berlin"))
    row = next(line for line in lines if f" {first['ticket_id']} " in line and f" {first['metric']} " in line)
    assert local.strftime("%Y-%m-%d %H:%M") in row


def test_filters_keep_exactly_the_matching_rows(capsys):
    every = rows_of(capsys)
    assert rows_of(capsys, "--state", "breached,running") == [
        r for r in every if r["state"] in ("breached", "running")
    ]
    assert rows_of(capsys, "--metric", "resolution") == [r for r in every if r["metric"] == "resolution"]
    assert rows_of(capsys, "--policy", "free", "--metric", "first_response") == [
        r for r in every if r["policy"] == "free" and r["metric"] == "first_response"
    ]


def test_due_within_keeps_open_cycles_due_soon_sorted_by_due(capsys):
    every = rows_of(capsys)
    soon = rows_of(capsys, "--due-within", "30d")
    from sla.timefmt import parse_instant

    limit = parse_instant(NOW) + 30 * 86400 * 10**6
    expected = [
        r for r in every if r["ended_at"] is None and r["due_at"] and parse_instant(r["due_at"]) <= limit
    ]
    assert soon and sorted(map(json.dumps, soon)) == sorted(map(json.dumps, expected))
    dues = [parse_instant(r["due_at"]) for r in soon]
    assert dues == sorted(dues)
    # --sort input keeps the input order
    assert rows_of(capsys, "--due-within", "30d", "--sort", "input") == expected


def test_sort_due_puts_rows_without_due_last(capsys):
    rows = rows_of(capsys, "--sort", "due")
    from sla.timefmt import parse_instant

    dues = [r["due_at"] for r in rows]
    missing = [i for i, d in enumerate(dues) if d is None]
    assert not missing or missing[0] == len(rows) - len(missing)
    present = [parse_instant(d) for d in dues if d is not None]
    assert present == sorted(present)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--state", "breachd"], "--state: 'breachd' is not a cycle state; did you mean 'breached'?"),
        (["--metric", "first_respons"], "did you mean 'first_response'?"),
        (["--policy", "enterprize"], "did you mean 'enterprise'?"),
        (["--tz", "Berlin"], "did you mean 'Europe/Berlin'?"),
        (["--tz", "europe/berlin"], "did you mean 'Europe/Berlin'?"),
        (["--due-within", "soon"], "--due-within: 'soon' is not a duration"),
    ],
)
def test_bad_names_get_did_you_mean(capsys, argv, message):
    status, out, err = run(capsys, "evaluate", "--policies", B2B, "--events", EVENTS, "--now", NOW, *argv)
    assert status == 2 and out == ""
    assert message in err


def test_filters_are_the_same_with_parallel_jobs(tmp_path, capsys, monkeypatch):
    import sla.io.pipeline as pipeline

    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    big = tmp_path / "events.jsonl"
    assert main(["generate", "--tickets", "600", "--seed", "5", "--output", str(big)]) == 0
    args = ["evaluate", "--policies", B2B, "--events", str(big), "--now", NOW, "--state", "breached"]
    one = run(capsys, *args, "--jobs", "1", "--sort", "due")
    two = run(capsys, *args, "--jobs", "2", "--sort", "due")
    assert one[0] == two[0] == 0 and one[1] == two[1] and one[1]
    table_one = run(capsys, *args, "--jobs", "1", "--format", "table")
    table_two = run(capsys, *args, "--jobs", "2", "--format", "table")
    assert table_one[1] == table_two[1] and "events: " in table_two[1].splitlines()[1]


def test_a_stale_history_without_now_is_noted_once(capsys):
    status, _, err = run(capsys, "evaluate", "--policies", B2B, "--events", EVENTS, "--output", "/dev/null")
    assert status == 0
    assert err.count("note: the newest event is 2026-03-30T13:48:54Z, over a week before now") == 1
    status, _, err = run(capsys, "evaluate", "--policies", B2B, "--events", EVENTS, "--now", NOW)
    assert "note:" not in err


# --------------------------------------------------------------- report
def report_json(capsys, *argv: str, policies: str = B2B) -> tuple[dict[str, object], str]:
    status, out, err = run(
        capsys, "report", "--policies", policies, "--events", EVENTS, "--now", NOW, "--format", "json", *argv
    )
    assert status == 0
    return json.loads(out), err


def test_report_meta_counts_tickets_no_policy_measures(capsys):
    report, err = report_json(capsys, policies=SOCIAL)
    meta = report["meta"]
    assert meta["policies"] == [SOCIAL]
    assert meta["events"] == {"first": "2026-01-05T02:33:49Z", "last": "2026-03-30T13:48:54Z"}
    # independently: the tickets evaluate gives no row for
    status, out, _ = run(capsys, "evaluate", "--policies", SOCIAL, "--events", EVENTS, "--now", NOW)
    measured = {json.loads(line)["ticket_id"] for line in out.splitlines()}
    assert meta["unmeasured_tickets"] == report["tickets"] - len(measured) == 404
    assert meta["no_policy_tickets"] == 404
    assert "404 of 500 tickets have no cycle with a target: no policy is in force" in err
    status, table, _ = run(
        capsys, "report", "--policies", SOCIAL, "--events", EVENTS, "--now", NOW, "--format", "table"
    )
    assert "404 of 500 tickets have no cycle with a target" in table


def test_report_says_which_figures_are_business_time(capsys):
    report, _ = report_json(capsys)
    assert report["meta"]["hours"] == {
        "first_response": "mixed",
        "next_response": "business",
        "requester_wait": "mixed",
        "resolution": "mixed",
    } or set(report["meta"]["hours"].values()) <= {"business", "calendar", "mixed"}
    status, table, _ = run(
        capsys, "report", "--policies", B2B, "--events", EVENTS, "--now", NOW, "--format", "table"
    )
    assert "elapsed time counted in the target's hours" in table
    assert "FRT: first response time, calendar time" in table
    assert f"policies: {B2B}" in table and "events: 2026-01-05T02:33:49Z .. 2026-03-30T13:48:54Z" in table


def test_report_by_unknown_key_warns_with_did_you_mean(capsys):
    _, err = report_json(capsys, "--by", "tierr")
    assert (
        "--by tierr: no ticket has this attribute, so it groups every ticket as null; did you mean 'tier'?"
        in err
    )


def test_report_tz_did_you_mean(capsys):
    status, _, err = run(
        capsys, "report", "--policies", B2B, "--events", EVENTS, "--now", NOW, "--tz", "Europe/Berln"
    )
    assert status == 2 and "did you mean 'Europe/Berlin'?" in err


def test_report_csv_has_a_column_per_group_key(capsys):
    report, _ = report_json(capsys, "--by", "tier,priority")
    status, out, _ = run(
        capsys,
        "report",
        "--policies",
        B2B,
        "--events",
        EVENTS,
        "--now",
        NOW,
        "--by",
        "tier,priority",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["section", "tier", "priority", "metric", "figure", "value"]
    for sla_row in report["sla"]:
        cell = next(
            r
            for r in rows
            if r["section"] == "sla"
            and r["tier"] == (sla_row["group"]["tier"] or "")
            and r["priority"] == (sla_row["group"]["priority"] or "")
            and r["metric"] == sla_row["metric"]
            and r["figure"] == "cycles"
        )
        assert int(cell["value"]) == sla_row["cycles"]


def test_report_parquet_by_suffix_and_format(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    report, _ = report_json(capsys, "--by", "tier")
    target = tmp_path / "report.parquet"
    status, _, _ = run(
        capsys,
        "report",
        "--policies",
        B2B,
        "--events",
        EVENTS,
        "--now",
        NOW,
        "--by",
        "tier",
        "--output",
        str(target),
    )
    assert status == 0
    table = pq.read_table(target)
    records = table.to_pylist()
    sla_rows = [r for r in records if r["section"] == "sla"]
    assert len(sla_rows) == len(report["sla"])
    for mine, theirs in zip(sla_rows, report["sla"], strict=True):
        assert (mine["tier"], mine["metric"], mine["cycles"], mine["compliance"]) == (
            theirs["group"]["tier"],
            theirs["metric"],
            theirs["cycles"],
            theirs["compliance"],
        )
    head = json.loads(table.schema.metadata[b"sla.report"])
    assert head["tickets"] == report["tickets"] and head["meta"] == report["meta"]
    status, _, err = run(
        capsys,
        "report",
        "--policies",
        B2B,
        "--events",
        EVENTS,
        "--output",
        str(tmp_path / "r.json"),
        "--format",
        "parquet",
    )
    assert status == 2 and "contradicts" in err


# -------------------------------------------------------------- explain
def explain(capsys, *argv: str) -> str:
    status, out, _ = run(capsys, "explain", "--policies", B2B, "--events", EVENTS, "--now", NOW, *argv)
    assert status == 0
    return out


def test_explain_defaults_to_the_calendars_zone_and_shows_open_hours(capsys):
    out = explain(capsys, "--ticket", "T012")
    assert "as of 2026-04-01 02:00:00+02:00 (2026-04-01T00:00:00Z)" in out
    assert "Times are local to Europe/Berlin" in out and f"Policies: {B2B}" in out
    # the first response fell in the lunch break: the open hours say why 0s counted
    assert "ended 2026-01-07 12:49:31+01:00 (stop condition: response)" in out
    assert "4m6s calendar time, 0s business time counted" in out
    assert "Wed 2026-01-07: open 09:00-12:30, 13:30-18:00" in out
    assert "target 160h in business hours" in out  # never 6d16h


def test_explain_tz_option_and_no_python_reprs(capsys):
    out = explain(capsys, "--ticket", "T012", "--tz", "UTC")
    assert "Times are local to UTC" in out and "2026-01-07 11:45:25Z" in out
    assert "{'" not in out and "['" not in out
    assert '"channel": "email"' in out


def test_explain_bad_tz(capsys):
    status, _, err = run(
        capsys, "explain", "--policies", B2B, "--events", EVENTS, "--ticket", "T012", "--tz", "Europe/Berln"
    )
    assert status == 2 and "did you mean 'Europe/Berlin'?" in err


# ------------------------------------------------------------- progress
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_over_a_file_shows_percentage_and_eta(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(f'{{"n": {i}}}\n' for i in range(1000)))
    screen = FakeTerminal()
    bar = input_progress(str(path), stream=screen)
    assert bar.total == 1001
    bar.delay = bar.interval = 0
    bar.every = 1
    bar.update(500)
    assert "%" in screen.getvalue() and "ETA" in screen.getvalue() and "500/1,001 lines" in screen.getvalue()
    bar.close()


def test_progress_stays_silent_off_a_terminal(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("{}\n")
    quiet = io.StringIO()
    bar = input_progress(str(path), stream=quiet)
    bar.update(1)
    bar.close()
    assert quiet.getvalue() == "" and not bar.enabled


def test_parallel_runs_report_progress_by_pieces(tmp_path, monkeypatch):
    import sla.io.pipeline as pipeline
    from sla import load_policies
    from sla.cli.progress import Progress
    from sla.io.sinks import ReportSink

    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    big = tmp_path / "events.jsonl"
    assert main(["generate", "--tickets", "300", "--seed", "8", "--output", str(big)]) == 0
    policies = load_policies(Path(B2B))
    for shuffled in (False, True):
        path = big
        if shuffled:  # ungrouped input goes through spilled partitions
            lines = big.read_text().splitlines()
            path = tmp_path / "shuffled.jsonl"
            path.write_text("\n".join(lines[1::2] + lines[0::2]) + "\n")
        screen = FakeTerminal()
        bar = Progress(0, "lines", stream=screen, delay=0, interval=0)
        sink = ReportSink(policies, 0)
        pipeline.run(sink, str(path), jobs=2, progress=bar)
        label = "partitions" if shuffled else "input"
        assert f"100% of the {label}" in screen.getvalue()
        if shuffled:
            # The input twice: the attempt to stream it by byte ranges (which
            # found it ungrouped), then the workers spilling it by byte ranges.
            assert screen.getvalue().count("100% of the input") == 2


def test_one_job_spilling_tells_the_lines_read_then_the_partitions(tmp_path, monkeypatch):
    import sla.io.pipeline as pipeline
    from sla import load_policies
    from sla.cli.progress import Progress
    from sla.io.sinks import ReportSink

    monkeypatch.setattr(pipeline, "IN_MEMORY_LIMIT_BYTES", 0)  # spill, not sort in memory
    big = tmp_path / "events.jsonl"
    assert main(["generate", "--tickets", "300", "--seed", "8", "--output", str(big)]) == 0
    lines = big.read_text().splitlines()
    path = tmp_path / "shuffled.jsonl"
    path.write_text("\n".join(lines[1::2] + lines[0::2]) + "\n")
    screen = FakeTerminal()
    bar = Progress(0, "lines", stream=screen, delay=0, interval=0)
    bar.every = 1  # draw every time it is told
    pipeline.run(ReportSink(load_policies(Path(B2B)), 0), str(path), jobs=1, progress=bar)
    shown = screen.getvalue()
    assert f"{len(lines):,} lines" in shown  # every line read, as it was spilled
    assert shown.index(f"{len(lines):,} lines") < shown.index("100% of the partitions")
    assert "of the input" not in shown  # one range: its lines were the measure


def explain_ticket_t(capsys, policy: Path, events: Path) -> tuple[int, str, str]:
    """``sla explain`` of ticket T at 2026-03-02T09:00:00Z."""
    argv = ["--policies", str(policy), "--events", str(events), "--now", "2026-03-02T09:00:00Z"]
    return run(capsys, "explain", *argv, "--ticket", "T")


def test_explain_shows_list_values_as_json_not_python(tmp_path, capsys):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "policies:\n  - name: trials\n    match: {plan: trial}\n    targets: {first_response: 1h}\n"
        "  - name: rest\n    targets: {first_response: 4h}\n"
    )
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"ticket_id": "T", "at": "2026-03-02T08:00:00Z", "type": "created",'
        ' "fields": {"plan": ["free", "trial"], "meta": {"a": 1}}}\n'
    )
    status, out, _ = explain_ticket_t(capsys, policy, events)
    assert status == 0
    assert "['" not in out and "{'" not in out
    assert 'plan is ["free", "trial"]' in out
    assert '"meta": {"a": 1}' in out


def test_explain_shows_parquet_fields_keyed_by_dates(tmp_path, capsys):
    """A Parquet map column may have keys JSON cannot hold (dates): explain
    shows them as their text, not an internal error."""
    pa = pytest.importorskip("pyarrow")
    import datetime

    import pyarrow.parquet as pq

    policy = tmp_path / "p.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {first_response: 1h}\n")
    events = tmp_path / "e.parquet"
    fields = pa.array([[(datetime.date(2026, 12, 24), "closed")]], pa.map_(pa.date32(), pa.string()))
    pq.write_table(
        pa.table({"ticket_id": ["T"], "at": ["2026-03-02T08:00:00Z"], "type": ["created"], "fields": fields}),
        events,
    )
    status, out, err = explain_ticket_t(capsys, policy, events)
    assert status == 0, err
    assert 'fields {"2026-12-24": "closed"}' in out
