"""One ``sla serve`` process: its database, its scheduler, and the
operations the routes call (each in its own transaction)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import IO

from sla.service import ingest, queries, store
from sla.service.db import SCHEMA_VERSION, Database, DatabaseError
from sla.service.delivery import Scheduler
from sla.service.settings import Settings, redact_url

log = logging.getLogger("sla.serve")

_POLICIES_KEY = "policies_digest"
_PAGE = 500


#: How often a POST is run again when another process committed one of its
#: event ids meanwhile (each run sees more of them as duplicates).
CONFLICT_RETRIES = 3


class Service:
    """The store and the scheduler of one process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings.db_url, settings.pool_size)
        self.db_shown = redact_url(settings.db_url)
        self.webhooks_shown = [redact_url(w) for w in settings.webhooks]
        self.scheduler: Scheduler | None = None
        self._lock_file: IO[str] | None = None
        self._opened = False

    def open(self) -> None:
        """Lock (SQLite), migrate, re-judge every ticket if the policy file
        changed since the state was made, and prepare the scheduler."""
        if self._opened:
            return
        if self.db.dialect == "sqlite" and self.db.path != ":memory:":
            self._lock_sqlite()
        if self.db.closed:
            self.db = Database(self.settings.db_url, self.settings.pool_size)
        found = self.db.migrate()
        if found < SCHEMA_VERSION:
            log.info("database schema migrated", extra={"from_version": found, "to_version": SCHEMA_VERSION})
        self._check_policies()
        if self.db.dialect == "sqlite":
            with self.db.transaction() as conn:
                store.release(conn, None)  # the one process: leases of a killed run are void
        if self.settings.webhooks:
            self.scheduler = Scheduler(self.db, self.settings)
        self._opened = True

    def _lock_sqlite(self) -> None:
        import fcntl

        path = self.db.path + ".lock"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise DatabaseError(
                f"--db: another sla serve process uses {self.db.path}; SQLite serves one process "
                "(use PostgreSQL for several)"
            ) from None
        self._lock_file = handle

    def _check_policies(self) -> None:
        policies = self.settings.policies
        digest = hashlib.sha256(policies.spec.model_dump_json().encode("utf-8")).hexdigest()
        with self.db.transaction() as conn:
            before = store.meta(conn, _POLICIES_KEY)
            if before is None:
                store.set_meta(conn, _POLICIES_KEY, digest)
                return
        if before == digest:
            return
        now = self.settings.clock()
        done, after = 0, ""
        while True:
            with self.db.transaction() as conn:
                page = store.all_ticket_ids(conn, after, _PAGE)
                if not page:
                    store.set_meta(conn, _POLICIES_KEY, digest)
                    break
                done += ingest.reevaluate(conn, policies, page, now, self.settings.webhooks)
            after = page[-1]
        log.info("policy file changed: tickets judged again", extra={"tickets": done})

    def close(self) -> None:
        """Close the database and free the SQLite lock."""
        self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self._opened = False

    def post_events(self, body: bytes, content_type: str) -> ingest.Outcome:
        """Parse, check and store a request's events (one transaction)."""
        items = ingest.parse_body(body, content_type)
        settings = self.settings
        now = settings.clock()
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.db.transaction() as conn:
                    outcome = ingest.ingest(
                        conn, settings.policies, items, now, settings.webhooks, settings.max_depth
                    )
                break
            except Exception as exc:
                # Another process committed an event of this body (same id,
                # another ticket) after this one looked: run the request again,
                # which then counts it as a duplicate.
                if attempt == CONFLICT_RETRIES or not self.db.is_conflict(exc):
                    raise
                log.info("events: a conflicting id was committed meanwhile; running the request again")
        if self.scheduler is not None and outcome.accepted:
            self.scheduler.wake()
        log.info(
            "events",
            extra={
                "accepted": outcome.accepted,
                "duplicates": outcome.duplicates,
                "rejected": len(outcome.rejected),
                "tickets": outcome.tickets,
            },
        )
        return outcome

    def ticket_rows(self, ticket_id: str, now_us: int) -> list[bytes] | None:
        """A ticket's JSONL rows at ``now_us`` (None: unknown ticket)."""
        with self.db.transaction(write=False) as conn:
            return queries.ticket_rows(conn, self.settings.policies, ticket_id, now_us)

    def due_rows(self, now_us: int, until_us: int, limit: int | None = None) -> list[bytes]:
        """Open cycles due by ``until_us``, soonest first (the first ``limit``)."""
        with self.db.transaction(write=False) as conn:
            return queries.due_rows(conn, self.settings.policies, now_us, until_us, limit)

    def counts(self, now_us: int) -> dict[str, int]:
        """The status page's figures."""
        with self.db.transaction(write=False) as conn:
            return store.counts(conn, now_us)

    def schema_version(self) -> int:
        """The database's schema version (a round trip: the health check)."""
        with self.db.transaction(write=False) as conn:
            row = conn.one("SELECT max(version) FROM schema_version")
        return int(row[0]) if row and row[0] is not None else 0
