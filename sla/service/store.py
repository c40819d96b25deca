"""Every SQL statement of the service, on one :class:`~sla.service.db.Connection`.

Tables (see :mod:`sla.service.db` for the schema): ``events`` (every
accepted event, in acceptance order, with its ``id`` for idempotency),
``tickets`` (each ticket's evaluated state: the tracker's JSON, its earliest
due time, its counts) and ``alerts`` (one row per alert and webhook: instant,
body, delivery attempts, next attempt, lease).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sla.service.db import Connection


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as stored."""

    ticket_id: str
    first_at_us: int
    created_at_us: int | None
    last_at_us: int | None
    state: str | None
    events: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event: its acceptance number, instant, whether it is the
    ``created`` event, and the event itself."""

    seq: int
    at_us: int
    created: bool
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to store."""

    ticket_id: str
    event_id: str | None
    at_us: int
    created: bool
    body: bytes


@dataclass(frozen=True, slots=True)
class TicketUpdate:
    """A ticket's new evaluated state."""

    ticket_id: str
    first_at_us: int
    created_at_us: int | None
    last_at_us: int | None
    state: str | None
    due_us: int | None
    open_cycles: int
    events: int
    #: The first event after the instant the alerts were planned at (None:
    #: none): the alerts are planned again when the server's clock passes it.
    replan_us: int | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """An alert delivery claimed by this process."""

    id: str
    webhook: str
    body: bytes
    attempts: int
    first_attempt_us: int | None


#: An alert to store: (id, ticket_id, instant, body).
PlannedRow = tuple[str, str, int, bytes]

_CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def lock_tickets(conn: Connection, keys: Sequence[int]) -> None:
    """PostgreSQL: take the transaction's advisory lock of each ticket, in
    key order (so two requests never wait on each other in a circle); a
    ticket that does not exist yet is locked as well as one that does.
    SQLite: nothing (its write transactions are serialised)."""
    if conn.dialect == "postgresql" and keys:
        conn.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(?::bigint[]) AS u(k) ORDER BY k) AS s",
            (sorted(set(keys)),),
        )


