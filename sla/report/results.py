"""The typed result of ``sla report``: :class:`Report` and its rows.

``Report.to_dict()`` is the exact JSON object of ``sla report --format json``
(docs/reports.md); ``Report.records()`` flattens the rows for data
frames.  How the figures are counted: :mod:`sla.report.figures`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from sla.errors import ArgumentError
from sla.report.watchlist import WatchlistResult
from sla.timefmt import format_instant

if TYPE_CHECKING:
    import pandas
    import pyarrow

PERIOD_KEY = "period"


# ------------------------------------------------------------ JSON shapes
class DistributionJson(TypedDict):
    mean: float
    p50: float
    p90: float


class SlaGroupJson(TypedDict):
    group: dict[str, object]
    metric: str
    cycles: int
    achieved: int
    breached: int
    cancelled: int
    running: int
    paused: int
    compliance: float | None
    elapsed_seconds: DistributionJson | None


class CsatJson(TypedDict):
    responses: int
    mean: float | None
    satisfied_share: float | None


class HandleTimeJson(TypedDict):
    tickets: int
    total: float
    mean: float | None


class SentimentJson(TypedDict):
    tickets: int
    first_mean: float | None
    last_mean: float | None
    change_mean: float | None


class KpiGroupJson(TypedDict):
    group: dict[str, object]
    tickets: int
    messages_in: int
    messages_out: int
    unique_requesters: int
    response_rate: float | None
    resolution_rate: float | None
    reopen_rate: float | None
    fcr_rate: float | None
    redirect_rate: float | None
    first_response_seconds: DistributionJson | None
    csat: CsatJson
    reply_seconds: DistributionJson | None
    handle_seconds: HandleTimeJson
    sentiment: SentimentJson
    bot_share: float | None
    bot_resolved_rate: float | None


class EventRangeJson(TypedDict):
    first: str | None
    last: str | None


class MetaJson(TypedDict):
    policies: list[str]
    events: EventRangeJson
    tz: str
    unmeasured_tickets: int
    no_policy_tickets: int
    hours: dict[str, str]


class ReportJson(TypedDict):
    """The JSON object of ``sla report --format json``."""

    now: str
    tickets: int
    rejected: int
    sla: list[SlaGroupJson]
    kpis: list[KpiGroupJson]
    meta: MetaJson


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Distribution:
    """Mean and percentiles (``statistics.quantiles(method="inclusive")``) in seconds."""

    mean: float
    p50: float
    p90: float

    def to_dict(self) -> DistributionJson:
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class SlaGroup:
    """Compliance of one metric's cycles in one group."""

    group: dict[str, object]
    metric: str
    cycles: int
    achieved: int
    breached: int
    cancelled: int
    running: int
    paused: int
    compliance: float | None
    elapsed_seconds: Distribution | None

    def to_dict(self) -> SlaGroupJson:
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

    def to_dict(self) -> CsatJson:
        return {"responses": self.responses, "mean": self.mean, "satisfied_share": self.satisfied_share}


@dataclass(frozen=True, slots=True)
class HandleTime:
    """Logged agent work (``time_spent``) of a group's tickets, in seconds:
    ``tickets`` with at least one ``time_spent``, their ``total`` (0 when
    none) and ``mean`` = total / tickets (``None`` when no ticket has one)."""

    tickets: int = 0
    total: float = 0.0
    mean: float | None = None

    def to_dict(self) -> HandleTimeJson:
        return {"tickets": self.tickets, "total": self.total, "mean": self.mean}


@dataclass(frozen=True, slots=True)
class SentimentFigures:
    """Customer sentiment of a group's tickets: over the ``tickets`` with a
    public customer message that carries ``sentiment``, the means of each
    ticket's first and last score and of last minus first (``None`` when
    ``tickets`` is 0)."""

    tickets: int = 0
    first_mean: float | None = None
    last_mean: float | None = None
    change_mean: float | None = None

    def to_dict(self) -> SentimentJson:
        return {
            "tickets": self.tickets,
            "first_mean": self.first_mean,
            "last_mean": self.last_mean,
            "change_mean": self.change_mean,
        }


@dataclass(frozen=True, slots=True)
class KpiGroup:
    """Ticket figures of one group (SEMANTICS.md sections 7 and 13).

    ``reply_seconds``: calendar seconds of every customer wait that ended
    with a public agent message; ``handle_seconds``: logged ``time_spent``;
    ``sentiment``: first and last customer sentiment per ticket;
    ``bot_share``: public bot messages / (public agent + bot messages);
    ``bot_resolved_rate``: of the tickets done at ``now``, the share a bot
    answered alone (docs/reports.md has every formula).
    """

    group: dict[str, object]
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
    reply_seconds: Distribution | None = None
    handle_seconds: HandleTime = HandleTime()
    sentiment: SentimentFigures = SentimentFigures()
    bot_share: float | None = None
    bot_resolved_rate: float | None = None

    def to_dict(self) -> KpiGroupJson:
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
            "reply_seconds": None if self.reply_seconds is None else self.reply_seconds.to_dict(),
            "handle_seconds": self.handle_seconds.to_dict(),
            "sentiment": self.sentiment.to_dict(),
            "bot_share": self.bot_share,
            "bot_resolved_rate": self.bot_resolved_rate,
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

    breaches_by_day: dict[str, Counter[str]] = field(default_factory=dict)
    first_response_seconds: list[float] = field(default_factory=list)
    created_by_hour: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    csat_scores: Counter[float] = field(default_factory=Counter)
    #: The ``sla`` figures of each metric over the whole report (group ``{}``).
    overall_sla: list[SlaGroup] = field(default_factory=list)
    #: The ``kpis`` figures over the whole report (group ``{}``).
    overall_kpis: KpiGroup | None = None
    #: Every attribute name the tickets had at ``now`` (to check ``--by`` keys).
    attribute_names: set[str] = field(default_factory=set)
    #: Breached and at-risk tickets, misses per owner (:mod:`sla.report.watchlist`).
    watch: WatchlistResult | None = None


