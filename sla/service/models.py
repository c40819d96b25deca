"""The API's types (pydantic): what users send and read.  ``/openapi.json``
is generated from them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EventIn(BaseModel):
    """One event (the JSONL event format); any other field is kept as data."""

    # extra="allow": the event format keeps unknown fields as data (a
    # message's body, a sentiment score...), so they are not an error here.
    model_config = ConfigDict(frozen=True, extra="allow")

    ticket_id: str | int
    at: str = Field(description="RFC 3339 timestamp with an offset or Z")
    type: Literal["created", "message", "status", "update", "csat"]
    id: str | int | None = Field(
        None, description="idempotency key: an event whose id is stored is a duplicate"
    )
    fields: dict[str, object] | None = None
    status: str | None = None
    author: Literal["customer", "agent", "bot"] | None = None
    public: bool | None = None
    score: float | None = None


class Rejected(BaseModel):
    """A rejected event: its 0-based position in the body (among the
    non-empty lines of JSON Lines), its ticket, why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    ticket_id: str | None
    error: str


class EventsAnswer(BaseModel):
    """The answer to ``POST /v1/events``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accepted: int
    duplicates: int
    rejected: list[Rejected]


class Row(BaseModel):
    """One cycle, as a line of ``sla evaluate --format jsonl``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_id: str
    policy: str
    metric: str
    cycle: int
    started_at: str
    ended_at: str | None
    state: Literal["running", "paused", "achieved", "breached", "cancelled"]
    target_seconds: float
    hours: Literal["business", "calendar"]
    elapsed_seconds: float
    remaining_seconds: float
    breached: bool
    due_at: str | None
    paused_seconds: float
    paused: list[tuple[str, str | None]]


class TicketAnswer(BaseModel):
    """A ticket's cycles at ``now``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticket_id: str
    rows: list[Row]


class DueAnswer(BaseModel):
    """Open cycles due by ``now + within``, soonest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    now: str
    rows: list[Row]


class Health(BaseModel):
    """``GET /healthz``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["ok"]
    database: str
    schema_version: int


class Problem(BaseModel):
    """An error answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    detail: str


class Alert(BaseModel):
    """The JSON body POSTed to each webhook (header ``X-SLA-Signature:
    sha256=<hex HMAC-SHA256 of the body>`` when a secret is set)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="the same on every retry and after a restart")
    type: Literal["warning", "breach"]
    ticket_id: str
    metric: str
    cycle: int
    policy: str
    at: str = Field(description="the instant the alert is for: the warning instant, or due_at for a breach")
    due_at: str | None
    warning: str | None = Field(description="which warning (like 75% or '10m before due'); null for a breach")
