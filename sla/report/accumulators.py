"""Per-group accumulators of the report figures and the statistics they finish
into: :class:`SlaAcc` counts one metric's cycles, :class:`KpiAcc` the ticket
figures (:func:`ticket_figures` counts those of one ticket).  Accumulators of
disjoint tickets merge, so parallel workers can each fill their own.

Every figure finishes the same whatever order the tickets came in (and so
whatever ``--jobs``): counts add up, and sums of floats are taken with
``math.fsum`` (as ``statistics.fmean`` takes them), which rounds the exact sum
once.
"""

from __future__ import annotations

import json
import math
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, repeat, takewhile
from operator import ge, sub, truediv
from types import FunctionType
from typing import Final

from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, Event
from sla.engine.judge import ACHIEVED, BREACHED, CANCELLED, PAUSED, RUNNING
from sla.policy.conditions import equal
from sla.report.results import Csat, Distribution, HandleTime, KpiGroup, SentimentFigures, SlaGroup
from sla.timefmt import US_PER_SECOND, seconds_of

SATISFIED_SCORE = 4


def _as_seconds(values_us: Iterable[int]) -> list[float]:
    # seconds_of's answer (Python's own division of integers, exact at any
    # size) for every value, by map: no bytecode per value, interpreted.
    return list(map(truediv, values_us, repeat(US_PER_SECOND)))


def sorted_list(values: array[float]) -> list[float]:
    """A column's values (seconds, as :class:`FloatColumn` holds them) as a
    list, smallest first: the values turned into floats by the array, in C,
    as they are already seconds.

    >>> sorted_list(array("d", [3.0, 0.5]))
    [0.5, 3.0]
    """
    listed = values.tolist()
    listed.sort()
    return listed


def merged_seconds(runs: Iterable[list[float]]) -> list[float]:
    """Lists of seconds each sorted, as one sorted list: the sort finds the
    runs and merges them, in a fraction of the time of sorting the values
    afresh (how the whole report's figures are made from its groups').

    >>> merged_seconds([[1.0, 4.0], [2.0, 3.0]])
    [1.0, 2.0, 3.0, 4.0]
    """
    return sorted(chain.from_iterable(runs))


def _fmean(values: Sequence[float]) -> float:
    """``statistics.fmean(values)`` for a sequence, by its own arithmetic:
    the exact sum rounded once (``math.fsum``, which raises as ``fmean``
    does), divided by the count; the same float.  The statistics module
    is not imported: with the fractions and decimal modules it brings, it
    cost every report 4 ms of its start.

    >>> import statistics
    >>> _fmean([0.1, 0.2, 0.3]) == statistics.fmean([0.1, 0.2, 0.3]), _fmean([1.0])
    (True, 1.0)
    """
    return math.fsum(values) / len(values)


def spread(seconds: list[float]) -> Distribution | None:
    """Mean, p50 and p90 of values in seconds; None without values.  The
    values may come in any order: the mean is an exactly rounded sum
    (``math.fsum``), the percentiles those of the sorted values.

    >>> spread([4.0, 1.0, 3.0, 2.0])
    Distribution(mean=2.5, p50=2.5, p90=3.7)
    >>> spread([5.0]), spread([])
    (Distribution(mean=5.0, p50=5.0, p90=5.0), None)
    """
    return spread_sorted(sorted(seconds))


def spread_sorted(seconds: list[float]) -> Distribution | None:
    """:func:`spread` of values already sorted, smallest first: p50 and p90
    are the 5th and 9th of ``statistics.quantiles(seconds, n=10,
    method="inclusive")``, worked out by its own arithmetic (so the same
    floats) without sorting the values again, which it does (at 1M tickets,
    0.3 s of a compiled report's end went to sorting sorted values).

    >>> spread_sorted([1.0, 2.0, 3.0, 4.0]), spread_sorted([5.0]), spread_sorted([])
    (Distribution(mean=2.5, p50=2.5, p90=3.7), Distribution(mean=5.0, p50=5.0, p90=5.0), None)
    """
    n = len(seconds)
    if n == 0:
        return None
    mean = _fmean(seconds)
    if n == 1:
        return Distribution(mean, seconds[0], seconds[0])
    return Distribution(mean, _decile(seconds, 5), _decile(seconds, 9))