@dataclass(frozen=True)
class ReportMeta:
    """What a reader needs to trust the figures: where they come from and
    what they leave out.

    ``policies``: the policy file(s) judged by; ``first_event`` and
    ``last_event``: the earliest and latest event instant of the accepted
    tickets (epoch microseconds; ``None`` with no ticket);
    ``unmeasured_tickets``: tickets with no cycle that has a target, of which
    ``no_policy_tickets`` have no policy in force at ``now`` (a ``match``
    rule that fits none of them is the usual cause); ``hours``: per metric,
    whether its elapsed times are ``business`` or ``calendar`` time, or
    ``mixed`` when policies differ.
    """

    policies: tuple[str, ...] = ()
    first_event: int | None = None
    last_event: int | None = None
    unmeasured_tickets: int = 0
    no_policy_tickets: int = 0
    hours: dict[str, str] = field(default_factory=dict)

    def hours_of(self, metric: str) -> str:
        """``business``, ``calendar`` or ``mixed``; ``business`` when unknown."""
        return self.hours.get(metric, "business")


@dataclass
class Report:
    """What ``sla report`` prints; ``to_dict()`` is its JSON object (docs/reports.md)."""

    now: int
    tickets: int
    rejected: int
    sla: list[SlaGroup]
    kpis: list[KpiGroup]
    by: tuple[str, ...] = ()
    period: str | None = None
    tz: str = "UTC"
    extras: ReportExtras = field(default_factory=ReportExtras)
    meta: ReportMeta = field(default_factory=ReportMeta)

    @property
    def group_keys(self) -> tuple[str, ...]:
        return self.by + ((PERIOD_KEY,) if self.period else ())

    def to_dict(self) -> ReportJson:
        return {
            "now": format_instant(self.now),
            "tickets": self.tickets,
            "rejected": self.rejected,
            "sla": [row.to_dict() for row in self.sla],
            "kpis": [row.to_dict() for row in self.kpis],
            "meta": {
                "policies": list(self.meta.policies),
                "events": {
                    "first": None if self.meta.first_event is None else format_instant(self.meta.first_event),
                    "last": None if self.meta.last_event is None else format_instant(self.meta.last_event),
                },
                "tz": self.tz,
                "unmeasured_tickets": self.meta.unmeasured_tickets,
                "no_policy_tickets": self.meta.no_policy_tickets,
                "hours": dict(self.meta.hours),
            },
        }

    # --------------------------------------------------------- flat records
    def records(self, section: str = "sla") -> list[dict[str, object]]:
        """Flat rows of ``sla`` or ``kpis``: one column per group key, then the
        figures, nested ones as ``elapsed_seconds.p50``.  A group key that
        clashes with a figure name is written ``group.<key>``."""
        if section not in ("sla", "kpis"):
            raise ArgumentError(f"section: expected 'sla' or 'kpis', got {section!r}")
        rows: list[SlaGroup] | list[KpiGroup] = self.sla if section == "sla" else self.kpis
        out = []
        for row in rows:
            figures = _flatten(row.to_dict())
            del figures["group"]
            record = {(f"group.{k}" if k in figures else k): v for k, v in row.group.items()}
            record.update(figures)
            out.append(record)
        return out

    def to_pandas(self, section: str = "sla") -> pandas.DataFrame:
        """The ``sla`` or ``kpis`` figures as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Report.to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(self.records(section))

    def to_arrow(self, section: str = "sla") -> pyarrow.Table:
        """The ``sla`` or ``kpis`` figures as a pyarrow Table (needs pyarrow)."""
        try:
            import pyarrow
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Report.to_arrow() needs pyarrow: pip install 'sla[arrow]'") from None
        return pyarrow.Table.from_pylist(self.records(section))


#: The figures that are a ``{mean, p50, p90}`` object or null: a null one
#: flattens to three empty cells, so every row has the same columns.
DISTRIBUTION_FIGURES = frozenset({"elapsed_seconds", "first_response_seconds", "reply_seconds"})


def _flatten(mapping: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in mapping.items():
        if key == "group" and not prefix:
            out[key] = value
        elif isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif value is None and key in DISTRIBUTION_FIGURES:
            out.update({f"{prefix}{key}.{part}": None for part in ("mean", "p50", "p90")})
        else:
            out[prefix + key] = value
    return out
