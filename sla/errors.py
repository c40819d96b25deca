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


class StateError(SlaError, ValueError):
    """A stored :class:`~sla.Tracker` state that cannot be restored: a key
    missing, a value of the wrong type, another state version, or a state
    made under other clock rules (another policy file).

    ``path`` locates the problem inside the state, like
    ``clock.metrics.first_response.cycles[0][2]`` (empty for the state as a
    whole); ``reason`` says what is wrong and what would be right.

    >>> import sla
    >>> policies = sla.load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
    >>> state = sla.Tracker(policies, "T1").to_json()
    >>> state["seq"] = "x"
    >>> sla.Tracker.from_json(policies, state)
    Traceback (most recent call last):
    ...
    sla.errors.StateError: tracker state of ticket T1: at seq: expected the number of events fed (an integer), got str 'x'
    """

    def __init__(self, reason: str, path: str = "", ticket_id: str | None = None):
        self.reason = reason
        self.path = path
        self.ticket_id = ticket_id
        head = "tracker state" if ticket_id is None else f"tracker state of ticket {ticket_id}"
        super().__init__(f"{head}: at {path}: {reason}" if path else f"{head}: {reason}")


class EarlyNowError(SlaError, ValueError):
    """A :class:`~sla.Tracker` asked about an instant before the last event it
    was fed: it holds the ticket as of that event and cannot look back.
    Evaluate the past with :func:`~sla.evaluate_ticket` over the events up to
    then.  ``now`` and ``last_event_at`` are epoch microseconds.

    >>> raise EarlyNowError(0, 60_000_000, "T1")
    Traceback (most recent call last):
    ...
    sla.errors.EarlyNowError: ticket T1: now 1970-01-01T00:00:00Z is before the last event fed (1970-01-01T00:01:00Z); a tracker holds the ticket as of its last event: for an earlier now, run sla.evaluate_ticket over the events up to it
    """

    def __init__(self, now: int, last_event_at: int, ticket_id: str | None = None):
        from sla.timefmt import format_instant

        self.now = now
        self.last_event_at = last_event_at
        self.ticket_id = ticket_id
        head = "" if ticket_id is None else f"ticket {ticket_id}: "
        super().__init__(
            f"{head}now {format_instant(now)} is before the last event fed ({format_instant(last_event_at)}); "
            "a tracker holds the ticket as of its last event: for an earlier now, "
            "run sla.evaluate_ticket over the events up to it"
        )
