"""Command-line options that say what they do: the version, numbers that
must be positive, an option given twice, and output formats that follow
the --output file's suffix (and refuse to contradict it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sla
from sla.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
COMMON = [
    "--policies",
    str(ROOT / "policies" / "ecommerce.yaml"),
    "--events",
    str(ROOT / "samples" / "events.jsonl"),
]
NOW = ["--now", "2026-04-01T00:00:00Z"]


def test_version(capsys):
    assert main(["--version"]) == 0
    from sla.engine import engine_kind
    from sla.importers import importer_kind
    from sla.report import report_kind

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        f"sla {sla.__version__}",
        f"engine: {engine_kind()}",
        f"report: {report_kind()}",
        f"importers: {importer_kind()}",
    ]
    assert engine_kind() in ("compiled", "interpreted")
    assert report_kind() in ("compiled", "interpreted")
    assert importer_kind() in ("compiled", "interpreted")


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "--tickets", "-5"],
        ["generate", "--tickets", "0"],
        ["evaluate", *COMMON, *NOW, "--jobs", "0"],
        ["evaluate", *COMMON, *NOW, "--jobs", "-3"],
        ["report", *COMMON, *NOW, "--jobs", "many"],
    ],
)
def test_numbers_below_one_are_usage_errors(argv, capsys):
    assert main(argv) == 2
    assert "expected a whole number above 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "twice",
    [["--now", "2026-05-01T00:00:00Z"], ["--now=2026-05-01T00:00:00Z"], ["--jobs", "1", "--jobs", "2"]],
)
def test_an_option_given_twice_is_a_usage_error(twice, capsys):
    assert main(["evaluate", *COMMON, *NOW, *twice]) == 2
    assert "is given twice" in capsys.readouterr().err


def test_generate_help_describes_every_option(capsys):
    assert main(["generate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "how many tickets (default 1000)" in out and "random seed (default 1)" in out
    assert "standard output" in out


@pytest.mark.parametrize(
    ("command", "name", "check"),
    [
        ("evaluate", "rows.csv", lambda b: b.startswith(b"ticket_id,policy,")),
        ("evaluate", "rows.jsonl", lambda b: json.loads(b.splitlines()[0])["ticket_id"]),
        ("evaluate", "rows.txt", lambda b: b"cycles," in b),
        ("evaluate", "rows.parquet", lambda b: b[:4] == b"PAR1"),
        ("report", "report.html", lambda b: b.lstrip().lower().startswith(b"<!doctype html")),
        ("report", "report.csv", lambda b: b"," in b.splitlines()[0] and not b.lstrip().startswith(b"{")),
        ("report", "report.json", lambda b: "tickets" in json.loads(b)),
    ],
)
def test_the_output_suffix_picks_the_format(tmp_path, command, name, check):
    out = tmp_path / name
    assert main([command, *COMMON, *NOW, "--output", str(out)]) == 0
    assert check(out.read_bytes())


@pytest.mark.parametrize(
    ("command", "name", "fmt"),
    [
        ("report", "report.html", "json"),
        ("evaluate", "rows.parquet", "jsonl"),
        ("evaluate", "rows.csv", "table"),
    ],
)
def test_a_format_that_contradicts_the_suffix_is_refused(tmp_path, capsys, command, name, fmt):
    out = tmp_path / name
    assert main([command, *COMMON, *NOW, "--output", str(out), "--format", fmt]) == 2
    assert "contradicts --output" in capsys.readouterr().err
    assert not out.exists()


def test_an_unknown_suffix_keeps_the_default(tmp_path):
    out = tmp_path / "rows.out"
    assert main(["evaluate", *COMMON, *NOW, "--output", str(out)]) == 0
    assert json.loads(out.read_bytes().splitlines()[0])["ticket_id"] == "T001"


# ------------------------------------------------------------ input that is not what it seems
def test_gzip_input_is_read_whatever_its_name(tmp_path, capsys):
    import gzip
    import shutil

    plain = ROOT / "samples" / "events.jsonl"
    assert main(["evaluate", "--policies", COMMON[1], "--events", str(plain), *NOW]) == 0
    want = capsys.readouterr().out
    for name in ("events.jsonl.gz", "events-without-suffix"):
        packed = tmp_path / name
        with plain.open("rb") as source, gzip.open(packed, "wb") as target:
            shutil.copyfileobj(source, target)
        assert main(["evaluate", "--policies", COMMON[1], "--events", str(packed), *NOW]) == 0
        assert capsys.readouterr().out == want
    assert main(["explain", "--policies", COMMON[1], "--events", str(packed), *NOW, "--ticket", "T001"]) == 0


def test_a_csv_file_read_as_jsonl_stops_with_a_hint(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text(
        "ticket_id,at,type\n" + "".join(f"T{i},2026-03-02T08:00:00Z,created\n" for i in range(100))
    )
    assert main(["evaluate", "--policies", COMMON[1], "--events", str(path), *NOW]) == 2
    err = capsys.readouterr().err
    assert "the first 20 lines are not JSON Lines; it looks like CSV" in err
    assert err.count("rejected:") == 0


def test_a_binary_file_is_named_as_such(tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\x00\x01\x02garbage\n" * 50)
    assert main(["evaluate", "--policies", COMMON[1], "--events", str(path), *NOW]) == 2
    assert "it looks like a binary file" in capsys.readouterr().err


def test_rejections_are_capped_on_stderr_and_all_written_with_rejects(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    bad = "".join(
        json.dumps({"ticket_id": f"X{i}", "at": "bad", "type": "created"}) + "\n" for i in range(45)
    )
    events.write_text(bad + (ROOT / "samples" / "events.jsonl").read_text())
    rejects = tmp_path / "rejects.txt"
    argv = ["evaluate", "--policies", COMMON[1], "--events", str(events), *NOW]
    assert main([*argv, "--rejects", str(rejects)]) == 1
    err = capsys.readouterr().err
    assert err.count("rejected: ") == 20 and "... and 25 more rejection(s)" in err
    assert len(rejects.read_text().splitlines()) == 45
    assert main(argv) == 1
    assert "--rejects FILE writes all of them" in capsys.readouterr().err


# ------------------------------------------------------------ --now as a date
def test_now_as_a_bare_date_is_midnight_utc(capsys):
    assert main(["evaluate", *COMMON, "--now", "2026-04-01T00:00:00Z"]) == 0
    want = capsys.readouterr().out
    assert main(["evaluate", *COMMON, "--now", "2026-04-01"]) == 0
    captured = capsys.readouterr()
    assert captured.out == want
    assert "note:" not in captured.err  # notes are for a terminal


def test_now_as_a_bare_date_is_midnight_in_the_reports_zone(capsys, monkeypatch):
    import sys

    argv = ["report", *COMMON, "--format", "json", "--tz", "Europe/Berlin"]
    assert main([*argv, "--now", "2026-03-31T22:00:00Z"]) == 0
    want = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main([*argv, "--now", "2026-04-01"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == want
    assert "note: --now 2026-04-01 is 2026-04-01T00:00:00+02:00 (2026-03-31T22:00:00Z)" in captured.err


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30"])
def test_an_impossible_date_for_now_is_a_usage_error(bad, capsys):
    assert main(["evaluate", *COMMON, "--now", bad]) == 2
    assert "--now:" in capsys.readouterr().err


def test_run_as_a_program_sla_freezes_what_start_up_made(tmp_path, monkeypatch, capsys):
    # As its own process (main() reading sys.argv), the objects of start-up
    # are moved out of the cyclic collector's reach; called in-process with
    # its arguments (tests, embedding code), the caller's objects are left alone.
    import gc

    policy = tmp_path / "p.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {first_response: 1h}\n")
    events = tmp_path / "e.jsonl"
    events.write_text('{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n')
    words = ["evaluate", "--policies", str(policy), "--events", str(events), "--now", "2026-03-02T09:00:00Z"]
    gc.unfreeze()
    try:
        assert main(words) == 0
        assert gc.get_freeze_count() == 0
        monkeypatch.setattr("sys.argv", ["sla", *words])
        assert main() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert capsys.readouterr().out.count('"ticket_id":"T1"') == 2


def test_a_command_loads_its_own_modules_only(tmp_path):
    """`sla evaluate` does not pay for the report, the importers, the other
    commands, the holidays package's 249 other countries or, without
    --map, the CSV mapping file's models."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys
        from sla.cli.app import main
        status = main({["evaluate", *COMMON, *NOW, "--output", str(tmp_path / "out.jsonl")]!r})
        print(status, sorted(m for m in sys.modules
                             if m.startswith(("sla.report", "sla.importers", "sla.cli.", "holidays.countries",
                                              "sla.io.csv_map"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split(" ", 1) == [
        "0",
        "['sla.cli.app', 'sla.cli.common', 'sla.cli.evaluate', 'sla.cli.progress']\n",
    ]
    assert (tmp_path / "out.jsonl").stat().st_size > 0


def test_import_sla_loads_names_on_first_use():
    import subprocess
    import sys

    script = (
        "import sys, sla\n"
        "before = sorted(m for m in sys.modules if m.startswith(('sla.', 'pydantic', 'yaml')))\n"
        "policies = sla.load_policies('policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n')\n"
        "print(before, type(policies) is sla.PolicySet, 'sla.policy.model' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "['sla.errors'] True True\n"


def test_the_program_holds_the_collector_off_while_its_modules_load():
    """`sla` as its own process (`python -m sla.cli`, as the console script
    calls sla.cli.main): no cyclic collection while its modules load; then
    what start-up made is frozen and the collector runs again (it is on
    when the command ends)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import gc, runpy, sys

        class Spy:
            def find_spec(self, name, path=None, target=None):
                if name in ("sla.policy.model", "sla.cli.validate"):
                    print(name, "loads with the collector", "on" if gc.isenabled() else "off")
                return None

        sys.meta_path.insert(0, Spy())
        sys.argv = ["sla", "validate", {COMMON[1]!r}]
        try:
            runpy.run_module("sla.cli", run_name="__main__")
        except SystemExit as end:
            print("exit", end.code, "collector", "on" if gc.isenabled() else "off",
                  "frozen", gc.get_freeze_count() > 0)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    said = [line for line in run.stdout.splitlines() if line.startswith(("sla.", "exit"))]
    # The policy models load with the command (a command that finds its
    # policy in the cache never loads them), the collector still held off.
    assert said == [
        "sla.cli.validate loads with the collector off",
        "sla.policy.model loads with the collector off",
        "exit 0 collector on frozen True",
    ]


def test_the_program_leaves_the_collector_as_it_found_it(monkeypatch, capsys):
    """In-process with sys.argv (argv None): a collector the caller had off
    stays off, one it had on is on again, after a command and after a usage
    error alike."""
    import gc

    import sla.cli

    words = ["validate", COMMON[1]]
    was = gc.isenabled()
    try:
        for start in (False, True):
            for argv in (["sla", *words], ["sla", "validate", "--no-such-option"]):
                (gc.enable if start else gc.disable)()
                monkeypatch.setattr("sys.argv", argv)
                assert sla.cli.main() in (0, 2)
                assert gc.isenabled() is start, (start, argv)
                monkeypatch.setattr("sys.argv", ["sla", *words])
                assert main() == 0  # sla.cli.app.main: never touches the switch
                assert gc.isenabled() is start
    finally:
        (gc.enable if was else gc.disable)()
        gc.unfreeze()
    capsys.readouterr()


@pytest.mark.parametrize("command", ["evaluate", "report"])
@pytest.mark.parametrize("jobs", [["--jobs", "1"], []])
def test_a_run_without_workers_loads_no_pool(tmp_path, command, jobs):
    """A one-job run (asked for, or a small input) starts no workers, and so
    loads neither ``multiprocessing`` nor ``ctypes`` (33 M instructions of
    start-up); a run with workers does."""
    import subprocess
    import sys
    import textwrap

    def loaded(words: list[str]) -> str:
        script = textwrap.dedent(
            f"""
            import sys
            from sla.cli.app import main
            status = main({words!r})
            print(status, sorted(m for m in sys.modules
                                 if m.split(".")[0] in ("multiprocessing", "ctypes") or m == "sla.io.workers"))
            """
        )
        return subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout

    out = str(tmp_path / "out")
    assert loaded([command, *COMMON, *NOW, *jobs, "--output", out]) == "0 []\n"
    if jobs:
        return
    # --jobs 2 on an input above the size worth starting workers for (made
    # small for the test)
    script_words = [command, *COMMON, *NOW, "--jobs", "2", "--output", out]
    code = (
        "import sla.io.pipeline as p; p.MIN_PARALLEL_BYTES = 0\n"
        "import sys\nfrom sla.cli.app import main\nstatus = main(" + repr(script_words) + ")\n"
        "print(status, 'multiprocessing' in sys.modules, 'sla.io.workers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert done == "0 True True\n"


def test_help_and_a_wrong_command_still_name_every_command(capsys):
    from sla.cli.app import COMMANDS

    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert main(["evalute"]) == 2
    refused = capsys.readouterr().err
    for command in COMMANDS:
        assert f"    {command} " in listed or f"    {command}\n" in listed, command
        assert repr(command) in refused
    assert "did you mean" in refused or "invalid choice" in refused


def test_a_command_after_an_option_is_still_found(capsys):
    # only a first word that is a command narrows the parser
    assert main(["--version"]) == 0
    assert main(["--help", "evaluate"]) == 0
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_rejects_into_the_input_file_is_refused(tmp_path, capsys, command):
    """--rejects truncates its file: naming an input there would destroy it."""
    events = tmp_path / "events.jsonl"
    original = (ROOT / "samples" / "events.jsonl").read_bytes() + b"{not json\n"
    events.write_bytes(original)
    policies = COMMON[1]
    status = main([command, "--policies", policies, "--events", str(events), *NOW, "--rejects", str(events)])
    assert status == 2
    assert f"--rejects {events} is the input file" in capsys.readouterr().err
    assert events.read_bytes() == original


def test_rejects_into_an_imported_file_is_refused(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("Ticket,Time,Event\nA,2026-03-02T09:00:00Z,created\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  Ticket: ticket_id\n  Time: at\n  Event: type\n")
    for option, target in (("--rejects", table), ("--output", mapping)):
        assert main(["import", "csv", str(table), "--map", str(mapping), option, str(target)]) == 2
        assert "would destroy the input" in capsys.readouterr().err
    assert table.read_text().startswith("Ticket,Time,Event")
    assert mapping.read_text().startswith("columns:")


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"", "it is empty"),
        (b'{"ticket_id": "A"}\n', "it looks like JSON Lines: use --input-format jsonl"),
        (b"ticket_id,at,type\nA,2026-03-02T08:00:00Z,created\n", "it looks like CSV"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "explain"])
def test_a_file_read_as_parquet_that_is_none_is_a_usage_error(tmp_path, capsys, content, hint, command):
    pytest.importorskip("pyarrow")
    path = tmp_path / "events.parquet"
    path.write_bytes(content)
    extra = ["--ticket", "A"] if command == "explain" else []
    assert main([command, "--policies", COMMON[1], "--events", str(path), *NOW, *extra]) == 2
    err = capsys.readouterr().err
    assert f"{path}: not a readable Parquet file" in err and hint in err and "internal error" not in err


def test_standard_input_is_gunzipped_and_checked_for_explain_too(capsys, monkeypatch):
    import gzip
    import io
    import sys

    packed = gzip.compress((ROOT / "samples" / "events.jsonl").read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(packed))))
    assert main(["explain", "--policies", COMMON[1], "--events", "-", *NOW, "--ticket", "T001"]) == 0
    assert "Ticket T001" in capsys.readouterr().out
    flat = b"".join(b"a,b,%d\n" % i for i in range(30))
    for command in ("evaluate", "explain"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(flat))))
        extra = ["--ticket", "T001"] if command == "explain" else []
        assert main([command, "--policies", COMMON[1], "--events", "-", *NOW, *extra]) == 2
        err = capsys.readouterr().err
        assert "standard input: the first 20 lines are not JSON Lines; it looks like CSV" in err, err


def test_a_gzip_file_that_is_not_json_lines_is_named_as_given(tmp_path, capsys):
    import gzip

    path = tmp_path / "flat.txt.gz"
    path.write_bytes(gzip.compress(b"".join(b"a,b,%d\n" % i for i in range(30))))
    assert main(["evaluate", "--policies", COMMON[1], "--events", str(path), *NOW]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the first 20 lines are not JSON Lines" in err and "sla-" not in err


@pytest.mark.parametrize("bad", ["20260304", "2026-03-04T08"])
def test_now_without_an_offset_gets_advice_that_works(bad, capsys):
    assert main(["evaluate", *COMMON, "--now", bad]) == 2
    err = capsys.readouterr().err
    if "T" in bad:
        assert "add Z or an offset" in err
    else:
        assert "add Z" not in err and "expected RFC 3339" in err


def test_the_table_prints_a_ticket_id_with_control_characters_on_its_own_line(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    odd = "T1\nforged row\x1b[31m"
    events.write_text(
        json.dumps({"ticket_id": odd, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}) + "\n"
    )
    policy = tmp_path / "p.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {first_response: 1h}\n")
    argv = ["evaluate", "--policies", str(policy), "--events", str(events), *NOW, "--format", "table"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "T1\\nforged row\\x1b[31m" in out and "\x1b" not in out
    assert not any(line.startswith("forged") for line in out.splitlines())


@pytest.mark.parametrize("by", ["", ",channel", "channel,", "channel,,priority"])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_an_empty_group_key_is_bad_usage_not_left_out(capsys, by, command):
    extra = ["--against", COMMON[1]] if command == "compare" else []
    assert main([command, *COMMON, *NOW, *extra, "--by", by]) == 2
    assert f"--by: {by!r} has an empty name" in capsys.readouterr().err
