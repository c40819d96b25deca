"""The report's SLA accumulator keeps every elapsed time of the achieved and
breached cycles, in order, through its batches, merges and pickling (parallel
workers send accumulators back pickled).  The per-cycle tally is tested in
tests/test_report_tally.py."""

from __future__ import annotations

import pickle
import statistics
from array import array

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from sla.report.accumulators import (
    FloatColumn,
    KpiAcc,
    SecondsColumn,
    SlaAcc,
    TicketFigures,
    _fmean,
    _ranked,
    merged_seconds,
    sorted_list,
    spread,
    spread_of_runs,
    spread_sorted,
)
from sla.report.results import Distribution
from sla.timefmt import seconds_of

STATES = ("achieved", "breached", "cancelled", "running", "paused")


def filled(values: range, ended: bool = True) -> SlaAcc:
    acc = SlaAcc()
    for i in values:
        acc.add(STATES[i % 5], ended, i)
    return acc


def kept(values: range) -> list[float]:
    # the elapsed times of the achieved and breached cycles, in seconds
    return [i / 1_000_000 for i in values if i % 5 in (0, 1)]


def test_elapsed_values_survive_batches_in_order() -> None:
    acc = filled(range(25_000))  # 10,000 kept: moved in batches, the last ones pending
    assert list(acc.elapsed_seconds()) == kept(range(25_000))
    assert (acc.cycles, acc.achieved, acc.breached, acc.cancelled, acc.running, acc.paused) == (
        25_000,
        5_000,
        5_000,
        5_000,
        5_000,
        5_000,
    )
    assert list(filled(range(100), ended=False).elapsed_seconds()) == []


def test_merge_keeps_both_sides_pending_values() -> None:
    mine, theirs = filled(range(9_000)), filled(range(9_000, 12_000))
    mine.merge(theirs)
    assert list(mine.elapsed_seconds()) == kept(range(12_000))
    assert mine.cycles == 12_000


def test_pickled_accumulators_keep_pending_values() -> None:
    acc = filled(range(7_000))
    copy = pickle.loads(pickle.dumps(acc))
    assert list(copy.elapsed_seconds()) == kept(range(7_000)) == list(acc.elapsed_seconds())
    copy.add("achieved", True, 99)
    assert list(copy.elapsed_seconds())[-1] == 99e-6


@given(
    st.lists(
        st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.integers(2**53 - 3, 2**53 + 3)
        | st.integers(-(2**53) - 3, -(2**53) + 3),
        max_size=300,
    )
)
@example([2**53 + 1, 9_999_999_999_999_999, -(2**53) - 1, 1_500_000, 0])
def test_elapsed_times_are_kept_as_pythons_own_quotient_in_seconds(values_us: list[int]) -> None:
    # Kept as seconds as each is counted: compiled, int / int is a division
    # of doubles, which rounds twice beyond 2**53 µs; the report's figures
    # are those of Python's exact quotient, for every size.
    acc = SlaAcc()
    for value in values_us:
        acc.add("breached", True, value)
    assert list(acc.elapsed_seconds()) == [value / 1_000_000 for value in values_us]
    assert sorted_list(acc.elapsed_seconds()) == sorted(value / 1_000_000 for value in values_us)
    copy = pickle.loads(pickle.dumps(acc))  # with values pending, as workers send them
    assert copy.elapsed_seconds().tobytes() == acc.elapsed_seconds().tobytes()


