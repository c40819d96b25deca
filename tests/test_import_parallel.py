"""``sla import --jobs``: several processes read and finish a Zendesk export
(sla.importers.parallel), and the output, summary, problems and notes are
byte for byte those of one process, whatever the number of workers and
however the files fall between them."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from sla.cli.app import main
from sla.importers import parallel
from sla.importers.base import ImportProblem, ImportSummary
from sla.importers.parallel import runs_of, worker_count
from sla.importers.run import import_events
from sla.importers.zendesk import ZendeskSource

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "zendesk"


def _audit(
    audit: int, ticket: int, at: str, author: int, events: list[dict[str, object]]
) -> dict[str, object]:
    return {
        "id": audit,
        "ticket_id": ticket,
        "created_at": at,
        "author_id": author,
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "metadata": {"custom": {}, "system": {}},
        "events": events,
    }


def _history(ticket: int, rng: random.Random, first_audit: int) -> list[dict[str, object]]:
    """A ticket's audits: a creation, comments by the requester and agents, status changes."""
    day = 1 + ticket % 27
    requester, agent = 5000 + ticket, 10 + ticket % 4
    audits = [
        _audit(
            first_audit,
            ticket,
            f"2026-03-{day:02d}T08:{ticket % 60:02d}:00Z",
            requester,
            [
                {"type": "Create", "field_name": "status", "value": "new"},
                {"type": "Create", "field_name": "priority", "value": rng.choice(["low", "normal", "high"])},
                {"type": "Comment", "author_id": requester, "public": True, "body": "help"},
            ],
        )
    ]
    for step in range(1, rng.randint(2, 5)):
        author = agent if step % 2 else requester
        events: list[dict[str, object]] = [
            {"type": "Comment", "author_id": author, "public": rng.random() < 0.8, "body": "..."}
        ]
        if author == agent:
            events.append(
                {"type": "Change", "field_name": "status", "value": "pending", "previous_value": "open"}
            )
        audits.append(
            _audit(first_audit + step, ticket, f"2026-03-{day:02d}T{8 + step:02d}:30:00Z", author, events)
        )
    return audits


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pages of audits from 60 tickets, interleaved in time order as an
    export is; an audit saved twice in two files; a bad record in a middle
    file; a ticket without its creation; the users and tickets files last,
    with two records of one ticket at the same updated_at in two files (the
    first read wins); and the vendor's own fixtures."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("zendesk-export")
    audits = [a for t in range(1, 61) for a in _history(t, rng, t * 100)]
    audits.sort(key=lambda a: str(a["created_at"]))
    pages = [audits[i : i + 17] for i in range(0, len(audits), 17)]
    pages[3].append(dict(pages[1][0]))  # an audit saved twice, in two pages
    pages[4].insert(2, {"ticket_id": 7, "events": "not a list"})  # a record that cannot be mapped
    pages[5].append(_audit(99999, 999, "2026-03-05T10:00:00Z", 1, [{"type": "Comment", "author_id": 1}]))
    for number, page in enumerate(pages):
        (folder / f"audits-{number:03d}.json").write_text(json.dumps({"audits": page, "next_page": None}))
    users = [{"id": 10 + k, "role": "agent"} for k in range(3)]  # agent 13 only by assignment, below
    users += [{"id": 5000 + t, "role": "end-user"} for t in range(1, 61)]
    (folder / "zz-users.json").write_text(json.dumps({"users": users}))
    for name, tier in (("zz-tickets-a.json", "gold"), ("zz-tickets-b.json", "silver")):
        record = {
            "id": 4,
            "requester_id": 5004,
            "assignee_id": 13,
            "status": "open",
            "updated_at": "2026-03-06T00:00:00Z",
            "custom_fields": [{"id": 360001, "value": tier}],
        }
        (folder / name).write_text(json.dumps({"tickets": [record]}))
    for fixture in FIXTURES.iterdir():
        (folder / f"vendor-{fixture.name}").write_bytes(fixture.read_bytes())
    return folder


