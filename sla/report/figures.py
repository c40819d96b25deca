"""``sla report``: SLA compliance and support KPIs over a whole history
(SEMANTICS.md section 7; every formula is written out in docs/reports.md).

One pass per ticket: its clock is run once up to ``now`` and serves both the
clock figures (its judged cycles) and the ticket figures (messages, rates,
CSAT).  The result is typed (:class:`Report`); ``Report.to_dict()`` is the
exact JSON object of ``sla report --format json``.

>>> from sla.policy.compile import load_policies
>>> from sla.engine.events import read_jsonl
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> tickets, _ = read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"channel": "email"}}',
...     '{"ticket_id": "T1", "at": "2026-03-02T08:20:00Z", "type": "message", "author": "agent"}',
... ])
>>> report = build_report(policies, tickets, "2026-03-02T09:00:00Z", by=["channel"])
>>> row = report.sla[0]
>>> row.group, row.metric, row.achieved, row.compliance, row.elapsed_seconds.p50
({'channel': 'email'}, 'first_response', 1, 1.0, 1200.0)
>>> report.kpis[0].response_rate, report.kpis[0].first_response_seconds.mean
(1.0, 1200.0)
"""

from __future__ import annotations

import json
import statistics
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sla.engine.batch import as_us, run_clock
from sla.engine.events import CREATED, CSAT, MESSAGE, STATUS, UPDATE, TicketEvents
from sla.engine.judge import ACHIEVED, BREACHED, CANCELLED, PAUSED, RUNNING, judge_ticket
from sla.errors import SlaError
from sla.policy.compile import PolicySet
from sla.timefmt import US_PER_SECOND, format_instant, from_us

PERIODS = ("day", "week", "month")
POLICY_KEY = "policy"
PERIOD_KEY = "period"
SATISFIED_SCORE = 4


class ReportError(SlaError):
    """Bad report options (an unknown time zone or period): usage error."""