def test_the_whole_reports_counts_merge_without_the_times() -> None:
    # overall_sla and overall_kpi take counts only: their times come from
    # the groups' sorted runs; a worker's merge keeps both
    mine, theirs = filled(range(300)), filled(range(300, 500))
    counted = SlaAcc()
    counted.merge(mine, times=False)
    counted.merge(theirs, times=False)
    mine.merge(theirs)
    counts = ("cycles", "achieved", "breached", "cancelled", "running", "paused")
    assert (
        [getattr(counted, n) for n in counts]
        == [getattr(mine, n) for n in counts]
        == [500, 100, 100, 100, 100, 100]
    )
    assert list(counted.elapsed_seconds()) == [] and list(mine.elapsed_seconds()) == kept(range(500))
    kpi, whole = KpiAcc(), KpiAcc()
    kpi.add(
        TicketFigures(responses=1, first_response_us=3_000_000, waits=[60_000_000], csat=5.0), "ann", True
    )
    whole.merge(kpi, times=False)
    assert (whole.tickets, whole.fcr, list(whole.csat.values())) == (1, 1, [5.0])
    assert list(whole.first_response.values()) == list(whole.waits.values()) == []


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=300))
def test_a_float_column_holds_what_an_array_would(values: list[float]) -> None:
    column = FloatColumn()
    for number, value in enumerate(values, 1):
        column.pending.append(value)
        if number % 64 == 0:
            column.pack()
    copy = pickle.loads(pickle.dumps(column))
    assert column.values().tobytes() == array("d", values).tobytes() == copy.values().tobytes()
    column.merge(copy)
    assert column.values().tobytes() == array("d", values + values).tobytes()


@given(st.lists(st.lists(st.integers(min_value=-(10**17), max_value=10**17), max_size=40), max_size=6))
def test_the_whole_reports_times_from_its_groups_sorted_runs(groups: list[list[int]]) -> None:
    # the report's end: each group's times sorted once, the whole report's
    # their runs merged; the figures are those of the values in any order
    accs = [SlaAcc() for _ in groups]
    for acc, values in zip(accs, groups, strict=True):
        for value in values:
            acc.add("achieved", True, value)
    runs = [sorted_list(acc.elapsed_seconds()) for acc in accs]
    everything = [v / 1_000_000 for values in groups for v in values]
    assert merged_seconds(runs) == sorted(everything)
    assert spread(merged_seconds(runs)) == spread(everything) == spread(everything[::-1])
    for values, run in zip(groups, runs, strict=True):
        assert spread(run) == spread([v / 1_000_000 for v in values])


@given(
    st.lists(
        st.lists(st.sampled_from([0.0, 1.0, 2.5, 60.0, 3600.0]) | st.floats(0, 1e7), max_size=30), max_size=8
    )
)
@example([[1.0, 1.0], [1.0], [], [0.5, 1.0, 2.0]])
@example([[], [7.0]])
@example([[], []])
def test_the_spread_of_sorted_runs_is_that_of_their_merge(groups: list[list[float]]) -> None:
    # the whole report's figures are picked from the groups' sorted runs, by
    # rank, not merged: the same floats as the merged list's, and every rank
    # is found (ties across runs, empty runs, one value)
    runs = [sorted(values) for values in groups]
    merged = merged_seconds(runs)
    assert spread_of_runs(runs) == spread_sorted(merged)
    for rank, value in enumerate(merged):
        assert _ranked(runs, rank) == value


@given(st.lists(st.floats(min_value=-1e300, max_value=1e300), max_size=60))
@example([0.1, 0.2])
@example([1.0, 1.0, 1.0, 2.0])
@example([3.0, 1e-300, 5e-324, 1e300])
def test_the_spread_of_sorted_values_is_the_statistics_modules(values: list[float]) -> None:
    # spread_sorted does not sort again: its p50 and p90 are the 5th and 9th
    # cut points of statistics.quantiles(n=10, method="inclusive"), the same
    # floats, and spread of the values in any order is the same
    ordered = sorted(values)
    got = spread_sorted(ordered)
    assert got == spread(values) == spread(values[::-1])
    if not values:
        assert got is None
        return
    assert got is not None
    deciles = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
    assert (got.mean, got.p50, got.p90) == (statistics.fmean(values), deciles[4], deciles[8])


