"""CycleResult's datetime and timedelta accessors, and the public names the
documentation imports.

The accessors give the epoch-microsecond fields as aware UTC datetimes and
timedeltas, exactly, None where the field is None; they are properties, so
a result stays a plain tuple of its fields (the engine builds millions).
"""

from __future__ import annotations

import ast
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given

import sla
from sla.timefmt import from_us, parse_instant

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_engine_properties as props

ROOT = Path(__file__).resolve().parents[1]
ACCESSORS = (
    "started",
    "ended",
    "due",
    "target",
    "elapsed",
    "remaining",
    "paused_total",
    "pauses",
    "warning_times",
)

POLICIES = sla.load_policies("""
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-17:00"]}
policies:
  - name: office
    calendar: office
    targets: {first_response: 1h, requester_wait: {within: 4h, hours: calendar}}
    warnings: {at_percent: [50], before_due: [10m]}
""")

EVENTS = [
    {"at": "2026-03-02T08:00:00.25Z", "type": "created", "fields": {}},  # Monday, 09:00:00.25 in Berlin
    {"at": "2026-03-02T08:20:00Z", "type": "status", "status": "pending"},
    {"at": "2026-03-02T09:30:00.5Z", "type": "status", "status": "open"},
    {"at": "2026-03-02T10:00:00Z", "type": "status", "status": "pending"},
]


def rows(now: str = "2026-03-02T11:00:00Z") -> dict[str, sla.CycleResult]:
    return {r.metric: r for r in sla.evaluate_ticket(POLICIES, EVENTS, now, ticket_id="T")}


def test_instants_are_aware_utc_datetimes_to_the_microsecond():
    first = rows()["first_response"]  # no response: breached at 09:00:00.25 UTC, open
    assert first.state == "breached"
    assert first.started == datetime(2026, 3, 2, 8, 0, 0, 250_000, tzinfo=UTC)
    assert first.started.utcoffset() == timedelta(0)
    assert first.ended is None and first.ended_at is None
    assert first.due == datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC) == from_us(first.due_at)


def test_durations_are_timedeltas_and_remaining_goes_negative():
    first = rows()["first_response"]
    assert first.target == timedelta(hours=1)
    assert first.elapsed == timedelta(hours=2, minutes=59, seconds=59, microseconds=750_000)
    assert first.remaining == first.target - first.elapsed < timedelta(0)
    assert first.remaining == timedelta(microseconds=first.remaining_us)
    assert first.paused_total == timedelta(0) and first.pauses == ()


def test_pauses_and_warnings_with_datetimes():
    wait = rows()["requester_wait"]  # calendar hours, paused now since 10:00
    assert wait.state == "paused"
    assert wait.pauses == (
        (datetime(2026, 3, 2, 8, 20, tzinfo=UTC), datetime(2026, 3, 2, 9, 30, 0, 500_000, tzinfo=UTC)),
        (datetime(2026, 3, 2, 10, tzinfo=UTC), None),
    )
    assert wait.paused_total == timedelta(hours=2, minutes=10, microseconds=500_000)
    assert wait.due is None and wait.warning_times == ()  # paused: nothing projected
    running = rows("2026-03-02T08:10:00Z")["requester_wait"]
    assert running.state == "running"
    assert running.warning_times == (
        ("50%", datetime(2026, 3, 2, 10, 0, 0, 250_000, tzinfo=UTC)),
        ("10m before due", datetime(2026, 3, 2, 11, 50, 0, 250_000, tzinfo=UTC)),
    )
    assert [label for label, _ in running.warning_times] == [label for label, _ in running.warnings]


def test_an_ended_cycle_has_an_end():
    events = [*EVENTS[:1], {"at": "2026-03-02T08:30:00Z", "type": "message", "author": "agent"}]
    [first] = [
        r
        for r in sla.evaluate_ticket(POLICIES, events, "2026-03-02T12:00:00Z")
        if r.metric == "first_response"
    ]
    assert first.state == "achieved"
    assert first.ended == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert first.due is None  # reached its end in time: the target was never reached