class ProgressSink(Protocol):
    def update(self, done: int) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Distribution:
    """Mean and percentiles (``statistics.quantiles(method="inclusive")``) in seconds."""

    mean: float
    p50: float
    p90: float

    def to_dict(self) -> dict:
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class SlaGroup:
    """Compliance of one metric's cycles in one group."""

    group: dict[str, Any]
    metric: str
    cycles: int
    achieved: int
    breached: int
    cancelled: int
    running: int
    paused: int
    compliance: float | None
    elapsed_seconds: Distribution | None

    def to_dict(self) -> dict:
        return {
            "group": dict(self.group),
            "metric": self.metric,
            "cycles": self.cycles,
            "achieved": self.achieved,
            "breached": self.breached,
            "cancelled": self.cancelled,
            "running": self.running,
            "paused": self.paused,
            "compliance": self.compliance,
            "elapsed_seconds": None if self.elapsed_seconds is None else self.elapsed_seconds.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Csat:
    responses: int
    mean: float | None
    satisfied_share: float | None

    def to_dict(self) -> dict:
        return {"responses": self.responses, "mean": self.mean, "satisfied_share": self.satisfied_share}


@dataclass(frozen=True, slots=True)
class KpiGroup:
    """Ticket figures of one group."""

    group: dict[str, Any]
    tickets: int
    messages_in: int
    messages_out: int
    unique_requesters: int
    response_rate: float | None
    resolution_rate: float | None
    reopen_rate: float | None
    fcr_rate: float | None
    redirect_rate: float | None
    first_response_seconds: Distribution | None
    csat: Csat

    def to_dict(self) -> dict:
        return {
            "group": dict(self.group),
            "tickets": self.tickets,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "unique_requesters": self.unique_requesters,
            "response_rate": self.response_rate,
            "resolution_rate": self.resolution_rate,
            "reopen_rate": self.reopen_rate,
            "fcr_rate": self.fcr_rate,
            "redirect_rate": self.redirect_rate,
            "first_response_seconds": None
            if self.first_response_seconds is None
            else self.first_response_seconds.to_dict(),
            "csat": self.csat.to_dict(),
        }


@dataclass
class ReportExtras:
    """Whole-report detail for the HTML charts (not part of the JSON shape).

    ``breaches_by_day``: breached cycles counted by the local date (in ``tz``)
    of their ``due_at``, per metric; ``first_response_seconds``: every
    ticket's calendar seconds to its first public agent message;
    ``created_by_hour``: ticket creations by local weekday (0 = Monday) and
    hour; ``csat_scores``: each ticket's last CSAT score, counted.
    """

    breaches_by_day: dict[str, Counter] = field(default_factory=dict)
    first_response_seconds: list[float] = field(default_factory=list)
    created_by_hour: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    csat_scores: Counter = field(default_factory=Counter)
    #: The ``sla`` figures of each metric over the whole report (group ``{}``).
    overall_sla: list[SlaGroup] = field(default_factory=list)
    #: The ``kpis`` figures over the whole report (group ``{}``).
    overall_kpis: KpiGroup | None = None


@dataclass
class Report:
    """What ``sla report`` prints; ``to_dict()`` is the JSON object of SEMANTICS.md section 7."""

    now: int
    tickets: int
    rejected: int
    sla: list[SlaGroup]
    kpis: list[KpiGroup]
    by: tuple[str, ...] = ()
    period: str | None = None
    tz: str = "UTC"
    extras: ReportExtras = field(default_factory=ReportExtras)

    @property
    def group_keys(self) -> tuple[str, ...]:
        return self.by + ((PERIOD_KEY,) if self.period else ())

    def to_dict(self) -> dict:
        return {
            "now": format_instant(self.now),
            "tickets": self.tickets,
            "rejected": self.rejected,
            "sla": [row.to_dict() for row in self.sla],
            "kpis": [row.to_dict() for row in self.kpis],
        }

    # --------------------------------------------------------- flat records
    def records(self, section: str = "sla") -> list[dict]:
        """Flat rows of ``sla`` or ``kpis``: one column per group key, then the
        figures, nested ones as ``elapsed_seconds.p50``.  A group key that
        clashes with a figure name is written ``group.<key>``."""
        if section not in ("sla", "kpis"):
            raise ValueError("section is 'sla' or 'kpis'")
        rows = self.sla if section == "sla" else self.kpis
        out = []
        for row in rows:
            figures = _flatten(row.to_dict())
            group = figures.pop("group")
            record = {(f"group.{k}" if k in figures else k): v for k, v in group.items()}
            record.update(figures)
            out.append(record)
        return out

    def to_pandas(self, section: str = "sla"):
        """The ``sla`` or ``kpis`` figures as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Report.to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(self.records(section))

    def to_arrow(self, section: str = "sla"):
        """The ``sla`` or ``kpis`` figures as a pyarrow Table (needs pyarrow)."""
        try:
            import pyarrow
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Report.to_arrow() needs pyarrow: pip install 'sla[arrow]'") from None
        return pyarrow.Table.from_pylist(self.records(section))


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "group" and not prefix:
            out[key] = value
        elif isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif value is None and key in ("elapsed_seconds", "first_response_seconds"):
            out.update({f"{prefix}{key}.{part}": None for part in ("mean", "p50", "p90")})
        else:
            out[prefix + key] = value
    return out


# ------------------------------------------------------------- statistics
def distribution(values_us: Sequence[int]) -> Distribution | None:
    """Mean, p50 and p90 of microsecond values, in seconds; None without values.

    >>> distribution([1_000_000, 2_000_000, 3_000_000, 4_000_000])
    Distribution(mean=2.5, p50=2.5, p90=3.7)
    >>> distribution([5_000_000]), distribution([])
    (Distribution(mean=5.0, p50=5.0, p90=5.0), None)
    """
    n = len(values_us)
    if n == 0:
        return None
    seconds = [v / US_PER_SECOND for v in values_us]
    mean = statistics.fmean(seconds)
    if n == 1:
        return Distribution(mean, seconds[0], seconds[0])
    deciles = statistics.quantiles(seconds, n=10, method="inclusive")
    return Distribution(mean, deciles[4], deciles[8])


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --------------------------------------------------------------- grouping
def _value_key(value: object) -> object:
    """A hashable key for an attribute value that keeps distinct JSON values apart."""
    if value is None or type(value) is str:
        return value
    return ("json", json.dumps(value, sort_keys=True))


def _sort_token(value: object) -> tuple:
    if value is None:
        return (3,)
    if isinstance(value, str):
        return (0, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def _zone(tz: str | tzinfo) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(
            f"--tz: unknown time zone {tz!r}; expected an IANA name like Europe/Berlin"
        ) from None


def period_label(local: date, period: str) -> str:
    """The ``period`` group value of a local datetime.

    >>> period_label(date(2027, 1, 1), "week"), period_label(date(2026, 3, 2), "month")
    ('2026-W53', '2026-03')
    """
    if period == "day":
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{local.year:04d}-{local.month:02d}"


_US_PER_HOUR = 3600 * US_PER_SECOND
_US_PER_DAY = 24 * _US_PER_HOUR
_EPOCH_DATE = date(1970, 1, 1)


class _Local:
    """Local-time views of instants in the report's time zone, cached.

    The zone's UTC offset is looked up once per UTC hour (when it is the same
    at both ends of the hour it holds for the whole hour; otherwise each
    instant is converted on its own), and labels once per local date.

    >>> local = _Local(ZoneInfo("Europe/Berlin"), "week")
    >>> march_29_0059z = 1774745940 * US_PER_SECOND  # 2026-03-29T00:59:00Z: 01:59 CET
    >>> local.day_of(march_29_0059z), local.weekday_hour(march_29_0059z), local.weekday_hour(march_29_0059z + 60_000_000)
    ('2026-03-29', (6, 1), (6, 3))
    """

    def __init__(self, zone: tzinfo, period: str | None):
        self.zone = zone
        self.period = period
        self._offsets: dict[int, int | None] = {}
        self._days: dict[int, str] = {}
        self._periods: dict[int, str] = {}

    def _offset_us(self, at: datetime) -> int:
        return at.astimezone(self.zone).utcoffset() // timedelta(microseconds=1)  # type: ignore[operator]

    def local_us(self, us: int) -> int:
        """Microseconds since 1970-01-01T00:00 local wall-clock time."""
        hour = us // _US_PER_HOUR
        try:
            offset = self._offsets[hour]
        except KeyError:
            start = hour * _US_PER_HOUR
            first = self._offset_us(from_us(start))
            last = self._offset_us(from_us(start + _US_PER_HOUR - 1))
            offset = self._offsets[hour] = first if first == last else None
        if offset is None:
            offset = self._offset_us(from_us(us))
        return us + offset

    def local(self, us: int) -> datetime:
        return from_us(us).astimezone(self.zone)

    def period_of(self, us: int) -> str:
        day = self.local_us(us) // _US_PER_DAY
        label = self._periods.get(day)
        if label is None:
            label = self._periods[day] = period_label(_EPOCH_DATE + timedelta(days=day), self.period)  # type: ignore[arg-type]
        return label

    def day_of(self, us: int) -> str:
        day = self.local_us(us) // _US_PER_DAY
        label = self._days.get(day)
        if label is None:
            label = self._days[day] = (_EPOCH_DATE + timedelta(days=day)).isoformat()
        return label

    def weekday_hour(self, us: int) -> tuple[int, int]:
        """Local weekday (0 = Monday) and hour."""
        local = self.local_us(us)
        return (local // _US_PER_DAY + 3) % 7, (local // _US_PER_HOUR) % 24


# ------------------------------------------------------------ accumulators
class _SlaAcc:
    __slots__ = ("cycles", "achieved", "breached", "cancelled", "running", "paused", "elapsed")

    def __init__(self) -> None:
        self.cycles = self.achieved = self.breached = self.cancelled = self.running = self.paused = 0
        self.elapsed = array("q")

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
            self.elapsed.append(elapsed_us)

    def merge(self, other: _SlaAcc) -> None:
        self.cycles += other.cycles
        self.achieved += other.achieved
        self.breached += other.breached
        self.cancelled += other.cancelled
        self.running += other.running
        self.paused += other.paused
        self.elapsed.extend(other.elapsed)


class _KpiAcc:
    __slots__ = (
        "tickets",
        "messages_in",
        "messages_out",
        "requesters",
        "responded",
        "done",
        "reopened",
        "fcr",
        "redirected",
        "first_response",
        "csat",
    )

    def __init__(self) -> None:
        self.tickets = self.messages_in = self.messages_out = 0
        self.responded = self.done = self.reopened = self.fcr = self.redirected = 0
        self.requesters: set = set()
        self.first_response = array("q")
        self.csat = array("d")

    def add(self, figures: TicketFigures, requester: object, done: bool) -> None:
        self.tickets += 1
        self.messages_in += figures.messages_in
        self.messages_out += figures.messages_out
        if requester is not None:
            self.requesters.add(_value_key(requester))
        if figures.responses:
            self.responded += 1
        if figures.first_response_us is not None:
            self.first_response.append(figures.first_response_us)
        if done:
            self.done += 1
            if figures.responses == 1 and not figures.reopened:
                self.fcr += 1
        if figures.reopened:
            self.reopened += 1
        if figures.redirected:
            self.redirected += 1
        if figures.csat is not None:
            self.csat.append(figures.csat)

    def merge(self, other: _KpiAcc) -> None:
        for name in (
            "tickets",
            "messages_in",
            "messages_out",
            "responded",
            "done",
            "reopened",
            "fcr",
            "redirected",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.requesters |= other.requesters
        self.first_response.extend(other.first_response)
        self.csat.extend(other.csat)


@dataclass(slots=True)
class TicketFigures:
    """One ticket's own figures at ``now`` (events at or before ``now`` only)."""

    messages_in: int = 0
    messages_out: int = 0
    responses: int = 0
    first_response_us: int | None = None
    reopened: bool = False
    redirected: bool = False
    csat: float | None = None


