"""The report's SLA accumulator keeps every elapsed time of the achieved and
breached cycles, in order, through its batches, merges and pickling (parallel
workers send accumulators back pickled); the per-cycle tally groups cycles
as the builder did."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import UTC

from sla import load_policies
from sla.engine.batch import TicketJudge
from sla.engine.events import events_from_dicts
from sla.report.accumulators import SlaAcc, tally_cycles
from sla.report.localtime import LocalTime

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


def test_tally_groups_cycles_by_attributes_and_counts_breaches_by_day() -> None:
    policies = load_policies("policies:\n  - name: all\n    targets: {first_response: 1h, resolution: 1d}\n")
    judge = TicketJudge(policies, 3 * 86_400_000_000)
    ticket = events_from_dicts(
        [
            {"at": "1970-01-01T00:00:00Z", "type": "created", "fields": {"channel": "email"}},
            {"at": "1970-01-01T00:30:00Z", "type": "update", "fields": {"channel": "chat"}},
            {"at": "1970-01-01T02:00:00Z", "type": "message", "author": "agent"},
        ],
        "T1",
    )
    clock = judge.clock_of(ticket)
    assert clock is not None
    judged = judge.judge("T1", clock)
    named: list[tuple[object, ...]] = []

    def group_of(attrs: object, policy: str, at: int) -> tuple[object, ...]:
        key = (dict(attrs).get("channel"), policy)  # type: ignore[call-overload]
        named.append(key)
        return key

    sla_acc: dict = {}
    overall: dict = {}
    by_day: dict[str, Counter[str]] = {}
    hours: dict[str, set[str]] = {}
    tally_cycles(
        judged,
        clock,
        judge.now,
        True,
        frozenset(),
        group_of,
        False,
        hours,
        sla_acc,
        overall,
        LocalTime(UTC, None),
        by_day,
    )
    # both cycles end (or are judged at now) under the last attributes: one group, named once
    assert named == [("chat", "all")]
    assert sorted(sla_acc) == [(("chat", "all"), "first_response"), (("chat", "all"), "resolution")]
    assert overall["first_response"].breached == 1 and overall["resolution"].breached == 1
    assert by_day == {"1970-01-01": Counter({"first_response": 1}), "1970-01-02": Counter({"resolution": 1})}
    assert hours == {"first_response": {"business"}, "resolution": {"business"}}