@given(st.integers(min_value=-(10**18), max_value=10**18))
@example(9_999_999_999_999_999)  # 9999999999.999998, where doubles first would give 1e10
@example(-(2**53) - 3)
def test_seconds_are_the_nearest_float_to_the_exact_quotient(us: int) -> None:
    """Compiled, ``int / int`` turns both into doubles first and rounds twice
    beyond 2**53 µs; every place that turns microseconds into seconds gives
    what Python's own division gives, compiled or not."""
    from sla.engine.rows import row_of, rows_jsonl
    from sla.timefmt import format_seconds, seconds_of

    want = us / 1_000_000  # run by the interpreter: the int quotient, rounded once
    assert seconds_of(us) == want
    acc, kpi = SlaAcc(), KpiAcc()
    acc.add("breached", True, us)
    kpi.add(TicketFigures(first_response_us=us, waits=[us]), None, False)
    assert sorted_list(acc.elapsed_seconds()) == [want]
    assert list(kpi.first_response.values()) == list(kpi.waits.values()) == [want]
    assert spread(sorted_list(acc.elapsed_seconds())) == Distribution(want, want, want)
    if us % 1_000_000:
        assert format_seconds(us) == want
        cycle = ("T", "p", "resolution", 1, 0, None, "running", us, "calendar", us, False, None, us, (), ())
        row = row_of(cycle)
        assert row["elapsed_seconds"] == row["target_seconds"] == row["paused_seconds"] == want
        assert orjson.loads(rows_jsonl([cycle]))["elapsed_seconds"] == want


@given(st.lists(st.integers(-(1 << 70), 1 << 70) | st.integers(-(10**12), 10**12), max_size=30))
@example([(1 << 53) + 1, -(1 << 53) - 3, 9_999_999_999_999_999])
def test_values_become_seconds_as_seconds_of_divides_each(values: list[int]) -> None:
    # both ways into a column: microseconds divided when packed (the
    # interpreted engine's), seconds given at once (the compiled one's)
    want = sorted(seconds_of(v) for v in values)
    by_us, at_once = SecondsColumn(), SecondsColumn()
    by_us.pending_us.extend(values)
    at_once.pending.extend(seconds_of(v) for v in values)
    assert sorted_list(by_us.values()) == sorted_list(at_once.values()) == want


def test_a_kpi_accumulator_packs_its_columns_as_tickets_come() -> None:
    acc = KpiAcc()
    for n in range(1000):
        figures = TicketFigures(
            responses=1,
            first_response_us=n,
            waits=[n, n + 1],
            handle=float(n),
            csat=4.0,
            sentiment_first=-0.5,
            sentiment_last=0.5,
        )
        acc.add(figures, f"user{n % 7}", done=True)
    columns = (acc.first_response, acc.waits, acc.handle, acc.csat, acc.sentiment_first, acc.sentiment_last)
    # bounded: what waits to be packed is a few tickets' worth, never every value
    assert all(len(column.pending) < 2 * 64 for column in columns)
    assert len(acc.first_response.pending_us) < 64 and len(acc.waits.pending_us) < 2 * 64  # (interpreted)
    assert list(acc.first_response.values()) == [n / 1_000_000 for n in range(1000)]
    assert list(acc.waits.values()) == [v / 1_000_000 for n in range(1000) for v in (n, n + 1)]
    assert list(acc.handle.values()) == [float(n) for n in range(1000)]
    assert len(acc.requesters) == 7 and acc.fcr == acc.done == acc.tickets == 1000


def test_an_sla_accumulator_packs_its_elapsed_times_as_cycles_come() -> None:
    acc = filled(range(1000))
    # bounded: packed as the cycles are counted (given in seconds or microseconds: SECONDS_AT_ONCE)
    assert len(acc.elapsed.pending) + len(acc.elapsed.pending_us) < 64
    assert list(acc.elapsed_seconds()) == [
        i / 1e6 for i in range(1000) if STATES[i % 5] in ("achieved", "breached")
    ]