def ticket_figures(
    events: Iterable, created_at: int, now: int, done_statuses: frozenset[str]
) -> TicketFigures:
    """Count a ticket's messages, responses, reopens, redirects and last CSAT score."""
    figures = TicketFigures()
    status: str | None = None
    channel_set = False
    channel: object = None
    for event in events:
        if event.at > now:
            break
        kind = event.kind
        if kind == MESSAGE:
            if not event.public:
                continue
            if event.author == "customer":
                figures.messages_in += 1
            else:
                figures.messages_out += 1
                if event.author == "agent":
                    figures.responses += 1
                    if figures.first_response_us is None:
                        figures.first_response_us = event.at - created_at
        elif kind == STATUS:
            if status in done_statuses and event.status not in done_statuses:
                figures.reopened = True
            status = event.status
        elif kind == UPDATE:
            fields = event.fields
            if "channel" in fields:
                new = fields["channel"]
                if channel_set and channel is not None and new is not None and new != channel:
                    figures.redirected = True
                channel, channel_set = new, True
        elif kind == CREATED:
            status = event.status if event.status is not None else "new"
            if "channel" in event.fields:
                channel, channel_set = event.fields["channel"], True
        elif kind == CSAT:
            figures.csat = event.score
    return figures


def _sla_row(group: Mapping[str, Any], metric: str, acc: _SlaAcc) -> SlaGroup:
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
        distribution(acc.elapsed),
    )


