"""Instants at the edges of the supported range, and absurd years: never an
internal error, a lost run or an index of thousands of years (issue
"Hardening")."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sla import Calendar, TimestampError
from sla.cli.app import main
from sla.engine.judge import PROJECTION_LIMIT_US
from sla.timefmt import MAX_US, MIN_US, format_instant, parse_instant, to_us

BUSINESS = """\
calendars:
  biz:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-17:00"]}
    holidays: {country: DE}
policies:
  - name: all
    calendar: biz
    targets: {first_response: 4h, resolution: 40h}
"""


def _minutes(count: int) -> list[str]:
    """``count`` 30-second shifts a day, one at the start of each minute."""
    return [f"{m // 60:02d}:{m % 60:02d}-{m // 60:02d}:{m % 60:02d}:30" for m in range(count)]


def dense_policy(zone: str, holidays: str | None) -> str:
    holiday = f"\n    holidays: {{country: {holidays}}}" if holidays else ""
    return (
        "calendars:\n  dense:\n"
        f"    timezone: {zone}\n"
        f"    hours: {{mon-sun: {json.dumps(_minutes(1440))}}}{holiday}\n"
        "policies:\n  - name: all\n    calendar: dense\n"
        "    targets: {first_response: 4h, resolution: 40h}\n"
    )


def created(ticket: str, at: str) -> str:
    return json.dumps({"ticket_id": ticket, "at": at, "type": "created", "fields": {}}) + "\n"


def files(tmp_path: Path, policy: str, *lines: str) -> tuple[str, str]:
    policies = tmp_path / "policy.yaml"
    policies.write_text(policy)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(lines))
    return str(policies), str(events)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


# ------------------------------------------------------------ the range
def test_the_range_is_exact_and_named():
    assert parse_instant("0001-01-02T00:00:00Z") == MIN_US
    assert parse_instant("9999-12-30T23:59:59.999999Z") == MAX_US
    for text in ("0001-01-01T23:59:59.999999Z", "9999-12-31T00:00:00Z", "0001-01-02T00:00:00+00:01"):
        with pytest.raises(TimestampError, match="0001-01-02T00:00:00Z to 9999-12-30T23:59:59.999999Z"):
            parse_instant(text)
    with pytest.raises(TimestampError, match="outside the supported instants"):
        to_us(datetime(1, 1, 1, tzinfo=UTC))
    assert format_instant(MIN_US) == "0001-01-02T00:00:00Z"
    assert format_instant(MAX_US) == "9999-12-30T23:59:59.999999Z"


@pytest.mark.parametrize("now", ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00+05:00"])
def test_now_outside_the_range_is_a_usage_error(tmp_path, capsys, now):
    policies, events = files(tmp_path, BUSINESS, created("A", "2026-03-02T10:00:00Z"))
    status, _, err = run(capsys, "evaluate", "--policies", policies, "--events", events, "--now", now)
    assert status == 2
    assert "--now" in err and "9999-12-30T23:59:59.999999Z" in err and "Traceback" not in err


def test_parquet_timestamps_outside_the_range_reject_their_ticket(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "ticket_id": ["A", "B"],
            "at": pa.array(
                [datetime(1, 1, 1, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
            "type": ["created", "created"],
            "fields": ["{}", "{}"],
        }
    )
    events = tmp_path / "events.parquet"
    pq.write_table(table, events)
    policies, _ = files(tmp_path, BUSINESS)
    status, out, err = run(
        capsys, "evaluate", "--policies", policies, "--events", str(events), "--now", "2026-03-03T00:00:00Z"
    )
    assert status == 1
    assert "line 1: ticket A: at:" in err and "outside the supported instants" in err
    assert {json.loads(line)["ticket_id"] for line in out.splitlines()} == {"B"}


def test_jsonl_instants_outside_the_range_reject_their_ticket(tmp_path, capsys):
    policies, events = files(
        tmp_path,
        BUSINESS,
        created("A", "0001-01-01T00:00:00Z"),
        created("B", "2026-03-02T10:00:00Z"),
    )
    status, out, err = run(
        capsys, "evaluate", "--policies", policies, "--events", events, "--now", "2026-03-03T00:00:00Z"
    )
    assert "Traceback" not in err
    assert {json.loads(line)["ticket_id"] for line in out.splitlines()} >= {"B"}
    assert status == 1 and "line 1: ticket A" in err and "outside the supported instants" in err


# ------------------------------------------------- absurd years still work
def test_a_ticket_in_year_2_is_evaluated_and_later_rows_survive(tmp_path, capsys):
    policies, events = files(
        tmp_path,
        BUSINESS,
        created("A", "0002-03-01T10:00:00Z"),
        created("B", "2026-03-02T10:00:00Z"),
        created("C", "0001-01-02T00:00:00Z"),
        created("D", "9999-12-30T20:00:00Z"),
    )
    status, out, err = run(
        capsys, "evaluate", "--policies", policies, "--events", events, "--now", "9999-12-30T23:00:00Z"
    )
    assert status == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["ticket_id"] for r in rows] == ["A", "A", "B", "B", "C", "C", "D", "D"]
    d_resolution = rows[-1]
    # 40 business hours after the last Thursday of 9999 runs out after the
    # last supported instant: no due time, no error.
    assert d_resolution["due_at"] is None and d_resolution["state"] == "running"


def test_due_times_past_the_range_are_null(tmp_path, capsys):
    policy = """\
