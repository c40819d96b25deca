"""The command line never destroys what it was given, never leaves a file
that looks complete after a failure, reads pipes and writes devices, ends
cleanly on Ctrl-C and SIGTERM, and never lets data forge its messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sla.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "ecommerce.yaml"
SAMPLE = ROOT / "samples" / "events.jsonl"
NOW = "2026-04-01T00:00:00Z"


def sla(*argv: str) -> list[str]:
    return ["evaluate", "--policies", str(POLICY), "--now", NOW, *argv]


def test_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_bytes(SAMPLE.read_bytes())
    assert main(sla("--events", str(events), "--output", str(events))) == 2
    assert "is the input file" in capsys.readouterr().err
    assert events.read_bytes() == SAMPLE.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(events)
    assert main(sla("--events", str(events), "--output", str(link))) == 2
    assert events.read_bytes() == SAMPLE.read_bytes()


def test_a_failed_run_leaves_the_previous_output_in_place(tmp_path, capsys, monkeypatch):
    out = tmp_path / "rows.jsonl"
    out.write_text("previous\n")
    from sla.io import pipeline

    def fail_midway(sink, path, **kwargs):
        sink.open().writer.write_ticket([{"half": "written"}])
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "run", fail_midway)
    assert main(sla("--events", str(SAMPLE), "--output", str(out))) == 70
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rows.jsonl"]  # no partial file left behind


def test_a_successful_run_replaces_the_output_keeping_its_mode(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.write_text("previous\n")
    out.chmod(0o640)
    assert main(sla("--events", str(SAMPLE), "--output", str(out))) == 0
    assert out.read_text().startswith('{"ticket_id":"T001"')
    assert oct(out.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]


def shuffled_sample(tmp_path: Path) -> Path:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    path = tmp_path / "shuffled.jsonl"
    path.write_bytes(b"".join(lines[1::2] + lines[0::2]))  # no longer grouped: needs a second pass
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_a_device_output_is_written_directly(tmp_path, fmt):
    events = shuffled_sample(tmp_path)
    assert main(sla("--events", str(events), "--output", os.devnull, "--format", fmt)) == 0


def test_a_named_pipe_input_is_read_once_and_sorted(tmp_path, capsys):
    events = shuffled_sample(tmp_path)
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(events.read_bytes()))
    writer.start()
    try:
        status = main(sla("--events", str(fifo), "--jobs", "1"))
    finally:
        writer.join(5)
    out = capsys.readouterr().out
    assert status == 0
    assert main(sla("--events", str(events), "--jobs", "1")) == 0
    assert out == capsys.readouterr().out


def test_data_cannot_forge_a_message_or_reach_the_terminal(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    bad = {"ticket_id": "T9\nrejected: line 1: forged\x1b[31m", "at": "nope", "type": "created"}
    events.write_text(json.dumps(bad) + "\n")
    assert main(sla("--events", str(events))) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert [line for line in err.splitlines() if line.startswith("rejected:")] == [
        line for line in err.splitlines() if "T9\\nrejected" in line
    ]


def test_absurd_jobs_are_capped(tmp_path, capsys):
    assert main(sla("--events", str(SAMPLE), "--jobs", "99999", "--output", str(tmp_path / "o"))) == 0
    assert "using" in capsys.readouterr().err


@pytest.fixture(scope="module")
def big_history(tmp_path_factory) -> Path:
    """Input large enough for parallel workers (over 16 MB)."""
    path = tmp_path_factory.mktemp("big") / "events.jsonl"
    assert main(["generate", "--tickets", "30000", "--seed", "3", "--output", str(path)]) == 0
    assert path.stat().st_size > 16 * 1024 * 1024
    return path


def _parallel_run_at_work(big_history: Path, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """``sla evaluate --jobs 2`` started as from a terminal, in its own
    process group, with its own scratch folder; returned once its workers
    are at work (they have spilled), with that folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # The run is killed on purpose: no coverage collection in it (a killed
    # process leaves a half-written coverage file that warns at combine time).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE"))}
    env["TMPDIR"] = str(scratch)
    shuffled = tmp_path / "shuffled.jsonl"
    lines = big_history.read_bytes().splitlines(keepends=True)
    # Spilled (the scratch folder fills), and three times the history under
    # other ticket ids, so that even the compiled engine is still at work
    # when the signal comes.
    copies = [
        [line.replace(b'"ticket_id":"T', b'"ticket_id":"%c' % letter, 1) for line in lines]
        for letter in b"TUV"
    ]
    shuffled.write_bytes(b"".join(part for copy in copies for part in copy[1::2] + copy[0::2]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sla.cli",
            *sla("--events", str(shuffled), "--jobs", "2", "--output", str(tmp_path / "o")),
        ],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        # As from a terminal: Ctrl-C's default action, even where the test
        # process ignores SIGINT (an ignored signal stays ignored across exec).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while not any(scratch.iterdir()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    assert process.poll() is None, "the run ended before it could be interrupted"
    return process, scratch


@pytest.mark.parametrize(
    ("sig", "to_group", "status", "word"),
    [
        (signal.SIGINT, True, 130, "interrupted"),  # Ctrl-C
        (signal.SIGTERM, False, 143, "terminated"),  # kill PID
        (signal.SIGTERM, True, 143, "terminated"),  # timeout(1), kill -TERM -PGID, a service manager
    ],
)
def test_interrupting_parallel_jobs_says_one_line_and_cleans_up(
    big_history, tmp_path, sig, to_group, status, word
):
    process, scratch = _parallel_run_at_work(big_history, tmp_path)
    os.killpg(process.pid, sig) if to_group else process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    text = err.decode()
    assert process.returncode == status, text
    assert "Traceback" not in text
    assert text.strip().splitlines() == [f"sla evaluate: {word}"]
    assert list(scratch.iterdir()) == []
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_on_output_names_the_output(capsys):
    assert main(sla("--events", str(SAMPLE), "--output", "/dev/full")) == 2
    err = capsys.readouterr().err
    assert "--output /dev/full" in err and "No space left" in err
    assert "Traceback" not in err


def test_a_full_scratch_folder_is_named_with_the_fix(tmp_path, capsys, monkeypatch):
    import errno

    from sla.io import pipeline

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline, "spill_range", full)  # JSONL is spilled by byte range
    monkeypatch.setattr(pipeline, "IN_MEMORY_LIMIT_BYTES", 0)
    status = main(sla("--events", str(shuffled_sample(tmp_path)), "--output", str(tmp_path / "o")))
    err = capsys.readouterr().err
    assert status == 2
    assert "no space left for scratch files" in err and "TMPDIR" in err


