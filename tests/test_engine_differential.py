"""The compiled and the interpreted engine give byte-identical output.

``setup.py`` compiles the engine's hot modules with mypyc from the same
source; this test runs ``sla evaluate`` and ``sla report`` twice on random
histories (``sla generate`` with several seeds, then damaged with bad lines,
bad events, reordered and ungrouped tickets) under every example policy
file (first and second edition): once as installed, once with the compiled
modules bypassed (tests/engine_shim.py), and compares standard output,
standard error and the exit status.

Where the package is installed without the compiled modules (no C
compiler, ``SLA_NO_COMPILE=1``) both runs are interpreted and the test is
skipped, unless ``SLA_REQUIRE_COMPILED=1`` makes that a failure (CI sets
it, so a silently failed compile cannot pass unnoticed).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import sla.engine
import sla.importers
import sla.report
from sla.engine import engine_kind

ROOT = Path(__file__).resolve().parent.parent
SHIM = Path(__file__).resolve().parent / "engine_shim.py"
POLICIES = sorted((ROOT / "policies").glob("*.yaml")) + [
    ROOT / "benchmarks" / "scale-policy.yaml",
    ROOT / "benchmarks" / "second-edition-policy.yaml",
]
COMPILED = engine_kind() == "compiled"

needs_compiled = pytest.mark.skipif(
    not COMPILED and os.environ.get("SLA_REQUIRE_COMPILED", "") in ("", "0"),
    reason="the compiled engine is not installed (both runs would be interpreted)",
)


def test_the_shim_bypasses_exactly_the_compiled_modules():
    sys.path.insert(0, str(SHIM.parent))
    try:
        import engine_shim
    finally:
        sys.path.remove(str(SHIM.parent))
    compiled = sla.engine.COMPILED_MODULES + sla.report.COMPILED_MODULES + sla.importers.COMPILED_MODULES
    assert compiled == engine_shim.COMPILED_MODULES
    # setup.py cannot import sla either: its list of files must name the same modules
    import ast

    tree = ast.parse((SHIM.parents[1] / "setup.py").read_text())
    (files,) = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMPILED" for t in node.targets)
    ]
    assert tuple(f.removesuffix(".py").replace("/", ".") for f in files) == compiled
    code = (
        f"import sys; sys.path.insert(0, {str(SHIM.parent)!r}); import engine_shim; engine_shim.install(); "
        "import sla.engine, sla.importers, sla.report; "
        "print(sla.engine.engine_kind(), sla.report.report_kind(), sla.importers.importer_kind())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "interpreted interpreted interpreted"


def test_the_installed_engine_is_compiled_when_required():
    if os.environ.get("SLA_REQUIRE_COMPILED", "") not in ("", "0"):
        assert COMPILED, "SLA_REQUIRE_COMPILED is set but the engine runs interpreted"
        assert sla.importers.importer_kind() == "compiled", (
            "SLA_REQUIRE_COMPILED is set but not the importers"
        )
        assert sla.report.report_kind() == "compiled", (
            "SLA_REQUIRE_COMPILED is set but not the report's tallies"
        )


def _damage(lines: list[bytes], rng: random.Random) -> list[bytes]:
    """Bad lines and bad events among good ones, a few tickets out of order
    and one ticket's line moved to the end (the input is then not grouped)."""
    out: list[bytes] = []
    for line in lines:
        roll = rng.random()
        if roll > 0.06:
            out.append(line)
            continue
        record = orjson.loads(line)
        choice = rng.randrange(12)
        if choice == 0:
            record["at"] = rng.choice(["yesterday", "2026-02-30T10:00:00Z", "2026-01-10T10:00:00", 5, None])
        elif choice == 1:
            record["type"] = rng.choice(["bogus", "Created", 3])
        elif choice == 2:
            continue  # dropped: maybe the created event
        elif choice == 3:
            out.append(rng.choice([b"{not json", b"[1, 2]", b'{"at": "2026-01-10T10:00:00Z"}', b'"text"']))
        elif choice == 4:
            record["author"] = rng.choice(["robot", None, ["agent"]])
        elif choice == 5:
            out.append(line)  # twice: a second created event, or a repeated one
        elif choice == 6:
            record["at"] = "2025-12-01T00:00:00Z"  # before its creation, or a ticket out of order
        elif choice == 7:
            record["fields"] = rng.choice([[1], "x", None])
        elif choice == 8:
            record["time_spent"] = rng.choice([-1, "5", 1e400, 30, 2.5])
        elif choice == 9:
            record["sentiment"] = rng.choice([2, -0.5, "good", None])
        elif choice == 10 and out:
            out.insert(len(out) - 1, orjson.dumps(record))  # one line earlier: order within a ticket
            continue
        else:
            record["at"] = record.get("at", "2026-01-10T10:00:00Z")
            if isinstance(record["at"], str) and record["at"].endswith("Z"):
                record["at"] = record["at"][:-1] + ".250000+00:00"  # a fraction and an offset
        out.append(orjson.dumps(record))
    if len(out) > 10:
        out.append(out.pop(len(out) // 2))  # ungrouped: streaming gives way to sorting
    return out


def _history(tmp_path: Path, seed: int, tickets: int, damaged: bool) -> Path:
    plain = tmp_path / f"plain-{seed}.jsonl"
    subprocess.run(
        [sys.executable, "-m", "sla.cli", "generate", "--tickets", str(tickets), "--seed", str(seed)]
        + ["--output", str(plain)],
        check=True,
    )
    if not damaged:
        return plain
    lines = plain.read_bytes().splitlines()
    path = tmp_path / f"damaged-{seed}.jsonl"
    path.write_bytes(b"\n".join(_damage(lines, random.Random(seed))) + b"\n")
    return path


def _run(interpreted: bool, words: list[str], cwd: Path) -> tuple[int, bytes, bytes]:
    prefix = [sys.executable, str(SHIM)] if interpreted else [sys.executable, "-m", "sla.cli"]
    done = subprocess.run(prefix + words, capture_output=True, cwd=cwd)
    return done.returncode, done.stdout, done.stderr


@needs_compiled
@pytest.mark.parametrize(
    ("seed", "tickets", "damaged", "now"),
    [
        (11, 400, True, "2026-02-20T12:00:00Z"),
        (12, 300, False, "2026-03-09T09:30:00Z"),
        (13, 300, True, "2026-06-01T00:00:00Z"),
    ],
)
def test_compiled_and_interpreted_engines_agree(
    tmp_path: Path, seed: int, tickets: int, damaged: bool, now: str
):
    history = _history(tmp_path, seed, tickets, damaged)
    rng = random.Random(seed)
    policies = rng.sample(POLICIES, 4) if seed != 11 else POLICIES
    for policy in policies:
        commands = [
            ["evaluate", "--policies", str(policy), "--events", str(history), "--now", now, "--jobs", "1"],
            ["report", "--policies", str(policy), "--events", str(history), "--now", now]
            + ["--by", "priority", "--period", "month", "--format", "json", "--jobs", "1"],
            # the report's compiled tallies and local time: another zone, weeks, the policy as a group
            ["report", "--policies", str(policy), "--events", str(history), "--now", now]
            + ["--by", "policy,channel", "--period", "week", "--tz", "America/New_York", "--format", "json"],
        ]
        for words in commands:
            compiled = _run(False, words, tmp_path)
            interpreted = _run(True, words, tmp_path)
            assert compiled[0] in (0, 1), compiled[2].decode()
            assert compiled[1], f"{policy.name}: no output"
            assert compiled == interpreted, f"{policy.name}: {' '.join(words[:1])} differs"


@needs_compiled
def test_engines_agree_on_times_beyond_2_53_microseconds(tmp_path: Path):
    """Cycles open for centuries, with fractions of a second: elapsed times
    past 2**53 µs, where compiled ``int / int`` would round twice."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {first_response: 1h, resolution: 1d}\n")
    events = [
        {"ticket_id": "OLD", "at": "1700-01-01T00:00:00.250000Z", "type": "created", "fields": {}},
        {"ticket_id": "OLD", "at": "1700-01-01T00:00:01Z", "type": "message", "author": "customer"},
        {"ticket_id": "OLDER", "at": "1601-03-04T05:06:07.123456Z", "type": "created", "fields": {}},
        {"ticket_id": "OLDER", "at": "1999-12-31T23:59:59.5Z", "type": "message", "author": "agent"},
    ]
    history = tmp_path / "old.jsonl"
    history.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    common = ["--policies", str(policy), "--events", str(history), "--now", "2026-04-01T00:00:00.000001Z"]
    for words in (["evaluate", *common], ["report", *common, "--format", "json"]):
        compiled = _run(False, words, tmp_path)
        assert compiled == _run(True, words, tmp_path), words[0]
        assert compiled[0] == 0, compiled[2].decode()
    rows = [orjson.loads(line) for line in _run(False, ["evaluate", *common], tmp_path)[1].splitlines()]
    assert [r["elapsed_seconds"] > 2**53 / 1_000_000 for r in rows if r["ticket_id"] == "OLD"] == [True, True]
