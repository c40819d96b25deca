"""What a run over an event file tells besides its output: how many tickets
it read and what it rejected, in line order.

These records live below the pipeline and its helpers (spilling, parallel
jobs), so that each can import them without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sla.engine.events import LineError, TicketEvents


@dataclass(order=True)
class Rejection:
    """A rejected ticket or line, reported on standard error in line order.

    >>> str(Rejection(7, "T1", "at is not an RFC 3339 instant"))
    'line 7: ticket T1: at is not an RFC 3339 instant'
    """

    line: int
    ticket_id: str | None = field(compare=False)
    reason: str = field(compare=False)

    def __str__(self) -> str:
        who = f"ticket {self.ticket_id}: " if self.ticket_id is not None else ""
        return f"line {self.line}: {who}{self.reason}"

    def shifted(self, lines: int) -> Rejection:
        """The same rejection, ``lines`` further down the file."""
        return Rejection(self.line + lines, self.ticket_id, self.reason)

    @classmethod
    def of_ticket(cls, ticket: TicketEvents) -> Rejection:
        error = ticket.error
        assert error is not None, "only a rejected ticket has a rejection"
        line = error.line if error.line is not None else ticket.first_line
        return cls(line, ticket.ticket_id, error.reason)

    @classmethod
    def of_line(cls, error: LineError) -> Rejection:
        return cls(error.line, None, error.reason)


@dataclass
class RunSummary:
    """Tickets read, rows written (by sinks that write rows), and rejections."""

    tickets: int = 0
    rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    #: Attribute values that named no known time zone (the default zone was used).
    zone_fallbacks: set[str] = field(default_factory=set)

    @property
    def rejected_tickets(self) -> int:
        return sum(1 for r in self.rejections if r.ticket_id is not None)

    @property
    def rejected_lines(self) -> int:
        return sum(1 for r in self.rejections if r.ticket_id is None)

    def absorb(self, other: RunSummary, line_offset: int = 0) -> None:
        """Add a part's counts; its line numbers start ``line_offset`` lines into the file."""
        self.tickets += other.tickets
        self.rows += other.rows
        self.zone_fallbacks |= other.zone_fallbacks
        self.rejections += (
            [r.shifted(line_offset) for r in other.rejections] if line_offset else other.rejections
        )
