"""Scenario files: a policy, events, ``now`` and the expected rows.

Each file in tests/scenarios/ runs through the CLI (``sla evaluate --format
jsonl``).  ``expected`` rows may list a subset of fields; the number and
order of rows must match exactly.  ``rejected`` lists the ticket ids (or
``line N``) that must be reported on standard error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sla.cli.app import main

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


def _events_text(doc: dict) -> str:
    if "events_jsonl" in doc:
        return doc["events_jsonl"]
    return "".join(json.dumps(e) + "\n" for e in doc["events"])


def _same(want: object, got: object) -> bool:
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(want) == float(got)
    return want == got


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, tmp_path: Path, capsysbinary) -> None:
    doc = yaml.safe_load(path.read_text())
    policy = tmp_path / "policy.yaml"
    policy.write_text(doc["policy"])
    events = tmp_path / "events.jsonl"
    events.write_text(_events_text(doc))
    status = main(["evaluate", "--policies", str(policy), "--events", str(events), "--now", doc["now"]])
    captured = capsysbinary.readouterr()
    rows = [json.loads(line) for line in captured.out.decode().splitlines() if line.strip()]
    stderr = captured.err.decode()
    expected = doc.get("expected") or []
    assert len(rows) == len(expected), f"{len(rows)} rows, expected {len(expected)}:\n" + "\n".join(
        map(str, rows)
    )
    for index, (want, got) in enumerate(zip(expected, rows, strict=False)):
        for key, value in want.items():
            assert _same(value, got.get(key)), (
                f"row {index} ({got['ticket_id']} {got['metric']} #{got['cycle']}) {key}: want {value!r}, got {got.get(key)!r}"
            )
    rejected = doc.get("rejected") or []
    for item in rejected:
        needle = item if item.startswith("line ") else f"ticket {item}"
        assert needle in stderr, f"{needle!r} not reported on stderr:\n{stderr}"
    assert status == (1 if rejected else 0), stderr