def spread_of_runs(runs: Sequence[list[float]]) -> Distribution | None:
    """:func:`spread_sorted` of the values of sorted runs taken together
    (``merged_seconds(runs)``), without merging them: the mean is
    ``statistics.fmean``'s arithmetic (the sum rounded once, then divided),
    and each of the four values p50 and p90 are made of is found by its rank
    (:func:`_ranked`); the same floats.  (At 1M tickets, merging the whole
    report's SLA times and waits cost 0.6 s of a compiled report, for these
    three figures.)  One run (a group's own) is read directly.

    >>> spread_of_runs([[1.0, 4.0], [2.0, 3.0]]) == spread_sorted([1.0, 2.0, 3.0, 4.0])
    True
    """
    if len(runs) == 1:
        return spread_sorted(runs[0])
    total = 0
    for run in runs:
        total += len(run)
    if total == 0:
        return None
    mean = math.fsum(chain.from_iterable(runs)) / total
    if total == 1:
        only = _ranked(runs, 0)
        return Distribution(mean, only, only)
    return Distribution(mean, _decile_of_runs(runs, total, 5), _decile_of_runs(runs, total, 9))


def _decile_of_runs(runs: Sequence[list[float]], total: int, i: int) -> float:
    """:func:`_decile` of the merged runs (``total`` values, at least two)."""
    j, delta = divmod(i * (total - 1), 10)
    return (_ranked(runs, j) * (10 - delta) + _ranked(runs, j + 1) * delta) / 10


