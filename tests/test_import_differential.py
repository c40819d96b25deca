"""The compiled and the interpreted importers give byte-identical output,
and no damaged export makes either of them fail.

``setup.py`` compiles the Zendesk importer and the import driver
(:data:`sla.importers.COMPILED_MODULES`) with mypyc from the same source.
This test runs ``sla import zendesk`` (one process and two) and ``sla
reconcile zendesk`` on Zendesk exports (the fixtures, a generated export)
and on copies damaged at random (values of the wrong type, bad instants,
keys dropped, children that are not objects, truncated files), once as
installed and once with every compiled module bypassed
(tests/engine_shim.py), and compares the output file, standard output,
standard error and the exit status. Whatever the damage, neither run may
end in an internal error: bad records are skipped and counted.

Where the package is installed without the compiled modules both runs are
interpreted; the comparison is then skipped (unless ``SLA_REQUIRE_COMPILED=1``)
but the damaged exports still run, for the no-internal-error property.
"""

from __future__ import annotations

import copy
import gzip
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sla.importers import importer_kind
from sla.io.generate import write_history

ROOT = Path(__file__).resolve().parent.parent
SHIM = Path(__file__).resolve().parent / "engine_shim.py"
FIXTURES = ROOT / "tests" / "fixtures"
NOW = "2024-06-01T00:00:00Z"
COMPARE = importer_kind() == "compiled" or os.environ.get("SLA_REQUIRE_COMPILED", "") not in ("", "0")

#: Values put in place of a record's values: every JSON type, bad instants
#: and ids, numbers too large for 64 bits, texts that look like numbers.
JUNK: list[object] = [
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    "",
    "x",
    "12",
    "2026-02-30T10:00:00Z",
    "2024-01-10T10:00:00",
    "yesterday",
    [],
    [1, "a"],
    {},
    {"id": None},
]


def _damage_value(value: object, rng: random.Random, rate: float) -> object:
    """``value`` with some of its nested values replaced, keys dropped,
    list items duplicated or dropped (``rate``: the chance at each node)."""
    if rng.random() < rate:
        return copy.deepcopy(rng.choice(JUNK))
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if rng.random() < rate / 2:
                continue  # a key dropped
            out[key] = _damage_value(item, rng, rate)
        return out
    if isinstance(value, list):
        items: list[object] = []
        for item in value:
            roll = rng.random()
            if roll < rate / 3:
                continue
            items.append(_damage_value(item, rng, rate))
            if roll > 1 - rate / 3:
                items.append(copy.deepcopy(item))  # a copy: read twice
        return items
    return value


_JSON_NAMES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")


def _damage_folder(source: Path, target: Path, seed: int, rate: float) -> None:
    """A copy of the export in ``source`` with its JSON and JSON Lines files
    damaged (gzip files are written back plain); one file in ten is cut short."""
    rng = random.Random(seed)
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or not path.name.endswith(_JSON_NAMES):
            continue
        relative = path.relative_to(source)
        out = target / relative.with_suffix("") if path.suffix == ".gz" else target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = data.decode()
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            lines = []
            for line in text.splitlines():
                if line.strip():
                    lines.append(json.dumps(_damage_value(json.loads(line), rng, rate)))
            text = "\n".join(lines) + "\n"
        else:
            text = json.dumps(_damage_value(json.loads(text), rng, rate))
        if rng.random() < 0.1:
            text = text[: len(text) * 2 // 3]
        out.write_text(text)


def _generated_export(folder: Path, tickets: int, seed: int) -> Path:
    """The Zendesk-shaped export of benchmarks/bench_import.py for a generated history."""
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "benchmarks" / "bench_import.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    history = folder / f"history-{seed}.jsonl"
    with open(history, "wb") as handle:
        write_history(handle, tickets=tickets, seed=seed)
    bench.PAGE = 40  # several pages, so that two processes each read some
    export = folder / f"generated-{seed}"
    bench.convert(history, export)
    return export


def _run(argv: list[str], cwd: Path, interpreted: bool) -> tuple[int, str, str, bytes]:
    """``sla argv`` as installed, or on the interpreted modules; its exit
    status, standard output and error, and the bytes of its output file."""
    out = cwd / ("interpreted.out" if interpreted else "installed.out")
    out.unlink(missing_ok=True)
    argv = [a.replace("{out}", str(out)) for a in argv]
    command = [sys.executable, str(SHIM)] if interpreted else [sys.executable, "-m", "sla.cli"]
    env = {**os.environ, "SLA_DEBUG": ""}
    done = subprocess.run([*command, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    written = out.read_bytes() if out.exists() else b""
    return done.returncode, done.stdout, done.stderr.replace(str(out), "{out}"), written


def _both(argv: list[str], cwd: Path) -> None:
    installed = _never_fails(argv, cwd)
    if COMPARE:
        interpreted = _run(argv, cwd, interpreted=True)
        assert installed[:3] == interpreted[:3]
        assert installed[3] == interpreted[3], "the output files differ"


def _never_fails(argv: list[str], cwd: Path) -> tuple[int, str, str, bytes]:
    """``sla argv`` as installed, which must end without an internal error:
    exit 0, or 1 with the records it skipped named."""
    installed = _run(argv, cwd, interpreted=False)
    assert "internal error" not in installed[2], installed[2]
    assert installed[0] in (0, 1), installed[2]  # 1: records skipped, named in the summary
    return installed


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated_export(tmp_path_factory.mktemp("generated"), tickets=150, seed=11)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_fixture_and_a_generated_export_import_alike(generated: Path, tmp_path: Path, jobs: str):
    both = tmp_path / "both"
    shutil.copytree(FIXTURES / "zendesk", both / "fixtures")
    shutil.copytree(generated, both / "generated")
    _both(["import", "zendesk", str(both), "--output", "{out}", "--jobs", jobs], tmp_path)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_damaged_exports_import_alike_and_never_fail(generated: Path, tmp_path: Path, seed: int):
    damaged = tmp_path / "damaged"
    _damage_folder(FIXTURES / "zendesk", damaged / "fixtures", seed, rate=0.04)
    _damage_folder(generated, damaged / "generated", seed, rate=0.01)
    for jobs in ("1", "2"):
        _both(["import", "zendesk", str(damaged), "--output", "{out}", "--jobs", jobs], tmp_path)


@pytest.mark.parametrize("seed", [0, 5])
def test_reconciliation_alike_on_the_fixture_and_damaged_copies(tmp_path: Path, seed: int):
    fixture = FIXTURES / "reconcile" / "zendesk"
    if seed:
        _damage_folder(fixture, tmp_path / "export", seed, rate=0.03)
    else:
        shutil.copytree(fixture, tmp_path / "export")
    policies = str(FIXTURES / "reconcile" / "policies.yaml")
    argv = ["reconcile", "zendesk", str(tmp_path / "export"), "--policies", policies, "--now", NOW]
    argv += ["--format", "json", "--output", "{out}"]
    _both(argv, tmp_path)


@pytest.mark.parametrize("vendor", ["jira", "freshdesk", "zammad"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_exports_of_the_other_vendors_never_fail(tmp_path: Path, vendor: str, seed: int):
    # These importers run interpreted only; the damage must still end in
    # skipped records, never in an internal error (a Zammad history whose
    # o_id was an object once did).
    _damage_folder(FIXTURES / vendor, tmp_path / "damaged", seed, rate=0.08)
    _never_fails(["import", vendor, str(tmp_path / "damaged"), "--output", "{out}"], tmp_path)
