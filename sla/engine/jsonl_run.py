"""The loop of ``sla evaluate``'s usual run: whole tickets in input order,
judged, their rows as JSON Lines text in chunks.  One of the engine's hot
modules (compiled where it can be, see ``setup.py``): compiled, no step
per ticket runs interpreted.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from sla.engine.events import EventRange, TicketEvents, ticket_batches
from sla.engine.judge import Resolver, judge_fields
from sla.engine.replay import fed_clock
from sla.engine.rows import ROWS_TEXT_IS_NATIVE, batch_jsonl, write_rows

if TYPE_CHECKING:
    from sla.engine.clock import ClockPlan
    from sla.policy.runtime import PolicySet


class JsonlRun:
    """Judged tickets as JSON Lines in chunks: the loop of ``sla evaluate``'s
    usual run (whole tickets in input order, JSONL out, no row filter),
    written for the compiler so that no step per ticket runs interpreted.

    :meth:`chunks` yields the rows in chunks of at least ``chunk_bytes``
    (the last may be shorter; compiled, the size is counted in characters,
    the bytes of ASCII text) and each rejected ticket as its batch is read
    (before that batch's rows; tickets go a batch at a time, see
    :func:`~sla.engine.events.ticket_batches`).  ``tickets`` and ``rows``
    count what it has seen and written; ``seen`` is told every accepted
    ticket (the run's event range).  With ``log``, a
    pair of arrays, each accepted ticket's first input line goes to the
    first and its number of rows (lines) to the second: where a worker's
    rows are merged with others' by input line, or read back ticket by
    ticket.

    >>> from sla import load_policies
    >>> from sla.engine.batch import TicketJudge
    >>> from sla.engine.events import EventRange
    >>> from sla.engine.events import events_from_dicts
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> judge = TicketJudge(policies, 3_600_000_000)
    >>> run = JsonlRun(*judge.run_arguments(), EventRange(), 1 << 16)
    >>> ticket = events_from_dicts([{"at": "1970-01-01T00:00:00Z", "type": "created", "fields": {}}], "T1")
    >>> [chunk.decode()[:30] for chunk in run.chunks([ticket])], run.tickets, run.rows
    (['{"ticket_id":"T1","policy":"al'], 1, 1)
    """

    def __init__(
        self,
        clock_plan: ClockPlan,
        done_statuses: frozenset[str],
        derive: Callable[[Mapping[str, object]], dict[str, object]] | None,
        policies: PolicySet,
        now: int,
        resolver: Resolver,
        seen: EventRange,
        chunk_bytes: int,
        log: tuple[array[int], array[int]] | None = None,
    ) -> None:
        self.clock_plan, self.done_statuses, self.derive = clock_plan, done_statuses, derive
        self.policies, self.now, self.resolver = policies, now, resolver
        self.seen, self.chunk_bytes, self.log = seen, chunk_bytes, log
        self.tickets = 0
        self.rows = 0

    def chunks(self, tickets: Iterable[TicketEvents]) -> Iterator[bytes | TicketEvents]:
        """The rows of ``tickets`` in chunks, and the rejected tickets."""
        chunk_bytes = self.chunk_bytes
        # Compiled, the rows' text is kept as str and encoded once a chunk;
        # interpreted, as the bytes orjson gives (see ROWS_TEXT_IS_NATIVE).
        as_text = ROWS_TEXT_IS_NATIVE
        lines: list[str] = []
        pending: list[bytes] = []
        size = 0
        # Tickets are read, judged and written a batch at a time
        # (:func:`ticket_batches`): each step over the whole batch.
        accepted: list[TicketEvents] = []
        for batch in ticket_batches(tickets):
            for ticket in batch:
                self.tickets += 1
                if ticket.error is not None:
                    yield ticket
                else:
                    accepted.append(ticket)
            size += self._judge_batch(accepted, lines, pending)
            accepted.clear()
            if size >= chunk_bytes:
                yield "".join(lines).encode() if as_text else b"".join(pending)
                lines.clear()
                pending.clear()
                size = 0
        if size:
            yield "".join(lines).encode() if as_text else b"".join(pending)

    def _judge_batch(self, batch: list[TicketEvents], lines: list[str], pending: list[bytes]) -> int:
        """Judge a batch of accepted tickets and append their rows' text to
        ``lines`` (compiled) or their bytes to ``pending`` (interpreted);
        returns the size added."""
        clock_plan, done_statuses, derive = self.clock_plan, self.done_statuses, self.derive
        policies, now, resolver, seen = self.policies, self.now, self.resolver, self.seen
        log = self.log
        clocks = [fed_clock(clock_plan, done_statuses, derive, ticket.events, now) for ticket in batch]
        judged = [
            [] if clock is None else judge_fields(ticket.ticket_id, clock, policies, now, False, resolver)
            for ticket, clock in zip(batch, clocks, strict=True)
        ]
        for ticket, results in zip(batch, judged, strict=True):
            seen.see(ticket)
            self.rows += len(results)
            if log is not None:
                log[0].append(ticket.first_line)
                log[1].append(len(results))
        size = 0
        if ROWS_TEXT_IS_NATIVE:
            for results in judged:
                size += write_rows(results, lines)
        else:
            data = batch_jsonl(judged)
            pending.append(data)
            size += len(data)
        return size