def stored_ids(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The event ids among ``ids`` already stored."""
    found: set[str] = set()
    for part in _chunks(ids):
        where, params = conn.in_list("event_id", part)
        found.update(row[0] for row in conn.execute(f"SELECT event_id FROM events WHERE {where}", params))
    return found


def tickets(conn: Connection, ticket_ids: Sequence[str]) -> dict[str, TicketRow]:
    """The stored tickets among ``ticket_ids``."""
    found = {}
    for part in _chunks(ticket_ids):
        where, params = conn.in_list("ticket_id", part)
        rows = conn.execute(
            "SELECT ticket_id, first_at_us, created_at_us, last_at_us, state, events "
            f"FROM tickets WHERE {where}",
            params,
        )
        for row in rows:
            found[row[0]] = TicketRow(*row)
    return found


def ticket(conn: Connection, ticket_id: str) -> TicketRow | None:
    """One stored ticket, None if no event of it was accepted."""
    return tickets(conn, [ticket_id]).get(ticket_id)


def events_of(conn: Connection, ticket_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
    """The stored events of each ticket, in acceptance order."""
    found: dict[str, list[StoredEvent]] = {t: [] for t in ticket_ids}
    loads = orjson.loads
    for part in _chunks(ticket_ids):
        where, params = conn.in_list("ticket_id", part)
        rows = conn.execute(
            f"SELECT ticket_id, seq, at_us, created, body FROM events WHERE {where} ORDER BY seq", params
        )
        for ticket_id, seq, at_us, created, body in rows:
            found[ticket_id].append(StoredEvent(seq, at_us, bool(created), loads(body)))
    return found


def insert_events(conn: Connection, events: Sequence[NewEvent]) -> None:
    """Store accepted events, in acceptance order (their ``seq`` follows it)."""
    rows = [(e.ticket_id, e.event_id, e.at_us, int(e.created), e.body.decode("utf-8")) for e in events]
    if conn.dialect == "postgresql":
        # COPY keeps the row order, so the identity numbers follow acceptance order.
        with (
            conn.raw.cursor() as cursor,
            cursor.copy(
                "COPY events (ticket_id, event_id, at_us, created, body) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["text", "text", "int8", "int4", "text"])
            for row in rows:
                copy.write_row(row)
        return
    conn.many("INSERT INTO events (ticket_id, event_id, at_us, created, body) VALUES (?, ?, ?, ?, ?)", rows)


_TICKET_UPSERT = (
    " ON CONFLICT (ticket_id) DO UPDATE SET first_at_us = excluded.first_at_us, "
    "created_at_us = excluded.created_at_us, last_at_us = excluded.last_at_us, "
    "state = excluded.state, due_us = excluded.due_us, open_cycles = excluded.open_cycles, "
    "events = excluded.events, replan_us = excluded.replan_us"
)


def save_tickets(conn: Connection, updates: Sequence[TicketUpdate]) -> None:
    """Insert or replace tickets' evaluated state (after their events are
    stored: a new ticket's ``first_seq`` is its first event's)."""
    columns = [
        (
            u.ticket_id,
            u.first_at_us,
            u.created_at_us,
            u.last_at_us,
            u.state,
            u.due_us,
            u.open_cycles,
            u.events,
            u.replan_us,
        )
        for u in updates
    ]
    if conn.dialect == "postgresql":
        # One statement over arrays: a request's tickets in one round trip.
        conn.execute(
            "INSERT INTO tickets (ticket_id, first_seq, first_at_us, created_at_us, last_at_us, state, "
            "due_us, open_cycles, events, replan_us) "
            "SELECT u.t, (SELECT min(seq) FROM events e WHERE e.ticket_id = u.t), u.f, u.c, u.l, u.s, u.d, u.o, "
            "u.n, u.r FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], "
            "?::int[], ?::int[], ?::bigint[]) AS u(t, f, c, l, s, d, o, n, r)" + _TICKET_UPSERT,
            [list(column) for column in zip(*columns, strict=True)] if columns else [[]] * 9,
            binary=True,
        )
        return
    conn.many(
        "INSERT INTO tickets (ticket_id, first_seq, first_at_us, created_at_us, last_at_us, state, "
        "due_us, open_cycles, events, replan_us) "
        "VALUES (?, (SELECT min(seq) FROM events WHERE ticket_id = ?), ?, ?, ?, ?, ?, ?, ?, ?)"
        + _TICKET_UPSERT,
        [(row[0], *row) for row in columns],
    )


def replace_alerts(
    conn: Connection,
    ticket_ids: Sequence[str],
    planned: Sequence[PlannedRow],
    webhooks: Sequence[str],
    now_us: int,
) -> None:
    """Recompute the pending alerts of ``ticket_ids``: the alerts still in
    the future are dropped and ``planned`` (id, ticket, instant, body) added,
    one row per webhook.  An alert whose instant has passed stays (it fired:
    it is never recalled), and one already stored is not added again.  An
    alert a scheduler has claimed stays too, whatever its instant: another
    process, whose clock may be ahead of ``now_us``, is posting it (deleting
    and re-adding it would free it for a second delivery)."""
    for part in _chunks(ticket_ids):
        where, params = conn.in_list("ticket_id", part)
        conn.execute(
            f"DELETE FROM alerts WHERE {where} AND at_us > ? AND attempts = 0 AND delivered_us IS NULL "
            "AND lease_owner IS NULL AND first_attempt_us IS NULL",
            [*params, now_us],
        )
    rows = [
        (ident, webhook, ticket_id, at_us, body.decode("utf-8"))
        for ident, ticket_id, at_us, body in planned
        for webhook in webhooks
    ]
    if conn.dialect == "postgresql":
        if rows:
            conn.execute(
                "INSERT INTO alerts (id, webhook, ticket_id, at_us, body, next_attempt_us) "
                "SELECT i, w, t, a, b, a FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[]) "
                "AS u(i, w, t, a, b) ON CONFLICT (id, webhook) DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
                binary=True,
            )
        return
    conn.many(
        "INSERT INTO alerts (id, webhook, ticket_id, at_us, body, next_attempt_us) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id, webhook) DO NOTHING",
        [(*row, row[3]) for row in rows],
    )


# ----------------------------------------------------------------- queries
def due_candidates(
    conn: Connection, now_us: int, until_us: int, limit: int | None = None
) -> list[tuple[str, int, str | None]]:
    """Tickets that may have an open cycle due by ``until_us`` at ``now_us``,
    as (ticket_id, last_at_us, state), in order of first appearance: those
    whose earliest due time (stored at their last change) is by then, and
    those with events after ``now_us`` (their state at ``now_us`` is replayed).
    With ``limit``: the ``limit`` tickets due first (those hold the ``limit``
    soonest cycles)."""
    if limit is not None:
        rows = conn.execute(
            "SELECT ticket_id, last_at_us, state FROM tickets WHERE created_at_us <= ? AND due_us <= ? "
            "AND last_at_us <= ? ORDER BY due_us, first_seq LIMIT ?",
            (now_us, until_us, now_us, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]
    rows = conn.execute(
        "SELECT ticket_id, last_at_us, state FROM tickets WHERE created_at_us <= ? AND "
        "((due_us <= ? AND last_at_us <= ?) OR last_at_us > ?) ORDER BY first_seq",
        (now_us, until_us, now_us, now_us),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def counts(conn: Connection, now_us: int) -> dict[str, int]:
    """Figures for the status page."""
    tickets_row = conn.one(
        "SELECT count(*), coalesce(sum(events), 0), coalesce(sum(open_cycles), 0) FROM tickets"
    )
    alerts_row = conn.one(
        "SELECT "
        "coalesce(sum(CASE WHEN delivered_us IS NULL AND gave_up = 0 AND at_us > ? THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN delivered_us IS NULL AND gave_up = 0 AND at_us <= ? THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN delivered_us IS NULL AND gave_up = 0 AND attempts > 0 THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN delivered_us IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(gave_up), 0) FROM alerts",
        (now_us, now_us),
    )
    assert tickets_row is not None and alerts_row is not None
    names = ("alerts_scheduled", "alerts_due", "alerts_failing", "alerts_delivered", "alerts_given_up")
    figures = {"tickets": tickets_row[0], "events": tickets_row[1], "open_cycles": tickets_row[2]}
    figures.update(zip(names, alerts_row, strict=True))
    return {k: int(v) for k, v in figures.items()}


# --------------------------------------------------------------- delivery
def claim(
    conn: Connection, owner: str, now_us: int, lease_us: int, webhooks: Sequence[str], limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` deliveries due at ``now_us`` whose lease is free
    or expired, for ``lease_us``.  PostgreSQL skips rows another process is
    claiming (``FOR UPDATE SKIP LOCKED``); SQLite has one process."""
    hooks, params = conn.in_list("webhook", list(webhooks))
    skip = " FOR UPDATE SKIP LOCKED" if conn.dialect == "postgresql" else ""
    rows = conn.execute(
        "SELECT id, webhook, body, attempts, first_attempt_us FROM alerts "
        f"WHERE delivered_us IS NULL AND gave_up = 0 AND next_attempt_us <= ? AND {hooks} "
        "AND (lease_until_us IS NULL OR lease_until_us < ?) "
        f"ORDER BY next_attempt_us LIMIT ?{skip}",
        [now_us, *params, now_us, limit],
    )
    claimed = [Claimed(r[0], r[1], r[2].encode("utf-8"), r[3], r[4]) for r in rows]
    conn.many(
        "UPDATE alerts SET lease_owner = ?, lease_until_us = ?, "
        "first_attempt_us = coalesce(first_attempt_us, ?) WHERE id = ? AND webhook = ?",
        [(owner, now_us + lease_us, now_us, c.id, c.webhook) for c in claimed],
    )
    return claimed


