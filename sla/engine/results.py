"""The result of judging one cycle: :class:`CycleResult`, a named tuple of
integers and strings with properties that give Python objects.

Kept apart from :mod:`sla.engine.judge` so that the named tuple and its
documented properties stay plain Python when the engine's hot modules are
compiled; building its row (:func:`sla.engine.rows.row_of`) is compiled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sla.engine.rows import row_of
from sla.timefmt import from_us


class CycleResult(NamedTuple):
    """One cycle of one metric of one ticket, judged at ``now``.

    The fields hold instants (``started_at``, ``ended_at``, ``due_at``) and
    durations (``target_us``, ``elapsed_us``, ``paused_us``) as integers in
    epoch microseconds, exact and cheap.  Properties give the same values as
    Python objects: ``started``, ``ended`` and ``due`` as timezone-aware UTC
    datetimes; ``target``, ``elapsed``, ``remaining`` and ``paused_total`` as
    timedeltas; ``pauses`` and ``warning_times`` with datetimes (``None``
    wherever the field is ``None``).

    Immutable; a named tuple because building one is the engine's most
    frequent allocation (a frozen dataclass costs several times more).  The
    properties are computed on access and cost nothing per instance.

    >>> from sla import evaluate_ticket, load_policies
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> [row] = evaluate_ticket(policies, [
    ...     {"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}], now="2026-03-02T08:45:00Z")
    >>> row.state, row.elapsed_us, row.elapsed, row.remaining
    ('running', 2700000000, datetime.timedelta(seconds=2700), datetime.timedelta(seconds=900))
    >>> row.started.isoformat(), row.ended, row.due.isoformat()
    ('2026-03-02T08:00:00+00:00', None, '2026-03-02T09:00:00+00:00')
    >>> row.elapsed.total_seconds() / 60
    45.0
    """

    ticket_id: str
    policy: str
    metric: str
    cycle: int
    started_at: int
    ended_at: int | None
    state: str
    target_us: int
    hours: str
    elapsed_us: int
    breached: bool
    due_at: int | None
    paused_us: int
    paused: tuple[tuple[int, int | None], ...]
    warnings: tuple[tuple[str, int], ...] = ()

    @property
    def remaining_us(self) -> int:
        """``target_us - elapsed_us``, negative once breached."""
        return self.target_us - self.elapsed_us

    # The same values as datetimes and timedeltas: properties, so they are
    # computed on access and a result stays a plain tuple of its fields.
    @property
    def started(self) -> datetime:
        """``started_at`` as an aware UTC datetime."""
        return from_us(self.started_at)

    @property
    def ended(self) -> datetime | None:
        """``ended_at`` as an aware UTC datetime; None while the cycle is open."""
        ended_at = self.ended_at
        return None if ended_at is None else from_us(ended_at)

    @property
    def due(self) -> datetime | None:
        """``due_at`` as an aware UTC datetime: when the elapsed time reaches
        (or reached) the target; None when it is not known (paused, ended in
        time, or beyond the projection horizon)."""
        due_at = self.due_at
        return None if due_at is None else from_us(due_at)

    @property
    def target(self) -> timedelta:
        """``target_us`` as a timedelta (business or calendar time, see ``hours``)."""
        return timedelta(microseconds=self.target_us)

    @property
    def elapsed(self) -> timedelta:
        """``elapsed_us`` as a timedelta: the time counted against the target."""
        return timedelta(microseconds=self.elapsed_us)

    @property
    def remaining(self) -> timedelta:
        """``remaining_us`` as a timedelta, negative once breached."""
        return timedelta(microseconds=self.target_us - self.elapsed_us)

    @property
    def paused_total(self) -> timedelta:
        """``paused_us`` as a timedelta: the real time spent paused (``paused``
        holds the stretches themselves)."""
        return timedelta(microseconds=self.paused_us)

    @property
    def pauses(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """``paused`` with datetimes: ``(from, to)`` pairs, ``to`` None while
        the pause goes on at ``now``."""
        return tuple((from_us(a), None if b is None else from_us(b)) for a, b in self.paused)

    @property
    def warning_times(self) -> tuple[tuple[str, datetime], ...]:
        """``warnings`` with datetimes: ``(label, instant)`` pairs in time order."""
        return tuple((label, from_us(at)) for label, at in self.warnings)

    def to_row(self) -> dict[str, object]:
        """The row ``sla evaluate`` prints (SEMANTICS.md section 6)."""
        return row_of(self)
