"""The batch kernel every large-scale driver uses: Arrow record batches of
events in, Arrow record batches of cycle rows out.

Input batches must hold each ticket's events together (sorted by ticket,
then by input order); a ticket may straddle two incoming batches (it is
carried over) but never two partitions.  Columns: ``ticket_id``, ``at``
(text or timestamp with zone), ``type``, ``fields`` (JSON text, struct or
map), ``status``, ``author``, ``public``, ``score``, ``time_spent``, ``sentiment`` and optionally ``line``
(the input line, used in error messages and for same-instant order).

A rejected ticket becomes one row with ``state = "rejected"`` and the reason
in ``error`` (``line N: ticket T: reason``), so a cluster job loses nothing silently.

>>> import pyarrow as pa
>>> from sla.io.policy_files import load_policies
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> events = pa.record_batch({"ticket_id": ["T1"], "at": ["2026-03-02T08:00:00Z"], "type": ["created"],
...                           "fields": ['{"channel": "email"}']})
>>> kernel = ArrowKernel(policies, "2026-03-02T10:00:00Z")
>>> [b.to_pylist()[0]["state"] for b in kernel([events])]
['breached']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sla.engine.batch import TicketJudge, as_us
from sla.engine.events import LineError, NotGrouped, TicketEvents, stream_grouped, ticket_batches
from sla.engine.rows import row_of
from sla.io.bulk import bulk
from sla.io.sources import arrow_records
from sla.io.writers import arrow_batch
from sla.policy.runtime import PolicySet

if TYPE_CHECKING:
    import pyarrow as pa


def kernel_schema() -> pa.Schema:
    """The output schema: the rows of ``sla evaluate`` plus ``error``."""
    import pyarrow as pa

    from sla.io.writers import arrow_row_schema

    return arrow_row_schema().append(pa.field("error", pa.string()))


SPARK_DDL = (
    "ticket_id string, policy string, metric string, cycle long, started_at string, ended_at string, "
    "state string, target_seconds double, hours string, elapsed_seconds double, remaining_seconds double, "
    "breached boolean, due_at string, paused_seconds double, paused array<array<string>>, error string"
)


class ArrowKernel:
    """Evaluate event batches into row batches at a fixed ``now``.

    The engine's own path, as ``sla evaluate`` runs it: rows read a column
    at a time (:func:`~sla.io.sources.arrow_records`), tickets grouped and
    validated by :func:`~sla.engine.events.stream_grouped`, judged into
    plain tuples (:meth:`~sla.engine.batch.TicketJudge.fields`) and made
    into the rows of ``sla evaluate`` (:func:`~sla.engine.rows.row_of`).
    """

    def __init__(self, policies: PolicySet, now: datetime | str | int, batch_rows: int = 65_536):
        self.policies = policies
        self.now = as_us(now)
        self.schema = kernel_schema()
        self.batch_rows = batch_rows
        self.judge = TicketJudge(policies, self.now)
        # A rejected ticket's row: its id, state and error, nulls elsewhere.
        names = self.schema.names
        self.rejected_at = (names.index("ticket_id"), names.index("state"), names.index("error"))

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        line_errors: list[LineError] = []
        tickets = stream_grouped(arrow_records(batches, numbered=True), line_errors)
        row_lists = self._row_lists(ticket_batches(tickets))
        while True:
            # Bulk mode (sla.io.bulk), as sla evaluate runs: the collector
            # walking a batch's live rows and columns took a quarter of the
            # time. It is on again while the caller holds a batch.
            with bulk():
                rows, more = next(row_lists)
                if not more:  # lines that name no ticket cannot be attributed: rows too
                    rows += [self._rejected(None, str(line_error)) for line_error in line_errors]
                batch = arrow_batch(rows, self.schema) if rows else None
            if batch is not None:
                yield batch
            if not more:
                return

    def _row_lists(
        self, batches: Iterator[list[TicketEvents]]
    ) -> Iterator[tuple[list[tuple[object, ...]], bool]]:
        """The rows of the tickets, about ``batch_rows`` at a time, as tuples
        in the schema's order (a row of ``sla evaluate`` and its ``error``),
        each list with whether tickets are left (the last says no).  The
        tickets come a batch at a time and are judged a batch at a time, as
        ``sla evaluate`` does (:func:`~sla.engine.events.ticket_batches`)."""
        rows: list[tuple[object, ...]] = []
        judged_fields = self.judge.fields
        try:
            for batch in batches:
                judged = [None if ticket.error is not None else judged_fields(ticket) for ticket in batch]
                for ticket, cycles in zip(batch, judged, strict=True):
                    if cycles is None:
                        rows.append(self._rejected(ticket.ticket_id, str(ticket.error)))
                    else:  # row_of's keys are the schema's columns, in order (tests/test_kernel.py)
                        rows += [(*row_of(fields).values(), None) for fields in cycles]
                    if len(rows) >= self.batch_rows:
                        yield rows, True
                        rows = []
        except NotGrouped as exc:
            raise ValueError(f"{exc}, in one partition: sort or cluster the events by ticket first") from None
        yield rows, False

    def _rejected(self, ticket_id: str | None, error: str) -> tuple[object, ...]:
        """The row of a rejected ticket (or of a line that names none)."""
        row: list[object] = [None] * len(self.schema)
        at_id, at_state, at_error = self.rejected_at
        row[at_id], row[at_state], row[at_error] = ticket_id, "rejected", error
        return tuple(row)
