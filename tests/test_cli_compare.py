"""``sla compare`` on the command line: the bundled samples under a policy and
a tightened copy of it, every format, --jobs, rejections and usage errors."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import orjson
import pytest
import yaml

from sla.cli.app import main
from sla.io import pipeline
from sla.io.generate import generate
from sla.policy.duration import parse_duration_us

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "policies" / "b2b-tiers.yaml"
EVENTS = ROOT / "samples" / "events.jsonl"
NOW = "2026-04-01T00:00:00Z"


def _halved(value: object) -> object:
    """A target (a duration, ``{within, hours}`` or per-priority values) at half its length."""
    if isinstance(value, dict) and "within" in value:
        return {**value, "within": _halved(value["within"])}
    if isinstance(value, dict):
        return {key: _halved(item) for key, item in value.items()}
    return f"{parse_duration_us(value) // 2_000_000}s"


@pytest.fixture(scope="module")
def tightened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """b2b-tiers with the business policy's first_response targets halved, renamed business-v2."""
    doc = yaml.safe_load(POLICY.read_text())
    (business,) = [p for p in doc["policies"] if p["name"] == "business"]
    business["name"] = "business-v2"
    business["targets"]["first_response"] = _halved(business["targets"]["first_response"])
    path = tmp_path_factory.mktemp("policies") / "tightened.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, str]:
    status = main(list(argv))
    out = capsysbinary.readouterr()
    return status, out.out, out.err.decode()


def compare_json(capsysbinary, after: Path, *extra: str) -> dict:
    status, out, err = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(after), "--events", str(EVENTS)),
        *("--now", NOW, "--format", "json", *extra),
    )
    assert status == 0, err
    return json.loads(out)


def test_identical_files_change_nothing(capsysbinary):
    data = compare_json(capsysbinary, POLICY, "--by", "tier")
    assert data["changes"] == {"newly_breached": 0, "no_longer_breached": 0, "new": 0, "dropped": 0}
    assert data["changed_cycles"] == [] and data["unlisted"] == 0
    assert data["sla"] and all(row["delta_points"] == 0 for row in data["sla"] + data["overall"])
    assert all(row["before"] == row["after"] for row in data["sla"])


def test_a_tightened_target_only_breaches_more(capsysbinary, tightened):
    data = compare_json(capsysbinary, tightened, "--by", "tier")
    changes = data["changes"]
    assert changes["newly_breached"] > 0
    assert changes["no_longer_breached"] == changes["new"] == changes["dropped"] == 0
    for change in data["changed_cycles"]:
        assert change["metric"] == "first_response" and change["change"] == "newly_breached"
        assert change["before"]["state"] != "breached" and change["after"]["state"] == "breached"
        assert change["before"]["policy"] == "business" and change["after"]["policy"] == "business-v2"
        assert change["after"]["target_seconds"] * 2 == change["before"]["target_seconds"]
        assert change["text"].startswith(f"{change['ticket_id']} first_response #{change['cycle']}: ")
    changed = {(r["group"]["tier"], r["metric"]) for r in data["sla"] if r["delta_points"] != 0}
    assert changed == {("business", "first_response")}


def test_the_figures_and_deltas_are_those_of_two_reports(capsysbinary, tightened):
    data = compare_json(capsysbinary, tightened, "--by", "tier")
    reports = []
    for policy in (POLICY, tightened):
        status, out, _ = run(
            capsysbinary,
            *("report", "--policies", str(policy), "--events", str(EVENTS), "--now", NOW),
            *("--by", "tier", "--format", "json"),
        )
        assert status == 0
        reports.append({(json.dumps(r["group"]), r["metric"]): r for r in json.loads(out)["sla"]})
    assert len(data["sla"]) == len(reports[0]) == len(reports[1])
    for row in data["sla"]:
        key = (json.dumps(row["group"]), row["metric"])
        before, after = reports[0][key], reports[1][key]
        for side, report_row in (("before", before), ("after", after)):
            for figure in ("cycles", "achieved", "breached", "compliance"):
                assert row[side][figure] == report_row[figure]
        assert row["delta_points"] == pytest.approx(100 * (after["compliance"] - before["compliance"]))
    newly = sum(r["after"]["breached"] - r["before"]["breached"] for r in data["sla"])
    assert newly == data["changes"]["newly_breached"]