def test_a_worker_killed_mid_run_ends_the_run_with_one_line_not_a_hang(big_history, tmp_path):
    """The kernel's out-of-memory killer picks a worker of a parallel run:
    the run ends with one line that says what happened and what to do,
    leaves no scratch files, and does not wait forever for the lost part
    (as it did before ``WorkerDied``)."""
    import psutil

    process, scratch = _parallel_run_at_work(big_history, tmp_path)
    try:
        children = psutil.Process(process.pid).children()
        # (Where workers are spawned, not forked, a resource tracker runs too.)
        workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) == 2
        workers[0].kill()
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = err.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    [line] = text.strip().splitlines()
    assert line.startswith("sla evaluate: ") and "a worker process was killed by SIGKILL" in line
    assert "fewer --jobs" in line
    assert not (tmp_path / "o").exists()
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(),
    reason="the failing spill reaches the workers by fork",
)
def test_a_full_scratch_folder_met_by_a_worker_is_named_with_the_fix(tmp_path, capsys, monkeypatch):
    """Ungrouped JSONL with --jobs is spilled by the workers: the error of a
    worker that finds the scratch folder full reaches the parent, which says
    the same as for its own spill."""
    import errno

    from sla.io import parallel, pipeline

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parallel, "spill_lines", full)  # the workers are forked after this
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    events = shuffled_sample(tmp_path)
    status = main(sla("--events", str(events), "--output", str(tmp_path / "o"), "--jobs", "2"))
    err = capsys.readouterr().err
    assert status == 2
    assert "no space left for scratch files" in err and "TMPDIR" in err
    assert "Traceback" not in err


def test_an_endless_device_as_events_is_refused(capsys):
    assert main(sla("--events", "/dev/zero")) == 2
    assert "never ends" in capsys.readouterr().err


def test_an_endless_line_on_a_pipe_is_cut_not_copied_whole(tmp_path, capsys):
    """A 40 MB line without a newline, through a named pipe: rejected as too
    long, the good ticket after it kept, and the scratch copy stays small."""
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    good = SAMPLE.read_bytes().splitlines(keepends=True)[:5]

    def feed():
        with open(fifo, "wb") as pipe:
            pipe.write(b"{" + b" " * (40 << 20) + b"\n")
            pipe.writelines(good)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        status = main(sla("--events", str(fifo)))
    finally:
        writer.join(10)
    captured = capsys.readouterr()
    assert status == 1
    assert "line 1: longer than 1 MB" in captured.err
    assert '"ticket_id":"T001"' in captured.out


def test_a_spilled_non_finite_score_is_rejected_as_on_every_path(tmp_path, monkeypatch, capsys):
    from sla.io import pipeline

    events = tmp_path / "e.jsonl"
    events.write_text(
        '{"ticket_id": "A", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n'
        '{"ticket_id": "B", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}\n'
        '{"ticket_id": "A", "at": "2026-03-02T09:00:00Z", "type": "csat", "score": 1e999}\n'
    )
    assert main(sla("--events", str(events))) == 1
    in_memory = capsys.readouterr().err
    monkeypatch.setattr(pipeline, "IN_MEMORY_LIMIT_BYTES", 0)
    assert main(sla("--events", str(events))) == 1
    spilled = capsys.readouterr().err
    assert in_memory == spilled and "score" in spilled


@pytest.mark.parametrize(
    "words",
    [
        ["--version"],
        ["--help"],
        sla("--events", str(SAMPLE)),
    ],
    ids=["version", "help", "evaluate"],
)
def test_output_into_a_pipe_closed_early_ends_quietly(words):
    # As `sla ... | head -1` once head has gone: the pipe's reading end is
    # closed before sla writes, so its first write fails (Python ignores
    # SIGPIPE: a BrokenPipeError). The command ends with 0 and says nothing.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sla.cli", *words],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr.decode() == ""
    assert done.returncode == 0
