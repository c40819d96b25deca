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
from typing import TYPE_CHECKING, Any

from sla.engine.batch import as_us, evaluate_events
from sla.engine.events import TicketCollector, TicketEvents
from sla.io.sources import normalize_fields
from sla.policy.compile import PolicySet

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
    """Evaluate event batches into row batches at a fixed ``now``."""

    def __init__(self, policies: PolicySet, now: datetime | str | int, batch_rows: int = 65_536):
        import pyarrow as pa

        self.pa = pa
        self.policies = policies
        self.now = as_us(now)
        self.schema = kernel_schema()
        self.batch_rows = batch_rows

    def _rows(self, ticket: TicketEvents) -> list[dict[str, Any]]:
        ticket.finish()
        if ticket.error is not None:
            error = ticket.error
            return [{"ticket_id": ticket.ticket_id, "state": "rejected", "error": str(error)}]
        return [r.to_row() for r in evaluate_events(self.policies, ticket, self.now)]

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        collector = TicketCollector()
        seen: set[str] = set()
        current: TicketEvents | None = None
        pending: list[dict[str, Any]] = []
        counter = 0
        for batch in batches:
            for record in batch.to_pylist():
                counter += 1
                number = record.pop("line", None) or counter
                record = {k: v for k, v in record.items() if v is not None}
                if "fields" in record:
                    record["fields"] = normalize_fields(record["fields"])
                ticket = collector.add(number, record)
                if ticket is None or ticket is current:
                    continue
                if current is not None:
                    del collector.tickets[current.ticket_id]
                    pending += self._rows(current)
                if ticket.ticket_id in seen:
                    raise ValueError(
                        f"ticket {ticket.ticket_id} appears in two places of one partition: "
                        "sort or cluster the events by ticket first"
                    )
                seen.add(ticket.ticket_id)
                current = ticket
            if len(pending) >= self.batch_rows:
                yield self.pa.RecordBatch.from_pylist(pending, schema=self.schema)
                pending = []
        if current is not None:
            pending += self._rows(current)
        # Lines that name no ticket cannot be attributed: report them as rows too.
        for error in collector.line_errors:
            pending.append({"state": "rejected", "error": str(error)})
        if pending:
            yield self.pa.RecordBatch.from_pylist(pending, schema=self.schema)