def _generated(tmp_path: Path, shuffled: bool) -> Path:
    lines = [orjson.dumps(e) for e in generate(1500, seed=7)]
    if shuffled:
        lines = lines[1::2] + lines[::2]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("shuffled", [False, True], ids=["grouped", "shuffled"])
def test_jobs_give_the_same_output(capsysbinary, tightened, tmp_path, monkeypatch, shuffled):
    events = _generated(tmp_path, shuffled)
    argv = ["compare", "--policies", str(POLICY), "--against", str(tightened), "--events", str(events)]
    argv += ["--now", NOW, "--by", "tier,priority"]
    outputs = {}
    for fmt in ("json", "table"):
        status, outputs[fmt, 1], _ = run(capsysbinary, *argv, "--format", fmt, "--jobs", "1")
        assert status == 0
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 100_000)
    pools = []
    pool = pipeline._pool
    monkeypatch.setattr(pipeline, "_pool", lambda *a: pools.append(1) or pool(*a))
    for fmt in ("json", "table"):
        status, outputs[fmt, 2], _ = run(capsysbinary, *argv, "--format", fmt, "--jobs", "2")
        assert status == 0
    assert pools, "the parallel path was not taken"
    assert outputs["json", 2] == outputs["json", 1]
    assert outputs["table", 2] == outputs["table", 1]
    data = json.loads(outputs["json", 1])
    assert data["changes"]["newly_breached"] > 0 and data["tickets"] == 1500


def test_table_format(capsysbinary, tightened):
    status, out, _ = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(tightened), "--events", str(EVENTS)),
        *("--now", NOW, "--by", "tier", "--format", "table"),
    )
    text = out.decode()
    assert status == 0
    assert text.startswith(f"SLA compare as of {NOW}: 500 tickets, 0 rejected\n")
    assert f"before: {POLICY}\nafter:  {tightened}\n" in text
    assert re.search(r"^first_response +business +153 +153 +\S+% +\S+% +-\d+\.\d$", text, re.M)
    assert re.search(r"^first_response +\(all\) +500 +500 ", text, re.M)
    assert "0 no longer breached, 0 new, 0 dropped" in text
    lines = [line for line in text.splitlines() if line.startswith("  T")]
    assert lines and all(
        re.fullmatch(
            r'  T\d+ first_response #\d+: \w+ under "business" \(\S+ target, \S+ business\) '
            r'-> breached under "business-v2" \(\S+ target, \S+ business\)',
            line,
        )
        for line in lines
    )


def test_csv_format(capsysbinary, tightened, tmp_path):
    target = tmp_path / "compare.csv"  # the suffix picks the format
    status, out, _ = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(tightened), "--events", str(EVENTS)),
        *("--now", NOW, "--by", "tier", "--output", str(target)),
    )
    assert status == 0 and out == b""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    data = compare_json(capsysbinary, tightened, "--by", "tier")
    assert [r for r in rows if r["section"] == "sla"][0]["group"] == json.dumps(
        data["sla"][0]["group"], separators=(",", ":")
    )
    assert len([r for r in rows if r["section"] == "sla"]) == len(data["sla"])
    assert len([r for r in rows if r["section"] == "overall"]) == len(data["overall"])
    cycles = [r for r in rows if r["section"] == "cycle"]
    assert [r["ticket_id"] for r in cycles] == [c["ticket_id"] for c in data["changed_cycles"]]
    assert all(r["before_hours"] == "business" and r["group"] == "" for r in cycles)


def test_html_is_one_self_contained_page(capsysbinary, tightened, tmp_path):
    target = tmp_path / "compare.html"
    status, _, _ = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(tightened), "--events", str(EVENTS)),
        *("--now", NOW, "--by", "tier", "--output", str(target)),
    )
    page = target.read_text()
    assert status == 0 and page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page and "url(" not in page and "@import" not in page
    assert "<svg" in page and 'class="changes newly_breached"' in page and "business-v2" in page


