"""The report's SLA accumulator keeps every elapsed time of the achieved and
breached cycles, in order, through its batches, merges and pickling (parallel
workers send accumulators back pickled).  The per-cycle tally is tested in
tests/test_report_tally.py."""

from __future__ import annotations

import pickle

from sla.report.accumulators import SlaAcc

STATES = ("achieved", "breached", "cancelled", "running", "paused")


def filled(values: range, ended: bool = True) -> SlaAcc:
    acc = SlaAcc()
    for i in values:
        acc.add(STATES[i % 5], ended, i)
    return acc


def kept(values: range) -> list[int]:
    return [i for i in values if i % 5 in (0, 1)]


def test_elapsed_values_survive_batches_in_order() -> None:
    acc = filled(range(25_000))  # 10,000 kept: moved in batches, the last ones pending
    assert list(acc.elapsed_values()) == kept(range(25_000))
    assert (acc.cycles, acc.achieved, acc.breached, acc.cancelled, acc.running, acc.paused) == (
        25_000,
        5_000,
        5_000,
        5_000,
        5_000,
        5_000,
    )
    assert list(filled(range(100), ended=False).elapsed_values()) == []


def test_merge_keeps_both_sides_pending_values() -> None:
    mine, theirs = filled(range(9_000)), filled(range(9_000, 12_000))
    mine.merge(theirs)
    assert list(mine.elapsed_values()) == kept(range(12_000))
    assert mine.cycles == 12_000


def test_pickled_accumulators_keep_pending_values() -> None:
    acc = filled(range(7_000))
    copy = pickle.loads(pickle.dumps(acc))
    assert list(copy.elapsed_values()) == kept(range(7_000)) == list(acc.elapsed_values())
    copy.add("achieved", True, 99)
    assert list(copy.elapsed_values())[-1] == 99