def _ranked(runs: Sequence[list[float]], rank: int) -> float:
    """The value at ``rank`` (from 0) of the sorted runs' values taken
    together.  Each run keeps a window of the positions the value may be
    at; a pivot, the middle of the widest window, is counted in every run
    (by bisection): the value is the pivot, or every window shrinks to the
    side of the pivot it is on, the widest at least by half."""
    low = [0] * len(runs)
    high = [len(run) for run in runs]
    while True:
        widest = 0
        width = -1
        for index in range(len(runs)):
            if high[index] - low[index] > width:
                widest, width = index, high[index] - low[index]
        if width <= 0:  # (a rank beyond the values: the caller's error)
            raise IndexError(f"rank {rank} of {sum(map(len, runs))} values")
        pivot = runs[widest][(low[widest] + high[widest]) // 2]
        below = 0  # values less than the pivot
        through = 0  # values less than or equal to it
        for run in runs:
            below += bisect_left(run, pivot)
            through += bisect_right(run, pivot)
        if below <= rank < through:
            return pivot
        for index, run in enumerate(runs):
            if rank < below:  # smaller than the pivot
                high[index] = min(high[index], bisect_left(run, pivot, low[index], high[index]))
            else:  # larger
                low[index] = max(low[index], bisect_right(run, pivot, low[index], high[index]))


def _decile(ordered: list[float], i: int) -> float:
    """The ``i``-th cut point of ``statistics.quantiles(ordered, n=10,
    method="inclusive")`` for sorted values (at least two): its formula."""
    j, delta = divmod(i * (len(ordered) - 1), 10)
    return (ordered[j] * (10 - delta) + ordered[j + 1] * delta) / 10


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------- grouping
#: A report group's identity: its values, each made hashable by :func:`value_key`.
GroupKey = tuple[object, ...]


def value_key(value: object) -> object:
    """A hashable key for an attribute value: two values have one key
    exactly when section 8's equality makes them equal (``1`` and ``1.0``
    are one group and one requester; ``true``, ``1`` and ``"1"`` are three).

    >>> value_key(1) == value_key(1.0), value_key(True) == value_key(1), value_key("1") == value_key(1)
    (True, False, False)
    >>> value_key({"a": [1, "x"], "b": None}) == value_key({"b": None, "a": [1.0, "x"]})
    True
    """
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        return (_BOOLEAN, value)
    if isinstance(value, (int, float)):
        return (_NUMBER, value)  # Python's == and hash already take 1 and 1.0 as one
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return (_LIST, tuple([value_key(item) for item in value]))
    if isinstance(value, dict):
        return (_OBJECT, tuple(sorted([(str(k), value_key(v)) for k, v in value.items()], key=_first)))
    return (_OTHER, json.dumps(value, sort_keys=True, default=str))


# The kinds of value a key tells apart (section 8: a boolean never equals a
# number, a number never a string).
_BOOLEAN: Final = "boolean"
_NUMBER: Final = "number"
_LIST: Final = "list"
_OBJECT: Final = "object"
_OTHER: Final = "other"


def _first(pair: tuple[str, object]) -> str:
    return pair[0]


#: Values a column holds in its list before packing them: a small batch
#: stays in the cache (batches of 4,096 ran slower, see docs/performance.md).
_BATCH: Final = 64


class FloatColumn:
    """Floats kept compact (8 bytes each, an ``array("d")``), in the order
    added.  Its owner appends the latest to the list ``pending`` (compiled,
    a native call; interpreted, no call of a method of ours) and calls
    :meth:`pack` every :data:`_BATCH` or so of its own items, which moves
    them into the array by ``struct`` in one go: an array's own ``append``
    and ``extend`` convert each value through a format parser, about five
    times slower than packing a batch."""

    __slots__ = ("packed", "pending")

    def __init__(self) -> None:
        self.packed = array("d")
        self.pending: list[float] = []

    def pack(self) -> None:
        """Move the pending values into the array."""
        pending = self.pending
        if pending:
            self.packed.frombytes(struct.pack(f"{len(pending)}d", *pending))
            pending.clear()

    def values(self) -> array[float]:
        """Every value added so far, in order."""
        self.pack()
        return self.packed

    def merge(self, other: FloatColumn) -> None:
        """Add ``other``'s values after these."""
        self.values().extend(other.values())


class SecondsColumn(FloatColumn):
    """Times kept as seconds, given in seconds (``pending``, as
    :func:`~sla.timefmt.seconds_of` gives them) or in microseconds
    (``pending_us``, integers, turned into seconds as they are packed by
    Python's own division, exact at any size: :func:`_as_seconds`).  Its
    owners give each time the way that costs least (:data:`SECONDS_AT_ONCE`).

    The report's end sorts and sums seconds.  Kept as microseconds, each
    was turned into a new integer and divided there, long after it was
    counted (at 100k tickets, 0.04 s of the end's 0.19 s, measured); now
    the end takes the array's floats as they are.

    >>> column = SecondsColumn()
    >>> column.pending_us.extend([1_500_000, 9_999_999_999_999_999])
    >>> column.values().tolist()
    [1.5, 9999999999.999998]
    """

    __slots__ = ("pending_us",)

    def __init__(self) -> None:
        super().__init__()
        self.pending_us: list[int] = []

    def pack(self) -> None:
        """Move the pending times into the array, as seconds."""
        pending_us = self.pending_us
        if pending_us:
            self.pending.extend(_as_seconds(pending_us))
            pending_us.clear()
        FloatColumn.pack(self)


#: How the accumulators give a time to a :class:`SecondsColumn`: compiled,
#: in seconds at once (a native division, and no integer object made for
#: later: 2.4 k instructions a ticket fewer in the bench report); interpreted, in
#: microseconds, divided when packed (a call of seconds_of per time costs
#: more bytecode than the division by map in C saves: 5 k a ticket).
SECONDS_AT_ONCE: Final = not isinstance(_as_seconds, FunctionType)


class SlaAcc:
    """One metric's cycles in one group: counts by state, and the elapsed
    times of the achieved and breached ones, in seconds (:meth:`elapsed_seconds`)."""

    __slots__ = ("cycles", "achieved", "breached", "cancelled", "running", "paused", "elapsed")

    def __init__(self) -> None:
        self.cycles = self.achieved = self.breached = self.cancelled = self.running = self.paused = 0
        self.elapsed = SecondsColumn()

    def add(self, state: str, ended: bool, elapsed_us: int) -> None:
        self.cycles += 1
        if state == ACHIEVED:
            self.achieved += 1
        elif state == BREACHED:
            self.breached += 1
        elif state == CANCELLED:
            self.cancelled += 1
        elif state == RUNNING:
            self.running += 1
        elif state == PAUSED:
            self.paused += 1
        if ended and (state in (ACHIEVED, BREACHED)):
            if SECONDS_AT_ONCE:
                self.elapsed.pending.append(seconds_of(elapsed_us))
            else:
                self.elapsed.pending_us.append(elapsed_us)
        if self.cycles % _BATCH == 0:
            self.elapsed.pack()

    def elapsed_seconds(self) -> array[float]:
        """Every elapsed time counted so far, in seconds, in the order added."""
        return self.elapsed.values()

    def merge(self, other: SlaAcc, times: bool = True) -> None:
        """Add ``other``'s counts and, unless ``times`` is false, its elapsed
        times (the whole report's row takes its groups' times as sorted
        runs, and so needs only the counts: :meth:`ReportTally.overall_sla`)."""
        self.cycles += other.cycles
        self.achieved += other.achieved
        self.breached += other.breached
        self.cancelled += other.cancelled
        self.running += other.running
        self.paused += other.paused
        if times:
            self.elapsed.merge(other.elapsed)


#: The counters of :class:`KpiAcc`, which merge by adding up.
_KPI_COUNTS = (
    "tickets",
    "messages_in",
    "messages_out",
    "responded",
    "done",
    "reopened",
    "fcr",
    "redirected",
    "agent_messages",
    "bot_messages",
    "bot_resolved",
)


#: The fields of :class:`TicketFigures`, in order.
_FIGURES = (
    "messages_in",
    "messages_out",
    "responses",
    "first_response_us",
    "reopened",
    "redirected",
    "csat",
    "waits",
    "handle",
    "sentiment_first",
    "sentiment_last",
)


class KpiAcc:
    """The ticket figures of one group, as counts and the per-ticket values
    their statistics need (first responses, waits, CSAT scores, handle
    totals, first and last sentiment)."""

    __slots__ = (
        *_KPI_COUNTS,
        "requesters",
        "first_response",
        "csat",
        "waits",
        "handle",
        "sentiment_first",
        "sentiment_last",
    )

    def __init__(self) -> None:
        self.tickets = self.messages_in = self.messages_out = 0
        self.responded = self.done = self.reopened = self.fcr = self.redirected = 0
        self.agent_messages = self.bot_messages = self.bot_resolved = 0
        self.requesters: set[object] = set()
        self.first_response = SecondsColumn()
        self.csat = FloatColumn()
        self.waits = SecondsColumn()  # each counted wait (reply_seconds)
        self.handle = FloatColumn()  # each ticket's time_spent total, tickets with one only
        self.sentiment_first = FloatColumn()  # each ticket's first and last score, pairwise
        self.sentiment_last = FloatColumn()

    def add(self, figures: TicketFigures, requester: object, done: bool) -> None:
        # The columns' values go to their pending lists, packed every
        # _BATCH tickets (see FloatColumn and SecondsColumn).
        self.tickets += 1
        self.messages_in += figures.messages_in
        self.messages_out += figures.messages_out
        if requester is not None:
            self.requesters.add(requester if type(requester) is str else value_key(requester))
        if figures.responses:
            self.responded += 1
        if figures.first_response_us is not None:
            if SECONDS_AT_ONCE:
                self.first_response.pending.append(seconds_of(figures.first_response_us))
            else:
                self.first_response.pending_us.append(figures.first_response_us)
        if done:
            self.done += 1
            if figures.responses == 1 and not figures.reopened:
                self.fcr += 1
        if figures.reopened:
            self.reopened += 1
        if figures.redirected:
            self.redirected += 1
        if figures.csat is not None:
            self.csat.pending.append(figures.csat)
        agent, bot = figures.responses, figures.messages_out - figures.responses
        self.agent_messages += agent
        self.bot_messages += bot
        if done and bot and not agent:
            self.bot_resolved += 1
        if figures.waits:
            if SECONDS_AT_ONCE:
                waits = self.waits.pending
                for wait in figures.waits:
                    waits.append(seconds_of(wait))
            else:
                self.waits.pending_us.extend(figures.waits)
        if figures.handle is not None:
            self.handle.pending.append(figures.handle)
        if figures.sentiment_first is not None and figures.sentiment_last is not None:
            self.sentiment_first.pending.append(figures.sentiment_first)
            self.sentiment_last.pending.append(figures.sentiment_last)
        if self.tickets % _BATCH == 0:
            self.pack()

    def pack(self) -> None:
        """Pack every column's pending values (memory stays a few bytes a value)."""
        self.first_response.pack()
        self.csat.pack()
        self.waits.pack()
        self.handle.pack()
        self.sentiment_first.pack()
        self.sentiment_last.pack()

    def merge(self, other: KpiAcc, times: bool = True) -> None:
        """Add ``other``'s figures; its first response times and waits unless
        ``times`` is false (as :meth:`SlaAcc.merge`)."""
        for name in _KPI_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.requesters |= other.requesters
        if times:
            self.first_response.merge(other.first_response)
            self.waits.merge(other.waits)
        self.csat.merge(other.csat)
        self.handle.merge(other.handle)
        self.sentiment_first.merge(other.sentiment_first)
        self.sentiment_last.merge(other.sentiment_last)


class TicketFigures:
    """One ticket's own figures at ``now`` (events at or before ``now`` only).

    ``responses`` counts public agent messages, ``messages_out`` public agent
    and bot ones; ``waits``: microseconds of each customer wait that a
    response ended; ``handle``: the sum of ``time_spent`` (``None`` when no
    event has one); ``sentiment_first`` / ``sentiment_last``: the first and
    last ``sentiment`` of a public customer message.

    A plain class, not a dataclass: compiled, a dataclass's ``__init__``
    (which the dataclasses module writes at import) runs interpreted, and
    one is made per ticket.

    >>> TicketFigures(messages_in=2, waits=[60_000_000])
    TicketFigures(messages_in=2, messages_out=0, responses=0, first_response_us=None, reopened=False, redirected=False, csat=None, waits=[60000000], handle=None, sentiment_first=None, sentiment_last=None)
    """

    __slots__ = _FIGURES

    def __init__(
        self,
        messages_in: int = 0,
        messages_out: int = 0,
        responses: int = 0,
        first_response_us: int | None = None,
        reopened: bool = False,
        redirected: bool = False,
        csat: float | None = None,
        waits: list[int] | None = None,
        handle: float | None = None,
        sentiment_first: float | None = None,
        sentiment_last: float | None = None,
    ) -> None:
        self.messages_in = messages_in
        self.messages_out = messages_out
        self.responses = responses
        self.first_response_us = first_response_us
        self.reopened = reopened
        self.redirected = redirected
        self.csat = csat
        self.waits: list[int] = [] if waits is None else waits
        self.handle = handle
        self.sentiment_first = sentiment_first
        self.sentiment_last = sentiment_last

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in _FIGURES])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TicketFigures):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(_FIGURES, self._values(), strict=True))
        return f"TicketFigures({shown})"