def delivered(conn: Connection, owner: str, done: Sequence[tuple[str, str, int]]) -> None:
    """Record deliveries answered with a 2xx: (id, webhook, when), for the
    rows ``owner`` still holds (a process whose lease was taken over records
    nothing: the taker's outcome counts)."""
    conn.many(
        "UPDATE alerts SET delivered_us = ?, attempts = attempts + 1, lease_owner = NULL, "
        "lease_until_us = NULL, last_error = NULL WHERE id = ? AND webhook = ? AND lease_owner = ?",
        [(when, ident, webhook, owner) for ident, webhook, when in done],
    )


def failed(conn: Connection, owner: str, failures: Sequence[tuple[str, str, int, str, bool]]) -> None:
    """Record failed attempts: (id, webhook, next attempt, error, given up),
    for the rows ``owner`` still holds."""
    conn.many(
        "UPDATE alerts SET attempts = attempts + 1, next_attempt_us = ?, last_error = ?, gave_up = ?, "
        "lease_owner = NULL, lease_until_us = NULL WHERE id = ? AND webhook = ? AND lease_owner = ?",
        [
            (after, error[:500], int(gave_up), ident, webhook, owner)
            for ident, webhook, after, error, gave_up in failures
        ],
    )


def release(conn: Connection, owner: str | None) -> None:
    """Free the leases of ``owner`` (every lease when None: at the start of
    the one SQLite process, no other process can hold one)."""
    if owner is None:
        conn.execute(
            "UPDATE alerts SET lease_owner = NULL, lease_until_us = NULL WHERE lease_owner IS NOT NULL"
        )
    else:
        conn.execute(
            "UPDATE alerts SET lease_owner = NULL, lease_until_us = NULL WHERE lease_owner = ?", (owner,)
        )


