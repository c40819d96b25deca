"""The one exception family of the SDK.

Every error a user can cause derives from :class:`SlaError`, so an embedding
product can catch one type, and the CLI can print any of them without a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class SlaError(Exception):
    """Base of every error the SDK raises on bad input."""


class ArgumentError(SlaError, TypeError):
    """A Python API call given an argument of the wrong kind; the message
    names the argument and says what it should be."""


def check_argument(name: str, value: object, kind: type | tuple[type, ...], expected: str) -> None:
    """Raise :class:`ArgumentError` unless ``value`` is an instance of ``kind``.

    >>> check_argument("ticket_id", 7, str, "a string")
    Traceback (most recent call last):
    ...
    sla.errors.ArgumentError: ticket_id: expected a string, got int 7
    """
    if not isinstance(value, kind):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ArgumentError(f"{name}: expected {expected}, got {type(value).__name__} {shown}")


class DurationError(SlaError, ValueError):
    """A duration string or number that does not follow the contract."""


class TimestampError(SlaError, ValueError):
    """A timestamp that is not RFC 3339 with an offset."""


class CalendarError(SlaError, ValueError):
    """A business calendar that cannot be built (bad zone, hours, overlap...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem in a policy file."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def render(self, source: str | None) -> str:
        where = source or "<policies>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        at = f" at {self.path}" if self.path else ""
        return f"{where}:{at}: {self.message}" if at else f"{where}: {self.message}"


class PolicyError(SlaError, ValueError):
    """A policy file with one or more problems; all of them are listed."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__("\n".join(p.render(source) for p in self.problems))


class EventError(SlaError, ValueError):
    """A malformed event line; names the line and, when known, the ticket."""

    def __init__(self, reason: str, line: int | None = None, ticket_id: str | None = None):
        self.reason = reason
        self.line = line
        self.ticket_id = ticket_id
        parts = []
        if line is not None:
            parts.append(f"line {line}")
        if ticket_id is not None:
            parts.append(f"ticket {ticket_id}")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)