def _one_by_one(tickets: list[tuple[TicketFigures, object, bool]]) -> dict[str, object]:
    """The ticket figures' counts and columns as the rules say them, ticket by ticket."""
    counts = dict.fromkeys(
        ("tickets", "messages_in", "messages_out", "responded", "done", "reopened", "fcr", "redirected"), 0
    )
    counts |= dict.fromkeys(("agent_messages", "bot_messages", "bot_resolved"), 0)
    columns: dict[str, list[object]] = {
        k: [] for k in ("first", "csat", "waits", "handle", "s_first", "s_last")
    }
    for f, _, done in tickets:
        counts["tickets"] += 1
        counts["messages_in"] += f.messages_in
        counts["messages_out"] += f.messages_out
        counts["responded"] += bool(f.responses)
        counts["done"] += done
        counts["fcr"] += done and f.responses == 1 and not f.reopened
        counts["reopened"] += bool(f.reopened)
        counts["redirected"] += bool(f.redirected)
        bot = f.messages_out - f.responses
        counts["agent_messages"] += f.responses
        counts["bot_messages"] += bot
        counts["bot_resolved"] += bool(done and bot and not f.responses)
        if f.first_response_us is not None:
            columns["first"].append(f.first_response_us / 1_000_000)  # kept in seconds
        if f.csat is not None:
            columns["csat"].append(f.csat)
        columns["waits"].extend(w / 1_000_000 for w in f.waits)
        if f.handle is not None:
            columns["handle"].append(f.handle)
        if f.sentiment_first is not None and f.sentiment_last is not None:
            columns["s_first"].append(f.sentiment_first)
            columns["s_last"].append(f.sentiment_last)
    return counts | columns


_SOME_FLOAT = st.none() | st.floats(-5, 5, allow_nan=False)
_FIGURES = st.builds(
    TicketFigures,
    messages_in=st.integers(0, 4),
    messages_out=st.integers(0, 4),
    responses=st.integers(0, 2),
    first_response_us=st.none() | st.integers(0, 10**12),
    reopened=st.booleans(),
    redirected=st.booleans(),
    csat=_SOME_FLOAT,
    waits=st.lists(st.integers(0, 10**9), max_size=3),
    handle=_SOME_FLOAT,
    sentiment_first=_SOME_FLOAT,
    sentiment_last=_SOME_FLOAT,
)


@given(
    st.lists(
        st.tuples(_FIGURES, st.none() | st.sampled_from(["ann", "bob", 7, 7.0]), st.booleans()), max_size=200
    ),
    st.sets(st.integers(0, 200)),
)
def test_a_kpi_accumulator_counts_a_batch_as_the_rules_count_each_ticket(
    tickets: list[tuple[TicketFigures, object, bool]], packs: set[int]
) -> None:
    acc, other = KpiAcc(), KpiAcc()
    half = len(tickets) // 2
    for n, (figures, requester, done) in enumerate(tickets):
        (acc if n < half else other).add(figures, requester, done)
        if n in packs:  # packed at any point (the tally packs every few batches)
            acc.pack()
    acc.merge(pickle.loads(pickle.dumps(other)))  # (a worker's, sent back with tickets noted)
    want = _one_by_one(tickets)
    counts = [name for name, value in want.items() if type(value) is int]
    assert len(counts) == 11
    assert {name: getattr(acc, name) for name in counts} == {name: want[name] for name in counts}
    assert list(acc.first_response.values()) == want["first"]
    assert list(acc.csat.values()) == want["csat"]
    assert list(acc.waits.values()) == want["waits"]
    assert list(acc.handle.values()) == want["handle"]
    assert list(acc.sentiment_first.values()) == want["s_first"]
    assert list(acc.sentiment_last.values()) == want["s_last"]
    assert acc.requesters == {r if type(r) is str else ("number", r) for _, r, _ in tickets if r is not None}


@given(st.lists(st.floats(allow_nan=False, allow_infinity=True), min_size=1, max_size=40))
def test_the_mean_is_the_statistics_modules_fmean(values: list[float]) -> None:
    # _fmean replaces statistics.fmean (whose import cost every report 4 ms
    # of its start): the same float, or the same error (an overflowing sum,
    # infinities of both signs).
    try:
        expected: object = statistics.fmean(values)
    except (OverflowError, ValueError) as exc:
        expected = type(exc)
    try:
        got: object = _fmean(values)
    except (OverflowError, ValueError) as exc:
        got = type(exc)
    assert got == expected