def ticket_figures(
    events: Sequence[Event], created_at: int, now: int, done_statuses: frozenset[str]
) -> TicketFigures:
    """Count a ticket's messages, responses, reopens, redirects, last CSAT
    score, customer waits, logged work and sentiment, from its events in
    processing order (as an accepted ticket holds them: times never
    decrease) up to ``now``.

    A wait opens at ``created`` (unless the ticket is created in a done
    status) and at a public customer message when none is open; the next
    public agent message ends it and it is counted; the ticket becoming done
    closes it uncounted, and one still open at ``now`` is not counted.
    """
    # The figures in local variables while the events are read (an
    # attribute update per event costs more), the object made at the end.
    messages_in = messages_out = responses = 0
    first_response_us: int | None = None
    reopened = redirected = False
    csat: float | None = None
    waits: list[int] = []
    sentiment_first: float | None = None
    sentiment_last: float | None = None
    status: str | None = None
    channel_set = False
    channel: object = None
    wait_from: int | None = None  # when the open wait started, None when none is open
    handle: float | None = None
    if events and events[-1].at > now:
        # (rare in a report over history: events after now.  Cut off here,
        # not tested event by event.)
        events = list(takewhile(lambda event: event.at <= now, events))
    for event in events:
        if event.time_spent is not None:
            handle = event.time_spent if handle is None else handle + event.time_spent
        kind = event.kind
        if kind == MESSAGE:
            if not event.public:
                continue
            if event.author == "customer":
                messages_in += 1
                if wait_from is None:
                    wait_from = event.at
                if event.sentiment is not None:
                    if sentiment_first is None:
                        sentiment_first = event.sentiment
                    sentiment_last = event.sentiment
            else:
                messages_out += 1
                if event.author == "agent":
                    responses += 1
                    if first_response_us is None:
                        first_response_us = event.at - created_at
                    if wait_from is not None:
                        waits.append(event.at - wait_from)
                        wait_from = None
        elif kind == STATUS:
            if status in done_statuses:
                if event.status not in done_statuses:
                    reopened = True
            elif event.status in done_statuses:
                wait_from = None  # becoming done closes the open wait, uncounted
            status = event.status
        elif kind == UPDATE:
            fields = event.fields
            if fields is not None and "channel" in fields:  # None: no fields, as the clock reads it
                new = fields["channel"]
                # Section 8's equality: true is no 1, 1 is 1.0 (Python's == says otherwise)
                if channel_set and channel is not None and new is not None and not equal(new, channel):
                    redirected = True
                channel, channel_set = new, True
        elif kind == CREATED:
            status = event.status if event.status is not None else "new"
            if status not in done_statuses:
                wait_from = event.at
            fields = event.fields
            if fields is not None and "channel" in fields:
                channel, channel_set = fields["channel"], True
        elif kind == CSAT:
            csat = event.score
    return TicketFigures(
        messages_in,
        messages_out,
        responses,
        first_response_us,
        reopened,
        redirected,
        csat,
        waits,
        handle,
        sentiment_first,
        sentiment_last,
    )


