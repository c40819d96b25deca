"""The command line: formats, exit statuses, explain, generate."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from sla.cli.app import main

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture()
def example(tmp_path: Path) -> dict[str, str]:
    import yaml

    doc = yaml.safe_load((SCENARIOS / "spec-reopen-retarget.yaml").read_text())
    policy = tmp_path / "policy.yaml"
    policy.write_text(doc["policy"])
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in doc["events"]))
    return {
        "policies": str(policy),
        "events": str(events),
        "now": doc["now"],
        "expected": doc["expected"],
        "dir": str(tmp_path),
    }


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_jsonl_csv_and_table_carry_the_same_rows(example, capsysbinary):
    base = [
        "evaluate",
        "--policies",
        example["policies"],
        "--events",
        example["events"],
        "--now",
        example["now"],
    ]
    assert main(base + ["--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsysbinary.readouterr().out.decode().splitlines()]
    assert rows == example["expected"]
    assert main(base + ["--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode())))
    assert len(table) == len(rows)
    for row, line in zip(rows, table, strict=False):
        assert line["ticket_id"] == row["ticket_id"] and line["state"] == row["state"]
        assert float(line["elapsed_seconds"]) == row["elapsed_seconds"]
        assert line["breached"] == str(row["breached"]).lower()
        assert json.loads(line["paused"]) == row["paused"]
        assert (line["due_at"] or None) == row["due_at"]
    assert main(base + ["--format", "table"]) == 0
    text = capsysbinary.readouterr().out.decode()
    breached_lines = [line for line in text.splitlines() if line.startswith("!")]
    assert len(breached_lines) == sum(r["breached"] for r in rows) == 1
    assert "B" in breached_lines[0] and "first_response" in breached_lines[0]


def test_output_file_and_default_now(example, capsys, tmp_path):
    out = tmp_path / "rows.jsonl"
    status, stdout, _ = run(
        capsys,
        "evaluate",
        "--policies",
        example["policies"],
        "--events",
        example["events"],
        "--now",
        example["now"],
        "--output",
        str(out),
    )
    assert status == 0 and stdout == ""
    assert [json.loads(line) for line in out.read_text().splitlines()] == example["expected"]
    # Without --now the current time is used: every cycle still open years later is breached.
    status, stdout, _ = run(
        capsys, "evaluate", "--policies", example["policies"], "--events", example["events"]
    )
    assert status == 0
    assert all(json.loads(line)["state"] in ("achieved", "breached") for line in stdout.splitlines())


def test_bad_policy_is_refused_before_events_are_read(tmp_path, capsys):
    policy = tmp_path / "bad.yaml"
    policy.write_text("policies:\n  - name: x\n    targets: {first_response: 1x}\n")
    status, _, err = run(
        capsys, "evaluate", "--policies", str(policy), "--events", str(tmp_path / "missing.jsonl")
    )
    assert status == 2
    assert "bad.yaml:3" in err and "first_response" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["evaluate", "--policies", "{p}", "--events", "{e}", "--now", "2026-03-02T10:00:00"], "--now"),
        (["evaluate", "--policies", "{p}", "--events", "{d}/nope.jsonl"], "no such file"),
        (["evaluate", "--policies", "{d}/nope.yaml", "--events", "{e}"], "no such file"),
        (["evaluate", "--policies", "{p}", "--events", "{e}", "--format", "xml"], "invalid choice"),
        (["explain", "--policies", "{p}", "--events", "{e}", "--ticket", "ZZZ"], "ZZZ"),
        ([], "usage"),
    ],
)
def test_usage_errors_exit_2(example, capsys, argv, needle):
    argv = [a.format(p=example["policies"], e=example["events"], d=example["dir"]) for a in argv]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert needle in err and "Traceback" not in err


def test_help_answers_for_every_subcommand(capsys):
    for command in (
        "validate",
        "evaluate",
        "report",
        "explain",
        "compare",
        "calendar",
        "import",
        "reconcile",
        "schema",
        "generate",
    ):
        assert main([command, "--help"]) == 0
        assert command in capsys.readouterr().out


def test_explain_tells_the_story_of_a_breach(example, capsys):
    status, out, _ = run(
        capsys,
        "explain",
        "--policies",
        example["policies"],
        "--events",
        example["events"],
        "--now",
        example["now"],
        "--ticket",
        "B",
        "--tz",
        "UTC",
    )
    assert status == 0
    assert 'update {"priority": "urgent"}' in out
    assert "policy 'desk' is in force" in out
    assert "BREACHED: the target was reached at 2026-03-09 14:00:00Z" in out
    assert (
        "re-targeted at 2026-03-09 14:00:00Z: policy 'desk', target 8h (business hours) -> "
        "policy 'desk', target 1h (business hours)"
    ) in out
    assert "target 1h in business hours on calendar 'new-york'" in out


def test_explain_names_the_policies_that_did_not_match(tmp_path, capsys):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "policies:\n  - name: social\n    match: {channel: [twitter]}\n    targets: {first_response: 1h}\n"
        "  - name: vip\n    match: {vip: true}\n    targets: {first_response: 1h}\n"
    )
    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"ticket_id": "T", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"channel": "email"}}\n'
    )
    status, out, _ = run(
        capsys,
        "explain",
        "--policies",
        str(policy),
        "--events",
        str(events),
        "--now",
        "2026-03-02T09:00:00Z",
        "--ticket",
        "T",
    )
    assert status == 0
    assert "policy 'social' does not match: channel is 'email', so not: channel = twitter" in out
    assert "policy 'vip' does not match: the ticket has no 'vip'" in out
    assert "no policy matches" in out


def test_generate_is_deterministic_and_valid(tmp_path, capsys):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["generate", "--tickets", "300", "--seed", "7", "--output", str(first)]) == 0
    assert main(["generate", "--tickets", "300", "--seed", "7", "--output", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text().splitlines()
    assert 300 * 5 < len(lines) < 300 * 9
    from sla.engine.jsonl import read_jsonl

    tickets, errors = read_jsonl(lines)
    assert not errors and len(tickets) == 300
    assert all(t.error is None for t in tickets.values())


def test_console_script_is_installed():
    assert shutil.which("sla") or Path(__file__).parents[1].joinpath(".venv/bin/sla").exists()


def test_unreadable_events_are_a_usage_error_not_a_traceback(example, capsys, tmp_path):
    status, _, err = run(capsys, "evaluate", "--policies", example["policies"], "--events", str(tmp_path))
    assert status == 2 and "Is a directory" in err and "Traceback" not in err
    status, _, err = run(capsys, "report", "--policies", example["policies"], "--events", str(tmp_path))
    assert status == 2 and "Traceback" not in err


def test_evaluate_reads_csv_and_writes_parquet(example, capsysbinary, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    events = [json.loads(line) for line in Path(example["events"]).read_text().splitlines()]
    csv_path = tmp_path / "events.csv"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "at", "type", "fields", "status", "author", "public", "score"])
        for e in events:
            writer.writerow(
                [
                    e["ticket_id"],
                    e["at"],
                    e["type"],
                    json.dumps(e["fields"]) if "fields" in e else "",
                    e.get("status", ""),
                    e.get("author", ""),
                    "",
                    e.get("score", ""),
                ]
            )
    out = tmp_path / "rows.parquet"
    assert (
        main(
            [
                "evaluate",
                "--policies",
                example["policies"],
                "--events",
                str(csv_path),
                "--now",
                example["now"],
                "--format",
                "parquet",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    rows = pq.read_table(out).to_pylist()
    assert [(r["ticket_id"], r["metric"], r["state"]) for r in rows] == [
        (r["ticket_id"], r["metric"], r["state"]) for r in example["expected"]
    ]