@props.FAST
@given(props.histories())
def test_every_accessor_is_its_field_converted(history):
    events, now = history
    for r in sla.evaluate_ticket(props.POLICIES, events, now, ticket_id="T"):
        for instant, us in ((r.started, r.started_at), (r.ended, r.ended_at), (r.due, r.due_at)):
            assert (instant is None) == (us is None)
            if instant is not None:
                assert (
                    instant.tzinfo is UTC
                    and (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) == us
                )
        for delta, us in (
            (r.target, r.target_us),
            (r.elapsed, r.elapsed_us),
            (r.remaining, r.remaining_us),
            (r.paused_total, r.paused_us),
        ):
            assert isinstance(delta, timedelta) and delta // timedelta(microseconds=1) == us
        assert len(r.pauses) == len(r.paused)
        for (a, b), (a_us, b_us) in zip(r.pauses, r.paused, strict=True):
            assert a == from_us(a_us) and (b is None) == (b_us is None) and (b is None or b == from_us(b_us))
        assert r.warning_times == tuple((label, from_us(at)) for label, at in r.warnings)


def test_accessors_are_properties_with_no_cost_per_result():
    result = rows()["first_response"]
    for name in ACCESSORS:
        assert isinstance(vars(sla.CycleResult)[name], property), name
        assert vars(sla.CycleResult)[name].__doc__, f"{name} has no docstring"
    # Still a plain named tuple: no instance dict, no new fields, the size of its fields.
    assert sla.CycleResult.__slots__ == ()
    assert not hasattr(result, "__dict__")
    assert not set(ACCESSORS) & set(sla.CycleResult._fields)
    assert sys.getsizeof(result) == sys.getsizeof(tuple(result))
    assert len(result) == 15
    # The rows of `sla evaluate` are unchanged: instants as text, durations in seconds.
    assert set(result.to_row()) == {
        "ticket_id",
        "policy",
        "metric",
        "cycle",
        "started_at",
        "ended_at",
        "state",
        "target_seconds",
        "hours",
        "elapsed_seconds",
        "remaining_seconds",
        "breached",
        "due_at",
        "paused_seconds",
        "paused",
    }


# ------------------------------------------------- what the docs import
def _doc_imports() -> list[tuple[str, str, str]]:
    """(page, module, name) of every ``from sla... import name`` in a python block."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            for node in ast.walk(ast.parse(block)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sla":
                    found += [(page.name, node.module or "", alias.name) for alias in node.names]
    return found


# Cluster drivers: optional extras (pyspark, dask) that `import sla` must not pull in.
OPTIONAL_MODULES = {"sla.adapters.spark", "sla.adapters.dask"}


def test_the_api_pages_import_only_public_names():
    imports = [item for item in _doc_imports() if item[0] in ("README.md", "embedding.md", "api.md")]
    assert imports, "the pages import something"
    for page, module, name in imports:
        assert module == "sla", f"{page}: from {module} import {name}; import it from sla"
        assert not name.startswith("_") and name in sla.__all__, f"{page}: {name} is not public"


@pytest.mark.parametrize("item", _doc_imports(), ids=lambda item: f"{item[0]}:{item[1]}.{item[2]}")
def test_every_name_the_docs_import_is_public_somewhere(item):
    page, module, name = item
    assert not name.startswith("_"), f"{page} imports the private {module}.{name}"
    if module == "sla" or module in OPTIONAL_MODULES:
        return
    public = getattr(sla, name, None)
    assert public is not None, f"{page}: {module}.{name} is not re-exported from sla"
    assert public is getattr(__import__(module, fromlist=[name]), name)


def test_the_report_names_are_public_and_lazy():
    import subprocess

    code = (
        "import sys, sla; before = {m for m in sys.modules if m.startswith('sla.report')}; "
        "from sla import build_report, write_report, Report, ReportError; "
        "import sla.report.figures as f, sla.report.formats as w, sla.report as r; "
        "assert build_report is f.build_report is r.build_report and write_report is w.write_report; "
        "assert Report is r.Report and ReportError is r.ReportError; print(sorted(before))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"  # `import sla` loads no report module
    assert {"build_report", "write_report", "Report", "ReportError", "read_jsonl", "TicketEvents"} <= set(
        dir(sla)
    )
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sla.nothing  # noqa: B018
    assert sla.read_jsonl is __import__("sla.engine.jsonl", fromlist=["read_jsonl"]).read_jsonl


def test_every_public_name_is_on_the_api_page():
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: sla\.(\w+)", page, re.M))
    assert documented == set(sla.__all__)
    members = re.search(r"::: sla\.CycleResult\n(.*?)\n\n:::", page, re.S)
    assert members is not None
    assert all(f"- {name}\n" in members.group(1) for name in ACCESSORS)


def test_now_is_exact_for_datetimes_too():
    now = datetime(2026, 3, 2, 8, 30, 0, 1, tzinfo=UTC)
    first = rows(now.isoformat())["first_response"]
    assert first.started + first.elapsed == now == from_us(parse_instant(now.isoformat()))