def _import(export: Path, jobs: int) -> tuple[bytes, ImportSummary, list[ImportProblem]]:
    out = io.BytesIO()
    problems: list[ImportProblem] = []
    summary, _ = import_events(ZendeskSource(), [str(export)], out, on_problem=problems.append, jobs=jobs)
    return out.getvalue(), summary, problems


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_several_workers_write_what_one_process_writes(
    export: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
):
    one, one_summary, one_problems = _import(export, 1)
    monkeypatch.setattr(parallel, "MIN_WORKER_BYTES", 1)  # the export is small: use every worker anyway
    files = sorted(p for p in export.rglob("*") if p.is_file())
    assert (
        worker_count(ZendeskSource(), [str(f) for f in files], [f.stat().st_size for f in files], jobs)
        == jobs
    )
    many, summary, problems = _import(export, jobs)
    assert many == one
    assert summary.lines() == one_summary.lines()
    assert [str(p) for p in problems] == [str(p) for p in one_problems]
    # the planted cases are there, so the comparison means something
    text = "\n".join(summary.lines())
    assert "copies of audits read twice were dropped" in text and summary.tickets_refused >= 1
    assert any("audits-004.json:1 record 3: audits" in str(p) for p in problems)
    ticket_4 = [json.loads(line) for line in one.splitlines() if json.loads(line)["ticket_id"] == "4"]
    assert ticket_4[0]["fields"]["custom_360001"] == "gold"  # the first read of two equal updated_at


def test_the_command_takes_jobs_and_gives_the_same_events(export: Path, tmp_path: Path):
    outputs = []
    for jobs in ("1", "2"):
        target = tmp_path / f"events-{jobs}.jsonl"
        status = main(["import", "zendesk", str(export), "--jobs", jobs, "--output", str(target)])
        assert status == 1  # the planted bad record and refused ticket
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0]


def test_sources_that_cannot_merge_read_in_one_process():
    from sla.importers.jira import JiraSource

    assert worker_count(JiraSource(), ["a", "b"], [1 << 30, 1 << 30], 4) == 1
    assert worker_count(ZendeskSource(), ["a"], [1 << 30], 4) == 1  # one file
    assert worker_count(ZendeskSource(), ["a", "b"], [1 << 10, 1 << 10], 4) == 1  # too small to share
    assert worker_count(ZendeskSource(), ["a", "b", "c"], [1 << 30] * 3, 2) == 2


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_runs_cover_every_file_once_in_order(count: int):
    rng = random.Random(count)
    for _ in range(50):
        sizes = [rng.randint(0, 1000) for _ in range(rng.randint(count, 30))]
        runs = runs_of(sizes, count)
        assert len(runs) == count and all(len(r) > 0 for r in runs)
        assert [i for r in runs for i in r] == list(range(len(sizes)))


@pytest.mark.parametrize("phase", ["read", "finish"])
def test_a_worker_that_fails_ends_the_import_with_one_line_and_no_scratch_left(
    export: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    phase: str,
):
    """A full scratch folder met by a worker, while reading or finishing:
    the other workers are told to stop, the command says what happened and
    exits 2, nothing is left behind (and nothing waits forever: see
    sla.io.workers)."""
    import errno
    import os
    import tempfile
    import time

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    # Workers are forked after this: they fail, the parent would not.
    monkeypatch.setattr(parallel, "Partitions" if phase == "read" else "FinishResult", full)
    monkeypatch.setattr(parallel, "MIN_WORKER_BYTES", 1)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # (TMPDIR is read once, then cached)
    target = tmp_path / "events.jsonl"
    started = time.monotonic()
    status = main(["import", "zendesk", str(export), "--jobs", "3", "--output", str(target)])
    err = capsys.readouterr().err
    assert time.monotonic() - started < 60
    assert status == 2, err
    assert "no space left for scratch files" in err and "Traceback" not in err
    assert not target.exists()
    assert os.listdir(scratch) == []  # the import's own folder was made there, and removed
