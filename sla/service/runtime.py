"""One ``sla serve`` process: its database, its scheduler, and the
operations the routes call (each in its own transaction)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import zoneinfo
from pathlib import Path
from typing import IO

import orjson

from sla.errors import SlaError
from sla.policy.runtime import PolicySet
from sla.service import ingest, queries, store
from sla.service.db import SCHEMA_VERSION, Database, DatabaseError
from sla.service.delivery import Scheduler
from sla.service.settings import Settings, redact_url

log = logging.getLogger("sla.serve")

_POLICIES_KEY = "policies_digest"
_WEBHOOKS_KEY = "webhooks_digest"
_PAGE = 500


#: How often a POST is run again when another process committed one of its
#: event ids meanwhile (each run sees more of them as duplicates).
CONFLICT_RETRIES = 3


class TooManyEvents(SlaError):
    """A body with more events than ``max_events`` (answered 413; nothing is stored)."""


class BusyError(SlaError):
    """A POST that kept meeting event ids other processes committed
    meanwhile (answered 503: the client tries again)."""


def policy_digest(policies: PolicySet) -> str:
    """What the stored states were computed from: the policy file's
    content, the bytes of the .ics holiday files it names, and the versions
    of the holiday tables and time-zone data its calendars are built with.
    A change of any of them judges every ticket again at start."""
    digest = hashlib.sha256(policies.spec.model_dump_json().encode("utf-8"))
    # The .ics files are read as sla.io.policy_files reads them: relative to
    # the policy file, else the working folder.
    base = Path(policies.source).parent if policies.source else Path.cwd()
    for name, calendar in sorted(policies.spec.calendars.items()):
        holidays = calendar.holidays
        for file_name in holidays.ics_files() if holidays is not None else []:
            try:
                content = (base / file_name).read_bytes()
            except OSError as exc:
                content = f"unreadable: {type(exc).__name__}".encode()
            digest.update(orjson.dumps([name, file_name, hashlib.sha256(content).hexdigest()]))
    digest.update(orjson.dumps(_data_versions()))
    return digest.hexdigest()


def _data_versions() -> list[str]:
    """The versions of the holiday tables and time-zone databases in use."""
    found = []
    for package in ("holidays", "tzdata"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} absent")
    for folder in zoneinfo.TZPATH:
        try:
            with open(Path(folder) / "tzdata.zi", encoding="utf-8") as handle:
                found.append(f"{folder}: {handle.readline().strip()}")  # "# version 2025b"
        except OSError:
            continue
    return found


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
        self._check_webhooks()
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
        digest = policy_digest(policies)
        with self.db.transaction() as conn:
            before = store.meta(conn, _POLICIES_KEY)
            if before is None:
                store.set_meta(conn, _POLICIES_KEY, digest)
                return
        if before == digest:
            return
        now = self.settings.clock()
        done, after = 0, None  # not "": that is a ticket id too
        while True:
            with self.db.transaction() as conn:
                page = store.all_ticket_ids(conn, after, _PAGE)
                if not page:
                    store.set_meta(conn, _POLICIES_KEY, digest)
                    break
                done += ingest.reevaluate(conn, policies, page, now, self.settings.webhooks)
            after = page[-1]
        log.info("policy file changed: tickets judged again", extra={"tickets": done})

    def _check_webhooks(self) -> None:
        """A webhook list other than the last one's: the new webhooks get
        their rows for the alerts still to fire (planned while they were
        not configured); the rows of a run without webhooks go."""
        webhooks = self.settings.webhooks
        if not webhooks:
            return
        digest = hashlib.sha256(orjson.dumps(sorted(webhooks))).hexdigest()
        with self.db.transaction() as conn:
            if store.meta(conn, _WEBHOOKS_KEY) == digest:
                return
            added = store.add_webhooks(conn, webhooks, self.settings.clock())
            store.set_meta(conn, _WEBHOOKS_KEY, digest)
        if added:
            log.info("webhooks changed: pending alerts planned for the new ones", extra={"deliveries": added})

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
        if len(items) > settings.max_events:
            raise TooManyEvents(
                f"the body holds {len(items):,} events, over the limit of {settings.max_events:,} "
                "(--max-events); send smaller batches"
            )
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                with self.db.transaction() as conn:
                    outcome = ingest.ingest(
                        conn, settings.policies, items, settings.clock, settings.webhooks, settings.max_depth
                    )
                break
            except Exception as exc:
                # Another process committed an event of this body (same id,
                # another ticket) after this one looked: run the request again,
                # which then counts it as a duplicate.
                if not self.db.is_conflict(exc):
                    raise
                if attempt == CONFLICT_RETRIES:
                    # Not the database's message: it quotes the event id,
                    # which is the helpdesk's data, not the log's.
                    raise BusyError(
                        "events: other processes kept committing the same event ids; send the request again"
                    ) from None
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