policies:
  - name: all
    targets:
      first_response: {within: 3000000d, hours: calendar}
      resolution: 3000000d
    warnings: {at_percent: [50, 99]}
"""
    policies, events = files(tmp_path, policy, created("A", "2026-03-02T10:00:00Z"))
    status, out, err = run(
        capsys,
        "evaluate",
        "--policies",
        policies,
        "--events",
        events,
        "--now",
        "2026-03-03T00:00:00Z",
        "--format",
        "jsonl",
    )
    assert status == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["due_at"] for r in rows] == [None, None]


def test_report_periods_in_year_1_and_9999(tmp_path, capsys):
    policy = "policies:\n  - name: all\n    targets: {first_response: 1h}\n"
    policies, events = files(
        tmp_path,
        policy,
        created("A", "0001-01-02T03:00:00Z"),
        created("B", "9999-12-30T20:00:00Z"),
    )
    for tz in ("America/Los_Angeles", "Pacific/Kiritimati"):
        for period in ("day", "week", "month"):
            status, out, err = run(
                capsys,
                "report",
                "--policies",
                policies,
                "--events",
                events,
                "--now",
                "9999-12-30T23:00:00Z",
                "--period",
                period,
                "--tz",
                tz,
                "--format",
                "json",
            )
            assert status == 0, err
            periods = {row["group"]["period"] for row in json.loads(out)["sla"]}
            assert len(periods) == 2
            if period == "day":
                expected = "9999-12-30" if tz == "America/Los_Angeles" else "9999-12-31"
                assert periods == {"0001-01-01", expected}


# --------------------------------------------------------- sparse index
SPEC = {
    "timezone": "America/Sao_Paulo",
    "hours": {"mon-fri": ["09:00-17:00"], "sun": ["23:00-03:00"]},
    "holidays": {"country": "BR", "dates": ["1999-12-31"]},
    "overrides": {"2026-01-01": ["10:00-11:00"]},
}


@pytest.mark.parametrize(
    ("a", "b"),
    [((1950, 6, 3, 12), (1990, 2, 1)), ((1990, 12, 31, 23), (2030, 1, 1, 1)), ((2, 3, 1), (40, 1, 1))],
)
def test_elapsed_and_add_across_unbuilt_years_are_exact(a, b):
    x, y = to_us(datetime(*a, tzinfo=UTC)), to_us(datetime(*b, tzinfo=UTC))
    sparse = Calendar.from_dict(SPEC)
    sparse.elapsed_us(x, x + 1)
    sparse.elapsed_us(y, y + 1)  # only the two ends are built
    elapsed = sparse.elapsed_us(x, y)
    built = sum(stop - start for start, stop in Calendar.from_dict(SPEC).open_intervals_us(x, y))
    assert elapsed == built
    assert sparse.elapsed_us(y, x) == -elapsed
    due = sparse.add_us(x, elapsed)
    assert due <= y and sparse.elapsed_us(x, due) == elapsed
    assert len(sparse._segments) <= 3  # the gap's years were counted, not built


@pytest.mark.parametrize(
    "zone",
    ["Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Chatham", "Africa/Casablanca"],
)
@pytest.mark.parametrize(
    "hours",
    [
        {"mon-fri": ["09:00-17:00"]},
        {"mon-sun": ["22:00-06:00"]},
        {"sat-mon": ["01:00-02:30", "03:00-04:00", "23:30-23:45"]},
        {"tue": ["02:00-02:30"], "sun": ["00:30-01:30", "23:00-03:00"]},
    ],
)
def test_a_years_counted_total_is_its_built_total(zone, hours):
    spec = {
        "timezone": zone,
        "hours": hours,
        "holidays": {"country": "US", "dates": ["1999-12-31", "2024-03-10"]},
        "overrides": {"2026-01-01": [], "2025-12-31": ["10:00-11:00"]},
    }
    counted, built = Calendar.from_dict(spec), Calendar.from_dict(spec)
    for year in (2, 1916, 1945, 1970, 1999, 2000, 2012, 2024, 2025, 2026, 2037, 2100, 9998):
        assert counted._year_total(year) == built._build_year(year)[2], year


def test_the_calendar_is_closed_outside_the_range():
    cal = Calendar.from_dict({"timezone": "UTC", "hours": {"mon-sun": ["00:00-00:00"]}})
    assert cal.elapsed_us(MAX_US - 10, MAX_US + PROJECTION_LIMIT_US) == 11
    assert cal.elapsed_us(MIN_US - 10**12, MIN_US + 5) == 5


# ------------------------------------------------------------- memory
def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
@pytest.mark.parametrize(
    ("zone", "holidays", "lines"),
    [
        ("UTC", None, [created("A", "0002-03-01T10:00:00Z"), created("B", "9998-06-01T10:00:00Z")]),
        (
            "America/New_York",
            "US",
            [created("A", "1976-03-01T10:00:00Z"), created("B", "2026-03-02T10:00:00Z")],
        ),
    ],
)
def test_absurd_years_fit_in_a_gigabyte(tmp_path, zone, holidays, lines):
    policies, events = files(tmp_path, dense_policy(zone, holidays), *lines)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sla.cli", "evaluate", "--policies", policies, "--events", events]
        + ["--now", "9998-12-01T00:00:00Z" if zone == "UTC" else "2026-03-03T00:00:00Z"],
        preexec_fn=_limit_memory,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert time.monotonic() - started < 120
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 4