def next_alert_us(conn: Connection, webhooks: Sequence[str], now_us: int) -> int | None:
    """The earliest instant a delivery to ``webhooks`` can be claimed, or a
    ticket's alerts are to be planned again (None: neither).  A row another
    process holds can be claimed when its lease ends, not before: a due row
    under a live lease does not make the scheduler look again at once."""
    hooks, params = conn.in_list("webhook", list(webhooks))
    row = conn.one(
        "SELECT min(CASE WHEN lease_until_us IS NOT NULL AND lease_until_us >= ? "
        "AND lease_until_us + 1 > next_attempt_us THEN lease_until_us + 1 ELSE next_attempt_us END) "
        f"FROM alerts WHERE delivered_us IS NULL AND gave_up = 0 AND {hooks}",
        [now_us, *params],
    )
    replan = conn.one("SELECT min(replan_us) FROM tickets WHERE replan_us IS NOT NULL")
    found = [int(r[0]) for r in (row, replan) if r is not None and r[0] is not None]
    return min(found) if found else None


def replan_due(conn: Connection, now_us: int, limit: int) -> list[str]:
    """Tickets whose alerts are to be planned again by ``now_us`` (the first
    of their events after the instant the alerts were planned at has come)."""
    rows = conn.execute(
        "SELECT ticket_id FROM tickets WHERE replan_us <= ? ORDER BY replan_us LIMIT ?", (now_us, limit)
    )
    return [r[0] for r in rows]


def add_webhooks(conn: Connection, webhooks: Sequence[str], now_us: int) -> int:
    """Give each of ``webhooks`` a row for every alert still to fire (its
    instant after ``now_us``) that it has none for: the alerts planned
    before a webhook was configured (or while none was: those rows are under
    the webhook ``""``) reach it too.  Alerts whose instant has passed are
    not sent to a webhook added since.  How many rows were added."""
    added = 0
    for webhook in webhooks:
        before = conn.one("SELECT count(*) FROM alerts WHERE webhook = ?", (webhook,))
        conn.execute(
            "INSERT INTO alerts (id, webhook, ticket_id, at_us, body, next_attempt_us) "
            "SELECT DISTINCT id, ?, ticket_id, at_us, body, at_us FROM alerts "
            "WHERE at_us > ? AND delivered_us IS NULL AND gave_up = 0 AND webhook <> ? "
            "ON CONFLICT (id, webhook) DO NOTHING",
            (webhook, now_us, webhook),
        )
        after = conn.one("SELECT count(*) FROM alerts WHERE webhook = ?", (webhook,))
        added += int(after[0] if after else 0) - int(before[0] if before else 0)
    if webhooks:
        # The rows kept while no webhook was configured have served their turn.
        conn.execute("DELETE FROM alerts WHERE webhook = ''")
    return added


def meta(conn: Connection, key: str) -> str | None:
    """A stored setting (the digest of the policy file the state was made with)."""
    row = conn.one("SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else str(row[0])


def set_meta(conn: Connection, key: str, value: str) -> None:
    """Store a setting."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def all_ticket_ids(conn: Connection, after: str | None, limit: int) -> list[str]:
    """Ticket ids in id order after ``after`` (None: from the first, the
    empty id ``""`` included), to walk every ticket in pages."""
    if after is None:
        rows = conn.execute("SELECT ticket_id FROM tickets ORDER BY ticket_id LIMIT ?", (limit,))
    else:
        rows = conn.execute(
            "SELECT ticket_id FROM tickets WHERE ticket_id > ? ORDER BY ticket_id LIMIT ?", (after, limit)
        )
    return [r[0] for r in rows]