def csat_mean(scores: Sequence[float]) -> float | None:
    """The mean score, None without scores; never overflows (the scores are
    scaled into [-1, 1] first when their sum would not fit in a float).

    >>> csat_mean([4.0, 5.0]), csat_mean([1e308, 1e308]), csat_mean([])
    (4.5, 1e+308, None)
    """
    if not scores:
        return None
    try:
        return _fmean(scores)
    except (OverflowError, ValueError):  # fsum overflowed, or inf and -inf met
        scale = max(abs(s) for s in scores)
        if not math.isfinite(scale):
            return math.nan  # JSON writers say null
        return _fmean([s / scale for s in scores]) * scale


def sla_row(
    group: Mapping[str, object], metric: str, acc: SlaAcc, elapsed: Sequence[list[float]] | None = None
) -> SlaGroup:
    """The ``sla`` row of a group's metric; ``elapsed``: its elapsed times
    in seconds, when the caller has them, as sorted runs (smallest first)
    taken together (:func:`spread_of_runs`): the group's own times as one
    run, or each group's run for the whole report."""
    return SlaGroup(
        dict(group),
        metric,
        acc.cycles,
        acc.achieved,
        acc.breached,
        acc.cancelled,
        acc.running,
        acc.paused,
        _rate(acc.achieved, acc.achieved + acc.breached),
        spread(acc.elapsed_seconds().tolist()) if elapsed is None else spread_of_runs(elapsed),
    )