def _kpi_row(group: Mapping[str, Any], k: _KpiAcc) -> KpiGroup:
    scores = k.csat
    csat = Csat(
        len(scores),
        statistics.fmean(scores) if scores else None,
        _rate(sum(1 for s in scores if s >= SATISFIED_SCORE), len(scores)),
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
        distribution(k.first_response),
        csat,
    )


# ------------------------------------------------------------------ build
class ReportBuilder:
    """Accumulates tickets into report figures; partial builders merge.

    Feed tickets with :meth:`add` (any order), combine builders that saw
    disjoint sets of tickets with :meth:`merge` (parallel jobs do that), and
    get the :class:`Report` from :meth:`finish`.
    """

    def __init__(
        self,
        policies: PolicySet,
        now_us: int | str | datetime,
        by: Sequence[str] = (),
        period: str | None = None,
        tz: str | tzinfo = "UTC",
    ):
        self.now = as_us(now_us)
        self.by = tuple(by)
        if period is not None and period not in PERIODS:
            raise ReportError(f"--period: {period!r}; expected day, week or month")
        if period is not None and PERIOD_KEY in self.by:
            raise ReportError(
                "--by period clashes with the group key of --period; rename the attribute or drop --period"
            )
        if len(set(self.by)) != len(self.by):
            raise ReportError(f"--by names a key twice: {', '.join(self.by)}")
        self.period = period
        self.tz = tz
        zone = _zone(tz)
        self.tz_name = getattr(zone, "key", None) or str(tz)
        self.local = _Local(zone, period)
        self.policies = policies
        self.attr_keys = tuple(k for k in self.by if k != POLICY_KEY)
        self.by_policy = POLICY_KEY in self.by
        self.sla_acc: dict[tuple, _SlaAcc] = {}
        self.kpi_acc: dict[tuple, _KpiAcc] = {}
        self.overall_sla: dict[str, _SlaAcc] = {}
        self.overall_kpi = _KpiAcc()
        self.group_values: dict[tuple, dict[str, Any]] = {}
        self.extras = ReportExtras()
        self.accepted = 0
        self.rejected = 0

    def __getstate__(self) -> dict:
        # Workers send builders back to the parent; the policies and the
        # zone cache stay behind (the parent has its own).
        state = dict(self.__dict__)
        state["policies"] = None
        state["local"] = None
        return state

    def _group_of(self, attrs: Mapping[str, object], policy_name: object, at: int | None) -> tuple:
        values: dict[str, Any] = {}
        for key in self.by:
            values[key] = policy_name if key == POLICY_KEY else attrs.get(key)
        if self.period is not None:
            values[PERIOD_KEY] = self.local.period_of(at)  # type: ignore[arg-type]
        gkey = tuple(_value_key(values[k]) for k in values)
        if gkey not in self.group_values:
            self.group_values[gkey] = values
        return gkey

    def add(self, ticket: TicketEvents) -> None:
        """Count one ticket (a rejected one only as rejected)."""
        if ticket.error is not None:
            self.rejected += 1
            return
        policies, now, local, extras = self.policies, self.now, self.local, self.extras
        clock = run_clock(policies, ticket.events, now)
        if clock is None:  # created after now
            return
        self.accepted += 1
        created_at: int = clock.created_at  # type: ignore[assignment]

        # Clock figures: each cycle grouped by the attributes at its end (or now).
        for result in judge_ticket(ticket.ticket_id, clock, policies, now):
            end = result.ended_at if result.ended_at is not None else now
            attrs = clock.attributes_at(end) if self.attr_keys else {}
            gkey = self._group_of(attrs, result.policy, result.started_at)
            acc = self.sla_acc.get((gkey, result.metric))
            if acc is None:
                acc = self.sla_acc[(gkey, result.metric)] = _SlaAcc()
            ended = result.ended_at is not None
            acc.add(result.state, ended, result.elapsed_us)
            whole = self.overall_sla.get(result.metric)
            if whole is None:
                whole = self.overall_sla[result.metric] = _SlaAcc()
            whole.add(result.state, ended, result.elapsed_us)
            if result.breached and result.due_at is not None:
                day = local.day_of(result.due_at)
                extras.breaches_by_day.setdefault(day, Counter())[result.metric] += 1

        # Ticket figures: grouped by the attributes (and policy) at now.
        attrs_now = clock.fields
        policy_now = None
        if self.by_policy:
            policy = policies.policy_for(attrs_now)
            policy_now = None if policy is None else policy.name
        gkey = self._group_of(attrs_now, policy_now, created_at)
        kacc = self.kpi_acc.get(gkey)
        if kacc is None:
            kacc = self.kpi_acc[gkey] = _KpiAcc()
        figures = ticket_figures(ticket.events, created_at, now, policies.done_statuses)
        requester = attrs_now.get("requester")
        done = clock.status in policies.done_statuses
        kacc.add(figures, requester, done)
        self.overall_kpi.add(figures, requester, done)
        if figures.csat is not None:
            extras.csat_scores[figures.csat] += 1
        weekday, hour = local.weekday_hour(created_at)
        extras.created_by_hour[weekday][hour] += 1

    def merge(self, other: ReportBuilder) -> None:
        """Add the figures of a builder that saw other tickets."""
        for key, acc in other.sla_acc.items():
            self.sla_acc.setdefault(key, _SlaAcc()).merge(acc)
        for key, acc in other.kpi_acc.items():
            self.kpi_acc.setdefault(key, _KpiAcc()).merge(acc)
        for metric, acc in other.overall_sla.items():
            self.overall_sla.setdefault(metric, _SlaAcc()).merge(acc)
        self.overall_kpi.merge(other.overall_kpi)
        for key, values in other.group_values.items():
            self.group_values.setdefault(key, values)
        for day, counts in other.extras.breaches_by_day.items():
            self.extras.breaches_by_day.setdefault(day, Counter()).update(counts)
        self.extras.csat_scores.update(other.extras.csat_scores)
        for mine, theirs in zip(self.extras.created_by_hour, other.extras.created_by_hour, strict=False):
            for hour, count in enumerate(theirs):
                mine[hour] += count
        self.accepted += other.accepted
        self.rejected += other.rejected

    def finish(self, rejected: int | None = None) -> Report:
        extras = self.extras
        extras.overall_sla = [
            _sla_row({}, metric, self.overall_sla[metric]) for metric in sorted(self.overall_sla)
        ]
        extras.overall_kpis = _kpi_row({}, self.overall_kpi)
        extras.first_response_seconds = [us / US_PER_SECOND for us in self.overall_kpi.first_response]
        group_values, period, by = self.group_values, self.period, self.by

        def order(gkey: tuple) -> tuple:
            values = group_values[gkey]
            head = (values[PERIOD_KEY],) if period is not None else ()
            return head + tuple(_sort_token(values[k]) for k in by)

        sla_rows = [
            _sla_row(group_values[gkey], metric, self.sla_acc[(gkey, metric)])
            for gkey, metric in sorted(self.sla_acc, key=lambda item: (order(item[0]), item[1]))
        ]
        kpi_rows = [
            _kpi_row(group_values[gkey], self.kpi_acc[gkey]) for gkey in sorted(self.kpi_acc, key=order)
        ]
        return Report(
            self.now,
            self.accepted,
            self.rejected if rejected is None else rejected,
            sla_rows,
            kpi_rows,
            by,
            period,
            self.tz_name,
            extras,
        )


def build_report(
    policies: PolicySet,
    tickets: Mapping[str, TicketEvents] | Iterable[TicketEvents],
    now_us: int | str | datetime,
    by: Sequence[str] = (),
    period: str | None = None,
    tz: str | tzinfo = "UTC",
    rejected: int | None = None,
    progress: ProgressSink | None = None,
) -> Report:
    """Aggregate every accepted ticket created at or before ``now`` (section 7).

    ``tickets``: as returned by :func:`sla.engine.events.read_jsonl` (or any iterable
    of :class:`TicketEvents`); rejected ones are skipped and, unless
    ``rejected`` is given, counted.  ``by``: attribute names and/or
    ``policy``; ``period``: ``day``, ``week`` or ``month`` in ``tz``.
    """
    builder = ReportBuilder(policies, now_us, by, period, tz)
    items = tickets.values() if isinstance(tickets, Mapping) else tickets
    add = builder.add
    for index, ticket in enumerate(items, 1):
        if progress is not None:
            progress.update(index)
        add(ticket)
    if progress is not None:
        progress.close()
    return builder.finish(rejected)