def test_rejected_tickets_exit_1_and_the_rest_is_compared(capsysbinary, tmp_path):
    events = tmp_path / "events.jsonl"
    lines = EVENTS.read_text().splitlines()
    bad = json.dumps({"ticket_id": "BAD", "at": "2026-03-02T08:00:00", "type": "created", "fields": {}})
    events.write_text("\n".join([*lines, bad, "not json"]) + "\n")
    rejects = tmp_path / "rejects.txt"
    status, out, err = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(POLICY), "--events", str(events)),
        *("--now", NOW, "--format", "json", "--rejects", str(rejects)),
    )
    assert status == 1
    data = json.loads(out)
    assert data["tickets"] == 500 and data["rejected"] == 1
    assert f"rejected: line {len(lines) + 1}: ticket BAD: " in err
    assert "1 ticket(s) and 1 line(s) rejected" in err
    assert len(rejects.read_text().splitlines()) == 2


BAD_POLICY = "policies:\n  - name: x\n    targets: {first_response: 1 hour}\n"


@pytest.mark.parametrize("which", ["--policies", "--against", "both"])
def test_a_bad_policy_file_exits_2_before_reading_events(capsysbinary, tmp_path, which):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_POLICY)
    before = bad if which in ("--policies", "both") else POLICY
    after = bad if which in ("--against", "both") else POLICY
    status, out, err = run(
        capsysbinary,
        *("compare", "--policies", str(before), "--against", str(after)),
        *("--events", str(tmp_path / "missing.jsonl")),  # never looked at
    )
    assert status == 2 and out == b""
    assert re.search(rf"^{re.escape(str(bad))}:3:\d+: ", err, re.M), err
    assert "missing.jsonl" not in err
    assert err.count(f"{bad}:3:") == (2 if which == "both" else 1)


def test_a_bad_policy_file_is_told_beside_a_missing_one(capsysbinary, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_POLICY)
    status, out, err = run(
        capsysbinary,
        *("compare", "--policies", str(bad), "--against", str(tmp_path / "nope.yaml")),
        *("--events", str(EVENTS)),
    )
    assert status == 2 and out == b""
    assert f"{bad}:3:" in err and "--against: no such file" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--against", "nope.yaml"], "--against: no such file: nope.yaml"),
        (["--against", str(POLICY), "--by", "tier,tier"], "--by names a key twice"),
        (["--against", str(POLICY), "--format", "xml"], "invalid choice"),
        (["--against", str(POLICY), "--output", "x.csv", "--format", "json"], "contradicts --output"),
        (["--against", str(POLICY), "--output", str(EVENTS)], "is the input file"),
        (["--against", str(POLICY), "--now", "yesterday"], "--now:"),
        (["--against", str(POLICY), "--jobs", "0"], "expected a whole number above 0"),
        (["--against", str(POLICY), "--by", "a", "--by", "b"], "--by is given twice"),
        ([], "the following arguments are required: --against"),
    ],
)
def test_usage_errors_exit_2(capsysbinary, extra, message):
    status, out, err = run(
        capsysbinary, "compare", "--policies", str(POLICY), "--events", str(EVENTS), *extra
    )
    assert status == 2 and out == b""
    assert message in err


def test_without_format_a_pipe_gets_json(capsysbinary):
    status, out, _ = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(POLICY), "--events", str(EVENTS)),
        *("--now", NOW),
    )
    assert status == 0 and json.loads(out)["tickets"] == 500


def test_csv_input_with_a_column_map(capsysbinary, tightened):
    """--map reads a helpdesk export's own columns, as for sla report."""
    mapped = (
        "--events",
        str(ROOT / "samples" / "flat-events.csv"),
        "--map",
        str(ROOT / "samples" / "flat-map.yaml"),
    )
    status, out, err = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(tightened), *mapped),
        *("--now", NOW, "--format", "json"),
    )
    assert status == 0, err
    status, report, _ = run(
        capsysbinary, "report", "--policies", str(POLICY), *mapped, "--now", NOW, "--format", "json"
    )
    assert status == 0
    data, report_data = json.loads(out), json.loads(report)
    assert data["tickets"] == report_data["tickets"] > 0
    assert [r["before"]["cycles"] for r in data["sla"]] == [r["cycles"] for r in report_data["sla"]]
    status, _, err = run(
        capsysbinary,
        *("compare", "--policies", str(POLICY), "--against", str(tightened), "--events", str(EVENTS)),
        *("--map", str(ROOT / "samples" / "flat-map.yaml")),
    )
    assert status == 2 and "--map reads the columns of CSV input" in err