def exact_sum(values: Sequence[float]) -> float:
    """The sum rounded once (``math.fsum``), so it does not depend on the
    order of the values; infinity when it is beyond the float range.

    >>> exact_sum([0.1] * 10), exact_sum([]), exact_sum([1e308, 1e308])
    (1.0, 0.0, inf)
    """
    try:
        return math.fsum(values)
    except OverflowError:  # the values are finite and >= 0: only upwards
        return math.inf


def handle_time(totals: Sequence[float]) -> HandleTime:
    """``handle_seconds`` from each ticket's ``time_spent`` total.

    >>> handle_time([600.0, 1200.0]), handle_time([])
    (HandleTime(tickets=2, total=1800.0, mean=900.0), HandleTime(tickets=0, total=0.0, mean=None))
    """
    total = exact_sum(totals)
    return HandleTime(len(totals), total, total / len(totals) if totals else None)


def sentiment_figures(first: Sequence[float], last: Sequence[float]) -> SentimentFigures:
    """``sentiment`` from each ticket's first and last score (pairwise).

    >>> sentiment_figures([-0.5, 0.0], [0.5, 0.0])
    SentimentFigures(tickets=2, first_mean=-0.25, last_mean=0.25, change_mean=0.5)
    """
    if not first:
        return SentimentFigures()
    return SentimentFigures(
        len(first),
        _fmean(first),
        _fmean(last),
        _fmean(list(map(sub, last, first))),  # (pairwise: the columns have one length)
    )


def kpi_row(
    group: Mapping[str, object],
    k: KpiAcc,
    first_response: Sequence[list[float]] | None = None,
    waits: Sequence[list[float]] | None = None,
) -> KpiGroup:
    """The ``kpis`` row of a group; ``first_response`` and ``waits``: its
    times in seconds, when the caller has them, as sorted runs taken
    together (as :func:`sla_row`'s ``elapsed``)."""
    scores = k.csat.values()
    csat = Csat(
        len(scores),
        csat_mean(scores),
        _rate(sum(map(ge, scores, repeat(SATISFIED_SCORE))), len(scores)),  # (no bytecode per score)
    )
    return KpiGroup(
        dict(group),
        k.tickets,
        k.messages_in,
        k.messages_out,
        len(k.requesters),
        _rate(k.responded, k.tickets),
        _rate(k.done, k.tickets),
        _rate(k.reopened, k.tickets),
        _rate(k.fcr, k.done),
        _rate(k.redirected, k.tickets),
        spread(k.first_response.values().tolist())
        if first_response is None
        else spread_of_runs(first_response),
        csat,
        spread(k.waits.values().tolist()) if waits is None else spread_of_runs(waits),
        handle_time(k.handle.values()),
        sentiment_figures(k.sentiment_first.values(), k.sentiment_last.values()),
        _rate(k.bot_messages, k.agent_messages + k.bot_messages),
        _rate(k.bot_resolved, k.done),
    )
