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
    assert capsys.readouterr().out.strip() == f"sla {sla.__version__}"


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
